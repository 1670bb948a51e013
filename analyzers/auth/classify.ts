// Credential classification of one request. Privacy: only scheme names and parameter/header/cookie
// *names* leave this module; credential values are inspected in place (a JWT's header is decoded to
// recognise it) and never kept.
import type { Exchange } from '../../engine/contracts/exchange.js';

export const AUTH_SCHEMES = [
  'basic',
  'bearer',
  'jwt',
  'api_key_header',
  'api_key_query',
  'cookie',
  'digest',
  'other',
  'none',
] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

export interface AuthResult {
  /** Sorted, unique; exactly ['none'] when the request carries no credential we recognise. */
  schemes: AuthScheme[];
  /** Credential-bearing URL parts: "query:<name>" (lower-case name) or "userinfo". */
  inUrl: string[];
}

/** Query parameters that carry credentials (api_key_query). */
const QUERY_KEYS = new Set([
  'api_key',
  'apikey',
  'api-key',
  'key',
  'access_token',
  'token',
  'auth_token',
  'id_token',
  'client_secret',
  'password',
  'passwd',
  'secret',
  'sig',
  'signature',
  'x-api-key',
]);
/** Of those, the ones that count as an API credential for auth posture (password etc. still go to sensitive_in_url). */
const QUERY_AUTH = new Set([
  'api_key',
  'apikey',
  'api-key',
  'key',
  'access_token',
  'token',
  'auth_token',
  'id_token',
  'x-api-key',
]);
const HEADER_KEY =
  /^(x-)?(api[-_]?key|apikey|auth[-_]?token|access[-_]?token|token|key)$|-api-key$|^ocp-apim-subscription-key$|^x-functions-key$|^private-token$|^x-goog-api-key$|^x-amz-security-token$/;
/** Cookie names that hold a session or auth token (tracking/preference cookies do not count). */
const SESSION_COOKIE = /sess|^sid$|[-_.]sid$|auth|token|jwt|^connect\.sid$|remember|login|^_?csrf/i;

/** A request header whose value is an API key (x-api-key, private-token, ...); `name` lower-case. */
export const isApiKeyHeader = (name: string): boolean => HEADER_KEY.test(name);
/** A cookie that holds a session or auth token. */
export const isSessionCookie = (name: string): boolean => SESSION_COOKIE.test(name);
/** A query parameter that carries an API credential (api_key_query). */
export const isCredentialQueryName = (name: string): boolean => QUERY_AUTH.has(name.toLowerCase());

function isJwt(token: string): boolean {
  // token.split('.') has 3 parts, the first of 4 characters or more, decoding to a JSON object with alg.
  const d1 = token.indexOf('.');
  if (d1 < 4) return false;
  const d2 = token.indexOf('.', d1 + 1);
  if (d2 < 0 || token.indexOf('.', d2 + 1) >= 0) return false;
  const k = fnv1a(token, 0, d1) * 0x200000 + (fnv1a(token, 0, d1, 0x9dc5811c) & 0x1fffff);
  let ok = jwtHeads.get(k);
  if (ok !== undefined) return ok;
  try {
    const head = JSON.parse(Buffer.from(token.slice(0, d1), 'base64url').toString('utf8')) as unknown;
    ok = head !== null && typeof head === 'object' && 'alg' in head;
  } catch {
    ok = false;
  }
  if (jwtHeads.size >= 1024) jwtHeads.clear();
  jwtHeads.set(k, ok);
  return ok;
}

/**
 * JWT header segments seen (by a 53-bit fingerprint, no raw text kept) → whether they decode to a JWT
 * header: a session's token repeats on every request, and its header on every token of an issuer.
 */
const jwtHeads = new Map<number, boolean>();

