// Findings from the endpoint inventory and the spec diff.
//
// Contract: pure function of its input (no clock, no randomness); ids are sha256 of
// kind|host|method|path|detail (first 16 hex), so re-running on the same capture, or replaying after a
// crash, yields the same ids. Confidence is the rule's base confidence times a capture-quality factor
// over the exchanges that support the finding (gaps, truncation, one-sided, mid-stream, unpaired), so a
// user can tell an API problem from a capture artefact. Evidence strings and details never hold raw
// values: PII arrives masked + hashed from the PII layer, credentials only by name.
import { createHash } from 'node:crypto';
import type { Finding, PiiKind, PiiLocation, Severity } from '../../engine/contracts/inventory.js';
import { isoFromUs, SEVERITIES } from '../../engine/contracts/inventory.js';
import type { EndpointAggregate } from '../endpoints/aggregate.js';
import type { IndexedOp, SpecIndex } from '../spec/match.js';
import { opAppliesTo } from '../spec/match.js';

export interface FindingsInput {
  aggregates: readonly EndpointAggregate[];
  current: SpecIndex;
  previous: SpecIndex;
  /** Packet-time window of the whole observation, null when nothing was observed. */
  window: { firstUs: number; lastUs: number } | null;
  /** API hosts that had traffic. */
  hostsSeen: readonly string[];
}

export function findingId(kind: string, host: string, method: string, path: string, detail: string): string {
  return createHash('sha256').update(`${kind}|${host}|${method}|${path}|${detail}`).digest('hex').slice(0, 16);
}

const SECRET_KINDS: ReadonlySet<PiiKind> = new Set(['password', 'api_key', 'session_token', 'jwt']);
const HIGH_KINDS: ReadonlySet<PiiKind> = new Set(['payment_card', 'iban', 'bsn', 'national_id', 'passport', 'us_ssn']);
const LOW_KINDS: ReadonlySet<PiiKind> = new Set(['ip_address', 'geolocation', 'postcode']);

const bump = (s: Severity, by: number): Severity =>
  SEVERITIES[Math.max(0, Math.min(SEVERITIES.length - 1, SEVERITIES.indexOf(s) + by))] ?? s;
const round3 = (x: number): number => Math.round(Math.max(0, Math.min(1, x)) * 1000) / 1000;

/** 1 for a clean capture, down to 0.5 when every supporting exchange was impaired. */
export function qualityFactor(impaired: number, total: number): number {
  return total <= 0 ? 0.5 : 1 - 0.5 * (impaired / total);
}
/** A single sighting is weaker evidence than repeated ones. */
const sampleFactor = (hits: number): number => Math.min(1, 0.8 + 0.04 * hits);

export function piiSeverity(kind: PiiKind, location: PiiLocation, example: boolean): Severity {
  if (example) return 'low';
  const isUrl = location === 'request.path' || location === 'request.query';
  const isResponse = location.startsWith('response.');
  if (SECRET_KINDS.has(kind) && (location === 'request.header' || location === 'request.cookie')) return 'info'; // credentials where they belong
  let s: Severity = SECRET_KINDS.has(kind) || HIGH_KINDS.has(kind) ? 'high' : LOW_KINDS.has(kind) ? 'low' : 'medium';
  if (isUrl || isResponse) s = bump(s, 1);
  return s;
}

function maxSeverity(list: Severity[]): Severity {
  let best: Severity = 'info';
  for (const s of list) if (SEVERITIES.indexOf(s) > SEVERITIES.indexOf(best)) best = s;
  return best;
}

