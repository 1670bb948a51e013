// The inventory of a continuous pipeline (analyzer group, watch) against the inventory a single
// `apitap replay` of the same traffic gives: per endpoint hits, status classes, PII kinds per field,
// auth schemes, category and documentation state; per finding its kind, severity, endpoint and every
// count its details carry (auth posture counts, header counts, credential exchanges, PII kinds and
// fields with their distinct-value counts). Values that are samples or estimates of a window
// (latency percentiles, masked example values, confidence of a label) are not compared: they are
// allowed to differ between one pass and a restored state (analyzers/endpoints/restore.ts).
// Behaviour findings (with an `actor`) are left out: the group computes them in its periodic job over
// the stored rows, not per batch; test/integration/distributed.test.ts and watch.test.ts compare them.
import type { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';

export interface InventoryDiff {
  /** Human-readable lines, one per difference (empty: equal). */
  lines: string[];
  /** Sum of hits on each side. */
  hits: { want: number; got: number };
  endpoints: { want: number; got: number };
  findings: { want: number; got: number };
}

const epKey = (e: EndpointRecord): string => `${e.host} ${e.method} ${e.path}`;
const fKey = (f: Finding): string => `${f.kind} ${f.host} ${f.method} ${f.path}`;

function endpointView(e: EndpointRecord): Record<string, unknown> {
  return {
    hits: e.hits,
    statusClasses: Object.fromEntries(Object.entries(e.statusClasses).sort(([a], [b]) => (a < b ? -1 : 1))),
    pii: e.pii.map((p) => `${p.location} ${p.field} ${p.kind}`).sort(),
    auth: [...e.auth].sort(),
    category: e.category,
    documented: e.documented,
    deprecated: e.deprecated,
  };
}

/** Counts and kinds of a finding's details (recursively: numbers, booleans, kinds, fields). */
function countsOf(v: unknown, path: string, out: Record<string, unknown>, distinct: Map<string, number>): void {
  if (typeof v === 'number' || typeof v === 'boolean') out[path] = v;
  else if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) out[path] = [...(v as string[])].sort();
    else v.forEach((x, i) => countsOf(x, `${path}[${i}]`, out, distinct));
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // PII fields: keyed by (kind, field) rather than position; confidence, masked sample and hash
    // belong to the sample, distinct is a count.
    if (typeof o['kind'] === 'string' && typeof o['field'] === 'string') {
      distinct.set(`${path.replace(/\[\d+\]$/, '')}{${o['kind']} ${o['field']}}`, Number(o['distinct']));
      out[`${path.replace(/\[\d+\]$/, '')}{${o['kind']} ${o['field']}}`] = 'present';
      return;
    }
    for (const [k, x] of Object.entries(o)) {
      if (k === 'confidence' || k === 'masked' || k === 'hash' || k === 'example') continue;
      countsOf(x, path === '' ? k : `${path}.${k}`, out, distinct);
    }
  } else if (typeof v === 'string' && /^(reason|credential|location|sunset)$/.test(path.split('.').pop() ?? '')) {
    out[path] = v;
  }
}

function findingView(f: Finding, distinct: Map<string, number>): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  countsOf(f.details, '', details, distinct);
  return { severity: f.severity, details };
}

function diffObjects(prefix: string, want: Record<string, unknown>, got: Record<string, unknown>, out: string[]): void {
  const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])].sort();
  for (const k of keys) {
    const a = JSON.stringify(want[k]);
    const b = JSON.stringify(got[k]);
    if (a !== b) out.push(`${prefix} ${k}: replay ${a ?? 'absent'}, got ${b ?? 'absent'}`);
  }
}

/** Differences between `got` (the continuous pipeline) and `want` (one replay). */
export function diffInventory(
  want: { endpoints: readonly EndpointRecord[]; findings: readonly Finding[] },
  got: { endpoints: readonly EndpointRecord[]; findings: readonly Finding[] },
  opts: { distinctExact?: boolean } = {},
): InventoryDiff {
  const lines: string[] = [];
  const we = new Map(want.endpoints.map((e) => [epKey(e), e]));
  const ge = new Map(got.endpoints.map((e) => [epKey(e), e]));
  for (const k of [...new Set([...we.keys(), ...ge.keys()])].sort()) {
    const a = we.get(k);
    const b = ge.get(k);
    if (a === undefined) lines.push(`endpoint ${k}: only in the pipeline (hits ${b?.hits})`);
    else if (b === undefined) lines.push(`endpoint ${k}: missing (replay hits ${a.hits})`);
    else diffObjects(`endpoint ${k}`, endpointView(a), endpointView(b), lines);
  }
  const perHost = (fs: readonly Finding[]): Finding[] => fs.filter((f) => f.actor === undefined);
  const wf = new Map(perHost(want.findings).map((f) => [fKey(f), f]));
  const gf = new Map(perHost(got.findings).map((f) => [fKey(f), f]));
  for (const k of [...new Set([...wf.keys(), ...gf.keys()])].sort()) {
    const a = wf.get(k);
    const b = gf.get(k);
    if (a === undefined) lines.push(`finding ${k}: only in the pipeline`);
    else if (b === undefined) lines.push(`finding ${k}: missing`);
    else {
      const da = new Map<string, number>();
      const db = new Map<string, number>();
      diffObjects(`finding ${k}`, findingView(a, da), findingView(b, db), lines);
      // Distinct values of a PII field: a bound after restores (see `distinctExact`).
      for (const [field, want] of da) {
        const got = db.get(field);
        if (got === undefined) continue;
        if (opts.distinctExact ? got !== want : got < 1 || got > want)
          lines.push(`finding ${k} ${field}.distinct: replay ${want}, got ${got}`);
      }
    }
  }
  const sum = (l: readonly EndpointRecord[]): number => l.reduce((s, e) => s + e.hits, 0);
  return {
    lines,
    hits: { want: sum(want.endpoints), got: sum(got.endpoints) },
    endpoints: { want: want.endpoints.length, got: got.endpoints.length },
    findings: { want: wf.size, got: gf.size },
  };
}