function fnv1a(s: string, from: number, to: number, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What classifyAuth reads from a request header, by raw name (bounded; names are not personal data). */
const ROLE = { none: 0, authorization: 1, apiKey: 2, cookie: 3 } as const;
const roles = new Map<string, number>();
function roleOf(rawName: string): number {
  let r = roles.get(rawName);
  if (r !== undefined) return r;
  const name = rawName.toLowerCase();
  r =
    name === 'authorization' || name === 'proxy-authorization'
      ? ROLE.authorization
      : HEADER_KEY.test(name)
        ? ROLE.apiKey
        : name === 'cookie'
          ? ROLE.cookie
          : ROLE.none;
  if (rawName.length <= 64) {
    if (roles.size >= 1024) roles.clear();
    roles.set(rawName, r);
  }
  return r;
}

/** Cookie names that are session cookies (SESSION_COOKIE), bounded like roles. */
const sessionNames = new Map<string, boolean>();
function sessionCookie(name: string): boolean {
  let r = sessionNames.get(name);
  if (r !== undefined) return r;
  r = SESSION_COOKIE.test(name);
  if (name.length <= 64) {
    if (sessionNames.size >= 1024) sessionNames.clear();
    sessionNames.set(name, r);
  }
  return r;
}

/** Whether a Cookie header names a session cookie (its values are not read). */
function hasSessionCookie(value: string): boolean {
  for (let a = 0; a <= value.length;) {
    let b = value.indexOf(';', a);
    if (b < 0) b = value.length;
    const eq = value.indexOf('=', a);
    const cname = value.slice(a, eq >= 0 && eq < b ? eq : b).trim();
    if (cname !== '' && sessionCookie(cname)) return true;
    a = b + 1;
  }
  return false;
}

/** Results without credentials in the URL, by scheme bits (AUTH_SCHEMES order): shared, read-only. */
const BY_SCHEMES = new Map<number, AuthResult>();
const BITS = Object.fromEntries(AUTH_SCHEMES.map((s, i) => [s, 1 << i])) as Record<AuthScheme, number>;
const NONE_BIT = BITS.none;
const bit = (s: AuthScheme): number => BITS[s];
function schemesOf(bits: number): AuthScheme[] {
  return AUTH_SCHEMES.filter((_, i) => (bits & (1 << i)) !== 0).sort();
}

/** "query:<lower-case name>" when a query parameter of that name carries credentials, else null. */
export function credentialQueryPart(name: string): string | null {
  const lower = name.toLowerCase();
  return QUERY_KEYS.has(lower) ? `query:${lower}` : null;
}

/**
 * Query parameter names of a request target (percent-decoded, '+' as space), in order, with repeats.
 * The array may be shared between calls: callers only read it.
 */
export function queryNames(target: string): readonly string[] {
  const q = target.indexOf('?');
  if (q < 0) return NO_NAMES;
  const end = target.indexOf('#', q);
  const qs = target.slice(q + 1, end < 0 ? undefined : end);
  const out: string[] = [];
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const raw = (eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
    let name = raw;
    try {
      name = decodeURIComponent(raw);
    } catch {
      /* keep raw */
    }
    if (name !== '') out.push(name);
  }
  return out;
}
const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * queryNames of a request's target, made once per request object (the inventory, auth and cleartext
 * layers each ask): held only as long as the request itself.
 */
export function requestQueryNames(req: { readonly target: string }): readonly string[] {
  if (req.target.indexOf('?') < 0) return NO_NAMES;
  let names = namesOf.get(req);
  if (names === undefined) {
    names = queryNames(req.target);
    namesOf.set(req, names);
  }
  return names;
}
const namesOf = new WeakMap<object, readonly string[]>();

/**
 * The request's credentials. The result may be shared between requests with the same schemes and no
 * credential in the URL: callers only read it.
 */
export function classifyAuth(ex: Exchange): AuthResult {
  const req = ex.request;
  if (req === null) return resultOf(NONE_BIT, null);
  let bits = 0;
  let inUrl: Set<string> | null = null;
  const headers = req.headers;
  for (let i = 0; i < headers.length; i++) {
    const [rawName, value] = headers[i] as [string, string];
    const role = roleOf(rawName);
    if (role === ROLE.none) continue;
    if (role === ROLE.authorization) {
      const v = value.trim();
      const sp = v.indexOf(' ');
      const scheme = (sp < 0 ? v : v.slice(0, sp)).toLowerCase();
      if (scheme === 'basic') bits |= bit('basic');
      else if (scheme === 'bearer') bits |= bit(isJwt(v.slice(sp + 1).trim()) ? 'jwt' : 'bearer');
      else if (scheme === 'digest') bits |= bit('digest');
      else if (scheme === 'token' || scheme === 'apikey' || scheme === 'api-key') bits |= bit('api_key_header');
      else if (isJwt(v)) bits |= bit('jwt');
      else if (v !== '') bits |= bit('other');
    } else if (role === ROLE.apiKey) {
      if (value.trim() !== '') bits |= bit('api_key_header');
    } else if (hasSessionCookie(value)) bits |= bit('cookie');
  }
  if (req.target.indexOf('?') >= 0) {
    for (const n of requestQueryNames(req)) {
      const lower = n.toLowerCase();
      if (QUERY_AUTH.has(lower)) bits |= bit('api_key_query');
      if (QUERY_KEYS.has(lower)) (inUrl ??= new Set()).add(`query:${lower}`);
    }
  }
  // Absolute-form target with userinfo (http://user:pass@host/...): a credential in the URL.
  if (req.target.charCodeAt(0) !== 47 && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(req.target)) {
    (inUrl ??= new Set()).add('userinfo');
    bits |= bit('basic');
  }
  if (bits === 0) bits = NONE_BIT;
  return resultOf(bits, inUrl);
}

function resultOf(bits: number, inUrl: Set<string> | null): AuthResult {
  if (inUrl !== null) return { schemes: schemesOf(bits), inUrl: [...inUrl].sort() };
  let r = BY_SCHEMES.get(bits);
  if (r === undefined) {
    r = { schemes: schemesOf(bits), inUrl: [] };
    BY_SCHEMES.set(bits, r);
  }
  return r;
}
