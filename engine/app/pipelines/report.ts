// report/v1: what `apitap replay --format json` prints.
//
// Deterministic: built only from counters and packet time (no wall clock, no paths beyond what the
// user passed). `capture.seconds` is the capture's duration in packet time.
import type { ActorRecord, EndpointRecord, Finding } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import type { TlsEndpoint } from '../../contracts/tls.js';
import type { TrafficSeries } from '../report/traffic.js';
import { isReported } from '../../contracts/catalogue.js';
import { NOT_ANALYSED, NOT_ANALYSED_WITHOUT_PAYLOAD } from '../../contracts/catalogue.js';

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
  /**
   * Packets not analysed, by reason (collectors/decode/reasons.ts), zeros left out:
   * packets == (TCP segments tracked by a flow) + the sum of these.
   */
  notAnalysed: Record<string, number>;
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
  /** Encrypted hosts from TLS handshakes, per (server ip, port, sni). */
  tls?: TlsEndpoint[];
  /**
   * The most active actors (analysis.actors.reportTop; by requests desc, then id), present when the
   * behaviour detection ran. Principals are masked; see ActorRecord.
   */
  actors?: ActorRecord[];
  /** Exchanges per packet-time bucket (engine/app/report/traffic.ts); absent when no exchange was seen. */
  traffic?: TrafficSeries;
}

export function captureReport(counters: Counters, files: number, firstUs: number, lastUs: number): CaptureReport {
  const all = counters.snapshot();
  const anomalies: Record<string, number> = {};
  const notAnalysed: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) {
    if (isReported(k)) anomalies[k] = v;
    if (NOT_ANALYSED.has(k)) notAnalysed[k] = v;
  }
  return {
    files,
    packets: counters.get('packets'),
    bytes: counters.get('bytes'),
    flows: counters.get('flows'),
    // HTTP/1.x and HTTP/2 streams (collectors/h2) together.
    requests: counters.get('http_requests') + counters.get('h2_requests'),
    responses: counters.get('http_responses') + counters.get('h2_responses'),
    exchanges: counters.get('http_exchanges_paired') + counters.get('h2_exchanges_paired'),
    anomalies,
    notAnalysed,
    seconds: firstUs >= 0 && lastUs >= firstUs ? Math.round((lastUs - firstUs) / 1000) / 1000 : 0,
  };
}

/**
 * One line naming the three largest not-analysed reasons when more than 1 % of the packets were not
 * analysed (so a capture that yields nothing says why), else null. Segments without payload (trailing
 * ACKs of closed connections) hide nothing and do not count here.
 */
export function notAnalysedSummary(c: CaptureReport): string | null {
  const entries = Object.entries(c.notAnalysed ?? {}).filter(([k]) => !NOT_ANALYSED_WITHOUT_PAYLOAD.has(k));
  const total = entries.reduce((a, [, n]) => a + n, 0);
  if (c.packets === 0 || total * 100 <= c.packets) return null;
  const top = entries
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([k, n]) => `${k} ${n}`);
  const pct = Math.round((total * 1000) / c.packets) / 10;
  return `not analysed: ${total} of ${c.packets} packets (${pct} %): ${top.join(', ')}`;
}
