// Load an OpenAPI 3.0/3.1 or Swagger 2.0 document (YAML or JSON) into a LoadedSpec.
//
// Contract: user files are a boundary, so the parts we use are validated with zod and a broken file
// fails with a SpecError naming the file and the offending location. Only local references
// (`#/components/...`, `#/definitions/...`, `#/parameters/...`, `#/paths/...`) are resolved; remote
// references are left unresolved (the referencing parameter is skipped). Resolution is bounded
// (MAX_REF_HOPS per reference) and safe on cycles (a chain that revisits a pointer stops).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HTTP_METHODS } from './types.js';
import type { LoadedSpec, SpecOperation, SpecSecurityScheme } from './types.js';

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

const MAX_REF_HOPS = 16;

const ServerVariable = z.looseObject({
  default: z.union([z.string(), z.number()]).optional(),
  enum: z.array(z.union([z.string(), z.number()])).optional(),
});
const Server = z.looseObject({ url: z.string(), variables: z.record(z.string(), ServerVariable).optional() });
const SecurityRequirement = z.record(z.string(), z.array(z.string()));
const Parameter = z.looseObject({ name: z.string(), in: z.string() });
const RefObject = z.looseObject({ $ref: z.string() });
const Operation = z.looseObject({
  operationId: z.string().optional(),
  deprecated: z.boolean().optional(),
  parameters: z.array(z.unknown()).optional(),
  security: z.array(SecurityRequirement).optional(),
  servers: z.array(Server).optional(),
});
const PathItem = z.looseObject({ parameters: z.array(z.unknown()).optional(), servers: z.array(Server).optional() });
const SecurityScheme = z.looseObject({
  type: z.string(),
  scheme: z.string().optional(),
  in: z.string().optional(),
  name: z.string().optional(),
});
const Info = z.looseObject({ title: z.string().optional(), version: z.union([z.string(), z.number()]).optional() });
const Document = z.looseObject({
  swagger: z.union([z.string(), z.number()]).optional(),
  openapi: z.string().optional(),
  info: Info.optional(),
  host: z.string().optional(),
  basePath: z.string().optional(),
  servers: z.array(Server).optional(),
  paths: z.record(z.string(), z.unknown()).optional(),
  security: z.array(SecurityRequirement).optional(),
  securityDefinitions: z.record(z.string(), z.unknown()).optional(),
  components: z.looseObject({ securitySchemes: z.record(z.string(), z.unknown()).optional() }).optional(),
});

function issueText(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}` : 'invalid';
}

/** Read and parse a spec file; the spec name is the file's base name. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SpecError(basename(path), `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseSpec(text, basename(path));
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

