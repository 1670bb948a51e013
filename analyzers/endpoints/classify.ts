// Value classes of path segments, and the words that are never templated.
//
// A segment whose value class is one of PARAM_CLASSES becomes a parameter on its own; others need the
// cardinality rule (tree.ts). Version segments and reserved words are never templated.

export const PARAM_CLASSES = ['integer', 'uuid', 'objectid', 'hex', 'date', 'email', 'token'] as const;
export type ValueClass = (typeof PARAM_CLASSES)[number] | 'version' | 'reserved' | 'word';

/**
 * Words that name things rather than identify them: never templated, so `/users/me` stays beside
 * `/users/{userId}` (static beats parameter, OpenAPI 3.1 "Path Templating Matching").
 */
export const RESERVED = new Set([
  'api',
  'apis',
  'rest',
  'rpc',
  'graphql',
  'me',
  'self',
  'mine',
  'my',
  'current',
  'latest',
  'new',
  'all',
  'search',
  'login',
  'logout',
  'signin',
  'signout',
  'signup',
  'register',
  'auth',
  'oauth',
  'oauth2',
  'token',
  'tokens',
  'refresh',
  'health',
  'healthz',
  'ready',
  'readyz',
  'live',
  'livez',
  'ping',
  'status',
  'metrics',
  'version',
  'versions',
  'info',
  'config',
  'settings',
  'admin',
  'public',
  'private',
  'internal',
  'static',
  'assets',
  'batch',
  'bulk',
  'export',
  'import',
  'count',
  'stats',
  'default',
  'index',
  'list',
  'create',
  'update',
  'delete',
  'edit',
  'upload',
  'download',
  'callback',
  'webhook',
  'webhooks',
  'openapi',
  'swagger',
  'docs',
  'v',
  'json',
  'xml',
  'profile',
  'account',
  'password',
  'reset',
  'verify',
  'session',
  'sessions',
  'user',
  'users',
]);

const RE_INT = /^-?\d+$/;
const RE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RE_OBJECTID = /^[0-9a-f]{24}$/i;
const RE_HEX = /^(0x)?[0-9a-f]{8,}$/i;
const RE_DATE = /^\d{4}-\d{2}-\d{2}([tT ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([zZ]|[+-]\d{2}:?\d{2})?)?$|^\d{8}$/;
const RE_EMAIL = /^[^@\s/]+@[^@\s/]+\.[a-z]{2,}$/i;
/** v1, v2.1, V3beta, 1.0, 2.0.1 (API date versions like 2010-04-01: see isVersionSegment). */
const RE_VERSION = /^(v\d+([._]\d+)*([a-z]+\d*)?|\d+\.\d+(\.\d+)?)$/i;
const RE_DATE_VERSION = /^(19|20)\d{2}-\d{2}-\d{2}$/;

/**
 * Version-like segment. A YYYY-MM-DD segment is ambiguous (Twilio's /2010-04-01/ vs a report date):
 * classifySegment calls it a date, and the tree keeps it literal only at a structural position
 * (first segment or right after an api/version prefix), where it is an API version.
 */
export function isVersionSegment(seg: string, includeDates = true): boolean {
  return RE_VERSION.test(seg) || (includeDates && RE_DATE_VERSION.test(seg));
}

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Long opaque identifiers (Twilio SIDs, base64url tokens, slugs with random suffixes): at least 16
 * characters of [A-Za-z0-9_-=.~+], with both letters and digits and entropy >= 3 bits/char.
 */
function isToken(s: string): boolean {
  if (s.length < 16 || !/^[A-Za-z0-9_\-=.~+]+$/.test(s)) return false;
  if (!/\d/.test(s) || !/[A-Za-z]/.test(s)) return false;
  return entropy(s) >= 3;
}

/** Percent-decoded (for classification only; templates keep the raw segment). */
function decoded(seg: string): string {
  if (!seg.includes('%')) return seg;
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/**
 * The value class of one raw path segment. Order matters: version before integer/date (so `1.0`
 * and `2010-04-01` stay versions), integer before hex, ObjectId and UUID before hex.
 */
export function classifySegment(raw: string): ValueClass {
  const seg = decoded(raw);
  if (isVersionSegment(seg, false)) return 'version';
  if (RESERVED.has(seg.toLowerCase())) return 'reserved';
  if (RE_INT.test(seg)) return 'integer';
  if (RE_UUID.test(seg)) return 'uuid';
  if (RE_OBJECTID.test(seg) && /\d/.test(seg)) return 'objectid';
  if (RE_HEX.test(seg) && /\d/.test(seg)) return 'hex';
  if (RE_DATE.test(seg)) return 'date';
  if (RE_EMAIL.test(seg)) return 'email';
  if (isToken(seg)) return 'token';
  return 'word';
}

export function isParamClass(c: ValueClass): boolean {
  return (PARAM_CLASSES as readonly string[]).includes(c);
}

/** users → user, categories → category, addresses → address, statuses → status. */
const IRREGULAR: Record<string, string> = {
  people: 'person',
  children: 'child',
  men: 'man',
  women: 'woman',
  data: 'data',
  media: 'media',
  indices: 'index',
  analyses: 'analysis',
};

export function singular(word: string): string {
  const w = word;
  const irr = IRREGULAR[w.toLowerCase()];
  if (irr !== undefined)
    return w.charAt(0) === w.charAt(0).toUpperCase() ? irr.charAt(0).toUpperCase() + irr.slice(1) : irr;
  if (/ies$/i.test(w) && w.length > 4) return w.slice(0, -3) + 'y';
  if (/(ss|us)es$/i.test(w)) return w.slice(0, -2);
  if (/(x|ch|sh)es$/i.test(w)) return w.slice(0, -2);
  if (/[^su]s$/i.test(w) && w.length > 3) return w.slice(0, -1);
  return w;
}

/** `line-items` → `lineItemId`; null when the parent gives no usable name. */
export function paramNameFromParent(parent: string): string | null {
  const words = decoded(parent)
    .split(/[^A-Za-z0-9]+/)
    .filter((x) => x !== '');
  if (words.length === 0 || !/^[A-Za-z]/.test(words[0] ?? '')) return null;
  const last = singular(words[words.length - 1] ?? '');
  words[words.length - 1] = last;
  const camel = words
    .map((x, i) => (i === 0 ? x.charAt(0).toLowerCase() + x.slice(1) : x.charAt(0).toUpperCase() + x.slice(1)))
    .join('');
  return camel + 'Id';
}

const STATIC_EXT =
  /\.(js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|html?|txt|pdf|mp4|webm|mp3|wasm)$/i;
const HEALTH = new Set([
  'health',
  'healthz',
  'ready',
  'readyz',
  'live',
  'livez',
  'ping',
  '_ping',
  'status',
  'healthcheck',
]);

/** Category of one request (path segments raw, method upper-case). */
export function categoryOf(
  segs: readonly string[],
  method: string,
  isPreflight: boolean,
): 'api' | 'static' | 'health' | 'preflight' {
  if (method === 'OPTIONS' && isPreflight) return 'preflight';
  const last = segs[segs.length - 1];
  if (last !== undefined && STATIC_EXT.test(last)) return 'static';
  if (segs.length <= 3 && last !== undefined && HEALTH.has(last.toLowerCase())) return 'health';
  return 'api';
}
