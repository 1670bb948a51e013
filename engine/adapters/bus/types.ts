// The bus: how Exchange records travel from collectors to analyzers, in process (memory.ts) or across
// machines (kafka/). Both implement the same two interfaces, so the pipeline wiring picks one by
// config and nothing else changes.
//
// Delivery contract (both implementations):
// - Publishing never blocks and never throws: `publish` answers at once whether the record was
//   accepted; a refused record is counted under a `bus_dropped_*` reason (BUS_COUNTERS). Producers
//   that can wait (file replay) await `ready()` when `publish` returned false, or before each batch.
// - Consumption is at-least-once: a batch is handed to the handler, and its position is committed
//   only after the handler's promise resolved. A rejected handler pauses that partition and the SAME
//   batch is retried with backoff and jitter until it succeeds: nothing is dropped or skipped.
//   A crash between the handler's success and the commit replays the batch, so handlers (store
//   writes) must be idempotent; exchange ids are deterministic for that reason.
// - Order is kept within a partition (the memory bus is one partition). All exchanges of one API
//   host map to one partition (Kafka key = apiHost()), so one analyzer instance owns that host.
import type { Exchange } from '../../contracts/exchange.js';

/** Counter names of the bus. Stable: reports and dashboards read them. */
export const BUS_COUNTERS = {
  /** Exchanges accepted by the broker (Kafka) or enqueued (memory). */
  published: 'bus_published',
  /** Failed send attempts to Kafka (each retried; the records stay buffered). */
  publishErrors: 'bus_publish_errors',
  /** High-water mark of buffered records. */
  bufferedPeak: 'bus_buffered_peak',
  /** High-water mark of buffered bytes (serialised JSON, Kafka only). */
  bufferedBytesPeak: 'bus_buffered_bytes_peak',
  /** Refused by publish(): the bounded buffer was full (messages or bytes). */
  droppedBufferFull: 'bus_dropped_buffer_full',
  /** Refused by publish(): one serialised record exceeds the maximum message size. */
  droppedTooLarge: 'bus_dropped_too_large',
  /** Refused by publish(): the publisher was already closed. */
  droppedClosed: 'bus_dropped_closed',
  /** Buffered records abandoned by close() because they could not be delivered in time. */
  droppedOnClose: 'bus_dropped_on_close',
  /** Kafka producer rebuilt after repeated failures. */
  reconnects: 'bus_reconnects',
  /** Exchanges delivered to a handler that resolved (counted once per successful delivery). */
  consumed: 'bus_consumed',
  /** Handler rejections (each one pauses the partition and retries the batch). */
  handlerErrors: 'bus_handler_errors',
  /** Offset commits that failed after the handler succeeded (the batch may be replayed). */
  commitErrors: 'bus_commit_errors',
  /** Messages sent to the dead-letter topic (any reason). */
  dlq: 'bus_dlq',
  /** Dead-letter messages by reason: value not JSON. */
  dlqInvalidJson: 'bus_dlq_invalid_json',
  /** Dead-letter messages by reason: JSON that is not an exchange/v1 record. */
  dlqInvalidExchange: 'bus_dlq_invalid_exchange',
  /** Dead-letter messages by reason: a `schema` header other than exchange/v1. */
  dlqSchemaMismatch: 'bus_dlq_schema_mismatch',
  /** Writes to the dead-letter topic that failed (the batch is retried, not committed). */
  dlqErrors: 'bus_dlq_errors',
  /** Group (re)joins seen by the consumer. */
  rebalances: 'bus_rebalances',
  /** kafkajs consumer crashes (it is restarted). */
  consumerCrashes: 'bus_consumer_crashes',
} as const;

/** The Kafka header (and memory-bus tag) naming the record's contract. */
export const SCHEMA_HEADER = 'schema' as const;

/** Where a batch came from. `partition` is 0 on the memory bus. */
export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** A batch position, given to handlers for logging and idempotency keys. */
export interface BatchInfo extends PartitionRef {
  /** Offset of the first and last record of the batch (strings: Kafka offsets are int64). */
  readonly firstOffset: string;
  readonly lastOffset: string;
  /**
   * The offset of each exchange of the batch, aligned with the array (strings: int64). Records that
   * went to the dead-letter topic are not in the batch, so offsets need not be consecutive. With
   * the partition, an offset names a record for good: the analyzer keeps per-host watermarks of
   * offsets already counted (engine/app/pipelines/worker.ts).
   */
  readonly offsets: readonly string[];
}

