// A spec's schema (SchemaRef into LoadedSpec.documents) → one self-contained JSON Schema 2020-12
// document for ajv, per side of the message.
//
// Dialects (OpenAPI 3.1 §4.8.24 / 3.0 §4.7.24 / Swagger 2.0 "Schema Object"):
// - 3.1 schemas are JSON Schema 2020-12: kept, `$ref` siblings kept.
// - 3.0 and 2.0 schemas are an extended subset of draft 4/5, converted: `nullable: true` (2.0:
//   `x-nullable`) adds null to `type` and `enum`, or wraps the schema as `if null else X`;
//   boolean `exclusiveMinimum`/`exclusiveMaximum` become the numeric 2020-12 forms; a `$ref` replaces
//   its siblings; tuple `items` lists become `prefixItems`; type `file` is dropped.
// - Lenient, like the loader: a node of the wrong kind is dropped, not fatal (`required: true` on a
//   property, a `type` that is no JSON type, `nullable` in a 3.1 document); annotations (description,
//   example, discriminator, xml, x-*) are dropped.
// - `$ref`: local (`#/components/schemas/Pet`), into another document read by the loader
//   (`common.yaml#/Pet`), chained, and recursive: each target becomes one `$defs` entry (d0, d1, …
//   in first-visit order, so the output is deterministic). A reference that cannot be resolved
//   (remote URL, `$id`-based, missing target) becomes `{ "x-apitap-opaque": true }`: accepts
//   anything, and the undocumented-field walk does not look below it.
// - readOnly / writeOnly (OpenAPI 3.0 §4.7.24.2): a readOnly property is not required in a request,
//   a writeOnly property is not required in a response; their presence on the wrong side is
//   reported by the walk (walk.ts), not by the validator.
// Bounded: at most MAX_DEFS references and MAX_NODES converted nodes per bundle, MAX_DEPTH nesting;
// beyond them the bundle fails with BundleError('too_large') and the caller counts and skips it.
import { posix } from 'node:path';
import type { LoadedSpec, SchemaRef } from '../spec/types.js';

export const MAX_DEFS = 2_000;
export const MAX_NODES = 50_000;
export const MAX_DEPTH = 64;
export const OPAQUE = 'x-apitap-opaque';
/**
 * Marks a schema with a `discriminator` but no `oneOf`/`anyOf` (3.0 polymorphism through allOf:
 * `Cat: allOf [Pet, …]` while the response names only Pet): its instances may be any subtype, so
 * the undocumented-field walk does not report the object's own unknown keys.
 */
export const OPEN = 'x-apitap-open';

export type Side = 'request' | 'response';
type Dialect = 'oas30' | 'oas31';
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object', 'null']);
const NUMERIC = [
  'minimum',
  'maximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minContains',
  'maxContains',
] as const;
const SCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'] as const;
const SCHEMA_ONE = [
  'additionalProperties',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
  'unevaluatedProperties',
  'unevaluatedItems',
  'additionalItems',
] as const;
const SCHEMA_LISTS = ['allOf', 'oneOf', 'anyOf'] as const;

export class BundleError extends Error {
  constructor(readonly reason: 'too_large' | 'unresolved_root') {
    super(reason);
    this.name = 'BundleError';
  }
}

export interface Bundle {
  schema: Obj;
  /** References that resolved to nothing (opaque). */
  unresolved: number;
}

