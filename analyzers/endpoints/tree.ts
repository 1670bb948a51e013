// Per-host path tree and the templating decision.
//
// Traffic paths are inserted verbatim (bounded: MAX_DEPTH segments, MAX_CHILDREN literal children per
// node, MAX_NODES per host; beyond a cap values fall into the node's overflow child, which always
// becomes a parameter). Spec paths seed the tree first: spec literals are marked, and `{name}`
// segments become a spec-parameter child carrying the spec's names.
//
// Templates are decided from the whole accumulated tree at decide() time, never greedily per
// exchange, so the outcome does not depend on arrival order (up to the caps). At each position,
// walking down from the root with the *set* of raw nodes merged so far:
//   1. spec literal                           → stays literal (static beats templated, as in OpenAPI)
//   2. a spec parameter exists here           → every other segment except reserved words joins it
//   3. version / reserved / structural        → stays literal (structural: the first segment, and the
//                                                first segment after an api/version prefix)
//   4. value class integer|uuid|objectid|hex|date|email|token → parameter ("value_class")
//   5. cardinality: remaining words grouped by subtree shape (the set of their child labels, value
//      classes abstracted); a group with >= MIN_DISTINCT members (counting value-class siblings of the
//      same shape) becomes the parameter, smaller groups stay literal ("constant siblings behaving
//      differently").
// The segments merged into a parameter are then decided together one level down (their children
// unioned), so /users/{userId}/orders/{orderId} emerges from many users each with few orders.
import type { ValueClass } from './classify.js';
import { classifySegment, isParamClass, isVersionSegment, paramNameFromParent } from './classify.js';
import type { LeafStats } from './stats.js';
import { newLeafStats } from './stats.js';

export const TREE_LIMITS = { MAX_DEPTH: 32, MAX_CHILDREN: 512, MAX_NODES: 50_000, MIN_DISTINCT: 5 } as const;
/** Label of overflow children in concrete paths (cannot occur in a real segment). */
export const OVERFLOW = '\u0001';

const PREFIX_WORDS = new Set(['api', 'apis', 'rest', 'rpc', 'public', 'private', 'internal', 'external', 'graphql', 'v']);

export interface RawNode {
  seg: string;
  cls: ValueClass;
  kind: 'root' | 'literal' | 'spec_param' | 'overflow';
  /** Raw segments from the root (OVERFLOW for overflow positions). */
  concrete: string[];
  children: Map<string, RawNode>;
  specParam: RawNode | null;
  overflow: RawNode | null;
  specLiteral: boolean;
  /** For spec_param nodes: parameter names in seeding order (current specs first). */
  specNames: string[];
  /** Spec names that seeded this node (for explain). */
  specSources: string[];
  /** Per upper-case method. */
  leaves: Map<string, LeafStats>;
}

export interface TemplateSeg {
  text: string;
  param: boolean;
}

export interface LeafDecision {
  node: RawNode;
  method: string;
  stats: LeafStats;
  tpl: TemplateSeg[];
  explain: string[];
}

export function templateString(tpl: readonly TemplateSeg[]): string {
  return tpl.length === 0 ? '/' : '/' + tpl.map((s) => (s.param ? `{${s.text}}` : s.text)).join('/');
}

function node(seg: string, kind: RawNode['kind'], concrete: string[]): RawNode {
  return {
    seg, cls: kind === 'literal' ? classifySegment(seg) : 'word', kind, concrete, children: new Map(), specParam: null,
    overflow: null, specLiteral: false, specNames: [], specSources: [], leaves: new Map(),
  };
}

/** True when position prefix.length is the first segment, or the first after api/version prefix words. */
function structural(prefix: readonly TemplateSeg[]): boolean {
  for (const p of prefix) {
    if (p.param) return false;
    if (!isVersionSegment(p.text) && !PREFIX_WORDS.has(p.text.toLowerCase())) return false;
  }
  return true;
}

/**
 * Parameter name: the spec's, else the parent literal singularised + Id (users → userId), else `id`
 * for the first parameter and `param<k>` for the k-th; never a name already used in the template.
 */
export function paramName(prefix: readonly TemplateSeg[], specName: string | null): string {
  const params = prefix.filter((p) => p.param);
  const used = new Set(params.map((p) => p.text));
  const k = params.length + 1;
  let cand = specName;
  if (cand === null) {
    const parent = prefix[prefix.length - 1];
    if (parent !== undefined && !parent.param && classifySegment(parent.text) !== 'version') cand = paramNameFromParent(parent.text);
  }
  if (cand === null) cand = k === 1 ? 'id' : `param${k}`;
  if (used.has(cand)) cand = `param${k}`;
  while (used.has(cand)) cand += '_';
  return cand;
}

