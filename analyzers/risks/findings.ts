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

/**
 * Severity of one PII field. Credentials where they belong never get here (credentialBelongs); a
 * credential in another header or cookie is medium (proxies and logs keep headers they do not know).
 */
export function piiSeverity(kind: PiiKind, location: PiiLocation, example: boolean): Severity {
  if (example) return 'low';
  const isUrl = location === 'request.path' || location === 'request.query';
  const isResponse = location.startsWith('response.');
  if (SECRET_KINDS.has(kind) && (location === 'request.header' || location === 'request.cookie')) return 'medium';
  let s: Severity = SECRET_KINDS.has(kind) || HIGH_KINDS.has(kind) ? 'high' : LOW_KINDS.has(kind) ? 'low' : 'medium';
  if (isUrl || isResponse) s = bump(s, 1);
  return s;
}

/**
 * Calls that issue or take credentials by design, by a literal path segment: login, tokens, OAuth,
 * sessions, sign-up, password changes, key management (`/api/v1/login`, `/oauth2/token`, `/auth`,
 * `/users/{id}/password`, `/apikeys`). A credential in their bodies is where it belongs.
 */
const CREDENTIAL_SEGMENTS = new Set([
  'login',
  'logon',
  'signin',
  'signon',
  'token',
  'tokens',
  'oauth',
  'oauth2',
  'auth',
  'authenticate',
  'authorize',
  'session',
  'sessions',
  'signup',
  'register',
  'password',
  'passwords',
  'refresh',
  'introspect',
  'revoke',
  'sso',
  'saml',
  'openid',
  'credentials',
  'apikeys',
]);
/**
 * Of those, the calls a client makes before it has credentials: public by design, so answering them
 * without credentials is no finding (key management, introspection, password changes are not here).
 */
const PUBLIC_SEGMENTS = new Set([
  'login',
  'logon',
  'signin',
  'signon',
  'token',
  'oauth',
  'oauth2',
  'auth',
  'authenticate',
  'authorize',
  'sessions',
  'signup',
  'register',
  'refresh',
  'sso',
  'saml',
  'openid',
]);
const hasSegment = (path: string, words: ReadonlySet<string>): boolean =>
  path.split('/').some((seg) => !seg.includes('{') && words.has(seg.toLowerCase().replace(/[-_.]/g, '')));
export const isAuthCall = (path: string): boolean => hasSegment(path, CREDENTIAL_SEGMENTS);
export const isPublicAuthCall = (path: string): boolean => hasSegment(path, PUBLIC_SEGMENTS);

/** Header names that carry credentials by design (tokenised: `X-Api-Key`, `X-Auth-Token`, `X-CSRF-Token`). */
const CREDENTIAL_HEADER_WORDS = new Set([
  'authorization',
  'auth',
  'token',
  'key',
  'apikey',
  'secret',
  'session',
  'sessionid',
  'signature',
  'credential',
  'credentials',
  'password',
  'csrf',
  'xsrf',
  'jwt',
  'bearer',
  'cookie',
  'subscription',
]);
function isCredentialHeader(name: string, specHeaders: ReadonlySet<string>): boolean {
  const n = name.toLowerCase();
  return specHeaders.has(n) || n.split(/[-_.\s]+/).some((w) => CREDENTIAL_HEADER_WORDS.has(w));
}

/**
 * A credential (password, API key, session token, JWT) where it belongs is auth posture, not a PII
 * finding: in Authorization or another credential header (or one a spec security scheme names), in a
 * cookie or Set-Cookie, and in the request or response body of a call that issues or takes
 * credentials (login, token, sign-up). Everywhere else (URL, other headers, other bodies) it is one.
 */
