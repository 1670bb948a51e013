// Conformance against the spec: what traffic does that the matched operation does not declare.
//
// Per exchange attributed to a documented operation (the provisional template matched against the
// current specs, as the inventory matches endpoints):
// - undocumented_parameter: a query parameter or request header the operation does not declare
//   (standard headers and the spec's apiKey credentials excepted, headers.ts), a request body field
//   its request schema does not name (walk.ts), a form field it does not declare;
// - undocumented_status: a status its `responses` do not declare, neither exactly, by range (`4XX`)
//   nor through `default`;
// - undocumented_field: a response body field the response schema does not name; severity high when
//   the PII analyzer reported personal data in that field (or below it) for the endpoint;
// - schema_mismatch: a body the schema rejects (ajv, JSON Schema 2020-12 after conversion from the
//   spec's dialect, schema.ts): type, format, enum, required and the other assertions, plus readOnly
//   properties sent in requests and writeOnly ones returned in responses.
// One finding per (endpoint, kind, location, pointer or name); evidence is counts and pointers,
// never a value. Specs without schemas (or pruned ones, parse.ts) give no body findings.
//
// Cost follows novelty (bodies only; names and statuses are checked on every exchange). Per stream
// (provisional endpoint, side, declared response, media type) a body is validated when it is among
// the first `saturation` bodies, when its shape (field paths and JSON types, shapeOf) is new for the
// stream (up to MAX_SHAPES shapes), or when the countdown of the decaying sample expires: gaps drawn
// in [1, G] with G doubling as the settled run doubles, up to `rate` (pii/sampling.ts nextGap). So a
// new field or type is validated at its first occurrence, and a persistent change that keeps the
// shape (a bad enum value, a broken format) within `rate` bodies of the stream. Counts in findings
// are of validated bodies; details say how many bodies were validated. Bodies the analysis's body
// gate left out (Observed.bodies, shared/gate.ts) are not parsed for their shape, but they count in
// the countdown and are validated when it expires, so the decaying rate holds; a new object key is
// walked by the gate at its first occurrence, so a new field is still seen at once; a new JSON type
// without a new key (a field turning null) is validated within `rate` bodies.
//
// State is per API host (the key starts with the host), so workers and partitions give the same
// result; restore() seeds counts from stored findings of restored hosts (analyzer group).
import type { Body } from '../../engine/contracts/exchange.js';
import type { CounterName } from '../../engine/contracts/catalogue.js';
import type { Finding, FindingKind, Severity } from '../../engine/contracts/inventory.js';
import { isoFromUs } from '../../engine/contracts/inventory.js';
import { queryNames } from '../auth/classify.js';
import type { EndpointAggregate } from '../endpoints/aggregate.js';
import { matchSegments } from '../endpoints/tree.js';
import { fnv1a, newFieldState, nextGap } from '../pii/sampling.js';
import type { FieldState } from '../pii/sampling.js';
import type { AnalyzerPlugin, Observed, Snapshot } from '../plugin.js';
import { findingId } from '../risks/findings.js';
import { bodyJson } from '../shared/json.js';
import type { IndexedOp, SpecIndex } from '../spec/match.js';
import { parseSpec } from '../spec/load.js';
import type { LoadedSpec, SpecContract, SpecMedia, SpecResponse } from '../spec/types.js';
import { isIncidentalQuery, isStandardHeader } from './headers.js';
import { bundleSchema } from './schema.js';
import type { Side } from './schema.js';
import type { ValidatorCache } from './validate.js';
import { createValidatorCache, violationsOf } from './validate.js';
import type { WalkHit } from './walk.js';
import { pointerToField, walkBody } from './walk.js';

export interface ConformanceSampling {
  /** Bodies of a stream always validated before sampling starts. */
  saturation: number;
  /** The slowest validation rate of a settled stream: at least one body in `rate`. */
  rate: number;
}
export const CONFORMANCE_SAMPLING: Readonly<ConformanceSampling> = { saturation: 32, rate: 64 };
/** What conformance does with a body the analysis's gate left out (gatedPick). */
const GATED = { skip: 0, normal: 1, force: 2 } as const;
type Gated = (typeof GATED)[keyof typeof GATED];

