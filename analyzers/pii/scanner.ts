// scanExchange: bounded extraction of leaves from one Exchange (request and response) with their
// location and normalised field, then value detection, then redaction into PiiHits.
//
// Extraction (pii.md "Extract leaves with their location"):
// - path segments → field `path[i]` (URL-decoded), query parameters by name;
// - headers (and trailers, RFC 9110 §6.5, as headers) by lower-case name; Authorization: Basic →
//   user:password (password kind, email if the user is one), Bearer → the token (jwt + claims, or
//   session_token; results cached by the token's HMAC, see TOKEN_CACHE_MAX); Cookie / Set-Cookie
//   values → per cookie name (session_token by name or by shape);
// - bodies by content type: JSON (leaves with `$.a.b[*].c` paths), form-urlencoded (by name), text
//   and unknown text (substring scan, strong detectors and key-hinted only), JSON inside strings and
//   base64 that decodes to JSON/text (one level, bounded).
// Every detector, including those of credential locations and coordinate pairs, is in detect.ts
// (VALUE_DETECTORS, CONTEXT_DETECTORS): this file walks, samples and redacts.
// Bounds: MAX_LEAVES leaves and MAX_DEPTH nesting per body, MAX_BODY characters scanned per body,
// MAX_HITS hits per exchange. Nothing here throws on bad input (fast-check test in test/pii).
// Credential locations: Authorization and cookie values are judged as credentials whatever their shape;
// everywhere else a resource identifier (ids.ts: SIDs, UUIDs, object ids, digests) is not a secret
// unless a prefixed secret rule matches it. Path segments are judged as ids of the collection named by
// the segment before them.
// Per-field sampling when the caller passes the endpoint key: which values are fully scanned, and the
// detection bound for a change in a settled field, are stated in sampling.ts.
// Rejections: a weak checksum kind whose checksum failed is reported as a value-less hit
// (validated false) so the aggregator can apply pii.md's "all values validate" rule.
import type { Exchange, HeaderPair } from '../../engine/contracts/exchange.js';
import { PII_KINDS } from '../../engine/contracts/inventory.js';
import type { PiiKind, PiiLocation } from '../../engine/contracts/inventory.js';
import type { Candidate, DetectOptions, ValueContext } from './detect.js';
import { bodyJson as sharedBodyJson, parseJsonPrefix } from '../shared/json.js';
import type { JsonTape } from '../shared/skim.js';
import { bodyTape, NUM, OBJ_GEO, shapeOfRange, TOK, tokenNumber, tokenString } from '../shared/skim.js';
import {
  detectAuthorization,
  detectBasicAuth,
  detectCookie,
  detectLatLongPair,
  detectText,
  detectValue,
} from './detect.js';
import type { PiiHit, PiiScanner, PiiScanStats } from './types.js';
import { hmacHex, maskValue, normalizeValue, shapeOf } from './redact.js';
import type { FieldState, SamplingOptions, SamplingStats } from './sampling.js';
import { decide, DECISION, fnv1a, newFieldState, recordOutcome, SAMPLING, shapeCode } from './sampling.js';

export const SCAN_LIMITS = {
  maxLeaves: 2_000,
  maxDepth: 24,
  maxBody: 262_144,
  maxHits: 512,
  maxNested: 65_536,
} as const;

export interface ScannerOptions {
  secret: Buffer | string;
  defaultCountry?: string;
  /**
   * Per-field sampling (sampling.ts); applies only to scanExchange calls that pass an endpoint key.
   * `false` turns it off. Defaults: SAMPLING.
   */
  sampling?: Partial<SamplingOptions> | false;
  /**
   * Walk JSON bodies of sampled endpoints over their tape (shared/skim.ts) instead of the parsed
   * object. Default true; `false` exists so tests can prove both walks give the same hits.
   */
  skim?: boolean;
  /**
   * Keep detection results of path segments, header values and cookie headers (ResultCache). Default
   * true; `false` exists so tests can prove the cached hits equal the scanned ones.
   */
  cache?: boolean;
}

/** PiiKind → bit, for a field's outcome (the set of kinds one scan produced). */
const KIND_BIT: Readonly<Record<PiiKind, number>> = Object.fromEntries(PII_KINDS.map((k, i) => [k, 1 << i])) as Record<
  PiiKind,
  number
>;

/**
 * A JSON body path of one endpoint and location, interned: walking a body builds no path string for a
 * path seen before, and the node holds the field's sampling state.
 */
interface PathNode {
  field: string;
  keys: Map<string, PathNode> | null;
  item: PathNode | null;
  st: FieldState | null;
  /** Object key of this node, null for roots and array items. */
  key: string | null;
  parent: PathNode | null;
  /** The array under this node is a coordinates pair's key (the nearest object key matches COORD_KEY). */
  coord: boolean;
  /** Tape walks: the child met first in this node's last object, and the sibling met after this node. */
  first: PathNode | null;
  next: PathNode | null;
}

/** Keys whose [lon, lat] number pair is a GeoJSON-style position. */
const COORD_KEY = /^(?:coordinates|coords|lnglat|lonlat|latlng|position)$/i;

function newRoot(): PathNode {
  return {
    field: '$',
    keys: null,
    item: null,
    st: null,
    key: null,
    parent: null,
    coord: false,
    first: null,
    next: null,
  };
}

/** The fields of one endpoint key: string fields (path, query, headers) per location, and JSON path tries. */
interface EndpointFields {
  byLocation: Map<string, Map<string, FieldState>>;
  roots: Map<string, PathNode>;
}

