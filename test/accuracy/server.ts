// Accuracy-harness HTTP server: implements every operation of the given OpenAPI/Swagger specs (and the
// removed operations of --previous specs, and the undocumented routes of plan.ts), routed by Host header
// and path template, under the spec's server/basePath prefix and without it. Response bodies are
// generated from the response schema, deterministic from the seed, with personal data planted by key;
// what went on the wire is written as ground truth on SIGTERM/SIGINT.
//
//   node --import tsx test/accuracy/server.ts --listen 10.214.7.1:80 --spec a.yaml [--spec b.json=host]
//        [--previous old.json] [--seed 7] [--truth-out server-truth.json] [--ready-file F]
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { generate } from './gen.js';
import type { ApiSet, Route } from './plan.js';
import { deprecationHeaders, EXTRA_PII, extraFields, loadApis, matchRoute, routesOf } from './plan.js';
import type { Json, JsonObject } from './spec.js';
import { Recorder } from './truth.js';
import { Rng } from './values.js';

export interface HarnessServer {
  port: number;
  close(): Promise<void>;
  recorder: Recorder;
  unmatched: () => number;
}

interface Api {
  set: ApiSet;
  routes: Route[];
}

function responseSchema(route: Route): {
  root: JsonObject;
  schema: JsonObject | undefined;
  status: number;
  contentType: string | undefined;
} {
  if (route.shadow !== undefined) {
    const s = route.shadow;
    return {
      root: {},
      schema: s.response,
      status: s.status ?? (s.response === undefined ? 204 : 200),
      contentType: s.response === undefined ? undefined : 'application/json',
    };
  }
  const op = route.op;
  if (op === undefined) return { root: {}, schema: undefined, status: 204, contentType: undefined };
  return {
    root: op.doc.root,
    schema: op.response.schema,
    status: op.response.status,
    contentType: op.response.contentType,
  };
}

export function startServer(opts: {
  host: string;
  port: number;
  specs: string[];
  previous: string[];
  seed: number;
}): Promise<HarnessServer> {
  const apis = new Map<string, Api>();
  for (const [host, set] of loadApis(opts.specs, opts.previous)) apis.set(host, { set, routes: routesOf(set) });
  const rec = new Recorder('server', opts.seed);
  for (const a of apis.values())
    rec.truth.apis.push({
      host: a.set.host,
      prefix: a.set.prefix,
      specs: a.set.current.map((d) => d.file),
      previous: a.set.previous.map((d) => d.file),
    });
  const base = new Rng(opts.seed).fork('server');
  const counters = new Map<string, number>();
  let unmatched = 0;

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const api = apis.get(host);
    const url = new URL(req.url ?? '/', 'http://x');
    let path = url.pathname;
    if (
      api !== undefined &&
      api.set.prefix !== '' &&
      (path === api.set.prefix || path.startsWith(`${api.set.prefix}/`))
    )
      path = path.slice(api.set.prefix.length) || '/';
    const m = api === undefined ? undefined : matchRoute(api.routes, req.method ?? 'GET', path);
    if (m === undefined) {
      unmatched++;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such route"}');
      return;
    }
    const r = m.route;
    const routeRef = { host: r.host, method: r.method, template: r.template };
    rec.call(routeRef, r.origin);
    const k = `${r.method} ${r.host} ${r.template}`;
    const n = (counters.get(k) ?? 0) + 1;
    counters.set(k, n);
    const rng = base.fork(`${k}#${n}`);
    const dep = deprecationHeaders(r.host, r.method, r.template);
    if (dep !== undefined) rec.zombie(routeRef, 'deprecation_header');
    const rs = responseSchema(r);
    const headers: Record<string, string> = { ...(dep ?? {}), 'x-request-id': rng.hex(16) };
    if (rs.status === 204 || rs.status === 304) {
      res.writeHead(rs.status, headers).end();
      return;
    }
    const ct = rs.contentType ?? 'application/json';
    if (!ct.includes('json')) {
      // Binary and text responses (tar, logs, PNG, raw streams): a few bytes of the declared type.
      res
        .writeHead(rs.status, { ...headers, 'content-type': ct })
        .end(
          ct.startsWith('text/')
            ? 'OK\n'
            : Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 0, 0, 0, 4, 0x61, 0x62, 0x63, 0x0a]),
        );
      return;
    }
    let schema: Json | undefined = rs.schema;
    const extra = extraFields(r.host, r.method, r.template, 'response.body');
    if (extra !== undefined) schema = { allOf: [schema ?? {}, { type: 'object', properties: extra }] };
    const body =
      schema === undefined
        ? {}
        : generate(schema, {
            rng,
            root: rs.root,
            rec,
            route: routeRef,
            location: 'response.body',
            ...(EXTRA_PII[r.host] !== undefined ? { extraPii: EXTRA_PII[r.host] } : {}),
          });
    res
      .writeHead(rs.status, {
        ...headers,
        'content-type': ct.includes('json') ? 'application/json; charset=utf-8' : ct,
      })
      .end(JSON.stringify(body ?? {}));
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    // Read the whole request body before answering so keep-alive connections stay in step.
    req.on('data', () => undefined);
    req.on('end', () => answer(req, res));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      resolve({
        port,
        recorder: rec,
        unmatched: () => unmatched,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:8080' },
      spec: { type: 'string', multiple: true, default: [] },
      previous: { type: 'string', multiple: true, default: [] },
      seed: { type: 'string', default: '7' },
      'truth-out': { type: 'string', default: 'server-truth.json' },
      'ready-file': { type: 'string' },
    },
  });
  const i = values.listen.lastIndexOf(':');
  const srv = await startServer({
    host: values.listen.slice(0, i),
    port: Number(values.listen.slice(i + 1)),
    specs: values.spec,
    previous: values.previous,
    seed: Number(values.seed),
  });
  process.stderr.write(`accuracy server listening on ${values.listen}\n`);
  if (values['ready-file'] !== undefined) writeFileSync(values['ready-file'], 'ready\n');
  const stop = (): void => {
    void srv.close().then(() => {
      srv.recorder.write(values['truth-out']);
      process.stderr.write(
        `accuracy server: ${srv.recorder.truth.requests} requests answered, ${srv.unmatched()} unmatched\n`,
      );
      process.exit(srv.unmatched() === 0 ? 0 : 3);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
