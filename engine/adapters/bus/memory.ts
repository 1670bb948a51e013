// In-process bus for the single-process mode: one bounded FIFO between the collector and the
// analyzers. Same contract as Kafka (types.ts): publish answers at once, a full queue refuses and
// counts, the consumer gets batches and a batch leaves the queue only after its handler resolved
// (a rejected batch is retried with backoff, never dropped).
//
// Bound: `maxMessages` records, counting the batch in flight. Exchanges are kept by reference (no
// copy, no serialisation); their size is bounded upstream by the capture caps on bodies and headers.
import { z } from 'zod';
import type { Exchange } from '../../contracts/exchange.js';
import type { Counters } from '../../contracts/counters.js';
import {
  BUS_COUNTERS,
  BusClosedError,
  DrainWaiters,
  backoffMs,
  type BatchHandler,
  type ExchangeConsumer,
  type ExchangePublisher,
  type PartitionRef,
  type RebalanceHooks,
} from './types.js';

export const MemoryBusConfig = z.object({
  /** Queue capacity in exchanges, the batch being handled included. */
  maxMessages: z.number().int().positive().default(10_000),
  /** ready() resolves when the queue holds at most this many; default half of maxMessages. */
  lowWaterMessages: z.number().int().nonnegative().optional(),
  /** Largest batch handed to the handler. */
  maxBatch: z.number().int().positive().default(500),
  /** Retry delay after a handler rejection: first, and cap (exponential with jitter in between). */
  retryBaseMs: z.number().int().positive().default(100),
  retryMaxMs: z.number().int().positive().default(10_000),
  /** Default timeout of flush() and of the flush inside close(). */
  flushTimeoutMs: z.number().int().positive().default(30_000),
  /** Name reported as the topic in BatchInfo / hooks. */
  topic: z.string().default('memory'),
});
export type MemoryBusConfig = z.input<typeof MemoryBusConfig>;

export interface MemoryBus {
  readonly publisher: ExchangePublisher;
  readonly consumer: ExchangeConsumer;
}

type Waiter = () => void;

export function createMemoryBus(config: MemoryBusConfig, counters: Counters): MemoryBus {
  const cfg = MemoryBusConfig.parse(config);
  const lowWater = Math.min(cfg.lowWaterMessages ?? Math.floor(cfg.maxMessages / 2), cfg.maxMessages - 1);
  const part: PartitionRef = { topic: cfg.topic, partition: 0 };

  // Ring buffer: head..head+size-1 (mod capacity). Fixed array, no shifting.
  const ring: (Exchange | undefined)[] = new Array<Exchange | undefined>(cfg.maxMessages).fill(undefined);
  let head = 0;
  let size = 0;
  let offset = 0n; // offset of ring[head], for BatchInfo
  let closed = false; // publisher closed
  let running = false;
  let stopping = false;
  let readyWaiters: Waiter[] = [];
  const drainWaiters = new DrainWaiters();
  let itemWaiter: Waiter | null = null;
  let loop: Promise<void> | null = null;
  let sleepTimer: NodeJS.Timeout | null = null;
  let wakeSleep: Waiter | null = null;

  const wakeAll = (ws: Waiter[]): void => {
    for (const w of ws) w();
  };

  const publisher: ExchangePublisher = {
    publish(ex) {
      if (closed) {
        counters.inc(BUS_COUNTERS.droppedClosed);
        return false;
      }
      if (size >= cfg.maxMessages) {
        counters.inc(BUS_COUNTERS.droppedBufferFull);
        return false;
      }
      ring[(head + size) % cfg.maxMessages] = ex;
      size++;
      counters.inc(BUS_COUNTERS.published);
      counters.max(BUS_COUNTERS.bufferedPeak, size);
      if (itemWaiter) {
        const w = itemWaiter;
        itemWaiter = null;
        w();
      }
      return true;
    },
    ready() {
      if (closed) return Promise.reject(new BusClosedError());
      if (size < cfg.maxMessages) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        readyWaiters.push(() => (closed ? reject(new BusClosedError()) : resolve()));
      });
    },
    buffered: () => size,
    flush(timeoutMs = cfg.flushTimeoutMs) {
      if (size === 0) return Promise.resolve();
      return drainWaiters.wait(timeoutMs, 'memory bus flush');
    },
    async close() {
      if (closed) return;
      closed = true;
      const ws = readyWaiters;
      readyWaiters = [];
      wakeAll(ws);
      try {
        await publisher.flush();
      } catch {
        counters.inc(BUS_COUNTERS.droppedOnClose, size);
      }
    },
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      wakeSleep = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  async function consumeLoop(handler: BatchHandler): Promise<void> {
    let attempt = 0;
    while (!stopping) {
      if (size === 0) {
        await new Promise<void>((resolve) => (itemWaiter = resolve));
        continue;
      }
      const n = Math.min(size, cfg.maxBatch);
      const batch: Exchange[] = new Array<Exchange>(n);
      for (let i = 0; i < n; i++) batch[i] = ring[(head + i) % cfg.maxMessages] as Exchange;
      const first = offset;
      try {
        const offsets = Array.from({ length: n }, (_, i) => String(first + BigInt(i)));
        await handler(batch, {
          ...part,
          firstOffset: String(first),
          lastOffset: String(first + BigInt(n - 1)),
          offsets,
        });
      } catch {
        // Retryable by contract: keep the batch at the head, wait, deliver it again.
        counters.inc(BUS_COUNTERS.handlerErrors);
        await sleep(backoffMs(attempt++, cfg.retryBaseMs, cfg.retryMaxMs));
        continue;
      }
      attempt = 0;
      // "Commit": the batch leaves the queue only now.
      for (let i = 0; i < n; i++) ring[(head + i) % cfg.maxMessages] = undefined;
      head = (head + n) % cfg.maxMessages;
      size -= n;
      offset += BigInt(n);
      counters.inc(BUS_COUNTERS.consumed, n);
      if (size <= lowWater && readyWaiters.length > 0) {
        const ws = readyWaiters;
        readyWaiters = [];
        wakeAll(ws);
      }
      if (size === 0) drainWaiters.drained();
    }
  }

  let hooksRef: RebalanceHooks | undefined;

  const consumer: ExchangeConsumer = {
    async run(handler, hooks) {
      if (running) throw new Error('memory bus consumer: run() called twice');
      running = true;
      hooksRef = hooks;
      await hooks?.onAssign?.([part]);
      loop = consumeLoop(handler);
    },
    async stop() {
      if (!running || stopping) return;
      stopping = true;
      if (itemWaiter) {
        const w = itemWaiter;
        itemWaiter = null;
        w();
      }
      if (sleepTimer) clearTimeout(sleepTimer);
      wakeSleep?.();
      await loop;
      await hooksRef?.onRevoke?.([part]);
    },
  };

  return { publisher, consumer };
}
