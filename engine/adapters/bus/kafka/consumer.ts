// The Kafka consumer (kafkajs' consumer-group layer) behind ExchangeConsumer (../types.ts).
//
// A kafkajs consumer group, autoCommit off. For each fetched batch of one partition: decode +
// zod-validate each message (codec.ts; bad ones → `<topic>.dlq` with the reason in headers), hand
// the valid exchanges to the handler, write the dead letters, then commit offset(last)+1. A rejected
// handler (or failed DLQ write) pauses that partition, seeks back to the batch's first offset and
// resumes after a backoff: the same batch comes again; nothing is committed before success.
import { Partitioners, type Consumer, type EachBatchPayload, type Producer } from 'kafkajs';
import type { Exchange } from '../../../contracts/exchange.js';
import {
  BUS_COUNTERS,
  SCHEMA_HEADER,
  backoffMs,
  type BatchHandler,
  type ExchangeConsumer,
  type PartitionRef,
  type RebalanceHooks,
} from '../types.js';
import { ensureTopic, kafkaClient, type KafkaBusDeps } from './client.js';
import { DLQ_COUNTER, deadLetterMessage, decodeExchangeMessage, headerString, type DeadLetter } from './codec.js';
import { KafkaConsumerConfig, parseKafkaConfig } from './config.js';
import { KAFKA_ERROR_CODES, KafkaPermanentError, classifyKafkaError } from './errors.js';
import { defaultBusLogger } from './log.js';

export function createKafkaConsumer(config: KafkaConsumerConfig, deps: KafkaBusDeps): ExchangeConsumer {
  const cfg = parseKafkaConfig(KafkaConsumerConfig, config, 'kafka consumer config');
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
      messages: letters.map((d) => deadLetterMessage(d, topic, partition)),
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
        const err = classifyKafkaError(e, 'dead-letter write');
        log.warn(
          { partition, error: (e as Error).message, code: err.code, retryable: err.retryable },
          'dead-letter write failed; batch will be retried',
        );
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
      if (started) throw new KafkaPermanentError(KAFKA_ERROR_CODES.usage, 'kafka consumer: run() called twice');
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
          const err = classifyKafkaError(e, 'kafka subscribe');
          log.warn(
            { attempt, delayMs: delay, error: (e as Error).message, code: err.code, retryable: err.retryable },
            'kafka consumer not ready; retrying',
          );
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