/** The sampling state of one scanner: fields per endpoint key, shared by its scans. */
class Sampler {
  readonly endpoints = new Map<string, EndpointFields>();
  size = 0;
  nodes = 0;
  untracked = 0;
  readonly stats: SamplingStats = { sampledOut: 0, novelShapes: 0, shapesOverflow: 0, outcomeChanges: 0 };
  constructor(readonly opts: Readonly<SamplingOptions>) {}

  /** The endpoint's fields; null (no sampling for this exchange) once maxFields endpoints are known. */
  fieldsOf(endpointKey: string): EndpointFields | null {
    let m = this.endpoints.get(endpointKey);
    if (m === undefined) {
      if (this.endpoints.size >= this.opts.maxFields) {
        this.untracked++;
        return null;
      }
      m = { byLocation: new Map(), roots: new Map() };
      this.endpoints.set(endpointKey, m);
    }
    return m;
  }

  /** Whether `n` more path nodes fit (a tape walk needs every node interned). */
  room(n: number): boolean {
    return this.nodes + n <= this.opts.maxFields * 2;
  }

  /** The child of a JSON path node (`key` null: the array item), or null once the trie is full. */
  child(parent: PathNode, key: string | null): PathNode | null {
    if (key === null) {
      if (parent.item !== null) return parent.item;
    } else {
      const c = parent.keys?.get(key);
      if (c !== undefined) return c;
    }
    if (this.nodes >= this.opts.maxFields * 2) return null;
    this.nodes++;
    const node: PathNode = {
      field: key === null ? parent.field + '[*]' : `${parent.field}.${fieldName(key)}`,
      keys: null,
      item: null,
      st: null,
      key,
      parent,
      coord: key === null ? parent.coord : COORD_KEY.test(key),
      first: null,
      next: null,
    };
    if (key === null) parent.item = node;
    else (parent.keys ??= new Map()).set(key, node);
    return node;
  }

  /**
   * The child for the key at text[a, b), `prev` the sibling before it in this object (null: the
   * first key): the sibling met after `prev` last time is compared in place (no string per key).
   */
  childAt(parent: PathNode, prev: PathNode | null, text: string, a: number, b: number): PathNode | null {
    const hint = prev === null ? parent.first : prev.next;
    if (hint !== null && (hint.key as string).length === b - a && text.startsWith(hint.key as string, a)) return hint;
    const c = this.child(parent, text.slice(a, b));
    if (c !== null) {
      if (prev === null) parent.first = c;
      else prev.next = c;
    }
    return c;
  }
}

/** The object keys from the body's root to `pn` (json()'s keyPath at that node). */
function keyPathOf(pn: PathNode): string[] {
  const out: string[] = [];
  for (let n: PathNode | null = pn; n !== null; n = n.parent) if (n.key !== null) out.push(n.key);
  return out.reverse();
}

/**
 * HMAC per distinct value, not per hit: a bounded two-generation cache (young/old maps; a hit in old is
 * promoted, young becomes old when full), keyed by a 53-bit FNV fingerprint of the normalised value so
 * no raw value is kept (CONTRIBUTING rule 8). A fingerprint collision (probability ~ entries / 2^53 per
 * lookup) would give a value another value's hash; the HMAC itself stays the only hash that leaves.
 */
class HmacCache {
  private young = new Map<number, string>();
  private old = new Map<number, string>();
  constructor(
    private readonly secret: Buffer | string,
    private readonly cap: number,
  ) {}

  get(norm: string): string {
    const k = fnv1a(norm) * 0x200000 + (fnv1a(norm, 0x9dc5811c) & 0x1fffff);
    let h = this.young.get(k);
    if (h !== undefined) return h;
    h = this.old.get(k);
    if (h === undefined) h = hmacHex(this.secret, norm);
    if (this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, h);
    return h;
  }
}
const HMAC_CACHE = 8192;

/** A 53-bit FNV fingerprint of strings joined by NUL (two 32-bit FNV-1a passes, as HmacCache). */
function fingerprint(a: string, b: string, c: string): number {
  let h1 = fnv1a(c, fnv1a('\u0000', fnv1a(b, fnv1a('\u0000', fnv1a(a)))));
  let h2 = fnv1a(c, fnv1a('\u0000', fnv1a(b, fnv1a('\u0000', fnv1a(a, 0x9dc5811c)))));
  h1 >>>= 0;
  h2 &= 0x1fffff;
  return h1 * 0x200000 + h2;
}

/**
 * What the detectors said about one value in a string location (a path segment or a header value, no
 * nested document), or about one Cookie / Set-Cookie header: a pure function of the value, its key
 * path, its context and the options, kept redacted (masked form and keyed hash, no raw value) under
 * the fingerprint of its inputs. Two generations bounded by RESULT_CACHE, as HmacCache: the same
 * header and path values recur on every request of an API, and a full scan of one (every detector,
 * the prefixed-secret rules) costs microseconds. Hits are identical with or without it (up to a
 * fingerprint collision, probability ~ entries / 2^53 per lookup). Measured on the 60 MB lab capture
 * without bodies: detection of path and header values was ~15% of observe().
 */
