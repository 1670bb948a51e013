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
//
// Mixed segments. A spec segment mixing literal text and expressions (`{Sid}.json`, `v{major}`,
// `{name}:cancel`) seeds a spec-pattern child; at decide time a literal it fits (that is not a spec
// literal) joins it (rule spec_pattern, before a whole spec parameter: the most literal template
// wins) and the template keeps the spec's segment (`{Sid}.json`). Without a spec, traffic segments
// with a format extension (`.json`, `.xml`, ... for any stem; see FORMAT_EXT for word stems) are
// classified by their stem, and parameters merged from them keep the extension: `/files/{fileId}.json`
// beside `/files/{fileId}` rather than one parameter that hides the representation. Google-style
// custom methods (`…/jobs/nightly:pause`) keep their `:verb` the same way, also under a whole spec
// parameter: the spec's `{job}` does not document `{job}:pause`.
//
// Restored parameters (insertTemplate, used by Analysis.restore): a stored template's `{name}`
// segment becomes a 'restored' child that stands for the values an earlier analysis merged there.
// It keeps the position a parameter (its values are gone, and value-class and spec merges only grow
// with more traffic), joins the parameter group like a merged literal, and in rule 5 counts as
// `distinct` members of every candidate group whose shape is a subset of its own (approximating the
// per-value shapes it no longer has). Unlike a spec parameter it does not pull word siblings in by
// itself, so a restored tree decides new words the way one tree with all the traffic would.
// Known limit: rule 5 is not monotone (a new child can change a word's shape and split a group
// below MIN_DISTINCT, un-templating it in a one-pass tree); a restored parameter stays a parameter.
// Value-class, spec and same-shape cardinality merges restore exactly (restore.test.ts properties).
import type { ValueClass } from './classify.js';
import { classifySegment, isParamClass, isVersionSegment, paramNameFromParent } from './classify.js';
import type { SpecSeg } from '../spec/match.js';
import { compileSegment, segmentShape, templateSegments } from '../spec/match.js';
import type { LeafStats } from './stats.js';
import { newLeafStats } from './stats.js';

export const TREE_LIMITS = { MAX_DEPTH: 32, MAX_CHILDREN: 512, MAX_NODES: 50_000, MIN_DISTINCT: 5 } as const;
/** Label of overflow children in concrete paths (cannot occur in a real segment). */
export const OVERFLOW = '\u0001';

const PREFIX_WORDS = new Set([
  'api',
  'apis',
  'rest',
  'rpc',
  'public',
  'private',
  'internal',
  'external',
  'graphql',
  'v',
]);

export interface RawNode {
  seg: string;
  cls: ValueClass;
  /** For literal nodes: classifySegment(seg) (cls is the class of its stem when it has a suffix). */
  segCls: ValueClass;
  kind: 'root' | 'literal' | 'spec_param' | 'spec_pattern' | 'overflow' | 'restored';
  /** For literal nodes: the format extension classified apart from the stem ('' when none). */
  suffix: string;
  /** Raw segments from the root (OVERFLOW for overflow positions). */
  concrete: string[];
  children: Map<string, RawNode>;
  specParam: RawNode | null;
  /** Spec-pattern children (mixed segments) by shape (`{}.json`). */
  specPatterns: Map<string, RawNode>;
  /** For spec_pattern nodes: the compiled segment. */
  pattern: SpecSeg | null;
  overflow: RawNode | null;
  /** Restored parameter child (see the file comment). */
  restored: RawNode | null;
  /** For restored nodes: what the stored explain line said about the parameter. */
  restoredInfo: RestoredParamInfo | null;
  specLiteral: boolean;
  /**
   * For spec_param nodes: parameter names by seeding rank (current specs first), then seeding order;
   * for spec_pattern nodes the spec segments themselves (`{Sid}.json`), in the same order.
   */
  specNames: string[];
  /** Rank of each specNames entry (parallel array). */
  specRanks: number[];
  /** Spec names that seeded this node (for explain). */
  specSources: string[];
  /** Per upper-case method. */
  leaves: Map<string, LeafStats>;
}

