// Postman Collection v2.1 of the API reconstructed from traffic (`--postman out.json`): one folder per
// host, one request per observed endpoint, so a tester can replay the inventory (shadow routes
// included) against a staging system.
//
// Built from the public inventory (EndpointRecord), like the OpenAPI reconstruction: path parameters
// become Postman path variables (:name), query parameter names become empty query entries, JSON
// request bodies become a skeleton from the observed field shapes (type placeholders, never observed
// values), and the auth schemes seen become Postman auth with {{variables}}: the collection carries no
// credential, token or personal value. Deterministic: sorted, ids derived from content.
import { createHash } from 'node:crypto';
import type { EndpointRecord } from '../../contracts/inventory.js';

export const POSTMAN_SCHEMA = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';

export interface PostmanOptions {
  name?: string;
  /** Leave out static assets, health checks and CORS preflights (default true). */
  apiOnly?: boolean;
  /** URL scheme of the base URLs (default https). */
  scheme?: 'http' | 'https';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A deterministic UUID-shaped id (Postman wants _postman_id to look like one). */
function uuidOf(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const varName = (host: string): string => `baseUrl_${host.replace(/[^A-Za-z0-9]+/g, '_')}`;

interface Node {
  type: string | null;
  props: Map<string, Node>;
  items: Node | null;
}
const node = (): Node => ({ type: null, props: new Map(), items: null });

/** "$.a.b[*].c" → steps; null when the path is not a plain JSON path. */
function steps(path: string): string[] | null {
  if (!path.startsWith('$')) return null;
  const out: string[] = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[\*\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return null;
    if (m[1] !== undefined) out.push('.' + m[1]);
    else if (m[2] !== undefined) out.push('.' + (JSON.parse(m[2]) as string));
    else out.push('[*]');
  }
  return out;
}

function placeholder(n: Node): Json {
  if (n.props.size > 0) {
    const o: { [k: string]: Json } = {};
    for (const k of [...n.props.keys()].sort()) o[k] = placeholder(n.props.get(k) as Node);
    return o;
  }
  if (n.items !== null) return [placeholder(n.items)];
  switch (n.type) {
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return '';
  }
}

/** JSON request body skeleton from "request.body $.x.y:type" field shapes, or null when none were seen. */
export function requestSkeleton(fields: readonly string[]): Json | null {
  const root = node();
  let any = false;
  for (const f of fields) {
    const m = /^request\.body (.+):([a-z]+)$/.exec(f);
    if (!m) continue;
    const st = steps(m[1] ?? '');
    if (st === null) continue;
    let cur = root;
    for (const s of st) {
      if (s === '[*]') cur = cur.items ??= node();
      else {
        let c = cur.props.get(s.slice(1));
        if (c === undefined) {
          c = node();
          cur.props.set(s.slice(1), c);
        }
        cur = c;
      }
    }
    if (cur.type === null || cur.type === 'null') cur.type = m[2] ?? null;
    any = true;
  }
  return any ? placeholder(root) : null;
}

function auth(schemes: readonly string[]): { auth: Json; headers: Json[] } {
  const kv = (key: string, value: string): Json => ({ key, value, type: 'string' });
  const has = (s: string): boolean => schemes.includes(s);
  if (has('bearer') || has('jwt'))
    return { auth: { type: 'bearer', bearer: [kv('token', '{{bearerToken}}')] }, headers: [] };
  if (has('basic'))
    return {
      auth: { type: 'basic', basic: [kv('username', '{{username}}'), kv('password', '{{password}}')] },
      headers: [],
    };
  if (has('digest'))
    return {
      auth: { type: 'digest', digest: [kv('username', '{{username}}'), kv('password', '{{password}}')] },
      headers: [],
    };
  if (has('api_key_header'))
    return {
      auth: { type: 'apikey', apikey: [kv('key', 'X-API-Key'), kv('value', '{{apiKey}}'), kv('in', 'header')] },
      headers: [],
    };
  if (has('api_key_query'))
    return {
      auth: { type: 'apikey', apikey: [kv('key', 'api_key'), kv('value', '{{apiKey}}'), kv('in', 'query')] },
      headers: [],
    };
  if (has('cookie')) return { auth: { type: 'noauth' }, headers: [{ key: 'Cookie', value: '{{sessionCookie}}' }] };
  return { auth: { type: 'noauth' }, headers: [] };
}

function requestItem(e: EndpointRecord, scheme: string): Json {
  const base = `{{${varName(e.host)}}}`;
  const segments = e.path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/\{([^}]+)\}/g, ':$1'));
  const pathVars = [...e.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const query = e.queryParams.map((q): Json => ({ key: q, value: '' }));
  const raw =
    `${base}/${segments.join('/')}` +
    (e.queryParams.length > 0 ? '?' + e.queryParams.map((q) => `${q}=`).join('&') : '');
  const a = auth(e.auth);
  const reqTypes = e.contentTypes.filter((c) => c.startsWith('request ')).map((c) => c.slice(8));
  const headers: Json[] = [...a.headers];
  const request: { [k: string]: Json } = {
    method: e.method,
    header: headers,
    url: {
      raw,
      host: [base],
      path: segments,
      ...(query.length > 0 ? { query } : {}),
      ...(pathVars.length > 0 ? { variable: pathVars.map((k): Json => ({ key: k, value: '' })) } : {}),
    },
    auth: a.auth,
  };
  const skeleton = requestSkeleton(e.fields);
  if (reqTypes.length > 0) {
    headers.push({ key: 'Content-Type', value: reqTypes[0] ?? 'application/json' });
    if (skeleton !== null)
      request['body'] = { mode: 'raw', raw: JSON.stringify(skeleton, null, 2), options: { raw: { language: 'json' } } };
  }
  const status = Object.keys(e.statusClasses)
    .sort()
    .map((k) => `${k}: ${e.statusClasses[k]}`)
    .join(', ');
  const pii = [...new Set(e.pii.map((p) => `${p.kind} (${p.location} ${p.field})`))].sort();
  request['description'] = [
    `Observed ${e.hits} requests on ${scheme}://${e.host} between ${e.firstSeen} and ${e.lastSeen} (packet time).`,
    `Documented: ${e.documented ? (e.deprecated ? 'yes, deprecated' : 'yes') : 'no (shadow)'}. Status classes: ${status || 'none'}.`,
    `Auth seen: ${e.auth.join(', ') || 'none'}.`,
    pii.length > 0 ? `Personal data seen: ${pii.join('; ')}.` : 'No personal data seen.',
  ].join('\n');
  return { name: `${e.method} ${e.path}`, request, response: [] };
}