interface Detected {
  redacted: readonly Redacted[];
  rejected: readonly PiiHit['kind'][];
}
/** A Cookie / Set-Cookie header's hits: per cookie name (in header order), only names with hits. */
type CookieHits = readonly { name: string; redacted: readonly Redacted[] }[];
class ResultCache<T> {
  private young = new Map<number, T>();
  private old = new Map<number, T>();
  constructor(private readonly cap: number) {}
  get(k: number): T | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: number, v: T): void {
    if (this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, v);
  }
}
const RESULT_CACHE = 8192;
/** Field names of path segments, made once. */
const PATH_FIELDS: readonly string[] = Array.from({ length: 32 }, (_, i) => `path[${i}]`);
const NO_KEYS: readonly string[] = [];
/** Locations whose values ResultCache may answer for (JSON bodies and forms can nest documents). */
const STRING_LOCATIONS: ReadonlySet<string> = new Set(['request.path', 'request.header', 'response.header']);

type Side = 'request' | 'response';
type Part = 'path' | 'query' | 'header' | 'cookie' | 'body';
const PARTS: readonly Part[] = ['path', 'query', 'header', 'cookie', 'body'];
const LOCATIONS = {
  request: Object.fromEntries(PARTS.map((p) => [p, `request.${p}`])),
  response: Object.fromEntries(PARTS.map((p) => [p, `response.${p}`])),
} as unknown as Record<Side, Record<Part, PiiLocation>>;
const loc = (side: Side, part: Part): PiiLocation => LOCATIONS[side][part];

function safeDecode(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length && plain; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ || c === 43 /* + */) plain = false;
  }
  if (plain) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

const isB64 = /^[A-Za-z0-9+/]{16,}={0,2}$/;

/**
 * A candidate after redaction, before it is placed: everything a PiiHit holds except location and
 * field. Safe to keep beyond the call (no raw value), which is what the bearer-token cache holds.
 */
type Redacted = Omit<PiiHit, 'location' | 'field' | 'details'> & {
  /** Claim path inside a JWT ("$.email") or null. */
  via: string | null;
  details: Readonly<Record<string, string | boolean>> | null;
};

/**
 * Bearer credentials recur on every request of a session; their analysis (secret rules over ~700
 * characters, JWT decode, claim scan) was ~75% of the cost of a typical request. The cache maps the
 * token's HMAC to its redacted results: no raw value is kept, and the results are a pure function of
 * token, options and secret, so hits are identical with or without it. Bounded, least recently used
 * evicted. Measured: see test/bench/pii.bench.ts.
 */
const TOKEN_CACHE_MAX = 4096;

/**
 * One scanExchange() call. `hashes` maps normalised raw values to their HMAC for the duration of the
 * call only (a claim email that is also in the body is hashed once); it never outlives the call
 * (pii.md "Redact", CONTRIBUTING rule 8).
 */
class Scan {
  readonly hits: PiiHit[] = [];
  /** Made on first use: most exchanges of a settled API place no hit and hash nothing. */
  private seen: Set<string> | null = null;
  private hashes: Map<string, string> | null = null;
  leaves = 0;
  /** Kind bits of what the value being scanned produced so far (see Sampler). */
  private mask = 0;
  /** Reused per value: weak checksum kinds whose checksum failed on it (detectValue's `rejected`). */
  private readonly rejected: PiiHit['kind'][] = [];
  /** The scanner's caches of string-location results (ResultCache), null to scan every value. */
  detected: ResultCache<Detected> | null = null;
  cookieHits: ResultCache<CookieHits> | null = null;
  constructor(
    private readonly hmac: HmacCache,
    private readonly o: DetectOptions,
    private readonly tokens: Map<string, readonly Redacted[]>,
    /** Sampling for this exchange: the scanner's sampler and this endpoint's fields. */
    private readonly sampler: Sampler | null = null,
    private readonly fields: EndpointFields | null = null,
    private readonly endpointKey = '',
    private readonly skim = true,
  ) {}

  hashOf(norm: string): string {
    const hashes = (this.hashes ??= new Map());
    let hash = hashes.get(norm);
    if (hash === undefined) {
      hash = this.hmac.get(norm);
      hashes.set(norm, hash);
    }
    return hash;
  }

  redact(c: Candidate): Redacted {
    return {
      kind: c.kind,
      via: c.via,
      confidence: c.confidence,
      strength: c.strength,
      validated: c.validated,
      keyHint: c.keyHint,
      example: c.example,
      masked: maskValue(c.kind, c.value),
      shape: shapeOf(c.value),
      hash: this.hashOf(normalizeValue(c.kind, c.value)),
      detector: c.detector,
      details: c.details,
    };
  }

  emit(cands: readonly Candidate[], location: PiiLocation, field: string, textMode: boolean): void {
    for (const c of cands) {
      if (this.hits.length >= SCAN_LIMITS.maxHits) return;
      // Free text: only strong detectors and key-hinted ones (pii.md: substring scanning with the strong detectors).
      if (textMode && c.strength === 'weak' && !c.keyHint) continue;
      this.mask |= KIND_BIT[c.kind];
      this.place(this.redact(c), location, field);
    }
  }

  emitRedacted(rs: readonly Redacted[], location: PiiLocation, field: string): void {
    for (const r of rs) {
      if (this.hits.length >= SCAN_LIMITS.maxHits) return;
      this.mask |= KIND_BIT[r.kind];
      this.place(r, location, field);
    }
  }

