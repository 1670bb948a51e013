// Load a Swagger 2.0 / OpenAPI 3.0 / 3.1 / 3.2 document (YAML or JSON) into a LoadedSpec, leniently.
//
// Contract: a user's spec is a boundary, and published specs are sloppy (nulls where lists are
// expected, unquoted versions, numbers for strings, parameters without `in`). Like the loaders behind
// Swagger UI and Redocly, we build the index from whatever is usable: a node that is invalid is
// skipped or coerced and a warning names its JSON pointer (RFC 6901). The spec is refused, with a
// one-line SpecError, only when the file is unreadable, not YAML/JSON, or not an API description (no
// `openapi`, `swagger` or `paths` at the root). Warnings are kept up to MAX_SPEC_WARNINGS (all counted).
//
// References: `#/...` within a document and relative file references (`common.yaml#/Param`,
// `./paths/users.yaml`), each file parsed once; URLs are never fetched (warned and skipped), absolute
// file paths are not followed. Resolution is bounded (MAX_REF_HOPS per reference, MAX_REF_FILES
// files) and cycle-safe (a chain that revisits a target stops with a warning).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { decodeText, parseText } from './parse.js';
import { HTTP_METHODS, HTTP_METHODS_32 } from './types.js';
import type {
  LoadedSpec,
  SpecContract,
  SpecMedia,
  SpecOperation,
  SpecResponse,
  SpecSecurityScheme,
  SpecWarning,
} from './types.js';

export class SpecError extends Error {
  readonly code = 'SPEC_INVALID';
  constructor(
    readonly specName: string,
    message: string,
  ) {
    super(`${specName}: ${message}`);
    this.name = 'SpecError';
  }
}

export const MAX_SPEC_WARNINGS = 200;
const MAX_REF_HOPS = 16;
const MAX_REF_FILES = 256;
/** Nodes walked per document when looking for file references inside schemas. */
const MAX_WALK_NODES = 2_000_000;
/** Cartesian product of server variable enums expanded per server; beyond it defaults are used. */
const MAX_SERVER_EXPANSION = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const own = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);

/** RFC 6901 reference token. */
const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** A parsed document: its root, its directory (null: file references cannot be followed) and pointer prefix. */
interface DocCtx {
  root: unknown;
  dir: string | null;
  /** '' for the main document, else its path relative to the main document's directory. */
  label: string;
}

interface Node {
  v: unknown;
  ctx: DocCtx;
  /** Pointer of the node (after following references: of the target). */
  ptr: string;
}

const BOOL_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  on: true,
  off: false,
  y: true,
  n: false,
  '1': true,
  '0': false,
};

class Loader {
  readonly warnings: SpecWarning[] = [];
  warningCount = 0;
  private readonly files = new Map<string, DocCtx | null>();

  constructor(private readonly mainDir: string | null) {}

