// Shared by the golden test and its update script: run the collectors over one corpus capture and
// summarise what they extracted.
import { createHash } from 'node:crypto';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { captureReport } from '../../engine/app/pipelines/report.js';

export interface CaptureSummary {
  requests: number;
  responses: number;
  exchanges: number;
  flows: number;
  anomalies: Record<string, number>;
  /** One line per exchange: "METHOD target -> status" (or "-" for a missing side), in emission order. */
  exchangeLines: string[];
  /** sha256 of the exchange/v1 JSONL: pins every field byte for byte. */
  jsonlSha256: string;
}

export async function summarise(path: string): Promise<CaptureSummary> {
  const counters = new Counters();
  const exchanges: Exchange[] = [];
  const collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, (ex) => exchanges.push(ex), counters);
  const res = await readCapture(path, collector);
  for (const p of res.problems) counters.inc(p.code);
  collector.finish();
  const rep = captureReport(counters, 1, collector.firstUs, collector.lastUs);
  const jsonl = exchanges.map((e) => JSON.stringify(e) + '\n').join('');
  return {
    requests: rep.requests,
    responses: rep.responses,
    exchanges: rep.exchanges,
    flows: rep.flows,
    anomalies: rep.anomalies,
    exchangeLines: exchanges.map((e) => {
      const rq =
        e.request !== null
          ? `${e.request.method} ${e.request.target.length > 120 ? e.request.target.slice(0, 117) + '...' : e.request.target}`
          : '-';
      const rs = e.response !== null ? String(e.response.status) : '-';
      return `${rq} -> ${rs}`;
    }),
    jsonlSha256: createHash('sha256').update(jsonl).digest('hex'),
  };
}
