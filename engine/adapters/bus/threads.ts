// The thread bus: exchanges from one producer thread to N consumer threads over MessagePorts, sharded
// by API host (the same key as the Kafka partitioner), so that every exchange of one host reaches one
// consumer, in the order it was published. Sharding decides where a host is analysed, never what the
// analysis yields.
//
// Flow control (bounded, nothing dropped): exchanges are posted in batches; each shard allows at most
// `maxInFlight` unacknowledged batches, and ready() resolves only when every shard is below that bound,
// so a file replay slows down instead of growing memory. The consumer acknowledges a batch once its
// handler has resolved. Structured clone copies each batch: the publisher keeps no reference.
import type { MessagePort } from 'node:worker_threads';
import { apiHost, type Exchange } from '../../contracts/exchange.js';
import type { Counters } from '../../contracts/counters.js';
import { BUS_COUNTERS, BusClosedError, type ExchangePublisher } from './types.js';

/** Messages on a shard's port. */
export type ThreadBusMessage = { t: 'batch'; xs: Exchange[] } | { t: 'ack' } | { t: 'end' };

export interface ThreadBusOptions {
  /** Exchanges per posted batch. */
  batchSize: number;
  /** Unacknowledged batches per shard before ready() waits. */
  maxInFlight: number;
}

export const DEFAULT_THREAD_BUS_OPTIONS: ThreadBusOptions = { batchSize: 128, maxInFlight: 8 };

/** FNV-1a over the host's UTF-16 code units: stable across runs, platforms and thread counts. */
export function shardOf(host: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < host.length; i++) {
    h ^= host.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export function createThreadPublisher(
  ports: readonly MessagePort[],
  counters: Counters,
  opts: ThreadBusOptions = DEFAULT_THREAD_BUS_OPTIONS,
): ExchangePublisher {
  const n = ports.length;
  const batches: Exchange[][] = ports.map(() => []);
  const inFlight: number[] = ports.map(() => 0);
  let waiters: (() => void)[] = [];
  let closed = false;

  const roomy = (): boolean => inFlight.every((k) => k < opts.maxInFlight);
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  ports.forEach((port, i) => {
    port.on('message', (m: ThreadBusMessage) => {
      if (m.t !== 'ack') return;
      inFlight[i] = (inFlight[i] ?? 1) - 1;
      wake();
    });
  });
  const post = (i: number): void => {
    const xs = batches[i] as Exchange[];
    if (xs.length === 0) return;
    batches[i] = [];
    inFlight[i] = (inFlight[i] ?? 0) + 1;
    counters.max(BUS_COUNTERS.bufferedPeak, inFlight[i] as number);
    (ports[i] as MessagePort).postMessage({ t: 'batch', xs } satisfies ThreadBusMessage);
  };
  const idle = (): boolean => inFlight.every((k) => k === 0);
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) {
      if (closed) throw new BusClosedError();
      await new Promise<void>((r) => waiters.push(r));
    }
  };

  return {
    publish(ex) {
      if (closed) {
        counters.inc(BUS_COUNTERS.droppedClosed);
        return false;
      }
      const i = n === 1 ? 0 : shardOf(apiHost(ex), n);
      (batches[i] as Exchange[]).push(ex);
      counters.inc(BUS_COUNTERS.published);
      if ((batches[i] as Exchange[]).length >= opts.batchSize) post(i);
      return true;
    },
    ready: () => until(roomy),
    buffered: () => batches.reduce((s, b) => s + b.length, 0) + inFlight.reduce((s, k) => s + k, 0),
    async flush() {
      for (let i = 0; i < n; i++) post(i);
      await until(idle);
    },
    async close() {
      if (closed) return;
      for (let i = 0; i < n; i++) post(i);
      await until(idle).catch(() => undefined);
      closed = true;
      for (const p of ports) p.postMessage({ t: 'end' } satisfies ThreadBusMessage);
      wake();
    },
  };
}

/**
 * The consumer end of one shard: calls `handler` with each batch in order (never two at once) and
 * acknowledges it when the handler resolves. Resolves when the producer closed the shard; rejects with
 * the handler's error (the producer then waits for an ack that never comes: the caller tears down).
 */
export function consumeThreadShard(port: MessagePort, handler: (batch: Exchange[]) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    port.on('message', (m: ThreadBusMessage) => {
      if (m.t === 'batch') {
        chain = chain.then(async () => {
          await handler(m.xs);
          port.postMessage({ t: 'ack' } satisfies ThreadBusMessage);
        });
        chain.catch(reject);
      } else if (m.t === 'end') {
        chain.then(() => {
          port.close();
          resolve();
        }, reject);
      }
    });
  });
}
