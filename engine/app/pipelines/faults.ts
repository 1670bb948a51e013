// Crash points for the exactly-once tests: named places in the continuous pipelines where a real
// process can be killed with SIGKILL on purpose, so a crash between two given writes is a test input
// rather than a lucky timing.
//
//   APITAP_FAULTS="analyze.exchanges_written:3"     SIGKILL on the 3rd pass through that point
//   APITAP_FAULTS="analyze.batch_handled:5,watch.snapshot_endpoints:1"   several points, first hit wins
//
// Unset (the normal case), faultPoint() is one boolean test. The variable is read once, at the first
// call. An unknown point name is a configuration error (thrown at that first call), so a test cannot
// silently inject nothing. SIGKILL of the process itself is the crash being simulated: no handler,
// no flush, no exit code of our choosing.

/** Every point, in the order a batch passes them (analyze) or a snapshot (watch). */
export const FAULT_POINTS = {
  /** A batch was fetched; nothing of it observed or written yet. */
  'analyze.batch_received': 'a batch arrived, before anything of it was observed or written',
  /** Exchange rows of the batch written; findings and endpoints (with the watermark) not yet. */
  'analyze.exchanges_written': 'between the exchange rows and the findings of a batch',
  /** Findings written (and stale ones resolved); endpoints not yet. */
  'analyze.findings_written': 'between the findings and the endpoints (with watermark) of a batch',
  /** Endpoints with the new watermark written; path map and offset commit not yet. */
  'analyze.endpoints_written': 'between the endpoint rows (with watermark) and the path map of a batch',
  /** Everything of the batch written; the bus has not committed its offset yet. */
  'analyze.batch_handled': 'between the store writes of a batch and its offset commit',
  /** State rebuilt from the store after a start or a partition assignment. */
  'analyze.rebuilt': 'right after the state was restored from the store',
  /** watch: exchange rows of a snapshot written, endpoints not yet. */
  'watch.snapshot_exchanges': 'between the exchange rows and the endpoints of a watch snapshot',
  /** watch: endpoints of a snapshot written, path map not yet. */
  'watch.snapshot_endpoints': 'between the endpoint rows and the path map of a watch snapshot',
} as const;
export type FaultPoint = keyof typeof FAULT_POINTS;

export const FAULTS_ENV = 'APITAP_FAULTS';

let armed: Map<string, number> | null = null;
const passes = new Map<string, number>();

/** Parses "point:K[,point:K]" (K ≥ 1). Throws on an unknown point or a bad count. */
export function parseFaults(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const m = /^([a-z_.]+):(\d+)$/.exec(item);
    if (m === null || !Object.hasOwn(FAULT_POINTS, m[1] ?? ''))
      throw new Error(
        `${FAULTS_ENV}: "${item}" is not point:count with a known point (${Object.keys(FAULT_POINTS).join(', ')})`,
      );
    const k = Number(m[2]);
    if (!(k >= 1)) throw new Error(`${FAULTS_ENV}: count of ${m[1]} must be at least 1`);
    out.set(m[1] as string, k);
  }
  return out;
}

/** Kills this process with SIGKILL on the K-th pass through `point`, when APITAP_FAULTS names it. */
export function faultPoint(point: FaultPoint): void {
  if (armed === null) {
    const spec = process.env[FAULTS_ENV];
    armed = spec === undefined || spec === '' ? new Map() : parseFaults(spec);
  }
  if (armed.size === 0) return;
  const k = armed.get(point);
  if (k === undefined) return;
  const n = (passes.get(point) ?? 0) + 1;
  passes.set(point, n);
  if (n >= k) {
    process.stderr.write(`apitap: fault injection: SIGKILL at ${point} (pass ${n})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
