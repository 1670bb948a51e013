import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import {
  KAFKA_ERROR_CODES,
  KafkaPermanentError,
  KafkaRetriableError,
  classifyKafkaError,
  isRetriableKafkaError,
} from './errors.js';

// kafkajs spreads its error classes into module.exports, so Node's ESM loader sees no named exports.
const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
  KafkaJSTimeout,
} = kafkajs;

/** kafkajs' constructors as the JS source defines them (its .d.ts types them narrower). */
const make = (C: unknown, ...args: unknown[]): Error => new (C as new (...a: unknown[]) => Error)(...args);

// Protocol errors as kafkajs builds them from a broker's error code (src/protocol/error.js).
const tooLarge = make(KafkaJSProtocolError, { type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'big' });
const notLeader = make(KafkaJSProtocolError, {
  type: 'NOT_LEADER_FOR_PARTITION',
  code: 6,
  retriable: true,
  message: 'moved',
});

test('kafkajs errors are classified by their retriable flag, through an exhausted retry budget', () => {
  assert.equal(isRetriableKafkaError(new KafkaJSConnectionError('refused')), true);
  assert.equal(isRetriableKafkaError(notLeader), true);
  assert.equal(isRetriableKafkaError(tooLarge), false);
  assert.equal(isRetriableKafkaError(make(KafkaJSSASLAuthenticationError, 'bad password')), false);
  // kafkajs marks "my retries ran out" non-retriable; what ran out decides.
  const exhausted = (e: Error): Error => make(KafkaJSNumberOfRetriesExceeded, e, { retryCount: 2, retryTime: 1000 });
  assert.equal(isRetriableKafkaError(exhausted(new KafkaJSConnectionError('refused'))), true);
  assert.equal(isRetriableKafkaError(exhausted(tooLarge)), false);
  assert.equal(isRetriableKafkaError(make(KafkaJSTimeout, 'lock')), true);
  assert.equal(isRetriableKafkaError(make(KafkaJSNonRetriableError, 'no')), false);
  assert.equal(isRetriableKafkaError(new KafkaJSError('generic')), true);
  assert.equal(isRetriableKafkaError(new Error('ECONNRESET')), true);
  assert.equal(isRetriableKafkaError('a string'), true);
});

test('classifyKafkaError wraps into the two classes with stable codes and keeps the cause', () => {
  const r = classifyKafkaError(new KafkaJSConnectionError('refused'), 'kafka publish');
  assert.ok(r instanceof KafkaRetriableError);
  assert.equal(r.code, KAFKA_ERROR_CODES.unavailable);
  assert.equal(r.retryable, true);
  assert.equal(r.message, 'kafka publish: refused');
  const p = classifyKafkaError(tooLarge, 'kafka publish');
  assert.ok(p instanceof KafkaPermanentError);
  assert.equal(p.code, KAFKA_ERROR_CODES.rejected);
  assert.equal(p.retryable, false);
  assert.equal(p.cause, tooLarge);
  assert.equal(classifyKafkaError(p, 'again'), p);
});
