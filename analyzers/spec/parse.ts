// Bytes of a spec file → a plain JS value, tolerating what published API descriptions contain.
//
// Contract: never throws. Returns the value or a one-line reason the file is not YAML/JSON, plus
// warnings about what was tolerated:
// - encodings: UTF-8 with or without BOM, UTF-16 LE/BE with BOM (RFC 8259 §8.1 asks for no BOM, but
//   editors on Windows write one);
// - JSON first when the text looks like JSON (JSON.parse is ~10× faster than any YAML parser, and
//   the large public specs, Stripe, GitHub, Azure, are JSON); YAML otherwise or when JSON.parse fails
//   (YAML 1.2 is a JSON superset, so trailing garbage or comments get a second chance);
// - YAML with the core schema (YAML 1.2: `2010-04-01` stays a string, no Date objects) plus YAML 1.1
//   merge keys (`<<`), which hand-written specs use for shared parameters. YAML 1.1 booleans
//   (`yes`/`no`/`on`/`off`) arrive as strings and are coerced where a boolean is expected (load.ts);
// - duplicate mapping keys (YAML 1.2 §3.2.1.3 forbids them, generators emit them): the later value
//   wins, as in JSON.parse and in the loaders behind Swagger UI, with one warning naming the first;
// - large YAML (>= PRUNE_MIN_BYTES): block values the loader never reads (schemas, content,
//   examples, descriptions) are cut before parsing, which is most of a large spec's text; if the cut
//   text does not parse (an anchor defined inside a cut block, say), the whole text is parsed.
//   Measured (test/bench/spec-load.bench.ts): js-yaml spends ~170 ms per MB on schema-heavy YAML,
//   so a 10 MB document took 1.5-2.3 s on the shared 2-core machine; cut, it takes a fraction.
import * as jsyaml from 'js-yaml';
import type { Type } from 'js-yaml';

const { CORE_SCHEMA, load: loadYaml } = jsyaml;
// `types` is exported by js-yaml 4 but missing from its type declarations.
const yamlTypes = (jsyaml as unknown as { types: { merge: Type } }).types;

export interface ParsedText {
  value: unknown;
  /** One-line reason when the text is neither JSON nor YAML (value is then undefined). */
  error: string | null;
  warnings: string[];
  /** True when schema-bearing blocks were cut before parsing (large YAML): the value has no schemas. */
  pruned?: boolean;
}

const SCHEMA = CORE_SCHEMA.extend({ implicit: [yamlTypes.merge] });

/** Decode a file's bytes (BOM-aware); UTF-8 without BOM by default. */
export function decodeText(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    const le = Buffer.from(buf.subarray(2));
    le.swap16();
    return le.toString('utf16le');
  }
  const s = buf.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function firstLine(msg: string): string {
  return (msg.split('\n')[0] ?? '').trim();
}

/** YAML texts from this size on are pruned before parsing (see the file comment). */
export const PRUNE_MIN_BYTES = 1_000_000;

const METHOD_KEYS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'query']);
/** Keys whose values the loader never reads, by the kind of object they sit in. */
const IN_OPERATION = new Set(['requestBody', 'responses', 'callbacks', 'externalDocs', 'description', 'summary']);
const IN_RESPONSE_OR_MEDIA = new Set(['content', 'headers', 'links', 'schema', 'examples', 'example', 'description']);
const IN_PARAMETER = new Set(['schema', 'content', 'examples', 'example', 'description']);

/**
 * May the block under `key` be cut, given its parent key (and whether the key opens or follows a list
 * item)? Only where OpenAPI fixes the meaning of the key: in an operation, a response (status code)
 * or media type, a parameter given inline in a list; `schemas` under `components`, `definitions` at
 * the root. Never under a map of names (`components.parameters.headers` is a parameter named headers).
 */