export interface TemplateSeg {
  /** Literal text, or the (first) parameter name. */
  text: string;
  param: boolean;
  /** For a parameter inside a segment: the whole segment with `{name}` expressions (`{Sid}.json`). */
  form?: string;
}

/** A restored parameter's earlier decision: merge rules, distinct values and value classes. */
export interface RestoredParamInfo {
  rules: Set<string>;
  distinct: number;
  classes: Map<string, number>;
}

/** Parse one explain line of the form decideAt() writes for a parameter at `pos`, or null. */
export function parseParamExplain(line: string, pos: number): RestoredParamInfo | null {
  const m = /^\{[^}]*\} at segment (\d+): rule=(\S+) distinct=(\d+)(?: classes=(\S+))?/.exec(line);
  if (!m || Number(m[1]) !== pos) return null;
  const classes = new Map<string, number>();
  for (const kv of (m[4] ?? '').split(',')) {
    const [k, v] = kv.split(':');
    if (k && v && /^\d+$/.test(v)) classes.set(k, Number(v));
  }
  return { rules: new Set((m[2] ?? '').split('+').filter((r) => r !== '')), distinct: Number(m[3]), classes };
}

export interface LeafDecision {
  node: RawNode;
  method: string;
  stats: LeafStats;
  tpl: TemplateSeg[];
  explain: string[];
}

export function templateString(tpl: readonly TemplateSeg[]): string {
  return tpl.length === 0 ? '/' : '/' + tpl.map((s) => (s.param ? (s.form ?? `{${s.text}}`) : s.text)).join('/');
}

/** Template segments as the spec index matches them: whole parameters null, mixed ones their form. */
export function matchSegments(tpl: readonly TemplateSeg[]): (string | null)[] {
  return tpl.map((s) => (s.param ? (s.form ?? null) : s.text));
}

/**
 * Representation extensions learned as suffixes from word stems (`report.json`); any extension
 * counts after a stem that is a value class (`CA42….json`, `123.xml`). Domain-like endings (`.com`)
 * are not here, so `/domains/example.com` is not split.
 */
const FORMAT_EXT = new Set([
  'json',
  'xml',
  'csv',
  'tsv',
  'txt',
  'html',
  'htm',
  'pdf',
  'yaml',
  'yml',
  'zip',
  'gz',
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'mp3',
  'mp4',
  'wav',
  'ics',
  'vcf',
  'atom',
  'rss',
  'jsonl',
  'ndjson',
  'geojson',
  'xlsx',
  'docx',
  'md',
  'bin',
  'twiml',
  'proto',
  'pb',
  'avro',
  'parquet',
]);

/** (value class, suffix) of a literal segment: the stem's class when it ends in a format extension. */
function classifyLiteral(seg: string): { cls: ValueClass; suffix: string } {
  // Google-style custom method (AIP-136): `{name}:cancel` is another method than `{name}`.
  const cm = /^([^:]+)(:[A-Za-z][A-Za-z0-9]*)$/.exec(seg);
  if (cm) {
    const stem = classifySegment(cm[1] ?? '');
    if (stem !== 'version' && stem !== 'reserved') return { cls: stem, suffix: cm[2] ?? '' };
  }
  const whole = classifySegment(seg);
  if (whole === 'email' || whole === 'version' || whole === 'reserved' || whole === 'date')
    return { cls: whole, suffix: '' };
  const m = /^(.+?)(\.[A-Za-z][A-Za-z0-9]{0,7})$/.exec(seg);
  if (!m) return { cls: whole, suffix: '' };
  const stem = classifySegment(m[1] ?? '');
  const ext = (m[2] ?? '').slice(1).toLowerCase();
  if (isParamClass(stem) || (stem === 'word' && FORMAT_EXT.has(ext))) return { cls: stem, suffix: m[2] ?? '' };
  return { cls: whole, suffix: '' };
}

/** First expression name of a mixed segment (`{Sid}.json` → Sid). */
const firstName = (form: string): string => /\{([^{}]*)\}/.exec(form)?.[1] ?? 'id';

