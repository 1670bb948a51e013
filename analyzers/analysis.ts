// The analysis facade: exchanges in (observe), inventory and findings out.
//
// Call order: observe() any number of times, endpoints()/findings() whenever a snapshot is wanted
// (they are recomputed lazily after new observations and cached otherwise). Templates are decided from
// the accumulated per-host path trees at endpoints() time, so the inventory does not depend on the
// order exchanges arrived in; observe() returns a provisional attribution (spec, value-class and
// override rules only, no cardinality), which is also the key PII evidence is aggregated under.
// Deterministic: no clock, sorted output, same input → byte-identical JSON.
import type { Exchange } from '../engine/contracts/exchange.js';
import { apiHost, headerValue } from '../engine/contracts/exchange.js';
import type { EndpointRecord, Finding } from '../engine/contracts/inventory.js';
import { classifyAuth, queryNames } from './auth/classify.js';
import type { EndpointAggregate } from './endpoints/aggregate.js';
import { buildRecord, renamePathField } from './endpoints/aggregate.js';
import { categoryOf } from './endpoints/classify.js';
import type { Overrides } from './endpoints/overrides.js';
import { applyOverrides } from './endpoints/overrides.js';
import { addExchange, mergeStats, newLeafStats } from './endpoints/stats.js';
import type { LeafStats } from './endpoints/stats.js';
import type { TemplateSeg } from './endpoints/tree.js';
import { PathTree, templateString } from './endpoints/tree.js';
import type { PiiFieldAggregator, PiiFieldResult, PiiScanner } from './pii/types.js';
import { computeFindings } from './risks/findings.js';
import { createSpecIndex } from './spec/match.js';
import type { LoadedSpec } from './spec/types.js';

export interface AnalysisOptions {
  specs: LoadedSpec[];
  /** Older versions of the specs: operations present there but not in `specs` are "removed". */
  previousSpecs: LoadedSpec[];
  overrides: Overrides | null;
  pii: { scanner: PiiScanner; aggregator: PiiFieldAggregator } | null;
}

export interface Attribution {
  host: string;
  method: string;
  path: string;
}

export interface Analysis {
  /** Fold one exchange in; returns the endpoint it was (provisionally) attributed to. */
  observe(ex: Exchange): Attribution;
  /** Inventory sorted by (host, path, method). */
  endpoints(): EndpointRecord[];
  /** Findings sorted by (host, path, method, kind, id). */
  findings(): Finding[];
  /** Counted drops and oddities (tree caps, exchanges without a request). */
  stats(): Record<string, number>;
}

