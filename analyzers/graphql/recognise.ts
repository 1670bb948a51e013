// GraphQL requests recognised in an HTTP exchange (GraphQL over HTTP, graphql.github.io/graphql-over-http):
// - POST with a JSON body (application/json, application/*+json, or no/other type with a JSON body):
//   `{query, operationName, variables, extensions}`, or an array of them (batching: Apollo, graphql-batch);
// - POST `application/graphql`: the body is the document, operationName and variables in the URL query;
// - GET with `query`, `operationName`, `variables` (JSON) and `extensions` (JSON) URL query parameters;
// - persisted queries: `extensions.persistedQuery.sha256Hash` (Apollo APQ), with or without the document.
// An element is GraphQL-shaped when it has a string `query` or a SHA-256 persisted-query hash. Whether
// the document parses is decided later (document.ts); a JSON `{"query": "red shoes"}` of a search API
// fails there and the exchange stays a plain HTTP one. `strong` says the request carried more GraphQL
// signals than a `query` member (a path segment naming graphql, the media type, operationName,
// variables or a persisted hash), so only then a document that fails to parse is an anomaly.
//
// Responses: one result object `{data, errors, extensions}`, or for a batch an array of them in request
// order. Values are returned as parsed (the caller re-serialises only the sub-objects it scans).
import type { Exchange, HttpRequest } from '../../engine/contracts/exchange.js';
import { bodyJson } from '../shared/json.js';

/** Elements of one batch analysed; the rest are counted (graphql_batch_truncated). */
export const MAX_BATCH = 100;

export interface GraphqlElement {
  /** The document text, or null (a persisted query sent by hash only). */
  query: string | null;
  operationName: string | null;
  /** The `variables` object, or null. */
  variables: Record<string, unknown> | null;
  /** Lower-case hex SHA-256 of `extensions.persistedQuery`, or null. */
  persistedHash: string | null;
}

export interface GraphqlRequest {
  elements: GraphqlElement[];
  /** The body was a JSON array (a batch); responses then come as an array too. */
  batch: boolean;
  /** Elements beyond MAX_BATCH, not analysed. */
  dropped: number;
  /** Signals beyond a `query` member (see the file comment). */
  strong: boolean;
  /** Where the operation travelled: URL query parameters (GET) or the body. */
  via: 'get' | 'json' | 'graphql';
}

export interface GraphqlResult {
  data: unknown;
  /** The `errors` array (entries as sent), or null when absent. */
  errors: unknown[] | null;
}

const HASH = /^[0-9a-fA-F]{64}$/;

const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

function mediaType(ct: string | null): string {
  return (ct ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function persistedHashOf(ext: unknown): string | null {
  const pq = obj(obj(ext)?.['persistedQuery']);
  const h = pq?.['sha256Hash'];
  return typeof h === 'string' && HASH.test(h) ? h.toLowerCase() : null;
}

/** One `{query, operationName, variables, extensions}` object, or null when not GraphQL-shaped. */
function element(v: unknown): GraphqlElement | null {
  const o = obj(v);
  if (o === null) return null;
  const q = o['query'];
  const query = typeof q === 'string' && q !== '' ? q : null;
  const persistedHash = persistedHashOf(o['extensions']);
  if (query === null && persistedHash === null) return null;
  const name = o['operationName'];
  return {
    query,
    operationName: typeof name === 'string' && name !== '' ? name : null,
    variables: obj(o['variables']),
    persistedHash,
  };
}

/** Decoded URL query parameters (first value of each name). */
function urlParams(target: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = target.indexOf('?');
  if (q < 0) return out;
  const end = target.indexOf('#', q);
  for (const part of target.slice(q + 1, end < 0 ? undefined : end).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const dec = (s: string): string | null => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '));
      } catch {
        return null;
      }
    };
    const k = dec(eq < 0 ? part : part.slice(0, eq));
    const v = dec(eq < 0 ? '' : part.slice(eq + 1));
    if (k !== null && v !== null && !out.has(k)) out.set(k, v);
  }
  return out;
}

const jsonParam = (s: string | undefined): unknown => {
  if (s === undefined || s === '') return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
};

/** The URL query parameters GraphQL over HTTP defines (left out of an operation's parameter names). */
export const GRAPHQL_PARAMS: ReadonlySet<string> = new Set(['query', 'operationName', 'variables', 'extensions']);

