// Per-(path, method) accumulators that merge into one endpoint's inventory.
//
// Every statistic here is order-independent, so merging the leaves of a template in any order, or
// feeding exchanges in any order, gives the same result: counts, min/max, bounded sets that keep
// the lexicographically smallest N values, and a bottom-k latency sample keyed by a hash of the
// exchange id (the k exchanges with the smallest hashes, whatever order they arrived in).
import { bodyJson as sharedBodyJson } from '../shared/json.js';
import type { JsonTape } from '../shared/skim.js';
import { bodyTape, NUM, TOK } from '../shared/skim.js';
import type { Body, Exchange } from '../../engine/contracts/exchange.js';
import { exchangeProtocol, headerValue } from '../../engine/contracts/exchange.js';
import type { AuthResult } from '../auth/classify.js';
import type { PiiFieldResult } from '../pii/types.js';
import { MAX_STREAM_FIELDS } from '../shared/gate.js';

export const LIMITS = {
  latencySample: 256,
  contentTypes: 16,
  queryParams: 64,
  fields: 200,
  vnis: 16,
  jsonDepth: 8,
  jsonNodesPerBody: 2000,
  coarseKeys: 64,
} as const;

/** A set that keeps only the `cap` smallest strings (order-independent under any insertion order). */
export class SmallestSet {
  private readonly items = new Set<string>();
  dropped = 0;
  constructor(private readonly cap: number) {}
  add(v: string): void {
    if (this.items.has(v)) return;
    this.items.add(v);
    if (this.items.size > this.cap * 2) this.trim();
  }
  private trim(): void {
    const sorted = [...this.items].sort();
    for (const v of sorted.slice(this.cap)) this.items.delete(v);
    this.dropped += sorted.length - this.cap;
  }
  addAll(o: SmallestSet): void {
    for (const v of o.items) this.add(v);
    this.dropped += o.dropped;
  }
  values(): string[] {
    return [...this.items].sort().slice(0, this.cap);
  }
  get size(): number {
    return Math.min(this.items.size, this.cap);
  }
}

/** FNV-1a 32-bit: a cheap, stable hash for sampling decisions (not for security). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface LeafStats {
  hits: number;
  firstUs: number;
  lastUs: number;
  statusClasses: Map<string, number>;
  /** [hash of exchange id, latency µs], at most LIMITS.latencySample, the smallest hashes. */
  latency: [number, number][];
  contentTypes: SmallestSet;
  queryParams: SmallestSet;
  fields: SmallestSet;
  auth: Set<string>;
  vnis: Set<number>;
  categories: Map<string, number>;
  /** Exchanges per protocol (exchange/v1 `protocol`). */
  protocols: Map<string, number>;
  /** Exchanges with any capture-quality problem (gap, truncation, one-sided, mid-stream, unpaired). */
  impaired: number;
  /** Requests carrying credentials / none. */
  authed: number;
  unauthed: number;
  /** 2xx responses to requests without credentials, and how many of them were impaired. */
  unauth2xx: number;
  unauth2xxImpaired: number;
  authed2xx: number;
  /** Responses announcing Deprecation / Sunset (RFC 9745 / RFC 8594). */
  deprecationHeader: number;
  sunsetHeader: number;
  /** Latest Sunset date seen, ISO (parsed HTTP-date; not a personal value). */
  sunsetIso: string | null;
  /** Credential-bearing URL parts: "query:<name>" or "userinfo", with counts. */
  credentialsInUrl: Map<string, number>;
  /** PII aggregator keys this leaf's exchanges were added under (bounded). */
  coarseKeys: SmallestSet;
  /** PII labels restored from the store (already aggregated; restore.ts), field names as stored. */
  restoredPii: PiiFieldResult[];
}

