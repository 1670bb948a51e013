// GraphQL operations as endpoints: one inventory record per (host, HTTP method, operation).
//
// Key. The inventory and the store key endpoints by (host, method, path), so an operation gets a path
// under the one its requests were sent to: `<base>/<type>/<name>`, e.g. POST /graphql/query/GetUser.
// Anonymous operations are named `anonymous-<12 hex>` (SHA-256 of the normalised document, document.ts);
// a persisted query sent by hash only, whose document this host never showed with that hash, is
// `<base>/persisted/<first 16 hex of the hash>`. A '-' never occurs in a GraphQL name, so these never
// collide with a named operation. The record carries `protocol: 'graphql'` and `operation`
// ("query GetUser"), so nothing has to parse the path back.
//
// Operations live beside the host's path tree, not in it: the tree would template many operation names
// at one position into a parameter. Each request element (a batch of N counts N operations) is folded
// into its operation's LeafStats through an *operation view* of the exchange (opView): the same
// exchange with `protocol: 'graphql'`, the request body reduced to `{"variables": ..., "arguments": ...}`
// (arguments: the literal values written into the document, by response key, document.ts) and the
// response body to that operation's result `{"data": ..., "errors": ...}` (aliased keys renamed to
// their field names: document.ts dealias), so field shapes, PII paths
// (`request.body $.variables.email`, `request.body $.arguments.user.email`, `response.body
// $.data.user.email`), auth and cleartext checks of every plug-in apply per operation unchanged; a
// result refused with `extensions.code` UNAUTHENTICATED / FORBIDDEN and no data counts as 401 / 403.
// GET requests keep their URL: variables in a URL are an exposure of the URL (request.query), and
// are reported as such.
//
// Persisted queries are resolved at snapshot time (order-independent): a hash-only leaf folds into the
// operation a request carrying the document with that hash (verified: SHA-256 of the text) named.
// Bounded: operations per host (beyond: `<base>/overflow/operations`, counted), hashes per host,
// document cache (document.ts), coordinates per operation.
import type { Body, Exchange } from '../../engine/contracts/exchange.js';
import type { EndpointRecord } from '../../engine/contracts/inventory.js';
import { buildRecord, type EndpointAggregate } from '../endpoints/aggregate.js';
import type { LeafStats } from '../endpoints/stats.js';
import { mergeStats, newLeafStats, SmallestSet } from '../endpoints/stats.js';
import type { TemplateSeg } from '../endpoints/tree.js';
import type { OperationInfo, DocumentStatus } from './document.js';
import { dealias, DocumentCache, LIMITS, persistedHashOf, selectOperation } from './document.js';
import type { GraphqlResult } from './recognise.js';
import { recogniseRequest, responseResults } from './recognise.js';
import type { LoadedGraphqlSchema, OperationCheck } from './schema.js';
import { checkAgainst } from './schema.js';

export const GRAPHQL_LIMITS = {
  /** Operation endpoints per host; further operations share `<base>/overflow/operations`. */
  opsPerHost: 2000,
  /** Persisted-query hashes remembered per host (hash → operation). */
  persistedPerHost: 10_000,
  /** Schema coordinates kept per operation (unknown, deprecated). */
  coordinates: 64,
  /** Normalised-document hashes kept per operation. */
  signatures: 16,
} as const;

/** Counters of this module (names in engine/contracts/catalogue.ts). */
export const GRAPHQL_COUNTERS = [
  'graphql_exchanges',
  'graphql_operations',
  'graphql_batches',
  'graphql_persisted_by_hash',
  'graphql_document_parses',
  'graphql_document_too_large',
  'graphql_document_too_deep',
  'graphql_document_too_many_tokens',
  'graphql_syntax_error',
  'graphql_no_operation',
  'graphql_operation_not_found',
  'graphql_operation_ambiguous',
  'graphql_alias_abuse',
  'graphql_persisted_hash_mismatch',
  'graphql_result_missing',
  'graphql_batch_truncated',
  'graphql_operations_overflow',
  'graphql_persisted_map_full',
] as const;
export type GraphqlCounter = (typeof GRAPHQL_COUNTERS)[number];

const STATUS_COUNTER: Record<Exclude<DocumentStatus, 'ok'>, GraphqlCounter> = {
  too_large: 'graphql_document_too_large',
  too_deep: 'graphql_document_too_deep',
  too_many_tokens: 'graphql_document_too_many_tokens',
  syntax: 'graphql_syntax_error',
  no_operation: 'graphql_no_operation',
};

