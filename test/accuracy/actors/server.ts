// The behaviour harness's API server: a small shop API over node:http, built from world.json (see
// world.ts). It authenticates bearer JWTs (HS256, verified), API keys (X-Api-Key), Basic users and
// session cookies (minted by the login endpoint), and, like many real APIs, it checks that a caller is
// authenticated but not that the order it reads is its own: the broken object level authorization
// the BOLA readers exploit. Customer records are for staff only.
//
//   node --import tsx test/accuracy/actors/server.ts --world world.json --listen 10.215.7.1:80 [--ready-file F]
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { email, Rng } from '../values.js';
import type { Paths, User, World } from './world.js';
import { customerRecord, WorldSchema } from './world.js';

type RouteName = keyof Paths;

interface Compiled {
  name: RouteName;
  method: string;
  re: RegExp;
  params: string[];
  statics: number;
}

const METHODS: Readonly<Record<RouteName, string[]>> = {
  me: ['GET'],
  user: ['GET'],
  userOrders: ['GET'],
  userOrder: ['GET'],
  orders: ['POST'],
  order: ['GET'],
  products: ['GET'],
  product: ['GET'],
  productLookup: ['GET'],
  customers: ['GET'],
  customer: ['GET'],
  login: ['POST'],
};

/** Templates to regexes; static segments beat parameters (OpenAPI's rule), so lookup beats {productId}. */
export function compileRoutes(paths: Paths): Compiled[] {
  const out: Compiled[] = [];
  for (const [name, template] of Object.entries(paths) as [RouteName, string][]) {
    const params: string[] = [];
    const src = template
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (m !== null) {
          params.push(m[1] as string);
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    for (const method of METHODS[name])
      out.push({
        name,
        method,
        re: new RegExp(`^${src}/?$`),
        params,
        statics: template.split('/').length - params.length,
      });
  }
  return out.sort((a, b) => b.statics - a.statics);
}

export interface ApiServer {
  port: number;
  close(): Promise<void>;
  requests(): number;
}

export function startApiServer(world: World, host: string, port: number): Promise<ApiServer> {
  const routes = compileRoutes(world.paths);
  const byId = new Map(world.users.map((u) => [u.id, u]));
  const byKey = new Map(world.users.map((u) => [u.apiKey, u]));
  const byName = new Map(world.users.map((u) => [u.username, u]));
  const products = new Set(world.products);
  const orderOwner = new Map<string, User>();
  for (const u of world.users) for (const o of u.orders) orderOwner.set(o, u);
  const sessions = new Map<string, User>();
  let sessionSeq = 0;
  let orderSeq = 0;
  let served = 0;
  const rng = new Rng(world.seed).fork('server');

  const verifyJwt = (tok: string): User | undefined => {
    const parts = tok.split('.');
    if (parts.length !== 3) return undefined;
    const sig = createHmac('sha256', world.jwtKey).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2] as string, 'base64url');
    if (given.length !== sig.length || !timingSafeEqual(given, sig)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as { sub?: string };
      return claims.sub === undefined ? undefined : byId.get(claims.sub);
    } catch {
      return undefined;
    }
  };

  const caller = (req: IncomingMessage): User | undefined => {
    const authz = req.headers.authorization ?? '';
    if (authz.startsWith('Bearer ')) return verifyJwt(authz.slice(7));
    if (authz.startsWith('Basic ')) {
      const plain = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      const i = plain.indexOf(':');
      const u = byName.get(plain.slice(0, i));
      return u !== undefined && u.password === plain.slice(i + 1) ? u : undefined;
    }
    const key = req.headers['x-api-key'];
    if (typeof key === 'string') return byKey.get(key);
    const sid = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '');
    return sid === null ? undefined : sessions.get(sid[1] as string);
  };

  const profile = (u: User): Record<string, unknown> => ({
    id: u.id,
    username: u.username,
    email: email(new Rng(world.seed).fork(`profile ${u.id}`)),
    orders: u.orders.length,
  });
  const order = (id: string, owner: User): Record<string, unknown> => {
    const r = new Rng(world.seed).fork(`order ${id}`);
    return {
      id,
      owner: owner.id,
      status: r.pick(['paid', 'shipped', 'delivered']),
      total: r.int(500, 90_000) / 100,
      lines: r.int(1, 6),
    };
  };

  const answer = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    served++;
    const send = (status: number, obj: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(obj));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    let hit: { c: Compiled; m: RegExpExecArray } | undefined;
    for (const c of routes) {
      if (c.method !== req.method) continue;
      const m = c.re.exec(url.pathname);
      if (m !== null) {
        hit = { c, m };
        break;
      }
    }
    if (hit === undefined) return send(404, { error: 'no_route' });
    const param = (name: string): string => decodeURIComponent(hit.m[hit.c.params.indexOf(name) + 1] ?? '');
    const name = hit.c.name;

    if (name === 'login') {
      let creds: { username?: unknown; password?: unknown } = {};
      try {
        creds = (req.headers['content-type'] ?? '').includes('json')
          ? (JSON.parse(body) as typeof creds)
          : Object.fromEntries(new URLSearchParams(body));
      } catch {
        return send(400, { error: 'bad_request' });
      }
      const u = typeof creds.username === 'string' ? byName.get(creds.username) : undefined;
      if (u === undefined || u.password !== creds.password) return send(401, { error: 'invalid_credentials' });
      if (u.auth === 'session') {
        const sid = createHmac('sha256', world.jwtKey).update(`session ${u.username} ${sessionSeq++}`).digest('hex');
        sessions.set(sid, u);
        return send(200, { ok: true }, { 'set-cookie': `sid=${sid}; Path=/; HttpOnly; SameSite=Lax` });
      }
      if (u.auth === 'jwt') return send(200, { token: u.jwt, tokenType: 'Bearer', expiresIn: 3600 });
      return send(200, { ok: true });
    }
    if (name === 'products') {
      const q = url.searchParams.get('q') ?? '';
      const r = rng.fork(`search ${q}`);
      const items = Array.from({ length: r.int(0, 5) }, () => ({
        id: r.pick(world.products),
        name: `${q} ${r.hex(4)}`,
      }));
      return send(200, { items });
    }
    if (name === 'product' || name === 'productLookup') {
      const id = Number(name === 'product' ? param('productId') : (url.searchParams.get(world.lookupParam) ?? ''));
      if (!products.has(id)) return send(404, { error: 'not_found' });
      const r = new Rng(world.seed).fork(`product ${id}`);
      return send(200, { id, name: `product-${id}`, price: r.int(100, 20_000) / 100, stock: r.int(0, 500) });
    }

    const me = caller(req);
    if (me === undefined)
      return send(401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="api", Basic realm="api"' });
    switch (name) {
      case 'me':
        return send(200, profile(me));
      case 'user': {
        const u = byId.get(param('userId'));
        return u === undefined ? send(404, { error: 'not_found' }) : send(200, profile(u));
      }
      case 'userOrders': {
        const u = byId.get(param('userId'));
        if (u === undefined) return send(404, { error: 'not_found' });
        return send(200, { items: u.orders.map((o) => order(o, u)) });
      }
      case 'userOrder': {
        const u = byId.get(param('userId'));
        const o = param('orderId');
        if (u === undefined || orderOwner.get(o) !== u) return send(404, { error: 'not_found' });
        return send(200, order(o, u));
      }
      case 'order': {
        const o = param('orderId');
        const owner = orderOwner.get(o);
        return owner === undefined ? send(404, { error: 'not_found' }) : send(200, order(o, owner));
      }
      case 'orders': {
        const id =
          world.idStyle === 'int'
            ? String(9_000_000 + orderSeq++)
            : `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-a${rng.hex(3)}-${rng.hex(12)}`;
        orderOwner.set(id, me);
        me.orders.push(id);
        return send(201, order(id, me), { location: world.paths.order.replace('{orderId}', id) });
      }
      case 'customers': {
        if (!me.staff) return send(403, { error: 'forbidden' });
        const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
        const size = Math.min(100, Math.max(1, Number(url.searchParams.get('size') ?? '20') || 20));
        const items = [];
        for (let i = (page - 1) * size + 1; i <= Math.min(world.customers, page * size); i++)
          items.push(customerRecord(world.seed, i));
        return send(200, { page, size, total: world.customers, items });
      }
      case 'customer': {
        if (!me.staff) return send(403, { error: 'forbidden' });
        const n = Number(param('customerId'));
        if (!Number.isInteger(n) || n < 1 || n > world.customers) return send(404, { error: 'not_found' });
        return send(200, customerRecord(world.seed, n));
      }
    }
    return send(404, { error: 'no_route' });
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr !== null ? addr.port : port,
        requests: () => served,
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
      world: { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:8080' },
      'ready-file': { type: 'string' },
    },
  });
  if (values.world === undefined) throw new Error('--world is required');
  const world = WorldSchema.parse(JSON.parse(readFileSync(values.world, 'utf8')));
  const i = values.listen.lastIndexOf(':');
  const srv = await startApiServer(world, values.listen.slice(0, i), Number(values.listen.slice(i + 1)));
  if (values['ready-file'] !== undefined) writeFileSync(values['ready-file'], 'ready\n');
  const stop = (): void => {
    void srv.close().then(() => {
      process.stderr.write(`actors server: ${srv.requests()} requests answered\n`);
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