/** Host and raw path segments of a request target (origin-form, absolute-form, asterisk/authority-form). */
export function parseTarget(ex: Exchange): { host: string; segs: string[] } {
  const target = ex.request?.target ?? '';
  let host = apiHost(ex);
  let path = target;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (abs) {
    const authority = (abs[1] ?? '').replace(/^[^@]*@/, '').toLowerCase();
    if (authority !== '') host = authority;
    path = abs[2] ?? '';
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (!path.startsWith('/')) return { host, segs: path === '' ? [] : [path] }; // '*' or CONNECT authority
  return { host, segs: path.split('/').filter((s) => s !== '') };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function createAnalysis(opts: AnalysisOptions): Analysis {
  const current = createSpecIndex(opts.specs);
  const previous = createSpecIndex(opts.previousSpecs);
  const trees = new Map<string, PathTree>();
  const counts = { exchanges: 0, without_request: 0 };
  let firstUs = Number.POSITIVE_INFINITY;
  let lastUs = Number.NEGATIVE_INFINITY;
  let cache: EndpointAggregate[] | null = null;
  let findingsCache: Finding[] | null = null;

  const treeFor = (host: string): PathTree => {
    let t = trees.get(host);
    if (!t) {
      t = new PathTree();
      // Current specs first, so their parameter names win over previous versions'.
      for (const e of current.forHost(host)) for (const p of e.op.fullPaths) t.seedSpec(p, e.spec.name);
      for (const e of previous.forHost(host)) for (const p of e.op.fullPaths) t.seedSpec(p, e.spec.name);
      trees.set(host, t);
    }
    return t;
  };

  const finalTemplate = (host: string, method: string, concrete: readonly string[], tpl: readonly TemplateSeg[]): { tpl: TemplateSeg[]; note: string | null } => {
    const o = applyOverrides(opts.overrides, host, method, concrete, tpl);
    return { tpl: o.tpl, note: o.explain };
  };

  function observe(ex: Exchange): Attribution {
    cache = null;
    findingsCache = null;
    counts.exchanges++;
    const t0 = ex.request?.startUs ?? ex.response?.startUs;
    const t1 = ex.response?.endUs ?? ex.request?.endUs;
    if (t0 !== undefined && t0 < firstUs) firstUs = t0;
    if (t1 !== undefined && t1 > lastUs) lastUs = t1;
    const req = ex.request;
    if (req === null) {
      counts.without_request++;
      return { host: apiHost(ex), method: '', path: '' };
    }
    const { host, segs } = parseTarget(ex);
    const method = req.method.toUpperCase();
    const tree = treeFor(host);
    const node = tree.insert(segs);
    const leaf = tree.leaf(node, method);
    const auth = classifyAuth(ex);
    const preflight = method === 'OPTIONS' && headerValue(req.headers, 'access-control-request-method') !== null;
    addExchange(leaf, ex, queryNames(req.target), auth, categoryOf(segs, method, preflight));
    const { tpl } = finalTemplate(host, method, node.concrete, tree.coarse(segs));
    const path = templateString(tpl);
    if (opts.pii) {
      const key = `${host} ${method} ${path}`;
      const hits = opts.pii.scanner.scanExchange(ex).map((h) => ({ ...h, field: renamePathField(h.field, tpl) }));
      opts.pii.aggregator.add(key, hits);
      leaf.coarseKeys.add(key);
    }
    return { host, method, path };
  }

  function piiFor(s: LeafStats, tpl: readonly TemplateSeg[]): PiiFieldResult[] {
    if (!opts.pii) return [];
    const best = new Map<string, PiiFieldResult>();
    for (const k of s.coarseKeys.values()) {
      for (const r of opts.pii.aggregator.results(k)) {
        const field = renamePathField(r.field, tpl);
        const id = `${r.location}\u0000${field}\u0000${r.kind}`;
        const prev = best.get(id);
        if (!prev || r.confidence > prev.confidence || (r.confidence === prev.confidence && r.hash < prev.hash)) {
          best.set(id, { ...r, field, distinct: Math.max(r.distinct, prev?.distinct ?? 0) });
        }
      }
    }
    return [...best.keys()].sort(cmp).map((k) => best.get(k) as PiiFieldResult);
  }

  function compute(): EndpointAggregate[] {
    if (cache) return cache;
    const out: EndpointAggregate[] = [];
    for (const host of [...trees.keys()].sort(cmp)) {
      const tree = trees.get(host) as PathTree;
      const groups = new Map<string, { method: string; tpl: TemplateSeg[]; stats: LeafStats; explain: Set<string> }>();
      for (const d of tree.decide()) {
        const { tpl, note } = finalTemplate(host, d.method, d.node.concrete, d.tpl);
        const key = `${d.method} ${templateString(tpl)}`;
        let g = groups.get(key);
        if (!g) {
          g = { method: d.method, tpl, stats: newLeafStats(), explain: new Set() };
          groups.set(key, g);
        }
        mergeStats(g.stats, d.stats);
        for (const e of d.explain) g.explain.add(e);
        if (note) g.explain.add(note);
      }
      for (const g of groups.values()) {
        const nullable = g.tpl.map((s) => (s.param ? null : s.text));
        const match = current.match(host, g.method, nullable);
        const prev = match ? null : previous.match(host, g.method, nullable);
        const explain = [...g.explain].sort(cmp);
        if (explain.length === 0) explain.push('literal path (no segment templated)');
        out.push(buildRecord(host, g.method, g.tpl, g.stats, explain, match, prev, piiFor(g.stats, g.tpl)));
      }
    }
    const key = (a: EndpointAggregate): string => `${a.record.host}\u0000${a.record.path}\u0000${a.record.method}`;
    out.sort((a, b) => cmp(key(a), key(b)));
    cache = out;
    return out;
  }

  return {
    observe,
    endpoints: () => compute().map((a) => a.record),
    findings() {
      if (findingsCache) return findingsCache;
      findingsCache = computeFindings({
        aggregates: compute(),
        current,
        previous,
        window: Number.isFinite(firstUs) ? { firstUs, lastUs: Math.max(firstUs, lastUs) } : null,
        hostsSeen: [...trees.keys()].sort(cmp),
      });
      return findingsCache;
    },
    stats() {
      const out: Record<string, number> = { ...counts };
      for (const t of trees.values()) for (const [k, v] of Object.entries(t.drops)) out[`tree_${k}`] = (out[`tree_${k}`] ?? 0) + v;
      return out;
    },
  };
}