function prunable(parent: string | null, key: string, inList: boolean): boolean {
  if (parent === null) return key === 'definitions';
  if (key === 'schemas') return parent === 'components';
  if (METHOD_KEYS.has(parent) && !inList) return IN_OPERATION.has(key);
  if (/^([1-5]\d\d|[1-5]XX|default)$/.test(parent) || (parent.includes('/') && !parent.startsWith('/')))
    return IN_RESPONSE_OR_MEDIA.has(key);
  if (parent === 'parameters' && inList) return IN_PARAMETER.has(key);
  return false;
}

const KEY_LINE = /^( *)(- +)?("[^"]*"|'[^']*'|[^\s#'"{[][^:#]*?):(?:[ \t]+(.*))?$/;

/**
 * Cut the indented block under each prunable key (block style only): the key stays with an empty
 * value (`{}`, or `''` for text), so presence checks (`responses`) still see it.
 */
export function pruneYaml(text: string): string {
  const out: string[] = [];
  const stack: { indent: number; key: string; list: boolean }[] = [];
  let cut = -1; // indentation of the key whose block is being cut
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    const body = line.trim();
    let ind = 0;
    while (line.charCodeAt(ind) === 32) ind++;
    if (cut >= 0) {
      if (body === '' || body.startsWith('#') || ind > cut) continue;
      cut = -1;
    }
    const m = line.length < 300 ? KEY_LINE.exec(line.trimEnd()) : null;
    if (!m) {
      out.push(line);
      continue;
    }
    const list = m[2] !== undefined;
    const keyIndent = ind + (m[2]?.length ?? 0);
    while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) >= keyIndent) stack.pop();
    const raw = m[3] ?? '';
    const key = /^["']/.test(raw) ? raw.slice(1, -1) : raw.trim();
    const parent = stack.length > 0 ? (stack[stack.length - 1]?.key ?? null) : null;
    // A list item's first key: its siblings are the item's keys; the item's parent is the list's key.
    const inList = list || (stack.length > 0 && stack[stack.length - 1]?.list === true);
    const value = (m[4] ?? '').replace(/^#.*$/, '').trim();
    const block = value === '' || /^[|>][-+0-9]*\s*(#.*)?$/.test(value);
    if (block && prunable(parent, key, inList)) {
      cut = keyIndent;
      const prefix = line.slice(0, keyIndent);
      out.push(`${prefix}${raw}: ${key === 'description' || key === 'summary' || key === 'example' ? "''" : '{}'}`);
      continue;
    }
    if (list) stack.push({ indent: ind, key: stack[stack.length - 1]?.key ?? '', list: true });
    stack.push({ indent: keyIndent, key, list: false });
    out.push(line);
  }
  return out.join('\n');
}

/** `prune: false` parses large YAML whole (what conformance needs: the schemas pruning cuts). */
export function parseText(input: string, opts: { prune?: boolean } = {}): ParsedText {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (opts.prune !== false && text.length >= PRUNE_MIN_BYTES && !/^\s*[{[]/.test(text)) {
    const pruned = parseYamlText(pruneYaml(text));
    if (pruned.error === null) return { ...pruned, pruned: true };
  }
  return parseYamlText(text);
}

function parseYamlText(text: string): ParsedText {
  const warnings: string[] = [];
  const lead = /^\s*(.)/.exec(text)?.[1];
  if (lead === '{' || lead === '[') {
    try {
      return { value: JSON.parse(text) as unknown, error: null, warnings };
    } catch {
      // Not strict JSON (comments, trailing commas, single quotes): YAML flow syntax may still read it.
    }
  }
  try {
    return { value: loadYaml(text, { schema: SCHEMA }), error: null, warnings };
  } catch (e) {
    const msg = firstLine((e as Error).message);
    if (!/duplicated mapping key/.test(msg)) return { value: undefined, error: msg, warnings };
    warnings.push(`${msg}; the later value of each duplicate key is used`);
  }
  try {
    // json: true lets later duplicate keys override earlier ones instead of failing.
    return { value: loadYaml(text, { schema: SCHEMA, json: true }), error: null, warnings };
  } catch (e) {
    return { value: undefined, error: firstLine((e as Error).message), warnings };
  }
}
