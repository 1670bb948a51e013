// Which spec operations apply to a host, and which one a traffic template matches.
//
// Matching follows OpenAPI path templating: segment counts equal; a spec literal matches only the
// same literal; a spec `{param}` matches a template parameter or any literal; a segment mixing
// literal text and expressions (`{Sid}.json`, `{name}.{format}`, `v{major}`, `{name}:cancel`, Google
// custom methods) matches a literal it fits (each expression one or more characters) or a template
// segment of the same form. Among matches the most literal wins (OpenAPI "Path Templating Matching":
// static beats templated): per segment literal > mixed (more literal characters first) > parameter,
// then spec name and path order (deterministic). HEAD falls back to a documented GET (RFC 9110 §9.3.2). Versionless paths of
// an operation (load.ts, "Optional version base") take part only for the specs the caller enabled on
// the host, and lose ties against the versioned paths.
import { normHost } from './load.js';
import type { LoadedSpec, SpecOperation } from './types.js';

export interface IndexedOp {
  spec: LoadedSpec;
  op: SpecOperation;
  /** op.fullPaths followed by op.versionlessPaths. */
  paths: string[];
  /** Compiled segments of paths[i]. */
  segs: SpecSeg[][];
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
   * Best operation for (host, method, template segments: whole parameters as null, mixed segments as
   * their `{name}.ext` text, literals as themselves). `versionless`: the
   * specs whose versionless paths are enabled on this host (none when omitted).
   */
  match(
    host: string,
    method: string,
    tpl: readonly (string | null)[],
    versionless?: ReadonlySet<LoadedSpec>,
  ): OpMatch | null;
}

/** One compiled spec path segment. */
export type SpecSeg =
  | { kind: 'literal'; text: string }
  | { kind: 'param' }
  | { kind: 'mixed'; text: string; shape: string; re: RegExp; literalChars: number };

/**
 * Segments of a path template. Slashes inside an expression do not split (Google HTTP rule syntax
 * `{name=projects/*\/items/*}` expands to its segments, `*` and `**` being parameters).
 */
export function templateSegments(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of path) {
    if (ch === '{') depth++;
    else if (ch === '}' && depth > 0) depth--;
    if (ch === '/' && depth === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out.flatMap((seg) => {
    const m = /^\{([^{}=]+)=([^{}]*)\}(.*)$/.exec(seg);
    if (!m) return [seg];
    const parts = (m[2] ?? '').split('/').filter((x) => x !== '');
    const mapped = parts.map((x) => (x === '*' || x === '**' ? `{${m[1] ?? ''}}` : x));
    if (mapped.length > 0) mapped[mapped.length - 1] += m[3] ?? '';
    return mapped;
  });
}

/** `{Sid}.json` → `{}.json`: the form two templates share when they differ only in names. */
export const segmentShape = (seg: string): string => seg.replace(/\{[^{}]*\}/g, '{}');

const reEsc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileSegment(seg: string): SpecSeg {
  if (!seg.includes('{')) return { kind: 'literal', text: seg };
  if (/^\{[^{}]*\}$/.test(seg)) return { kind: 'param' };
  let src = '^';
  let literalChars = 0;
  let last = 0;
  for (const m of seg.matchAll(/\{([^{}]*)\}/g)) {
    const lit = seg.slice(last, m.index);
    src += reEsc(lit);
    literalChars += lit.length;
    // RFC 6570 operators (label `.`, matrix `;`) may expand to nothing; plain expressions may not.
    src += /^[.;]/.test(m[1] ?? '') ? '(.*?)' : '(.+?)';
    last = (m.index ?? 0) + m[0].length;
  }
  const tail = seg.slice(last);
  src += reEsc(tail) + '$';
  literalChars += tail.length;
  return { kind: 'mixed', text: seg, shape: segmentShape(seg), re: new RegExp(src), literalChars };
}

/** Segments of a template with whole-segment parameters as null (mixed segments kept as text). */
export function splitTemplate(path: string): (string | null)[] {
  return templateSegments(path).map((s) => (/^\{[^{}]*\}$/.test(s) ? null : s));
}

const hostPatterns = new Map<string, RegExp>();
function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.includes('{')) return pattern === host;
  let re = hostPatterns.get(pattern);
  if (!re) {
    re = new RegExp(
      '^' +
        pattern
          .split(/\{[^{}]*\}/)
          .map(reEsc)
          .join('[^/]+?') +
        '$',
    );
    hostPatterns.set(pattern, re);
  }
  return re.test(host);
}

export function opAppliesTo(op: SpecOperation, host: string): boolean {
  if (op.hosts.length === 0) return true;
  const h = normHost(host);
  const bare = h.replace(/:\d+$/, '');
  return op.hosts.some((p) => hostMatches(p, h) || hostMatches(p, bare));
}

export function createSpecIndex(specs: readonly LoadedSpec[]): SpecIndex {
  const ops: IndexedOp[] = [];
  for (const spec of [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const op of spec.operations) {
      const paths = [...op.fullPaths, ...op.versionlessPaths];
      ops.push({
        spec,
        op,
        paths,
        segs: paths.map((p) => templateSegments(p).map(compileSegment)),
        versionlessFrom: op.fullPaths.length,
      });
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
  // Per segment: literal 1000, mixed 500 + its literal characters (< 500), parameter 1, so one more
  // literal segment always outweighs any number of less literal ones up to 500 segments.
  const score = (spec: readonly SpecSeg[], tpl: readonly (string | null)[]): number => {
    if (spec.length !== tpl.length) return -1;
    let s = 0;
    for (let i = 0; i < spec.length; i++) {
      const a = spec[i] as SpecSeg;
      const b = tpl[i];
      // A whole parameter matches any literal or parameter, but not a custom-method segment
      // (`{job}:pause` is another method than `{job}`, AIP-136).
      if (a.kind === 'param') {
        if (b !== null && b !== undefined && b.includes('{') && b.includes(':')) return -1;
        s += 1;
      } else if (b === null || b === undefined) return -1;
      else if (a.kind === 'literal') {
        if (a.text !== b) return -1;
        s += 1000;
      } else {
        // A template segment of the same form (`{CallSid}.json` for `{Sid}.json`), or a literal it fits.
        if (b.includes('{') ? segmentShape(b) !== a.shape : !a.re.test(b)) return -1;
        s += 500 + Math.min(499, a.literalChars);
      }
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
