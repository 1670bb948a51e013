// The conformance harness client: calls every operation of shop.yaml CALLS[op] times on each host, one
// request at a time over a keep-alive connection, with requests the spec allows (declared query
// parameters and headers, generated bodies, the apiKey credential). On DEVIANT_HOST it also applies
// CLIENT_DEVIATIONS (scenario.ts) and records each in the truth file.
//
//   node --import tsx client.ts --target http://IP:PORT --truth-out FILE [--seed N] [--scale X]
import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { JsonObject } from '../spec.js';
import { Rng } from '../values.js';
import * as v from '../values.js';
import type { Draft, Planted } from './scenario.js';
import {
  applies,
  body,
  callsOf,
  CLIENT_DEVIATIONS,
  CONFORMANT_HOST,
  DEVIANT_HOST,
  loadScenario,
  PREFIX,
} from './scenario.js';

const arg = (name: string, dflt?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const x = i >= 0 ? process.argv[i + 1] : dflt;
  if (x === undefined) throw new Error(`--${name} is required`);
  return x;
};
const target = new URL(arg('target'));
const seed = Number(arg('seed', '11'));
const scale = Number(arg('scale', '1'));
const s = loadScenario();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const planted = new Map<string, Planted & { count: number }>();
let requests = 0;

function send(
  host: string,
  method: string,
  path: string,
  headers: [string, string][],
  payload: string | null,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { host, 'user-agent': 'conformance-harness/1', accept: 'application/json' };
    for (const [k, x] of headers) h[k] = x;
    if (payload !== null) {
      h['content-type'] = 'application/json';
      h['content-length'] = String(Buffer.byteLength(payload));
    }
    const req = request({ host: target.hostname, port: target.port || 80, method, path, headers: h, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload ?? undefined);
  });
}

async function main(): Promise<void> {
  for (const host of [CONFORMANT_HOST, DEVIANT_HOST]) {
    for (const [id, op] of [...s.ops].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const n = callsOf(id, scale);
      for (let i = 0; i < n; i++) {
        const r = new Rng(seed).fork(`${host} ${id} ${i}`);
        const d: Draft = {
          status: 0,
          body: body(s, op.requestBody?.schema as JsonObject | undefined, 'request.body', host, op, r),
          query: [],
          headers: [['X-Api-Key', `k-${r.hex(16)}`]],
        };
        const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
          name === 'userId' ? String(r.int(1, 500)) : v.uuid(r),
        );
        if (id === 'listUsers' || id === 'listProducts') d.query.push(['limit', String(r.int(1, 100))]);
        if (id === 'listUsers' && r.chance(0.5)) d.query.push(['status', r.pick(['active', 'suspended', 'closed'])]);
        if (id === 'listUsers' && r.chance(0.3)) d.query.push(['cursor', r.hex(12)]);
        if (id === 'listProducts' && r.chance(0.5)) d.query.push(['q', v.neutralWord(r)]);
        if (id === 'getUser') d.headers.push(['X-Tenant', `t${r.int(1, 9)}`]);
        if (host === DEVIANT_HOST) {
          for (const dev of CLIENT_DEVIATIONS) {
            if (!applies(dev, id, i, scale)) continue;
            dev.apply(d, r);
            const k = `${dev.kind} ${dev.op} ${dev.location} ${dev.name}`;
            const p = planted.get(k);
            if (p) p.count++;
            else planted.set(k, { kind: dev.kind, op: dev.op, location: dev.location, name: dev.name, count: 1 });
          }
        }
        const qs = d.query.map(([k, x]) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`).join('&');
        await send(
          host,
          op.method,
          `${PREFIX}${path}${qs === '' ? '' : `?${qs}`}`,
          d.headers,
          d.body === undefined ? null : JSON.stringify(d.body),
        );
        requests++;
      }
    }
  }
  agent.destroy();
  writeFileSync(
    arg('truth-out'),
    JSON.stringify({ writer: 'client', seed, requests, planted: [...planted.values()] }, null, 1) + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`client: ${String(e)}\n`);
  process.exit(2);
});
