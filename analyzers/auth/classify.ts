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
  const parts = token.split('.');
  if (parts.length !== 3 || (parts[0] ?? '').length < 4) return false;
  try {
    const head = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return head !== null && typeof head === 'object' && 'alg' in head;
  } catch {
    return false;
  }
}

/** Query parameter names of a request target (percent-decoded, '+' as space), in order, with repeats. */
/** "query:<lower-case name>" when a query parameter of that name carries credentials, else null. */
export function credentialQueryPart(name: string): string | null {
  const lower = name.toLowerCase();
  return QUERY_KEYS.has(lower) ? `query:${lower}` : null;
}

export function queryNames(target: string): string[] {
  const q = target.indexOf('?');
  if (q < 0) return [];
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

export function classifyAuth(ex: Exchange): AuthResult {
  const req = ex.request;
  if (req === null) return { schemes: ['none'], inUrl: [] };
  const schemes = new Set<AuthScheme>();
  const inUrl = new Set<string>();
  for (const [rawName, value] of req.headers) {
    const name = rawName.toLowerCase();
    if (name === 'authorization' || name === 'proxy-authorization') {
      const sp = value.trim().indexOf(' ');
      const scheme = (sp < 0 ? value.trim() : value.trim().slice(0, sp)).toLowerCase();
      const cred =
        sp < 0
          ? ''
          : value
              .trim()
              .slice(sp + 1)
              .trim();
      if (scheme === 'basic') schemes.add('basic');
      else if (scheme === 'bearer') schemes.add(isJwt(cred) ? 'jwt' : 'bearer');
      else if (scheme === 'digest') schemes.add('digest');
      else if (scheme === 'token' || scheme === 'apikey' || scheme === 'api-key') schemes.add('api_key_header');
      else if (isJwt(value.trim())) schemes.add('jwt');
      else if (value.trim() !== '') schemes.add('other');
    } else if (HEADER_KEY.test(name) && value.trim() !== '') {
      schemes.add('api_key_header');
    } else if (name === 'cookie') {
      for (const c of value.split(';')) {
        const eq = c.indexOf('=');
        const cname = (eq < 0 ? c : c.slice(0, eq)).trim();
        if (cname !== '' && SESSION_COOKIE.test(cname)) schemes.add('cookie');
      }
    }
  }
  for (const n of queryNames(req.target)) {
    const lower = n.toLowerCase();
    if (QUERY_AUTH.has(lower)) schemes.add('api_key_query');
    if (QUERY_KEYS.has(lower)) inUrl.add(`query:${lower}`);
  }
  // Absolute-form target with userinfo (http://user:pass@host/...): a credential in the URL.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(req.target)) {
    inUrl.add('userinfo');
    schemes.add('basic');
  }
  if (schemes.size === 0) schemes.add('none');
  return { schemes: [...schemes].sort(), inUrl: [...inUrl].sort() };
}