/** Split a server URL (after variable substitution) into host (null = any) and base path. */
function parseServer(s: z.infer<typeof Server>): { host: string | null; base: string } {
  let url = s.url.replace(/\{([^}]+)\}/g, (m, v: string) => {
    const def = s.variables?.[v]?.default ?? s.variables?.[v]?.enum?.[0];
    return def === undefined ? m : String(def);
  });
  if (url.startsWith('//')) url = 'http:' + url;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)/i.exec(url);
  if (!m) return { host: null, base: normBase(url.split(/[?#]/)[0] ?? '') };
  const authority = (m[1] ?? '').replace(/^[^@]*@/, '');
  // A host still holding a variable, or the placeholder hosts tools write, means "any host".
  const host = authority === '' || authority.includes('{') ? null : normHost(authority);
  return { host, base: normBase(m[2] ?? '') };
}

function serversOf(list: z.infer<typeof Server>[] | undefined): { hosts: string[]; bases: string[] } | null {
  if (!list || list.length === 0) return null;
  const hosts = new Set<string>();
  const bases = new Set<string>();
  let anyHost = false;
  for (const s of list) {
    const p = parseServer(s);
    if (p.host === null) anyHost = true;
    else hosts.add(p.host);
    bases.add(p.base);
  }
  return { hosts: anyHost ? [] : [...hosts].sort(), bases: [...bases].sort() };
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

export function parseSpec(text: string, name: string): LoadedSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 1000, prettyErrors: false });
  } catch (e) {
    throw new SpecError(name, `not YAML/JSON: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  const docR = Document.safeParse(raw);
  if (!docR.success) throw new SpecError(name, `not an OpenAPI document (${issueText(docR.error)})`);
  const doc = docR.data;
  let format: LoadedSpec['format'];
  if (doc.swagger !== undefined) {
    if (String(doc.swagger) !== '2.0') throw new SpecError(name, `unsupported swagger version ${String(doc.swagger)}`);
    format = 'swagger-2.0';
  } else if (doc.openapi !== undefined && /^3\.0(\.|$)/.test(doc.openapi)) format = 'openapi-3.0';
  else if (doc.openapi !== undefined && /^3\.1(\.|$)/.test(doc.openapi)) format = 'openapi-3.1';
  else throw new SpecError(name, `missing or unsupported "openapi"/"swagger" version (${doc.openapi ?? 'none'})`);
  if (doc.paths === undefined && format !== 'openapi-3.1') throw new SpecError(name, 'no "paths" object');

  /** Follow local $refs (bounded, cycle-safe); null when unresolvable. */
  const deref = (v: unknown): unknown => {
    let cur = v;
    const seen = new Set<string>();
    for (let hop = 0; hop < MAX_REF_HOPS; hop++) {
      const r = RefObject.safeParse(cur);
      if (!r.success) return cur;
      const ref = r.data.$ref;
      if (!ref.startsWith('#/') || seen.has(ref)) return null;
      seen.add(ref);
      let node: unknown = raw;
      for (const part of ref.slice(2).split('/')) {
        const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
        if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return null;
        node = (node as Record<string, unknown>)[key];
      }
      cur = node;
    }
    return null;
  };

  // Document-level hosts and base paths.
  let docServers: { hosts: string[]; bases: string[] };
  if (format === 'swagger-2.0') {
    docServers = { hosts: doc.host ? [normHost(doc.host)] : [], bases: [normBase(doc.basePath ?? '')] };
  } else {
    docServers = serversOf(doc.servers) ?? { hosts: [], bases: [''] };
  }

  const schemes: Record<string, SpecSecurityScheme> = {};
  const schemeSrc = format === 'swagger-2.0' ? doc.securityDefinitions : doc.components?.securitySchemes;
  for (const [k, v] of Object.entries(schemeSrc ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const s = SecurityScheme.safeParse(deref(v));
    if (!s.success) throw new SpecError(name, `security scheme ${k}: ${issueText(s.error)}`);
    schemes[k] = {
      type: s.data.type,
      scheme: s.data.scheme?.toLowerCase() ?? null,
      in: s.data.in ?? null,
      name: s.data.name ?? null,
    };
  }
  const normSecurity = (req: z.infer<typeof SecurityRequirement>[] | undefined): string[][] | undefined =>
    req?.map((alt) => Object.keys(alt).sort());
  const docSecurity = normSecurity(doc.security) ?? [];

  const params = (list: unknown[] | undefined, where: string): { name: string; in: string }[] => {
    const out: { name: string; in: string }[] = [];
    for (const p of list ?? []) {
      const d = deref(p);
      if (d === null) continue; // remote or broken $ref: skipped, not fatal
      const r = Parameter.safeParse(d);
      if (!r.success) throw new SpecError(name, `${where} parameter: ${issueText(r.error)}`);
      out.push({ name: r.data.name, in: r.data.in });
    }
    return out;
  };

  const operations: SpecOperation[] = [];
  const pathKeys = Object.keys(doc.paths ?? {});
  for (const path of pathKeys) {
    if (!path.startsWith('/')) continue; // extensions (x-...) and junk keys
    const itemRaw = deref((doc.paths ?? {})[path]);
    if (itemRaw === null || typeof itemRaw !== 'object') continue;
    const itemR = PathItem.safeParse(itemRaw);
    if (!itemR.success) throw new SpecError(name, `paths.${path}: ${issueText(itemR.error)}`);
    const item = itemR.data as Record<string, unknown> & z.infer<typeof PathItem>;
    const itemParams = params(item.parameters, `paths.${path}`);
    const itemServers = format === 'swagger-2.0' ? null : serversOf(item.servers);
    for (const m of HTTP_METHODS) {
      if (item[m] === undefined) continue;
      if (m === 'trace' && format === 'swagger-2.0') continue;
      const opR = Operation.safeParse(deref(item[m]));
      if (!opR.success) throw new SpecError(name, `paths.${path}.${m}: ${issueText(opR.error)}`);
      const op = opR.data;
      // Operation parameters override path-item ones with the same (name, in).
      const merged = new Map<string, { name: string; in: string }>();
      for (const p of itemParams) merged.set(`${p.in}:${p.name}`, p);
      for (const p of params(op.parameters, `paths.${path}.${m}`)) merged.set(`${p.in}:${p.name}`, p);
      const opServers = (format === 'swagger-2.0' ? null : serversOf(op.servers)) ?? itemServers ?? docServers;
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((x) => x[1] ?? '');
      const fullPaths = opServers.bases.map((b) => joinPath(b, path));
      const versionBases = opServers.bases.filter(isVersionOnlyBase);
      const bare = joinPath('', path);
      const bareOk = versionBases.length > 0 && bare !== '/' && !/^\/\{/.test(bare) && !fullPaths.includes(bare);
      operations.push({
        method: m.toUpperCase(),
        path,
        fullPaths,
        versionBases,
        versionlessPaths: bareOk ? [bare] : [],
        hosts: opServers.hosts,
        pathParams,
        queryParams: [...merged.values()]
          .filter((p) => p.in === 'query')
          .map((p) => p.name)
          .sort(),
        deprecated: op.deprecated === true,
        security: normSecurity(op.security) ?? docSecurity,
        operationId: op.operationId ?? null,
      });
    }
  }
  operations.sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.method < b.method ? -1 : a.method > b.method ? 1 : 0,
  );
  return {
    name,
    format,
    title: doc.info?.title ?? name,
    apiVersion: doc.info?.version === undefined ? '' : String(doc.info.version),
    hosts: docServers.hosts,
    basePaths: docServers.bases,
    pathCount: pathKeys.filter((p) => p.startsWith('/')).length,
    operations,
    securitySchemes: schemes,
  };
}
