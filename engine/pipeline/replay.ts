// `apitap replay`: capture files → collector → (exchanges JSONL) → analyzers → store → report.
//
// Single-process mode. Exchanges go from the collector to the analyzers through the in-process
// bounded queue (engine/bus/memory.ts semantics: one producer, one consumer, same order), so the
// analyzers see exactly what a Kafka consumer would see in the distributed mode. Everything below
// the CLI is deterministic: packet time only, sorted outputs.
import { closeSync, openSync, writeSync } from 'node:fs';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS, type CollectorOptions } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import type { Exchange } from '../contracts/exchange.js';
import { Counters } from '../telemetry/counters.js';
import { captureReport, REPORT_SCHEMA, type Report } from './report.js';
import { expandInputs } from './inputs.js';
import type { AnalysisSession } from './analyze.js';

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

export class ReplayError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const JSONL_FLUSH_BYTES = 1 << 20;

export async function replay(opts: ReplayOptions): Promise<{ report: Report; counters: Counters }> {
  const files = expandInputs(opts.inputs);
  const counters = new Counters();
  const copts: CollectorOptions = { ...DEFAULT_COLLECTOR_OPTIONS, ...opts.collector };

  let fd = -1;
  let pending = '';
  if (opts.exchangesPath !== undefined) fd = openSync(opts.exchangesPath, 'w');
  const analysis = opts.analysis;

  const emit = (ex: Exchange): void => {
    counters.inc('exchanges_emitted');
    if (fd >= 0) {
      pending += JSON.stringify(ex) + '\n';
      if (pending.length >= JSONL_FLUSH_BYTES) {
        writeSync(fd, pending);
        pending = '';
      }
    }
    if (analysis !== null) analysis.observe(ex);
  };

  const collector = createCollector(copts, emit, counters);
  try {
    for (const file of files) {
      const res = await readCapture(file, collector, {
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        ...(opts.onProgress !== undefined ? { onProgress: (d: number, t: number) => opts.onProgress?.(d, t, file) } : {}),
      });
      for (const p of res.problems) {
        counters.inc(p.code);
        if (p.fatal && p.code !== 'capture_truncated') throw new ReplayError(p.code, p.message);
      }
      if (analysis !== null) await analysis.drain();
    }
    collector.finish();
  } finally {
    if (fd >= 0) {
      if (pending.length > 0) writeSync(fd, pending);
      closeSync(fd);
    }
  }

  const report: Report = {
    schema: REPORT_SCHEMA,
    capture: captureReport(counters, files.length, collector.firstUs, collector.lastUs),
  };
  if (analysis !== null) {
    const out = await analysis.finish(report.capture, files);
    report.endpoints = out.endpoints;
    report.findings = out.findings;
  }
  return { report, counters };
}
