// `apitap replay --workers N`: the replay on every core. A collector thread reads the captures and
// shards exchanges by API host over the thread bus to N analysis threads; main writes the store (chDB
// lives in one thread) and merges the shards' results.
//
// Memory (README "Benchmarks"): the peak RSS is the sum of what is resident at one moment, so the
// phases that need much memory are kept apart. While the capture is read: the collector thread, whose
// V8 old generation is capped from the flow table's state budget (collectorHeapLimitMb), the analysis
// threads, and a small main. An embedded store (chDB maps ~200 MB of library and engine when loaded)
// is opened only after every thread has reported and been terminated (their heaps are released then);
// meanwhile each analysis thread appends its exchange rows to a spill file (JSON lines) instead of
// posting them to main, and main inserts them from the files in bounded batches once the store is
// open. A store that is already open (a ClickHouse server) gets the rows as they arrive, as before.
//
// Determinism: every exchange of one host reaches one analysis thread in capture order, and all
// analysis state is per host, so each shard's inventory and findings are exactly the single-thread
// ones for its hosts; the only cross-host finding (orphan_api: no host served the operation) is merged
// by analyzers/risks (mergeShardFindings). Outputs are sorted as in the single-thread path, so the
// report, the JSONL and the store rows are byte-identical for any N (test/integration/workers.test.ts).
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import type { CollectorOptions } from '../../../collectors/collector.js';
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import type { Overrides } from '../../../analyzers/endpoints/index.js';
import { mergeShardFindings, sortFindings } from '../../../analyzers/risks/findings.js';
import type { LoadedGraphqlSchema } from '../../../analyzers/graphql/index.js';
import { createTlsInventory } from '../../../analyzers/tls/inventory.js';
import type { CounterName } from '../../contracts/catalogue.js';
import { Counters } from '../../contracts/counters.js';
import type { EndpointRecord } from '../../contracts/inventory.js';
import type { ExchangeRow, Store } from '../../adapters/store/types.js';
import type { AnalysisMsg, AnalysisWorkerData, CollectorMsg, CollectorWorkerData } from '../workers/protocol.js';
import { applyDrift, writeResults } from './analyze.js';
import { DEFAULT_QUIET_US } from '../../../analyzers/drift/index.js';
import { ReplayError } from './errors.js';
import { expandInputs } from './inputs.js';
import { captureReport, REPORT_SCHEMA, type Report } from './report.js';
import { ActorSettings, BodySettings } from '../config/index.js';
import { foldBehaviourDrops, reportActors, runBehaviour } from './behaviour.js';
import type { ActionDispatcher } from '../actions/index.js';

export interface ThreadedAnalysisConfig {
  specs: LoadedSpec[];
  previousSpecs: LoadedSpec[];
  /** GraphQL SDL schemas (`--graphql-schema`). */
  graphqlSchemas?: LoadedGraphqlSchema[];
  overrides: Overrides | null;
  secret: Buffer;
  /** An open store: exchange rows are written as they arrive. */
  store: Store | null;
  /**
   * An embedded store opened only after the analysis threads are done (see the top of this file);
   * ignored when `store` is set. Rows wait in spill files in a fresh directory under `spillDir`
   * (removed before returning). The caller owns the returned store (closes it).
   */
  deferredStore?: { open: () => Promise<Store>; spillDir: string };
  /** certificate_expiring threshold (analyzers/tls). */
  certificateExpiringDays?: number;
  /** Drift against the store's earlier windows (analyze.ts applyDrift); off without a store. */
  drift?: { quietUs: number } | false;
  /** Actors and behaviour thresholds (defaults when absent). */
  actors?: ActorSettings;
  /** Body gate (config analysis.bodies; defaults when absent). */
  bodies?: BodySettings;
}

export interface ThreadedReplayOptions {
  inputs: string[];
  collector: CollectorOptions;
  exchangesPath?: string;
  /** null = collectors only. */
  analysis: ThreadedAnalysisConfig | null;
  /** Analysis threads (shards), ≥ 1. */
  workers: number;
  /** V8 old-generation limit of the collector thread, MB; 0 = collectorHeapLimitMb(collector). */
  collectorHeapMb?: number;
  /** Remediation actions: the window's findings are offered once merged; closed before returning. */
  actions?: ActionDispatcher;
  onProgress?: (done: number, total: number, file: string) => void;
}