/** Shapes remembered per stream. */
export const MAX_SHAPES = 64;
/** Findings entries kept (all endpoints); later ones are counted as dropped. */
export const MAX_ENTRIES = 100_000;
/** Provisional keys whose operation match is cached. */
const MAX_OP_CACHE = 65_536;

export const CONFORMANCE_KINDS: ReadonlySet<FindingKind> = new Set([
  'undocumented_parameter',
  'undocumented_field',
  'undocumented_status',
  'schema_mismatch',
]);

export interface ConformanceSpecs {
  index: SpecIndex;
  /** Specs whose versionless paths are enabled on a host (analysis.ts). */
  versionless(host: string): ReadonlySet<LoadedSpec> | undefined;
}

type Location = 'request.query' | 'request.header' | 'request.body' | 'response.body' | 'response.status';

interface Entry {
  kind: FindingKind;
  location: Location;
  /** JSON pointer (bodies), parameter / header name, or status code. */
  name: string;
  count: number;
  /** Keyword → count (schema_mismatch). */
  keywords: Map<string, number>;
  /** Response status → count (response findings), or the status of the request's answer. */
  statuses: Map<string, number>;
  /** Request findings answered with 2xx: the server accepted it. */
  accepted: number;
  firstUs: number;
  lastUs: number;
}

interface PreparedOp {
  wholeQuery: boolean;
  query: Set<string>;
  headers: Set<string>;
  form: Set<string>;
}

interface Stream {
  n: number;
  fs: FieldState;
  shapes: number[];
}

