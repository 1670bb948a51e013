// Reconstruct an OpenAPI 3.1 document from the traffic inventory.
//
// Input is the public EndpointRecord list (so a stored inventory can be turned into a spec later):
// path parameters come from the template (types from the value classes recorded in `explain`),
// query parameters from queryParams, request/response JSON schemas from the observed field shapes
// ("response.body $.items[*].id:integer"), security schemes from the auth schemes seen. Output is a
// plain object with sorted keys where order matters, so serialising it twice is byte-identical.
import type { EndpointRecord } from '../../engine/contracts/inventory.js';

export interface OpenApiExtra {
  title?: string;
  version?: string;
  /** Leave out static assets, health checks and preflights (default true). */
  apiOnly?: boolean;
}

type Schema = Record<string, unknown>;

const SECURITY: Record<string, { name: string; scheme: Schema }> = {
  basic: { name: 'basicAuth', scheme: { type: 'http', scheme: 'basic' } },
  bearer: { name: 'bearerAuth', scheme: { type: 'http', scheme: 'bearer' } },
  jwt: { name: 'bearerJwt', scheme: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
  api_key_header: {
    name: 'apiKeyHeader',
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
      description: 'observed: an API key header (actual name not recorded)',
    },
  },
  api_key_query: {
    name: 'apiKeyQuery',
    scheme: { type: 'apiKey', in: 'query', name: 'api_key', description: 'observed: an API key query parameter' },
  },
  cookie: {
    name: 'cookieSession',
    scheme: { type: 'apiKey', in: 'cookie', name: 'session', description: 'observed: a session cookie' },
  },
  digest: { name: 'digestAuth', scheme: { type: 'http', scheme: 'digest' } },
};

const CLASS_SCHEMA: Record<string, Schema> = {
  integer: { type: 'integer' },
  uuid: { type: 'string', format: 'uuid' },
  date: { type: 'string', format: 'date' },
  email: { type: 'string', format: 'email' },
};

interface ShapeNode {
  types: Set<string>;
  props: Map<string, ShapeNode>;
  items: ShapeNode | null;
}
const shapeNode = (): ShapeNode => ({ types: new Set(), props: new Map(), items: null });

/** Parse "$.a.b[*].c" into steps: property names and '[*]'. */
function steps(path: string): string[] | null {
  if (!path.startsWith('$')) return null;
  const out: string[] = [];
  const re = /\.([A-Za-z_$][\w$]*)|\[\*\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const m = re.exec(path);
    if (!m) return null;
    if (m[1] !== undefined) out.push('.' + m[1]);
    else if (m[2] !== undefined) out.push('.' + (JSON.parse(m[2]) as string));
    else out.push('[*]');
  }
  return out;
}

function toSchema(n: ShapeNode): Schema {
  const types = [...n.types].filter((t) => t !== 'null').sort();
  const nullable = n.types.has('null');
  // integer ⊂ number: keep the wider one.
  const t = types.includes('number') ? types.filter((x) => x !== 'integer') : types;
  const s: Schema = {};
  if (t.length === 1) s['type'] = nullable ? [t[0], 'null'] : t[0];
  else if (t.length > 1) s['type'] = nullable ? [...t, 'null'] : t;
  else if (nullable) s['type'] = 'null';
  if (n.props.size > 0) {
    const props: Record<string, Schema> = {};
    for (const k of [...n.props.keys()].sort()) props[k] = toSchema(n.props.get(k) as ShapeNode);
    s['properties'] = props;
  }
  if (n.items) s['items'] = toSchema(n.items);
  return s;
}

function bodySchema(fields: readonly string[], side: 'request' | 'response'): Schema | null {
  const root = shapeNode();
  let any = false;
  for (const f of fields) {
    const m = /^(request|response)\.body (.+):([a-z]+)$/.exec(f);
    if (!m || m[1] !== side) continue;
    const st = steps(m[2] ?? '');
    if (!st) continue;
    let cur = root;
    for (const step of st) {
      if (step === '[*]') cur = cur.items ??= shapeNode();
      else {
        const k = step.slice(1);
        let c = cur.props.get(k);
        if (!c) {
          c = shapeNode();
          cur.props.set(k, c);
        }
        cur = c;
      }
    }
    cur.types.add(m[3] ?? 'string');
    any = true;
  }
  return any ? toSchema(root) : null;
}

/** Value classes of each path parameter, from explain lines "{name} at segment i: ... classes=integer:3,word:1". */
function paramClasses(explain: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of explain) {
    const m = /^\{([^}]+)\} at segment \d+: .*?classes=([a-z:0-9,]+)/.exec(line);
    if (m)
      out.set(
        m[1] ?? '',
        (m[2] ?? '').split(',').map((x) => x.split(':')[0] ?? ''),
      );
  }
  return out;
}

