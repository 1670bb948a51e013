// Accuracy-harness client: drives the harness server like real API consumers would. Per API host it
// calls most documented operations several times with realistic ids (integers, UUIDs, Twilio SIDs,
// Docker 64-hex ids and names), query parameters and JSON or form bodies with planted personal data and
// hard negatives; it calls every deprecated operation, the undocumented routes, some removed (previous
// spec) operations, and leaves the remaining documented operations uncalled (orphans). Node's http
// client with a keep-alive agent and a few sockets. Deterministic from the seed. Writes ground truth.
//
//   node --import tsx test/accuracy/client.ts --target http://10.214.7.1:80 --spec a.yaml ... [--previous p.json]
//        [--seed 7] [--scale 1] [--truth-out client-truth.json]
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { generate } from './gen.js';
import type { Route } from './plan.js';
import { EXTRA_PII, extraFields, loadApis, pathParamValue, PREVIOUS_CALLED, routesOf, shouldCall } from './plan.js';
import type { Json, JsonObject } from './spec.js';
import { Recorder } from './truth.js';
import { Rng } from './values.js';

interface Call {
  host: string;
  prefix: string;
  route: Route;
  index: number;
}

const USER_AGENT: Readonly<Record<string, string>> = {
  'petstore3.swagger.io': 'petstore-web/3.4.1 (+axios/1.7.2)',
  'pal-test.adyen.com': 'adyen-java-api-library/25.1.0',
  'redocly.com': 'museum-app/2.0 (iOS 17.4)',
  'chat.twilio.com': 'twilio-node/4.23.0 (linux x64) node/v20.11.0',
  'docker-engine.apitap.test': 'Docker-Client/24.0.7 (linux)',
};

function authHeaders(host: string, r: Rng): Record<string, string> {
  if (host === 'chat.twilio.com')
    return { authorization: `Basic ${Buffer.from(`AC${r.hex(32)}:${r.hex(32)}`).toString('base64')}` };
  if (host === 'pal-test.adyen.com') return { 'x-api-key': `AQE${r.hex(40)}` };
  if (host.startsWith('docker')) return {};
  return { authorization: `Bearer ${r.hex(40)}` };
}

/** The call list: every chosen route a seeded number of times, then shuffled so APIs interleave. */
export function planCalls(specs: string[], previous: string[], seed: number, scale: number, rec: Recorder): Call[] {
  const apis = loadApis(specs, previous);
  const r = new Rng(seed).fork('plan');
  const calls: Call[] = [];
  for (const api of apis.values()) {
    rec.truth.apis.push({
      host: api.host,
      prefix: api.prefix,
      specs: api.current.map((d) => d.file),
      previous: api.previous.map((d) => d.file),
    });
    const chosen: Route[] = [];
    const documented: Route[] = [];
    for (const route of routesOf(api)) {
      if (route.origin === 'documented' && route.op !== undefined) {
        documented.push(route);
        if (shouldCall(route.op, r.fork(`${route.method} ${route.template}`))) chosen.push(route);
      } else if (route.origin === 'previous') {
        if (PREVIOUS_CALLED.has(`${route.method} ${route.template}`)) chosen.push(route);
      } else chosen.push(route);
    }
    const called = new Set(chosen);
    for (const d of documented)
      if (!called.has(d)) rec.orphan({ host: api.host, method: d.method, template: d.template });
    for (const route of chosen) {
      const n = Math.max(
        1,
        Math.round(r.int(route.origin === 'documented' ? 8 : 5, route.origin === 'documented' ? 30 : 15) * scale),
      );
      for (let i = 0; i < n; i++) calls.push({ host: api.host, prefix: api.prefix, route, index: i });
    }
  }
  for (let i = calls.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    const a = calls[i];
    const b = calls[j];
    if (a !== undefined && b !== undefined) {
      calls[i] = b;
      calls[j] = a;
    }
  }
  return calls;
}

/** Per (route, parameter) a small pool of ids, so ids repeat across calls as they do in real traffic. */
class IdPools {
  private readonly pools = new Map<string, Array<{ value: string; neg?: string }>>();
  constructor(private readonly rng: Rng) {}
  get(host: string, template: string, name: string, schema: JsonObject, r: Rng): ReturnType<typeof pathParamValue> {
    const k = `${host} ${template} ${name}`;
    let pool = this.pools.get(k);
    if (pool === undefined) {
      const pr = this.rng.fork(k);
      pool = [];
      const size = pr.int(5, 12);
      for (let i = 0; i < size; i++) pool.push(pathParamValue(host, template, name, schema, pr));
      this.pools.set(k, pool);
    }
    return r.pick(pool) as ReturnType<typeof pathParamValue>;
  }
}

