// The analysis facade: exchanges in (observe), inventory and findings out.
//
// Call order: observe() any number of times, endpoints()/findings() whenever a snapshot is wanted
// (they are recomputed lazily after new observations and cached otherwise). Templates are decided from
// the accumulated per-host path trees at endpoints() time, so the inventory does not depend on the
// order exchanges arrived in; observe() returns a provisional attribution (spec, value-class and
// override rules only, no cardinality), which is also the key PII evidence is aggregated under.
// Deterministic: no clock, sorted output, same input → byte-identical JSON.
//
// GraphQL exchanges (graphql/recognise.ts) do not enter the path tree: each of their operations is an
// endpoint of graphql/inventory.ts, folded in and handed to the plug-ins one operation at a time.
//
// Distributed use (`apitap analyze`, one long-lived Analysis per consumer): state is per API host, and
// a host's state moves with its Kafka partition. forget(hosts) drops the state of revoked hosts;
// restore(records, findings) rebuilds hosts from the store (endpoints/restore.ts says what comes back
// exactly and what approximately); endpoints(host)/findings(host) give one host's rows, so a worker
// writes only the hosts its batch touched. Restored templates act like seeds: a stored
// /users/{userId} keeps templating /users/42 into it (tree.ts, "Restored parameters").
import type { CounterName } from '../engine/contracts/catalogue.js';
import type { Exchange } from '../engine/contracts/exchange.js';
import { apiHost, headerValue } from '../engine/contracts/exchange.js';
import type { EndpointRecord, Finding } from '../engine/contracts/inventory.js';
import { classifyAuth, requestQueryNames } from './auth/classify.js';
import type { EndpointAggregate } from './endpoints/aggregate.js';
import { leafFromRecord, usFromIso } from './endpoints/restore.js';
import { buildRecord } from './endpoints/aggregate.js';
import { categoryOf } from './endpoints/classify.js';
import type { Overrides } from './endpoints/overrides.js';
import { applyOverrides } from './endpoints/overrides.js';
import { addExchange, FieldPaths, mergeStats, newLeafStats } from './endpoints/stats.js';
import type { BodyWalk, LeafStats } from './endpoints/stats.js';
import { BODY_GATE, BodyGate, envelopeOf, jsonText } from './shared/gate.js';
import type { BodyGateOptions, BodyStream } from './shared/gate.js';
import type { TemplateSeg } from './endpoints/tree.js';
import { matchSegments, OVERFLOW, parseParamExplain, PathTree, templateString } from './endpoints/tree.js';
import type { PiiFieldAggregator, PiiScanner } from './pii/types.js';
import { sortFindings } from './risks/findings.js';
import type { Observed, Snapshot } from './plugin.js';
import { createAnalyzers } from './registry.js';
import type { TlsEndpoint, TlsHandshake } from '../engine/contracts/tls.js';
import { createTlsInventory, type TlsAnalyzerOptions } from './tls/inventory.js';
import type { IndexedOp } from './spec/match.js';
import { createSpecIndex } from './spec/match.js';
import type { LoadedSpec } from './spec/types.js';
import type { ActorEvent, ActorFields } from './actors/event.js';
import { actorFields } from './actors/event.js';
import { ActorIdentifier, type IpMode } from './actors/identity.js';
import { createGraphqlInventory } from './graphql/inventory.js';
import type { RestoredFacts } from './graphql/plugin.js';
import type { LoadedGraphqlSchema } from './graphql/schema.js';
import { GRAPHQL_PARAMS } from './graphql/recognise.js';

export interface AnalysisOptions {
  specs: LoadedSpec[];
  /** Older versions of the specs: operations present there but not in `specs` are "removed". */
  previousSpecs: LoadedSpec[];
  overrides: Overrides | null;
  pii: { scanner: PiiScanner; aggregator: PiiFieldAggregator } | null;
  /** TLS inventory options (certificate_expiring threshold, bounds). */
  tls?: Partial<TlsAnalyzerOptions>;
  /**
   * Actors (analyzers/actors): with it, every exchange with a request gets its actor fields
   * (Attribution.actor); `keepEvents` also keeps them as events for actorEvents() (replay, whose
   * behaviour detectors run at the end; the analyzer group reads them back from the store instead).
   */
  actors?: { secret: Buffer | string; ipMode: IpMode; keepEvents: boolean; maxEvents: number } | null;
  /** GraphQL SDL schemas (`--graphql-schema`): operations are checked against them (analyzers/graphql). */
  graphqlSchemas?: readonly LoadedGraphqlSchema[];
  /** Body gate bounds (shared/gate.ts); false walks every body (accuracy baselines, tests). Default BODY_GATE. */
  bodyGate?: Partial<BodyGateOptions> | false;
}

