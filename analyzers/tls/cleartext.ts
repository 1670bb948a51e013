// cleartext_credentials: credentials sent over plain HTTP between non-loopback addresses.
//
// Every exchange apitap reconstructs travelled in clear (TLS yields no exchanges), so a request
// carrying a credential between two non-loopback addresses exposed it to anyone on the path.
// Loopback traffic (127.0.0.0/8, ::1, and their IPv4-mapped forms) never left the host: no finding.
// Credentials are classified by analyzers/auth (Authorization schemes, API-key headers and query
// parameters, session cookies) plus password fields in the request (query parameter, form or JSON
// body key). Severity by kind: a password or Basic credential (base64 of the password) is critical;
// bearer tokens, JWTs, API keys, unknown Authorization schemes and session cookies are high; Digest
// (a hashed challenge response, RFC 7616) is low.
//
// Privacy: only credential kinds, header/parameter names and addresses leave this module, never a
// value. Deterministic: keyed by (host, method, path, kind); counts and min/max times only.
import type { Exchange } from '../../engine/contracts/exchange.js';
import { headerValue } from '../../engine/contracts/exchange.js';
import type { Finding, Severity } from '../../engine/contracts/inventory.js';
import { isoFromUs } from '../../engine/contracts/inventory.js';
import { classifyAuth, requestQueryNames } from '../auth/classify.js';
import type { AuthScheme } from '../auth/classify.js';
import { usFromIso } from '../endpoints/restore.js';
import { findingId, qualityFactor } from '../risks/findings.js';
import { parseJsonPrefix } from '../shared/json.js';

export const CREDENTIAL_KINDS = {
  password: 'a password field in the query, a form or a JSON body',
  basic: 'Authorization: Basic (base64 of user:password)',
  bearer: 'Authorization: Bearer token',
  jwt: 'a JSON Web Token as bearer credential',
  api_key: 'an API key header or query parameter',
  authorization: 'an Authorization header of another scheme',
  session_cookie: 'a session or auth cookie',
  digest: 'Authorization: Digest (hashed challenge response)',
} as const;
export type CredentialKind = keyof typeof CREDENTIAL_KINDS;

const SEVERITY: Record<CredentialKind, Severity> = {
  password: 'critical',
  basic: 'critical',
  bearer: 'high',
  jwt: 'high',
  api_key: 'high',
  authorization: 'high',
  session_cookie: 'high',
  digest: 'low',
};

const FROM_SCHEME: Partial<Record<AuthScheme, CredentialKind>> = {
  basic: 'basic',
  bearer: 'bearer',
  jwt: 'jwt',
  api_key_header: 'api_key',
  api_key_query: 'api_key',
  cookie: 'session_cookie',
  digest: 'digest',
  other: 'authorization',
};

/** Password keys (tokenised key names; multilingual like analyzers/pii key hints). */
const PASSWORD_KEY =
  /^(password|passwd|passwort|passwoord|wachtwoord|mot_?de_?passe|contrasena|contraseña|pwd|pass|passphrase|user_?password|new_?password|old_?password|current_?password|client_?secret)$/i;

/** A JSON member name that PASSWORD_KEY may match (superset: the walk decides). */
const PASSWORD_KEY_IN_JSON = /"[a-z_]*(pass|pwd|wachtwoord|contrase|mot_?de|secret)[a-z_]*"\s*:/i;

const MAX_JSON_DEPTH = 8;
const MAX_KEYS = 2000;

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** Does the request carry a non-empty password field (query, urlencoded form, JSON body)? Values are only tested for emptiness. */
export function hasPassword(ex: Exchange): boolean {
  const req = ex.request;
  if (req === null) return false;
  for (const n of requestQueryNames(req)) if (PASSWORD_KEY.test(n)) return true;
  const body = req.body;
  if (body.data === '' || body.encoding !== 'utf8') return false;
  const ct = (body.contentType ?? headerValue(req.headers, 'content-type') ?? '').toLowerCase();
  if (ct.includes('application/x-www-form-urlencoded')) {
    for (const part of body.data.split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0 || eq === part.length - 1) continue;
      let name = part.slice(0, eq).replace(/\+/g, ' ');
      try {
        name = decodeURIComponent(name);
      } catch {
        /* keep raw */
      }
      if (PASSWORD_KEY.test(name)) return true;
    }
    return false;
  }
  if (ct.includes('json')) {
    // Cheap prefilter on the text: parse only bodies that name a password key at all.
    if (!PASSWORD_KEY_IN_JSON.test(body.data)) return false;
    const doc = parseJsonPrefix(body.data, body.truncated);
    let seen = 0;
    const walk = (v: unknown, depth: number): boolean => {
      if (depth > MAX_JSON_DEPTH || v === null || typeof v !== 'object') return false;
      if (Array.isArray(v)) return v.some((x) => walk(x, depth + 1));
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (++seen > MAX_KEYS) return false;
        if (PASSWORD_KEY.test(k) && typeof x === 'string' && x !== '' && !/^\*+$/.test(x)) return true;
        if (walk(x, depth + 1)) return true;
      }
      return false;
    };
    return walk(doc, 0);
  }
  return false;
}