export function newLeafStats(): LeafStats {
  return {
    hits: 0,
    firstUs: Number.POSITIVE_INFINITY,
    lastUs: Number.NEGATIVE_INFINITY,
    statusClasses: new Map(),
    latency: [],
    contentTypes: new SmallestSet(LIMITS.contentTypes),
    queryParams: new SmallestSet(LIMITS.queryParams),
    fields: new SmallestSet(LIMITS.fields),
    auth: new Set(),
    vnis: new Set(),
    categories: new Map(),
    protocols: new Map(),
    impaired: 0,
    authed: 0,
    unauthed: 0,
    unauth2xx: 0,
    unauth2xxImpaired: 0,
    authed2xx: 0,
    deprecationHeader: 0,
    sunsetHeader: 0,
    sunsetIso: null,
    credentialsInUrl: new Map(),
    coarseKeys: new SmallestSet(LIMITS.coarseKeys),
    restoredPii: [],
  };
}

const inc = <K>(m: Map<K, number>, k: K, by = 1): void => {
  m.set(k, (m.get(k) ?? 0) + by);
};

/**
 * Per latency list, its largest kept pair after the last trim that left a full sample: a pair at or
 * above it can never be among the smallest LIMITS.latencySample (that many pairs at or below it are
 * kept), so addLatency drops it without a push and the list is sorted less often. Output-neutral.
 */
const latencyCut = new WeakMap<[number, number][], [number, number]>();

function addLatency(list: [number, number][], h: number, us: number): void {
  const cut = latencyCut.get(list);
  if (cut !== undefined && (h > cut[0] || (h === cut[0] && us >= cut[1]))) return;
  list.push([h, us]);
  if (list.length > LIMITS.latencySample * 2) trimLatency(list);
}
export function trimLatency(list: [number, number][]): void {
  list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  list.length = Math.min(list.length, LIMITS.latencySample);
  const last = list[list.length - 1];
  if (list.length === LIMITS.latencySample && last !== undefined) latencyCut.set(list, last);
}

export function isImpaired(ex: Exchange): boolean {
  const q = ex.quality;
  return q.gapBytes > 0 || q.truncated || q.oneSided || q.midstream || ex.request === null || ex.response === null;
}

/** A media type and the content-type keys of LeafStats.contentTypes made from it. */
interface MediaType {
  mt: string;
  request: string;
  response: string;
}

/**
 * Media type without parameters, lower-case. Content-Type values recur on every exchange of an API:
 * the answers are kept per value (bounded, cleared when full; media types are not personal data),
 * with their keys, so sets keyed by them hash the same strings.
 */
function mediaOf(ct: string | null): MediaType | null {
  if (ct === null) return null;
  // Most exchanges carry the type of the one before: compared without hashing the fresh string.
  if (ct === lastMedia.ct) return lastMedia.m;
  const m = keptMedia(ct);
  lastMedia.ct = ct;
  lastMedia.m = m;
  return m;
}
const lastMedia: { ct: string; m: MediaType | null } = { ct: '', m: null };

function keptMedia(ct: string): MediaType | null {
  let m = mediaTypes.get(ct);
  if (m !== undefined) return m;
  const semi = ct.indexOf(';');
  const t = (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
  m = t === '' ? null : { mt: t, request: `request ${t}`, response: `response ${t}` };
  if (ct.length <= 256) {
    if (mediaTypes.size >= 1024) mediaTypes.clear();
    mediaTypes.set(ct, m);
  }
  return m;
}
const mediaTypes = new Map<string, MediaType | null>();

/** Status class keys by hundred ("2xx"), made once. */
const STATUS_CLASSES: readonly string[] = Array.from({ length: 10 }, (_, i) => `${i}xx`);

const JSON_TYPES = ['null', 'array', 'integer', 'number', 'string', 'boolean', 'object'] as const;
function jsonTypeIndex(v: unknown): number {
  if (v === null) return 0;
  if (Array.isArray(v)) return 1;
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 2 : 3;
    case 'string':
      return 4;
    case 'boolean':
      return 5;
    default:
      return 6;
  }
}

/** One JSON path of one side, with its field strings per type, made once. */
interface PathNode {
  path: string;
  /** "<side>.body <path>:<type>" by JSON_TYPES index, made on first use. */
  fields: (string | undefined)[];
  /** Children by object key, and the array-item child "[*]". */
  keys: Map<string, PathNode> | null;
  item: PathNode | null;
  /** Object key of this node ('' for roots and array items). */
  key: string;
  /** Tape walks: the child met first in this node's last object, and the sibling met after this node. */
  first: PathNode | null;
  next: PathNode | null;
}