export interface Attribution {
  host: string;
  method: string;
  path: string;
  /** Who sent it (null without a request, or without the actors option). */
  actor: ActorFields | null;
}

/**
 * Where the exchanges attributed to a provisional path (observe()'s `path`, stored on exchange rows)
 * went once templates were decided: `path` is the inventory endpoint. One row per (host, method,
 * rawPath); when concrete paths under one provisional key were decided apart, the endpoint with the
 * most hits wins (ties: the smaller path).
 */
export interface PathMapping {
  host: string;
  method: string;
  rawPath: string;
  path: string;
}

export interface Analysis {
  /** Fold one exchange in; returns the endpoint it was (provisionally) attributed to. */
  observe(ex: Exchange): Attribution;
  /**
   * Seed hosts from stored rows (the endpoints of those hosts, and optionally their findings, which
   * carry counters the records lack: auth posture, deprecation headers, PII samples). Replaces the
   * state of every host named in `endpoints` (as forget() would), so restoring the same rows twice
   * equals restoring them once; exchanges observed for those hosts before the call are dropped (in
   * the worker they are the uncommitted tail the consumer re-reads). Rows are not validated here:
   * zod-parse them at the store boundary. Call before observing the hosts' new traffic; a restored
   * firstSeen/lastSeen widens the observation window of orphan findings.
   */
  restore(endpoints: readonly EndpointRecord[], findings?: readonly Finding[]): void;
  /** Drop all state of these hosts (their partition was revoked). */
  forget(hosts: readonly string[]): void;
  /** API hosts with state (observed or restored), sorted. */
  hosts(): string[];
  /** Packet-time window of everything observed (or restored), null before anything was. */
  window(): { firstUs: number; lastUs: number } | null;
  /** Inventory sorted by (host, path, method); with `host`, only that host's endpoints. */
  endpoints(host?: string): EndpointRecord[];
  /**
   * Findings sorted by (host, path, method, kind, id); with `host`, only findings whose host is
   * `host` (orphans carry their operation's host, or '*' for host-less specs: findings('*')).
   */
  findings(host?: string): Finding[];
  /** Provisional → decided path of every endpoint (of one host with `host`), sorted (host, method, rawPath). */
  pathMap(host?: string): PathMapping[];
  /**
   * Counted drops and oddities (tree caps, exchanges without a request), named as in the catalogue;
   * the pipeline folds them into its Counters before it reports.
   */
  stats(): Partial<Record<CounterName, number>>;
  /** Fold one tls/v1 record into the inventory of encrypted hosts (analyzers/tls). */
  observeTls(rec: TlsHandshake): void;
  /** The encrypted hosts, sorted by (server, port, sni). */
  tls(): TlsEndpoint[];
  /**
   * The actor events kept (actors.keepEvents), in observation order; the first `maxEvents` only
   * (actors_events_dropped counts the rest). Not sorted: the detectors sort by (packet time, id).
   */
  actorEvents(): ActorEvent[];
}

/** Host and raw path segments of a request target (origin-form, absolute-form, asterisk/authority-form). */
export function parseTarget(ex: Exchange): { host: string; segs: string[] } {
  return { host: apiHost(ex), segs: targetSegs(ex.request?.target ?? '') };
}

/** End of the path of an origin-form target: the first '?' or '#', else its length. */
function pathEnd(target: string): number {
  const q = target.indexOf('?');
  const h = target.indexOf('#');
  if (q < 0) return h < 0 ? target.length : h;
  return h < 0 || q < h ? q : h;
}

