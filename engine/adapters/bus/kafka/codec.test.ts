import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXCHANGE_SCHEMA } from '../../../contracts/exchange.js';
import { makeExchange } from '../../../../test/support/kafka.js';
import {
  DLQ_REASONS,
  EXCHANGE_HEADERS,
  deadLetterMessage,
  decodeExchangeMessage,
  encodeExchange,
  headerString,
} from './codec.js';

test('encode → decode is the identity; the key is the API host', () => {
  const ex = makeExchange('ex-1', 'API.Example.com', 7);
  const { key, value } = encodeExchange(ex);
  assert.equal(key, 'api.example.com');
  const d = decodeExchangeMessage(value, headerString(EXCHANGE_HEADERS, 'schema'));
  assert.ok(d.ok);
  assert.deepEqual(d.ex, ex);
});

test('bad records decode to a dead-letter reason with a value-free detail', () => {
  const ex = makeExchange('ex-2', 'h', 1);
  assert.deepEqual(decodeExchangeMessage(Buffer.from('{"a":'), null), {
    ok: false,
    reason: DLQ_REASONS.invalidJson,
    detail: 'SyntaxError',
  });
  assert.equal((decodeExchangeMessage(null, null) as { reason: string }).reason, DLQ_REASONS.invalidJson);
  const wrongSchema = decodeExchangeMessage(encodeExchange(ex).value, 'exchange/v0');
  assert.equal((wrongSchema as { reason: string }).reason, DLQ_REASONS.schemaMismatch);
  const secret = 'secret-value-123';
  const broken = Buffer.from(JSON.stringify({ ...ex, seq: secret }));
  const d = decodeExchangeMessage(broken, EXCHANGE_SCHEMA);
  assert.ok(!d.ok);
  assert.equal(d.reason, DLQ_REASONS.invalidExchange);
  assert.match(d.detail, /^seq:invalid_type/);
  assert.doesNotMatch(d.detail, /secret/);
});

test('a dead letter keeps the source record and adds reason and position', () => {
  const message = {
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: { schema: 'x' },
    offset: '41',
    timestamp: '0',
    attributes: 0,
  };
  const m = deadLetterMessage({ message, reason: DLQ_REASONS.schemaMismatch, detail: 'd' }, 't', 2);
  assert.deepEqual(m, {
    key: message.key,
    value: message.value,
    headers: {
      schema: 'x',
      error: 'schema_mismatch',
      'error.detail': 'd',
      'source.topic': 't',
      'source.partition': '2',
      'source.offset': '41',
    },
  });
});
