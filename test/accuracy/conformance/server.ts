// The conformance harness server: implements shop.yaml for two hosts. Requests to CONFORMANT_HOST are
// answered as the spec says; requests to DEVIANT_HOST get the planted SERVER_DEVIATIONS (scenario.ts),
// each recorded in the truth file when it is applied. Both hosts also answer statuses the spec covers
// by a range (`4XX`) or `default`, which must not become findings.
//
//   node --import tsx server.ts --listen IP:PORT --truth-out FILE --ready-file FILE [--seed N] [--scale X]
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { Json } from '../spec.js';
import { Rng } from '../values.js';
import * as v from '../values.js';
import type { Draft, Planted } from './scenario.js';
import {
  applies,
  body,
  CONFORMANT_HOST,
  DEVIANT_HOST,
  loadScenario,
  PREFIX,
  responseSchema,
  SERVER_DEVIATIONS,
} from './scenario.js';

const arg = (name: string, dflt?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const x = i >= 0 ? process.argv[i + 1] : dflt;
  if (x === undefined) throw new Error(`--${name} is required`);
  return x;
};
const [ip, port] = arg('listen').split(':') as [string, string];
const truthOut = arg('truth-out');
const seed = Number(arg('seed', '11'));
const scale = Number(arg('scale', '1'));
const s = loadScenario();
const planted = new Map<string, Planted & { count: number }>();
const calls = new Map<string, number>();
let unmatched = 0;

const routes: { op: string; method: string; re: RegExp }[] = [...s.ops].map(([id, op]) => ({
  op: id,
  method: op.method,
  re: new RegExp(`^${PREFIX}${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** Declared alternatives both hosts answer now and then: covered by `default` or a range, or declared. */
function declaredAlternative(op: string, i: number, d: Draft, r: Rng): void {
  const err = (status: number): void => {
    d.status = status;
    d.body = { code: `E${status}`, message: v.neutralWord(r) };
  };
  if (op === 'listUsers' && i % 11 === 5)
    err(429); // 4XX
  else if (op === 'updateUser' && i % 8 === 3)
    err(500); // default
  else if (op === 'getUser' && i % 10 === 7) err(404);
  else if (op === 'getProduct' && i % 13 === 6) {
    d.status = 404; // declared without content
    d.body = undefined;
  }
}

const server = createServer((req, res) => {
  const host = (req.headers.host ?? '').toLowerCase();
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const route = routes.find((x) => x.method === req.method && x.re.test(path));
  req.resume();
  req.on('end', () => {
    if (route === undefined || (host !== CONFORMANT_HOST && host !== DEVIANT_HOST)) {
      unmatched++;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown route');
      return;
    }
    const op = s.ops.get(route.op);
    if (op === undefined) return;
    const ck = `${host} ${route.op}`;
    const i = calls.get(ck) ?? 0;
    calls.set(ck, i + 1);
    const r = new Rng(seed).fork(`${ck} ${i}`);
    const ok = op.response.status;
    const d: Draft = {
      status: ok,
      body: body(s, responseSchema(s, op, ok), 'response.body', host, op, r),
      query: [],
      headers: [],
    };
    declaredAlternative(route.op, i, d, r);
    if (host === DEVIANT_HOST && d.status === ok) {
      for (const dev of SERVER_DEVIATIONS) {
        if (!applies(dev, route.op, i, scale)) continue;
        dev.apply(d, r);
        const k = `${dev.kind} ${dev.op} ${dev.location} ${dev.name}`;
        const p = planted.get(k);
        if (p) p.count++;
        else
          planted.set(k, {
            kind: dev.kind,
            op: dev.op,
            location: dev.location,
            name: dev.name,
            ...(dev.pii ? { pii: true } : {}),
            count: 1,
          });
      }
    }
    if (d.body === undefined || d.status === 204) {
      res.writeHead(d.status, { 'content-length': '0' }).end();
      return;
    }
    const text = JSON.stringify(d.body as Json);
    res
      .writeHead(d.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      .end(text);
  });
});
server.keepAliveTimeout = 30_000;

process.on('SIGTERM', () => {
  writeFileSync(
    truthOut,
    JSON.stringify(
      { writer: 'server', seed, unmatched, calls: Object.fromEntries(calls), planted: [...planted.values()] },
      null,
      1,
    ) + '\n',
  );
  server.close();
  server.closeAllConnections();
  process.exit(unmatched === 0 ? 0 : 3);
});

server.listen(Number(port), ip, () => writeFileSync(arg('ready-file'), 'ready\n'));