/** Credential kinds a request carries, sorted. `schemes`: classifyAuth(ex).schemes when the caller has it. */
export function credentialKinds(ex: Exchange, schemes?: readonly AuthScheme[]): CredentialKind[] {
  let kinds: Set<CredentialKind> | null = null;
  for (const s of schemes ?? classifyAuth(ex).schemes) {
    const k = FROM_SCHEME[s];
    if (k !== undefined) (kinds ??= new Set()).add(k);
  }
  if (hasPassword(ex)) (kinds ??= new Set()).add('password');
  return kinds === null ? [] : [...kinds].sort();
}

interface Acc {
  host: string;
  method: string;
  path: string;
  kind: CredentialKind;
  exchanges: number;
  impaired: number;
  firstUs: number;
  lastUs: number;
  /** "client → server:port" pairs (bounded). */
  pairs: Set<string>;
  pairsDropped: number;
}

const MAX_PAIRS = 16;

export interface CleartextTracker {
  /** One exchange, attributed to (host, method, path) by the endpoint analyzer. */
  observe(ex: Exchange, host: string, method: string, path: string, schemes?: readonly AuthScheme[]): void;
  findings(): Finding[];
  forget(hosts: readonly string[]): void;
  /**
   * Seed from stored cleartext_credentials findings (the analyzer group restores a host's state
   * from the store): counts, window and endpoints come back exactly, the impaired count from the
   * stored confidence. Findings of other kinds are ignored.
   */
  restore(findings: readonly Finding[]): void;
}

export function createCleartextTracker(): CleartextTracker {
  const acc = new Map<string, Acc>();
  return {
    observe(ex, host, method, path, schemes) {
      if (ex.request === null || isLoopback(ex.client.ip) || isLoopback(ex.server.ip)) return;
      const kinds = credentialKinds(ex, schemes);
      if (kinds.length === 0) return;
      const t = ex.request.startUs;
      const q = ex.quality;
      const impaired = q.gapBytes > 0 || q.truncated || q.oneSided || q.midstream || ex.response === null;
      const pair = `${ex.client.ip} → ${ex.server.ip}:${ex.server.port}`;
      for (const kind of kinds) {
        const key = `${host}\u0000${method}\u0000${path}\u0000${kind}`;
        let a = acc.get(key);
        if (a === undefined) {
          a = {
            host,
            method,
            path,
            kind,
            exchanges: 0,
            impaired: 0,
            firstUs: t,
            lastUs: t,
            pairs: new Set(),
            pairsDropped: 0,
          };
          acc.set(key, a);
        }
        a.exchanges++;
        if (impaired) a.impaired++;
        if (t < a.firstUs) a.firstUs = t;
        if (t > a.lastUs) a.lastUs = t;
        if (a.pairs.has(pair)) continue;
        if (a.pairs.size < MAX_PAIRS) a.pairs.add(pair);
        else a.pairsDropped++;
      }
    },
    findings() {
      const out: Finding[] = [];
      for (const a of acc.values()) {
        const pairs = [...a.pairs].sort();
        out.push({
          id: findingId('cleartext_credentials', a.host, a.method, a.path, a.kind),
          kind: 'cleartext_credentials',
          severity: SEVERITY[a.kind],
          host: a.host,
          method: a.method,
          path: a.path,
          confidence: Math.round(0.9 * qualityFactor(a.impaired, a.exchanges) * 1000) / 1000,
          evidence: `${CREDENTIAL_KINDS[a.kind]} sent over plain HTTP in ${a.exchanges} request(s) of ${a.method} ${a.path} between non-loopback addresses (${pairs.slice(0, 3).join(', ')}${pairs.length > 3 ? ', ...' : ''})`,
          details: {
            credential: a.kind,
            exchanges: a.exchanges,
            endpoints: pairs,
            ...(a.pairsDropped > 0 ? { endpointsDropped: a.pairsDropped } : {}),
          },
          firstSeen: isoFromUs(a.firstUs),
          lastSeen: isoFromUs(a.lastUs),
        });
      }
      const key = (f: Finding): string => `${f.host}\u0000${f.path}\u0000${f.method}\u0000${f.kind}\u0000${f.id}`;
      return out.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    },
    forget(hosts) {
      const drop = new Set(hosts);
      for (const [k, a] of acc) if (drop.has(a.host)) acc.delete(k);
    },
    restore(findings) {
      for (const f of findings) {
        const kind = f.details['credential'];
        const n = f.details['exchanges'];
        const first = f.firstSeen === null ? null : usFromIso(f.firstSeen);
        const last = f.lastSeen === null ? null : usFromIso(f.lastSeen);
        if (f.kind !== 'cleartext_credentials' || typeof kind !== 'string' || !(kind in CREDENTIAL_KINDS)) continue;
        if (typeof n !== 'number' || !(n > 0) || first === null || last === null) continue;
        const eps = f.details['endpoints'];
        const pairs = new Set(Array.isArray(eps) ? eps.filter((x): x is string => typeof x === 'string') : []);
        acc.set(`${f.host}\u0000${f.method}\u0000${f.path}\u0000${kind}`, {
          host: f.host,
          method: f.method,
          path: f.path,
          kind: kind as CredentialKind,
          exchanges: n,
          impaired: Math.max(0, Math.min(n, Math.round((1 - f.confidence / 0.9) * 2 * n))),
          firstUs: first,
          lastUs: last,
          pairs,
          pairsDropped: typeof f.details['endpointsDropped'] === 'number' ? f.details['endpointsDropped'] : 0,
        });
      }
    },
  };
}