function node(seg: string, kind: RawNode['kind'], concrete: string[]): RawNode {
  const c = kind === 'literal' ? classifyLiteral(seg) : { cls: 'word' as const, suffix: '' };
  return {
    seg,
    cls: c.cls,
    segCls: kind === 'literal' ? classifySegment(seg) : 'word',
    kind,
    suffix: c.suffix,
    concrete,
    children: new Map(),
    specParam: null,
    specPatterns: new Map(),
    pattern: kind === 'spec_pattern' ? compileSegment(seg) : null,
    overflow: null,
    restored: null,
    restoredInfo: null,
    specLiteral: false,
    specNames: [],
    specRanks: [],
    specSources: [],
    leaves: new Map(),
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
    if (parent !== undefined && !parent.param) cand = nameFromParent(parent.text);
  }
  if (cand === null) cand = k === 1 ? 'id' : `param${k}`;
  if (used.has(cand)) cand = `param${k}`;
  while (used.has(cand)) cand += '_';
  return cand;
}

/**
 * paramName's candidate from a literal parent (null for a version segment), kept per parent text:
 * the same collection names recur (bounded, cleared when full; the tree holds these literals too).
 */
const parentNames = new Map<string, string | null>();
function nameFromParent(text: string): string | null {
  let n = parentNames.get(text);
  if (n !== undefined) return n;
  n = classifySegment(text) !== 'version' ? paramNameFromParent(text) : null;
  if (text.length <= 64) {
    if (parentNames.size >= 4096) parentNames.clear();
    parentNames.set(text, n);
  }
  return n;
}

/**
 * The spec-pattern nodes (of one shape, across `nodes`) that fit `seg`, the most literal shape first
 * (then the shape text, for determinism); null when none fits.
 */
function bestPattern(nodes: readonly RawNode[], seg: string): RawNode[] | null {
  let best: { shape: string; lit: number; ns: RawNode[] } | null = null;
  for (const n of nodes) {
    for (const [shape, c] of n.specPatterns) {
      const p = c.pattern;
      if (p === null || p.kind !== 'mixed' || !p.re.test(seg)) continue;
      if (best !== null && best.shape === shape) best.ns.push(c);
      else if (best === null || p.literalChars > best.lit || (p.literalChars === best.lit && shape < best.shape))
        best = { shape, lit: p.literalChars, ns: [c] };
    }
  }
  return best === null ? null : best.ns;
}

export class PathTree {
  readonly root: RawNode = node('', 'root', []);
  private nodes = 1;
  /** Drops by reason (overflow of children, node cap, depth cap). */
  readonly drops = { path_too_deep: 0, children_overflow: 0, nodes_overflow: 0 };
  /**
   * Bumped by every call that can change what coarse() or insert() answer for a path already inserted:
   * seedSpec (spec literals, parameters and patterns) and insertTemplate. Traffic inserts do not
   * bump it: once insert(segs) has run, insert(segs) returns the same node (children are never
   * removed and the caps only close), with the same drops counted, and coarse(segs) walks the same
   * spec nodes plus segs' own literal chain, so callers may cache both per raw path and epoch.
   */
  epoch = 0;

