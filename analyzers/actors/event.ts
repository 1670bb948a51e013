// The per-exchange actor record: compact, bounded, free of raw values. It rides on the exchange row
// (the store's exchanges table, migration 013) and, in `replay --workers N`, travels from each shard
// to main, where the behaviour detectors (detect.ts) run once over every actor's traffic. The same
// fields read back from the store rebuild the same events (the analyzer group's periodic job), so
// both paths feed the detectors identical input.
import type { ActorEvent, ActorFields } from '../../engine/contracts/actors.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { headerValue } from '../../engine/contracts/exchange.js';
import { isPublicAuthCall } from '../risks/findings.js';
import type { ActorIdentifier } from './identity.js';
import { VALUE_HASH_HEX } from './identity.js';

/** Bounds per exchange. */
export const EVENT_LIMITS = {
  /** Path segments hashed (from the start). */
  pathSegments: 12,
  /** Identifier-like query parameters hashed. */
  queryValues: 4,
  /** Distinct PII value hashes received in one response. */
  piiValues: 64,
} as const;

export type { ActorEvent, ActorFields };

const PAGINATION = new Set([
  'page',
  'pagesize',
  'page_size',
  'per_page',
  'perpage',
  'offset',
  'limit',
  'size',
  'start',
  'cursor',
  'from',
  'to',
  'since',
  'until',
  'sort',
  'order',
  'orderby',
  'q',
  'query',
  'search',
  'filter',
  'fields',
  'ts',
  'timestamp',
  '_',
  'callback',
  'lang',
  'locale',
]);
const ID_NAME =
  /(?:^|[_.-])(?:id|ids|uuid|guid|ref|no|num|number|code|sku|key)$|[a-z](?:Id|ID|Uuid|No|Number|Code)$|^id$/;
const ID_VALUE =
  /^(?:\d{1,20}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{12,64})$/;

/** `p<i>:` tags of path segment ids (idValues). */
const SEG_TAGS: readonly string[] = Array.from({ length: EVENT_LIMITS.pathSegments }, (_, i) => `p${i}:`);

const decode = (s: string): string => {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** Request body fields that name the account a sign-in is for (lower-case, separators removed). */
const LOGIN_KEYS = new Set([
  'username',
  'user',
  'login',
  'loginname',
  'email',
  'emailaddress',
  'mail',
  'account',
  'accountname',
  'userid',
  'identifier',
  'phone',
  'principal',
]);
const normKey = (k: string): string => k.toLowerCase().replace(/[-_.\s]/g, '');

function bodyText(body: { encoding: 'utf8' | 'base64'; data: string }): string {
  return body.encoding === 'utf8' ? body.data : Buffer.from(body.data, 'base64').toString('utf8');
}

/** The login name a sign-in request presents (JSON or form body), or null. Never kept raw. */
function loginName(ex: Exchange): string | null {
  const req = ex.request;
  if (req === null || req.body.data === '') return null;
  const text = bodyText(req.body);
  if (text.length > 65_536) return null;
  const t = text.trimStart();
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as unknown;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
      for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
        if (LOGIN_KEYS.has(normKey(k)) && (typeof v === 'string' || typeof v === 'number') && String(v) !== '')
          return String(v).trim().toLowerCase();
      }
    } catch {
      return null;
    }
    return null;
  }
  for (const part of t.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    if (!LOGIN_KEYS.has(normKey(decode(part.slice(0, eq))))) continue;
    const v = decode(part.slice(eq + 1)).trim();
    if (v !== '') return v.toLowerCase();
  }
  return null;
}

/** Id of the object a successful POST created: Location's last segment, else a top-level `id` of a 201 body. */
function createdId(ex: Exchange): string | null {
  const res = ex.response;
  if (ex.request === null || res === null || ex.request.method.toUpperCase() !== 'POST') return null;
  if (res.status < 200 || res.status > 299) return null;
  const loc = headerValue(res.headers, 'location');
  if (loc !== null) {
    const path = loc.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
    const segs = path.split('/').filter((s) => s !== '');
    const last = segs[segs.length - 1];
    if (last !== undefined) return decode(last);
  }
  if (res.status !== 201 || res.body.data === '' || res.body.data.length > 65_536) return null;
  const text = bodyText(res.body).trimStart();
  if (!text.startsWith('{')) return null;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const inner = o['data'] !== null && typeof o['data'] === 'object' ? (o['data'] as Record<string, unknown>) : null;
    const id = o['id'] ?? inner?.['id'];
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

/**
 * The actor fields of one exchange with a request. `segs` are the raw path segments (analysis.ts
 * parseTarget), `piiReceived` the response-side PII value hashes the PII layer found.
 */
export function actorFields(
  ex: Exchange,
  segs: readonly string[],
  piiReceived: readonly string[],
  ident: ActorIdentifier,
): ActorFields {
  const id = ident.identify(ex);
  const h = ident.hasher;
  const idValues: string[] = [];
  const n = Math.min(segs.length, EVENT_LIMITS.pathSegments);
  for (let i = 0; i < n; i++) idValues.push(h.tagged(SEG_TAGS[i] as string, decode(segs[i] as string)));
  const target = ex.request?.target ?? '';
  const q = target.indexOf('?');
  if (q >= 0) {
    let kept = 0;
    for (const part of target.slice(q + 1).split(/[&#]/)) {
      if (kept >= EVENT_LIMITS.queryValues) break;
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const name = decode(part.slice(0, eq));
      const value = decode(part.slice(eq + 1));
      if (value === '' || PAGINATION.has(name.toLowerCase())) continue;
      if (!ID_NAME.test(name) && !ID_VALUE.test(value)) continue;
      idValues.push(`q:${name.toLowerCase().replace(/[:\s]/g, '_')}:${h.short(value)}`);
      kept++;
    }
  }
  const method = (ex.request?.method ?? '').toUpperCase();
  const path = '/' + segs.join('/');
  const login = method === 'POST' && isPublicAuthCall(path) ? loginName(ex) : null;
  const created = createdId(ex);
  const pii = piiReceived.length === 0 ? [] : [...new Set(piiReceived.map((x) => x.slice(0, VALUE_HASH_HEX)))].sort();
  if (pii.length > EVENT_LIMITS.piiValues) pii.length = EVENT_LIMITS.piiValues;
  return {
    actorId: id.id,
    clientIp: id.ip,
    forwardedFor: id.forwardedFor,
    principal: id.principal,
    principalKind: id.principalKind,
    principalHash: id.principalHash,
    idValues,
    loginHash: login === null ? '' : h.short(`login|${login}`),
    createdHash: created === null ? '' : h.short(created),
    piiReceived: pii,
  };
}