const MiB = 1024 * 1024;

/**
 * The collector thread's old-generation limit, MB: 64 MB for its code, reader and in-flight batches,
 * plus 3 MB per MiB of the flow table's estimated state budget (collector.flow.maxStateBytes). Measured
 * on the 300,000 half-open connection flood at the default 48 MiB budget: the thread runs at 128 MB
 * (its live state is below that) at twice the CPU of an unlimited heap, at 192 MB with +15 % CPU and
 * 285 MB peak RSS against 518 MB unlimited (V8 otherwise lets garbage grow far past the live state).
 * Out-of-order bytes are Buffers, outside the V8 heap, so maxTotalBufferedBytes does not count here.
 */
export function collectorHeapLimitMb(collector: CollectorOptions): number {
  const state = collector.flow.maxStateBytes ?? 48 * MiB;
  return 64 + 3 * Math.ceil(state / MiB);
}

/**
 * The collector thread's young generation, MB (V8 splits it into two semi-spaces and a large-object
 * area; its default is 3 × 16 MB). Its garbage is short-lived packet views and parser strings: measured
 * on lab captures, 12 MB cut the peak RSS by 20 MB (collectors only, 60 MB capture; 181 → 161 MB) to
 * 40 MB (with analysis, --no-store; 326 → 282 MB) and the 300,000-connection flood 297 → 265 MB, at
 * about +10 % of the collector's CPU. The analysis threads keep V8's default: 12 MB changed nothing
 * there (their heap is live state, not garbage).
 */
export const COLLECTOR_YOUNG_GENERATION_MB = 12;

/** A worker from the compiled module beside this one (.js), or from its source through tsx (.ts). */
function spawn(
  name: string,
  options: { workerData: unknown; transferList: MessagePort[]; resourceLimits?: ResourceLimits },
): Worker {
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(`../workers/${name}${source ? '.ts' : '.js'}`, import.meta.url);
  if (!source) return new Worker(url, options);
  // From source (development, tsx): the worker registers tsx itself before it loads the module.
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const endpointKey = (e: EndpointRecord): string => `${e.host}\u0000${e.path}\u0000${e.method}`;

/**
 * Resolves with the worker's final message; rejects on an error message, a crash or an early exit. A
 * thread that reaches its heap limit is terminated by Node (ERR_WORKER_OUT_OF_MEMORY): the replay
 * fails with a message naming the thread and the setting, never with partial results.
 */
function finalMessage<M extends { t: string }>(
  w: Worker,
  what: string,
  limit: string | null,
  onOther: (m: M) => void,
): Promise<M> {
  return new Promise((resolve, reject) => {
    let settled = false;
    w.on('message', (m: M) => {
      if (m.t === 'done' || m.t === 'error') {
        settled = true;
        resolve(m);
      } else onOther(m);
    });
    w.on('error', (e: Error & { code?: string }) => {
      settled = true;
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY')
        reject(
          new Error(
            `the ${what} thread reached its memory limit${limit !== null ? ` (${limit})` : ''}; the replay is incomplete and was stopped`,
          ),
        );
      else reject(e);
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`a replay thread exited (${code}) before it reported`));
    });
  });
}