  /** Every referenced file read so far, by label. */
  documents(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const ctx of this.files.values()) if (ctx !== null) out[ctx.label] = ctx.root;
    return out;
  }

  /**
   * Read the files that `$ref`s inside `ctx`'s document name (schemas the loader itself never
   * follows), and theirs in turn, within MAX_REF_FILES. Remote and absolute references are left to
   * the consumer (they resolve to nothing). One walk per document; bounded by MAX_WALK_NODES.
   */
  loadReferencedFiles(ctx: DocCtx): void {
    const queue: DocCtx[] = [ctx];
    const done = new Set<DocCtx>();
    while (queue.length > 0) {
      const c = queue.pop() as DocCtx;
      if (done.has(c) || c.dir === null) continue;
      done.add(c);
      const stack: unknown[] = [c.root];
      let budget = MAX_WALK_NODES;
      while (stack.length > 0 && budget-- > 0) {
        const v = stack.pop();
        if (Array.isArray(v)) {
          for (const x of v) if (x !== null && typeof x === 'object') stack.push(x);
        } else if (isObj(v)) {
          const ref = v['$ref'];
          if (typeof ref === 'string') {
            const hash = ref.indexOf('#');
            const filePart = hash < 0 ? ref : ref.slice(0, hash);
            if (filePart !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(filePart) && !filePart.startsWith('//')) {
              if (!isAbsolute(filePart)) {
                let decoded = filePart;
                try {
                  decoded = decodeURI(filePart);
                } catch {
                  // keep the raw reference
                }
                const f = this.file(decoded, c, `${c.label}#`);
                if (f !== null) queue.push(f);
              }
            }
          }
          for (const k in v) {
            const x = v[k];
            if (x !== null && typeof x === 'object') stack.push(x);
          }
        }
      }
    }
  }

  /** While true, warn() records nothing (reading parts the index does not need: conformance contracts). */
  quiet = false;

  warn(ptr: string, message: string): void {
    if (this.quiet) return;
    this.warningCount++;
    if (this.warnings.length < MAX_SPEC_WARNINGS) this.warnings.push({ pointer: ptr, message });
  }

  child(n: Node, key: string | number): Node {
    return {
      v: isObj(n.v) ? n.v[key] : Array.isArray(n.v) ? n.v[key as number] : undefined,
      ctx: n.ctx,
      ptr: `${n.ptr}/${esc(String(key))}`,
    };
  }

  private file(ref: string, from: DocCtx, ptr: string): DocCtx | null {
    if (from.dir === null) {
      this.warn(ptr, `file reference ${ref} needs the spec's directory (spec given as text): skipped`);
      return null;
    }
    const abs = join(from.dir, ref);
    if (this.files.has(abs)) return this.files.get(abs) ?? null;
    if (this.files.size >= MAX_REF_FILES) {
      this.warn(ptr, `more than ${MAX_REF_FILES} referenced files: ${ref} skipped`);
      return null;
    }
    let ctx: DocCtx | null = null;
    try {
      const p = parseText(decodeText(readFileSync(abs)));
      const label = relative(this.mainDir ?? from.dir, abs) || basename(abs);
      if (p.error !== null) this.warn(ptr, `referenced file ${ref} is not YAML/JSON (${p.error}): skipped`);
      else {
        ctx = { root: p.value, dir: dirname(abs), label };
        for (const w of p.warnings) this.warn(`${label}#`, w);
      }
    } catch (e) {
      this.warn(
        ptr,
        `referenced file ${ref} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}): skipped`,
      );
    }
    this.files.set(abs, ctx);
    return ctx;
  }

  /** Follow `$ref`s from a node (bounded, cycle-safe). Null when the reference cannot be followed. */
  deref(n: Node): Node | null {
    let cur = n;
    const seen = new Set<string>();
    for (let hop = 0; hop <= MAX_REF_HOPS; hop++) {
      if (!isObj(cur.v) || !own(cur.v, '$ref')) return cur;
      const ref = cur.v['$ref'];
      if (typeof ref !== 'string') {
        this.warn(cur.ptr, `$ref is ${kindOf(ref)}, not a string: skipped`);
        return null;
      }
      const hash = ref.indexOf('#');
      const filePart = hash < 0 ? ref : ref.slice(0, hash);
      const frag = hash < 0 ? '' : ref.slice(hash + 1);
      let ctx = cur.ctx;
      if (filePart !== '') {
        if (/^[a-z][a-z0-9+.-]*:/i.test(filePart) || filePart.startsWith('//')) {
          this.warn(cur.ptr, `remote $ref ${ref} is not fetched: skipped`);
          return null;
        }
        if (isAbsolute(filePart)) {
          this.warn(cur.ptr, `absolute file $ref ${ref} is not followed (relative references only): skipped`);
          return null;
        }
        let decoded = filePart;
        try {
          decoded = decodeURI(filePart);
        } catch {
          // keep the raw reference
        }
        const f = this.file(decoded, cur.ctx, cur.ptr);
        if (f === null) return null;
        ctx = f;
      }
      const key = `${ctx.label}#${frag}`;
      if (seen.has(key)) {
        this.warn(n.ptr, `circular $ref ${ref}: skipped`);
        return null;
      }
      seen.add(key);
      if (frag !== '' && !frag.startsWith('/')) {
        this.warn(cur.ptr, `$ref ${ref}: fragment is not a JSON pointer: skipped`);
        return null;
      }
      let v: unknown = ctx.root;
      for (const raw of frag === '' ? [] : frag.slice(1).split('/')) {
        let part = raw;
        try {
          part = decodeURIComponent(raw);
        } catch {
          // a literal '%' in the key
        }
        part = part.replace(/~1/g, '/').replace(/~0/g, '~');
        if (isObj(v) && own(v, part)) v = v[part];
        else if (Array.isArray(v) && /^\d+$/.test(part) && Number(part) < v.length) v = v[Number(part)];
        else {
          this.warn(cur.ptr, `unresolvable $ref ${ref}: skipped`);
          return null;
        }
      }
      cur = { v, ctx, ptr: `${ctx.label}#${frag}` };
    }
    this.warn(n.ptr, `$ref chain longer than ${MAX_REF_HOPS}: skipped`);
    return null;
  }

  /** An object, or undefined (absent silently; anything else with a warning). */
  obj(n: Node, what: string): Obj | undefined {
    if (n.v === undefined) return undefined;
    if (isObj(n.v)) return n.v;
    this.warn(n.ptr, `${kindOf(n.v)} where ${what} object is expected: ignored`);
    return undefined;
  }

  /** Elements of a list ([] when absent); null and scalars warned, an object's values used with a warning. */
  list(n: Node, what: string): Node[] {
    if (n.v === undefined) return [];
    if (Array.isArray(n.v)) return n.v.map((_, i) => this.child(n, i));
    if (isObj(n.v)) {
      this.warn(n.ptr, `an object where a list of ${what} is expected: its values are used`);
      return Object.keys(n.v).map((k) => this.child(n, k));
    }
    this.warn(n.ptr, `${kindOf(n.v)} where a list of ${what} is expected: ignored`);
    return [];
  }

  str(n: Node, what: string): string | undefined {
    const v = n.v;
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') {
      this.warn(n.ptr, `${what} is a ${typeof v} (${String(v)}), expected a string: used as "${String(v)}"`);
      return String(v);
    }
    this.warn(n.ptr, `${what} is ${kindOf(v)}, expected a string: ignored`);
    return undefined;
  }

  bool(n: Node, what: string): boolean | undefined {
    const v = n.v;
    if (v === undefined || typeof v === 'boolean') return v;
    const w = typeof v === 'string' || typeof v === 'number' ? BOOL_WORDS[String(v).trim().toLowerCase()] : undefined;
    if (w !== undefined) {
      this.warn(n.ptr, `${what} is ${kindOf(v)} (${String(v)}), expected a boolean: read as ${String(w)}`);
      return w;
    }
    this.warn(n.ptr, `${what} is ${kindOf(v)}, expected a boolean: ignored`);
    return undefined;
  }
}

