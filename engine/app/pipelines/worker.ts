// `apitap analyze`: one member of the analyzer group. Kafka batches → analysis → store.
//
// Delivery: at-least-once, and every exchange counted in the inventory exactly once.
// - The bus commits a batch's offsets only after handle() resolved; a rejection (store down) pauses
//   the partition and redelivers the same batch later: nothing is dropped.
// - Watermarks: every endpoint row of a host is written together with the Kafka position up to which
//   the host's exchanges are counted in it ("<topic>:<partition>" → offset; one INSERT, so rows and
//   watermark land together). Exchange rows carry their own position (`source`).
// - Write order per batch: exchange rows, then findings, then endpoints with the new watermark.
//   A redelivered exchange (after a crash, a rebalance, or a duplicate publish) is counted only if
//   neither its own offset nor the offset of an already stored copy of it (same deterministic id)
//   is at or below its host's watermark. So a crash before the endpoints write recounts the batch
//   (its earlier attempt never reached the inventory), a crash after it recounts nothing, and the
//   same capture published twice counts once. Exchange rows are never duplicated (ReplacingMergeTree
//   by id). Rows stored by `apitap replay` (no source) are counted in that replay's inventory.
// - Within one process, exchanges observed for a batch whose writes failed are not observed again
//   on redelivery (the in-memory state holds them); only their writes are retried.
import type { Exchange } from '../../contracts/exchange.js';
import { parseTarget } from '../../../analyzers/analysis.js';
import type { BatchInfo, ExchangeConsumer, PartitionRef } from '../../adapters/bus/types.js';
import type { ExchangeRow, Store } from '../../adapters/store/types.js';
import type { Counters } from '../../contracts/counters.js';
import { createAnalysisSession, type AnalysisConfig, type AnalysisSession } from './analyze.js';
import { EndpointLedger } from './tombstones.js';
import { sortFindings } from '../../../analyzers/risks/findings.js';
import type { ActorEvent } from '../../../analyzers/actors/event.js';
import type { ActorSettings } from '../config/index.js';
import { runBehaviour } from './behaviour.js';

export interface WorkerOptions {
  analysis: Omit<AnalysisConfig, 'store'>;
  store: Store;
  consumer: ExchangeConsumer;
  counters: Counters;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * The behaviour job (actors): every `intervalMs` of wall clock (scheduling only; its output is a
   * function of the stored rows), when this member wrote exchanges since its last run, the behaviour
   * detectors run over all stored exchange rows and endpoint_paths, and their findings and actors
   * are written. Every member may run it: same rows, same ids, same rows written (idempotent).
   * Absent: no job.
   */
  behaviour?: { settings: ActorSettings; intervalMs: number };
}

export interface AnalyzerWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves after the batch in progress (if any) finished. */
  idle(): Promise<void>;
  /** Runs the behaviour job now (after the batch in progress); resolves when its rows are written. */
  behaviourNow(): Promise<{ findings: number; actors: number }>;
  readonly session: AnalysisSession;
}

const SEEN_MAX = 1_000_000;