  /**
   * A rejection: the value had the shape of a weak checksum kind and failed the checksum. Carries no
   * value data (masked, shape and hash empty); at most one per (kind, location, field) and exchange.
   * The aggregator counts it against labelling the field from values alone.
   */
  reject(kind: PiiHit['kind'], location: PiiLocation, field: string): void {
    if (this.hits.length >= SCAN_LIMITS.maxHits) return;
    const dedup = `!${kind}\u0000${location}\u0000${field}`;
    const seen = (this.seen ??= new Set());
    if (seen.has(dedup)) return;
    seen.add(dedup);
    this.hits.push({
      kind,
      location,
      field,
      confidence: 0,
      strength: 'weak',
      validated: false,
      keyHint: false,
      example: false,
      masked: '',
      shape: '',
      hash: '',
      detector: 'checksum-rejected',
      details: null,
    });
  }

  private place(r: Redacted, location: PiiLocation, field: string): void {
    const f = r.via === null ? field : `${field}#jwt${r.via}`;
    const dedup = `${r.kind}\u0000${location}\u0000${f}\u0000${r.hash}`;
    const seen = (this.seen ??= new Set());
    if (seen.has(dedup)) return;
    seen.add(dedup);
    this.hits.push({
      kind: r.kind,
      location,
      field: f,
      confidence: r.confidence,
      strength: r.strength,
      validated: r.validated,
      keyHint: r.keyHint,
      example: r.example,
      masked: r.masked,
      shape: r.shape,
      hash: r.hash,
      detector: r.detector,
      details: r.details === null ? null : { ...r.details },
    });
  }

  /** The field's sampling state, created on first sight (null: not sampling, or the table is full). */
  private fieldState(location: PiiLocation, field: string): FieldState | null {
    const fields = this.fields;
    const sampler = this.sampler;
    if (fields === null || sampler === null) return null;
    let byField = fields.byLocation.get(location);
    if (byField === undefined) {
      byField = new Map();
      fields.byLocation.set(location, byField);
    }
    let st = byField.get(field);
    if (st === undefined) {
      if (sampler.size >= sampler.opts.maxFields) {
        sampler.untracked++;
        return null;
      }
      st = newFieldState(fnv1a(field, fnv1a(location, fnv1a(this.endpointKey))));
      byField.set(field, st);
      sampler.size++;
    }
    return st;
  }

  /** The interned root of a JSON body at `location` (null: not sampling). */
  jsonRoot(location: PiiLocation): PathNode | null {
    const fields = this.fields;
    if (fields === null) return null;
    let r = fields.roots.get(location);
    if (r === undefined) {
      r = newRoot();
      fields.roots.set(location, r);
    }
    return r;
  }

  childNode(pn: PathNode | null, key: string | null): PathNode | null {
    return pn === null || this.sampler === null ? null : this.sampler.child(pn, key);
  }

  /** One whole value: fully scanned, or sampled out (settled field, known shape, not picked: sampling.ts). */
  value(
    v: string,
    keyPath: readonly string[],
    location: PiiLocation,
    field: string,
    depth: number,
    where: ValueContext = 'field',
    pn: PathNode | null = null,
  ): void {
    if (this.leaves >= SCAN_LIMITS.maxLeaves) {
      this.leaves++;
      return;
    }
    let st: FieldState | null;
    if (pn !== null) {
      st = pn.st;
      if (st === null) st = pn.st = this.fieldState(location, field);
    } else st = this.fieldState(location, field);
    if (st === null) {
      this.valueFull(v, keyPath, location, field, depth, where);
      return;
    }
    const sampler = this.sampler as Sampler;
    if (decide(st, shapeCode(v), sampler.opts, sampler.stats) === DECISION.sampled) {
      this.leaves++;
      sampler.stats.sampledOut++;
      return;
    }
    this.scanTracked(st, v, keyPath, location, field, depth, where);
  }

  /** A full scan of a tracked field's value, and its outcome recorded (sampling.ts recordOutcome). */
  private scanTracked(
    st: FieldState,
    v: string,
    keyPath: readonly string[],
    location: PiiLocation,
    field: string,
    depth: number,
    where: ValueContext,
  ): void {
    const sampler = this.sampler as Sampler;
    const outer = this.mask;
    this.mask = 0;
    this.valueFull(v, keyPath, location, field, depth, where);
    const m = this.mask;
    this.mask = outer | m;
    if (recordOutcome(st, m, sampler.opts)) sampler.stats.outcomeChanges++;
  }

  private valueFull(
    v: string,
    keyPath: readonly string[],
    location: PiiLocation,
    field: string,
    depth: number,
    where: ValueContext,
  ): void {
    this.leaves++;
    const rejected = this.rejected;
    rejected.length = 0;
    if (depth > 0 && keyPath.length <= 1 && this.detected !== null && STRING_LOCATIONS.has(location)) {
      // No nested document at depth > 0: the hits are the detectors' alone (see ResultCache).
      const k = fingerprint(keyPath.length === 0 ? `${where}#` : where, keyPath[0] ?? '', v);
      let d = this.detected.get(k);
      if (d === undefined) {
        const cands = detectValue(v, keyPath, this.o, where, rejected);
        d = { redacted: cands.map((c) => this.redact(c)), rejected: [...rejected] };
        this.detected.set(k, d);
      }
      this.emitRedacted(d.redacted, location, field);
      for (const kind of d.rejected) this.reject(kind, location, field);
      return;
    }
    const cands = detectValue(v, keyPath, this.o, where, rejected);
    this.emit(cands, location, field, false);
    for (const kind of rejected) this.reject(kind, location, field);
    // JSON inside a string, or base64 of JSON/text: one nested level, bounded.
    if (depth > 0 || v.length < 8 || v.length > SCAN_LIMITS.maxNested) return;
    const c0 = v.charCodeAt(0);
    if (c0 === 123 /* { */ || c0 === 91 /* [ */) {
      const parsed = tryJson(v);
      if (parsed !== undefined) this.json(parsed, [...keyPath], field, location, depth + 1, 0);
    } else if (cands.length === 0 && v.length % 4 === 0 && isB64.test(v)) {
      const text = decodeB64Text(v);
      if (text !== null) {
        const t = text.trimStart();
        const parsed = t.startsWith('{') || t.startsWith('[') ? tryJson(t) : undefined;
        if (parsed !== undefined) this.json(parsed, [...keyPath], field + '#base64', location, depth + 1, 0);
        else this.emit(detectText(text, keyPath, this.o), location, field + '#base64', true);
      }
    }
  }