/**
 * Interned JSON paths and field strings per side (a trie), so walking a body builds no string for a
 * path seen before: the same API returns the same shapes again and again. Bounded: past `maxNodes`
 * new paths are built as strings per visit, as without the cache; the output is the same either way.
 * Measured on the 60 MB lab capture: walkJson was ~40% of the endpoints layer's time, mostly string
 * building and hashing of fresh strings in SmallestSet.add.
 */
export class FieldPaths {
  private readonly roots = new Map<string, PathNode>();
  private nodes = 0;
  constructor(private readonly maxNodes = 20_000) {}

  root(side: string): PathNode | null {
    let r = this.roots.get(side);
    if (r === undefined) {
      r = { path: '$', fields: [], keys: null, item: null, key: '', first: null, next: null };
      this.roots.set(side, r);
    }
    return r;
  }

  child(parent: PathNode, key: string | null): PathNode | null {
    if (key === null) {
      if (parent.item !== null) return parent.item;
    } else {
      const c = parent.keys?.get(key);
      if (c !== undefined) return c;
    }
    if (this.nodes >= this.maxNodes) return null;
    this.nodes++;
    const node: PathNode = {
      path: parent.path + (key === null ? '[*]' : keySeg(key)),
      fields: [],
      keys: null,
      item: null,
      key: key ?? '',
      first: null,
      next: null,
    };
    if (key === null) parent.item = node;
    else (parent.keys ??= new Map()).set(key, node);
    return node;
  }

  /**
   * The child for the key at text[a, b), `prev` the sibling before it in this object (null: the
   * first key): the sibling met after `prev` last time is compared in place, so a body shaped like
   * the last one interns its keys without a string per key.
   */
  childAt(parent: PathNode, prev: PathNode | null, text: string, a: number, b: number): PathNode | null {
    const hint = prev === null ? parent.first : prev.next;
    if (hint !== null && hint.key.length === b - a && text.startsWith(hint.key, a)) return hint;
    const c = this.child(parent, text.slice(a, b));
    if (c !== null) {
      if (prev === null) parent.first = c;
      else prev.next = c;
    }
    return c;
  }

  /** Whether `n` more nodes fit (a tape walk needs every node interned). */
  room(n: number): boolean {
    return this.nodes + n <= this.maxNodes;
  }
}

/** Identifiers and numbers (protobuf field numbers of gRPC bodies: $.3.1) after '.', other keys quoted. */
function keySeg(k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k) || /^\d{1,10}$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

/**
 * Add "<side>.body $.a.b[*].c:type" for each JSON node (bounded depth and node count). Values are never kept.
 * Visit order and budget: depth first, object keys in order, the first 20 array items.
 */
function walkJson(
  side: string,
  v: unknown,
  out: SmallestSet,
  paths: FieldPaths | null,
  seen: Set<string> | null = null,
): void {
  let budget: number = LIMITS.jsonNodesPerBody;
  const prefix = `${side}.body `;
  // `pn` is the interned node of `path` when there is one (then `path` is pn.path).
  const walk = (node: unknown, pn: PathNode | null, path: string, depth: number): void => {
    if (budget-- <= 0) return;
    const t = jsonTypeIndex(node);
    if (pn !== null) {
      let f = pn.fields[t];
      if (f === undefined) f = pn.fields[t] = `${prefix}${path}:${JSON_TYPES[t] as string}`;
      addField(out, seen, f);
    } else {
      addField(out, seen, `${prefix}${path}:${JSON_TYPES[t] as string}`);
    }
    if (depth >= LIMITS.jsonDepth || t < 1 || (t > 1 && t < 6)) return;
    if (t === 1) {
      const arr = node as unknown[];
      const n = Math.min(arr.length, 20);
      const cn = pn !== null ? (paths?.child(pn, null) ?? null) : null;
      const cpath = cn !== null ? cn.path : `${path}[*]`;
      for (let i = 0; i < n; i++) walk(arr[i], cn, cpath, depth + 1);
    } else {
      const obj = node as Record<string, unknown>;
      for (const k in obj) {
        if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
        const cn = pn !== null ? (paths?.child(pn, k) ?? null) : null;
        walk(obj[k], cn, cn !== null ? cn.path : path + keySeg(k), depth + 1);
      }
    }
  };
  const root = paths?.root(side) ?? null;
  walk(v, root, '$', 0);
}