/** The non-empty '/'-separated segments of target[0, end). */
function splitPath(target: string, end: number): string[] {
  const out: string[] = [];
  let a = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || target.charCodeAt(i) === 47 /* / */) {
      if (i > a) out.push(target.slice(a, i));
      a = i + 1;
    }
  }
  return out;
}

/** Raw path segments of a request target (parseTarget's `segs`). */
function targetSegs(target: string): string[] {
  if (target.charCodeAt(0) === 47 /* / */) return splitPath(target, pathEnd(target));
  let path = target;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target);
  if (abs) path = abs[1] ?? '';
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (!path.startsWith('/')) return path === '' ? [] : [path]; // '*' or CONNECT authority
  return splitPath(path, path.length);
}

/**
 * What observe() derives from one (host, method, raw target path): the segments and their category
 * are pure functions of the text; the tree attribution (node, leaf, provisional template) is one of
 * the text and the host tree's spec seeding (PathTree.epoch says when it may have changed), so it is
 * kept with the tree and epoch it was made under and remade when either differs. Insert's drop
 * counts are replayed on every hit (tree.ts, epoch). Holds raw paths as the tree does (no new
 * retention); bounded by ROUTE_CACHE, all dropped when full. Measured on the 60 MB lab capture
 * without bodies: templating (parseTarget, insert, coarse, overrides) was ~30% of observe().
 */
interface Route {
  segs: string[];
  /** '/' + segs joined: the base path GraphQL recognition gets. */
  joined: string;
  /** categoryOf(segs, method, false): a preflight is told apart per exchange. */
  category: ReturnType<typeof categoryOf>;
  tree: PathTree | null;
  epoch: number;
  leaf: LeafStats | null;
  tpl: readonly TemplateSeg[];
  path: string;
  /** Observed.key of the attribution, and the body gate's stream keys of its two sides. */
  key: string;
  gateRequest: string;
  gateResponse: string;
  /** Drops one insert(segs) counts: path_too_deep, children_overflow, nodes_overflow. */
  deep: number;
  childrenOverflow: number;
  nodesOverflow: number;
}
const ROUTE_CACHE = 8192;

/** The key PII and conformance state is kept under: "host[#generation] METHOD /template". */
function endpointKey(host: string, generation: number, method: string, path: string): string {
  return `${host}${generation > 0 ? `#${generation}` : ''} ${method} ${path}`;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface HostWindow {
  firstUs: number;
  lastUs: number;
}

/** A spec whose versionless paths wait for their host to serve one of its version bases. */
interface PendingVersionless {
  spec: LoadedSpec;
  bases: string[][];
}

