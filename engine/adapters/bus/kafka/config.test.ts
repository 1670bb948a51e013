import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaConsumerConfig, KafkaPublisherConfig, parseKafkaConfig } from './config.js';
import { KAFKA_ERROR_CODES, KafkaPermanentError } from './errors.js';

test('defaults fill every option; the documented values', () => {
  const p = parseKafkaConfig(KafkaPublisherConfig, { brokers: ['b:9092'] }, 'pub');
  assert.equal(p.topic, 'apitap.exchanges');
  assert.equal(p.lingerMs, 20);
  assert.equal(p.batchMaxBytes, 900_000);
  assert.equal(p.bufferMaxBytes, 64 * 1024 * 1024);
  assert.equal(p.acks, -1);
  const c = parseKafkaConfig(KafkaConsumerConfig, { brokers: ['b:9092'] }, 'con');
  assert.equal(c.groupId, 'apitap-analyzers');
  assert.equal(c.maxWaitTimeMs, 500);
  assert.equal(c.dlqTopic, undefined);
});

test('a value out of bounds is a permanent config error naming the field in one line, never the value', () => {
  const bad: [typeof KafkaPublisherConfig | typeof KafkaConsumerConfig, Record<string, unknown>, string][] = [
    [KafkaPublisherConfig, { lingerMs: 600_000 }, 'lingerMs'],
    [KafkaPublisherConfig, { bufferMaxMessages: 0 }, 'bufferMaxMessages'],
    [KafkaPublisherConfig, { lowWaterRatio: 1.5 }, 'lowWaterRatio'],
    [KafkaPublisherConfig, { retryBaseMs: 2_000, retryMaxMs: 1_000 }, 'retryBaseMs'],
    [KafkaPublisherConfig, { topic: 'has space' }, 'topic'],
    [KafkaPublisherConfig, { topic: 'x'.repeat(246) }, 'topic'],
    [KafkaPublisherConfig, { brokers: [] }, 'brokers'],
    [KafkaConsumerConfig, { heartbeatIntervalMs: 10_000, sessionTimeoutMs: 10_000 }, 'heartbeatIntervalMs'],
    [KafkaConsumerConfig, { partitionsConsumedConcurrently: 1.5 }, 'partitionsConsumedConcurrently'],
    [KafkaConsumerConfig, { dlqTopic: 'a/b' }, 'dlqTopic'],
  ];
  for (const [schema, extra, field] of bad) {
    const input = { brokers: ['b:9092'], ...extra };
    assert.throws(
      () => parseKafkaConfig(schema as typeof KafkaPublisherConfig, input as never, 'kafka config'),
      (e: unknown) => {
        assert.ok(e instanceof KafkaPermanentError, String(e));
        assert.equal(e.code, KAFKA_ERROR_CODES.config);
        assert.equal(e.retryable, false);
        assert.match(e.message, new RegExp(`^kafka config: .*${field}: `));
        assert.doesNotMatch(e.message, /\n/);
        assert.doesNotMatch(e.message, /600000|has space|a\/b/);
        return true;
      },
      field,
    );
  }
});