  /** A JSON node at `path`; `pn` is the interned node of `path` when there is one (then path === pn.field). */
  json(
    x: unknown,
    keyPath: string[],
    path: string,
    location: PiiLocation,
    nest: number,
    depth: number,
    pn: PathNode | null = null,
  ): void {
    if (depth > SCAN_LIMITS.maxDepth || this.leaves >= SCAN_LIMITS.maxLeaves) return;
    if (typeof x === 'string') {
      this.value(x, keyPath, location, path, nest, 'field', pn);
      return;
    }
    if (typeof x === 'number') {
      // Numbers keep their JSON spelling; integers beyond 2^53 are already rounded by JSON.parse.
      if (Number.isInteger(x) && Math.abs(x) >= 1e5) this.value(String(x), keyPath, location, path, 1, 'field', pn);
      return;
    }
    if (Array.isArray(x)) {
      // GeoJSON-style [lon, lat] pair under a coordinates key.
      if (x.length === 2 && typeof x[0] === 'number' && typeof x[1] === 'number') {
        const leaf = keyPath[keyPath.length - 1] ?? '';
        if (/^(?:coordinates|coords|lnglat|lonlat|latlng|position)$/i.test(leaf))
          this.geo(x[1], x[0], keyPath, location, path);
      }
      const cn = this.childNode(pn, null);
      const p = cn !== null ? cn.field : path + '[*]';
      for (let i = 0; i < x.length; i++) {
        if (this.leaves >= SCAN_LIMITS.maxLeaves) return;
        this.json(x[i], keyPath, p, location, nest, depth + 1, cn);
      }
      return;
    }
    if (typeof x === 'object' && x !== null) {
      const o = x as Record<string, unknown>;
      const lat = o['lat'] ?? o['latitude'];
      const lon = o['lng'] ?? o['lon'] ?? o['long'] ?? o['longitude'];
      if (typeof lat === 'number' && typeof lon === 'number') this.geo(lat, lon, keyPath, location, path);
      for (const k in o) {
        if (this.leaves >= SCAN_LIMITS.maxLeaves) return;
        keyPath.push(k);
        const cn = this.childNode(pn, k);
        this.json(o[k], keyPath, cn !== null ? cn.field : `${path}.${fieldName(k)}`, location, nest, depth + 1, cn);
        keyPath.pop();
      }
    }
  }

  /**
   * json() over a body's tape (shared/skim.ts), node `pn` interned for every path (the caller checked
   * the room): the same values in the same order with the same decisions, but a value is sliced out
   * of the text only when it is scanned, and a settled field's value costs its shape and a countdown.
   * Returns the entry after the value at `e`.
   */
  jsonTape(tape: JsonTape, e: number, pn: PathNode, location: PiiLocation, depth: number): number {
    const t = tape.t;
    const ty = t[e * 4] as number;
    const after = ty === TOK.obj || ty === TOK.arr ? (t[e * 4 + 1] as number) + 1 : e + 1;
    if (depth > SCAN_LIMITS.maxDepth || this.leaves >= SCAN_LIMITS.maxLeaves) return after;
    if (ty === TOK.str) {
      this.valueAt(tape, e, pn, location);
      return after;
    }
    if (ty === TOK.num) {
      const cls = t[e * 4 + 3] as number;
      if (cls === NUM.small || cls === NUM.frac) return after;
      if (cls === NUM.big) {
        this.valueAt(tape, e, pn, location);
        return after;
      }
      const x = tokenNumber(tape, e);
      if (Number.isInteger(x) && Math.abs(x) >= 1e5)
        this.value(String(x), keyPathOf(pn), location, pn.field, 1, 'field', pn);
      return after;
    }
    if (ty === TOK.arr) {
      const n = t[e * 4 + 2] as number;
      if (n === 2 && pn.coord && t[(e + 1) * 4] === TOK.num && t[(e + 2) * 4] === TOK.num)
        this.geo(tokenNumber(tape, e + 2), tokenNumber(tape, e + 1), [], location, pn.field);
      const cn = (this.sampler as Sampler).child(pn, null) as PathNode;
      let j = e + 1;
      for (let i = 0; i < n; i++) {
        if (this.leaves >= SCAN_LIMITS.maxLeaves) return after;
        j = this.jsonTape(tape, j, cn, location, depth + 1);
      }
      return after;
    }
    if (ty === TOK.obj) {
      if (((t[e * 4 + 3] as number) & OBJ_GEO) !== 0) this.geoMembers(tape, e, location, pn.field);
      const sampler = this.sampler as Sampler;
      let prev: PathNode | null = null;
      let j = e + 1;
      while (t[j * 4] !== TOK.end) {
        if (this.leaves >= SCAN_LIMITS.maxLeaves) return after;
        const cn = sampler.childAt(pn, prev, tape.text, t[j * 4 + 1] as number, t[j * 4 + 2] as number) as PathNode;
        j = this.jsonTape(tape, j + 1, cn, location, depth + 1);
        prev = cn;
      }
    }
    return after;
  }

