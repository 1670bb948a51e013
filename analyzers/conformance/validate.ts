// Compiled validators for bundled schemas (schema.ts), and ajv's errors as conformance violations.
//
// One ajv instance (JSON Schema 2020-12, ajv-formats for `format`) per analysis. A validator is
// compiled on first use of an (operation, side, status, media) and kept in a bounded LRU
// (MAX_VALIDATORS); an evicted one is compiled again when needed and its schema is removed from
// ajv's own cache, so memory stays bounded whatever the spec's size. A schema that fails to bundle
// or compile (a pattern ECMAScript rejects, bounds hit) is remembered as failed (counted once per
// key) and its bodies are not validated. Eviction changes cost only, never output: compiling the same
// schema again yields the same validator.
//
// Violations keep only where and what (JSON pointer with `*` for array indices, ajv keyword), never
// the value. `additionalProperties`/`unevaluatedProperties` are left to the undocumented-field walk
// (walk.ts); inside a failed `oneOf`/`anyOf` the branch errors are dropped and the combinator is the
// violation (a branch's `type` error says nothing about the body). Approximation: an error of a
// sibling keyword at or below the combinator's location evaluated right before it is dropped too.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Bundle } from './schema.js';

// ajv-formats is CommonJS with a default export; under NodeNext the default is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  a: Ajv2020,
) => void;

export const MAX_VALIDATORS = 256;

export interface Violation {
  /** RFC 6901 pointer, array indices as `*`; for `required`, the missing property's pointer. */
  pointer: string;
  /** ajv keyword: type, format, enum, const, required, minimum, pattern, oneOf, …; `nullable` for a null the schema refuses. */
  keyword: string;
}

/** Keywords that still hold on a body cut short by the capture cap (nothing about what is missing). */
const PREFIX_SAFE = new Set([
  'type',
  'format',
  'enum',
  'const',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
]);

const starIndices = (p: string): string => p.replace(/\/\d+(?=\/|$)/g, '/*');
const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

export function violationsOf(errors: readonly ErrorObject[] | null | undefined, truncated: boolean): Violation[] {
  if (!errors || errors.length === 0) return [];
  // ajv pushes a failed combinator's branch errors right before the combinator's own error (a
  // passing combinator's are removed). Branch errors inside a `$ref` carry the referenced schema's
  // path, so they are recognised by position: the run of errors at or below the combinator's
  // instance location that directly precedes it.
  const drop = new Set<number>();
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i] as ErrorObject;
    if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') continue;
    const at = e.instancePath;
    for (let j = i - 1; j >= 0; j--) {
      const b = errors[j] as ErrorObject;
      if (b.instancePath !== at && !b.instancePath.startsWith(at + '/')) break;
      if (drop.has(j)) continue;
      drop.add(j);
    }
  }
  const out: Violation[] = [];
  const seen = new Set<string>();
  errors.forEach((e, i) => {
    if (drop.has(i)) return;
    if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') return;
    if (e.keyword === 'if' || e.keyword === '$ref' || e.keyword === 'else' || e.keyword === 'then') return;
    if (truncated && !PREFIX_SAFE.has(e.keyword)) return;
    let pointer = starIndices(e.instancePath);
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty?: unknown }).missingProperty;
      if (typeof missing === 'string') pointer += `/${esc(missing)}`;
    }
    const k = `${pointer}\u0000${e.keyword}\u0000${e.data === null ? 'null' : ''}`;
    if (seen.has(k)) return;
    seen.add(k);
    // A null where the schema does not admit one is its own, common, kind of drift (OpenAPI 3.0
    // needs `nullable: true`, which many specs forget): named apart from other type errors.
    const keyword = e.keyword === 'type' && e.data === null ? 'nullable' : e.keyword;
    out.push({ pointer, keyword });
  });
  return out;
}

export type Compiled = { ok: true; fn: ValidateFunction; bundle: Bundle } | { ok: false; reason: string };

export interface ValidatorCache {
  /** The compiled validator for `key`, compiling `make()` on a miss. */
  get(key: string, make: () => Bundle): Compiled;
  stats(): { compiled: number; failed: number; evicted: number };
}

export function createValidatorCache(max = MAX_VALIDATORS): ValidatorCache {
  // verbose: errors carry the failing value, read only for its JSON type (null) and never kept.
  // unicodeRegExp false: patterns as ECMAScript reads them without the `u` flag, which accepts the
  // identity escapes (`\=`, `\-`) published specs use; with it 3 of 2,334 corpus schemas did not compile.
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    validateFormats: true,
    logger: false,
    verbose: true,
    unicodeRegExp: false,
  });
  addFormats(ajv);
  // Keys are insertion-ordered: re-inserting on a hit keeps the least recently used first.
  const lru = new Map<string, Compiled>();
  /** Keys that failed: they fail the same way again, so they are never retried (bounded by the ops). */
  const failed = new Map<string, string>();
  let compiled = 0;
  let evicted = 0;
  return {
    get(key, make) {
      const hit = lru.get(key);
      if (hit !== undefined) {
        lru.delete(key);
        lru.set(key, hit);
        return hit;
      }
      const why = failed.get(key);
      if (why !== undefined) return { ok: false, reason: why };
      let c: Compiled;
      try {
        const bundle = make();
        c = { ok: true, fn: ajv.compile(bundle.schema), bundle };
        compiled++;
      } catch (e) {
        const reason = (e as { reason?: unknown }).reason;
        const r = typeof reason === 'string' ? reason : 'compile_error';
        failed.set(key, r);
        return { ok: false, reason: r };
      }
      lru.set(key, c);
      if (lru.size > max) {
        const [oldKey, old] = lru.entries().next().value as [string, Compiled];
        lru.delete(oldKey);
        if (old.ok) ajv.removeSchema(old.bundle.schema);
        evicted++;
      }
      return c;
    },
    stats: () => ({ compiled, failed: failed.size, evicted }),
  };
}