/**
 * walkJson over a body's tape (shared/skim.ts): the same fields in the same order, without parsing.
 * False (nothing added) when the trie could not intern every node: walk the parsed body instead.
 */
function walkTape(
  side: string,
  tape: JsonTape,
  out: SmallestSet,
  paths: FieldPaths,
  seen: Set<string> | null = null,
): boolean {
  if (!paths.room(tape.n)) return false;
  const root = paths.root(side);
  if (root === null) return false;
  const t = tape.t;
  const text = tape.text;
  const prefix = `${side}.body `;
  let budget: number = LIMITS.jsonNodesPerBody;
  // Returns the entry after the value at `e`.
  const walk = (e: number, pn: PathNode, depth: number): number => {
    const ty = t[e * 4] as number;
    const after = ty === TOK.obj || ty === TOK.arr ? (t[e * 4 + 1] as number) + 1 : e + 1;
    if (budget-- <= 0) return after;
    const ti =
      ty === TOK.obj
        ? 6
        : ty === TOK.arr
          ? 1
          : ty === TOK.str
            ? 4
            : ty === TOK.nul
              ? 0
              : ty === TOK.num
                ? numberType(tape, e)
                : 5;
    let f = pn.fields[ti];
    if (f === undefined) f = pn.fields[ti] = `${prefix}${pn.path}:${JSON_TYPES[ti] as string}`;
    addField(out, seen, f);
    if (depth >= LIMITS.jsonDepth || (ty !== TOK.obj && ty !== TOK.arr)) return after;
    let j = e + 1;
    if (ty === TOK.arr) {
      const n = Math.min(t[e * 4 + 2] as number, 20);
      const cn = paths.child(pn, null) as PathNode;
      for (let i = 0; i < n; i++) j = walk(j, cn, depth + 1);
      return after;
    }
    let prev: PathNode | null = null;
    while (t[j * 4] !== TOK.end) {
      const cn = paths.childAt(pn, prev, text, t[j * 4 + 1] as number, t[j * 4 + 2] as number) as PathNode;
      j = walk(j + 1, cn, depth + 1);
      prev = cn;
    }
    return after;
  };
  walk(0, root, 0);
  return true;
}

/** JSON_TYPES index of a number token: integer (2) or number (3), as Number.isInteger says. */
function numberType(tape: JsonTape, e: number): number {
  const cls = tape.t[e * 4 + 3] as number;
  if (cls === NUM.small || cls === NUM.big) return 2;
  if (cls === NUM.frac) return 3;
  const x = Number(tape.text.slice(tape.t[e * 4 + 1] as number, tape.t[e * 4 + 2] as number));
  return Number.isInteger(x) ? 2 : 3;
}

function isJsonType(body: Body, mt: string | null): boolean {
  return (
    mt !== null &&
    (mt === 'application/json' || mt.endsWith('+json') || isGrpc(mt)) &&
    body.encoding === 'utf8' &&
    body.data !== ''
  );
}

/**
 * The body's field shapes into `out`: over its tape when it has one and every path can be interned,
 * else over the parsed body (a body cut by the capture cap still shows the shape of its complete
 * part; parsed once per body).
 */
function addBodyFields(
  side: string,
  body: Body,
  mt: string | null,
  out: SmallestSet,
  paths: FieldPaths | null,
  seen: Set<string> | null,
): void {
  if (!isJsonType(body, mt)) return;
  if (paths !== null) {
    const tape = bodyTape(body);
    if (tape !== null && walkTape(side, tape, out, paths, seen)) return;
  }
  const j = sharedBodyJson(body);
  if (j !== undefined) walkJson(side, j, out, paths, seen);
}

/** Field strings new to the stream's `seen` set met by the walks since the last call (gate novelty). */
let novelFields = 0;