  /** json()'s `o.lat ?? o.latitude`, `o.lng ?? o.lon ?? o.long ?? o.longitude` pair of the object at `e`. */
  private geoMembers(tape: JsonTape, e: number, location: PiiLocation, path: string): void {
    const t = tape.t;
    const text = tape.text;
    // Value entry per name, -1 when absent: lat, latitude, lng, lon, long, longitude.
    const at = [-1, -1, -1, -1, -1, -1];
    for (let j = e + 1; t[j * 4] !== TOK.end; j = this.skipValue(tape, j + 1)) {
      const k = text.slice(t[j * 4 + 1] as number, t[j * 4 + 2] as number);
      const i = GEO_NAMES.indexOf(k);
      if (i >= 0) at[i] = j + 1;
    }
    const pick = (idx: readonly number[]): number => {
      for (const i of idx) {
        const v = at[i] as number;
        if (v >= 0 && t[v * 4] !== TOK.nul) return v;
      }
      return at[idx[idx.length - 1] as number] as number;
    };
    const la = pick([0, 1]);
    const lo = pick([2, 3, 4, 5]);
    if (la >= 0 && lo >= 0 && t[la * 4] === TOK.num && t[lo * 4] === TOK.num)
      this.geo(tokenNumber(tape, la), tokenNumber(tape, lo), [], location, path);
  }

  private skipValue(tape: JsonTape, e: number): number {
    const ty = tape.t[e * 4] as number;
    return ty === TOK.obj || ty === TOK.arr ? (tape.t[e * 4 + 1] as number) + 1 : e + 1;
  }

  /** value() for the string or big-integer token at `e`: the value is sliced only when scanned. */
  private valueAt(tape: JsonTape, e: number, pn: PathNode, location: PiiLocation): void {
    if (this.leaves >= SCAN_LIMITS.maxLeaves) {
      this.leaves++;
      return;
    }
    const t = tape.t;
    const isStr = t[e * 4] === TOK.str;
    let st = pn.st;
    if (st === null) st = pn.st = this.fieldState(location, pn.field);
    const nest = isStr ? 0 : 1;
    if (st === null) {
      this.valueFull(
        isStr ? tokenString(tape, e) : tokenRaw(tape, e),
        keyPathOf(pn),
        location,
        pn.field,
        nest,
        'field',
      );
      return;
    }
    const sampler = this.sampler as Sampler;
    const a = t[e * 4 + 1] as number;
    const b = t[e * 4 + 2] as number;
    let v: string | null = null;
    let shape: number;
    if (!isStr) shape = shapeOfRange(tape.text, a, b);
    else if ((t[e * 4 + 3] as number) !== -1) shape = t[e * 4 + 3] as number;
    else {
      v = tokenString(tape, e);
      shape = shapeCode(v);
    }
    if (decide(st, shape, sampler.opts, sampler.stats) === DECISION.sampled) {
      this.leaves++;
      sampler.stats.sampledOut++;
      return;
    }
    v ??= isStr ? tokenString(tape, e) : tokenRaw(tape, e);
    this.scanTracked(st, v, keyPathOf(pn), location, pn.field, nest, 'field');
  }

  geo(lat: number, lon: number, keyPath: readonly string[], location: PiiLocation, path: string): void {
    void keyPath;
    this.emit(detectLatLongPair(lat, lon), location, path, false);
  }

  headers(side: Side, headers: readonly HeaderPair[]): void {
    for (let i = 0; i < headers.length && i < 128; i++) {
      const [rawName, value] = headers[i] as HeaderPair;
      if (value.length === 0) continue;
      const name = lowerName(rawName);
      if (name === 'cookie' || name === 'set-cookie') {
        this.cookies(side, name === 'cookie' ? value : (value.split(';')[0] ?? ''), name === 'set-cookie');
        continue;
      }
      const hl = loc(side, 'header');
      if (name === 'authorization' || name === 'proxy-authorization') {
        this.authorization(value, hl, name);
        continue;
      }
      if (SKIP_HEADERS.has(name)) continue;
      this.value(value, [name], hl, name, 1);
    }
  }

  authorization(value: string, location: PiiLocation, field: string): void {
    const sp = value.indexOf(' ');
    const scheme = (sp < 0 ? value : value.slice(0, sp)).toLowerCase();
    const cred = sp < 0 ? '' : value.slice(sp + 1).trim();
    if (scheme === 'basic' && cred.length > 0) {
      const dec = decodeB64Text(cred);
      if (dec === null) return;
      const colon = dec.indexOf(':');
      const user = colon < 0 ? dec : dec.slice(0, colon);
      const pass = colon < 0 ? '' : dec.slice(colon + 1);
      this.emit(detectBasicAuth(user, pass), location, field, false);
      return;
    }
    const token = sp < 0 ? value : cred;
    const key = this.hashOf(token);
    const cached = this.tokens.get(key);
    if (cached !== undefined) {
      this.tokens.delete(key);
      this.tokens.set(key, cached);
      this.emitRedacted(cached, location, field);
      return;
    }
    // Bearer/other schemes: a JWT or a recognised key is reported as such, anything else as the session token.
    const cands = detectAuthorization(token, this.o);
    const redacted = cands.map((c) => this.redact(c));
    if (this.tokens.size >= TOKEN_CACHE_MAX) {
      const oldest = this.tokens.keys().next();
      if (oldest.done !== true) this.tokens.delete(oldest.value);
    }
    this.tokens.set(key, redacted);
    this.emitRedacted(redacted, location, field);
  }

