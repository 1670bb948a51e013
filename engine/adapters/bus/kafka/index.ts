// The Kafka bus (kafkajs 2.2.4): the distributed mode's link between `apitap collect` and
// `apitap analyze`. Contract: ../types.ts. Tested against a real single-node Kafka 4.4.0
// (deploy/kafka/broker.sh; test/integration/kafka.test.ts).
//
// One file per kafkajs-like layer, each importing only those below it:
//   errors.ts     retriable vs permanent (classes and codes), classification of kafkajs errors
//   config.ts     zod schemas: every option with default and bounds
//   security.ts   SASL/SSL from the environment
//   log.ts        kafkajs → pino bridge (whitelisted fields only)
//   client.ts     the kafkajs client from settings + security + log; topic creation
//   codec.ts      exchange/v1 ↔ Kafka record; dead-letter records and reasons
//   publisher.ts  bounded buffer, batching sender loop, retry and reconnect
//   consumer.ts   consumer group, validation, dead letters, commit after success, pause/seek/retry
export { ensureTopic, type KafkaBusDeps } from './client.js';
export {
  DLQ_REASONS,
  decodeExchangeMessage,
  encodeExchange,
  type DeadLetter,
  type Decoded,
  type DlqReason,
} from './codec.js';
export {
  KafkaConnectionConfig,
  KafkaConsumerConfig,
  KafkaPublisherConfig,
  parseKafkaConfig,
  type KafkaConsumerSettings,
  type KafkaPublisherSettings,
} from './config.js';
export { createKafkaConsumer } from './consumer.js';
export {
  KAFKA_ERROR_CODES,
  KafkaPermanentError,
  KafkaRetriableError,
  classifyKafkaError,
  isRetriableKafkaError,
} from './errors.js';
export { defaultBusLogger, kafkajsLogCreator } from './log.js';
export {
  createKafkaPublisher,
  createKafkaRecordPublisher,
  type KafkaPublisher,
  type KafkaRecordPublisher,
  type PublisherCounterNames,
  type RecordCodec,
} from './publisher.js';
export { kafkaSecurityFromEnv } from './security.js';