export async function replayThreads(opts: ThreadedReplayOptions): Promise<{ report: Report; counters: Counters }> {
  const files = expandInputs(opts.inputs);
  const counters = new Counters();
  const shards = opts.analysis === null ? 0 : Math.max(1, opts.workers);
  const channels = Array.from({ length: shards }, () => new MessageChannel());
  const workers: Worker[] = [];
  // TLS handshakes are few (one record per connection) and their inventory is keyed by server, not by
  // API host: main keeps it, fed in capture order by the collector thread, as the analysis would.
  const tlsInventory =
    opts.analysis === null ? null : createTlsInventory({ expiringDays: opts.analysis.certificateExpiringDays ?? 30 });
  // Exchange rows arrive while the capture is read; main writes them in arrival order (the store
  // deduplicates by id and reads sort by id, so the order of batches does not matter).
  let writes: Promise<void> = Promise.resolve();
  const deferred =
    opts.analysis !== null && opts.analysis.store === null ? (opts.analysis.deferredStore ?? null) : null;
  const spill = deferred !== null ? mkdtempSync(join(deferred.spillDir, '.replay-spill-')) : null;
  const spillFiles = channels.map((_, i) => (spill !== null ? join(spill, `rows-${i}.jsonl`) : null));
  const terminated = new Set<Worker>();
  const end = async (w: Worker): Promise<void> => {
    if (terminated.has(w)) return;
    terminated.add(w);
    await w.terminate();
  };
  try {
    const analyses = channels.map((ch, i) => {
      const a = opts.analysis as ThreadedAnalysisConfig;
      const data: AnalysisWorkerData = {
        port: ch.port2,
        specs: a.specs,
        previousSpecs: a.previousSpecs,
        graphqlSchemas: a.graphqlSchemas ?? [],
        overrides: a.overrides,
        secret: new Uint8Array(a.secret),
        certificateExpiringDays: a.certificateExpiringDays ?? 30,
        actors: a.actors ?? ActorSettings.parse({}),
        bodies: a.bodies ?? BodySettings.parse({}),
        rows: a.store !== null,
        spillPath: spillFiles[i] ?? null,
      };
      const w = spawn('analysis-worker', { workerData: data, transferList: [ch.port2] });
      workers.push(w);
      return finalMessage<AnalysisMsg>(w, 'analysis', null, (m) => {
        if (m.t === 'rows' && a.store !== null) {
          const store = a.store;
          writes = writes.then(() => store.writeExchanges(m.rows));
        }
      });
    });
    const cdata: CollectorWorkerData = {
      files,
      collector: opts.collector,
      ports: channels.map((c) => c.port1),
      exchangesPath: opts.exchangesPath ?? null,
      progress: opts.onProgress !== undefined,
      tls: tlsInventory !== null,
    };
    const heapMb =
      opts.collectorHeapMb !== undefined && opts.collectorHeapMb > 0
        ? opts.collectorHeapMb
        : collectorHeapLimitMb(opts.collector);
    const cw = spawn('collector-worker', {
      workerData: cdata,
      transferList: cdata.ports,
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: COLLECTOR_YOUNG_GENERATION_MB },
    });
    workers.push(cw);
    // An analysis thread that fails ends the replay at once (the collector would wait for its acks).
    const analysed = Promise.all(analyses);
    analysed.catch(() => undefined);
    const failed = analysed.then(() => new Promise<never>(() => undefined));
    const collected = await Promise.race([
      finalMessage<CollectorMsg>(
        cw,
        'collector',
        `${heapMb} MB: raise pipeline.collectorHeapMb in --config, or lower collector.flow.maxStateBytes`,
        (m) => {
          if (m.t === 'progress') opts.onProgress?.(m.done, m.total, m.file);
          else if (m.t === 'tls') for (const r of m.recs) tlsInventory?.observe(r);
        },
      ),
      failed,
    ]);
    if (collected.t === 'error') {
      throw collected.code?.startsWith('capture_') === true
        ? new ReplayError(collected.code, collected.message)
        : new Error(collected.message);
    }
    if (collected.t !== 'done') throw new Error('collector thread: unexpected message');
    // Its heap (flow table, reader) is released while the analysis threads finish their queues.
    await end(cw);
    for (const [k, v] of Object.entries(collected.counters)) counters.inc(k as CounterName, v);

    const results = await analysed;
    await writes;
    const done = results.map((r) => {
      if (r.t !== 'done') throw new Error(r.t === 'error' ? r.message : 'analysis thread: unexpected message');
      return r;
    });
    await Promise.all(workers.map(end));
    // Every thread's heap is gone: now the embedded store may map its engine.
    let store = opts.analysis?.store ?? null;
    if (deferred !== null) {
      store = await deferred.open();
      for (const f of spillFiles) if (f !== null) await insertSpill(store, f);
    }
    for (const r of done) for (const [k, v] of Object.entries(r.stats)) counters.inc(k as CounterName, v);
    for (const [k, v] of Object.entries(tlsInventory?.stats() ?? {})) if (v > 0) counters.inc(k as CounterName, v);

    const report: Report = {
      schema: REPORT_SCHEMA,
      capture: captureReport(counters, files.length, collected.firstUs, collected.lastUs),
    };
    if (opts.analysis !== null) {
      const endpoints = done.flatMap((r) => r.endpoints).sort((a, b) => cmp(endpointKey(a), endpointKey(b)));
      // Behaviour: the detectors run once over every shard's actor events (an actor spans hosts).
      const actorSettings = opts.analysis.actors ?? ActorSettings.parse({});
      const own = new Counters();
      const behaviour = runBehaviour(
        done.flatMap((r) => r.events),
        done.flatMap((r) => r.pathMap),
        actorSettings,
        own,
      );
      const findings = sortFindings([
        ...mergeShardFindings(done.map((r) => ({ findings: r.findings, window: r.window }))),
        ...(tlsInventory?.findings() ?? []),
        ...behaviour.findings,
      ]);
      const actors = reportActors(behaviour.actors, actorSettings.reportTop, own);
      foldBehaviourDrops(report.capture, own);
      const tls = tlsInventory?.entries() ?? [];
      const withDrift =
        store !== null && opts.analysis.drift !== false
          ? await applyDrift(store, endpoints, findings, opts.analysis.drift?.quietUs ?? DEFAULT_QUIET_US)
          : findings;
      const spans = done.filter((r) => r.firstUs >= 0);
      const firstUs = spans.length > 0 ? Math.min(...spans.map((r) => r.firstUs)) : -1;
      const lastUs = spans.length > 0 ? Math.max(...spans.map((r) => r.lastUs)) : -1;
      for (const [k, v] of Object.entries(own.snapshot())) counters.inc(k as CounterName, v);
      if (store !== null) {
        await store.writeActors(behaviour.actors);
        await writeResults(store, {
          endpoints,
          findings: withDrift,
          pathMap: done.flatMap((r) => r.pathMap),
          capture: report.capture,
          files,
          firstUs,
          lastUs,
        });
        await store.writeTls(tls);
      }
      report.endpoints = endpoints;
      report.findings = withDrift;
      report.tls = tls;
      report.actors = actors;
      if (opts.actions !== undefined) {
        opts.actions.offer(withDrift);
        report.actions = await opts.actions.close();
      }
    }
    if (collected.traffic.buckets.length > 0) report.traffic = collected.traffic;
    return { report, counters };
  } finally {
    await writes.catch(() => undefined);
    await Promise.all(workers.map(end));
    if (spill !== null) rmSync(spill, { recursive: true, force: true });
  }
}