  /**
   * Seed one spec path (a template with `{name}` segments). `rank` orders parameter names at a spec
   * parameter (lower first; equal ranks keep seeding order), so seeding a spec later (versionless
   * paths, enabled on first sight of their base) names parameters as seeding it first would.
   */
  seedSpec(path: string, specName: string, rank = 0): void {
    this.epoch++;
    let cur = this.root;
    for (const seg of templateSegments(path).slice(0, TREE_LIMITS.MAX_DEPTH)) {
      if (seg.includes('{') && !/^\{[^{}]*\}$/.test(seg)) {
        const shape = segmentShape(seg);
        let c = cur.specPatterns.get(shape);
        if (!c) {
          c = node(seg, 'spec_pattern', [...cur.concrete, seg]);
          cur.specPatterns.set(shape, c);
          this.nodes++;
        }
        cur = c;
        if (!cur.specNames.includes(seg)) {
          let at = cur.specRanks.length;
          while (at > 0 && (cur.specRanks[at - 1] ?? 0) > rank) at--;
          cur.specNames.splice(at, 0, seg);
          cur.specRanks.splice(at, 0, rank);
        }
      } else if (/^\{[^}]*\}$/.test(seg)) {
        if (cur.specParam === null) {
          cur.specParam = node(seg, 'spec_param', [...cur.concrete, seg]);
          this.nodes++;
        }
        cur = cur.specParam;
        const name = seg.slice(1, -1);
        if (!cur.specNames.includes(name)) {
          let at = cur.specRanks.length;
          while (at > 0 && (cur.specRanks[at - 1] ?? 0) > rank) at--;
          cur.specNames.splice(at, 0, name);
          cur.specRanks.splice(at, 0, rank);
        }
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
    for (let i = 0; i < n; i++) cur = this.insert1(cur, segs[i] ?? '');
    return cur;
  }

  /**
   * Insert a stored template (Analysis.restore): literal segments as in insert(); a `{name}` segment
   * goes to the spec parameter when the spec has one there, else to the restored child, whose info
   * is merged from `info(position)` (the stored explain line for it, if any).
   */
  insertTemplate(segs: readonly string[], info: (pos: number) => RestoredParamInfo | null): RawNode {
    this.epoch++;
    let cur = this.root;
    if (segs.length > TREE_LIMITS.MAX_DEPTH) this.drops.path_too_deep++;
    const n = Math.min(segs.length, TREE_LIMITS.MAX_DEPTH);
    for (let i = 0; i < n; i++) {
      const seg = segs[i] ?? '';
      if (!/^\{[^}]*\}$/.test(seg)) {
        const pat = seg.includes('{') ? cur.specPatterns.get(segmentShape(seg)) : undefined;
        cur = pat ?? this.insert1(cur, seg);
        continue;
      }
      if (cur.specParam !== null) {
        cur = cur.specParam;
      } else {
        if (cur.restored === null) {
          cur.restored = node(seg, 'restored', [...cur.concrete, OVERFLOW]);
          this.nodes++;
        }
        cur = cur.restored;
      }
      // Spec parameters keep the restored counts too, for their explain line.
      if (cur.restoredInfo === null) cur.restoredInfo = { rules: new Set(), distinct: 0, classes: new Map() };
      const got = info(i);
      const mine = cur.restoredInfo;
      if (got !== null) {
        for (const r of got.rules) mine.rules.add(r);
        // Several stored endpoints share this position: they were decided together, so their lines
        // agree; max (not sum) keeps one decision from being counted once per endpoint.
        mine.distinct = Math.max(mine.distinct, got.distinct);
        for (const [k, v] of got.classes) mine.classes.set(k, Math.max(mine.classes.get(k) ?? 0, v));
      }
    }
    return cur;
  }