export class PathTree {
  readonly root: RawNode = node('', 'root', []);
  private nodes = 1;
  /** Drops by reason (overflow of children, node cap, depth cap). */
  readonly drops = { path_too_deep: 0, children_overflow: 0, nodes_overflow: 0 };

  /** Seed one spec path (a template with `{name}` segments). */
  seedSpec(path: string, specName: string): void {
    let cur = this.root;
    for (const seg of path.split('/').filter((s) => s !== '').slice(0, TREE_LIMITS.MAX_DEPTH)) {
      if (/^\{[^}]*\}$/.test(seg)) {
        if (cur.specParam === null) {
          cur.specParam = node(seg, 'spec_param', [...cur.concrete, seg]);
          this.nodes++;
        }
        cur = cur.specParam;
        const name = seg.slice(1, -1);
        if (!cur.specNames.includes(name)) cur.specNames.push(name);
      } else {
        let c = cur.children.get(seg);
        if (!c) {
          c = node(seg, 'literal', [...cur.concrete, seg]);
          cur.children.set(seg, c);
          this.nodes++;
        }
        c.specLiteral = true;
        cur = c;
      }
      if (!cur.specSources.includes(specName)) cur.specSources.push(specName);
    }
  }

  /** Insert a traffic path (raw segments); returns the node whose leaves hold its stats. */
  insert(segs: readonly string[]): RawNode {
    let cur = this.root;
    if (segs.length > TREE_LIMITS.MAX_DEPTH) this.drops.path_too_deep++;
    const n = Math.min(segs.length, TREE_LIMITS.MAX_DEPTH);
    for (let i = 0; i < n; i++) {
      const seg = segs[i] ?? '';
      let c = cur.children.get(seg);
      if (!c) {
        const full = cur.children.size >= TREE_LIMITS.MAX_CHILDREN;
        const capped = this.nodes >= TREE_LIMITS.MAX_NODES;
        if (full || capped) {
          if (full) this.drops.children_overflow++;
          else this.drops.nodes_overflow++;
          if (cur.overflow === null) {
            cur.overflow = node(OVERFLOW, 'overflow', [...cur.concrete, OVERFLOW]);
            this.nodes++;
          }
          cur = cur.overflow;
          continue;
        }
        c = node(seg, 'literal', [...cur.concrete, seg]);
        cur.children.set(seg, c);
        this.nodes++;
      }
      cur = c;
    }
    return cur;
  }

  leaf(n: RawNode, method: string): LeafStats {
    let s = n.leaves.get(method);
    if (!s) {
      s = newLeafStats();
      n.leaves.set(method, s);
    }
    return s;
  }

  /**
   * Order-independent provisional template of one path: rules 1–4 only (no cardinality), walking
   * the same node sets decide() walks. Used for observe()'s attribution and as the PII aggregation key.
   */
  coarse(segs: readonly string[]): TemplateSeg[] {
    let nodes: RawNode[] = [this.root];
    const out: TemplateSeg[] = [];
    for (const seg of segs.slice(0, TREE_LIMITS.MAX_DEPTH)) {
      const lits = nodes.map((n) => n.children.get(seg)).filter((x): x is RawNode => x !== undefined);
      const specParams = nodes.map((n) => n.specParam).filter((x): x is RawNode => x !== null);
      const cls = classifySegment(seg);
      if (lits.some((l) => l.specLiteral)) {
        out.push({ text: seg, param: false });
        nodes = lits;
      } else if (specParams.length > 0 && cls !== 'reserved') {
        out.push({ text: paramName(out, specParams[0]?.specNames[0] ?? null), param: true });
        nodes = [...specParams, ...lits];
      } else if (cls === 'version' || cls === 'reserved' || structural(out) || !isParamClass(cls)) {
        out.push({ text: seg, param: false });
        nodes = lits;
      } else {
        out.push({ text: paramName(out, null), param: true });
        nodes = lits;
      }
    }
    return out;
  }

  /** Decide every leaf's template (see the file comment). Deterministic: labels are visited sorted. */
  decide(): LeafDecision[] {
    const out: LeafDecision[] = [];
    this.decideAt([this.root], [], [], out);
    return out;
  }

  private decideAt(nodes: RawNode[], prefix: TemplateSeg[], explain: string[], out: LeafDecision[]): void {
    for (const n of nodes) {
      for (const m of [...n.leaves.keys()].sort()) {
        out.push({ node: n, method: m, stats: n.leaves.get(m) as LeafStats, tpl: prefix, explain });
      }
    }
    const literals = new Map<string, RawNode[]>();
    const specParams: RawNode[] = [];
    const overflows: RawNode[] = [];
    for (const n of nodes) {
      for (const [k, c] of n.children) {
        const l = literals.get(k);
        if (l) l.push(c);
        else literals.set(k, [c]);
      }
      if (n.specParam) specParams.push(n.specParam);
      if (n.overflow) overflows.push(n.overflow);
    }
    if (literals.size === 0 && specParams.length === 0 && overflows.length === 0) return;
    const pos = prefix.length;
    const isStructural = structural(prefix);
    const labels = [...literals.keys()].sort();
    const kept: { label: string; reason: string }[] = [];
    const merged: { label: string; rule: string; cls: ValueClass }[] = [];
    const candidates: string[] = [];
    for (const label of labels) {
      const ns = literals.get(label) as RawNode[];
      const cls = ns[0]?.cls ?? 'word';
      if (ns.some((x) => x.specLiteral)) kept.push({ label, reason: 'spec_literal' });
      else if (specParams.length > 0 && cls !== 'reserved') merged.push({ label, rule: 'spec_param', cls });
      else if (cls === 'version' || cls === 'reserved') kept.push({ label, reason: cls });
      else if (isStructural) kept.push({ label, reason: 'structural' });
      else if (isParamClass(cls)) merged.push({ label, rule: 'value_class', cls });
      else candidates.push(label);
    }
    if (candidates.length > 0) {
      const shapeOf = (label: string): string => {
        const s = new Set<string>();
        for (const n of literals.get(label) ?? []) {
          for (const [k, c] of n.children) s.add(isParamClass(c.cls) ? '{}' : k);
          if (n.specParam || n.overflow) s.add('{}');
        }
        return [...s].sort().join('|');
      };
      const classShapes = new Map<string, number>();
      for (const m of merged) {
        const sh = shapeOf(m.label);
        classShapes.set(sh, (classShapes.get(sh) ?? 0) + 1);
      }
      const groups = new Map<string, string[]>();
      for (const c of candidates) {
        const sh = shapeOf(c);
        const g = groups.get(sh);
        if (g) g.push(c);
        else groups.set(sh, [c]);
      }
      for (const [sh, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const n = g.length + (classShapes.get(sh) ?? 0);
        for (const label of g) {
          if (n >= TREE_LIMITS.MIN_DISTINCT) merged.push({ label, rule: 'cardinality', cls: 'word' });
          else kept.push({ label, reason: `below_cardinality(${n}<${TREE_LIMITS.MIN_DISTINCT})` });
        }
      }
    }
    const hasParam = merged.length > 0 || specParams.length > 0 || overflows.length > 0;
    if (hasParam) {
      const specName = specParams[0]?.specNames[0] ?? null;
      const name = paramName(prefix, specName);
      const rules = new Set<string>();
      const classes = new Map<string, number>();
      for (const m of merged) {
        rules.add(m.rule);
        classes.set(m.cls, (classes.get(m.cls) ?? 0) + 1);
      }
      if (specParams.length > 0) rules.add('spec_param');
      if (overflows.length > 0) rules.add(`overflow(>=${TREE_LIMITS.MAX_CHILDREN})`);
      const cls = [...classes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}:${v}`).join(',');
      const specs = [...new Set(specParams.flatMap((s) => s.specSources))].sort().join(',');
      const line =
        `{${name}} at segment ${pos}: rule=${[...rules].sort().join('+')} distinct=${merged.length}` +
        (cls ? ` classes=${cls}` : '') + (specs ? ` spec=${specs}` : '');
      const group = [...specParams, ...overflows];
      for (const m of merged) group.push(...(literals.get(m.label) ?? []));
      this.decideAt(group, [...prefix, { text: name, param: true }], [...explain, line], out);
    }
    for (const k of kept) {
      const ex = hasParam && k.reason !== 'structural' ? [...explain, `'${k.label}' at segment ${pos}: kept literal (${k.reason})`] : explain;
      this.decideAt(literals.get(k.label) ?? [], [...prefix, { text: k.label, param: false }], ex, out);
    }
  }
}