export function computeFindings(inp: FindingsInput): Finding[] {
  const out: Finding[] = [];
  const push = (
    kind: Finding['kind'],
    a: { host: string; method: string; path: string },
    detail: string,
    severity: Severity,
    confidence: number,
    evidence: string,
    details: Record<string, unknown>,
    first: string | null,
    last: string | null,
  ): void => {
    out.push({
      id: findingId(kind, a.host, a.method, a.path, detail),
      kind,
      severity,
      host: a.host,
      method: a.method,
      path: a.path,
      confidence: round3(confidence),
      evidence,
      details,
      firstSeen: first,
      lastSeen: last,
    });
  };
  const seenOps = new Set<IndexedOp>();

  for (const ag of inp.aggregates) {
    const r = ag.record;
    const s = ag.stats;
    const q = qualityFactor(s.impaired, s.hits) * sampleFactor(s.hits);
    const api = r.category === 'api';
    const ok2 = (r.statusClasses['2xx'] ?? 0) + (r.statusClasses['3xx'] ?? 0);
    if (ag.match) seenOps.add(ag.match.entry);
    const statusText = Object.entries(r.statusClasses)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');

    // zombie: deprecated operation still called, operation removed since the previous spec, or the
    // server itself announcing deprecation (RFC 9745 Deprecation, RFC 8594 Sunset).
    let removed = false;
    if (ag.match && ag.match.entry.op.deprecated) {
      const e = ag.match.entry;
      push(
        'zombie_api',
        r,
        'deprecated_operation',
        'medium',
        0.95 * q,
        `${r.method} ${r.path} called ${r.hits} times although ${e.spec.name} marks ${e.op.method} ${e.op.path} deprecated`,
        {
          reason: 'deprecated_operation',
          spec: e.spec.name,
          operation: `${e.op.method} ${e.op.path}`,
          operationId: e.op.operationId,
          hits: r.hits,
          statusClasses: r.statusClasses,
        },
        r.firstSeen,
        r.lastSeen,
      );
    }
    if (!ag.match && ag.previousMatch && api) {
      const e = ag.previousMatch.entry;
      removed = true;
      push(
        'zombie_api',
        r,
        'removed_operation',
        ok2 > 0 ? 'high' : 'medium',
        (ok2 > 0 ? 0.9 : 0.6) * q,
        `${r.method} ${r.path} called ${r.hits} times (${statusText}); ${e.op.method} ${e.op.path} was in ${e.spec.name} but is in no current spec`,
        {
          reason: 'removed_operation',
          previousSpec: e.spec.name,
          operation: `${e.op.method} ${e.op.path}`,
          operationId: e.op.operationId,
          hits: r.hits,
          statusClasses: r.statusClasses,
        },
        r.firstSeen,
        r.lastSeen,
      );
    }
    if (s.deprecationHeader > 0 || s.sunsetHeader > 0) {
      push(
        'zombie_api',
        r,
        'deprecation_header',
        'medium',
        0.9 * q,
        `${r.method} ${r.path}: ${s.deprecationHeader} responses with Deprecation, ${s.sunsetHeader} with Sunset`,
        {
          reason: 'deprecation_header',
          deprecationResponses: s.deprecationHeader,
          sunsetResponses: s.sunsetHeader,
          sunset: s.sunsetIso,
        },
        r.firstSeen,
        r.lastSeen,
      );
    }

    // shadow: method + template in traffic, in no spec for the host (API traffic only).
    if (api && !r.documented && !removed && inp.current.covers(r.host)) {
      const specs = [...new Set(inp.current.forHost(r.host).map((e) => e.spec.name))].sort();
      push(
        'shadow_api',
        r,
        'undocumented',
        ok2 > 0 ? 'medium' : 'low',
        (ok2 > 0 ? 0.9 : s.statusClasses.has('none') && ok2 === 0 && s.statusClasses.size === 1 ? 0.4 : 0.5) * q,
        `${r.method} ${r.path} seen ${r.hits} times (${statusText}), not in any spec for ${r.host}`,
        { specs, hits: r.hits, statusClasses: r.statusClasses, impairedExchanges: s.impaired },
        r.firstSeen,
        r.lastSeen,
      );
    }

    // auth posture (API traffic only: static assets, health checks and preflights are public by design).
    if (api && s.unauth2xx > 0) {
      const sec = ag.match?.entry.op.security ?? [];
      const specRequires = sec.length > 0 && !sec.some((alt) => alt.length === 0);
      const write = r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH' || r.method === 'DELETE';
      let sev: Severity = specRequires || s.authed > 0 ? 'high' : write ? 'medium' : 'low';
      if (r.pii.some((p) => p.location.startsWith('response.'))) sev = bump(sev, 1);
      const base = specRequires ? 0.95 : s.authed > 0 ? 0.85 : 0.6;
      push(
        'unauthenticated_endpoint',
        r,
        'unauthenticated_2xx',
        sev,
        base * qualityFactor(s.unauth2xxImpaired, s.unauth2xx) * sampleFactor(s.unauth2xx),
        `${s.unauth2xx} successful responses to ${r.method} ${r.path} without credentials` +
          (specRequires ? ' although the spec requires security' : '') +
          ' (credentials outside HTTP, e.g. mTLS or network policy, are not visible)',
        {
          unauthenticated2xx: s.unauth2xx,
          authenticatedRequests: s.authed,
          specRequiresAuth: specRequires,
          schemesSeen: r.auth,
        },
        r.firstSeen,
        r.lastSeen,
      );
    }
    if (api && s.authed > 0 && s.unauthed > 0) {
      push(
        'mixed_auth',
        r,
        'mixed',
        s.unauth2xx > 0 ? 'medium' : 'info',
        0.85 * q,
        `${r.method} ${r.path}: ${s.authed} requests with credentials, ${s.unauthed} without (${s.unauth2xx} of those answered 2xx)`,
        { authenticated: s.authed, unauthenticated: s.unauthed, unauthenticated2xx: s.unauth2xx, schemes: r.auth },
        r.firstSeen,
        r.lastSeen,
      );
    }

    // sensitive_in_url: credentials by name, PII found in the path or query.
    if (s.credentialsInUrl.size > 0) {
      const names = [...s.credentialsInUrl.keys()].sort();
      push(
        'sensitive_in_url',
        r,
        'credential',
        'high',
        0.9 * q,
        `${r.method} ${r.path} carries credentials in the URL (${names.join(', ')}); URLs end up in logs, proxies and Referer headers`,
        { parts: names, counts: Object.fromEntries(names.map((n) => [n, s.credentialsInUrl.get(n) ?? 0])) },
        r.firstSeen,
        r.lastSeen,
      );
    }
    const urlPii = ag.pii.filter((p) => p.location === 'request.path' || p.location === 'request.query');
    if (urlPii.length > 0) {
      const sev = maxSeverity(
        urlPii.map((p) => (p.example ? 'low' : SECRET_KINDS.has(p.kind) || HIGH_KINDS.has(p.kind) ? 'high' : 'medium')),
      );
      push(
        'sensitive_in_url',
        r,
        'pii',
        sev,
        Math.max(...urlPii.map((p) => p.confidence)) * q,
        `${r.method} ${r.path} carries ${[...new Set(urlPii.map((p) => p.kind))].sort().join(', ')} in the URL (${urlPii.map((p) => `${p.location} ${p.field}`).join(', ')})`,
        {
          fields: urlPii
            .slice(0, 20)
            .map((p) => ({
              kind: p.kind,
              location: p.location,
              field: p.field,
              distinct: p.distinct,
              masked: p.masked,
              hash: p.hash,
            })),
        },
        r.firstSeen,
        r.lastSeen,
      );
    }

    // pii_exposure: one finding per endpoint and location.
    const byLoc = new Map<PiiLocation, typeof ag.pii>();
    for (const p of ag.pii) {
      const l = byLoc.get(p.location);
      if (l) l.push(p);
      else byLoc.set(p.location, [p]);
    }
    for (const [loc, list] of [...byLoc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const sev = maxSeverity(list.map((p) => piiSeverity(p.kind, loc, p.example)));
      const kinds = [...new Set(list.map((p) => p.kind))].sort();
      push(
        'pii_exposure',
        r,
        loc,
        sev,
        Math.max(...list.map((p) => p.confidence)) * q,
        `${loc} of ${r.method} ${r.path} carries ${kinds.join(', ')} (${list
          .slice(0, 5)
          .map((p) => p.field)
          .join(', ')}${list.length > 5 ? ', ...' : ''})`,
        {
          location: loc,
          kinds,
          fields: list
            .slice(0, 20)
            .map((p) => ({
              kind: p.kind,
              field: p.field,
              distinct: p.distinct,
              example: p.example,
              confidence: round3(p.confidence),
              masked: p.masked,
              hash: p.hash,
            })),
        },
        r.firstSeen,
        r.lastSeen,
      );
    }
  }

  // orphan: documented, never seen during the window.
  if (inp.window !== null) {
    const window = { first: isoFromUs(inp.window.firstUs), last: isoFromUs(inp.window.lastUs) };
    for (const e of inp.current.ops) {
      if (seenOps.has(e)) continue;
      const hostSeen = inp.hostsSeen.some((h) => opAppliesTo(e.op, h));
      const host = e.op.hosts[0] ?? '*';
      const path = e.op.fullPaths[0] ?? e.op.path;
      push(
        'orphan_api',
        { host, method: e.op.method, path },
        e.spec.name,
        'info',
        hostSeen ? 0.6 : 0.3,
        `${e.op.method} ${path} (${e.spec.name}) never seen between ${window.first} and ${window.last}` +
          (hostSeen ? '' : '; no traffic to its host at all'),
        {
          window,
          spec: e.spec.name,
          operation: `${e.op.method} ${e.op.path}`,
          operationId: e.op.operationId,
          deprecated: e.op.deprecated,
          hosts: e.op.hosts,
          hostSeen,
        },
        null,
        null,
      );
    }
  }
  const key = (f: Finding): string => `${f.host}\u0000${f.path}\u0000${f.method}\u0000${f.kind}\u0000${f.id}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