export function createAnalysis(opts: AnalysisOptions): Analysis {
  const current = createSpecIndex(opts.specs);
  const previous = createSpecIndex(opts.previousSpecs);
  const trees = new Map<string, PathTree>();
  /** Packet-time window per host (every exchange, with or without a request; restored rows too). */
  const windows = new Map<string, HostWindow>();
  /** Specs whose versionless paths are enabled per host (spec/load.ts, "Optional version base"). */
  const versionless = new Map<string, Set<LoadedSpec>>();
  const pending = new Map<string, PendingVersionless[]>();
  /** Bumped by forget(): PII aggregator keys of a host's earlier state are not reused. */
  const generations = new Map<string, number>();
  /** The analyzers beside the inventory core (registry.ts), in their order. */
  const tlsInventory = createTlsInventory(opts.tls);
  // GraphQL operations are endpoints beside the path tree (graphql/inventory.ts says why).
  const graphql = createGraphqlInventory(opts.graphqlSchemas ?? []);
  const graphqlRestored: RestoredFacts = new Map();
  const plugins = createAnalyzers({
    pii: opts.pii,
    tls: tlsInventory,
    graphql: { inventory: graphql, restored: graphqlRestored },
    conformance: { index: current, versionless: (host) => versionless.get(host) },
  });
  const counts = {
    analysis_exchanges: 0,
    analysis_without_request: 0,
    analysis_restored_endpoints: 0,
    analysis_forgotten_hosts: 0,
  };
  const hostCache = new Map<string, EndpointAggregate[]>();
  const mapCache = new Map<string, PathMapping[]>();
  /** Interned JSON field paths of bodies (bounded; output-neutral, see FieldPaths). */
  const fieldPaths = new FieldPaths();
  let findingsCache: Finding[] | null = null;
  // Body walks of settled streams are gated (shared/gate.ts); GraphQL operations are always walked.
  const gate = opts.bodyGate === false ? null : new BodyGate({ ...BODY_GATE, ...opts.bodyGate });
  const walkStreams: { request: BodyStream | null; response: BodyStream | null } = { request: null, response: null };
  const scanner = opts.pii?.scanner ?? null;
  /** Novel events of the PII sampler so far (new fields, new value shapes, outcome changes). */
  const piiNovelty = (): number => {
    const st = scanner?.stats?.();
    return st === undefined ? 0 : st.fieldsTracked + st.outcomeChanges;
  };
  /**
   * The gate's decision for the exchange's non-empty bodies (null: no gate). Fills walkStreams with
   * the streams of the walked sides, for settle() after the walk.
   */
  const gateBodies = (ex: Exchange, route: Route): BodyWalk | null => {
    if (gate === null) return null;
    const req = ex.request;
    const res = ex.response;
    let request = false;
    let response = false;
    walkStreams.request = walkStreams.response = null;
    if (req !== null && req.body.data !== '') {
      const st = gate.stream(route.gateRequest);
      request = gate.decide(st, envelopeOf(req.body, 0), jsonText(req.body));
      if (request) walkStreams.request = st;
    }
    if (res !== null && res.body.data !== '') {
      const st = gate.stream(route.gateResponse);
      response = gate.decide(st, envelopeOf(res.body, res.status), jsonText(res.body));
      if (response) walkStreams.response = st;
    }
    return {
      request,
      response,
      requestSeen: walkStreams.request?.fields ?? null,
      responseSeen: walkStreams.response?.fields ?? null,
    };
  };
  const actorOpts = opts.actors ?? null;
  const identifier = actorOpts === null ? null : new ActorIdentifier(actorOpts);
  const events: ActorEvent[] = [];
  let eventsDropped = 0;

  const touch = (host: string): void => {
    hostCache.delete(host);
    mapCache.delete(host);
    findingsCache = null;
  };
  const widen = (host: string, t0: number | undefined, t1: number | undefined): void => {
    if (t0 === undefined && t1 === undefined) return;
    let w = windows.get(host);
    if (!w) {
      w = { firstUs: Number.POSITIVE_INFINITY, lastUs: Number.NEGATIVE_INFINITY };
      windows.set(host, w);
    }
    if (t0 !== undefined && t0 < w.firstUs) w.firstUs = t0;
    if (t1 !== undefined && t1 > w.lastUs) w.lastUs = t1;
  };

  // Spec entries of a host in seeding order; the position is the seeding rank (current first).
  const entriesFor = (host: string): IndexedOp[] => [...current.forHost(host), ...previous.forHost(host)];

  const treeFor = (host: string): PathTree => {
    let t = trees.get(host);
    if (!t) {
      t = new PathTree();
      // Current specs first, so their parameter names win over previous versions'.
      const entries = entriesFor(host);
      const waiting = new Map<LoadedSpec, Set<string>>();
      entries.forEach((e, rank) => {
        for (const p of e.op.fullPaths) t?.seedSpec(p, e.spec.name, rank);
        if (e.op.versionlessPaths.length === 0) return;
        let b = waiting.get(e.spec);
        if (!b) waiting.set(e.spec, (b = new Set()));
        for (const base of e.op.versionBases) b.add(base);
      });
      if (waiting.size > 0) {
        pending.set(
          host,
          [...waiting].map(([spec, b]) => ({
            spec,
            bases: [...b].sort().map((x) => x.split('/').filter((y) => y !== '')),
          })),
        );
      }
      trees.set(host, t);
    }
    return t;
  };

  /** Enable a spec's versionless paths on `host` once a path there starts with one of its version bases. */
  const checkVersionless = (host: string, tree: PathTree, segs: readonly string[]): void => {
    const list = pending.get(host);
    if (list === undefined) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i] as PendingVersionless;
      if (!p.bases.some((b) => b.length <= segs.length && b.every((x, k) => segs[k] === x))) continue;
      list.splice(i, 1);
      let on = versionless.get(host);
      if (!on) versionless.set(host, (on = new Set()));
      on.add(p.spec);
      entriesFor(host).forEach((e, rank) => {
        if (e.spec === p.spec) for (const v of e.op.versionlessPaths) tree.seedSpec(v, e.spec.name, rank);
      });
    }
    if (list.length === 0) pending.delete(host);
  };

  const finalTemplate = (
    host: string,
    method: string,
    concrete: readonly string[],
    tpl: readonly TemplateSeg[],
  ): { tpl: TemplateSeg[]; note: string | null } => {
    const o = applyOverrides(opts.overrides, host, method, concrete, tpl);
    return { tpl: o.tpl, note: o.explain };
  };

  /** Routes by host, method and raw path (nested: no key string is built per exchange). */
  let routes = new Map<string, Map<string, Map<string, Route>>>();
  let routeCount = 0;
  /** The route of a request (cached; see Route). */
  const routeOf = (host: string, method: string, target: string): Route => {
    const raw = target.charCodeAt(0) === 47 ? target.slice(0, pathEnd(target)) : target;
    let byMethod = routes.get(host);
    if (byMethod === undefined) routes.set(host, (byMethod = new Map()));
    let byPath = byMethod.get(method);
    if (byPath === undefined) byMethod.set(method, (byPath = new Map()));
    let r = byPath.get(raw);
    if (r !== undefined) return r;
    const segs = targetSegs(target);
    r = {
      segs,
      joined: '/' + segs.join('/'),
      category: categoryOf(segs, method, false),
      tree: null,
      epoch: 0,
      leaf: null,
      tpl: [],
      path: '',
      key: '',
      gateRequest: '',
      gateResponse: '',
      deep: 0,
      childrenOverflow: 0,
      nodesOverflow: 0,
    };
    if (routeCount >= ROUTE_CACHE) {
      // Full: start over (deterministic, and the answers do not depend on the cache).
      byPath = new Map();
      routes = new Map([[host, new Map([[method, byPath]])]]);
      routeCount = 0;
    }
    byPath.set(raw, r);
    routeCount++;
    return r;
  };
  /** tree.insert + leaf + provisional template of a route, made once per tree and epoch. */
  const attribute = (r: Route, tree: PathTree, host: string, method: string): void => {
    const d = tree.drops;
    if (r.tree === tree && r.epoch === tree.epoch) {
      d.path_too_deep += r.deep;
      d.children_overflow += r.childrenOverflow;
      d.nodes_overflow += r.nodesOverflow;
      return;
    }
    const d0 = d.path_too_deep;
    const d1 = d.children_overflow;
    const d2 = d.nodes_overflow;
    const node = tree.insert(r.segs);
    r.deep = d.path_too_deep - d0;
    r.childrenOverflow = d.children_overflow - d1;
    r.nodesOverflow = d.nodes_overflow - d2;
    r.leaf = tree.leaf(node, method);
    r.tpl = finalTemplate(host, method, node.concrete, tree.coarse(r.segs)).tpl;
    r.path = templateString(r.tpl);
    r.key = endpointKey(host, generations.get(host) ?? 0, method, r.path);
    r.gateRequest = `${host}\u0000${r.key}\u0000q`;
    r.gateResponse = `${host}\u0000${r.key}\u0000s`;
    r.tree = tree;
    r.epoch = tree.epoch;
  };

  function observe(ex: Exchange): Attribution {
    counts.analysis_exchanges++;
    const t0 = ex.request?.startUs ?? ex.response?.startUs;
    const t1 = ex.response?.endUs ?? ex.request?.endUs;
    const req = ex.request;
    if (req === null) {
      counts.analysis_without_request++;
      const h = apiHost(ex);
      widen(h, t0, t1);
      findingsCache = null;
      return { host: h, method: '', path: '', actor: null };
    }
    const host = apiHost(ex);
    widen(host, t0, t1);
    touch(host);
    const method = req.method.toUpperCase();
    const tree = treeFor(host);
    const route = routeOf(host, method, req.target);
    const segs = route.segs;
    checkVersionless(host, tree, segs);
    const ops = graphql.observe(ex, host, method, route.joined);
    if (ops !== null) {
      const auth = classifyAuth(ex);
      const names = requestQueryNames(req).filter((n) => !GRAPHQL_PARAMS.has(n));
      const generation = generations.get(host) ?? 0;
      const piiReceived: string[] = [];
      for (const op of ops) {
        addExchange(op.leaf, op.ex, names, auth, 'api', fieldPaths);
        const o: Observed = {
          ex: op.ex,
          host,
          method,
          path: op.path,
          tpl: op.tpl,
          leaf: op.leaf,
          auth,
          generation,
          key: endpointKey(host, generation, method, op.path),
          bodies: 3,
          piiReceived: [],
        };
        for (const p of plugins) p.observe?.(o);
        piiReceived.push(...o.piiReceived);
      }
      const path = (ops[0] as (typeof ops)[number]).path;
      return { host, method, path, actor: actorOf(ex, segs, piiReceived, host, method, path) };
    }
    attribute(route, tree, host, method);
    const leaf = route.leaf as LeafStats;
    const auth = classifyAuth(ex);
    const preflight = method === 'OPTIONS' && headerValue(req.headers, 'access-control-request-method') !== null;
    const tpl = route.tpl;
    const path = route.path;
    const generation = generations.get(host) ?? 0;
    const walk = gateBodies(ex, route);
    const novel = addExchange(
      leaf,
      ex,
      requestQueryNames(req),
      auth,
      preflight ? 'preflight' : route.category,
      fieldPaths,
      walk,
    );
    // The PII sampler's novelty is read only around walks: nothing else can settle a stream.
    const walked = walk !== null && (walk.request || walk.response);
    const piiBefore = walked ? piiNovelty() : 0;
    const o: Observed = {
      ex,
      host,
      method,
      path,
      tpl,
      leaf,
      auth,
      generation,
      key: route.key,
      bodies: walk === null ? 3 : (walk.request ? 1 : 0) | (walk.response ? 2 : 0),
      piiReceived: [],
    };
    for (const p of plugins) p.observe?.(o);
    if (walked) {
      const news = novel > 0 || piiNovelty() !== piiBefore;
      if (walk.request) gate?.settle(walkStreams.request, news);
      if (walk.response) gate?.settle(walkStreams.response, news);
    }
    return { host, method, path, actor: actorOf(ex, segs, o.piiReceived, host, method, path) };
  }

  /** The exchange's actor fields, kept as an event when the behaviour detectors run at the end. */
  function actorOf(
    ex: Exchange,
    segs: readonly string[],
    piiReceived: readonly string[],
    host: string,
    method: string,
    path: string,
  ): ActorFields | null {
    const actor = identifier === null ? null : actorFields(ex, segs, piiReceived, identifier);
    if (actor !== null && actorOpts?.keepEvents === true && ex.request !== null) {
      if (events.length < actorOpts.maxEvents) {
        // Every field written out (no spread): one object shape for all events.
        events.push({
          actorId: actor.actorId,
          clientIp: actor.clientIp,
          forwardedFor: actor.forwardedFor,
          principal: actor.principal,
          principalKind: actor.principalKind,
          principalHash: actor.principalHash,
          idValues: actor.idValues,
          loginHash: actor.loginHash,
          createdHash: actor.createdHash,
          piiReceived: actor.piiReceived,
          x: ex.id,
          t: ex.request.startUs,
          host,
          method,
          path,
          status: ex.response?.status ?? null,
        });
      } else eventsDropped++;
    }
    return actor;
  }

  function forget(hosts: readonly string[]): void {
    for (const h of hosts) {
      const had = trees.delete(h) || windows.has(h);
      windows.delete(h);
      versionless.delete(h);
      pending.delete(h);
      hostCache.delete(h);
      mapCache.delete(h);
      if (had) {
        counts.analysis_forgotten_hosts++;
        // The PII aggregator has no delete: later keys of this host get a new generation instead
        // (its old entries stay until the aggregator can drop them; proposal for the PII layer).
        generations.set(h, (generations.get(h) ?? 0) + 1);
      }
    }
    for (const p of plugins) p.forget?.(hosts);
    gate?.forget(hosts);
    // Routes hold their tree: let forgotten trees go now, not when the route cache fills.
    routes.clear();
    routeCount = 0;
    findingsCache = null;
  }

  function restore(endpoints: readonly EndpointRecord[], findings: readonly Finding[] = []): void {
    forget([...new Set(endpoints.map((r) => r.host))]);
    const restoredHosts = new Set(endpoints.map((r) => r.host));
    const mine = findings.filter((f) => restoredHosts.has(f.host));
    for (const p of plugins) p.restore?.(mine);
    const byEndpoint = new Map<string, Finding[]>();
    for (const f of findings) {
      const k = `${f.host}\u0000${f.method}\u0000${f.path}`;
      const l = byEndpoint.get(k);
      if (l) l.push(f);
      else byEndpoint.set(k, [f]);
    }
    for (const r of endpoints) {
      counts.analysis_restored_endpoints++;
      const host = r.host;
      const method = r.method.toUpperCase();
      const segs = r.path.split('/').filter((x) => x !== '');
      const tree = treeFor(host);
      if (r.operation !== undefined) {
        const k = `${host}\u0000${r.method}\u0000${r.path}`;
        const s = leafFromRecord(r, byEndpoint.get(k) ?? []);
        graphql.restore(r, s, graphqlRestored.get(k) ?? { unknown: [], deprecated: [] });
        if (r.hits > 0) widen(host, usFromIso(r.firstSeen) ?? undefined, usFromIso(r.lastSeen) ?? undefined);
        touch(host);
        continue;
      }
      checkVersionless(host, tree, segs);
      const explain = r.explain;
      const node = tree.insertTemplate(segs, (pos) => {
        for (const line of explain) {
          const info = parseParamExplain(line, pos);
          if (info !== null) return info;
        }
        return null;
      });
      const s = leafFromRecord(r, byEndpoint.get(`${host}\u0000${r.method}\u0000${r.path}`) ?? []);
      mergeStats(tree.leaf(node, method), s);
      if (r.hits > 0) widen(host, usFromIso(r.firstSeen) ?? undefined, usFromIso(r.lastSeen) ?? undefined);
      touch(host);
    }
  }

  function computeHost(host: string): EndpointAggregate[] {
    const cached = hostCache.get(host);
    if (cached) return cached;
    const tree = trees.get(host);
    if (!tree) return [];
    const on = versionless.get(host);
    const groups = new Map<string, { method: string; tpl: TemplateSeg[]; stats: LeafStats; explain: Set<string> }>();
    const raw = new Map<string, { method: string; rawPath: string; path: string; hits: number }>();
    for (const d of tree.decide()) {
      const { tpl, note } = finalTemplate(host, d.method, d.node.concrete, d.tpl);
      const key = `${d.method} ${templateString(tpl)}`;
      // Overflow and restored nodes hold no concrete path to re-derive observe()'s key from.
      if (!d.node.concrete.includes(OVERFLOW)) {
        const rawPath = templateString(
          finalTemplate(host, d.method, d.node.concrete, tree.coarse(d.node.concrete)).tpl,
        );
        const path = templateString(tpl);
        const rk = `${d.method} ${rawPath}`;
        const prev = raw.get(rk);
        const hits = d.stats.hits;
        if (prev === undefined) raw.set(rk, { method: d.method, rawPath, path, hits });
        else if (prev.path === path) prev.hits += hits;
        else if (hits > prev.hits || (hits === prev.hits && path < prev.path))
          raw.set(rk, { method: d.method, rawPath, path, hits });
      }
      let g = groups.get(key);
      if (!g) {
        g = { method: d.method, tpl, stats: newLeafStats(), explain: new Set() };
        groups.set(key, g);
      }
      mergeStats(g.stats, d.stats);
      for (const e of d.explain) g.explain.add(e);
      if (note) g.explain.add(note);
    }
    const out: EndpointAggregate[] = [];
    for (const ag of graphql.aggregates(host)) {
      for (const p of plugins) p.contribute?.(ag);
      out.push(ag);
    }
    for (const r of graphql.pathMap(host)) raw.set(`${r.method} ${r.rawPath}`, { ...r, hits: 0 });
    for (const g of groups.values()) {
      const nullable = matchSegments(g.tpl);
      const match = current.match(host, g.method, nullable, on);
      const prev = match ? null : previous.match(host, g.method, nullable, on);
      const explain = [...g.explain].sort(cmp);
      if (explain.length === 0) explain.push('literal path (no segment templated)');
      const ag = buildRecord(host, g.method, g.tpl, g.stats, explain, match, prev, []);
      for (const p of plugins) p.contribute?.(ag);
      out.push(ag);
    }
    const key = (a: EndpointAggregate): string => `${a.record.path}\u0000${a.record.method}`;
    out.sort((a, b) => cmp(key(a), key(b)));
    hostCache.set(host, out);
    const map = [...raw.values()]
      .map((r) => ({ host, method: r.method, rawPath: r.rawPath, path: r.path }))
      .sort((a, b) => cmp(`${a.method}\u0000${a.rawPath}`, `${b.method}\u0000${b.rawPath}`));
    mapCache.set(host, map);
    return out;
  }

  function pathMap(host?: string): PathMapping[] {
    if (host === undefined) return hosts().flatMap((h) => pathMap(h));
    computeHost(host);
    return mapCache.get(host) ?? [];
  }

  const hosts = (): string[] => [...trees.keys()].sort(cmp);
  const aggregates = (): EndpointAggregate[] => hosts().flatMap(computeHost);

  function window(): { firstUs: number; lastUs: number } | null {
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const w of windows.values()) {
      if (w.firstUs < first) first = w.firstUs;
      if (w.lastUs > last) last = w.lastUs;
    }
    if (!Number.isFinite(first)) {
      if (!Number.isFinite(last)) return null;
      first = last;
    }
    return { firstUs: first, lastUs: Math.max(first, last) };
  }

  function allFindings(): Finding[] {
    if (findingsCache) return findingsCache;
    const snapshot: Snapshot = { aggregates: aggregates(), current, previous, window: window(), hostsSeen: hosts() };
    findingsCache = sortFindings(plugins.flatMap((p) => p.findings?.(snapshot) ?? []));
    return findingsCache;
  }

  return {
    observe,
    restore,
    forget,
    hosts,
    window,
    endpoints: (host) => (host === undefined ? aggregates() : computeHost(host)).map((a) => a.record),
    findings: (host) => (host === undefined ? allFindings() : allFindings().filter((f) => f.host === host)),
    pathMap,
    stats() {
      const out: Partial<Record<CounterName, number>> = { ...counts };
      if (eventsDropped > 0) out.actors_events_dropped = eventsDropped;
      if (gate !== null) {
        const g = gate.stats;
        out.analysis_bodies_walked = g.walked;
        out.analysis_bodies_gated = g.skipped;
        if (g.novelEnvelopes > 0) out.analysis_bodies_novel_envelope = g.novelEnvelopes;
        if (g.envelopesOverflow > 0) out.analysis_body_envelopes_overflow = g.envelopesOverflow;
        if (g.untracked > 0) out.analysis_body_streams_untracked = g.untracked;
        if (g.novelKeys > 0) out.analysis_bodies_novel_key = g.novelKeys;
        if (g.keysOverflow > 0) out.analysis_body_keys_overflow = g.keysOverflow;
      }
      for (const t of trees.values()) {
        out.analysis_tree_path_too_deep = (out.analysis_tree_path_too_deep ?? 0) + t.drops.path_too_deep;
        out.analysis_tree_children_overflow = (out.analysis_tree_children_overflow ?? 0) + t.drops.children_overflow;
        out.analysis_tree_nodes_overflow = (out.analysis_tree_nodes_overflow ?? 0) + t.drops.nodes_overflow;
      }
      for (const p of plugins) {
        for (const [k, v] of Object.entries(p.stats?.() ?? {}) as [CounterName, number][]) out[k] = (out[k] ?? 0) + v;
      }
      return out;
    },
    observeTls(rec) {
      tlsInventory.observe(rec);
      findingsCache = null;
    },
    tls: () => tlsInventory.entries(),
    actorEvents: () => events,
  };
}
