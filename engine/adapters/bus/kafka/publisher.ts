// The Kafka publisher (kafkajs' producer layer) behind ExchangePublisher (../types.ts), generic over
// the record type: exchange/v1 (createKafkaPublisher) and action/v1 (engine/app/actions) share it,
// each with its own codec and counter names.
//
// publish() serialises at once (codec.ts) into a bounded buffer (messages AND bytes); one sender
// loop drains it in batches (linger, max messages/bytes, GZIP), one request in flight, so per-key
// order is kept. A failed send leaves the batch at the head of the buffer and is retried forever
// with backoff + jitter; after `reconnectAfterFailures` failures in a row the kafkajs producer is
// rebuilt. Broker loss never throws out of this module: the buffer fills, publish() refuses and
// counts (bus_dropped_buffer_full), and everything buffered goes out once the broker is back.
// A failure kafkajs calls permanent (errors.ts: authorization, record too large) is retried the
// same way (an ACL or broker setting can change while we wait) but logged at error level with its
// code, since it will not pass by itself.
import { CompressionTypes, Partitioners, type IHeaders, type Producer } from 'kafkajs';
import type { CounterName } from '../../../contracts/catalogue.js';
import type { Exchange } from '../../../contracts/exchange.js';
import { BUS_COUNTERS, BusClosedError, DrainWaiters, backoffMs, type ExchangePublisher } from '../types.js';
import { kafkaClient, KAFKAJS_PRODUCER_RETRY, type KafkaBusDeps } from './client.js';
import { EXCHANGE_HEADERS, encodeExchange, type EncodedExchange } from './codec.js';
import { KafkaPublisherConfig, parseKafkaConfig } from './config.js';
import { classifyKafkaError } from './errors.js';
import { defaultBusLogger } from './log.js';

type Pending = EncodedExchange;

/** A publisher of records of type T (exchange/v1 on the exchange topic, action/v1 on apitap.actions). */
export interface KafkaRecordPublisher<T> extends Omit<ExchangePublisher, 'publish'> {
  /** As ExchangePublisher.publish: accepted (true) or dropped and counted (false); never throws. */
  publish(rec: T): boolean;
  /** Buffered serialised bytes (for tests and metrics). */
  bufferedBytes(): number;
}

export type KafkaPublisher = KafkaRecordPublisher<Exchange>;

/** The counters one publisher reports under (BUS_COUNTERS for exchanges). */
export interface PublisherCounterNames {
  published: CounterName;
  publishErrors: CounterName;
  bufferedPeak: CounterName;
  bufferedBytesPeak: CounterName;
  droppedBufferFull: CounterName;
  droppedTooLarge: CounterName;
  droppedClosed: CounterName;
  droppedOnClose: CounterName;
  reconnects: CounterName;
}

/** How records of type T become Kafka records. */
export interface RecordCodec<T> {
  encode(rec: T): EncodedExchange;
  /** The headers of every record (one shared object). */
  headers: IHeaders;
  names: PublisherCounterNames;
  /** Logger component name. */
  component: string;
}

const EXCHANGE_CODEC: RecordCodec<Exchange> = {
  encode: encodeExchange,
  headers: EXCHANGE_HEADERS,
  names: BUS_COUNTERS,
  component: 'bus.kafka.publisher',
};

export function createKafkaPublisher(config: KafkaPublisherConfig, deps: KafkaBusDeps): KafkaPublisher {
  return createKafkaRecordPublisher(config, deps, EXCHANGE_CODEC);
}

export function createKafkaRecordPublisher<T>(
  config: KafkaPublisherConfig,
  deps: KafkaBusDeps,
  codec: RecordCodec<T>,
): KafkaRecordPublisher<T> {
  const cfg = parseKafkaConfig(KafkaPublisherConfig, config, 'kafka publisher config');
  const { counters } = deps;
  const NAMES = codec.names;
  const log = (deps.logger ?? defaultBusLogger()).child({ component: codec.component, topic: cfg.topic });
  const kafka = kafkaClient(cfg, log, deps.env ?? process.env);
  const lowMessages = Math.floor(cfg.bufferMaxMessages * cfg.lowWaterRatio);
  const lowBytes = Math.floor(cfg.bufferMaxBytes * cfg.lowWaterRatio);
  const compression = cfg.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const headers: IHeaders = codec.headers;

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
      retry: { ...KAFKAJS_PRODUCER_RETRY },
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
    // One send per key, i.e. per partition. kafkajs retries a multi-partition send only towards the
    // brokers that have not answered it yet (producer/sendMessages.js), so the records of a partition
    // whose leader moved to a broker that had already answered would be dropped while send() resolves;
    // and a batch that failed after some partitions were written would be written twice by our retry.
    // A single-partition send has neither problem: kafkajs retries it with the same sequence numbers,
    // and keys already written (doneKeys) are not sent again by our retry of the batch.
    const groups = new Map<string, { key: string; value: Buffer; headers: IHeaders }[]>();
    for (let i = 0; i < n; i++) {
      const p = queue[qHead + i] as Pending;
      if (doneKeys.has(p.key)) continue;
      let g = groups.get(p.key);
      if (!g) groups.set(p.key, (g = []));
      g.push({ key: p.key, value: p.value, headers });
    }
    for (const [key, messages] of groups) {
      await producer.send({ topic: cfg.topic, messages, compression, acks: cfg.acks, timeout: cfg.requestTimeoutMs });
      doneKeys.add(key);
    }
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
    counters.inc(NAMES.published, n);
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
  /** Keys of the in-doubt batch already written: a retry of the batch sends only the others. */
  let doneKeys = new Set<string>();

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
        doneKeys = new Set();
        settle(n);
      } catch (e) {
        counters.inc(NAMES.publishErrors);
        failures++;
        inDoubt = n;
        if (failures === 1) {
          const err = classifyKafkaError(e, 'kafka publish');
          const fields = { error: (e as Error).message, code: err.code, retryable: err.retryable };
          if (err.retryable) log.warn(fields, 'kafka publish failed; buffering and retrying');
          else log.error(fields, 'kafka publish refused (will not pass by itself); buffering and retrying');
        }
        if (failures % cfg.reconnectAfterFailures === 0) {
          counters.inc(NAMES.reconnects);
          await dropProducer();
          // A new producer id: sequence numbers start over, so the batch may change, unless part of it
          // is already written (then the same batch, without those keys).
          if (doneKeys.size === 0) inDoubt = 0;
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

  const publisher: KafkaRecordPublisher<T> = {
    publish(ex: T) {
      if (closed) {
        counters.inc(NAMES.droppedClosed);
        return false;
      }
      if (count() >= cfg.bufferMaxMessages) {
        counters.inc(NAMES.droppedBufferFull);
        return false;
      }
      const rec = codec.encode(ex);
      const value = rec.value;
      if (value.length > cfg.maxMessageBytes) {
        counters.inc(NAMES.droppedTooLarge);
        return false;
      }
      if (bytes + value.length > cfg.bufferMaxBytes) {
        counters.inc(NAMES.droppedBufferFull);
        return false;
      }
      queue.push(rec);
      bytes += value.length;
      counters.max(NAMES.bufferedPeak, count());
      counters.max(NAMES.bufferedBytesPeak, bytes);
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
        counters.inc(NAMES.droppedOnClose, left);
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
