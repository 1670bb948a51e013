// `apitap replay`: capture files → collector → (exchanges JSONL) → analyzers → store → report.
//
// Single-process mode. Exchanges go from the collector to the analyzers through the in-process
// bounded queue (engine/adapters/bus/memory.ts semantics: one producer, one consumer, same order), so the
// analyzers see exactly what a Kafka consumer would see in the distributed mode. Everything below
// the CLI is deterministic: packet time only, sorted outputs.
import { closeSync, openSync, writeSync } from 'node:fs';
import { DEFAULT_COLLECTOR_OPTIONS, type CollectorOptions } from '../../../collectors/collector.js';
import { createMemoryBus } from '../../adapters/bus/memory.js';
import type { Exchange } from '../../contracts/exchange.js';
import { Counters } from '../../contracts/counters.js';
import type { CounterName } from '../../contracts/catalogue.js';
import { captureReport, REPORT_SCHEMA, type Report } from './report.js';
import { expandInputs } from './inputs.js';
import type { AnalysisSession } from './analyze.js';
import { collectFiles } from './collect.js';
import { TrafficAccumulator } from '../report/traffic.js';

export interface ReplayOptions {
  inputs: string[];
  collector?: Partial<CollectorOptions>;
  /** Write one exchange per line here. */
  exchangesPath?: string;
  /** Analyzers + store; null = collectors only. */
  analysis: AnalysisSession | null;
  onProgress?: (done: number, total: number, file: string) => void;
  signal?: AbortSignal;
}

export { ReplayError } from './errors.js';

const JSONL_FLUSH_BYTES = 1 << 20;

export async function replay(opts: ReplayOptions): Promise<{ report: Report; counters: Counters }> {
  const files = expandInputs(opts.inputs);
  const counters = new Counters();
  const copts: CollectorOptions = { ...DEFAULT_COLLECTOR_OPTIONS, ...opts.collector };

  let fd = -1;
  let pending = '';
  if (opts.exchangesPath !== undefined) fd = openSync(opts.exchangesPath, 'w');
  const analysis = opts.analysis;

  // The in-process bus: the collector publishes, the analysis side consumes in the same order.
  const bus = createMemoryBus({}, counters);
  const traffic = new TrafficAccumulator();
  // A failing analysis (store write) ends the replay with that error instead of retrying forever.
  let handlerError: Error | null = null;
  await bus.consumer.run(async (batch) => {
    if (handlerError !== null) return;
    try {
      await handleBatch(batch);
    } catch (e) {
      handlerError = e as Error;
    }
  });
  async function handleBatch(batch: Exchange[]): Promise<void> {
    for (const ex of batch) {
      traffic.add(ex.request?.startUs ?? ex.response?.startUs ?? -1, ex.response?.status ?? null);
      if (fd >= 0) {
        pending += JSON.stringify(ex) + '\n';
        if (pending.length >= JSONL_FLUSH_BYTES) {
          writeSync(fd, pending);
          pending = '';
        }
      }
      if (analysis !== null) analysis.observe(ex);
    }
    if (analysis !== null) await analysis.drain();
  }

  let collector;
  try {
    collector = await collectFiles(
      files,
      bus.publisher,
      counters,
      copts,
      {
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
      },
      // TLS handshake records go straight to the analysis (they are few: one per TLS connection).
      analysis !== null ? (rec) => analysis.observeTls(rec) : undefined,
    );
    await bus.publisher.flush();
    if (handlerError !== null) throw handlerError;
  } finally {
    await bus.publisher.close();
    await bus.consumer.stop();
    if (fd >= 0) {
      if (pending.length > 0) writeSync(fd, pending);
      closeSync(fd);
    }
  }

  // The analyzers' drops (path-tree bounds) are reported with the collectors' (catalogue kind `drop`).
  if (analysis !== null) {
    for (const [k, v] of Object.entries(analysis.analysis.stats())) counters.inc(k as CounterName, v);
  }
  const report: Report = {
    schema: REPORT_SCHEMA,
    capture: captureReport(counters, files.length, collector.firstUs, collector.lastUs),
  };
  if (analysis !== null) {
    const out = await analysis.finish(report.capture, files);
    report.endpoints = out.endpoints;
    report.findings = out.findings;
    report.tls = out.tls;
    if (out.actors !== null) report.actors = out.actors;
  }
  const series = traffic.series();
  if (series.buckets.length > 0) report.traffic = series;
  return { report, counters };
}