export function toPostman(endpoints: readonly EndpointRecord[], opts: PostmanOptions = {}): Record<string, Json> {
  const apiOnly = opts.apiOnly ?? true;
  const scheme = opts.scheme ?? 'https';
  const byHost = new Map<string, EndpointRecord[]>();
  for (const e of endpoints) {
    if (apiOnly && e.category !== 'api') continue;
    if (e.operation !== undefined) continue; // GraphQL operations: no HTTP request of their own
    const list = byHost.get(e.host) ?? [];
    list.push(e);
    byHost.set(e.host, list);
  }
  const hosts = [...byHost.keys()].sort();
  const folders = hosts.map((h): Json => {
    const eps = (byHost.get(h) as EndpointRecord[])
      .slice()
      .sort((a, b) =>
        a.path < b.path ? -1 : a.path > b.path ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0,
      );
    return { name: h, item: eps.map((e) => requestItem(e, scheme)) };
  });
  const name = opts.name ?? 'API reconstructed from traffic by apitap';
  return {
    info: {
      _postman_id: uuidOf(JSON.stringify([name, hosts, folders])),
      name,
      description:
        'Requests reconstructed from observed traffic: one folder per host, one request per endpoint. ' +
        'Values are placeholders; set the {{variables}} (base URLs, credentials) before sending.',
      schema: POSTMAN_SCHEMA,
    },
    item: folders,
    variable: hosts.map((h): Json => ({ key: varName(h), value: `${scheme}://${h}`, type: 'string' })),
  };
}
