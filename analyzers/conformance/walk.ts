// Fields a JSON body carries that its (bundled) schema does not declare, and properties sent on the
// wrong side (readOnly in a request, writeOnly in a response).
//
// "Declared" is what a reader of the spec sees, not what the validator accepts: JSON Schema allows
// unknown properties unless `additionalProperties: false`, but a response field no schema names is
// the excessive data exposure OWASP API3:2023 describes. Rules:
// - an object is compared with the union of the schemas that apply to it: its own, every `allOf`
//   part, every `oneOf`/`anyOf` branch (a field some branch names is documented), through `$ref`;
// - a key is declared when some of them lists it in `properties`, matches a `patternProperties`
//   pattern, or when one of them admits other keys on purpose (`additionalProperties: true` or a
//   schema: a map) or declares no properties at all (a free-form object);
// - an undeclared key is reported once at its own pointer; nothing below it is walked (it is all
//   undocumented). Opaque schemas (unresolvable `$ref`) and `true` stop the walk; a schema with a
//   `discriminator` and no oneOf/anyOf (allOf polymorphism) admits its subtypes' keys.
// Pointers are RFC 6901 with array indices replaced by `*` (`/items/*/email`). Bounded: MAX_NODES
// visited per body, array items beyond MAX_ITEMS not walked.
import type { Side } from './schema.js';
import { OPAQUE, OPEN } from './schema.js';

export const MAX_NODES = 2_000;
export const MAX_ITEMS = 50;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export type WalkKind = 'undocumented' | 'readOnly' | 'writeOnly';

export interface WalkHit {
  kind: WalkKind;
  /** RFC 6901 pointer, array indices as `*`. */
  pointer: string;
}

const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

const patterns = new Map<string, RegExp | null>();
function patternOf(p: string): RegExp | null {
  let re = patterns.get(p);
  if (re === undefined) {
    try {
      re = new RegExp(p); // as the validator reads patterns (validate.ts, unicodeRegExp: false)
    } catch {
      re = null;
    }
    if (patterns.size < 4096) patterns.set(p, re);
  }
  return re;
}

/** The schemas that apply to one instance (flattened through $ref, allOf, oneOf, anyOf); null = anything goes. */
function applicable(schemas: readonly unknown[], defs: Obj): Obj[] | null {
  const out: Obj[] = [];
  const stack = [...schemas];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const s = stack.pop();
    if (s === true) return null;
    if (!isObj(s) || seen.has(s)) continue;
    seen.add(s);
    if (s[OPAQUE] === true) return null;
    out.push(s);
    const r = s['$ref'];
    if (typeof r === 'string' && r.startsWith('#/$defs/')) stack.push(defs[r.slice(8)]);
    for (const k of ['allOf', 'oneOf', 'anyOf'] as const) {
      const l = s[k];
      if (Array.isArray(l)) for (const x of l) stack.push(x);
    }
    // The nullable wrapper (schema.ts): `if null else X` applies X to every non-null value.
    if (s['else'] !== undefined) stack.push(s['else']);
  }
  return out;
}

/** Walk `value` against `schema` (a bundle's root; its `$defs` resolve references). */
export function walkBody(schema: Obj, value: unknown, side: Side, out: WalkHit[], maxHits = 64): void {
  const defs = isObj(schema['$defs']) ? schema['$defs'] : {};
  let budget = MAX_NODES;
  const visit = (schemas: readonly unknown[], v: unknown, ptr: string): void => {
    if (budget-- <= 0 || out.length >= maxHits) return;
    if (v === null || typeof v !== 'object') return;
    const ss = applicable(schemas, defs);
    if (ss === null) return;
    if (Array.isArray(v)) {
      const items: unknown[] = [];
      const prefix: unknown[][] = [];
      for (const s of ss) {
        if (s['items'] !== undefined) items.push(s['items']);
        const pi = s['prefixItems'];
        if (Array.isArray(pi)) pi.forEach((x, i) => (prefix[i] ??= []).push(x));
      }
      if (items.length === 0 && prefix.length === 0) return;
      const n = Math.min(v.length, MAX_ITEMS);
      for (let i = 0; i < n; i++) {
        const own = prefix[i] ?? items;
        if (own.length > 0) visit(own, v[i], `${ptr}/*`);
      }
      return;
    }
    const obj = v as Obj;
    let declaresProps = false;
    let open = false;
    const additional: unknown[] = [];
    for (const s of ss) {
      if (isObj(s['properties']) || isObj(s['patternProperties'])) declaresProps = true;
      if (s[OPEN] === true) open = true;
      const ap = s['additionalProperties'];
      if (ap === true) open = true;
      else if (isObj(ap)) {
        if (ap[OPAQUE] === true) open = true;
        else additional.push(ap);
      }
    }
    // A free-form object (no properties anywhere, no map schema): nothing to compare with.
    if (!declaresProps && additional.length === 0) return;
    for (const k in obj) {
      if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
      const child: unknown[] = [];
      let declared = false;
      for (const s of ss) {
        const props = s['properties'];
        if (isObj(props) && Object.prototype.hasOwnProperty.call(props, k)) {
          declared = true;
          child.push(props[k]);
        }
        const pp = s['patternProperties'];
        if (isObj(pp)) {
          for (const p of Object.keys(pp)) {
            if (patternOf(p)?.test(k) === true) {
              declared = true;
              child.push(pp[p]);
            }
          }
        }
      }
      const cptr = `${ptr}/${esc(k)}`;
      if (!declared) {
        if (open) continue;
        if (additional.length === 0) {
          out.push({ kind: 'undocumented', pointer: cptr });
          if (out.length >= maxHits) return;
          continue;
        }
        child.push(...additional);
      } else {
        const cs = applicable(child, defs);
        if (cs !== null) {
          const wrong = side === 'request' ? 'readOnly' : 'writeOnly';
          // Only the property's own schema (and what it references) says readOnly/writeOnly.
          if (cs.some((s) => s[wrong] === true)) {
            out.push({ kind: wrong, pointer: cptr });
            if (out.length >= maxHits) return;
          }
        }
      }
      visit(child, obj[k], cptr);
    }
  };
  visit([schema], value, '');
}

/** `/items/*\/email` → `$.items[*].email`, the field form the PII analyzer reports (pii/scanner.ts). */
export function pointerToField(pointer: string): string {
  let out = '$';
  if (pointer === '') return out;
  for (const raw of pointer.slice(1).split('/')) {
    if (raw === '*') {
      out += '[*]';
      continue;
    }
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) || /^\d{1,10}$/.test(k) ? `.${k}` : `.[${JSON.stringify(k)}]`;
  }
  return out;
}
