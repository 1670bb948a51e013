// The kafkajs client the publisher and the consumer are built on (kafkajs' cluster layer): one
// place that turns validated settings, the environment's security and the log bridge into a Kafka.
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { Counters } from '../../../contracts/counters.js';
import type { KafkaConnectionSettings } from './config.js';
import { kafkajsLogCreator } from './log.js';
import { kafkaSecurityFromEnv } from './security.js';

/** kafkajs' own retry is kept short: our loops own the long-term retrying and its counters. */
export const KAFKAJS_RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } as const;

/**
 * The idempotent producer's own retry outlasts a leader failover (the cluster fences a dead broker
 * after its 6–9 s session, then elects): inside kafkajs a retried single-partition send keeps its
 * sequence numbers, so the new leader drops what the old one had already written (the publisher sends
 * one key, hence one partition, per send: publisher.ts says why). Past this budget the publisher's
 * loop retries the batch; a send cut after the broker wrote it but before the answer may then be
 * written twice. Exchange ids are deterministic and the analyzers skip ids already counted.
 */
export const KAFKAJS_PRODUCER_RETRY = { retries: 8, initialRetryTime: 300, maxRetryTime: 4_000 } as const;

export interface KafkaBusDeps {
  counters: Counters;
  /** Lifecycle logger (one child per component is made from it). Default: defaultBusLogger(). */
  logger?: Logger;
  /** Environment for the security settings. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export function kafkaClient(c: KafkaConnectionSettings, logger: Logger, env: NodeJS.ProcessEnv): Kafka {
  return new Kafka({
    clientId: c.clientId,
    brokers: c.brokers,
    connectionTimeout: c.connectionTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
    retry: { ...KAFKAJS_RETRY },
    ...kafkaSecurityFromEnv(env),
  });
}

/** Creates `topic` with the broker's default partition count when it does not exist. Idempotent. */
export async function ensureTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}