  cookies(side: Side, header: string, isSet: boolean): void {
    const cl = loc(side, 'cookie');
    const cache = this.cookieHits;
    const k = cache === null ? 0 : fingerprint(isSet ? 'set-cookie' : 'cookie', '', header);
    const got = cache?.get(k);
    if (got !== undefined) {
      for (const c of got) this.emitRedacted(c.redacted, cl, c.name);
      return;
    }
    const found: { name: string; redacted: readonly Redacted[] }[] = [];
    const parts = header.split(';');
    for (let i = 0; i < parts.length && i < 64; i++) {
      const p = parts[i] as string;
      const eq = p.indexOf('=');
      if (eq <= 0) continue;
      const name = p.slice(0, eq).trim();
      const value = safeDecode(
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
      if (value.length === 0) continue;
      const redacted = detectCookie(name, value, isSet, this.o).map((c) => this.redact(c));
      if (redacted.length > 0) found.push({ name, redacted });
      this.emitRedacted(redacted, cl, name);
    }
    cache?.set(k, found);
  }

  target(side: Side, target: string): void {
    let path = target;
    let query = '';
    const q = target.indexOf('?');
    if (q >= 0) {
      path = target.slice(0, q);
      query = target.slice(q + 1);
    }
    const h = path.indexOf('#');
    if (h >= 0) path = path.slice(0, h);
    if (path.charCodeAt(0) !== 47 /* / */ && /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      const s = path.indexOf('/', path.indexOf('//') + 2);
      path = s < 0 ? '/' : path.slice(s);
    }
    const pl = loc(side, 'path');
    // The elements of path.split('/') after the first, at most 32 (empty ones count); the previous
    // element names the parameter (/users/{email}, /bsn/{value}).
    let a = path.indexOf('/') + 1;
    let prev = '';
    for (let i = 1; a > 0 && i <= 32; i++) {
      const b = path.indexOf('/', a);
      const end = b < 0 ? path.length : b;
      if (end > a) {
        const seg = safeDecode(path.slice(a, end));
        this.value(seg, i > 1 && prev !== '' ? [prev] : NO_KEYS, pl, PATH_FIELDS[i - 1] as string, 1, 'path');
        prev = seg;
      } else prev = '';
      a = b + 1;
    }
    if (query.length > 0) this.form(query, loc(side, 'query'), false);
  }

  form(body: string, location: PiiLocation, asBody: boolean): void {
    const pairs = body.split('&');
    for (let i = 0; i < pairs.length && i < SCAN_LIMITS.maxLeaves; i++) {
      const p = pairs[i] as string;
      if (p.length === 0) continue;
      const eq = p.indexOf('=');
      const name = safeDecode(eq < 0 ? p : p.slice(0, eq));
      const value = eq < 0 ? '' : safeDecode(p.slice(eq + 1));
      if (value.length === 0) continue;
      this.value(value, [name], location, asBody ? name : name, 0);
    }
  }

  body(
    side: Side,
    b: { contentType: string | null; encoding: 'utf8' | 'base64'; data: string; truncated: boolean },
  ): void {
    if (b.data.length === 0) return;
    let text: string;
    if (b.encoding === 'base64') {
      const buf = Buffer.from(b.data.slice(0, Math.ceil((SCAN_LIMITS.maxBody * 4) / 3)), 'base64');
      if (!looksText(buf)) return;
      text = buf.toString('utf8');
    } else text = b.data;
    if (text.length > SCAN_LIMITS.maxBody) text = text.slice(0, SCAN_LIMITS.maxBody);
    const bl = loc(side, 'body');
    const ct = (b.contentType ?? '').toLowerCase();
    const t = text.trimStart();
    if (
      ct.includes('json') ||
      // gRPC: the collector renders protobuf messages as JSON ({"1": ..., "2": {"1": ...}}).
      ct.startsWith('application/grpc') ||
      ((ct === '' || ct.startsWith('text/plain')) && (t.startsWith('{') || t.startsWith('[')))
    ) {
      // Skimmed or parsed once per body and shared with the endpoint layer (analyzers/shared).
      if (this.skim && b.encoding === 'utf8' && text === b.data && this.sampler !== null && this.fields !== null) {
        const tape = bodyTape(b);
        const root = this.jsonRoot(bl);
        if (tape !== null && root !== null && this.sampler.room(tape.n)) {
          this.jsonTape(tape, 0, root, bl, 0);
          return;
        }
      }
      const parsed = b.encoding === 'utf8' && text === b.data ? sharedBodyJson(b) : tryJson(t);
      if (parsed !== undefined) {
        this.json(parsed, [], '$', bl, 0, 0, this.jsonRoot(bl));
        return;
      }
    }
    if (ct.includes('x-www-form-urlencoded')) {
      this.form(text, bl, true);
      return;
    }
    if (
      ct.startsWith('image/') ||
      ct.startsWith('audio/') ||
      ct.startsWith('video/') ||
      ct.includes('octet-stream') ||
      ct.includes('font')
    )
      return;
    this.emit(detectText(text, [], this.o), bl, '$', true);
  }
}

// Headers whose values are protocol metadata, never personal: skipped before detection.
const SKIP_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'accept',
  'accept-encoding',
  'accept-language',
  'connection',
  'cache-control',
  'pragma',
  'date',
  'etag',
  'last-modified',
  'if-none-match',
  'if-modified-since',
  'vary',
  'server',
  'content-encoding',
  'transfer-encoding',
  'expires',
  'age',
  'keep-alive',
  'upgrade',
  'user-agent',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-fetch-dest',
  'sec-ch-ua',
  'sec-ch-ua-platform',
  'sec-ch-ua-mobile',
  'content-security-policy',
  'strict-transport-security',
  'access-control-allow-origin',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'traceparent',
  'tracestate',
  'x-request-id',
  'x-correlation-id',
  'content-range',
  'range',
  'accept-ranges',
  'location',
  'origin',
  'referer',
  // WebSocket handshake (RFC 6455 §11.3): the key is a random nonce, the accept its hash, not
  // credentials. Sec-WebSocket-Protocol is scanned: some APIs carry tokens in it.
  'sec-websocket-key',
  'sec-websocket-accept',
  'sec-websocket-version',
  'sec-websocket-extensions',
]);