  private insert1(cur: RawNode, seg: string): RawNode {
    const c = cur.children.get(seg);
    if (c) return c;
    const full = cur.children.size >= TREE_LIMITS.MAX_CHILDREN;
    const capped = this.nodes >= TREE_LIMITS.MAX_NODES;
    if (full || capped) {
      if (full) this.drops.children_overflow++;
      else this.drops.nodes_overflow++;
      if (cur.overflow === null) {
        cur.overflow = node(OVERFLOW, 'overflow', [...cur.concrete, OVERFLOW]);
        this.nodes++;
      }
      return cur.overflow;
    }
    const n = node(seg, 'literal', [...cur.concrete, seg]);
    cur.children.set(seg, n);
    this.nodes++;
    return n;
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
      // Every literal node of `seg` holds its classes (node()): classify only a segment none holds.
      const lit = lits[0];
      const cls = lit !== undefined ? lit.segCls : classifySegment(seg);
      const litCls = lit !== undefined ? lit : classifyLiteral(seg);
      const pat = lits.some((l) => l.specLiteral) ? null : bestPattern(nodes, seg);
      if (lits.some((l) => l.specLiteral)) {
        out.push({ text: seg, param: false });
        nodes = lits;
      } else if (pat !== null) {
        const form = pat[0]?.specNames[0] ?? seg;
        out.push({ text: firstName(form), param: true, form });
        nodes = [...pat, ...lits];
      } else if (specParams.length > 0 && cls !== 'reserved') {
        out.push({ text: paramName(out, specParams[0]?.specNames[0] ?? null), param: true });
        nodes = [...specParams, ...lits];
      } else if (cls === 'version' || cls === 'reserved' || structural(out) || !isParamClass(litCls.cls)) {
        out.push({ text: seg, param: false });
        nodes = lits;
      } else {
        const name = paramName(out, null);
        const suffix = litCls.suffix;
        out.push(suffix === '' ? { text: name, param: true } : { text: name, param: true, form: `{${name}}${suffix}` });
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
    const restoreds: RawNode[] = [];
    const patterns = new Map<string, RawNode[]>();
    for (const n of nodes) {
      for (const [sh, c] of n.specPatterns) {
        const l = patterns.get(sh);
        if (l) l.push(c);
        else patterns.set(sh, [c]);
      }
      for (const [k, c] of n.children) {
        const l = literals.get(k);
        if (l) l.push(c);
        else literals.set(k, [c]);
      }
      if (n.specParam) specParams.push(n.specParam);
      if (n.overflow) overflows.push(n.overflow);
      if (n.restored) restoreds.push(n.restored);
    }
    if (
      literals.size === 0 &&
      specParams.length === 0 &&
      overflows.length === 0 &&
      restoreds.length === 0 &&
      patterns.size === 0
    )
      return;
    const pos = prefix.length;
    const isStructural = structural(prefix);
    const labels = [...literals.keys()].sort();
    const kept: { label: string; reason: string }[] = [];
    const merged: { label: string; rule: string; cls: ValueClass }[] = [];
    const candidates: string[] = [];
    const patternMerged = new Map<string, string[]>();
    for (const label of labels) {
      const ns = literals.get(label) as RawNode[];
      const cls = ns[0]?.cls ?? 'word';
      const pat = ns.some((x) => x.specLiteral) ? null : bestPattern(nodes, label);
      if (ns.some((x) => x.specLiteral)) kept.push({ label, reason: 'spec_literal' });
      else if (pat !== null) {
        const sh = segmentShape(pat[0]?.seg ?? '');
        const l = patternMerged.get(sh);
        if (l) l.push(label);
        else patternMerged.set(sh, [label]);
      } else if (specParams.length > 0 && cls !== 'reserved') merged.push({ label, rule: 'spec_param', cls });
      else if (cls === 'version' || cls === 'reserved') kept.push({ label, reason: cls });
      else if (isStructural) kept.push({ label, reason: 'structural' });
      else if (isParamClass(cls)) merged.push({ label, rule: 'value_class', cls });
      else candidates.push(label);
    }
    if (candidates.length > 0) {
      const shapeSet = (ns: readonly RawNode[]): Set<string> => {
        const s = new Set<string>();
        for (const n of ns) {
          for (const [k, c] of n.children) s.add(isParamClass(c.cls) ? '{}' : k);
          if (n.specParam || n.overflow || n.restored) s.add('{}');
        }
        return s;
      };
      // Words with a format extension group apart per extension (`{x}.json` vs `{x}`).
      const suffixOf = (label: string): string => literals.get(label)?.[0]?.suffix ?? '';
      const shapeOf = (label: string): string =>
        suffixOf(label) + '\u0000' + [...shapeSet(literals.get(label) ?? [])].sort().join('|');
      const classShapes = new Map<string, number>();
      for (const m of merged) {
        const sh = shapeOf(m.label);
        classShapes.set(sh, (classShapes.get(sh) ?? 0) + 1);
      }
      // Restored parameters: their distinct values count for every shape that fits in theirs.
      const restoredShapes = restoreds.map((r) => ({
        shape: shapeSet([r]),
        distinct: Math.max(1, r.restoredInfo?.distinct ?? 1),
      }));
      const restoredFor = (key: string): number => {
        const [suf, sh] = key.split('\u0000') as [string, string];
        if (suf !== '') return 0;
        const need = sh === '' ? [] : sh.split('|');
        let n = 0;
        for (const r of restoredShapes) if (need.every((x) => r.shape.has(x))) n += r.distinct;
        return n;
      };
      const groups = new Map<string, string[]>();
      for (const c of candidates) {
        const sh = shapeOf(c);
        const g = groups.get(sh);
        if (g) g.push(c);
        else groups.set(sh, [c]);
      }
      for (const [sh, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const n = g.length + (classShapes.get(sh) ?? 0) + restoredFor(sh);
        for (const label of g) {
          if (n >= TREE_LIMITS.MIN_DISTINCT) merged.push({ label, rule: 'cardinality', cls: 'word' });
          else kept.push({ label, reason: `below_cardinality(${n}<${TREE_LIMITS.MIN_DISTINCT})` });
        }
      }
    }
    const hasParam =
      merged.length > 0 ||
      specParams.length > 0 ||
      overflows.length > 0 ||
      restoreds.length > 0 ||
      patternMerged.size > 0 ||
      patterns.size > 0;
    // Merged literals split by format extension (none under a whole spec parameter: the spec decides).
    const bySuffix = new Map<string, typeof merged>();
    if (specParams.length > 0 || overflows.length > 0 || restoreds.length > 0) bySuffix.set('', []);
    for (const m of merged) {
      const own = literals.get(m.label)?.[0]?.suffix ?? '';
      // Under a whole spec parameter only custom methods split off (`{name}:pause` is not `{name}`).
      const suf = specParams.length > 0 && !own.startsWith(':') ? '' : own;
      const l = bySuffix.get(suf);
      if (l) l.push(m);
      else bySuffix.set(suf, [m]);
    }
    const specName = specParams[0]?.specNames[0] ?? null;
    const name = paramName(prefix, specName);
    for (const suf of [...bySuffix.keys()].sort()) {
      const part = bySuffix.get(suf) ?? [];
      const plain = suf === '';
      const rules = new Set<string>();
      const classes = new Map<string, number>();
      let distinct = part.length;
      for (const m of part) {
        rules.add(m.rule);
        classes.set(m.cls, (classes.get(m.cls) ?? 0) + 1);
      }
      // Restored values may repeat among the new ones: distinct is then an upper bound.
      for (const r of plain ? [...specParams, ...restoreds] : []) {
        const info = r.restoredInfo;
        if (info === null) continue;
        for (const x of info.rules) rules.add(x);
        for (const [k, v] of info.classes) classes.set(k, (classes.get(k) ?? 0) + v);
        distinct += info.distinct;
      }
      if (plain && specParams.length > 0) rules.add('spec_param');
      if (plain && overflows.length > 0) rules.add(`overflow(>=${TREE_LIMITS.MAX_CHILDREN})`);
      const cls = [...classes]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}:${v}`)
        .join(',');
      const specs = plain ? [...new Set(specParams.flatMap((s) => s.specSources))].sort().join(',') : '';
      const line =
        `{${name}} at segment ${pos}: rule=${[...rules].sort().join('+')} distinct=${distinct}` +
        (cls ? ` classes=${cls}` : '') +
        (specs ? ` spec=${specs}` : '') +
        (plain ? '' : ` suffix=${suf}`);
      const group = plain ? [...specParams, ...overflows, ...restoreds] : [];
      for (const m of part) group.push(...(literals.get(m.label) ?? []));
      const seg: TemplateSeg = plain
        ? { text: name, param: true }
        : { text: name, param: true, form: `{${name}}${suf}` };
      this.decideAt(group, [...prefix, seg], [...explain, line], out);
    }
    for (const sh of [...patterns.keys()].sort()) {
      const ns = patterns.get(sh) ?? [];
      const labels = patternMerged.get(sh) ?? [];
      const form = ns.map((n) => n.specNames[0]).find((x) => x !== undefined) ?? sh;
      const specs = [...new Set(ns.flatMap((n) => n.specSources))].sort().join(',');
      const line =
        `{${firstName(form)}} at segment ${pos}: rule=spec_pattern distinct=${labels.length} form=${form}` +
        (specs ? ` spec=${specs}` : '');
      const group = [...ns];
      for (const l of labels) group.push(...(literals.get(l) ?? []));
      this.decideAt(group, [...prefix, { text: firstName(form), param: true, form }], [...explain, line], out);
    }
    for (const k of kept) {
      const ex =
        hasParam && k.reason !== 'structural'
          ? [...explain, `'${k.label}' at segment ${pos}: kept literal (${k.reason})`]
          : explain;
      this.decideAt(literals.get(k.label) ?? [], [...prefix, { text: k.label, param: false }], ex, out);
    }
  }
}
