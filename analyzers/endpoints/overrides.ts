// The user-editable overrides file (YAML): force or forbid path templates.
//
//   force:                       # a concrete path matching the pattern gets exactly this template
//     - { host: api.example.com, method: GET, path: "/files/{fileId}/raw" }
//   forbid:                      # a decided template matching the pattern keeps those segments literal
//     - path: /teams/{id}        # (quote paths inside YAML flow maps: `{` opens a map there)
//
// Patterns: `{name}` matches any one segment, other segments match literally. Rules apply in a fixed
// order (more literal segments first, then file order), so the outcome never depends on traffic order.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { normHost } from '../spec/load.js';
import type { TemplateSeg } from './tree.js';
import { OVERFLOW } from './tree.js';

const Rule = z.strictObject({
  host: z.string().min(1).optional(),
  method: z.string().min(1).optional(),
  path: z.string().regex(/^\//, 'path must start with /'),
});
export const OverridesFile = z.strictObject({
  force: z.array(Rule).default([]),
  forbid: z.array(Rule).default([]),
});

export interface OverrideRule {
  host: string | null;
  method: string | null;
  path: string;
  /** Pattern segments; null = parameter. */
  segs: (string | null)[];
  /** Parameter names for `{x}` segments (same positions as segs). */
  names: (string | null)[];
  literalCount: number;
  index: number;
}
export interface Overrides {
  force: OverrideRule[];
  forbid: OverrideRule[];
}

function compile(r: z.infer<typeof Rule>, index: number): OverrideRule {
  const parts = r.path.split('/').filter((s) => s !== '');
  const segs = parts.map((s) => (/^\{[^}]*\}$/.test(s) ? null : s));
  return {
    host: r.host === undefined ? null : normHost(r.host),
    method: r.method === undefined ? null : r.method.toUpperCase(),
    path: r.path,
    segs,
    names: parts.map((s) => (/^\{[^}]*\}$/.test(s) ? s.slice(1, -1) : null)),
    literalCount: segs.filter((s) => s !== null).length,
    index,
  };
}

const order = (a: OverrideRule, b: OverrideRule): number => b.literalCount - a.literalCount || a.index - b.index;

export function parseOverrides(text: string, name = 'overrides'): Overrides {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new Error(`${name}: not YAML: ${(e as Error).message.split('\n')[0] ?? ''}`, { cause: e });
  }
  const r = OverridesFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${name}: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}`);
  }
  return {
    force: r.data.force.map(compile).sort(order),
    forbid: r.data.forbid.map(compile).sort(order),
  };
}

/** Synchronous: read once at start-up by the CLI, which fails fast on a broken file. */
export function loadOverrides(path: string): Overrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  return parseOverrides(text, path);
}

export function ruleApplies(r: OverrideRule, host: string, method: string): boolean {
  if (r.method !== null && r.method !== method) return false;
  if (r.host !== null && r.host !== normHost(host)) return false;
  return true;
}

export interface OverrideOutcome {
  tpl: TemplateSeg[];
  explain: string | null;
}

/**
 * Apply force rules (first match in rule order wins) to a concrete path, else forbid rules to its
 * decided template: positions that are `{x}` in a matching forbid pattern go back to the concrete
 * literal. Overflow positions (no concrete value kept) cannot be reverted and stay parameters.
 */
export function applyOverrides(
  ov: Overrides | null,
  host: string,
  method: string,
  concrete: readonly string[],
  tpl: readonly TemplateSeg[],
): OverrideOutcome {
  if (ov === null) return { tpl: [...tpl], explain: null };
  for (const r of ov.force) {
    if (!ruleApplies(r, host, method) || r.segs.length !== concrete.length) continue;
    let ok = true;
    for (let i = 0; i < r.segs.length && ok; i++) {
      const want = r.segs[i];
      const got = concrete[i] ?? '';
      if (want !== null && want !== got) ok = false;
    }
    if (!ok) continue;
    const out = r.segs.map((s, i) =>
      s === null ? { text: r.names[i] ?? `param${i}`, param: true } : { text: s, param: false },
    );
    return { tpl: out, explain: `override force ${r.path}` };
  }
  let cur = [...tpl];
  const notes: string[] = [];
  for (const r of ov.forbid) {
    if (!ruleApplies(r, host, method) || r.segs.length !== cur.length) continue;
    let ok = true;
    for (let i = 0; i < r.segs.length && ok; i++) {
      const want = r.segs[i];
      const got = cur[i];
      if (got === undefined) ok = false;
      else if (want === null ? !got.param : got.param || got.text !== want) ok = false;
    }
    if (!ok) continue;
    cur = cur.map((s, i) => {
      const c = concrete[i];
      return r.segs[i] === null && c !== undefined && c !== OVERFLOW ? { text: c, param: false } : s;
    });
    notes.push(`override forbid ${r.path}`);
  }
  return { tpl: cur, explain: notes.length ? notes.join('; ') : null };
}