export function createAnalyzerWorker(opts: WorkerOptions): AnalyzerWorker {
  const { store, consumer, counters } = opts;
  let session = createAnalysisSession({ ...opts.analysis, store: null, behaviour: false }, counters);
  /** Ids observed in memory and not yet known to be persisted (cleared when state is rebuilt). */
  let seen = new Map<string, ExchangeRow>();
  let inFlight: Promise<void> = Promise.resolve();

  /** host → "<topic>:<partition>" → last offset counted in the stored inventory. */
  let marks = new Map<string, Map<string, bigint>>();
  /** Endpoint rows written per host, for tombstones of endpoints merged away later (tombstones.ts). */
  let ledger = new EndpointLedger();

  async function rebuild(reason: string): Promise<void> {
    const stored = await store.endpoints();
    const findings = await store.findings();
    const storedMarks = await store.watermarks();
    session = createAnalysisSession({ ...opts.analysis, store: null, behaviour: false }, counters);
    session.analysis.restore(stored, findings);
    ledger = new EndpointLedger();
    ledger.seed(stored);
    marks = storedMarks;
    seen = new Map();
    counters.inc('analyzer_state_rebuilds');
    opts.log?.('analyzer state rebuilt from store', { reason, endpoints: stored.length });
  }

  /** Is the record at `source` ("<topic>:<partition>:<offset>", '' for replays) counted for `host`? */
  function counted(host: string, source: string): boolean {
    if (source === '') return true;
    const cut = source.lastIndexOf(':');
    const mark = marks.get(host)?.get(source.slice(0, cut));
    return mark !== undefined && BigInt(source.slice(cut + 1)) <= mark;
  }

  async function handle(batch: Exchange[], info: BatchInfo): Promise<void> {
    const part = `${info.topic}:${info.partition}`;
    const ids = batch.map((e) => e.id);
    const stored = await store.exchangeSources(ids);
    const fresh: ExchangeRow[] = [];
    const reached = new Map<string, bigint>();
    batch.forEach((ex, i) => {
      const offset = info.offsets[i] ?? info.lastOffset;
      const source = `${part}:${offset}`;
      const host = parseTarget(ex).host;
      const copy = stored.get(ex.id);
      if (counted(host, source) || (copy !== undefined && counted(host, copy))) {
        counters.inc('analyzer_skipped_counted');
        seen.delete(ex.id);
        return;
      }
      let row = seen.get(ex.id);
      if (row !== undefined)
        counters.inc('analyzer_skipped_seen'); // observed before a failed write: only the writes are due
      else {
        row = { ...session.observe(ex), source };
        seen.set(ex.id, row);
      }
      fresh.push(row);
      const off = BigInt(offset);
      if ((reached.get(row.host) ?? -1n) < off) reached.set(row.host, off);
    });
    if (fresh.length === 0) return;
    const hosts = [...new Set(fresh.map((r) => r.host))].sort();
    await store.writeExchanges(fresh);
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
    // The new watermarks go with the rows that count these exchanges, in the same INSERT.
    const next = new Map<string, Map<string, bigint>>();
    const applied: Record<string, Record<string, string>> = {};
    for (const h of hosts) {
      const m = new Map(marks.get(h) ?? []);
      const r = reached.get(h);
      if (r !== undefined && (m.get(part) ?? -1n) < r) m.set(part, r);
      next.set(h, m);
      applied[h] = Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]));
    }
    const endpoints = hosts.flatMap((h) => session.analysis.endpoints(h));
    await store.writeEndpoints(ledger.rows(hosts, endpoints), applied);
    ledger.commit(hosts, endpoints);
    await store.writePathMap(hosts.flatMap((h) => session.analysis.pathMap(h)));
    for (const [h, m] of next) marks.set(h, m);
    for (const r of fresh) seen.delete(r.id);
    if (seen.size > SEEN_MAX) seen.clear();
    counters.inc('analyzer_exchanges', fresh.length);
    dirty = true;
  }

  let dirty = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let job: Promise<{ findings: number; actors: number }> | null = null;

  /** The behaviour detectors over every stored exchange with an actor (pipelines/behaviour.ts). */
  async function behaviourJob(): Promise<{ findings: number; actors: number }> {
    const b = opts.behaviour;
    if (b === undefined) return { findings: 0, actors: 0 };
    dirty = false;
    let events: ActorEvent[];
    let out: ReturnType<typeof runBehaviour>;
    try {
      events = await store.actorEvents();
      out = runBehaviour(events, await store.pathMap(), b.settings, counters);
      await store.writeFindings(sortFindings(out.findings));
      await store.writeActors(out.actors);
    } catch (e) {
      dirty = true; // the next interval tries again
      throw e;
    }
    opts.log?.('behaviour job', { events: events.length, findings: out.findings.length, actors: out.actors.length });
    return { findings: out.findings.length, actors: out.actors.length };
  }
  const behaviourNow = (): Promise<{ findings: number; actors: number }> => {
    // One run at a time; a call during a run waits for it and runs again (rows may have changed).
    const prev = job ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(() => inFlight)
      .then(behaviourJob);
    job = next;
    void next.finally(() => {
      if (job === next) job = null;
    });
    return next;
  };

  return {
    get session() {
      return session;
    },
    async start() {
      await store.migrate();
      await rebuild('start');
      const b = opts.behaviour;
      if (b !== undefined) {
        timer = setInterval(() => {
          if (!dirty || job !== null) return;
          behaviourNow().catch((e: unknown) =>
            opts.log?.('behaviour job failed; retried at the next interval', { error: (e as Error).message }),
          );
        }, b.intervalMs);
        timer.unref();
      }
      await consumer.run(
        (batch, info) => {
          const p = handle(batch, info);
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
      if (timer !== null) clearInterval(timer);
      await consumer.stop();
      await inFlight;
      await job?.catch(() => undefined);
    },
    idle: () => inFlight,
    behaviourNow,
  };
}