/** Adds `f` to the leaf's fields, and notes it when it is new to the body stream (shared/gate.ts). */
function addField(out: SmallestSet, seen: Set<string> | null, f: string): void {
  out.add(f);
  if (seen !== null && !seen.has(f) && seen.size < MAX_STREAM_FIELDS) {
    seen.add(f);
    novelFields++;
  }
}

/**
 * Which bodies of one exchange addExchange walks (shared/gate.ts decided), and each walked side's
 * stream field set, so the caller learns whether the walk brought a new field (the return value).
 */
export interface BodyWalk {
  request: boolean;
  response: boolean;
  requestSeen: Set<string> | null;
  responseSeen: Set<string> | null;
}

/**
 * gRPC bodies (application/grpc, application/grpc+proto...) hold the collector's schema-less JSON
 * rendering of their protobuf messages (exchange/v1 Body of a 'grpc' exchange).
 */
export function isGrpc(mt: string): boolean {
  return mt === 'application/grpc' || mt.startsWith('application/grpc+');
}

/**
 * HTTP status of each gRPC code (google/rpc/code.proto): OK 200, CANCELLED 499, UNKNOWN 500,
 * INVALID_ARGUMENT 400, DEADLINE_EXCEEDED 504, NOT_FOUND 404, ALREADY_EXISTS 409, PERMISSION_DENIED
 * 403, RESOURCE_EXHAUSTED 429, FAILED_PRECONDITION 400, ABORTED 409, OUT_OF_RANGE 400,
 * UNIMPLEMENTED 501, INTERNAL 500, UNAVAILABLE 503, DATA_LOSS 500, UNAUTHENTICATED 401.
 */
const GRPC_HTTP_STATUS = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401] as const;

/**
 * The status an exchange's outcome counts as. gRPC answers HTTP 200 and carries the call's outcome
 * in grpc-status (trailers, or the headers of a trailers-only response): a call rejected with
 * UNAUTHENTICATED counts as 401, not as a 2xx that would look like an open endpoint.
 */
export function effectiveStatus(ex: Exchange, res: NonNullable<Exchange['response']>): number {
  if (res.status !== 200 || exchangeProtocol(ex) !== 'grpc') return res.status;
  const gs = headerValue(res.trailers, 'grpc-status') ?? headerValue(res.headers, 'grpc-status');
  if (gs === null || !/^\d{1,3}$/.test(gs.trim())) return res.status;
  return GRPC_HTTP_STATUS[Number(gs.trim())] ?? 500;
}

/** The most frequent protocol (ties: the first by name), 'http' when none was counted. */
export function protocolOf(s: LeafStats): string {
  let best = 'http';
  let n = 0;
  for (const [k, v] of [...s.protocols].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (v > n) {
      n = v;
      best = k;
    }
  }
  return best;
}

/** HTTP-date → ISO string, or null. The last answer is kept: a Sunset date repeats on every response. */
function httpDateIso(v: string): string | null {
  if (v === lastDate.v) return lastDate.iso;
  const t = Date.parse(v);
  const iso = Number.isFinite(t) ? new Date(t).toISOString() : null;
  lastDate.v = v;
  lastDate.iso = iso;
  return iso;
}
const lastDate: { v: string; iso: string | null } = { v: '', iso: null };