interface Built {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export function buildRequest(c: Call, seed: number, pools: IdPools, rec: Recorder): Built {
  const route = c.route;
  const r = new Rng(seed).fork(`call ${route.method} ${c.host} ${route.template} ${c.index}`);
  const ref = { host: c.host, method: route.method, template: route.template };
  const root: JsonObject = route.op?.doc.root ?? {};
  const extraPii = EXTRA_PII[c.host];
  const ctxBase = { rng: r, root, rec, route: ref, ...(extraPii !== undefined ? { extraPii } : {}) };
  // path parameters
  const params = route.op?.params ?? [];
  let path = route.template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    const val = pools.get(
      c.host,
      route.template,
      name,
      p?.schema ?? route.shadow?.params?.[name] ?? { type: 'string' },
      r,
    );
    if (val.neg !== undefined) rec.negative(ref, 'request.path', name, val.neg as Parameters<Recorder['negative']>[3]);
    return encodeURIComponent(val.value);
  });
  path = c.prefix + path;
  // query parameters: required always, optional ones half of the time
  const qs = new URLSearchParams();
  for (const p of params) {
    if (p.in !== 'query' || !(p.required || r.chance(0.5))) continue;
    const val = generate(p.schema, { ...ctxBase, location: 'request.query' }, p.name, p.name, '');
    if (val === undefined || val === null) continue;
    if (Array.isArray(val))
      for (const x of val) qs.append(p.name, typeof x === 'object' ? JSON.stringify(x) : String(x));
    else qs.append(p.name, typeof val === 'object' ? JSON.stringify(val) : String(val));
  }
  const q = qs.toString();
  // request body
  let body: string | undefined;
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT[c.host] ?? 'apitap-accuracy/1.0',
    accept: 'application/json',
    ...authHeaders(c.host, r),
  };
  let schema: Json | undefined;
  let ct = 'application/json';
  if (route.op?.requestBody !== undefined) {
    schema = route.op.requestBody.schema;
    ct = route.op.requestBody.contentType;
  } else if (route.shadow?.request !== undefined) schema = route.shadow.request;
  const extra = extraFields(c.host, route.method, route.template, 'request.body');
  if (extra !== undefined) schema = { allOf: [schema ?? {}, { type: 'object', properties: extra }] };
  if (schema !== undefined) {
    const location = 'request.body';
    const val = generate(schema, { ...ctxBase, location }, '$');
    if (ct.includes('x-www-form-urlencoded')) {
      const form = new URLSearchParams();
      if (val !== null && typeof val === 'object' && !Array.isArray(val))
        for (const [k, x] of Object.entries(val)) form.append(k, typeof x === 'object' ? JSON.stringify(x) : String(x));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      body = JSON.stringify(val ?? {});
      headers['content-type'] = 'application/json';
    }
  }
  return { method: route.method, path: q === '' ? path : `${path}?${q}`, headers, body };
}

export async function runClient(opts: {
  target: string;
  specs: string[];
  previous: string[];
  seed: number;
  scale: number;
  concurrency?: number;
}): Promise<{ recorder: Recorder; failures: number }> {
  const rec = new Recorder('client', opts.seed);
  const calls = planCalls(opts.specs, opts.previous, opts.seed, opts.scale, rec);
  const pools = new IdPools(new Rng(opts.seed).fork('ids'));
  // Build every request first (deterministic order), then send them over a few keep-alive sockets.
  const built = calls.map((c) => {
    if (c.route.origin === 'shadow') rec.shadow({ host: c.host, method: c.route.method, template: c.route.template });
    if (c.route.origin === 'previous')
      rec.zombie({ host: c.host, method: c.route.method, template: c.route.template }, 'removed');
    if (c.route.op?.deprecated === true && c.route.origin === 'documented')
      rec.zombie({ host: c.host, method: c.route.method, template: c.route.template }, 'deprecated');
    rec.call({ host: c.host, method: c.route.method, template: c.route.template }, c.route.origin);
    return { c, b: buildRequest(c, opts.seed, pools, rec) };
  });
  const target = new URL(opts.target);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 4 });
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < built.length) {
      const item = built[next++];
      if (item === undefined) break;
      const { c, b } = item;
      const status = await new Promise<number>((resolve) => {
        const req = request(
          {
            host: target.hostname,
            port: target.port || 80,
            method: b.method,
            path: b.path,
            agent,
            headers: {
              ...b.headers,
              host: c.host,
              ...(b.body !== undefined ? { 'content-length': String(Buffer.byteLength(b.body)) } : {}),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', () => resolve(0));
        req.end(b.body);
      });
      if (status === 0 || status >= 400) failures++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, () => worker()));
  agent.destroy();
  return { recorder: rec, failures };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'http://127.0.0.1:8080' },
      spec: { type: 'string', multiple: true, default: [] },
      previous: { type: 'string', multiple: true, default: [] },
      seed: { type: 'string', default: '7' },
      scale: { type: 'string', default: '1' },
      'truth-out': { type: 'string', default: 'client-truth.json' },
    },
  });
  const t0 = process.hrtime.bigint();
  const { recorder, failures } = await runClient({
    target: values.target,
    specs: values.spec,
    previous: values.previous,
    seed: Number(values.seed),
    scale: Number(values.scale),
  });
  recorder.write(values['truth-out']);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const t = recorder.truth;
  process.stderr.write(
    `accuracy client: ${t.requests} requests in ${ms.toFixed(0)} ms, ${failures} failed; truth: ${t.called.length} routes, ${t.shadow.length} shadow, ${t.zombie.length} zombie, ${t.orphan.length} orphan, ${t.pii.length} request-side PII fields, ${t.hardNegatives.length} hard negatives\n`,
  );
  process.exit(failures === 0 ? 0 : 4);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