/** Read and parse a spec file; the spec name is the file's base name. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new SpecError(basename(path), `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseSpec(decodeText(buf), basename(path), dirname(path));
}

/** Lower-case host, trailing dot and default ports (80, 443) removed: the form hosts are compared in. */
export function normHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.endsWith(':80') || h.endsWith(':443')) h = h.slice(0, h.lastIndexOf(':'));
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** '' for root, else '/a/b' (leading slash, no trailing slash). */
function normBase(p: string): string {
  const segs = p.split('/').filter((s) => s !== '');
  return segs.length ? '/' + segs.join('/') : '';
}

/**
 * Optional version base. Some APIs put only the API version in their base path (Docker Engine:
 * basePath /v1.41) and also answer the unversioned path as "the current version" (`/_ping`,
 * `/containers/json`, what the docker CLI sends first). Rule: a base path whose every segment is a
 * version (v1, v1.41, V3beta, 2.0; dates such as Twilio's /2010-04-01 and mount points such as
 * /api/v3 do not qualify) yields a second, versionless path per operation, and the analysis matches
 * and seeds it on a host only after that host served the versioned form (a path starting with the
 * base). Risk: an older *unversioned* API on the same host whose paths mirror the documented ones is
 * reported as documented instead of shadow; the endpoint's explain line names the rule so a reader
 * can tell. The gate keeps host-less specs (like Docker's) from claiming paths of unrelated hosts.
 */
const VERSION_SEG = /^(v\d+([._]\d+)*([a-z]+\d*)?|\d+\.\d+(\.\d+)?)$/i;

export function isVersionOnlyBase(base: string): boolean {
  const segs = base.split('/').filter((s) => s !== '');
  return segs.length > 0 && segs.every((s) => VERSION_SEG.test(s));
}

function joinPath(base: string, path: string): string {
  const p = normBase(path);
  const j = base + p;
  return j === '' ? '/' : j;
}

interface ServerVar {
  def: string | undefined;
  values: string[];
}
interface Servers {
  hosts: string[];
  bases: string[];
}

const VAR_RE = /\{([^{}]*)\}/g;

/**
 * One server URL → (host, base) pairs. Variables with an `enum` are expanded (bounded); a variable
 * without one stays a template: inside a host label it makes a host pattern, inside a path segment a
 * path template (`/v{version}`); a whole path segment takes its default when it has one. A host that
 * is only variables (`{host}:{port}`), or a relative URL, applies to any host (null).
 */
