// Configuration of the Kafka bus: every option with its default and its bounds, validated once at
// start (createKafkaPublisher / createKafkaConsumer). A bad value is a KafkaPermanentError
// (BUS_KAFKA_CONFIG) with one line naming the field, before any connection is made.
// Security settings (SASL/SSL) are not here: they come from the environment (security.ts).
import { z } from 'zod';
import { KAFKA_ERROR_CODES, KafkaPermanentError } from './errors.js';

const MiB = 1024 * 1024;

/** Legal Kafka topic name (clients' Topic.validate): [a-zA-Z0-9._-], at most 249 characters. The
 * exchange topic leaves room for the `.dlq` suffix of its dead-letter topic. */
const topicName = (max: number): z.ZodString =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[a-zA-Z0-9._-]+$/, 'a Kafka topic name is made of [a-zA-Z0-9._-]');

/** A millisecond duration in [min, max]. */
const ms = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

/** Connection settings shared by publisher and consumer. Security comes from the environment. */
export const KafkaConnectionConfig = z.object({
  /** Bootstrap servers, host:port. */
  brokers: z.array(z.string().min(1).max(255)).min(1).max(100),
  /** Topic of exchange/v1 records. The dead-letter topic is `<topic>.dlq`. */
  topic: topicName(245).default('apitap.exchanges'),
  /** Kafka client id (broker logs, quotas). */
  clientId: z.string().min(1).max(255).default('apitap'),
  /** TCP connect timeout. Short: on loopback/LAN a dead broker refuses at once anyway. */
  connectionTimeoutMs: ms(1, 300_000).default(3_000),
  /** Per-request timeout. */
  requestTimeoutMs: ms(1, 600_000).default(30_000),
});

/** Backoff bounds: the first delay must not exceed the cap. */
function backoffInOrder(c: { retryBaseMs: number; retryMaxMs: number }, ctx: z.RefinementCtx): void {
  if (c.retryBaseMs > c.retryMaxMs) {
    ctx.addIssue({ code: 'custom', path: ['retryBaseMs'], message: 'must not exceed retryMaxMs' });
  }
}

export const KafkaPublisherConfig = KafkaConnectionConfig.extend({
  /** Wait this long for a batch to fill before sending a partial one. */
  lingerMs: ms(0, 60_000).default(20),
  /** Records per send request. */
  batchMaxMessages: z.number().int().min(1).max(1_000_000).default(1_000),
  /** Serialised (uncompressed) bytes per send request. Below the broker's message.max.bytes
   * (1 MiB default) so a batch always fits even when GZIP gains nothing. */
  batchMaxBytes: z
    .number()
    .int()
    .min(1)
    .max(256 * MiB)
    .default(900_000),
  /** One serialised exchange larger than this is dropped (bus_dropped_too_large). */
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(256 * MiB)
    .default(900_000),
  /** Buffer bound in records: accepted and not yet acknowledged by Kafka. */
  bufferMaxMessages: z.number().int().min(1).max(10_000_000).default(20_000),
  /** Buffer bound in serialised bytes. */
  bufferMaxBytes: z
    .number()
    .int()
    .min(1)
    .max(4096 * MiB)
    .default(64 * MiB),
  /** ready() resolves once the buffer is at or below this fraction of both bounds. */
  lowWaterRatio: z.number().min(0).max(1).default(0.5),
  compression: z.enum(['gzip', 'none']).default('gzip'),
  /** -1: all in-sync replicas; 1: leader only (turns idempotence off). */
  acks: z.union([z.literal(-1), z.literal(1)]).default(-1),
  /** Idempotent producer (producer id + sequence numbers): a send retried after a lost response is
   * not written twice. Holds within one kafkajs producer; a rebuilt producer (reconnect) gets a new
   * id, so a batch in doubt at that moment can still be duplicated (at-least-once). */
  idempotent: z.boolean().default(true),
  /** Backoff between failed sends: first delay and cap (full jitter in between). */
  retryBaseMs: ms(1, 60_000).default(100),
  retryMaxMs: ms(1, 600_000).default(5_000),
  /** Rebuild the kafkajs producer after this many failed sends in a row. */
  reconnectAfterFailures: z.number().int().min(1).max(1_000).default(3),
  /** Default timeout of flush() and of the flush inside close(). */
  flushTimeoutMs: ms(1, 3_600_000).default(30_000),
}).superRefine(backoffInOrder);
export type KafkaPublisherConfig = z.input<typeof KafkaPublisherConfig>;
export type KafkaPublisherSettings = z.output<typeof KafkaPublisherConfig>;

export const KafkaConsumerConfig = KafkaConnectionConfig.extend({
  /** Consumer group: instances with the same id share the partitions. */
  groupId: z.string().min(1).max(255).default('apitap-analyzers'),
  /** Where a group without committed offsets starts: the beginning (true) or only new records. */
  fromBeginning: z.boolean().default(true),
  /** Partitions handled at the same time by this instance (each still strictly in order). */
  partitionsConsumedConcurrently: z.number().int().min(1).max(1_024).default(1),
  /** Fetch size bound per partition (one batch ≈ this many bytes). */
  maxBytesPerPartition: z
    .number()
    .int()
    .min(1)
    .max(256 * MiB)
    .default(MiB),
  /** Longest a fetch waits on the broker for new data. Kafka's Java default (kafkajs: 5 s); it also
   * bounds how long stop() and a resumed partition wait. */
  maxWaitTimeMs: ms(1, 60_000).default(500),
  /** The broker further bounds it by group.min/max.session.timeout.ms (6 s and 30 min by default). */
  sessionTimeoutMs: ms(1, 3_600_000).default(30_000),
  /** Must be below sessionTimeoutMs (Kafka recommends at most a third of it). */
  heartbeatIntervalMs: ms(1, 3_600_000).default(3_000),
  /** Retry delay after a handler rejection: first, and cap (exponential, full jitter). */
  retryBaseMs: ms(1, 60_000).default(200),
  retryMaxMs: ms(1, 600_000).default(30_000),
  /** Dead-letter topic; default `<topic>.dlq`. */
  dlqTopic: topicName(249).optional(),
}).superRefine((c, ctx) => {
  backoffInOrder(c, ctx);
  if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
    ctx.addIssue({ code: 'custom', path: ['heartbeatIntervalMs'], message: 'must be below sessionTimeoutMs' });
  }
});
export type KafkaConsumerConfig = z.input<typeof KafkaConsumerConfig>;
export type KafkaConsumerSettings = z.output<typeof KafkaConsumerConfig>;

/** The settings shared by both sides, as the client factory reads them. */
export type KafkaConnectionSettings = z.output<typeof KafkaConnectionConfig>;

/**
 * Parses `input` against `schema`, applying defaults. A bad value throws KafkaPermanentError
 * (BUS_KAFKA_CONFIG) whose message is one line: `<what>: <field>: <problem>; ...` (field names and
 * zod's wording only, never the value).
 */
export function parseKafkaConfig<S extends z.ZodType>(schema: S, input: z.input<S>, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const problems = r.error.issues
    .slice(0, 8)
    .map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`)
    .join('; ');
  throw new KafkaPermanentError(KAFKA_ERROR_CODES.config, `${what}: ${problems}`);
}
