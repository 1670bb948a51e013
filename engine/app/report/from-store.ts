// report/v1 rebuilt from a store (`apitap report --store DIR`): the inventory and active findings as
// stored, the capture objects of every stored run summed, and the traffic series aggregated in SQL.
import type { Store } from '../../adapters/store/types.js';
import { REPORT_SCHEMA, type CaptureReport, type Report } from '../pipelines/report.js';
import { TrafficAccumulator, widthFor } from './traffic.js';

/** Sum of the stored runs' capture objects (counts and anomalies add up; seconds too: runs may be days apart). */
export function mergeCaptures(stats: readonly string[]): CaptureReport {
  const out: CaptureReport = {
    files: 0,
    packets: 0,
    bytes: 0,
    flows: 0,
    requests: 0,
    responses: 0,
    exchanges: 0,
    anomalies: {},
    notAnalysed: {},
    seconds: 0,
  };
  for (const s of stats) {
    let c: Partial<CaptureReport>;
    try {
      c = JSON.parse(s) as Partial<CaptureReport>;
    } catch {
      continue; // a row another version wrote badly: skipped, the rest still counts
    }
    for (const k of ['files', 'packets', 'bytes', 'flows', 'requests', 'responses', 'exchanges'] as const) {
      const v = c[k];
      if (typeof v === 'number' && Number.isFinite(v)) out[k] += v;
    }
    if (typeof c.seconds === 'number' && Number.isFinite(c.seconds)) out.seconds += c.seconds;
    if (c.anomalies !== undefined && c.anomalies !== null && typeof c.anomalies === 'object')
      for (const [k, v] of Object.entries(c.anomalies))
        if (typeof v === 'number') out.anomalies[k] = (out.anomalies[k] ?? 0) + v;
    if (c.notAnalysed !== undefined && c.notAnalysed !== null && typeof c.notAnalysed === 'object')
      for (const [k, v] of Object.entries(c.notAnalysed))
        if (typeof v === 'number') out.notAnalysed[k] = (out.notAnalysed[k] ?? 0) + v;
  }
  out.seconds = Math.round(out.seconds * 1000) / 1000;
  return out;
}

export async function reportFromStore(store: Store): Promise<Report> {
  const [endpoints, findings, runs] = await Promise.all([store.endpoints(), store.findings(), store.captureStats()]);
  const report: Report = {
    schema: REPORT_SCHEMA,
    capture: mergeCaptures(runs.map((r) => r.stats)),
    endpoints,
    findings,
  };
  const span = await store.query(
    'SELECT toString(min(toUnixTimestamp64Micro(request_time))) AS lo, toString(max(toUnixTimestamp64Micro(request_time))) AS hi, count() AS n FROM exchanges FINAL WHERE request_time IS NOT NULL',
  );
  const row = span[0];
  if (row !== undefined && Number(row['n']) > 0) {
    const width = widthFor(Number(row['hi']) - Number(row['lo']));
    const rows = await store.query(
      `SELECT toString(intDiv(toUnixTimestamp64Micro(request_time), {w:UInt64}) * {w:UInt64}) AS us, count() AS n,
         countIf(status >= 400 AND status < 500) AS e4, countIf(status >= 500 AND status < 600) AS e5,
         countIf(status IS NULL) AS none
       FROM exchanges FINAL WHERE request_time IS NOT NULL GROUP BY us ORDER BY us`,
      { w: width * 1_000_000 },
    );
    const acc = new TrafficAccumulator();
    for (const r of rows)
      acc.addCounts(Number(r['us']), Number(r['n']), Number(r['e4']), Number(r['e5']), Number(r['none']));
    report.traffic = acc.series();
  }
  return report;
}
