// Drift over time: the store is the baseline.
//
// An endpoint's observable facts (the endpoint itself, its JSON field shapes, query parameter names,
// PII kinds per field, auth schemes, status classes) are kept per (host, method, path, kind, value)
// with the packet time they were first and last seen, across every window (replay or analyzer
// snapshot) written into one store. A window that brings a fact the stored facts of that host never
// had raises `api_change`; an endpoint the stored facts knew, silent in this window and for longer
// than `quietUs` before the window's end, raises `api_gone_quiet`.
//
// Rules that keep it quiet and deterministic:
// - A host without stored facts is a first window: its facts become the baseline, no change is raised.
// - Facts of a new endpoint are part of that change (one `new_endpoint`), not changes of their own.
// - A new field that carries personal data is one `new_field` change with the PII kinds (severity high);
//   PII on a field seen before is `new_pii`.
// - Only API endpoints (category api): static assets, health checks and preflights are not drift.
// - Pure: no clock (times are packet times), sorted output, ids from content.
import { createHash } from 'node:crypto';
import type { ApiFact, FactKind } from '../../engine/contracts/drift.js';
import { isoFromUs, type EndpointRecord, type Finding, type Severity } from '../../engine/contracts/inventory.js';

export type { ApiFact, FactKind } from '../../engine/contracts/drift.js';

export interface DriftOptions {
  /** Silence (packet time, µs) after which a previously active endpoint is `api_gone_quiet`. */
  quietUs: number;
  /**
   * Continuous windows (the analyzer group: each batch is a window, `endpoints` is the whole inventory
   * of the hosts the batch touched, restored endpoints included). Two rules change:
   * - a host's facts keep forming its baseline for `baselineUs` of packet time after its first stored
   *   fact (a stream's first batches are small: without a learning period every endpoint seen after the
   *   first batch would be a change);
   * - an endpoint has gone quiet when its host's own latest packet time is more than `quietUs` past
   *   the endpoint's last exchange (the inventory still holds it, so absence cannot be the test).
   */
  continuous?: { baselineUs: number };
}

/** The analyzer group's learning period per host (packet time). */
export const DEFAULT_BASELINE_US = 3_600 * 1_000_000;

export const DEFAULT_QUIET_US = 7 * 86_400 * 1_000_000;

const usOf = (iso: string): number => {
  const ms = Date.parse(iso);
  const m = /\.(\d{6})Z$/.exec(iso);
  return Math.floor(ms / 1000) * 1_000_000 + (m ? Number(m[1]) : (ms % 1000) * 1000);
};
const factKey = (f: Pick<ApiFact, 'host' | 'method' | 'path' | 'kind' | 'value'>): string =>
  `${f.host}\u0000${f.method}\u0000${f.path}\u0000${f.kind}\u0000${f.value}`;
const epKey = (host: string, method: string, path: string): string => `${host}\u0000${method}\u0000${path}`;

/** The facts of this window's endpoints (API endpoints only), sorted. */
export function factsOf(endpoints: readonly EndpointRecord[]): ApiFact[] {
  const out: ApiFact[] = [];
  for (const e of endpoints) {
    if (e.category !== 'api') continue;
    const f = (kind: FactKind, value: string): ApiFact => ({
      host: e.host,
      method: e.method,
      path: e.path,
      kind,
      value,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
    });
    out.push(f('endpoint', ''));
    for (const v of new Set(e.fields)) out.push(f('field', v));
    for (const v of new Set(e.queryParams)) out.push(f('query_param', v));
    for (const v of new Set(e.pii.map((p) => `${p.kind} ${p.location} ${p.field}`))) out.push(f('pii', v));
    for (const v of new Set(e.auth.length === 0 ? ['none'] : e.auth)) out.push(f('auth', v));
    for (const v of Object.keys(e.statusClasses)) out.push(f('status', v));
  }
  return out.sort((a, b) => (factKey(a) < factKey(b) ? -1 : factKey(a) > factKey(b) ? 1 : 0));
}

function id(kind: string, host: string, method: string, path: string, detail: string): string {
  return createHash('sha256').update(`${kind}|${host}|${method}|${path}|${detail}`).digest('hex').slice(0, 16);
}