/** Fold one exchange into a leaf. `query` holds the query parameter names (already decoded). */
export function addExchange(
  s: LeafStats,
  ex: Exchange,
  query: readonly string[],
  auth: AuthResult,
  category: string,
  paths: FieldPaths | null = null,
  walk: BodyWalk | null = null,
): number {
  novelFields = 0;
  s.hits++;
  const req = ex.request;
  const res = ex.response;
  const t0 = req?.startUs ?? res?.startUs ?? 0;
  const t1 = res?.endUs ?? req?.endUs ?? t0;
  if (t0 < s.firstUs) s.firstUs = t0;
  if (t1 > s.lastUs) s.lastUs = t1;
  const status = res !== null ? effectiveStatus(ex, res) : 0;
  const hundred = Math.floor(status / 100);
  inc(s.statusClasses, res ? (STATUS_CLASSES[hundred] ?? `${hundred}xx`) : 'none');
  if (ex.latencyUs !== null) addLatency(s.latency, fnv1a(ex.id), ex.latencyUs);
  const impaired = isImpaired(ex);
  if (impaired) s.impaired++;
  for (const q of query) s.queryParams.add(q);
  if (ex.vni !== null && (s.vnis.size < LIMITS.vnis || s.vnis.has(ex.vni))) s.vnis.add(ex.vni);
  inc(s.categories, category);
  inc(s.protocols, exchangeProtocol(ex));
  for (const scheme of auth.schemes) s.auth.add(scheme);
  const ok = res !== null && status >= 200 && status < 300;
  if (req !== null) {
    if (auth.schemes.length === 1 && auth.schemes[0] === 'none') {
      s.unauthed++;
      if (ok) {
        s.unauth2xx++;
        if (impaired) s.unauth2xxImpaired++;
      }
    } else {
      s.authed++;
      if (ok) s.authed2xx++;
    }
  }
  for (const c of auth.inUrl) inc(s.credentialsInUrl, c);
  if (req !== null) {
    const m = mediaOf(req.body.contentType);
    const ct = m === null ? null : m.mt;
    if (m !== null && req.body.size > 0) s.contentTypes.add(m.request);
    if (walk === null || walk.request)
      addBodyFields('request', req.body, ct, s.fields, paths, walk?.requestSeen ?? null);
  }
  if (res !== null) {
    const m = mediaOf(res.body.contentType);
    const ct = m === null ? null : m.mt;
    if (m !== null) s.contentTypes.add(m.response);
    if (walk === null || walk.response)
      addBodyFields('response', res.body, ct, s.fields, paths, walk?.responseSeen ?? null);
    if (headerValue(res.headers, 'deprecation') !== null) s.deprecationHeader++;
    const sunset = headerValue(res.headers, 'sunset');
    if (sunset !== null) {
      s.sunsetHeader++;
      const iso = httpDateIso(sunset);
      if (iso !== null && (s.sunsetIso === null || iso > s.sunsetIso)) s.sunsetIso = iso;
    }
  }
  return novelFields;
}

/** Merge `b` into `a` (both order-independent). */
export function mergeStats(a: LeafStats, b: LeafStats): void {
  a.hits += b.hits;
  a.firstUs = Math.min(a.firstUs, b.firstUs);
  a.lastUs = Math.max(a.lastUs, b.lastUs);
  for (const [k, v] of b.statusClasses) inc(a.statusClasses, k, v);
  for (const x of b.latency) a.latency.push(x);
  trimLatency(a.latency);
  a.contentTypes.addAll(b.contentTypes);
  a.queryParams.addAll(b.queryParams);
  a.fields.addAll(b.fields);
  for (const x of b.auth) a.auth.add(x);
  for (const x of b.vnis) if (a.vnis.size < LIMITS.vnis || a.vnis.has(x)) a.vnis.add(x);
  for (const [k, v] of b.categories) inc(a.categories, k, v);
  for (const [k, v] of b.protocols) inc(a.protocols, k, v);
  a.impaired += b.impaired;
  a.authed += b.authed;
  a.unauthed += b.unauthed;
  a.unauth2xx += b.unauth2xx;
  a.unauth2xxImpaired += b.unauth2xxImpaired;
  a.authed2xx += b.authed2xx;
  a.deprecationHeader += b.deprecationHeader;
  a.sunsetHeader += b.sunsetHeader;
  if (b.sunsetIso !== null && (a.sunsetIso === null || b.sunsetIso > a.sunsetIso)) a.sunsetIso = b.sunsetIso;
  for (const [k, v] of b.credentialsInUrl) inc(a.credentialsInUrl, k, v);
  a.coarseKeys.addAll(b.coarseKeys);
  for (const p of b.restoredPii) a.restoredPii.push(p);
}

/** Nearest-rank percentile of the latency sample, in ms (3 decimals), or null when empty. */
export function percentileMs(s: LeafStats, p: number): number | null {
  if (s.latency.length === 0) return null;
  trimLatency(s.latency);
  const v = s.latency.map((x) => x[1]).sort((x, y) => x - y);
  const idx = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return Math.round(((v[idx] ?? 0) / 1000) * 1000) / 1000;
}