export interface ExchangePublisher {
  /**
   * Hands one exchange to the bus. Returns true when accepted, false when dropped (counted with its
   * reason). Never throws, never blocks. The record is serialised (Kafka) or kept by reference
   * (memory) at once: the caller must not mutate `ex` after publishing it.
   */
  publish(ex: Exchange): boolean;
  /**
   * Resolves when the buffer has room again (below its low-water mark), at once when it has room.
   * Rejects only if the publisher is closed while waiting.
   */
  ready(): Promise<void>;
  /** Records accepted and not yet acknowledged (Kafka) or not yet consumed (memory). */
  buffered(): number;
  /**
   * Resolves when every record accepted so far is delivered (acknowledged by Kafka / handled by the
   * memory consumer). Rejects with BusTimeoutError after `timeoutMs` (default: the implementation's
   * flush timeout); the records stay buffered.
   */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * Stops accepting, flushes within the flush timeout, counts what is left under
   * bus_dropped_on_close, releases connections. Never rejects; idempotent.
   */
  close(): Promise<void>;
}

/**
 * Called with each batch, in order per partition, never twice at once for one partition. The batch
 * is committed only after the promise resolves; a rejection means "retry later" (the same batch is
 * delivered again after a backoff). The handler owns the array and the exchanges.
 */
export type BatchHandler = (batch: Exchange[], info: BatchInfo) => Promise<void>;

/** Partition ownership changes, so an analyzer can rebuild or drop per-partition state. */
export interface RebalanceHooks {
  /**
   * Partitions newly assigned to this instance. Awaited before any batch of those partitions is
   * handed to the handler.
   */
  onAssign?: (partitions: PartitionRef[]) => Promise<void> | void;
  /**
   * Partitions no longer assigned (after a rebalance, or on stop). kafkajs has no pre-revoke
   * callback, so this runs after the group rejoined; uncommitted batches of those partitions are
   * replayed by their new owner (at-least-once).
   */
  onRevoke?: (partitions: PartitionRef[]) => Promise<void> | void;
}

export interface ExchangeConsumer {
  /**
   * Starts delivering batches to `handler`. Resolves once the consumer is running (joined for
   * Kafka); delivery goes on in the background until stop(). Call once.
   */
  run(handler: BatchHandler, hooks?: RebalanceHooks): Promise<void>;
  /**
   * Stops after the batch in flight (its commit included), then calls onRevoke for what was
   * assigned. Idempotent.
   */
  stop(): Promise<void>;
}

/** A wait that ran out (flush). Retryable: the records are still buffered. */
export class BusTimeoutError extends Error {
  readonly code = 'BUS_TIMEOUT' as const;
  readonly retryable = true as const;
  constructor(what: string, ms: number) {
    super(`${what} did not complete within ${ms} ms`);
    this.name = 'BusTimeoutError';
  }
}

/** The publisher was closed while a caller waited for it. Permanent. */
export class BusClosedError extends Error {
  readonly code = 'BUS_CLOSED' as const;
  readonly retryable = false as const;
  constructor() {
    super('bus publisher is closed');
    this.name = 'BusClosedError';
  }
}

/**
 * Callers of flush() waiting for a publisher's buffer to empty. Shared by both buses so the timeout
 * and wake-up rules cannot drift: wait() rejects with BusTimeoutError after `timeoutMs` (the records
 * stay buffered), drained() resolves every waiter.
 */
export class DrainWaiters {
  private waiters: (() => void)[] = [];

  wait(timeoutMs: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new BusTimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.waiters.push(done);
    });
  }

  drained(): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** Backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): a random
 * delay in [base/2, min(max, base * 2^attempt)]. `attempt` starts at 0. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  const floor = Math.min(cap, baseMs / 2);
  return Math.round(floor + random() * (cap - floor));
}