/** One operation endpoint's accumulators (or a hash-only persisted leaf awaiting resolution). */
export interface OpState {
  method: string;
  /** Path the requests were sent to ('/graphql'). */
  base: string;
  /** 'query' | 'mutation' | 'subscription', or 'persisted' / 'overflow'. */
  type: string;
  name: string;
  path: string;
  /** For a hash-only persisted leaf: the full hash. */
  persistedHash: string | null;
  stats: LeafStats;
  /** Executions whose result carried a non-empty `errors` array. */
  errors: number;
  /** Documents checked against the schemas, and how many of them failed validation. */
  checked: number;
  invalid: number;
  unknown: SmallestSet;
  deprecated: SmallestSet;
  signatures: SmallestSet;
  /** Elements with more aliases than LIMITS.maxAliases. */
  aliasAbuse: number;
  /** Restored from the store (its stats came from a record). */
  restored: boolean;
}

interface HostState {
  ops: Map<string, OpState>;
  /**
   * Persisted hash (its first 16 hex digits, as in the leaf's path, so a leaf restored from the store
   * resolves too) → `<type>/<name>` of the operation its document holds, and that document's schema
   * check (a hash-only leaf resolved to it is judged by the document it stands for).
   */
  persisted: Map<string, { to: string; check: OperationCheck | null }>;
}

/** One operation of one exchange, as the facade folds it in. */
export interface OperationView {
  ex: Exchange;
  path: string;
  tpl: TemplateSeg[];
  leaf: LeafStats;
}

