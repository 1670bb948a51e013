// A real capture of actors' traffic for the behaviour tests: a node HTTP API (two API hosts by Host
// header) answered on loopback, real TCP clients bound to distinct 127.0.x.y source addresses (one
// per actor), recorded by tcpdump on `lo`. The normal users sign in, read their own orders, a few
// shared products and a short customer page; the planted abusers are an id walker (enumeration), a
// password sprayer with many login names (auth_bruteforce, credential stuffing), a user reading other
// users' orders under their own paths (bola_suspect) and a bulk reader of customer records
// (pii_harvest). The sprayer and the walker also call the other host, so their traffic spans shards.
// Needs root (tcpdump on lo) and tcpdump; recordActorsCapture() says why when it cannot run.
import { spawn, execFileSync } from 'node:child_process';
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.js';

export const ACTOR_IPS = {
  walker: '127.0.20.1',
  sprayer: '127.0.20.2',
  bola: '127.0.20.3',
  harvester: '127.0.20.4',
} as const;
export const NORMAL_IPS = ['127.0.10.1', '127.0.10.2', '127.0.10.3', '127.0.10.4', '127.0.10.5', '127.0.10.6'];

export function actorsCaptureUnavailable(): string | null {
  if (process.platform !== 'linux') return 'needs Linux (tcpdump on lo)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (tcpdump on lo)';
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed (deploy/dev/install-test-deps.sh)';
  }
  return null;
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (sub: string): string => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: 1 })}.c2lnbmF0dXJl`;
const FIRST = ['jan', 'piet', 'klaas', 'anna', 'sara', 'eva', 'tom', 'lisa', 'noah', 'emma'];
const email = (i: number): string => `${FIRST[i % 10]}.${FIRST[Math.floor(i / 10) % 10]}${i}@acme-shop.nl`;

/** The API: no object-level authorization on orders (the BOLA hole the abuser uses). */
function handler(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString('utf8')));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, json: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(json);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    };
    const seg = url.pathname.split('/').filter((s) => s !== '');
    if (req.method === 'POST' && url.pathname === '/api/login') {
      const { username, password } = JSON.parse(body || '{}') as { username?: string; password?: string };
      if (username !== undefined && password === `pw-${username}`) send(200, { token: jwt(username) });
      else send(401, { error: 'invalid credentials' });
    } else if (seg[1] === 'users' && seg[3] === 'orders' && seg.length === 5) {
      const n = Number(seg[4]);
      send(n % 100 < 5 ? 200 : 404, { id: n, owner: seg[2], total: 10 + (n % 7) });
    } else if (seg[1] === 'orders' && seg.length === 3) {
      const n = Number(seg[2]);
      if (n % 10 === 0) send(200, { id: n, total: 5 });
      else send(404, { error: 'not found' });
    } else if (seg[1] === 'products' && seg.length === 3) {
      send(200, { id: seg[2], name: `product ${seg[2]}`, price: 12.5 });
    } else if (url.pathname === '/api/customers') {
      const page = Number(url.searchParams.get('page') ?? '0');
      const limit = Number(url.searchParams.get('limit') ?? '2');
      const items = Array.from({ length: limit }, (_, k) => {
        const i = page * limit + k + (limit <= 2 ? 500 + page : 0);
        return { id: i, email: email(i), phone: `+316${String(10_000_000 + i * 7919).slice(0, 8)}` };
      });
      send(200, { items });
    } else if (url.pathname === '/capture-end') send(200, { marker: END_MARKER });
    else send(404, { error: 'no route' });
  });
}

interface Client {
  call(host: string, method: string, path: string, body?: unknown, token?: string): Promise<number>;
  close(): void;
}

function client(localAddress: string, port: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    call(host, method, path, body, token) {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { host };
        if (data !== undefined) {
          headers['content-type'] = 'application/json';
          headers['content-length'] = String(Buffer.byteLength(data));
        }
        if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
        const r = request({ host: '127.0.0.1', port, method, path, localAddress, agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        r.on('error', reject);
        r.end(data);
      });
    },
    close: () => agent.destroy(),
  };
}

const SHOP = 'shop.test';
/** The body of the closing exchange (recordActorsCapture waits for it in the file). */
const END_MARKER = 'apitap-capture-end-7f3a9c';
const ACCOUNTS = 'accounts.test';

async function traffic(port: number): Promise<void> {
  const normals = NORMAL_IPS.map((ip, u) => ({ c: client(ip, port), user: `user${u}` }));
  const tokens = new Map<string, string>();
  for (const n of normals) {
    await n.c.call(ACCOUNTS, 'POST', '/api/login', { username: n.user, password: `pw-${n.user}` });
    tokens.set(n.user, jwt(n.user));
  }
  for (let round = 0; round < 3; round++) {
    for (const [u, n] of normals.entries()) {
      const t = tokens.get(n.user) as string;
      await n.c.call(SHOP, 'GET', `/api/users/${n.user}/orders/${u * 100 + round}`, undefined, t);
      await n.c.call(SHOP, 'GET', `/api/products/${100 + ((u + round) % 5)}`, undefined, t);
      if (round === 0) await n.c.call(SHOP, 'GET', `/api/customers?page=${u}`, undefined, t);
    }
  }
  const walker = client(ACTOR_IPS.walker, port);
  await walker.call(ACCOUNTS, 'POST', '/api/login', { username: 'user0', password: 'pw-user0' });
  for (let i = 0; i < 70; i++) await walker.call(SHOP, 'GET', `/api/orders/${1000 + i}`);
  const sprayer = client(ACTOR_IPS.sprayer, port);
  for (let i = 0; i < 25; i++)
    await sprayer.call(ACCOUNTS, 'POST', '/api/login', {
      username: `victim${i}@acme-shop.nl`,
      password: 'Winter2026!',
    });
  await sprayer.call(SHOP, 'GET', '/api/products/101');
  const bola = client(ACTOR_IPS.bola, port);
  await bola.call(ACCOUNTS, 'POST', '/api/login', { username: 'user7', password: 'pw-user7' });
  for (const u of [0, 1, 2, 3])
    await bola.call(SHOP, 'GET', `/api/users/user${u}/orders/${u * 100 + 1}`, undefined, jwt('user7'));
  const harvester = client(ACTOR_IPS.harvester, port);
  for (let p = 0; p < 8; p++)
    await harvester.call(SHOP, 'GET', `/api/customers?page=${p}&limit=25`, undefined, jwt('crm-export'));
  for (const c of [...normals.map((n) => n.c), walker, sprayer, bola, harvester]) c.close();
}

/** Records the traffic into `dir`/actors.pcap and returns its path. */
export async function recordActorsCapture(dir: string): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const file = join(dir, 'actors.pcap');
  const dump = spawn(
    'tcpdump',
    ['-Z', 'root', '-B', '32768', '--immediate-mode', '-i', 'lo', '-U', '-s', '0', '-w', file, `tcp port ${port}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  dump.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    await waitFor(() => err.includes('listening on'), { timeoutMs: 10_000, what: () => `tcpdump listening (${err})` });
    await traffic(port);
    // A last exchange on a fresh connection, after every client closed: once its response is in the
    // file, every earlier packet is (one interface, written in order), so stopping tcpdump loses nothing.
    const end = client('127.0.0.9', port);
    await end.call('end.test', 'GET', '/capture-end');
    end.close();
    await waitFor(() => readFileSync(file).includes(END_MARKER), {
      timeoutMs: 30_000,
      what: 'the capture holds the closing exchange',
      everyMs: 50,
    });
    await new Promise<void>((r) => server.close(() => r()));
  } finally {
    const exited = new Promise<void>((r) => dump.once('exit', () => r()));
    dump.kill('SIGINT');
    await exited;
    server.close();
  }
  return file;
}
