// report/v1: what `apitap replay --format json` prints.
//
// Deterministic: built only from counters and packet time (no wall clock, no paths beyond what the
// user passed). `capture.seconds` is the capture's duration in packet time.
import type { EndpointRecord, Finding } from '../contracts/inventory.js';
import type { Counters } from '../telemetry/counters.js';
import type { TrafficSeries } from '../report/traffic.js';
import { DECODE_ANOMALIES } from '../../collectors/decode/decoder.js';
import { FLOW_ANOMALIES } from '../../collectors/flow/table.js';
import { HTTP_ANOMALIES } from '../../collectors/http/anomalies.js';
import { TCP_ANOMALIES } from '../../collectors/reassembly/stream.js';

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
  /** Every anomaly and drop by stable name. */
  anomalies: Record<string, number>;
  seconds: number;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  capture: CaptureReport;
  endpoints?: EndpointRecord[];
  findings?: Finding[];
  /** Exchanges per packet-time bucket (engine/report/traffic.ts); absent when no exchange was seen. */
  traffic?: TrafficSeries;
}

/**
 * Which counters are anomalies or drops (reported by name in `capture.anomalies`): every name of the
 * layers' registries, plus the byte totals that go with them and every capture_* / bus drop counter.
 * Plain statistics (packets, flows, retries that lost nothing) stay out.
 */
const ANOMALY_NAMES = new Set<string>([
  ...Object.keys(DECODE_ANOMALIES),
  ...Object.keys(FLOW_ANOMALIES),
  ...Object.keys(TCP_ANOMALIES),
  ...Object.keys(HTTP_ANOMALIES),
  'tcp_gap_bytes',
  'http_resync_skipped_bytes',
  'packets_truncated',
]);
const isAnomaly = (name: string): boolean =>
  ANOMALY_NAMES.has(name) ||
  name.startsWith('capture_') ||
  name.startsWith('bus_dropped_') ||
  name.startsWith('bus_dlq');

export function captureReport(counters: Counters, files: number, firstUs: number, lastUs: number): CaptureReport {
  const all = counters.snapshot();
  const anomalies: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) if (isAnomaly(k)) anomalies[k] = v;
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
