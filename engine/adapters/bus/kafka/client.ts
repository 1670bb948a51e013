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