interface KeyState {
  entries: Map<string, Entry>;
  streams: Map<string, Stream>;
  /** Bodies validated per side. */
  validated: { request: number; response: number };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function mediaType(ct: string | null): string | null {
  if (ct === null) return null;
  const m = ct.split(';')[0]?.trim().toLowerCase() ?? '';
  return m === '' ? null : m;
}
const isJsonType = (mt: string): boolean => mt === 'application/json' || mt.endsWith('+json') || mt === 'text/json';

/** The declared media for a body's type: exact, `type/*`, `*\/*`, else the only JSON one. */
export function pickMedia(media: readonly SpecMedia[], mt: string): SpecMedia | null {
  const exact = media.find((m) => m.mediaType === mt);
  if (exact) return exact;
  const major = mt.split('/')[0] ?? '';
  const range = media.find((m) => m.mediaType === `${major}/*`);
  if (range) return range;
  const any = media.find((m) => m.mediaType === '*/*');
  if (any) return any;
  if (isJsonType(mt)) {
    const json = media.filter((m) => isJsonType(m.mediaType) || m.mediaType.endsWith('/json'));
    if (json.length >= 1) return json[0] ?? null;
  }
  return null;
}

/** The declared response for a status: exact, range (`4XX`), `default`; null when undeclared. */
export function pickResponse(responses: readonly SpecResponse[], status: number): SpecResponse | null {
  const s = String(status);
  return (
    responses.find((r) => r.status === s) ??
    responses.find((r) => r.status === `${s[0] ?? ''}XX`) ??
    responses.find((r) => r.status === 'default') ??
    null
  );
}

/**
 * A body's shape: order-insensitive hash of (path, JSON type) over its first nodes (depth 4, the
 * first 3 items of each array, 64 nodes). Equal for two users with the same fields; different when
 * a field, a type or a nesting appears.
 */
export function shapeOf(v: unknown): number {
  let h = 0;
  let budget = 64;
  const visit = (x: unknown, path: number, depth: number): void => {
    if (budget-- <= 0) return;
    const t = x === null ? 0 : Array.isArray(x) ? 1 : typeof x === 'object' ? 2 : typeof x === 'string' ? 3 : 4;
    h = (h + Math.imul(path ^ (t + 1), 0x9e3779b1)) >>> 0;
    if (depth >= 4 || x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      const n = Math.min(x.length, 3);
      for (let i = 0; i < n; i++) visit(x[i], fnv1a('[]', path), depth + 1);
      return;
    }
    for (const k in x as Record<string, unknown>) visit((x as Record<string, unknown>)[k], fnv1a(k, path), depth + 1);
  };
  visit(v, 0x811c9dc5, 0);
  return h;
}

function formNames(data: string): readonly string[] {
  return queryNames(`?${data}`);
}

export function createConformanceAnalyzer(
  specs: ConformanceSpecs,
  sampling: Readonly<ConformanceSampling> = CONFORMANCE_SAMPLING,
  cache: ValidatorCache = createValidatorCache(),
): AnalyzerPlugin {
  const gapOpts = { ...sampling, maxFields: 0 };
  const states = new Map<string, KeyState>();
  const opCache = new Map<string, IndexedOp | null>();
  /** Stored findings of restored hosts, by endpoint (host, method, path). */
  const restored = new Map<string, Finding[]>();
  let totalEntries = 0;
  const counts = {
    conformance_exchanges: 0,
    conformance_bodies_validated: 0,
    conformance_bodies_sampled_out: 0,
    conformance_bodies_novel_shape: 0,
    conformance_bodies_unchecked: 0,
    conformance_bodies_schema_failed: 0,
    conformance_entries_dropped: 0,
    conformance_specs_parsed_whole: 0,
  };

  /**
   * The contract and documents to check an operation with. A large YAML spec was pruned at load time
   * (spec/parse.ts: its schemas cut for a fast start); it is parsed whole once, when traffic first
   * reaches one of its operations (about 170 ms per MB), and its operations are found by (method, path).
   */
  const wholeSpecs = new Map<LoadedSpec, LoadedSpec | null>();
  const resolvedOps = new WeakMap<IndexedOp, { spec: LoadedSpec; contract: SpecContract }>();
  const resolve = (e: IndexedOp): { spec: LoadedSpec; contract: SpecContract } => {
    const src = e.spec.source;
    if (src === null) return { spec: e.spec, contract: e.op.contract };
    const hit = resolvedOps.get(e);
    if (hit !== undefined) return hit;
    let whole = wholeSpecs.get(e.spec);
    if (whole === undefined) {
      try {
        whole = parseSpec(src.text, e.spec.name, src.dir ?? undefined, { prune: false });
        counts.conformance_specs_parsed_whole++;
      } catch {
        whole = null; // it loaded pruned, so this does not happen; if it did, the pruned contract stands
      }
      wholeSpecs.set(e.spec, whole);
    }
    const op = whole?.operations.find((x) => x.method === e.op.method && x.path === e.op.path);
    const r = whole && op ? { spec: whole, contract: op.contract } : { spec: e.spec, contract: e.op.contract };
    resolvedOps.set(e, r);
    return r;
  };

  const opFor = (o: Observed, key: string): IndexedOp | null => {
    const on = specs.versionless(o.host);
    const ck = `${key}\u0000${on?.size ?? 0}`;
    const hit = opCache.get(ck);
    if (hit !== undefined) return hit;
    const op = specs.index.match(o.host, o.method, matchSegments(o.tpl), on)?.entry ?? null;
    if (opCache.size >= MAX_OP_CACHE) opCache.clear();
    opCache.set(ck, op);
    return op;
  };

  /** Names an operation declares, made once per operation (headers lower case, with apiKey credentials). */
  const preparedOps = new WeakMap<IndexedOp, PreparedOp>();
  const prepared = (e: IndexedOp): PreparedOp => {
    let p = preparedOps.get(e);
    if (p === undefined) {
      const ps = e.op.contract.parameters;
      const schemes = Object.values(e.spec.securitySchemes);
      p = {
        wholeQuery: ps.some((x) => x.in === 'querystring'),
        query: new Set([
          ...ps.filter((x) => x.in === 'query').map((x) => x.name),
          ...schemes.filter((x) => x.in === 'query' && x.name !== null).map((x) => x.name as string),
        ]),
        headers: new Set([
          ...ps.filter((x) => x.in === 'header').map((x) => x.name.toLowerCase()),
          ...schemes.filter((x) => x.in === 'header' && x.name !== null).map((x) => (x.name as string).toLowerCase()),
        ]),
        form: new Set(ps.filter((x) => x.in === 'formdata').map((x) => x.name)),
      };
      preparedOps.set(e, p);
    }
    return p;
  };

  const stateFor = (key: string): KeyState => {
    let st = states.get(key);
    if (!st) {
      st = { entries: new Map(), streams: new Map(), validated: { request: 0, response: 0 } };
      states.set(key, st);
    }
    return st;
  };

  const note = (
    st: KeyState,
    kind: FindingKind,
    location: Location,
    name: string,
    us: number,
    status: number | null,
    keyword: string | null,
  ): void => {
    const k = `${kind}\u0000${location}\u0000${name}`;
    let e = st.entries.get(k);
    if (!e) {
      if (totalEntries >= MAX_ENTRIES) {
        counts.conformance_entries_dropped++;
        return;
      }
      totalEntries++;
      e = {
        kind,
        location,
        name,
        count: 0,
        keywords: new Map(),
        statuses: new Map(),
        accepted: 0,
        firstUs: us,
        lastUs: us,
      };
      st.entries.set(k, e);
    }
    if (keyword === null) e.count++;
    else e.keywords.set(keyword, (e.keywords.get(keyword) ?? 0) + 1);
    if (status !== null) {
      const s = String(status);
      if (keyword === null) e.statuses.set(s, (e.statuses.get(s) ?? 0) + 1);
      if (location.startsWith('request') && status >= 200 && status < 300 && keyword === null) e.accepted++;
    }
    if (us < e.firstUs) e.firstUs = us;
    if (us > e.lastUs) e.lastUs = us;
  };

  /** Sampling decision for one body of a stream (see the file comment). */
  const shouldValidate = (st: KeyState, streamKey: string, body: unknown): boolean => {
    let s = st.streams.get(streamKey);
    if (!s) {
      s = { n: 0, fs: newFieldState(fnv1a(streamKey)), shapes: [] };
      st.streams.set(streamKey, s);
    }
    s.n++;
    const shape = shapeOf(body);
    let novel = false;
    if (!s.shapes.includes(shape) && s.shapes.length < MAX_SHAPES) {
      s.shapes.push(shape);
      novel = true;
    }
    if (s.n <= sampling.saturation) {
      if (s.n === sampling.saturation) s.fs.countdown = nextGap(s.fs, gapOpts);
      return true;
    }
    if (novel) {
      counts.conformance_bodies_novel_shape++;
      return true;
    }
    s.fs.run++;
    if (--s.fs.countdown > 0) {
      counts.conformance_bodies_sampled_out++;
      return false;
    }
    s.fs.countdown = nextGap(s.fs, gapOpts);
    return true;
  };

  /**
   * Sampling decision for a body the gate left out: the stream's countdown runs over every body, so
   * the decaying rate holds whatever the gate does. Streams still in their first `saturation` bodies
   * take the normal path (shape check included).
   */
  const gatedPick = (st: KeyState, streamKey: string): Gated => {
    const s = st.streams.get(streamKey);
    if (s === undefined || s.n < sampling.saturation) return GATED.normal;
    s.n++;
    s.fs.run++;
    if (--s.fs.countdown > 0) {
      counts.conformance_bodies_sampled_out++;
      return GATED.skip;
    }
    s.fs.countdown = nextGap(s.fs, gapOpts);
    return GATED.force;
  };

  /** Validate one JSON body against a declared media's schema; notes its findings. */
  const checkBody = (
    st: KeyState,
    spec: LoadedSpec,
    side: Side,
    streamKey: string,
    media: SpecMedia,
    body: Body,
    json: unknown,
    us: number,
    status: number | null,
    force = false,
  ): void => {
    if (media.schema === null) return;
    if (!force && !shouldValidate(st, streamKey, json)) return;
    const ref = media.schema;
    const c = cache.get(`${spec.name}\u0000${ref}\u0000${side}`, () => bundleSchema(spec, ref, side));
    if (!c.ok) {
      counts.conformance_bodies_schema_failed++;
      return;
    }
    counts.conformance_bodies_validated++;
    st.validated[side]++;
    const truncated = body.truncated || !body.complete;
    c.fn(json);
    const hits: WalkHit[] = [];
    walkBody(c.bundle.schema, json, side, hits);
    const undocumented: FindingKind = side === 'request' ? 'undocumented_parameter' : 'undocumented_field';
    const location: Location = side === 'request' ? 'request.body' : 'response.body';
    const mismatch = new Map<string, string[]>();
    for (const v of violationsOf(c.fn.errors, truncated)) {
      const l = mismatch.get(v.pointer);
      if (l) l.push(v.keyword);
      else mismatch.set(v.pointer, [v.keyword]);
    }
    const seen = new Set<string>();
    for (const h of hits) {
      if (seen.has(`${h.kind}${h.pointer}`)) continue; // one count per body
      seen.add(`${h.kind}${h.pointer}`);
      if (h.kind === 'undocumented') note(st, undocumented, location, h.pointer, us, status, null);
      else {
        const l = mismatch.get(h.pointer);
        if (l) l.push(h.kind);
        else mismatch.set(h.pointer, [h.kind]);
      }
    }
    for (const [pointer, kws] of mismatch) {
      note(st, 'schema_mismatch', location, pointer, us, status, null);
      for (const k of new Set(kws)) note(st, 'schema_mismatch', location, pointer, us, null, k);
    }
  };

  return {
    name: 'conformance',
    observe(o: Observed) {
      const req = o.ex.request;
      // No operation serves this host (no spec at all, most often): opFor would find none.
      if (req === null || specs.index.forHost(o.host).length === 0) return;
      const key = o.key;
      const entry = opFor(o, key);
      if (entry === null) return;
      counts.conformance_exchanges++;
      o.leaf.coarseKeys.add(key);
      const st = stateFor(key);
      const { spec, contract: c } = resolve(entry);
      const res = o.ex.response;
      const us = req.startUs;
      const status = res?.status ?? null;
      const p = prepared(entry);
      // Query parameters (a `querystring` parameter, OpenAPI 3.2, declares the whole query).
      if (!p.wholeQuery && req.target.includes('?')) {
        for (const n of new Set(queryNames(req.target))) {
          if (p.query.has(n) || isIncidentalQuery(n)) continue;
          const base = n.replace(/\[[^\]]*\].*$/, ''); // deepObject / array forms: filter[status], ids[]
          if (p.query.has(base)) continue;
          note(st, 'undocumented_parameter', 'request.query', n, us, status, null);
        }
      }
      let seenHeaders: Set<string> | null = null;
      for (const [name] of req.headers) {
        const lower = name.toLowerCase();
        if (isStandardHeader(lower) || p.headers.has(lower)) continue;
        seenHeaders ??= new Set();
        if (seenHeaders.has(lower)) continue;
        seenHeaders.add(lower);
        note(st, 'undocumented_parameter', 'request.header', lower, us, status, null);
      }
      // Request body.
      const rmt = mediaType(req.body.contentType);
      if ((o.bodies & 1) === 0) {
        // A body the analysis's gate left out: validated only when this stream's own countdown says so.
        if (req.body.size > 0 && rmt !== null && isJsonType(rmt) && req.body.encoding === 'utf8' && c.requestBody) {
          const media = pickMedia(c.requestBody, rmt);
          const streamKey = media === null ? '' : `${key} request ${media.mediaType}`;
          const pick = media === null ? GATED.skip : gatedPick(st, streamKey);
          const json = pick === GATED.skip ? undefined : bodyJson(req.body);
          if (media !== null && json !== undefined)
            checkBody(st, spec, 'request', streamKey, media, req.body, json, us, status, pick === GATED.force);
        }
      } else if (req.body.size > 0 && rmt !== null && req.body.encoding === 'utf8') {
        if (rmt === 'application/x-www-form-urlencoded') {
          const formDeclared = p.form;
          const media = c.requestBody === null ? null : pickMedia(c.requestBody, rmt);
          if (media !== null && media.schema !== null) {
            // OpenAPI 3: the form is an object schema; walk its field names as a JSON object.
            const obj: Record<string, string> = {};
            for (const n of formNames(req.body.data)) obj[n] = '';
            const cc = cache.get(`${spec.name}\u0000${media.schema}\u0000request`, () =>
              bundleSchema(spec, media.schema as string, 'request'),
            );
            if (cc.ok) {
              const hits: WalkHit[] = [];
              walkBody(cc.bundle.schema, obj, 'request', hits);
              for (const h of hits)
                if (h.kind === 'undocumented')
                  note(st, 'undocumented_parameter', 'request.body', h.pointer, us, status, null);
            }
          } else if (formDeclared.size > 0 || c.requestBody === null) {
            for (const n of new Set(formNames(req.body.data)))
              if (!formDeclared.has(n))
                note(
                  st,
                  'undocumented_parameter',
                  'request.body',
                  `/${n.replace(/~/g, '~0').replace(/\//g, '~1')}`,
                  us,
                  status,
                  null,
                );
          }
        } else if (isJsonType(rmt)) {
          const json = bodyJson(req.body);
          if (json !== undefined) {
            if (c.requestBody === null) {
              // No body declared: every top-level field is undeclared.
              if (json !== null && typeof json === 'object' && !Array.isArray(json))
                for (const k of Object.keys(json))
                  note(
                    st,
                    'undocumented_parameter',
                    'request.body',
                    `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`,
                    us,
                    status,
                    null,
                  );
            } else {
              const media = pickMedia(c.requestBody, rmt);
              if (media !== null)
                checkBody(st, spec, 'request', `${key} request ${media.mediaType}`, media, req.body, json, us, status);
              else counts.conformance_bodies_unchecked++;
            }
          }
        }
      }
      // Response.
      // 304 answers a conditional request (RFC 9110 §15.4.5): HTTP caching, not the operation's contract.
      if (res === null || c.responses === null || res.status < 200 || res.status === 304) return;
      const r = pickResponse(c.responses, res.status);
      if (r === null) {
        note(st, 'undocumented_status', 'response.status', String(res.status), res.startUs, res.status, null);
        return;
      }
      const mt = mediaType(res.body.contentType);
      if (o.method === 'HEAD' || res.body.size === 0 || mt === null || !isJsonType(mt) || res.body.encoding !== 'utf8')
        return;
      const gated = (o.bodies & 2) === 0;
      let pick: Gated = GATED.normal;
      if (gated) {
        // A body the analysis's gate left out: validated only when this stream's own countdown says so.
        const m = pickMedia(r.media, mt);
        if (m === null) return;
        pick = gatedPick(st, `${key} response ${r.status} ${m.mediaType}`);
        if (pick === GATED.skip) return;
      }
      const json = bodyJson(res.body);
      if (json === undefined) return;
      const media = pickMedia(r.media, mt);
      if (media === null) {
        counts.conformance_bodies_unchecked++;
        return;
      }
      checkBody(
        st,
        spec,
        'response',
        `${key} response ${r.status} ${media.mediaType}`,
        media,
        res.body,
        json,
        res.startUs,
        res.status,
        pick === GATED.force,
      );
    },
    findings(s: Snapshot): Finding[] {
      const out: Finding[] = [];
      for (const ag of s.aggregates) {
        if (ag.match === null) continue;
        const merged = new Map<string, Entry>();
        const validated = { request: 0, response: 0 };
        const stored = { request: 0, response: 0 };
        for (const k of ag.stats.coarseKeys.values()) {
          const st = states.get(k);
          if (!st) continue;
          validated.request += st.validated.request;
          validated.response += st.validated.response;
          for (const [ek, e] of st.entries) mergeEntry(merged, ek, e);
        }
        for (const f of restored.get(`${ag.record.host}\u0000${ag.record.method}\u0000${ag.record.path}`) ?? []) {
          const e = entryFromFinding(f);
          if (e === null) continue;
          mergeEntry(merged, `${e.kind}\u0000${e.location}\u0000${e.name}`, e);
          const v = f.details['validated'];
          const side = e.location.startsWith('request') ? 'request' : 'response';
          if (typeof v === 'number') stored[side] = Math.max(stored[side], v);
        }
        validated.request += stored.request;
        validated.response += stored.response;
        for (const ek of [...merged.keys()].sort(cmp)) out.push(toFinding(ag, merged.get(ek) as Entry, validated));
      }
      return out;
    },
    forget(hosts) {
      const hs = new Set(hosts);
      const drop = (k: string): boolean => {
        const h = k.slice(0, k.indexOf(' '));
        return hs.has(h.replace(/#\d+$/, ''));
      };
      for (const k of [...states.keys()])
        if (drop(k)) {
          totalEntries -= states.get(k)?.entries.size ?? 0;
          states.delete(k);
        }
      for (const k of [...opCache.keys()]) if (drop(k)) opCache.delete(k);
      for (const k of [...restored.keys()]) if (hs.has(k.slice(0, k.indexOf('\u0000')))) restored.delete(k);
    },
    restore(findings) {
      for (const f of findings) {
        if (!CONFORMANCE_KINDS.has(f.kind)) continue;
        const k = `${f.host}\u0000${f.method}\u0000${f.path}`;
        const l = restored.get(k);
        if (l) l.push(f);
        else restored.set(k, [f]);
      }
    },
    stats(): Partial<Record<CounterName, number>> {
      const c = cache.stats();
      return {
        ...counts,
        conformance_schemas_failed: c.failed,
        conformance_validators_compiled: c.compiled,
        conformance_validators_evicted: c.evicted,
      };
    },
  };
}

function mergeEntry(into: Map<string, Entry>, k: string, e: Entry): void {
  const m = into.get(k);
  if (!m) {
    into.set(k, { ...e, keywords: new Map(e.keywords), statuses: new Map(e.statuses) });
    return;
  }
  m.count += e.count;
  m.accepted += e.accepted;
  for (const [x, n] of e.keywords) m.keywords.set(x, (m.keywords.get(x) ?? 0) + n);
  for (const [x, n] of e.statuses) m.statuses.set(x, (m.statuses.get(x) ?? 0) + n);
  if (e.firstUs < m.firstUs) m.firstUs = e.firstUs;
  if (e.lastUs > m.lastUs) m.lastUs = e.lastUs;
}

const usOf = (iso: string | null): number | null => {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return null;
  const m = /\.(\d{6})Z$/.exec(iso);
  return Math.floor(ms / 1000) * 1_000_000 + (m ? Number(m[1]) : (ms % 1000) * 1000);
};

const countMap = (v: unknown): Map<string, number> => {
  const m = new Map<string, number>();
  if (v !== null && typeof v === 'object' && !Array.isArray(v))
    for (const [k, n] of Object.entries(v as Record<string, unknown>)) if (typeof n === 'number') m.set(k, n);
  return m;
};

/** The counts a stored conformance finding carries (its details), for restore. */
function entryFromFinding(f: Finding): Entry | null {
  const d = f.details;
  const location = d['location'];
  const name = d['name'];
  const count = d['count'];
  if (typeof location !== 'string' || typeof name !== 'string' || typeof count !== 'number') return null;
  const first = usOf(f.firstSeen);
  const last = usOf(f.lastSeen);
  if (first === null || last === null) return null;
  return {
    kind: f.kind,
    location: location as Location,
    name,
    count,
    keywords: countMap(d['keywords']),
    statuses: countMap(d['statuses']),
    accepted: typeof d['accepted'] === 'number' ? d['accepted'] : 0,
    firstUs: first,
    lastUs: last,
  };
}

const obj = (m: Map<string, number>): Record<string, number> => {
  const o: Record<string, number> = {};
  for (const k of [...m.keys()].sort(cmp)) o[k] = m.get(k) ?? 0;
  return o;
};

function toFinding(ag: EndpointAggregate, e: Entry, validated: { request: number; response: number }): Finding {
  const r = ag.record;
  const op = ag.match?.entry;
  const opName = op ? `${op.spec.name} ${op.op.method} ${op.op.path}` : '';
  const isBody = e.location === 'request.body' || e.location === 'response.body';
  const field = isBody ? pointerToField(e.name) : e.name;
  const side: Side = e.location.startsWith('request') ? 'request' : 'response';
  const details: Record<string, unknown> = {
    location: e.location,
    name: e.name,
    ...(isBody ? { field } : {}),
    count: e.count,
    ...(isBody ? { validated: validated[side] } : {}),
    statuses: obj(e.statuses),
    ...(e.keywords.size > 0 ? { keywords: obj(e.keywords) } : {}),
    ...(side === 'request' ? { accepted: e.accepted } : {}),
    operation: opName,
  };
  let severity: Severity;
  let evidence: string;
  const seen = isBody ? `${e.count} of ${validated[side]} validated ${side}s` : `${e.count} ${side}s`;
  switch (e.kind) {
    case 'undocumented_parameter':
      severity = e.location === 'request.body' ? 'medium' : 'low';
      evidence = `${e.location === 'request.query' ? 'query parameter' : e.location === 'request.header' ? 'request header' : 'request body field'} ${field} is not declared by ${opName} (${seen}; ${e.accepted} answered 2xx)`;
      break;
    case 'undocumented_field': {
      const kinds = [
        ...new Set(
          ag.pii
            .filter(
              (p) =>
                p.location === 'response.body' &&
                (p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`)),
            )
            .map((p) => p.kind),
        ),
      ].sort(cmp);
      if (kinds.length > 0) details['pii'] = kinds;
      severity = kinds.length > 0 ? 'high' : 'low';
      evidence = `response field ${field} is not in the response schema of ${opName}${kinds.length > 0 ? ` and carries ${kinds.join(', ')}` : ''} (${seen})`;
      break;
    }
    case 'undocumented_status':
      severity = e.name.startsWith('5') ? 'medium' : 'low';
      evidence = `status ${e.name} is not declared by ${opName} (no default response) (${seen})`;
      break;
    default: {
      const kws = [...e.keywords.keys()].sort(cmp).join(', ');
      // Only nulls the schema does not admit: a spec that forgot `nullable`, rarely a defect.
      const onlyNull = e.keywords.size === 1 && e.keywords.has('nullable');
      severity = onlyNull ? 'low' : side === 'response' || e.accepted > 0 ? 'medium' : 'low';
      evidence = `${side} body ${field} violates ${kws} of the schema of ${opName} (${seen}${side === 'request' ? `; ${e.accepted} answered 2xx` : ''})`;
    }
  }
  const confidence = Math.round((e.count >= 2 ? 0.9 : 0.8) * 1000) / 1000;
  return {
    id: findingId(e.kind, r.host, r.method, r.path, `${e.location} ${e.name}`),
    kind: e.kind,
    severity,
    host: r.host,
    method: r.method,
    path: r.path,
    confidence,
    evidence,
    details,
    firstSeen: isoFromUs(e.firstUs),
    lastSeen: isoFromUs(e.lastUs),
  };
}