/** Split a SchemaRef or a `$ref` into (document label, JSON pointer tokens), relative to `fromLabel`. */
export function resolveRef(
  ref: string,
  fromLabel: string,
  documents: Readonly<Record<string, unknown>>,
): { label: string; node: unknown; key: string } | null {
  const hash = ref.indexOf('#');
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  const frag = hash < 0 ? '' : ref.slice(hash + 1);
  let label = fromLabel;
  if (filePart !== '') {
    if (/^[a-z][a-z0-9+.-]*:/i.test(filePart) || filePart.startsWith('//') || filePart.startsWith('/')) return null;
    let decoded = filePart;
    try {
      decoded = decodeURI(filePart);
    } catch {
      // keep the raw reference
    }
    label = posix.normalize(posix.join(posix.dirname(fromLabel === '' ? '.' : fromLabel), decoded));
  }
  if (!Object.prototype.hasOwnProperty.call(documents, label)) return null;
  if (frag !== '' && !frag.startsWith('/')) return null; // $anchor / $id forms: not resolved
  let v: unknown = documents[label];
  for (const raw of frag === '' ? [] : frag.slice(1).split('/')) {
    let part = raw;
    try {
      part = decodeURIComponent(raw);
    } catch {
      // a literal '%'
    }
    part = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isObj(v) && Object.prototype.hasOwnProperty.call(v, part)) v = v[part];
    else if (Array.isArray(v) && /^\d+$/.test(part) && Number(part) < v.length) v = v[Number(part)];
    else return null;
  }
  return { label, node: v, key: `${label}#${frag}` };
}

const dialectOf = (spec: Pick<LoadedSpec, 'format'>): Dialect =>
  spec.format === 'openapi-3.1' || spec.format === 'openapi-3.2' ? 'oas31' : 'oas30';

/**
 * Bundle the schema at `ref` for one side. Throws BundleError when the root does not resolve or the
 * bounds are hit (the caller counts it; nothing else throws).
 */