/** "response.body $.a.b:string" → { location: "response.body", field: "$.a.b", type: "string" }. */
function splitField(v: string): { location: string; field: string; type: string } {
  const sp = v.indexOf(' ');
  const colon = v.lastIndexOf(':');
  return {
    location: sp > 0 ? v.slice(0, sp) : '',
    field: sp > 0 && colon > sp ? v.slice(sp + 1, colon) : v,
    type: colon > sp ? v.slice(colon + 1) : '',
  };
}

function changeSeverity(kind: FactKind, value: string, pii: readonly string[]): Severity {
  if (kind === 'field') return pii.length > 0 ? 'high' : 'low';
  if (kind === 'pii') return 'high';
  if (kind === 'auth') return value === 'none' ? 'high' : 'low';
  if (kind === 'status') return value === '5xx' ? 'medium' : 'info';
  if (kind === 'endpoint') return 'medium';
  return 'low';
}

export interface DriftResult {
  /** api_change and api_gone_quiet findings of this window, sorted by id. */
  findings: Finding[];
  /** Facts to write: new ones and stored ones whose first/last seen moved (merged), sorted. */
  facts: ApiFact[];
}

export function drift(
  stored: readonly ApiFact[],
  endpoints: readonly EndpointRecord[],
  opts: DriftOptions = { quietUs: DEFAULT_QUIET_US },
): DriftResult {
  const current = factsOf(endpoints);
  const before = new Map<string, ApiFact>();
  const knownHosts = new Map<string, number>();
  for (const f of stored) {
    before.set(factKey(f), f);
    const t = usOf(f.firstSeen);
    knownHosts.set(f.host, Math.min(knownHosts.get(f.host) ?? t, t));
  }
  const byEndpoint = new Map<string, EndpointRecord>();
  for (const e of endpoints) byEndpoint.set(epKey(e.host, e.method, e.path), e);
  const findings: Finding[] = [];
  const merged = new Map<string, ApiFact>(before);
  // PII kinds per (endpoint, location field) in this window, to fold into a new field's change.
  const piiOfField = new Map<string, string[]>();
  for (const f of current)
    if (f.kind === 'pii') {
      const [kind, location, ...rest] = f.value.split(' ');
      const k = `${epKey(f.host, f.method, f.path)}\u0000${location} ${rest.join(' ')}`;
      piiOfField.set(k, [...(piiOfField.get(k) ?? []), kind ?? '']);
    }
  for (const f of current) {
    const k = factKey(f);
    const old = before.get(k);
    merged.set(
      k,
      old === undefined
        ? f
        : {
            ...f,
            firstSeen: usOf(old.firstSeen) <= usOf(f.firstSeen) ? old.firstSeen : f.firstSeen,
            lastSeen: usOf(old.lastSeen) >= usOf(f.lastSeen) ? old.lastSeen : f.lastSeen,
          },
    );
    if (old !== undefined) continue;
    const since = knownHosts.get(f.host);
    if (since === undefined) continue; // first window of this host: the baseline
    // Continuous: still learning. A fact's firstSeen is its endpoint's, so "now" is its lastSeen.
    if (opts.continuous !== undefined && usOf(f.lastSeen) < since + opts.continuous.baselineUs) continue;
    const ep = epKey(f.host, f.method, f.path);
    const endpointIsNew = !before.has(factKey({ ...f, kind: 'endpoint', value: '' }));
    if (endpointIsNew && f.kind !== 'endpoint') continue;
    let pii: string[] = [];
    let change: string;
    let what: string;
    if (f.kind === 'endpoint') {
      const e = byEndpoint.get(ep);
      change = 'new_endpoint';
      what = `new endpoint${e !== undefined && !e.documented ? ' (not in any spec)' : ''}`;
    } else if (f.kind === 'field') {
      const s = splitField(f.value);
      pii = [...new Set(piiOfField.get(`${ep}\u0000${s.location} ${s.field}`) ?? [])].sort();
      change = 'new_field';
      what = `new ${s.location} field ${s.field} (${s.type})${pii.length > 0 ? ` carrying ${pii.join(', ')}` : ''}`;
    } else if (f.kind === 'pii') {
      const [kind, location, ...rest] = f.value.split(' ');
      const field = rest.join(' ');
      // Folded into the field's change when the field itself is new in this window.
      const fieldNew = current.some(
        (c) =>
          c.kind === 'field' &&
          epKey(c.host, c.method, c.path) === ep &&
          !before.has(factKey(c)) &&
          splitField(c.value).location === location &&
          splitField(c.value).field === field,
      );
      if (fieldNew) continue;
      change = 'new_pii';
      what = `${kind ?? ''} now seen in ${location ?? ''} ${field}`;
    } else if (f.kind === 'auth') {
      change = 'new_auth_scheme';
      what = f.value === 'none' ? 'now called without credentials' : `new auth scheme ${f.value}`;
    } else if (f.kind === 'status') {
      change = 'new_status_class';
      what = `new status class ${f.value}`;
    } else {
      change = 'new_query_param';
      what = `new query parameter ${f.value}`;
    }
    findings.push({
      id: id('api_change', f.host, f.method, f.path, `${f.kind}|${f.value}`),
      kind: 'api_change',
      severity: changeSeverity(f.kind, f.value, pii),
      host: f.host,
      method: f.method,
      path: f.path,
      confidence: 0.9,
      evidence: `${f.method} ${f.path}: ${what}, first seen ${f.firstSeen}; not in earlier windows of this store (since ${isoFromUs(since)})`,
      details: {
        change,
        fact: f.kind,
        value: f.value,
        ...(pii.length > 0 ? { pii } : {}),
        firstSeen: f.firstSeen,
        baselineSince: isoFromUs(since),
      },
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
    });
  }
  const quiet = (
    host: string,
    method: string,
    path: string,
    firstSeen: string,
    lastSeen: string,
    windowEnd: number,
  ): void => {
    const silentUs = windowEnd - usOf(lastSeen);
    if (silentUs <= opts.quietUs) return;
    const days = Math.round((silentUs / 86_400e6) * 10) / 10;
    findings.push({
      id: id('api_gone_quiet', host, method, path, lastSeen),
      kind: 'api_gone_quiet',
      severity: 'low',
      host,
      method,
      path,
      confidence: 0.7,
      evidence: `${method} ${path}: no traffic since ${lastSeen} (${days} days before ${isoFromUs(windowEnd)}), active since ${firstSeen}`,
      details: { lastActive: lastSeen, activeSince: firstSeen, silentDays: days, windowEnd: isoFromUs(windowEnd) },
      firstSeen,
      lastSeen,
    });
  };
  if (opts.continuous !== undefined) {
    // Per host: each host's stream has its own packet time.
    const endOf = new Map<string, number>();
    for (const e of endpoints) endOf.set(e.host, Math.max(endOf.get(e.host) ?? -1, usOf(e.lastSeen)));
    for (const e of endpoints)
      if (e.category === 'api' && e.hits > 0)
        quiet(e.host, e.method, e.path, e.firstSeen, e.lastSeen, endOf.get(e.host) ?? -1);
  } else {
    // Gone quiet: stored endpoints of hosts seen in this window, absent from it, silent too long.
    let windowEnd = -1;
    const hostsNow = new Set<string>();
    for (const e of endpoints) {
      hostsNow.add(e.host);
      windowEnd = Math.max(windowEnd, usOf(e.lastSeen));
    }
    for (const f of stored) {
      if (f.kind !== 'endpoint' || !hostsNow.has(f.host)) continue;
      if (byEndpoint.has(epKey(f.host, f.method, f.path))) continue;
      quiet(f.host, f.method, f.path, f.firstSeen, f.lastSeen, windowEnd);
    }
  }
  findings.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const facts = [...merged.entries()]
    .filter(([k, f]) => {
      const old = before.get(k);
      return old === undefined || old.firstSeen !== f.firstSeen || old.lastSeen !== f.lastSeen;
    })
    .map(([, f]) => f)
    .sort((a, b) => (factKey(a) < factKey(b) ? -1 : factKey(a) > factKey(b) ? 1 : 0));
  return { findings, facts };
}