export function credentialBelongs(
  kind: PiiKind,
  location: PiiLocation,
  field: string,
  path: string,
  specHeaders: ReadonlySet<string>,
): boolean {
  if (!SECRET_KINDS.has(kind)) return false;
  switch (location) {
    case 'request.cookie':
    case 'response.cookie':
      return true;
    case 'request.header':
      return isCredentialHeader(field, specHeaders);
    case 'response.header':
      return isAuthCall(path) && isCredentialHeader(field, specHeaders);
    case 'request.body':
    case 'response.body':
      return isAuthCall(path);
    default:
      return false;
  }
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
    // One zombie finding per endpoint and evidence: when the spec marks the operation deprecated,
    // the server's Deprecation / Sunset headers are folded into that finding.
    let removed = false;
    const headers = s.deprecationHeader > 0 || s.sunsetHeader > 0;
    const headerText = `; ${s.deprecationHeader} responses with Deprecation, ${s.sunsetHeader} with Sunset`;
    const specDeprecated = ag.match !== null && ag.match.entry.op.deprecated;
    if (ag.match && ag.match.entry.op.deprecated) {
      const e = ag.match.entry;
      push(
        'zombie_api',
        r,
        'deprecated_operation',
        'medium',
        0.95 * q,
        `${r.method} ${r.path} called ${r.hits} times although ${e.spec.name} marks ${e.op.method} ${e.op.path} deprecated` +
          (headers ? headerText : ''),
        {
          reason: 'deprecated_operation',
          spec: e.spec.name,
          operation: `${e.op.method} ${e.op.path}`,
          operationId: e.op.operationId,
          hits: r.hits,
          statusClasses: r.statusClasses,
          ...(headers
            ? { deprecationResponses: s.deprecationHeader, sunsetResponses: s.sunsetHeader, sunset: s.sunsetIso }
            : {}),
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
    if (headers && !specDeprecated) {
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

    // shadow: method + template in traffic, in no spec for the host (API traffic only). GraphQL
    // operations are judged against GraphQL schemas instead (graphql/plugin.ts).
    if (api && !r.documented && !removed && r.operation === undefined && inp.current.covers(r.host)) {
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
    // A spec that declares the operation anonymous (`security: []`), or a login/token call nobody
    // authenticated to, is public by design: no finding (mixed_auth still reports a mix).
    const sec = ag.match?.entry.op.security ?? [];
    const specAnonymous = sec.some((alt) => alt.length === 0);
    const publicByDesign = specAnonymous || (s.authed === 0 && isPublicAuthCall(r.path));
    const unauthFinding = api && s.unauth2xx > 0 && !publicByDesign;
    if (unauthFinding) {
      const specRequires = sec.length > 0 && !specAnonymous;
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
          (s.authed > 0 ? `; ${s.authed} other requests carried credentials` : '') +
          ' (credentials outside HTTP, e.g. mTLS or network policy, are not visible)',
        {
          unauthenticated2xx: s.unauth2xx,
          unauthenticatedRequests: s.unauthed,
          authenticatedRequests: s.authed,
          specRequiresAuth: specRequires,
          schemesSeen: r.auth,
        },
        r.firstSeen,
        r.lastSeen,
      );
    }
    // A mix whose unauthenticated requests succeeded is already the unauthenticated finding above.
    if (api && s.authed > 0 && s.unauthed > 0 && !unauthFinding) {
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
          fields: urlPii.slice(0, 20).map((p) => ({
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

    // pii_exposure: one finding per endpoint and location; credentials where they belong are auth
    // posture (the endpoint's `auth`), not exposure.
    const specHeaders = new Set<string>();
    for (const sc of Object.values(ag.match?.entry.spec.securitySchemes ?? {}))
      if (sc.in === 'header' && sc.name !== null) specHeaders.add(sc.name.toLowerCase());
    const byLoc = new Map<PiiLocation, typeof ag.pii>();
    for (const p of ag.pii) {
      if (credentialBelongs(p.kind, p.location, p.field, r.path, specHeaders)) continue;
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
          fields: list.slice(0, 20).map((p) => ({
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
    for (const e of inp.current.ops) {
      if (seenOps.has(e)) continue;
      out.push(
        orphanFinding(
          orphanOf(e),
          inp.window,
          inp.hostsSeen.some((h) => opAppliesTo(e.op, h)),
        ),
      );
    }
  }
  return sortFindings(out);
}

const findingKey = (f: Finding): string => `${f.host}\u0000${f.path}\u0000${f.method}\u0000${f.kind}\u0000${f.id}`;

/** The order every findings list is given in: (host, path, method, kind, id). */
export function sortFindings(list: Finding[]): Finding[] {
  return list.sort((a, b) => {
    const ka = findingKey(a);
    const kb = findingKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** What an orphan finding says about its operation (plain data: it crosses threads). */
interface OrphanOp {
  host: string;
  method: string;
  path: string;
  spec: string;
  operation: string;
  operationId: string | null;
  deprecated: boolean;
  hosts: string[];
}

function orphanOf(e: IndexedOp): OrphanOp {
  return {
    host: e.op.hosts[0] ?? '*',
    method: e.op.method,
    path: e.op.fullPaths[0] ?? e.op.path,
    spec: e.spec.name,
    operation: `${e.op.method} ${e.op.path}`,
    operationId: e.op.operationId,
    deprecated: e.op.deprecated,
    hosts: e.op.hosts,
  };
}

function orphanFinding(o: OrphanOp, w: { firstUs: number; lastUs: number }, hostSeen: boolean): Finding {
  const window = { first: isoFromUs(w.firstUs), last: isoFromUs(w.lastUs) };
  return {
    id: findingId('orphan_api', o.host, o.method, o.path, o.spec),
    kind: 'orphan_api',
    severity: 'info',
    host: o.host,
    method: o.method,
    path: o.path,
    confidence: round3(hostSeen ? 0.6 : 0.3),
    evidence:
      `${o.method} ${o.path} (${o.spec}) never seen between ${window.first} and ${window.last}` +
      (hostSeen ? '' : '; no traffic to its host at all'),
    details: {
      window,
      spec: o.spec,
      operation: o.operation,
      operationId: o.operationId,
      deprecated: o.deprecated,
      hosts: o.hosts,
      hostSeen,
    },
    firstSeen: null,
    lastSeen: null,
  };
}

/** One shard's findings (analysis sharded by API host across threads) and its observation window. */
export interface ShardFindings {
  findings: readonly Finding[];
  window: { firstUs: number; lastUs: number } | null;
}

/**
 * The findings a single analysis of all shards' traffic gives. Every finding but orphan_api depends on
 * one host's traffic only, so a shard's are final. An operation is an orphan when no shard saw it: the
 * shards that observed anything all report it; its window is the union of theirs and its host was seen
 * when any shard saw it.
 */
export function mergeShardFindings(shards: readonly ShardFindings[]): Finding[] {
  const out: Finding[] = [];
  const active = shards.filter((s) => s.window !== null);
  let window: { firstUs: number; lastUs: number } | null = null;
  for (const s of active) {
    const w = s.window as { firstUs: number; lastUs: number };
    window =
      window === null
        ? { ...w }
        : { firstUs: Math.min(window.firstUs, w.firstUs), lastUs: Math.max(window.lastUs, w.lastUs) };
  }
  const orphans = new Map<string, { op: OrphanOp; shards: number; hostSeen: boolean }>();
  for (const s of shards) {
    for (const f of s.findings) {
      if (f.kind !== 'orphan_api') {
        out.push(f);
        continue;
      }
      const d = f.details as unknown as OrphanOp & { hostSeen: boolean; operation: string };
      const prev = orphans.get(f.id);
      if (prev) {
        prev.shards++;
        prev.hostSeen ||= d.hostSeen;
      } else {
        const op: OrphanOp = {
          host: f.host,
          method: f.method,
          path: f.path,
          spec: d.spec,
          operation: d.operation,
          operationId: d.operationId,
          deprecated: d.deprecated,
          hosts: d.hosts,
        };
        orphans.set(f.id, { op, shards: 1, hostSeen: d.hostSeen });
      }
    }
  }
  if (window !== null) {
    for (const o of orphans.values()) if (o.shards === active.length) out.push(orphanFinding(o.op, window, o.hostSeen));
  }
  return sortFindings(out);
}
