// Which spec operations apply to a host, and which one a traffic template matches.
//
// Matching follows OpenAPI path templating: segment counts equal; a spec literal matches only the
// same literal; a spec `{param}` matches a template parameter or any literal. Among matches the one
// with the most literal-to-literal segments wins (static beats templated), then spec name and path
// order (deterministic). HEAD falls back to a documented GET (RFC 9110 §9.3.2). Versionless paths of
// an operation (load.ts, "Optional version base") take part only for the specs the caller enabled on
// the host, and lose ties against the versioned paths.
import { normHost } from './load.js';
import type { LoadedSpec, SpecOperation } from './types.js';

export interface IndexedOp {
  spec: LoadedSpec;
  op: SpecOperation;
  /** op.fullPaths followed by op.versionlessPaths. */
  paths: string[];
  /** Segments of paths[i]; `null` entries are parameters. */
  segs: (string | null)[][];
  /** Index of the first versionless entry in paths/segs (= op.fullPaths.length). */
  versionlessFrom: number;
}

export interface OpMatch {
  entry: IndexedOp;
  /** Index into entry.paths of the matched variant. */
  variant: number;
  /** True when matched through a versionless path (variant >= entry.versionlessFrom). */
  versionless: boolean;
  /** True when matched through the HEAD → GET fallback. */
  viaGet: boolean;
}

export interface SpecIndex {
  readonly ops: readonly IndexedOp[];
  /** Operations served on `host` (including those of host-less specs). */
  forHost(host: string): IndexedOp[];
  /** True when at least one spec applies to `host`. */
  covers(host: string): boolean;
  /**
   * Best operation for (host, method, template segments with params as null). `versionless`: the
   * specs whose versionless paths are enabled on this host (none when omitted).
   */
  match(
    host: string,
    method: string,
    tpl: readonly (string | null)[],
    versionless?: ReadonlySet<LoadedSpec>,
  ): OpMatch | null;
}

export function splitTemplate(path: string): (string | null)[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (/^\{[^}]*\}$/.test(s) ? null : s));
}

export function opAppliesTo(op: SpecOperation, host: string): boolean {
  if (op.hosts.length === 0) return true;
  const h = normHost(host);
  const bare = h.replace(/:\d+$/, '');
  return op.hosts.includes(h) || op.hosts.includes(bare);
}

export function createSpecIndex(specs: readonly LoadedSpec[]): SpecIndex {
  const ops: IndexedOp[] = [];
  for (const spec of [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const op of spec.operations) {
      const paths = [...op.fullPaths, ...op.versionlessPaths];
      ops.push({ spec, op, paths, segs: paths.map(splitTemplate), versionlessFrom: op.fullPaths.length });
    }
  }
  const byHost = new Map<string, IndexedOp[]>();
  const forHost = (host: string): IndexedOp[] => {
    let l = byHost.get(host);
    if (!l) {
      l = ops.filter((e) => opAppliesTo(e.op, host));
      byHost.set(host, l);
    }
    return l;
  };
  const score = (spec: (string | null)[], tpl: readonly (string | null)[]): number => {
    if (spec.length !== tpl.length) return -1;
    let s = 0;
    for (let i = 0; i < spec.length; i++) {
      const a = spec[i];
      const b = tpl[i];
      if (a === null) s += 1;
      else if (b === null || a !== b) return -1;
      else s += 2;
    }
    return s;
  };
  return {
    ops,
    forHost,
    covers: (host) =>
      specs.some((sp) => sp.operations.some((op) => opAppliesTo(op, host))) ||
      specs.some((sp) => sp.hosts.length === 0),
    match(host, method, tpl, versionless) {
      let best: OpMatch | null = null;
      let bestScore = -1;
      for (const e of forHost(host)) {
        const viaGet = e.op.method !== method;
        if (viaGet && !(method === 'HEAD' && e.op.method === 'GET')) continue;
        const n = versionless?.has(e.spec) ? e.segs.length : e.versionlessFrom;
        for (let v = 0; v < n; v++) {
          const sc = score(e.segs[v] ?? [], tpl) * 2 - (viaGet ? 1 : 0);
          if (sc > bestScore) {
            bestScore = sc;
            best = { entry: e, variant: v, viaGet, versionless: v >= e.versionlessFrom };
          }
        }
      }
      return best;
    },
  };
}