/**
 * Header name → lower case, kept per raw name (bounded, cleared when full; names, not values): the
 * same names recur on every exchange, and the kept string's hash is computed once for the lookups
 * after it.
 */
const lowerNames = new Map<string, string>();
function lowerName(raw: string): string {
  let n = lowerNames.get(raw);
  if (n !== undefined) return n;
  n = raw.toLowerCase();
  if (raw.length <= 64) {
    if (lowerNames.size >= 1024) lowerNames.clear();
    lowerNames.set(raw, n);
  }
  return n;
}

const GEO_NAMES: readonly string[] = ['lat', 'latitude', 'lng', 'lon', 'long', 'longitude'];

/** A big integer token's JSON spelling (String(x) for NUM.big). */
function tokenRaw(tape: JsonTape, e: number): string {
  return tape.text.slice(tape.t[e * 4 + 1] as number, tape.t[e * 4 + 2] as number);
}

/** A key as a path segment after '.': identifiers and numbers as is ($.user.email, $.2.1: protobuf field numbers of gRPC bodies), anything else quoted. */
function fieldName(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) || /^\d{1,10}$/.test(k) ? k : `[${JSON.stringify(k)}]`;
}

/** A JSON document, or the complete part of one cut short by the capture cap (analyzers/shared/json.ts). */
function tryJson(s: string): unknown {
  if (s.length > SCAN_LIMITS.maxBody) return undefined;
  return parseJsonPrefix(s);
}

function looksText(buf: Buffer): boolean {
  const n = Math.min(buf.length, 512);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[i] as number;
    if (c === 0 || c < 9 || (c > 13 && c < 32)) bad++;
  }
  return bad * 20 < n || n === 0;
}

function decodeB64Text(s: string): string | null {
  if (s.length > SCAN_LIMITS.maxNested) return null;
  const buf = Buffer.from(s, 'base64');
  if (buf.length === 0 || !looksText(buf)) return null;
  const t = buf.toString('utf8');
  return t.includes('\uFFFD') ? null : t;
}

const BODIES_ALL = 3;

/** The per-installation scanner. `secret` keys the HMAC of every hit's value. */
export function createPiiScanner(opts: ScannerOptions): PiiScanner {
  const o: DetectOptions = opts.defaultCountry !== undefined ? { defaultCountry: opts.defaultCountry } : {};
  const secret = opts.secret;
  const tokens = new Map<string, readonly Redacted[]>();
  const hmac = new HmacCache(secret, HMAC_CACHE);
  const detected = opts.cache === false ? null : new ResultCache<Detected>(RESULT_CACHE);
  const cookieHits = opts.cache === false ? null : new ResultCache<CookieHits>(RESULT_CACHE);
  const sampler = opts.sampling === false ? null : new Sampler({ ...SAMPLING, ...opts.sampling });
  return {
    scanExchange(ex: Exchange, endpointKey?: string, bodies: number = BODIES_ALL): PiiHit[] {
      const fields = sampler !== null && endpointKey !== undefined ? sampler.fieldsOf(endpointKey) : null;
      const s =
        fields !== null && sampler !== null && endpointKey !== undefined
          ? new Scan(hmac, o, tokens, sampler, fields, endpointKey, opts.skim !== false)
          : new Scan(hmac, o, tokens);
      s.detected = detected;
      s.cookieHits = cookieHits;
      try {
        if (ex.request !== null) {
          s.target('request', ex.request.target);
          s.headers('request', ex.request.headers);
          if ((bodies & 1) !== 0) s.body('request', ex.request.body);
          if (ex.request.trailers.length > 0) s.headers('request', ex.request.trailers);
        }
        if (ex.response !== null) {
          s.headers('response', ex.response.headers);
          if ((bodies & 2) !== 0) s.body('response', ex.response.body);
          if (ex.response.trailers.length > 0) s.headers('response', ex.response.trailers);
        }
      } catch {
        // Defensive: a detector bug must not take down the analyzer loop. The partial hits stand.
      }
      return s.hits;
    },
    stats(): PiiScanStats {
      return {
        fieldsTracked: sampler?.size ?? 0,
        fieldsUntracked: sampler?.untracked ?? 0,
        valuesSampledOut: sampler?.stats.sampledOut ?? 0,
        novelShapeScans: sampler?.stats.novelShapes ?? 0,
        shapesOverflow: sampler?.stats.shapesOverflow ?? 0,
        outcomeChanges: sampler?.stats.outcomeChanges ?? 0,
      };
    },
  };
}
