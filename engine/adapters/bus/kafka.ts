// Kafka bus (kafkajs 2.2.4): the distributed mode's link between `apitap collect` and `apitap analyze`.
// Contract: types.ts. Tested against a real single-node Kafka 4.4.0 (deploy/kafka/broker.sh).
//
// Wire format (exchange/v1 on Kafka):
//   key      apiHost(ex): all exchanges of one API host land on one partition (kafkajs' default
//            partitioner is the Java client's murmur2, so Java/Go producers agree).
//   value    JSON.stringify(ex), UTF-8.
//   headers  schema: exchange/v1
//   timestamp wall clock at publish (kafkajs default), NOT packet time: retention is time based and
//            would delete a replayed old capture at once.
//
// Publisher: publish() serialises at once into a bounded buffer (messages AND bytes); one sender
// loop drains it in batches (linger, max messages/bytes, GZIP), one request in flight, so per-key
// order is kept. A failed send leaves the batch at the head of the buffer and is retried forever
// with backoff + jitter; after `reconnectAfterFailures` failures in a row the kafkajs producer is
// rebuilt. Broker loss never throws out of this module: the buffer fills, publish() refuses and
// counts (bus_dropped_buffer_full), and everything buffered goes out once the broker is back.
//
// Consumer: a kafkajs consumer group, autoCommit off. For each fetched batch of one partition:
// decode + zod-validate each message (bad ones → `<topic>.dlq` with the reason in headers), hand the
// valid exchanges to the handler, write the dead letters, then commit offset(last)+1. A rejected
// handler (or failed DLQ write) pauses that partition, seeks back to the batch's first offset and
// resumes after a backoff: the same batch comes again; nothing is committed before success.
import {
  CompressionTypes,
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaConfig,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type SASLOptions,
  type logCreator,
} from 'kafkajs';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { EXCHANGE_SCHEMA, Exchange, apiHost } from '../../contracts/exchange.js';
import type { CounterName } from '../../contracts/catalogue.js';
import type { Counters } from '../../contracts/counters.js';
import {
  BUS_COUNTERS,
  BusClosedError,
  DrainWaiters,
  SCHEMA_HEADER,
  backoffMs,
  type BatchHandler,
  type ExchangeConsumer,
  type ExchangePublisher,
  type PartitionRef,
  type RebalanceHooks,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Configuration

/** Connection settings shared by publisher and consumer. Security comes from the environment. */
export const KafkaConnectionConfig = z.object({
  /** Bootstrap servers, host:port. */
  brokers: z.array(z.string().min(1)).min(1),
  /** Topic of exchange/v1 records. The dead-letter topic is `<topic>.dlq`. */
  topic: z.string().min(1).default('apitap.exchanges'),
  /** Kafka client id (broker logs, quotas). */
  clientId: z.string().min(1).default('apitap'),
  /** TCP connect timeout. Short: on loopback/LAN a dead broker refuses at once anyway. */
  connectionTimeoutMs: z.number().int().positive().default(3_000),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
});

export const KafkaPublisherConfig = KafkaConnectionConfig.extend({
  /** Wait this long for a batch to fill before sending a partial one. */
  lingerMs: z.number().int().nonnegative().default(20),
  /** Records per send request. */
  batchMaxMessages: z.number().int().positive().default(1_000),
  /** Serialised (uncompressed) bytes per send request. Below the broker's message.max.bytes
   * (1 MiB default) so a batch always fits even when GZIP gains nothing. */
  batchMaxBytes: z.number().int().positive().default(900_000),
  /** One serialised exchange larger than this is dropped (bus_dropped_too_large). */
  maxMessageBytes: z.number().int().positive().default(900_000),
  /** Buffer bound in records: accepted and not yet acknowledged by Kafka. */
  bufferMaxMessages: z.number().int().positive().default(20_000),
  /** Buffer bound in serialised bytes. */
  bufferMaxBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
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
  retryBaseMs: z.number().int().positive().default(100),
  retryMaxMs: z.number().int().positive().default(5_000),
  /** Rebuild the kafkajs producer after this many failed sends in a row. */
  reconnectAfterFailures: z.number().int().positive().default(3),
  /** Default timeout of flush() and of the flush inside close(). */
  flushTimeoutMs: z.number().int().positive().default(30_000),
});
export type KafkaPublisherConfig = z.input<typeof KafkaPublisherConfig>;

export const KafkaConsumerConfig = KafkaConnectionConfig.extend({
  /** Consumer group: instances with the same id share the partitions. */
  groupId: z.string().min(1).default('apitap-analyzers'),
  /** Where a group without committed offsets starts: the beginning (true) or only new records. */
  fromBeginning: z.boolean().default(true),
  /** Partitions handled at the same time by this instance (each still strictly in order). */
  partitionsConsumedConcurrently: z.number().int().positive().default(1),
  /** Fetch size bound per partition (one batch ≈ this many bytes). */
  maxBytesPerPartition: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Longest a fetch waits on the broker for new data. Kafka's Java default (kafkajs: 5 s); it also
   * bounds how long stop() and a resumed partition wait. */
  maxWaitTimeMs: z.number().int().positive().default(500),
  sessionTimeoutMs: z.number().int().positive().default(30_000),
  heartbeatIntervalMs: z.number().int().positive().default(3_000),
  /** Retry delay after a handler rejection: first, and cap (exponential, full jitter). */
  retryBaseMs: z.number().int().positive().default(200),
  retryMaxMs: z.number().int().positive().default(30_000),
  /** Dead-letter topic; default `<topic>.dlq`. */
  dlqTopic: z.string().min(1).optional(),
});
export type KafkaConsumerConfig = z.input<typeof KafkaConsumerConfig>;

/**
 * SASL / TLS from the environment. Values are read here and handed to kafkajs only: never logged,
 * never put in an error message.
 *   APITAP_KAFKA_SASL_MECHANISM  plain | scram-sha-256 | scram-sha-512 (unset: no SASL)
 *   APITAP_KAFKA_USERNAME, APITAP_KAFKA_PASSWORD  required with a mechanism
 *   APITAP_KAFKA_SSL=1           TLS with the system CAs
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const mechanism = env['APITAP_KAFKA_SASL_MECHANISM']?.trim().toLowerCase() ?? '';
  const ssl = env['APITAP_KAFKA_SSL'] === '1' || env['APITAP_KAFKA_SSL']?.toLowerCase() === 'true';
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = { ssl };
  if (mechanism === '') return out;
  if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
    throw new Error('APITAP_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512');
  }
  const username = env['APITAP_KAFKA_USERNAME'];
  const password = env['APITAP_KAFKA_PASSWORD'];
  if (!username || !password) {
    throw new Error('APITAP_KAFKA_USERNAME and APITAP_KAFKA_PASSWORD are required with APITAP_KAFKA_SASL_MECHANISM');
  }
  const sasl: SASLOptions = { mechanism, username, password };
  out.sasl = sasl;
  return out;
}

/**
 * kafkajs logs through pino at WARN and above. Only a whitelist of fields is passed on (broker,
 * group, topic, retry facts, error text), so no message key, value or header can reach a log.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const l = log as unknown as Record<string, unknown>;
      const err = l['error'];
      const fields = {
        ns: namespace,
        broker: l['broker'],
        groupId: l['groupId'],
        topic: l['topic'],
        retryCount: l['retryCount'],
        retryTime: l['retryTime'],
        error: err instanceof Error ? err.message : typeof err === 'string' ? err : undefined,
      };
      const msg = typeof l['message'] === 'string' ? l['message'] : 'kafkajs';
      if (level === logLevel.ERROR) logger.error(fields, msg);
      else if (level === logLevel.WARN) logger.warn(fields, msg);
      else if (level === logLevel.INFO) logger.info(fields, msg);
      else logger.debug(fields, msg);
    };
}

/** The default logger of the bus: pino to stderr at warn. */
export function defaultBusLogger(): Logger {
  return pino({ name: 'apitap-bus', level: 'warn' }, pino.destination(2));
}

function kafkaClient(c: z.infer<typeof KafkaConnectionConfig>, logger: Logger, env: NodeJS.ProcessEnv): Kafka {
  return new Kafka({
    clientId: c.clientId,
    brokers: c.brokers,
    connectionTimeout: c.connectionTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogCreator(logger),
    // kafkajs' own retry is kept short: our loops own the long-term retrying and its counters.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
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

export interface KafkaBusDeps {
  counters: Counters;
  /** Lifecycle logger (one child per component is made from it). Default: defaultBusLogger(). */
  logger?: Logger;
  /** Environment for the security settings. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

// ---------------------------------------------------------------------------------------------
// Publisher

interface Pending {
  key: string;
  value: Buffer;
}

export interface KafkaPublisher extends ExchangePublisher {
  /** Buffered serialised bytes (for tests and metrics). */
  bufferedBytes(): number;
}

export function createKafkaPublisher(config: KafkaPublisherConfig, deps: KafkaBusDeps): KafkaPublisher {
  const cfg = KafkaPublisherConfig.parse(config);
  const { counters } = deps;
  const log = (deps.logger ?? defaultBusLogger()).child({ component: 'bus.kafka.publisher', topic: cfg.topic });
  const kafka = kafkaClient(cfg, log, deps.env ?? process.env);
  const lowMessages = Math.floor(cfg.bufferMaxMessages * cfg.lowWaterRatio);
  const lowBytes = Math.floor(cfg.bufferMaxBytes * cfg.lowWaterRatio);
  const compression = cfg.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const headers: IHeaders = { [SCHEMA_HEADER]: EXCHANGE_SCHEMA };

  // FIFO buffer: queue[qHead..] are pending; compacted when the consumed prefix grows large.
  let queue: Pending[] = [];
  let qHead = 0;
  let bytes = 0;
  let closed = false; // no new records
  let stopped = false; // sender loop must end
  let producer: Producer | null = null;
  let connected = false;
  let failures = 0;
  let readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const drainWaiters = new DrainWaiters();
  let wake: (() => void) | null = null;
  let sleepTimer: NodeJS.Timeout | null = null;
  /** What the sender loop waits for: publish() wakes it when idle, or lingering with a full batch,
   * never during a backoff (a full buffer must not turn the backoff into a busy retry). */
  let waiting: 'idle' | 'linger' | 'backoff' | null = null;

  const count = (): number => queue.length - qHead;

  const signal = (): void => {
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  /** Sleep until `ms` passed or signal() (new records, close). */
  const nap = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleepTimer = setTimeout(() => {
        sleepTimer = null;
        signal();
      }, ms);
    }).finally(() => {
      if (sleepTimer) clearTimeout(sleepTimer);
      sleepTimer = null;
    });

  function newProducer(): Producer {
    const p = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      idempotent: cfg.idempotent && cfg.acks === -1,
      maxInFlightRequests: 1,
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    p.on(p.events.DISCONNECT, () => {
      connected = false;
    });
    return p;
  }

  async function dropProducer(): Promise<void> {
    const p = producer;
    producer = null;
    connected = false;
    if (p) await p.disconnect().catch(() => undefined);
  }

  async function sendBatch(n: number): Promise<void> {
    if (!producer) producer = newProducer();
    if (!connected) {
      await producer.connect();
      connected = true;
    }
    const messages = new Array<{ key: string; value: Buffer; headers: IHeaders }>(n);
    for (let i = 0; i < n; i++) {
      const p = queue[qHead + i] as Pending;
      messages[i] = { key: p.key, value: p.value, headers };
    }
    await producer.send({ topic: cfg.topic, messages, compression, acks: cfg.acks, timeout: cfg.requestTimeoutMs });
  }

  function settle(n: number): void {
    for (let i = 0; i < n; i++) {
      bytes -= (queue[qHead + i] as Pending).value.length;
    }
    qHead += n;
    if (qHead === queue.length) {
      queue = [];
      qHead = 0;
    } else if (qHead > 4096 && qHead * 2 > queue.length) {
      queue = queue.slice(qHead);
      qHead = 0;
    }
    counters.inc(BUS_COUNTERS.published, n);
    if (readyWaiters.length > 0 && count() <= lowMessages && bytes <= lowBytes) {
      const ws = readyWaiters;
      readyWaiters = [];
      for (const w of ws) w.resolve();
    }
    if (count() === 0) drainWaiters.drained();
  }

  /** Size of the batch that failed last, 0 when the last send succeeded. A retry re-sends exactly
   * the same records, so the broker can recognise it by sequence number (idempotence). */
  let inDoubt = 0;

  async function senderLoop(): Promise<void> {
    while (!stopped) {
      if (count() === 0) {
        waiting = 'idle';
        await new Promise<void>((resolve) => (wake = resolve));
        waiting = null;
        continue;
      }
      // Linger: give a partial batch lingerMs to fill (not when closing: send at once).
      if (inDoubt === 0 && !closed && cfg.lingerMs > 0 && count() < cfg.batchMaxMessages && bytes < cfg.batchMaxBytes) {
        waiting = 'linger';
        await nap(cfg.lingerMs);
        waiting = null;
        if (stopped) break;
      }
      let n = 0;
      let b = 0;
      const avail = count();
      while (inDoubt === 0 && n < avail && n < cfg.batchMaxMessages) {
        const len = (queue[qHead + n] as Pending).value.length;
        if (n > 0 && b + len > cfg.batchMaxBytes) break;
        b += len;
        n++;
      }
      if (inDoubt > 0) n = inDoubt;
      try {
        await sendBatch(n);
        if (failures > 0) log.warn({ failures }, 'kafka publish recovered');
        failures = 0;
        inDoubt = 0;
        settle(n);
      } catch (e) {
        counters.inc(BUS_COUNTERS.publishErrors);
        failures++;
        inDoubt = n;
        if (failures === 1) log.warn({ error: (e as Error).message }, 'kafka publish failed; buffering and retrying');
        if (failures % cfg.reconnectAfterFailures === 0) {
          counters.inc(BUS_COUNTERS.reconnects);
          await dropProducer();
          inDoubt = 0; // a new producer id: sequence numbers start over, batch sizes may change
        }
        if (!stopped) {
          waiting = 'backoff';
          await nap(backoffMs(failures - 1, cfg.retryBaseMs, cfg.retryMaxMs));
          waiting = null;
        }
      }
    }
  }

  const loop = senderLoop().catch((e: unknown) => {
    // Unreachable by construction (every await above is caught); logged rather than crashing.
    log.error({ error: (e as Error).message }, 'kafka publisher loop ended unexpectedly');
  });

  const publisher: KafkaPublisher = {
    publish(ex) {
      if (closed) {
        counters.inc(BUS_COUNTERS.droppedClosed);
        return false;
      }
      if (count() >= cfg.bufferMaxMessages) {
        counters.inc(BUS_COUNTERS.droppedBufferFull);
        return false;
      }
      const value = Buffer.from(JSON.stringify(ex), 'utf8');
      if (value.length > cfg.maxMessageBytes) {
        counters.inc(BUS_COUNTERS.droppedTooLarge);
        return false;
      }
      if (bytes + value.length > cfg.bufferMaxBytes) {
        counters.inc(BUS_COUNTERS.droppedBufferFull);
        return false;
      }
      queue.push({ key: apiHost(ex), value });
      bytes += value.length;
      counters.max(BUS_COUNTERS.bufferedPeak, count());
      counters.max(BUS_COUNTERS.bufferedBytesPeak, bytes);
      if (
        waiting === 'idle' ||
        (waiting === 'linger' && (count() >= cfg.batchMaxMessages || bytes >= cfg.batchMaxBytes))
      ) {
        signal();
      }
      return true;
    },
    ready() {
      if (closed) return Promise.reject(new BusClosedError());
      if (count() < cfg.bufferMaxMessages && bytes < cfg.bufferMaxBytes * 0.9) return Promise.resolve();
      return new Promise<void>((resolve, reject) => readyWaiters.push({ resolve, reject }));
    },
    buffered: count,
    bufferedBytes: () => bytes,
    flush(timeoutMs = cfg.flushTimeoutMs) {
      if (count() === 0) return Promise.resolve();
      if (waiting !== 'backoff') signal();
      return drainWaiters.wait(timeoutMs, 'kafka publisher flush');
    },
    async close() {
      if (closed) return;
      closed = true;
      const ws = readyWaiters;
      readyWaiters = [];
      for (const w of ws) w.reject(new BusClosedError());
      signal();
      try {
        await publisher.flush();
      } catch {
        const left = count();
        counters.inc(BUS_COUNTERS.droppedOnClose, left);
        log.warn({ left }, 'kafka publisher closed with undelivered records');
      }
      stopped = true;
      signal();
      await loop;
      await dropProducer();
    },
  };
  return publisher;
}

// ---------------------------------------------------------------------------------------------
// Consumer

/** Why a message went to the dead-letter topic (the `error` header). Stable names. */
export const DLQ_REASONS = {
  invalidJson: 'invalid_json',
  invalidExchange: 'invalid_exchange',
  schemaMismatch: 'schema_mismatch',
} as const;
type DlqReason = (typeof DLQ_REASONS)[keyof typeof DLQ_REASONS];

const DLQ_COUNTER: Record<DlqReason, CounterName> = {
  invalid_json: BUS_COUNTERS.dlqInvalidJson,
  invalid_exchange: BUS_COUNTERS.dlqInvalidExchange,
  schema_mismatch: BUS_COUNTERS.dlqSchemaMismatch,
};

interface DeadLetter {
  message: KafkaMessage;
  reason: DlqReason;
  /** Where validation failed: zod paths and issue codes only, never values. */
  detail: string;
}

type Decoded = { ok: true; ex: Exchange } | { ok: false; reason: DlqReason; detail: string };

/** Decodes one Kafka record into an Exchange. Never throws. */
export function decodeExchangeMessage(value: Buffer | null, schemaHeader: string | null): Decoded {
  if (schemaHeader !== null && schemaHeader !== EXCHANGE_SCHEMA) {
    return { ok: false, reason: DLQ_REASONS.schemaMismatch, detail: `schema header is not ${EXCHANGE_SCHEMA}` };
  }
  if (value === null) return { ok: false, reason: DLQ_REASONS.invalidJson, detail: 'null value (tombstone)' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: DLQ_REASONS.invalidJson, detail: (e as Error).name };
  }
  const r = Exchange.safeParse(json);
  if (r.success) return { ok: true, ex: r.data };
  const detail = r.error.issues
    .slice(0, 8)
    .map((i) => `${i.path.join('.') || '<root>'}:${i.code}`)
    .join(',');
  return { ok: false, reason: DLQ_REASONS.invalidExchange, detail: detail.slice(0, 512) };
}

function headerString(h: IHeaders | undefined, name: string): string | null {
  const v = h?.[name];
  if (v === undefined) return null;
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return null;
  return typeof one === 'string' ? one : one.toString('utf8');
}

export function createKafkaConsumer(config: KafkaConsumerConfig, deps: KafkaBusDeps): ExchangeConsumer {
  const cfg = KafkaConsumerConfig.parse(config);
  const { counters } = deps;
  const dlqTopic = cfg.dlqTopic ?? `${cfg.topic}.dlq`;
  const log = (deps.logger ?? defaultBusLogger()).child({
    component: 'bus.kafka.consumer',
    topic: cfg.topic,
    groupId: cfg.groupId,
  });
  const kafka = kafkaClient(cfg, log, deps.env ?? process.env);

  let consumer: Consumer | null = null;
  let dlqProducer: Producer | null = null;
  let dlqConnected = false;
  let started = false;
  let stopping = false;
  let hooks: RebalanceHooks = {};
  /** Partitions we believe we own, "topic:partition" → ref. */
  let assigned = new Map<string, PartitionRef>();
  /** Hook calls run one after another; batches wait for the chain before being handled. */
  let hookChain: Promise<void> = Promise.resolve();
  const attempts = new Map<string, number>();
  const resumeTimers = new Set<NodeJS.Timeout>();

  const chainHook = (fn: () => Promise<void> | void): void => {
    hookChain = hookChain.then(fn).catch((e: unknown) => {
      log.error({ error: (e as Error).message }, 'rebalance hook failed');
    });
  };

  function onAssignment(memberAssignment: Record<string, number[]>): void {
    counters.inc(BUS_COUNTERS.rebalances);
    const next = new Map<string, PartitionRef>();
    for (const [topic, parts] of Object.entries(memberAssignment)) {
      for (const partition of parts) next.set(`${topic}:${partition}`, { topic, partition });
    }
    const revoked = [...assigned].filter(([k]) => !next.has(k)).map(([, v]) => v);
    const added = [...next].filter(([k]) => !assigned.has(k)).map(([, v]) => v);
    assigned = next;
    if (revoked.length > 0 && hooks.onRevoke) {
      const h = hooks.onRevoke;
      chainHook(() => h(revoked));
    }
    if (added.length > 0 && hooks.onAssign) {
      const h = hooks.onAssign;
      chainHook(() => h(added));
    }
    log.info({ assigned: [...next.keys()] }, 'partitions assigned');
  }

  async function sendDeadLetters(letters: DeadLetter[], topic: string, partition: number): Promise<void> {
    if (!dlqProducer) {
      dlqProducer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
      });
      dlqProducer.on(dlqProducer.events.DISCONNECT, () => {
        dlqConnected = false;
      });
    }
    if (!dlqConnected) {
      await dlqProducer.connect();
      dlqConnected = true;
    }
    await dlqProducer.send({
      topic: dlqTopic,
      acks: -1,
      messages: letters.map((d) => ({
        key: d.message.key,
        value: d.message.value,
        headers: {
          ...(d.message.headers ?? {}),
          error: d.reason,
          'error.detail': d.detail,
          'source.topic': topic,
          'source.partition': String(partition),
          'source.offset': d.message.offset,
        },
      })),
    });
  }

  function retryLater(p: EachBatchPayload, firstOffset: string): void {
    const { topic, partition } = p.batch;
    const key = `${topic}:${partition}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    const delay = backoffMs(attempt, cfg.retryBaseMs, cfg.retryMaxMs);
    const resume = p.pause();
    // Without a resolved offset kafkajs would fetch from the same place anyway; the seek makes the
    // redelivery explicit and discards anything prefetched beyond the failed batch.
    consumer?.seek({ topic, partition, offset: firstOffset });
    if (attempt === 0) log.warn({ partition, delayMs: delay }, 'batch not handled; partition paused, will retry');
    const t = setTimeout(() => {
      resumeTimers.delete(t);
      if (!stopping) resume();
    }, delay);
    resumeTimers.add(t);
  }

  async function eachBatch(handler: BatchHandler, p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    if (!p.isRunning() || p.isStale() || stopping) return;
    await hookChain;
    const { topic, partition } = batch;
    const msgs = batch.messages;
    const first = msgs[0];
    const last = msgs[msgs.length - 1];
    if (first === undefined || last === undefined) return;

    const good: Exchange[] = [];
    const offsets: string[] = [];
    const dead: DeadLetter[] = [];
    for (const m of msgs) {
      const d = decodeExchangeMessage(m.value, headerString(m.headers, SCHEMA_HEADER));
      if (d.ok) {
        good.push(d.ex);
        offsets.push(m.offset);
      } else dead.push({ message: m, reason: d.reason, detail: d.detail });
    }

    if (good.length > 0) {
      try {
        await handler(good, { topic, partition, firstOffset: first.offset, lastOffset: last.offset, offsets });
      } catch (e) {
        counters.inc(BUS_COUNTERS.handlerErrors);
        log.debug({ partition, error: (e as Error).message }, 'handler rejected a batch');
        retryLater(p, first.offset);
        return;
      }
    }
    if (dead.length > 0) {
      try {
        await sendDeadLetters(dead, topic, partition);
      } catch (e) {
        counters.inc(BUS_COUNTERS.dlqErrors);
        log.warn({ partition, error: (e as Error).message }, 'dead-letter write failed; batch will be retried');
        retryLater(p, first.offset);
        return;
      }
      counters.inc(BUS_COUNTERS.dlq, dead.length);
      for (const d of dead) counters.inc(DLQ_COUNTER[d.reason]);
    }
    attempts.delete(`${topic}:${partition}`);
    counters.inc(BUS_COUNTERS.consumed, good.length);
    p.resolveOffset(last.offset);
    try {
      await p.commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
      });
    } catch (e) {
      // The handler's work is done; a later commit covers this one, or (rebalance, crash) the batch
      // is replayed: at-least-once, and the store writes are idempotent.
      counters.inc(BUS_COUNTERS.commitErrors);
      log.warn({ partition, error: (e as Error).message }, 'offset commit failed');
    }
    await p.heartbeat().catch(() => undefined);
  }

  return {
    async run(handler, h) {
      if (started) throw new Error('kafka consumer: run() called twice');
      started = true;
      hooks = h ?? {};
      const c = kafka.consumer({
        groupId: cfg.groupId,
        allowAutoTopicCreation: true,
        sessionTimeout: cfg.sessionTimeoutMs,
        heartbeatInterval: cfg.heartbeatIntervalMs,
        maxBytesPerPartition: cfg.maxBytesPerPartition,
        maxWaitTimeInMs: cfg.maxWaitTimeMs,
        // Never give up: a lost broker makes kafkajs crash the consumer after its retries; it is then
        // restarted (counted) instead of leaving the process without a worker.
        retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000, restartOnFailure: async () => !stopping },
      });
      consumer = c;
      c.on(c.events.GROUP_JOIN, (e) => onAssignment(e.payload.memberAssignment));
      c.on(c.events.CRASH, (e) => {
        counters.inc(BUS_COUNTERS.consumerCrashes);
        log.warn({ error: e.payload.error.message, restart: e.payload.restart }, 'kafka consumer crashed');
      });
      // The topic may not exist yet (a fresh cluster, the analyzer started before any collector):
      // create it (broker defaults for partitions) and retry subscribing until it is there, instead of
      // failing the process on a metadata error that is only transient.
      for (let attempt = 0; ; attempt++) {
        try {
          await ensureTopic(kafka, cfg.topic);
          await c.connect();
          await c.subscribe({ topic: cfg.topic, fromBeginning: cfg.fromBeginning });
          break;
        } catch (e) {
          if (stopping) return;
          const delay = backoffMs(attempt, cfg.retryBaseMs, cfg.retryMaxMs);
          log.warn({ attempt, delayMs: delay, error: (e as Error).message }, 'kafka consumer not ready; retrying');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: cfg.partitionsConsumedConcurrently,
        eachBatch: (p) => eachBatch(handler, p),
      });
    },
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      for (const t of resumeTimers) clearTimeout(t);
      resumeTimers.clear();
      await consumer?.disconnect().catch(() => undefined);
      if (dlqProducer) await dlqProducer.disconnect().catch(() => undefined);
      const revoked = [...assigned.values()];
      assigned = new Map();
      if (revoked.length > 0 && hooks.onRevoke) {
        const r = hooks.onRevoke;
        chainHook(() => r(revoked));
      }
      await hookChain;
    },
  };
}
