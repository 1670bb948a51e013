// The report's traffic series: exchanges per time bucket in packet time.
//
// Deterministic and order-independent: the bucket width is the smallest rung of WIDTHS_S whose
// buckets cover the observed span (first to last exchange) in at most MAX_BUCKETS buckets, and a
// bucket's counts are sums, so any arrival order (or number of workers) yields the same series.
// Bounded: while exchanges arrive, the accumulator keeps at most MAX_BUCKETS occupied buckets of the
// current width and widens (merges) when the span outgrows it; the top rung (one day) with
// MAX_BUCKETS buckets covers about two years, beyond which the earliest buckets are folded into the
// first bucket (counted in `folded`).
import { isoFromUs } from '../../contracts/inventory.js';

/** Bucket widths in seconds, narrowest first: one minute is the rung for captures of 1 to 12 hours. */
export const WIDTHS_S = [1, 10, 60, 300, 900, 3600, 21600, 86400] as const;
export const MAX_BUCKETS = 720;

export interface TrafficBucket {
  /** Bucket start, ISO-8601 (UTC), aligned to the width since the Unix epoch. */
  start: string;
  exchanges: number;
  /** Responses with status 400..499. */
  clientErrors: number;
  /** Responses with status 500..599. */
  serverErrors: number;
  /** Requests without a response. */
  unanswered: number;
}

export interface TrafficSeries {
  bucketSeconds: number;
  /** Occupied buckets only, ascending by start. */
  buckets: TrafficBucket[];
  /** Exchanges older than the first bucket when the span exceeded the top rung (folded into it). */
  folded: number;
}

interface Acc {
  n: number;
  e4: number;
  e5: number;
  none: number;
}

export function widthFor(spanUs: number): number {
  for (const w of WIDTHS_S) if (spanUs < w * 1e6 * MAX_BUCKETS) return w;
  return WIDTHS_S[WIDTHS_S.length - 1] as number;
}

export class TrafficAccumulator {
  private width: number = WIDTHS_S[0];
  private readonly buckets = new Map<number, Acc>();
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = Number.NEGATIVE_INFINITY;

  /** One exchange: its packet time (request start, else response start; negative = unknown) and status (null = unanswered). */
  add(us: number, status: number | null): void {
    if (status === null) this.addCounts(us, 1, 0, 0, 1);
    else if (status >= 500 && status <= 599) this.addCounts(us, 1, 0, 1, 0);
    else if (status >= 400 && status <= 499) this.addCounts(us, 1, 1, 0, 0);
    else this.addCounts(us, 1, 0, 0, 0);
  }

  /** Pre-aggregated counts at time `us` (a store query grouped by a bucket no wider than the final one). */
  addCounts(us: number, exchanges: number, clientErrors: number, serverErrors: number, unanswered: number): void {
    if (!(us >= 0)) return;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
    const w = widthFor(this.maxUs - this.minUs);
    if (w !== this.width) this.rebucket(w);
    const key = Math.floor(us / (this.width * 1e6));
    let a = this.buckets.get(key);
    if (a === undefined) {
      a = { n: 0, e4: 0, e5: 0, none: 0 };
      this.buckets.set(key, a);
    }
    a.n += exchanges;
    a.e4 += clientErrors;
    a.e5 += serverErrors;
    a.none += unanswered;
  }

  private rebucket(width: number): void {
    const old = [...this.buckets];
    const ratio = width / this.width;
    this.buckets.clear();
    this.width = width;
    for (const [k, a] of old) {
      const nk = Math.floor(k / ratio);
      const b = this.buckets.get(nk);
      if (b === undefined) this.buckets.set(nk, a);
      else {
        b.n += a.n;
        b.e4 += a.e4;
        b.e5 += a.e5;
        b.none += a.none;
      }
    }
  }

  /** The series so far (does not change the accumulator). */
  series(): TrafficSeries {
    const rows = [...this.buckets].sort((a, b) => a[0] - b[0]).map(([k, a]) => ({ k, a: { ...a } }));
    let folded = 0;
    // Beyond the top rung: fold the earliest buckets into the next one (bounded output).
    while (
      rows.length > 1 &&
      (rows[rows.length - 1] as { k: number }).k - (rows[0] as { k: number }).k >= MAX_BUCKETS
    ) {
      const first = rows.shift() as { k: number; a: Acc };
      const next = (rows[0] as { k: number; a: Acc }).a;
      folded += first.a.n;
      next.n += first.a.n;
      next.e4 += first.a.e4;
      next.e5 += first.a.e5;
      next.none += first.a.none;
    }
    return {
      bucketSeconds: this.width,
      buckets: rows.map(({ k, a }) => ({
        start: isoFromUs(k * this.width * 1e6),
        exchanges: a.n,
        clientErrors: a.e4,
        serverErrors: a.e5,
        unanswered: a.none,
      })),
      folded,
    };
  }
}