function expandServer(
  url: string,
  vars: Map<string, ServerVar>,
  warn: (m: string) => void,
): { host: string | null; base: string }[] {
  const used = new Set<string>();
  for (const x of url.matchAll(VAR_RE)) used.add(x[1] ?? '');
  for (const v of used)
    if (!vars.has(v)) warn(`server variable {${v}} is not declared in "variables": kept as a template`);
  const enumVars = [...used].filter((v) => (vars.get(v)?.values.length ?? 0) > 0).sort();
  let combos: Map<string, string>[] = [new Map()];
  for (const v of enumVars) {
    const vals = vars.get(v)?.values ?? [];
    if (combos.length * vals.length > MAX_SERVER_EXPANSION) {
      warn(`server variables expand to more than ${MAX_SERVER_EXPANSION} URLs: defaults used for the rest`);
      const d = vars.get(v)?.def ?? vals[0] ?? '';
      for (const c of combos) c.set(v, d);
      continue;
    }
    combos = combos.flatMap((c) => vals.map((x) => new Map([...c, [v, x]])));
  }
  const out: { host: string | null; base: string }[] = [];
  for (const c of combos) {
    // Enum values are substituted, and so is a default that spans URL parts (`https://host{basePath}`
    // with default `/v1`); other variables stay `{name}` templates.
    const u = url.trim().replace(VAR_RE, (all, v: string) => {
      const got = c.get(v);
      if (got !== undefined) return got;
      const d = vars.get(v)?.def;
      return d !== undefined && /[/:]/.test(d) ? d : all;
    });
    let rest: string;
    let authority: string | null = null;
    const m = /^(?:[^:/?#]+:)?\/\/([^/?#]*)([^?#]*)/.exec(u);
    if (m) {
      authority = (m[1] ?? '').replace(/^[^@]*@/, '');
      rest = m[2] ?? '';
    } else {
      rest = u.split(/[?#]/)[0] ?? '';
      const first = rest.split('/')[0] ?? '';
      if (!rest.startsWith('/') && /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?$/i.test(first)) {
        warn(`server url "${url}" has no scheme: read as host ${first}`);
        authority = first;
        rest = rest.slice(first.length);
      }
    }
    let host: string | null = null;
    if (authority !== null && authority !== '') {
      // A port variable: hosts are compared with and without port, so the host part is enough.
      const a = authority.replace(/:\{[^{}]*\}$/, (all) => {
        const d = vars.get(all.slice(2, -1))?.def;
        return d !== undefined && /^\d+$/.test(d) ? `:${d}` : '';
      });
      const literal = a.replace(/:\d+$/, '').replace(VAR_RE, '').replace(/[.:-]/g, '');
      host = /[a-z0-9]/i.test(literal) ? normHost(a) : null;
    }
    const segs = rest
      .split('/')
      .filter((s) => s !== '')
      .map((s) => {
        const whole = /^\{([^{}]*)\}$/.exec(s);
        const d = whole ? vars.get(whole[1] ?? '')?.def : undefined;
        return d !== undefined ? normBase(d).slice(1) : s;
      })
      .filter((s) => s !== '');
    out.push({ host, base: segs.length ? '/' + segs.join('/') : '' });
  }
  return out;
}

/** Swagger 2 `host`: a host[:port]; sloppy values carry a scheme or a path, which are split off. */
function swaggerHost(host: string, warn: (m: string) => void): { host: string; extraBase: string } {
  let h = host.trim();
  let extraBase = '';
  const m = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/i.exec(h);
  if (m) {
    warn(`host "${host}" holds a scheme: only the host is used`);
    h = m[1] ?? '';
  }
  const slash = h.indexOf('/');
  if (slash >= 0) {
    warn(`host "${host}" holds a path: it is prefixed to basePath`);
    extraBase = h.slice(slash);
    h = h.slice(0, slash);
  }
  return { host: normHost(h), extraBase };
}

const SCHEME_TYPES: Record<string, string> = {
  apikey: 'apiKey',
  http: 'http',
  oauth2: 'oauth2',
  openidconnect: 'openIdConnect',
  basic: 'basic',
  mutualtls: 'mutualTLS',
};
const PARAM_IN_3 = new Set(['query', 'header', 'path', 'cookie', 'querystring']);
const PARAM_IN_2 = new Set(['query', 'header', 'path', 'formdata', 'body']);

type Format = LoadedSpec['format'];

/** The document's format, or a one-line reason it is not an API description. */
function detectFormat(doc: Obj, L: Loader): Format | string {
  const sw = doc['swagger'];
  const oa = doc['openapi'];
  if (sw !== undefined && sw !== null) {
    const v = typeof sw === 'number' ? (Number.isInteger(sw) ? `${sw}.0` : String(sw)) : String(sw);
    if (typeof sw !== 'string') L.warn('#/swagger', `swagger is a ${typeof sw} (${String(sw)}), expected "2.0"`);
    if (/^1(\.|$)/.test(v) || doc['swaggerVersion'] !== undefined)
      return `Swagger ${v} is not supported (2.0 and OpenAPI 3.x are)`;
    if (!/^2\.0(\.|$)/.test(v)) L.warn('#/swagger', `unknown swagger version ${v}: read as 2.0`);
    return 'swagger-2.0';
  }
  if (oa !== undefined && oa !== null) {
    // Unquoted `openapi: 3.0` arrives as the number 3; `3.1` as 3.1.
    const v = typeof oa === 'number' ? (Number.isInteger(oa) ? `${oa}.0` : String(oa)) : String(oa).trim();
    if (typeof oa !== 'string')
      L.warn('#/openapi', `openapi is a ${typeof oa} (${String(oa)}), expected a string like "3.0.3"`);
    if (/^3\.0(\.|$)/.test(v)) return 'openapi-3.0';
    if (/^3\.1(\.|$)/.test(v)) return 'openapi-3.1';
    if (/^3\.2(\.|$)/.test(v)) return 'openapi-3.2';
    if (/^3(\.|$)/.test(v)) {
      L.warn('#/openapi', `unknown OpenAPI version ${v}: read as 3.2`);
      return 'openapi-3.2';
    }
    if (/^2(\.|$)/.test(v)) {
      L.warn('#/openapi', `openapi ${v}: read as Swagger 2.0`);
      return 'swagger-2.0';
    }
    return `unsupported OpenAPI version ${v}`;
  }
  if (doc['asyncapi'] !== undefined) return 'an AsyncAPI document, not an HTTP API description';
  if (isObj(doc['paths'])) {
    const s2 = ['host', 'basePath', 'definitions', 'securityDefinitions', 'schemes'].some((k) => doc[k] !== undefined);
    L.warn('#', `no "openapi" or "swagger" version: read as ${s2 ? 'Swagger 2.0' : 'OpenAPI 3.0'} from its fields`);
    return s2 ? 'swagger-2.0' : 'openapi-3.0';
  }
  return 'not an API description (no "openapi", "swagger" or "paths" at the root)';
}

/** Parse a spec from text. `dir`: the spec's directory, for relative file references (none when omitted). */
export function parseSpec(text: string, name: string, dir?: string, opts: { prune?: boolean } = {}): LoadedSpec {
  const parsed = parseText(text, opts);
  if (parsed.error !== null) throw new SpecError(name, `not YAML/JSON: ${parsed.error}`);
  const raw = parsed.value;
  if (!isObj(raw)) throw new SpecError(name, `not an API description: the document is ${kindOf(raw)}`);
  const L = new Loader(dir ?? null);
  for (const w of parsed.warnings) L.warn('#', w);
  const fmt = detectFormat(raw, L);
  if (fmt !== 'swagger-2.0' && fmt !== 'openapi-3.0' && fmt !== 'openapi-3.1' && fmt !== 'openapi-3.2')
    throw new SpecError(name, fmt);
  const format: Format = fmt;
  const s2 = format === 'swagger-2.0';
  const root: Node = { v: raw, ctx: { root: raw, dir: dir ?? null, label: '' }, ptr: '#' };
  const at = (n: Node, k: string): Node => L.child(n, k);

  const info = L.obj(at(root, 'info'), 'an info');
  const infoN = at(root, 'info');
  const title = info ? L.str(at(infoN, 'title'), 'title') : undefined;
  const apiVersion = info ? L.str(at(infoN, 'version'), 'version') : undefined;

  // Servers of a node (document, path item, operation); null when none are declared (inherit).
  const serversOf = (n: Node): Servers | null => {
    const hosts = new Set<string>();
    const bases = new Set<string>();
    let anyHost = false;
    let count = 0;
    for (const sn0 of L.list(n, 'servers')) {
      const sn = L.deref(sn0);
      if (sn === null) continue;
      const s = L.obj(sn, 'a server');
      if (!s) continue;
      const url = L.str(at(sn, 'url'), 'server url');
      if (url === undefined) {
        L.warn(sn.ptr, 'server without url: skipped');
        continue;
      }
      const vars = new Map<string, ServerVar>();
      const vn = at(sn, 'variables');
      for (const [k] of Object.entries(L.obj(vn, 'a variables') ?? {})) {
        const one = at(vn, k);
        if (!L.obj(one, 'a server variable')) {
          vars.set(k, { def: undefined, values: [] });
          continue;
        }
        const def = L.str(at(one, 'default'), 'default');
        const values = L.list(at(one, 'enum'), 'values')
          .map((e) => L.str(e, 'enum value'))
          .filter((x): x is string => x !== undefined);
        vars.set(k, { def, values });
      }
      for (const p of expandServer(url, vars, (m) => L.warn(at(sn, 'url').ptr, m))) {
        count++;
        if (p.host === null) anyHost = true;
        else hosts.add(p.host);
        bases.add(p.base);
      }
    }
    if (count === 0) return null;
    return { hosts: anyHost ? [] : [...hosts].sort(), bases: [...bases].sort() };
  };

  let docServers: Servers;
  if (s2) {
    const hostStr = L.str(at(root, 'host'), 'host');
    const baseStr = L.str(at(root, 'basePath'), 'basePath') ?? '';
    const h = hostStr === undefined || hostStr.trim() === '' ? null : swaggerHost(hostStr, (m) => L.warn('#/host', m));
    const hosts =
      h === null ? [] : h.host.includes('{') && !/[a-z0-9]/i.test(h.host.replace(VAR_RE, '')) ? [] : [h.host];
    docServers = { hosts, bases: [normBase((h?.extraBase ?? '') + '/' + baseStr)] };
  } else {
    docServers = serversOf(at(root, 'servers')) ?? { hosts: [], bases: [''] };
  }

  // Security schemes.
  const schemes: Record<string, SpecSecurityScheme> = {};
  const schemesN = s2 ? at(root, 'securityDefinitions') : at(at(root, 'components'), 'securitySchemes');
  if (!s2) L.obj(at(root, 'components'), 'a components');
  const schemeMap = L.obj(schemesN, 'a security schemes') ?? {};
  for (const k of Object.keys(schemeMap).sort()) {
    const sn = L.deref(at(schemesN, k));
    if (sn === null) continue;
    const s = L.obj(sn, 'a security scheme');
    if (!s) continue;
    let type = L.str(at(sn, 'type'), 'type');
    if (type === undefined) {
      const guess =
        s['scheme'] !== undefined
          ? 'http'
          : s['in'] !== undefined && s['name'] !== undefined
            ? 'apiKey'
            : s['flows'] !== undefined || s['flow'] !== undefined
              ? 'oauth2'
              : s['openIdConnectUrl'] !== undefined
                ? 'openIdConnect'
                : 'unknown';
      L.warn(sn.ptr, `security scheme without "type": read as ${guess}`);
      type = guess;
    } else {
      const canon = SCHEME_TYPES[type.toLowerCase()];
      if (canon === undefined) L.warn(at(sn, 'type').ptr, `unknown security scheme type "${type}"`);
      else if (canon !== type) {
        L.warn(at(sn, 'type').ptr, `security scheme type "${type}" read as "${canon}"`);
        type = canon;
      }
    }
    schemes[k] = {
      type,
      scheme: L.str(at(sn, 'scheme'), 'scheme')?.toLowerCase() ?? null,
      in: L.str(at(sn, 'in'), 'in')?.toLowerCase() ?? null,
      name: L.str(at(sn, 'name'), 'name') ?? null,
    };
  }

  // Security requirements: alternatives, each a sorted list of scheme names; undefined = not declared.
  const security = (n: Node): string[][] | undefined => {
    if (n.v === undefined) return undefined;
    if (n.v === null) {
      L.warn(n.ptr, 'security is null: ignored');
      return undefined;
    }
    let alts: Node[];
    if (isObj(n.v)) {
      L.warn(n.ptr, 'security is one requirement object, expected a list: read as a list of one');
      alts = [n];
    } else alts = L.list(n, 'security requirements');
    const out: string[][] = [];
    for (const an of alts) {
      const a = L.obj(an, 'a security requirement');
      if (!a) continue;
      const names: string[] = [];
      for (const [k, scopes] of Object.entries(a)) {
        if (scopes === null) L.warn(at(an, k).ptr, 'scopes are null, expected a list: read as []');
        else if (!Array.isArray(scopes))
          L.warn(at(an, k).ptr, `scopes are ${kindOf(scopes)}, expected a list: ignored`);
        if (!own(schemes, k)) L.warn(at(an, k).ptr, `security requirement names undeclared scheme "${k}"`);
        names.push(k);
      }
      out.push(names.sort());
    }
    // `security: []` states that no security applies (OpenAPI 3 "Security Requirement Object"):
    // explicitly anonymous, unlike an absent field.
    return out.length === 0 && Array.isArray(n.v) ? [[]] : out;
  };
  const docSecurity = security(at(root, 'security')) ?? [];

  const params = (n: Node, template: string): { name: string; in: string; node: Node }[] => {
    const out: { name: string; in: string; node: Node }[] = [];
    for (const pn0 of L.list(n, 'parameters')) {
      const pn = L.deref(pn0);
      if (pn === null) continue;
      if (!L.obj(pn, 'a parameter')) continue;
      const name = L.str(at(pn, 'name'), 'parameter name');
      if (name === undefined) {
        L.warn(pn.ptr, 'parameter without "name": skipped');
        continue;
      }
      let where = L.str(at(pn, 'in'), 'parameter "in"')?.toLowerCase();
      if (where === undefined) {
        where = template.includes(`{${name}}`) ? 'path' : 'query';
        L.warn(pn.ptr, `parameter "${name}" without "in": read as ${where}`);
      } else if (!(s2 ? PARAM_IN_2 : PARAM_IN_3).has(where)) {
        L.warn(
          at(pn, 'in').ptr,
          `parameter "${name}" in "${where}" is not a ${s2 ? 'Swagger 2.0' : 'OpenAPI 3'} location: skipped`,
        );
        continue;
      }
      out.push({ name, in: where, node: pn });
    }
    return out;
  };

  // Conformance contracts: read quietly (the index never needed these parts, so sloppiness in them
  // adds no warnings); every node is checked, nothing here throws.
  const strList = (v: unknown): string[] | null =>
    Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string').map((x) => (x.split(';')[0] ?? '').trim().toLowerCase())
      : null;
  const mediaOf = (contentN: Node): SpecMedia[] => {
    if (!isObj(contentN.v)) return [];
    const out: SpecMedia[] = [];
    for (const mt of Object.keys(contentN.v).sort()) {
      const mn = L.deref(at(contentN, mt));
      const schema = mn !== null && isObj(mn.v) && isObj(mn.v['schema']) ? at(mn, 'schema').ptr : null;
      // Parameters (`application/json; charset=utf-8`) do not select a different schema.
      out.push({ mediaType: (mt.split(';')[0] ?? '').trim().toLowerCase(), schema });
    }
    return out;
  };
  const contractOf = (opN: Node, ps: readonly { name: string; in: string; node: Node }[]): SpecContract => {
    L.quiet = true;
    try {
      const op = opN.v as Obj;
      let requestBody: SpecMedia[] | null = null;
      if (s2) {
        const consumes = strList(op['consumes']) ?? strList(raw['consumes']) ?? [];
        const body = ps.find((p) => p.in === 'body');
        if (body !== undefined) {
          const schema = isObj(body.node.v) && isObj(body.node.v['schema']) ? at(body.node, 'schema').ptr : null;
          const types = consumes.filter((t) => !/form/.test(t));
          requestBody = (types.length > 0 ? types : ['application/json']).map((mediaType) => ({ mediaType, schema }));
        } else if (ps.some((p) => p.in === 'formdata')) {
          const types = consumes.filter((t) => /form/.test(t));
          requestBody = (types.length > 0 ? types : ['application/x-www-form-urlencoded', 'multipart/form-data']).map(
            (mediaType) => ({ mediaType, schema: null }),
          );
        }
      } else if (op['requestBody'] !== undefined) {
        const rb = L.deref(at(opN, 'requestBody'));
        if (rb !== null && isObj(rb.v)) requestBody = mediaOf(at(rb, 'content'));
      }
      let responses: SpecResponse[] | null = null;
      const rn = at(opN, 'responses');
      if (isObj(rn.v)) {
        const produces = s2 ? (strList(op['produces']) ?? strList(raw['produces']) ?? ['application/json']) : [];
        const out: SpecResponse[] = [];
        for (const k of Object.keys(rn.v)) {
          const key = k.trim();
          const status = /^[1-5]\d\d$/.test(key)
            ? key
            : /^[1-5]xx$/i.test(key)
              ? key.toUpperCase()
              : key.toLowerCase() === 'default'
                ? 'default'
                : null;
          if (status === null) continue; // x- extensions, sloppy keys
          const r = L.deref(at(rn, k));
          let media: SpecMedia[] = [];
          if (r !== null && isObj(r.v)) {
            if (!s2) media = mediaOf(at(r, 'content'));
            else if (isObj(r.v['schema'])) {
              const schema = at(r, 'schema').ptr;
              media = (produces.length > 0 ? produces : ['application/json']).map((mediaType) => ({
                mediaType,
                schema,
              }));
            }
          }
          out.push({ status, media });
        }
        out.sort((a, b) => (a.status < b.status ? -1 : a.status > b.status ? 1 : 0));
        if (out.length > 0) responses = out;
      }
      const parameters = ps
        .map((p) => ({ name: p.name, in: p.in }))
        .sort((a, b) => (a.in !== b.in ? (a.in < b.in ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { parameters, requestBody, responses };
    } finally {
      L.quiet = false;
    }
  };

  const methods: readonly string[] = format === 'openapi-3.2' ? HTTP_METHODS_32 : HTTP_METHODS;
  const operations: SpecOperation[] = [];
  const seen = new Set<string>();
  const pathsN = at(root, 'paths');
  if (raw['paths'] === undefined && (format === 'swagger-2.0' || format === 'openapi-3.0'))
    L.warn('#', 'no "paths" object: no operations');
  const pathMap = L.obj(pathsN, 'a paths') ?? {};
  let pathCount = 0;
  for (const key of Object.keys(pathMap)) {
    if (/^x-/i.test(key)) continue; // specification extensions
    let path = key.trim();
    const itemN0 = at(pathsN, key);
    if (!path.startsWith('/')) {
      L.warn(itemN0.ptr, `path "${key}" does not start with "/": read as "/${path}"`);
      path = '/' + path;
    }
    const q = path.search(/[?#]/);
    const cut = q >= 0;
    if (cut) {
      L.warn(
        itemN0.ptr,
        `path "${key}" holds a query or fragment: operations that differ only there are matched as one`,
      );
      path = path.slice(0, q) || '/';
    }
    pathCount++;
    const itemN = L.deref(itemN0);
    if (itemN === null) continue;
    const item = L.obj(itemN, 'a path item');
    if (!item) continue;
    const itemParams = params(at(itemN, 'parameters'), path);
    const itemServers = s2 ? null : serversOf(at(itemN, 'servers'));
    const opKeys: [string, Node][] = [];
    for (const k of Object.keys(item)) {
      const lower = k.toLowerCase();
      if (!methods.includes(lower)) continue;
      if (k !== lower) L.warn(at(itemN, k).ptr, `method "${k}" read as "${lower}"`);
      opKeys.push([lower, at(itemN, k)]);
    }
    if (format === 'openapi-3.2') {
      const addN = at(itemN, 'additionalOperations');
      for (const k of Object.keys(L.obj(addN, 'an additionalOperations') ?? {})) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) L.warn(at(addN, k).ptr, `"${k}" is not an HTTP method: skipped`);
        else opKeys.push([k.toLowerCase(), at(addN, k)]);
      }
    }
    for (const [m, opN0] of opKeys) {
      const opN = L.deref(opN0);
      if (opN === null) continue;
      const op = L.obj(opN, 'an operation');
      if (!op) continue;
      if (op['responses'] === undefined && (format === 'swagger-2.0' || format === 'openapi-3.0'))
        L.warn(opN.ptr, 'operation without "responses"');
      // Operation parameters override path-item ones with the same (name, in).
      const merged = new Map<string, { name: string; in: string; node: Node }>();
      for (const p of itemParams) merged.set(`${p.in}:${p.name}`, p);
      for (const p of params(at(opN, 'parameters'), path)) merged.set(`${p.in}:${p.name}`, p);
      const opServers = (s2 ? null : serversOf(at(opN, 'servers'))) ?? itemServers ?? docServers;
      const method = m.toUpperCase();
      const sig = `${method} ${path} ${opServers.hosts.join(',')} ${opServers.bases.join(',')}`;
      if (seen.has(sig)) {
        // Keys that differ only after '?' or '#' (APIs.guru's AWS `/#X-Amz-Target=...`) are one
        // operation for traffic matching; that cut was warned once per key above.
        if (!cut) L.warn(opN.ptr, `${method} ${path} is declared twice: the first is used`);
        continue;
      }
      seen.add(sig);
      const pathParams = [...path.matchAll(VAR_RE)].map((x) => x[1] ?? '');
      const fullPaths = opServers.bases.map((b) => joinPath(b, path));
      const versionBases = opServers.bases.filter(isVersionOnlyBase);
      const bare = joinPath('', path);
      const bareOk = versionBases.length > 0 && bare !== '/' && !/^\/\{/.test(bare) && !fullPaths.includes(bare);
      const opSec = security(at(opN, 'security'));
      const operationId = L.str(at(opN, 'operationId'), 'operationId');
      operations.push({
        method,
        path,
        fullPaths,
        versionBases,
        versionlessPaths: bareOk ? [bare] : [],
        hosts: opServers.hosts,
        pathParams,
        queryParams: [...new Set([...merged.values()].filter((p) => p.in === 'query').map((p) => p.name))].sort(),
        deprecated: L.bool(at(opN, 'deprecated'), 'deprecated') === true,
        security: opSec ?? docSecurity,
        operationId: operationId ?? null,
        contract: contractOf(opN, [...merged.values()]),
      });
    }
  }
  L.quiet = true;
  if (!parsed.pruned) L.loadReferencedFiles(root.ctx);
  L.quiet = false;
  operations.sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0,
  );
  return {
    name,
    format,
    title: title ?? name,
    apiVersion: apiVersion ?? '',
    hosts: docServers.hosts,
    basePaths: docServers.bases,
    pathCount,
    operations,
    securitySchemes: schemes,
    warnings: L.warnings,
    documents: { ...L.documents(), '': raw },
    schemasPruned: parsed.pruned === true,
    source: parsed.pruned === true ? { text, dir: dir ?? null } : null,
    warningCount: L.warningCount,
  };
}
