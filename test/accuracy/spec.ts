// A deliberately small OpenAPI 3.x / Swagger 2.0 reader for the accuracy harness: operations, their
// parameters, request and success-response schemas, with local `$ref`s resolved on demand.
// It is independent of apitap's own spec analyzer on purpose: the harness must not share its bugs.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonObject;
}

export interface Operation {
  host: string;
  /** servers[0] path (OAS3) or basePath (Swagger 2), '' when none; the server also serves without it. */
  prefix: string;
  method: string; // upper case
  /** the spec's path template, e.g. /pet/{petId} */
  path: string;
  deprecated: boolean;
  params: Param[];
  requestBody: { contentType: string; schema: JsonObject } | undefined;
  response: { status: number; contentType: string | undefined; schema: JsonObject | undefined };
  doc: SpecDoc;
}

export interface SpecDoc {
  file: string;
  root: JsonObject;
  host: string;
  prefix: string;
  ops: Operation[];
}

function isObj(x: Json | undefined): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Follows a chain of local `$ref`s (JSON pointer into the same document). Unknown refs give {}. */
export function deref(root: JsonObject, node: Json | undefined): JsonObject {
  let cur: Json | undefined = node;
  for (let hops = 0; hops < 32 && isObj(cur) && typeof cur['$ref'] === 'string'; hops++) {
    const ref = cur['$ref'];
    if (!ref.startsWith('#/')) return {};
    let t: Json | undefined = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      t = isObj(t) ? t[key] : undefined;
    }
    cur = t;
  }
  return isObj(cur) ? cur : {};
}

/** Host for traffic: the spec's own server host, else a made-up `<spec dir>.apitap.test`. */
function hostAndPrefix(root: JsonObject, file: string): { host: string; prefix: string } {
  const servers = root['servers'];
  if (Array.isArray(servers) && isObj(servers[0]) && typeof servers[0]['url'] === 'string') {
    // Server variables take their defaults (`https://{region}-jobs.example/v{version}`).
    const vars = isObj(servers[0]['variables']) ? servers[0]['variables'] : {};
    const url = servers[0]['url'].replace(/\{([^}]+)\}/g, (m, name: string) => {
      const v = vars[name];
      return isObj(v) && v['default'] !== undefined ? String(v['default']) : m;
    });
    try {
      const u = new URL(url);
      return { host: u.host, prefix: u.pathname.replace(/\/+$/, '') };
    } catch {
      /* relative server url: fall through */
    }
  }
  const made = `${basename(dirname(file))
    .replace(/[^a-z0-9-]/gi, '-')
    .toLowerCase()}.apitap.test`;
  const host = typeof root['host'] === 'string' ? root['host'] : made;
  const bp = typeof root['basePath'] === 'string' ? root['basePath'].replace(/\/+$/, '') : '';
  return { host, prefix: bp };
}

function pickJson(content: Json | undefined): { contentType: string; schema: JsonObject } | undefined {
  if (!isObj(content)) return undefined;
  const types = Object.keys(content);
  const ct =
    types.find((t) => t.includes('json')) ?? types.find((t) => t === 'application/x-www-form-urlencoded') ?? types[0];
  if (ct === undefined) return undefined;
  const media = content[ct];
  return { contentType: ct, schema: isObj(media) && isObj(media['schema']) ? media['schema'] : {} };
}

export function loadSpec(file: string, hostOverride?: string): SpecDoc {
  const text = readFileSync(file, 'utf8');
  const root = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: -1 })) as JsonObject;
  const hp = hostAndPrefix(root, file);
  const doc: SpecDoc = { file, root, host: hostOverride ?? hp.host, prefix: hp.prefix, ops: [] };
  const swagger2 = typeof root['swagger'] === 'string';
  const paths = isObj(root['paths']) ? root['paths'] : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(root, rawItem);
    const shared = Array.isArray(item['parameters']) ? item['parameters'] : [];
    for (const m of METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      const params: Param[] = [];
      let body: Operation['requestBody'];
      const own = Array.isArray(op['parameters']) ? op['parameters'] : [];
      const byKey = new Map<string, JsonObject>();
      for (const p of [...shared, ...own]) {
        const pp = deref(root, p);
        byKey.set(`${String(pp['in'])}:${String(pp['name'])}`, pp);
      }
      const formProps: JsonObject = {};
      for (const pp of byKey.values()) {
        const where = pp['in'];
        const name = String(pp['name']);
        if (swagger2 && where === 'body') {
          body = { contentType: 'application/json', schema: deref(root, pp['schema']) };
          continue;
        }
        if (swagger2 && where === 'formData') {
          formProps[name] = { type: pp['type'] ?? 'string' };
          continue;
        }
        if (where !== 'path' && where !== 'query' && where !== 'header' && where !== 'cookie') continue;
        // Swagger 2 keeps type/format/enum on the parameter itself.
        const schema = isObj(pp['schema'])
          ? deref(root, pp['schema'])
          : {
              type: pp['type'] ?? 'string',
              ...(pp['format'] !== undefined ? { format: pp['format'] } : {}),
              ...(pp['enum'] !== undefined ? { enum: pp['enum'] } : {}),
            };
        params.push({ name, in: where, required: pp['required'] === true || where === 'path', schema });
      }
      if (Object.keys(formProps).length > 0)
        body = { contentType: 'application/x-www-form-urlencoded', schema: { type: 'object', properties: formProps } };
      if (!swagger2 && op['requestBody'] !== undefined) body = pickJson(deref(root, op['requestBody'])['content']);

      const responses = isObj(op['responses']) ? op['responses'] : {};
      const ok = Object.keys(responses)
        .filter((k) => /^2\d\d$/.test(k))
        .sort()[0];
      let response: Operation['response'] = {
        status: ok === undefined ? 200 : Number(ok),
        contentType: undefined,
        schema: undefined,
      };
      if (ok !== undefined) {
        const r = deref(root, responses[ok]);
        if (swagger2) {
          const produces = Array.isArray(op['produces'])
            ? op['produces']
            : Array.isArray(root['produces'])
              ? root['produces']
              : [];
          const ct = typeof produces[0] === 'string' ? produces[0] : 'application/json';
          if (isObj(r['schema'])) response = { status: Number(ok), contentType: ct, schema: r['schema'] };
        } else {
          const j = pickJson(r['content']);
          if (j !== undefined) response = { status: Number(ok), contentType: j.contentType, schema: j.schema };
        }
      }
      doc.ops.push({
        host: doc.host,
        prefix: doc.prefix,
        method: m.toUpperCase(),
        path,
        deprecated: op['deprecated'] === true,
        params,
        requestBody: body,
        response,
        doc,
      });
    }
  }
  return doc;
}

/** Template shape used for every comparison: parameter names do not matter. */
export function shape(template: string): string {
  const s = template.replace(/\{[^}/]*\}/g, '{}').replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

export function opKey(host: string, method: string, template: string): string {
  return `${host.toLowerCase()} ${method.toUpperCase()} ${shape(template)}`;
}