function pathSignal(target: string): boolean {
  const cut = target.search(/[?#]/);
  return /graphql|gql/i.test(cut < 0 ? target : target.slice(0, cut));
}

function fromUrl(req: HttpRequest): GraphqlElement | null {
  // Most GET requests carry neither parameter: no decoding for them.
  if (!req.target.includes('query=') && !req.target.includes('extensions=')) return null;
  const p = urlParams(req.target);
  const q = p.get('query');
  const query = q !== undefined && q !== '' ? q : null;
  const persistedHash = persistedHashOf(jsonParam(p.get('extensions')));
  if (query === null && persistedHash === null) return null;
  const name = p.get('operationName');
  return {
    query,
    operationName: name !== undefined && name !== '' ? name : null,
    variables: obj(jsonParam(p.get('variables'))),
    persistedHash,
  };
}

/** The GraphQL request an exchange carries, or null. */
export function recogniseRequest(ex: Exchange): GraphqlRequest | null {
  const req = ex.request;
  if (req === null) return null;
  const method = req.method.toUpperCase();
  const path = pathSignal(req.target);
  if (method === 'GET') {
    const e = fromUrl(req);
    if (e === null) return null;
    const strong = path || e.persistedHash !== null || e.operationName !== null || e.variables !== null;
    return { elements: [e], batch: false, dropped: 0, strong, via: 'get' };
  }
  if (method !== 'POST') return null;
  const body = req.body;
  const mt = mediaType(body.contentType);
  if (mt === 'application/graphql') {
    if (body.encoding !== 'utf8' || body.data === '' || body.truncated) return null;
    const p = urlParams(req.target);
    const name = p.get('operationName');
    const e: GraphqlElement = {
      query: body.data,
      operationName: name !== undefined && name !== '' ? name : null,
      variables: obj(jsonParam(p.get('variables'))),
      persistedHash: null,
    };
    return { elements: [e], batch: false, dropped: 0, strong: true, via: 'graphql' };
  }
  if (body.encoding !== 'utf8' || body.data === '') return null;
  // JSON by media type, or by its first character when the client sent another type (text/plain is
  // common for CORS-simple GraphQL requests).
  const jsonType = mt === 'application/json' || mt.endsWith('+json');
  if (!jsonType) {
    const first = body.data.trimStart().charCodeAt(0);
    if (first !== 0x7b && first !== 0x5b) return null;
  }
  const v = bodyJson(body);
  if (Array.isArray(v)) {
    if (v.length === 0) return null;
    const elements: GraphqlElement[] = [];
    for (let i = 0; i < v.length && i < MAX_BATCH; i++) {
      const e = element(v[i]);
      if (e === null) return null; // a batch is GraphQL only when every element is
      elements.push(e);
    }
    return { elements, batch: true, dropped: Math.max(0, v.length - MAX_BATCH), strong: true, via: 'json' };
  }
  const e = element(v);
  if (e === null) return null;
  const o = obj(v) ?? {};
  const strong = path || e.persistedHash !== null || 'operationName' in o || 'variables' in o;
  return { elements: [e], batch: false, dropped: 0, strong, via: 'json' };
}

/**
 * The results of the response, aligned with the request's `n` elements (null where there is none:
 * no response, not JSON, a batch answered by one object, an array of another length).
 */
export function responseResults(ex: Exchange, n: number, batch: boolean): (GraphqlResult | null)[] {
  const out: (GraphqlResult | null)[] = new Array<GraphqlResult | null>(n).fill(null);
  const res = ex.response;
  if (res === null || res.body.encoding !== 'utf8' || res.body.data === '') return out;
  const first = res.body.data.trimStart().charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return out;
  const v = bodyJson(res.body);
  const result = (x: unknown): GraphqlResult | null => {
    const o = obj(x);
    if (o === null || !('data' in o || 'errors' in o)) return null;
    const errs = o['errors'];
    return { data: o['data'] ?? null, errors: Array.isArray(errs) ? (errs as unknown[]) : null };
  };
  if (batch) {
    if (Array.isArray(v) && v.length >= n) for (let i = 0; i < n; i++) out[i] = result(v[i]);
    else if (!Array.isArray(v) && n === 1) out[0] = result(v);
  } else if (!Array.isArray(v)) {
    out[0] = result(v);
  }
  return out;
}
