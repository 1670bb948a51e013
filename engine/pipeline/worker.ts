// `apitap analyze`: one member of the analyzer group. Kafka batches → analysis → store.
//
// Delivery: at-least-once with idempotent effects.
// - The bus commits a batch's offsets only after handle() resolved; a rejection (store down) pauses
//   the partition and redelivers the same batch later: nothing is dropped.
// - Exchanges already persisted (their id is in the store's exchanges table) were already counted in
//   the stored inventory: they are skipped, so a replay after a crash or a rebalance counts nothing
//   twice. Exchanges observed in memory whose batch failed to persist are skipped on redelivery too
//   (the in-memory state already holds them).
// - Write order per batch: endpoints and findings of the hosts the batch touched first, exchange rows
//   last. A crash between the two re-observes that batch on redelivery (its rows are not in the
//   store), which can add its hits to the inventory a second time; exchange rows themselves are
//   never duplicated (ReplacingMergeTree by id). This window is the only double count the design
//   allows, and it needs a crash inside one batch's writes.
// - Findings follow the analysis: after each batch the touched hosts' findings are re-derived and
//   written, and their stored findings that are no longer derived are resolved (tombstones).
// - State moves with partitions: on every assignment the worker drops its inventory and restores it
//   from the store (which holds everything committed by the previous owners), then replays what was
//   not committed.
import type { Exchange } from '../contracts/exchange.js';
import type { ExchangeConsumer, PartitionRef } from '../bus/types.js';
import type { ExchangeRow, Store } from '../store/types.js';
import type { Counters } from '../telemetry/counters.js';
import { createAnalysisSession, type AnalysisConfig, type AnalysisSession } from './analyze.js';

export interface WorkerOptions {
  analysis: Omit<AnalysisConfig, 'store'>;
  store: Store;
  consumer: ExchangeConsumer;
  counters: Counters;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface AnalyzerWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves after the batch in progress (if any) finished. */
  idle(): Promise<void>;
  readonly session: AnalysisSession;
}

const SEEN_MAX = 1_000_000;

export function createAnalyzerWorker(opts: WorkerOptions): AnalyzerWorker {
  const { store, consumer, counters } = opts;
  let session = createAnalysisSession({ ...opts.analysis, store: null }, counters);
  /** Ids observed in memory and not yet known to be persisted (cleared when state is rebuilt). */
  let seen = new Map<string, ExchangeRow>();
  let inFlight: Promise<void> = Promise.resolve();

  async function rebuild(reason: string): Promise<void> {
    const stored = await store.endpoints();
    const findings = await store.findings();
    session = createAnalysisSession({ ...opts.analysis, store: null }, counters);
    session.analysis.restore(stored, findings);
    seen = new Map();
    counters.inc('analyzer_state_rebuilds');
    opts.log?.('analyzer state rebuilt from store', { reason, endpoints: stored.length });
  }

  async function handle(batch: Exchange[]): Promise<void> {
    const ids = batch.map((e) => e.id);
    const persisted = new Set(
      (await store.query('SELECT id FROM exchanges WHERE id IN {ids:Array(String)}', { ids })).map((r) => String(r['id'])),
    );
    const fresh: ExchangeRow[] = [];
    for (const ex of batch) {
      if (persisted.has(ex.id)) {
        counters.inc('analyzer_skipped_persisted');
        seen.delete(ex.id);
        continue;
      }
      let row = seen.get(ex.id);
      if (row !== undefined) counters.inc('analyzer_skipped_seen'); // observed before a failed write: only its row is still due
      else {
        row = session.observe(ex);
        seen.set(ex.id, row);
      }
      fresh.push(row);
    }
    if (fresh.length === 0) return;
    const hosts = [...new Set(fresh.map((r) => r.host))].sort();
    await store.writeEndpoints(hosts.flatMap((h) => session.analysis.endpoints(h)));
    const findings = hosts.flatMap((h) => session.analysis.findings(h));
    await store.writeFindings(findings);
    // Findings of these hosts that the analysis no longer derives (an orphan finally called, an
    // endpoint that now always authenticates) are resolved, not left standing.
    const current = new Set(findings.map((f) => f.id));
    const stale = (await store.activeFindingIds(hosts)).filter((id) => !current.has(id));
    if (stale.length > 0) {
      await store.resolveFindings(stale);
      counters.inc('analyzer_findings_resolved', stale.length);
    }
    await store.writeExchanges(fresh);
    for (const r of fresh) seen.delete(r.id);
    if (seen.size > SEEN_MAX) seen.clear();
    counters.inc('analyzer_exchanges', fresh.length);
  }

  return {
    get session() {
      return session;
    },
    async start() {
      await store.migrate();
      await rebuild('start');
      await consumer.run(
        (batch) => {
          const p = handle(batch);
          inFlight = p.catch(() => undefined);
          return p;
        },
        {
          onAssign: async (parts: PartitionRef[]) => {
            await inFlight;
            await rebuild(`assigned ${parts.map((p) => p.partition).join(',')}`);
          },
          onRevoke: async () => {
            await inFlight;
          },
        },
      );
    },
    async stop() {
      await consumer.stop();
      await inFlight;
    },
    idle: () => inFlight,
  };
}
