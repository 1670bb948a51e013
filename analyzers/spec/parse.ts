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
//   wins, as in JSON.parse and in the loaders behind Swagger UI, with one warning naming the first.
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

export function parseText(input: string): ParsedText {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
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