// Small on purpose: a 4 MiB read (a large-object string) and 5,000-row batches (promoted to the old
// generation) left V8 ~120 MB of garbage on a 300 MB capture (main's peak 684 → 502 MB with these).
const SPILL_READ_BYTES = 64 * 1024;
export const SPILL_BATCH_ROWS = 1000;

/**
 * Inserts a spill file's exchange rows (one JSON ExchangeRow per line, written by an analysis thread)
 * in batches of SPILL_BATCH_ROWS, reading SPILL_READ_BYTES at a time: memory stays bounded by one
 * batch whatever the capture's size. JSON keeps every field of a row exactly (strings, safe integers,
 * null, arrays).
 */
export async function insertSpill(store: Pick<Store, 'writeExchanges'>, path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(SPILL_READ_BYTES);
    // StringDecoder keeps a multi-byte character split between two reads whole.
    const utf8 = new StringDecoder('utf8');
    let carry = '';
    let batch: ExchangeRow[] = [];
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      const text = carry + (n > 0 ? utf8.write(buf.subarray(0, n)) : utf8.end());
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (nl > start) batch.push(JSON.parse(text.slice(start, nl)) as ExchangeRow);
        start = nl + 1;
        if (batch.length >= SPILL_BATCH_ROWS) {
          await store.writeExchanges(batch);
          batch = [];
        }
      }
      carry = text.slice(start);
      if (n <= 0) break;
    }
    if (carry.length > 0) batch.push(JSON.parse(carry) as ExchangeRow);
    if (batch.length > 0) await store.writeExchanges(batch);
  } finally {
    closeSync(fd);
  }
}