/** One operation endpoint at snapshot time, with what findings need beside the record. */
export interface OpSummary {
  operation: string;
  type: string;
  errors: number;
  checked: number;
  invalid: number;
  unknown: string[];
  deprecated: string[];
  aliasAbuse: number;
  /** Hash-only persisted operation never resolved to a document. */
  unresolved: boolean;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function newOp(method: string, base: string, type: string, name: string, hash: string | null): OpState {
  return {
    method,
    base,
    type,
    name,
    path: opPath(base, type, name),
    persistedHash: hash,
    stats: newLeafStats(),
    errors: 0,
    checked: 0,
    invalid: 0,
    unknown: new SmallestSet(GRAPHQL_LIMITS.coordinates),
    deprecated: new SmallestSet(GRAPHQL_LIMITS.coordinates),
    signatures: new SmallestSet(GRAPHQL_LIMITS.signatures),
    aliasAbuse: 0,
    restored: false,
  };
}

export function opPath(base: string, type: string, name: string): string {
  return `${base === '/' ? '' : base}/${type}/${name}`;
}

const tplOf = (path: string): TemplateSeg[] =>
  path
    .split('/')
    .filter((s) => s !== '')
    .map((text) => ({ text, param: false }));

function isJsonType(ct: string | null): boolean {
  const mt = (ct ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return mt === 'application/json' || mt.endsWith('+json');
}

function viewBody(orig: Body, value: Record<string, unknown> | null): Body {
  const data = value === null ? '' : JSON.stringify(value);
  return {
    size: orig.size,
    decodedSize: orig.decodedSize,
    contentType: value !== null && !isJsonType(orig.contentType) ? 'application/json' : orig.contentType,
    contentEncoding: orig.contentEncoding,
    encoding: 'utf8',
    data,
    truncated: orig.truncated,
    complete: orig.complete,
  };
}

/**
 * The status an operation's outcome counts as: GraphQL servers answer 200 and say "not authenticated"
 * in the result (`errors[0].extensions.code`, Apollo's and most servers' convention); an operation
 * refused that way with no data counts as 401 / 403, so it is not taken for an open endpoint.
 */
function effectiveStatus(status: number, result: GraphqlResult | null): number {
  if (status < 200 || status > 299 || result === null || result.data !== null || result.errors === null) return status;
  const first = result.errors[0];
  const ext = first !== null && typeof first === 'object' ? (first as Record<string, unknown>)['extensions'] : null;
  const code = ext !== null && typeof ext === 'object' ? (ext as Record<string, unknown>)['code'] : null;
  return code === 'UNAUTHENTICATED' ? 401 : code === 'FORBIDDEN' ? 403 : status;
}

/** The exchange as one operation's (see the file comment). */
function opView(
  ex: Exchange,
  index: number,
  batch: boolean,
  via: 'get' | 'json' | 'graphql',
  variables: Record<string, unknown> | null,
  literalArgs: Record<string, unknown> | null,
  info: OperationInfo | null,
  result: GraphqlResult | null,
): Exchange {
  const req = ex.request as NonNullable<Exchange['request']>;
  const res = ex.response;
  let reqValue: Record<string, unknown> | null = null;
  if (variables !== null) reqValue = { variables };
  if (literalArgs !== null) (reqValue ??= {})['arguments'] = literalArgs;
  const reqBody = via === 'get' ? req.body : viewBody(req.body, reqValue);
  let resValue: Record<string, unknown> | null = null;
  if (result !== null) {
    resValue = { data: info?.aliasTree != null ? dealias(result.data, info.aliasTree) : result.data };
    if (result.errors !== null) resValue['errors'] = result.errors;
  }
  return {
    ...ex,
    id: batch ? `${ex.id}.${index}` : ex.id,
    request: { ...req, body: reqBody },
    response:
      res === null ? null : { ...res, status: effectiveStatus(res.status, result), body: viewBody(res.body, resValue) },
    protocol: 'graphql',
  };
}

export interface GraphqlInventory {
  /**
   * The operations of a GraphQL exchange, each with its operation view and leaf (the caller folds the
   * view into the leaf and hands it to the plug-ins), or null when the exchange is not GraphQL (or no
   * element of it could be recognised): the caller then treats it as plain HTTP.
   */
  observe(ex: Exchange, host: string, method: string, base: string): OperationView[] | null;
  /** Operation endpoints of a host (records without plug-in contributions), unsorted. */
  aggregates(host: string): EndpointAggregate[];
  /** Provisional → final path of each operation leaf (persisted leaves resolved). */
  pathMap(host: string): { method: string; rawPath: string; path: string }[];
  /** GraphQL facts of an endpoint built by aggregates(), for findings. */
  summary(host: string, method: string, path: string): OpSummary | undefined;
  /** Restore one stored operation record (record.operation set) with its leaf. */
  restore(r: EndpointRecord, leaf: LeafStats, facts: { unknown: string[]; deprecated: string[] }): void;
  forget(hosts: readonly string[]): void;
  hosts(): string[];
  readonly schemas: readonly LoadedGraphqlSchema[];
  stats(): Record<GraphqlCounter, number>;
}

export function createGraphqlInventory(schemas: readonly LoadedGraphqlSchema[] = []): GraphqlInventory {
  const hosts = new Map<string, HostState>();
  const cache = new DocumentCache();
  const checks = new WeakMap<OperationInfo, OperationCheck | null>();
  const counts = Object.fromEntries(GRAPHQL_COUNTERS.map((c) => [c, 0])) as Record<GraphqlCounter, number>;
  const summaries = new Map<string, OpSummary>();

  const hostState = (host: string): HostState => {
    let h = hosts.get(host);
    if (h === undefined) {
      h = { ops: new Map(), persisted: new Map() };
      hosts.set(host, h);
    }
    return h;
  };

  const checkOf = (op: OperationInfo): OperationCheck | null => {
    if (schemas.length === 0) return null;
    let c = checks.get(op);
    if (c === undefined) {
      c = checkAgainst(schemas, op.ast);
      checks.set(op, c);
    }
    return c;
  };

  const opFor = (h: HostState, method: string, base: string, type: string, name: string, hash: string | null) => {
    const key = `${method} ${opPath(base, type, name)}`;
    let op = h.ops.get(key);
    if (op !== undefined) return op;
    if (h.ops.size >= GRAPHQL_LIMITS.opsPerHost) {
      counts.graphql_operations_overflow++;
      const okey = `${method} ${opPath(base, 'overflow', 'operations')}`;
      op = h.ops.get(okey);
      if (op === undefined) h.ops.set(okey, (op = newOp(method, base, 'overflow', 'operations', null)));
      return op;
    }
    op = newOp(method, base, type, name, hash);
    h.ops.set(key, op);
    return op;
  };

  function observe(ex: Exchange, host: string, method: string, base: string): OperationView[] | null {
    const g = recogniseRequest(ex);
    if (g === null) return null;
    const results = responseResults(ex, g.elements.length, g.batch);
    const h = hostState(host);
    const views: OperationView[] = [];
    g.elements.forEach((e, i) => {
      let op: OpState;
      let info: OperationInfo | null = null;
      if (e.query !== null) {
        const before = cache.misses;
        const doc = cache.get(e.query);
        counts.graphql_document_parses += cache.misses - before;
        if (doc.status !== 'ok') {
          if (g.strong) counts[STATUS_COUNTER[doc.status]]++;
          return;
        }
        const sel = selectOperation(doc, e.operationName);
        if (sel === 'ambiguous' || sel === 'not_found') {
          if (g.strong) counts[sel === 'ambiguous' ? 'graphql_operation_ambiguous' : 'graphql_operation_not_found']++;
          return;
        }
        info = sel;
        const name = sel.name ?? `anonymous-${sel.signatureHash}`;
        if (e.persistedHash !== null) {
          if (persistedHashOf(e.query) !== e.persistedHash) counts.graphql_persisted_hash_mismatch++;
          else if (h.persisted.has(e.persistedHash.slice(0, 16)) || h.persisted.size < GRAPHQL_LIMITS.persistedPerHost)
            h.persisted.set(e.persistedHash.slice(0, 16), { to: `${sel.type}/${name}`, check: checkOf(sel) });
          else counts.graphql_persisted_map_full++;
        }
        op = opFor(h, method, base, sel.type, name, null);
      } else {
        const hash = e.persistedHash as string;
        counts.graphql_persisted_by_hash++;
        op = opFor(h, method, base, 'persisted', hash.slice(0, 16), hash);
      }
      counts.graphql_operations++;
      if (info !== null) {
        op.signatures.add(info.signatureHash);
        if (info.aliases > LIMITS.maxAliases) {
          op.aliasAbuse++;
          counts.graphql_alias_abuse++;
        }
        const c = checkOf(info);
        if (c !== null) {
          op.checked++;
          if (!c.valid) op.invalid++;
          for (const u of c.unknown) op.unknown.add(u);
          for (const d of c.deprecated) op.deprecated.add(d);
        }
      }
      const r = results[i] ?? null;
      // Subscriptions and incremental delivery answer text/event-stream or multipart: no result to miss.
      if (r === null && ex.response !== null && isJsonType(ex.response.body.contentType))
        counts.graphql_result_missing++;
      if (r !== null && r.errors !== null && r.errors.length > 0) op.errors++;
      const view = opView(ex, i, g.batch, g.via, e.variables, info?.literalArgs ?? null, info, r);
      views.push({ ex: view, path: op.path, tpl: tplOf(op.path), leaf: op.stats });
    });
    if (views.length === 0) return null;
    counts.graphql_exchanges++;
    if (g.batch) counts.graphql_batches++;
    counts.graphql_batch_truncated += g.dropped;
    return views;
  }

  /** The final `<type>/<name>` of a leaf: a resolved persisted leaf goes to its operation. */
  const finalOf = (h: HostState, op: OpState): { type: string; name: string } => {
    if (op.persistedHash !== null) {
      const to = h.persisted.get(op.persistedHash.slice(0, 16))?.to;
      if (to !== undefined) {
        const slash = to.indexOf('/');
        return { type: to.slice(0, slash), name: to.slice(slash + 1) };
      }
    }
    return { type: op.type, name: op.name };
  };

  function aggregates(host: string): EndpointAggregate[] {
    const h = hosts.get(host);
    if (h === undefined) return [];
    const groups = new Map<string, { method: string; base: string; type: string; name: string; leaves: OpState[] }>();
    for (const op of h.ops.values()) {
      const f = finalOf(h, op);
      const key = `${op.method} ${opPath(op.base, f.type, f.name)}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { method: op.method, base: op.base, ...f, leaves: [] }));
      g.leaves.push(op);
    }
    const out: EndpointAggregate[] = [];
    for (const g of groups.values()) {
      const path = opPath(g.base, g.type, g.name);
      const stats = newLeafStats();
      const unknown = new SmallestSet(GRAPHQL_LIMITS.coordinates);
      const deprecated = new SmallestSet(GRAPHQL_LIMITS.coordinates);
      const signatures = new SmallestSet(GRAPHQL_LIMITS.signatures);
      let errors = 0;
      let checked = 0;
      let invalid = 0;
      let aliasAbuse = 0;
      const explain: string[] = [];
      const operation = `${g.type} ${g.name}`;
      explain.push(`graphql operation ${operation} sent to ${g.method} ${g.base}`);
      if (g.name.startsWith('anonymous-'))
        explain.push('anonymous operation: named by SHA-256 of its normalised document (aliases and literals hidden)');
      // Leaves in path order, so merging is independent of the order operations were first seen.
      for (const l of [...g.leaves].sort((a, b) => cmp(a.path, b.path))) {
        mergeStats(stats, l.stats);
        errors += l.errors;
        checked += l.checked;
        invalid += l.invalid;
        aliasAbuse += l.aliasAbuse;
        unknown.addAll(l.unknown);
        deprecated.addAll(l.deprecated);
        signatures.addAll(l.signatures);
        if (l.persistedHash !== null) {
          const c = h.persisted.get(l.persistedHash.slice(0, 16))?.check ?? null;
          if (c !== null) {
            checked++;
            if (!c.valid) invalid++;
            for (const u of c.unknown) unknown.add(u);
            for (const d of c.deprecated) deprecated.add(d);
          }
          explain.push(
            l.path === path
              ? `persisted query ${l.name}: sent by hash only, its document never seen on this host`
              : `persisted query ${l.persistedHash.slice(0, 16)}: ${l.stats.hits} requests by hash, resolved by a request carrying the document`,
          );
        }
      }
      if (signatures.size > 1) explain.push(`${signatures.size} distinct normalised documents`);
      if (schemas.length > 0) {
        explain.push(
          checked === 0
            ? 'not checked against the GraphQL schema (no document seen)'
            : invalid === 0
              ? `valid against ${schemas.map((s) => s.name).join(', ')}`
              : `${invalid} of ${checked} documents do not validate against ${schemas.map((s) => s.name).join(', ')}`,
        );
      }
      const ag = buildRecord(host, g.method, tplOf(path), stats, explain, null, null, []);
      const r = ag.record;
      r.category = 'api';
      r.documented = schemas.length > 0 && checked > 0 && invalid === 0 && unknown.size === 0;
      r.deprecated = deprecated.size > 0;
      r.protocol = 'graphql';
      r.operation = operation;
      r.graphqlErrors = errors;
      summaries.set(`${host}\u0000${g.method}\u0000${path}`, {
        operation,
        type: g.type,
        errors,
        checked,
        invalid,
        unknown: unknown.values(),
        deprecated: deprecated.values(),
        aliasAbuse,
        unresolved: g.type === 'persisted',
      });
      out.push(ag);
    }
    return out;
  }

  function pathMap(host: string): { method: string; rawPath: string; path: string }[] {
    const h = hosts.get(host);
    if (h === undefined) return [];
    return [...h.ops.values()].map((op) => {
      const f = finalOf(h, op);
      return { method: op.method, rawPath: op.path, path: opPath(op.base, f.type, f.name) };
    });
  }

  function restore(r: EndpointRecord, leaf: LeafStats, facts: { unknown: string[]; deprecated: string[] }): void {
    const operation = r.operation ?? '';
    const sp = operation.indexOf(' ');
    const type = sp < 0 ? 'query' : operation.slice(0, sp);
    const name = sp < 0 ? operation : operation.slice(sp + 1);
    const suffix = `/${type}/${name}`;
    const base = r.path.endsWith(suffix) ? r.path.slice(0, r.path.length - suffix.length) || '/' : r.path;
    const h = hostState(r.host);
    // A restored hash-only leaf keeps the hash prefix its path names, so it still resolves.
    const op = newOp(r.method.toUpperCase(), base, type, name, type === 'persisted' ? name : null);
    op.path = r.path;
    op.stats = leaf;
    op.errors = r.graphqlErrors ?? 0;
    op.restored = true;
    if (r.documented) op.checked = 1;
    else if (facts.unknown.length > 0) op.checked = op.invalid = 1;
    for (const u of facts.unknown) op.unknown.add(u);
    for (const d of facts.deprecated) op.deprecated.add(d);
    h.ops.set(`${op.method} ${op.path}`, op);
  }

  return {
    observe,
    aggregates,
    pathMap,
    summary: (host, method, path) => summaries.get(`${host}\u0000${method}\u0000${path}`),
    restore,
    forget(list) {
      for (const host of list) {
        hosts.delete(host);
        for (const k of [...summaries.keys()]) if (k.startsWith(`${host}\u0000`)) summaries.delete(k);
      }
    },
    hosts: () => [...hosts.keys()].sort(cmp),
    schemas,
    stats: () => ({ ...counts }),
  };
}
