// report/v1: what `apitap replay --format json` prints.
//
// Deterministic: built only from counters and packet time (no wall clock, no paths beyond what the
// user passed). `capture.seconds` is the capture's duration in packet time.
import type { EndpointRecord, Finding } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import { isReported } from '../../contracts/catalogue.js';

export const REPORT_SCHEMA = 'report/v1' as const;

export interface CaptureReport {
  files: number;
  packets: number;
  bytes: number;
  flows: number;
  requests: number;
  responses: number;
  /** Paired exchanges (request and response both present). */
  exchanges: number;
  /** Every anomaly and drop by stable name (the catalogue's kinds `anomaly` and `drop`). */
  anomalies: Record<string, number>;
  seconds: number;
}

/** One `--spec` / `--spec-previous` file as loaded: what the lenient loader skipped or coerced. */
export interface SpecReport {
  file: string;
  role: 'current' | 'previous';
  format: string;
  operations: number;
  /** All warnings; `warnings` holds the first ones (capped), each `<JSON pointer>: <message>`. */
  warningCount: number;
  warnings: string[];
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  capture: CaptureReport;
  /** Present when specs were given. */
  specs?: SpecReport[];
  endpoints?: EndpointRecord[];
  findings?: Finding[];
}

export function captureReport(counters: Counters, files: number, firstUs: number, lastUs: number): CaptureReport {
  const all = counters.snapshot();
  const anomalies: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) if (isReported(k)) anomalies[k] = v;
  return {
    files,
    packets: counters.get('packets'),
    bytes: counters.get('bytes'),
    flows: counters.get('flows'),
    requests: counters.get('http_requests'),
    responses: counters.get('http_responses'),
    exchanges: counters.get('http_exchanges_paired'),
    anomalies,
    seconds: firstUs >= 0 && lastUs >= firstUs ? Math.round((lastUs - firstUs) / 1000) / 1000 : 0,
  };
}