export function toOpenApi(endpoints: readonly EndpointRecord[], extra: OpenApiExtra = {}): Record<string, unknown> {
  const apiOnly = extra.apiOnly ?? true;
  const paths = new Map<string, Map<string, Schema>>();
  const hosts = new Set<string>();
  const usedSchemes = new Set<string>();
  const usedIds = new Set<string>();
  for (const e of endpoints) {
    if (apiOnly && e.category !== 'api') continue;
    // GraphQL operations are no HTTP paths of their own (`--graphql-sdl` writes them: graphql/sdl.ts).
    if (e.operation !== undefined) continue;
    const method = e.method.toLowerCase();
    if (!['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method)) continue;
    hosts.add(e.host);
    const classes = paramClasses(e.explain);
    const params: Schema[] = [];
    for (const m of e.path.matchAll(/\{([^}]+)\}/g)) {
      const name = m[1] ?? '';
      const cl = classes.get(name) ?? [];
      const schema = cl.length === 1 && CLASS_SCHEMA[cl[0] ?? ''] ? CLASS_SCHEMA[cl[0] ?? ''] : { type: 'string' };
      params.push({ name, in: 'path', required: true, schema });
    }
    for (const q of e.queryParams) params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
    const responses: Record<string, Schema> = {};
    const resSchema = bodySchema(e.fields, 'response');
    const resTypes = e.contentTypes.filter((c) => c.startsWith('response ')).map((c) => c.slice(9));
    for (const cls of Object.keys(e.statusClasses).sort()) {
      if (cls === 'none') continue;
      const code = cls.toUpperCase(); // "2XX" ranges are valid response keys (OAS 3.1 §4.8.16.2)
      const r: Schema = { description: `observed ${e.statusClasses[cls] ?? 0} times` };
      if (cls === '2xx' && resTypes.length > 0) {
        const content: Record<string, Schema> = {};
        for (const t of resTypes) content[t] = t.includes('json') && resSchema ? { schema: resSchema } : {};
        r['content'] = content;
      }
      responses[code] = r;
    }
    if (Object.keys(responses).length === 0) responses['default'] = { description: 'no response observed' };
    // operationId must be unique in the document (OAS 3.1 §4.8.10.1): suffix repeats with a counter.
    let opId = `${method}${e.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;
    if (usedIds.has(opId)) {
      let k = 2;
      while (usedIds.has(`${opId}${k}`)) k++;
      opId = `${opId}${k}`;
    }
    const op: Schema = {
      operationId: opId,
      summary: `${e.hits} requests observed ${e.firstSeen} .. ${e.lastSeen}`,
    };
    if (params.length > 0) op['parameters'] = params;
    const reqSchema = bodySchema(e.fields, 'request');
    const reqTypes = e.contentTypes.filter((c) => c.startsWith('request ')).map((c) => c.slice(8));
    if (e.protocol === 'websocket') {
      // A WebSocket endpoint (exchange/v1 "WebSocket"): the operation is the upgrade (GET → 101);
      // its messages are not a request body of the GET: their shapes go to an extension.
      op['x-apitap-websocket'] = {
        clientMessages: reqSchema ?? {},
        serverMessages: bodySchema(e.fields, 'response') ?? {},
      };
    } else if (reqTypes.length > 0) {
      const content: Record<string, Schema> = {};
      for (const t of reqTypes) content[t] = t.includes('json') && reqSchema ? { schema: reqSchema } : {};
      op['requestBody'] = { content };
    }
    op['responses'] = responses;
    const sec = e.auth.filter((a) => SECURITY[a]);
    if (sec.length > 0) {
      const reqs: Schema[] = sec.map((a) => ({ [SECURITY[a]?.name ?? a]: [] }));
      if (e.auth.includes('none')) reqs.push({});
      op['security'] = reqs;
      for (const a of sec) usedSchemes.add(a);
    }
    if (e.deprecated) op['deprecated'] = true;
    op['x-apitap'] = {
      host: e.host,
      category: e.category,
      documented: e.documented,
      pii: e.pii.map((p) => `${p.location} ${p.field}: ${p.kind}`),
    };
    let item = paths.get(e.path);
    if (!item) {
      item = new Map();
      paths.set(e.path, item);
    }
    // Several hosts with the same method+path: keep the first (endpoints arrive sorted by host).
    if (!item.has(method)) {
      item.set(method, op);
      usedIds.add(opId);
    }
  }
  const pathsObj: Record<string, Schema> = {};
  for (const p of [...paths.keys()].sort()) {
    const item: Schema = {};
    const ops = paths.get(p) as Map<string, Schema>;
    for (const m of [...ops.keys()].sort()) item[m] = ops.get(m) as Schema;
    pathsObj[p] = item;
  }
  const doc: Record<string, unknown> = {
    openapi: '3.1.0',
    info: { title: extra.title ?? 'Reconstructed from traffic by apitap', version: extra.version ?? '0.0.0' },
    servers: [...hosts].sort().map((h) => ({ url: `https://${h}` })),
    paths: pathsObj,
  };
  if (usedSchemes.size > 0) {
    const schemes: Record<string, Schema> = {};
    for (const a of [...usedSchemes].sort()) {
      const s = SECURITY[a];
      if (s) schemes[s.name] = s.scheme;
    }
    doc['components'] = { securitySchemes: schemes };
  }
  return doc;
}