export function bundleSchema(spec: Pick<LoadedSpec, 'format' | 'documents'>, ref: SchemaRef, side: Side): Bundle {
  const dialect = dialectOf(spec);
  const docs = spec.documents;
  const root = resolveRef(ref, '', docs);
  if (root === null) throw new BundleError('unresolved_root');
  const defs: Record<string, unknown> = {};
  const defNames = new Map<string, string>();
  let nodes = 0;
  let unresolved = 0;

  const conv = (v: unknown, label: string, depth: number): unknown => {
    if (++nodes > MAX_NODES) throw new BundleError('too_large');
    if (typeof v === 'boolean') return v;
    if (!isObj(v) || depth > MAX_DEPTH) return {};
    const ref = v['$ref'];
    let refOut: Obj | null = null;
    if (typeof ref === 'string') {
      const t = resolveRef(ref, label, docs);
      if (t === null) {
        unresolved++;
        refOut = { [OPAQUE]: true };
      } else {
        let name = defNames.get(t.key);
        if (name === undefined) {
          if (defNames.size >= MAX_DEFS) throw new BundleError('too_large');
          name = `d${defNames.size}`;
          defNames.set(t.key, name);
          defs[name] = {}; // placeholder: a recursive reference finds the name
          defs[name] = conv(t.node, t.label, 0);
        }
        refOut = { $ref: `#/$defs/${name}` };
      }
      // 3.0 / 2.0: a $ref replaces its siblings.
      if (dialect === 'oas30' || Object.keys(v).every((k) => k === '$ref' || k === 'description' || k === 'summary'))
        return refOut;
    }
    const out: Obj = {};
    if (refOut !== null) Object.assign(out, refOut);
    const nullable = v['nullable'] === true || v['x-nullable'] === true;
    // type
    const t = v['type'];
    if (typeof t === 'string' && JSON_TYPES.has(t)) out['type'] = t;
    else if (Array.isArray(t)) {
      const ts = t.filter((x): x is string => typeof x === 'string' && JSON_TYPES.has(x));
      if (ts.length > 0) out['type'] = [...new Set(ts)];
    }
    for (const k of NUMERIC) if (typeof v[k] === 'number') out[k] = v[k];
    for (const [ex, base] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      const e = v[ex];
      if (typeof e === 'number') out[ex] = e;
      else if (e === true && typeof v[base] === 'number') {
        out[ex] = v[base];
        delete out[base];
      }
    }
    if (typeof v['format'] === 'string') out['format'] = v['format'];
    if (typeof v['pattern'] === 'string') out['pattern'] = v['pattern'];
    if (typeof v['uniqueItems'] === 'boolean') out['uniqueItems'] = v['uniqueItems'];
    if (Array.isArray(v['enum'])) out['enum'] = [...(v['enum'] as unknown[])];
    if (Object.prototype.hasOwnProperty.call(v, 'const') && dialect === 'oas31') out['const'] = v['const'];
    if (v['readOnly'] === true) out['readOnly'] = true;
    if (isObj(v['discriminator']) && !Array.isArray(v['oneOf']) && !Array.isArray(v['anyOf'])) out[OPEN] = true;
    if (v['writeOnly'] === true) out['writeOnly'] = true;
    for (const k of SCHEMA_MAPS) {
      const m = v[k];
      if (!isObj(m) || k === '$defs' || k === 'definitions') continue;
      const o: Obj = {};
      for (const name of Object.keys(m)) o[name] = conv(m[name], label, depth + 1);
      out[k] = o;
    }
    for (const k of SCHEMA_ONE) {
      const s = v[k];
      if (isObj(s) || typeof s === 'boolean') out[k] = conv(s, label, depth + 1);
    }
    for (const k of SCHEMA_LISTS) {
      const l = v[k];
      if (Array.isArray(l) && l.length > 0) out[k] = l.map((x) => conv(x, label, depth + 1));
    }
    const items = v['items'];
    if (Array.isArray(items)) out['prefixItems'] = items.map((x) => conv(x, label, depth + 1));
    else if (isObj(items) || typeof items === 'boolean') out['items'] = conv(items, label, depth + 1);
    if (dialect === 'oas31' && Array.isArray(v['prefixItems']))
      out['prefixItems'] = (v['prefixItems'] as unknown[]).map((x) => conv(x, label, depth + 1));
    const dr = v['dependentRequired'];
    if (isObj(dr)) out['dependentRequired'] = dr;
    // required, minus the properties the other side owns.
    const req = v['required'];
    if (Array.isArray(req)) {
      const props = isObj(out['properties']) ? out['properties'] : {};
      const names = req.filter((x): x is string => typeof x === 'string');
      const kept = names.filter((n) => {
        const p = props[n];
        const ps = isObj(p) ? deref(p) : null;
        if (ps === null) return true;
        return side === 'request' ? ps['readOnly'] !== true : ps['writeOnly'] !== true;
      });
      if (kept.length > 0) out['required'] = [...new Set(kept)];
    }
    if (!nullable) return out;
    const ty = out['type'];
    const simple = !SCHEMA_LISTS.some((k) => k in out) && !('$ref' in out) && !('not' in out);
    if (ty === undefined && simple && !('enum' in out)) return out; // no type: null is already allowed
    if (simple && ty !== undefined) {
      out['type'] = Array.isArray(ty) ? [...new Set([...(ty as string[]), 'null'])] : [ty as string, 'null'];
      const en = out['enum'];
      if (Array.isArray(en) && !en.includes(null)) out['enum'] = [...en, null];
      return out;
    }
    // Not anyOf: with if/else a non-null value's errors are X's own (type at /a/b), not one `anyOf`.
    return { if: { type: 'null' }, else: out };
  };

  /** A converted property schema's own keywords, through $defs (for readOnly/writeOnly on a $ref'd property). */
  const deref = (s: Obj): Obj | null => {
    let cur: Obj = s;
    for (let i = 0; i < 8; i++) {
      const r = cur['$ref'];
      if (typeof r !== 'string') return cur;
      const d = defs[r.slice('#/$defs/'.length)];
      if (!isObj(d)) return null;
      cur = d;
    }
    return null;
  };

  const top = conv(root.node, root.label, 0);
  const schema: Obj = isObj(top) ? top : { allOf: [top] };
  if (defNames.size > 0) schema['$defs'] = defs;
  return { schema, unresolved };
}
