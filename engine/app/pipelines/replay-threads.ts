// `apitap replay --workers N`: the replay on every core. A collector thread reads the captures and
// shards exchanges by API host over the thread bus to N analysis threads; main writes the store (chDB
// lives in one thread) and merges the shards' results.
//
// Determinism: every exchange of one host reaches one analysis thread in capture order, and all
// analysis state is per host, so each shard's inventory and findings are exactly the single-thread
// ones for its hosts; the only cross-host finding (orphan_api: no host served the operation) is merged
// by analyzers/risks (mergeShardFindings). Outputs are sorted as in the single-thread path, so the
// report, the JSONL and the store rows are byte-identical for any N (test/integration/workers.test.ts).
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { CollectorOptions } from '../../../collectors/collector.js';
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import type { Overrides } from '../../../analyzers/endpoints/index.js';
import { mergeShardFindings, sortFindings } from '../../../analyzers/risks/findings.js';
import { createTlsInventory } from '../../../analyzers/tls/inventory.js';
import type { CounterName } from '../../contracts/catalogue.js';
import { Counters } from '../../contracts/counters.js';
import type { EndpointRecord } from '../../contracts/inventory.js';
import type { Store } from '../../adapters/store/types.js';
import type { AnalysisMsg, AnalysisWorkerData, CollectorMsg, CollectorWorkerData } from '../workers/protocol.js';
import { applyDrift, writeResults } from './analyze.js';
import { DEFAULT_QUIET_US } from '../../../analyzers/drift/index.js';
import { ReplayError } from './errors.js';
import { expandInputs } from './inputs.js';
import { captureReport, REPORT_SCHEMA, type Report } from './report.js';
import { ActorSettings } from '../config/index.js';
import { foldBehaviourDrops, reportActors, runBehaviour } from './behaviour.js';

export interface ThreadedAnalysisConfig {
  specs: LoadedSpec[];
  previousSpecs: LoadedSpec[];
  overrides: Overrides | null;
  secret: Buffer;
  store: Store | null;
  /** certificate_expiring threshold (analyzers/tls). */
  certificateExpiringDays?: number;
  /** Drift against the store's earlier windows (analyze.ts applyDrift); off without a store. */
  drift?: { quietUs: number } | false;
  /** Actors and behaviour thresholds (defaults when absent). */
  actors?: ActorSettings;
}

export interface ThreadedReplayOptions {
  inputs: string[];
  collector: CollectorOptions;
  exchangesPath?: string;
  /** null = collectors only. */
  analysis: ThreadedAnalysisConfig | null;
  /** Analysis threads (shards), ≥ 1. */
  workers: number;
  onProgress?: (done: number, total: number, file: string) => void;
}

/** A worker from the compiled module beside this one (.js), or from its source through tsx (.ts). */
function spawn(name: string, options: { workerData: unknown; transferList: MessagePort[] }): Worker {
  const source = import.meta.url.endsWith('.ts');
  const url = new URL(`../workers/${name}${source ? '.ts' : '.js'}`, import.meta.url);
  if (!source) return new Worker(url, options);
  // From source (development, tsx): the worker registers tsx itself before it loads the module.
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const endpointKey = (e: EndpointRecord): string => `${e.host}\u0000${e.path}\u0000${e.method}`;

/** Resolves with the worker's final message; rejects on an error message, a crash or an early exit. */
function finalMessage<M extends { t: string }>(w: Worker, onOther: (m: M) => void): Promise<M> {
  return new Promise((resolve, reject) => {
    let settled = false;
    w.on('message', (m: M) => {
      if (m.t === 'done' || m.t === 'error') {
        settled = true;
        resolve(m);
      } else onOther(m);
    });
    w.on('error', (e) => {
      settled = true;
      reject(e);
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
  try {
    const analyses = channels.map((ch) => {
      const a = opts.analysis as ThreadedAnalysisConfig;
      const data: AnalysisWorkerData = {
        port: ch.port2,
        specs: a.specs,
        previousSpecs: a.previousSpecs,
        overrides: a.overrides,
        secret: new Uint8Array(a.secret),
        certificateExpiringDays: a.certificateExpiringDays ?? 30,
        actors: a.actors ?? ActorSettings.parse({}),
        rows: a.store !== null,
      };
      const w = spawn('analysis-worker', { workerData: data, transferList: [ch.port2] });
      workers.push(w);
      return finalMessage<AnalysisMsg>(w, (m) => {
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
    const cw = spawn('collector-worker', { workerData: cdata, transferList: cdata.ports });
    workers.push(cw);
    // An analysis thread that fails ends the replay at once (the collector would wait for its acks).
    const analysed = Promise.all(analyses);
    analysed.catch(() => undefined);
    const failed = analysed.then(() => new Promise<never>(() => undefined));
    const collected = await Promise.race([
      finalMessage<CollectorMsg>(cw, (m) => {
        if (m.t === 'progress') opts.onProgress?.(m.done, m.total, m.file);
        else if (m.t === 'tls') for (const r of m.recs) tlsInventory?.observe(r);
      }),
      failed,
    ]);
    if (collected.t === 'error') {
      throw collected.code?.startsWith('capture_') === true
        ? new ReplayError(collected.code, collected.message)
        : new Error(collected.message);
    }
    if (collected.t !== 'done') throw new Error('collector thread: unexpected message');
    for (const [k, v] of Object.entries(collected.counters)) counters.inc(k as CounterName, v);

    const results = await analysed;
    await writes;
    const done = results.map((r) => {
      if (r.t !== 'done') throw new Error(r.t === 'error' ? r.message : 'analysis thread: unexpected message');
      return r;
    });
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
      const store = opts.analysis.store;
      const withDrift =
        store !== null && opts.analysis.drift !== false
          ? await applyDrift(store, endpoints, findings, opts.analysis.drift?.quietUs ?? DEFAULT_QUIET_US)
          : findings;
      const spans = done.filter((r) => r.firstUs >= 0);
      const firstUs = spans.length > 0 ? Math.min(...spans.map((r) => r.firstUs)) : -1;
      const lastUs = spans.length > 0 ? Math.max(...spans.map((r) => r.lastUs)) : -1;
      for (const [k, v] of Object.entries(own.snapshot())) counters.inc(k as CounterName, v);
      if (opts.analysis.store !== null) {
        await opts.analysis.store.writeActors(behaviour.actors);
        await writeResults(opts.analysis.store, {
          endpoints,
          findings: withDrift,
          pathMap: done.flatMap((r) => r.pathMap),
          capture: report.capture,
          files,
          firstUs,
          lastUs,
        });
        await opts.analysis.store.writeTls(tls);
      }
      report.endpoints = endpoints;
      report.findings = withDrift;
      report.tls = tls;
      report.actors = actors;
    }
    if (collected.traffic.buckets.length > 0) report.traffic = collected.traffic;
    return { report, counters };
  } finally {
    await writes.catch(() => undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
