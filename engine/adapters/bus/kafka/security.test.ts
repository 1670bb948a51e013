import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KAFKA_ERROR_CODES, KafkaPermanentError } from './errors.js';
import { kafkaSecurityFromEnv } from './security.js';

test('security from the environment: none, SSL, SASL', () => {
  assert.deepEqual(kafkaSecurityFromEnv({}), { ssl: false });
  assert.deepEqual(kafkaSecurityFromEnv({ APITAP_KAFKA_SSL: 'true' }), { ssl: true });
  assert.deepEqual(
    kafkaSecurityFromEnv({
      APITAP_KAFKA_SASL_MECHANISM: ' SCRAM-SHA-512 ',
      APITAP_KAFKA_USERNAME: 'u',
      APITAP_KAFKA_PASSWORD: 'pw-42',
      APITAP_KAFKA_SSL: '1',
    }),
    { ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'pw-42' } },
  );
});

test('a bad security environment is a permanent config error that never quotes a secret', () => {
  for (const env of [
    { APITAP_KAFKA_SASL_MECHANISM: 'gssapi', APITAP_KAFKA_PASSWORD: 'pw-42' },
    { APITAP_KAFKA_SASL_MECHANISM: 'plain', APITAP_KAFKA_PASSWORD: 'pw-42' },
  ]) {
    assert.throws(
      () => kafkaSecurityFromEnv(env),
      (e: unknown) =>
        e instanceof KafkaPermanentError && e.code === KAFKA_ERROR_CODES.config && !e.message.includes('pw-42'),
    );
  }
});
