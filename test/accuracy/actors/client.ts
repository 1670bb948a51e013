// The behaviour harness's clients: every actor of world.json at once, each over its own keep-alive
// connection bound to its own source address (several addresses on the client namespace's interface;
// two normal clients and one BOLA reader share one, as behind a NAT). Phase 1: every actor's first
// normal round (logins, own profile, every own order in both path forms, products, customer records
// for staff), so the traffic binds each order to its owner before anyone reads it. Phase 2, at once:
// the remaining normal rounds and the planted abuse. Writes the ground truth (truth.ts) with each
// abuse's window on this host's clock, which is the capture's clock.
//
//   node --import tsx test/accuracy/actors/client.ts --world world.json --truth-out truth.json
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { neutralWord, Rng } from '../values.js';
import type { Abuse, ActorsTruth, TruthActor } from './truth.js';
import { writeActorsTruth } from './truth.js';
import type { Actor, Behaviour, BehaviourKind, Paths, User, World } from './world.js';
import { PRINCIPAL_KIND, WorldSchema } from './world.js';

/** Connections of the hammer's paced requests (every other actor uses one at a time). */
const HAMMER_CONNECTIONS = 16;
const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const COMMON_PASSWORDS = ['Welcome2026!', 'Password1', 'Summer2026', 'Qwerty123!', 'Winter2025!'] as const;
const SEARCH_WORDS = ['lamp', 'chair', 'kettle', 'bike', 'tent', 'mug', 'desk', 'radio'] as const;
const USER_AGENTS = [
  'shop-web/5.2.0 (+axios/1.7.2)',
  'ShopApp/3.1 (iOS 17.4)',
  'ShopApp/3.0.9 (Android 14)',
  'python-requests/2.32.3',
  'okhttp/4.12.0',
] as const;

function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(String(params[k] ?? '')));
}

const popularityCache = new WeakMap<World, number[]>();
function popularity(world: World): number[] {
  let order = popularityCache.get(world);
  if (order === undefined) {
    const r = new Rng(world.seed).fork('popularity');
    order = world.products.slice();
    for (let i = order.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    popularityCache.set(world, order);
  }
  return order;
}

class ActorRun {
  readonly agent: Agent;
  readonly rng: Rng;
  readonly user: User | undefined;
  token: string | undefined;
  sid: string | undefined;
  requests = 0;
  /** Requests without this actor's own credentials (logins before a token or session exists). */
  anonymous = 0;
  failures = 0;
  readonly abuses: Abuse[] = [];
  readonly ua: string;
  /** Product ids this client keeps coming back to. */
  readonly favourites: number[];

  constructor(
    readonly world: World,
    readonly actor: Actor,
    private readonly target: { host: string; port: number },
  ) {
    // One connection at a time, except for the hammer's paced parallel requests.
    this.agent = new Agent({ keepAlive: true, maxSockets: HAMMER_CONNECTIONS });
    this.rng = new Rng(world.seed).fork(`actor ${actor.name}`);
    this.user = actor.user === null ? undefined : world.users[actor.user];
    this.ua = this.rng.pick(USER_AGENTS);
    // Popular products are popular with everyone: ranks drawn log-uniformly (P(rank i) ∝ 1/i) over
    // one seeded popularity order, so catalogue entries are shared between clients as in real shops.
    const order = popularity(world);
    this.favourites = Array.from(
      { length: this.rng.int(3, 6) },
      () => order[Math.floor(Math.exp(this.rng.next() * Math.log(order.length)))] ?? (order[0] as number),
    );
  }

  get paths(): Paths {
    return this.world.paths;
  }

  send(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    this.requests++;
    const h = opts.headers ?? {};
    if (h['authorization'] === undefined && h['x-api-key'] === undefined && h['cookie'] === undefined) this.anonymous++;
    return new Promise((resolve) => {
      const req = request(
        {
          host: this.target.host,
          port: this.target.port,
          method,
          path,
          agent: this.agent,
          localAddress: this.actor.ip,
          headers: {
            host: this.world.host,
            'user-agent': this.ua,
            accept: 'application/json',
            ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
            ...opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', () => {
        this.failures++;
        resolve({ status: 0, headers: {}, body: '' });
      });
      req.end(opts.body);
    });
  }

  /** A request of normal use: anything but 2xx is a harness bug. */
  async ok(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    const r = await this.send(method, path, { ...opts, headers: { ...this.authHeaders(), ...opts.headers } });
    if (r.status < 200 || r.status > 299) {
      this.failures++;
      process.stderr.write(`actors client: ${this.actor.name} ${method} ${path} answered ${r.status}\n`);
    }
    return r;
  }

  loginRequest(username: string, password: string): { headers: Record<string, string>; body: string } {
    return this.world.loginBody === 'json'
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) }
      : {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password }).toString(),
        };
  }

  async ensureLogin(): Promise<void> {
    const u = this.user;
    if (u === undefined || (u.auth !== 'jwt' && u.auth !== 'session')) return;
    if (this.token !== undefined || this.sid !== undefined) return;
    const r = await this.send('POST', this.paths.login, this.loginRequest(u.username, u.password));
    if (r.status !== 200) {
      this.failures++;
      process.stderr.write(`actors client: ${this.actor.name} could not log in (${r.status})\n`);
      return;
    }
    if (u.auth === 'jwt') this.token = (JSON.parse(r.body) as { token: string }).token;
    else {
      const sc = r.headers['set-cookie'];
      const m = /sid=([^;]+)/.exec(Array.isArray(sc) ? sc.join(';') : (sc ?? ''));
      this.sid = m?.[1];
    }
  }

  authHeaders(): Record<string, string> {
    const u = this.user;
    if (u === undefined) return {};
    switch (u.auth) {
      case 'jwt':
        return this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
      case 'api_key':
        return { 'x-api-key': u.apiKey };
      case 'basic':
        return { authorization: `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}` };
      case 'session':
        return this.sid === undefined ? {} : { cookie: `sid=${this.sid}; theme=light` };
    }
  }

  principal(): string | null {
    const u = this.user;
    if (u === undefined) return null;
    // A session principal is the cookie as sent (name and value), which is what apitap masks.
    return u.auth === 'session' ? (this.sid === undefined ? null : `sid=${this.sid}`) : u.principal;
  }

  /** Runs `body` and records it as an abuse of `kind` on (method, template). */
  async abuse(
    kind: BehaviourKind,
    method: string,
    template: string,
    detail: string,
    acceptable: Abuse['acceptable'],
    body: () => Promise<void>,
  ): Promise<void> {
    const before = this.requests;
    const firstUs = nowUs();
    await body();
    const lastUs = nowUs();
    if (this.actor.role === 'abuser')
      this.abuses.push({
        kind,
        method,
        template,
        firstUs,
        lastUs,
        requests: this.requests - before,
        detail,
        acceptable,
      });
  }

  // ---- behaviours -------------------------------------------------------------------------------

  async normalRound(scale: number, first: boolean): Promise<void> {
    const u = this.user;
    const r = this.rng;
    const p = this.paths;
    const n = (lo: number, hi: number): number => Math.max(0, Math.round(r.int(lo, hi) * scale));
    if (u !== undefined) {
      await this.ensureLogin();
      for (let i = Math.max(1, n(1, 2)); i > 0; i--) await this.ok('GET', p.me);
      if (first || r.chance(0.5)) await this.ok('GET', fill(p.user, { userId: u.id }));
      await this.ok('GET', fill(p.userOrders, { userId: u.id }));
      // The first round reads every own order in both forms: the traffic binds them to their owner.
      const own = first ? [...u.orders] : Array.from({ length: r.int(1, 3) }, () => r.pick(u.orders));
      for (const o of own) {
        if (first || r.chance(0.5)) await this.ok('GET', fill(p.userOrder, { userId: u.id, orderId: o }));
        if (first || r.chance(0.5)) await this.ok('GET', fill(p.order, { orderId: o }));
      }
      if (r.chance(0.4)) {
        const c = await this.ok('POST', p.orders, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sku: r.pick(this.world.products), quantity: r.int(1, 3) }),
        });
        const id = (JSON.parse(c.body || '{}') as { id?: string }).id;
        if (id !== undefined) await this.ok('GET', fill(p.order, { orderId: id }));
      }
    }
    for (let i = n(1, 5); i > 0; i--) await this.ok('GET', `${p.products}?q=${r.pick(SEARCH_WORDS)}`);
    for (let i = n(2, 7); i > 0; i--) await this.ok('GET', fill(p.product, { productId: r.pick(this.favourites) }));
    for (let i = n(0, 2); i > 0; i--)
      await this.ok('GET', `${p.productLookup}?${this.world.lookupParam}=${r.pick(this.favourites)}`);
    if (u?.staff === true) {
      if (first || r.chance(0.5)) await this.ok('GET', `${p.customers}?page=${r.int(1, 2)}&size=20`);
      for (let i = r.int(2, 6); i > 0; i--)
        await this.ok('GET', fill(p.customer, { customerId: r.int(1, this.world.customers) }));
    }
  }

  async run(b: Behaviour, phase: 1 | 2): Promise<void> {
    const p = this.paths;
    const r = this.rng;
    const w = this.world;
    if (b.do === 'normal') {
      if (phase === 1) await this.normalRound(b.scale, true);
      else for (let k = 1; k < b.rounds; k++) await this.normalRound(b.scale, false);
      return;
    }
    if (b.do === 'clumsy_login') {
      if (phase !== 1 || this.user === undefined) return;
      for (let i = 0; i < b.failures; i++)
        await this.send('POST', p.login, this.loginRequest(this.user.username, `${this.user.password.slice(0, -1)}?`));
      await this.ensureLogin();
      return;
    }
    if (phase !== 2) return;
    await this.ensureLogin();
    switch (b.do) {
      case 'walk': {
        const template = b.form === 'path' ? p.product : p.productLookup;
        const url = (id: number): string =>
          b.form === 'path'
            ? fill(p.product, { productId: id })
            : `${p.productLookup}?${w.lookupParam}=${id}&fields=price,stock`;
        let found = 0;
        await this.abuse(
          'enumeration',
          'GET',
          template,
          `${b.count} consecutive ids by ${b.form}`,
          [{ kind: 'excessive_usage', method: 'GET', template }],
          async () => {
            // Paced when `seconds` is given: never faster than count/seconds, never in catch-up bursts.
            const interval = b.seconds === undefined ? 0 : (b.seconds * 1000) / b.count;
            let next = performance.now();
            for (let i = 0; i < b.count; i++) {
              if (interval > 0) {
                const ahead = next - performance.now();
                if (ahead > 1) await delay(ahead);
                next = Math.max(next, performance.now()) + interval;
              }
              const res = await this.send('GET', url(b.start + i), { headers: this.authHeaders() });
              if (res.status === 200) found++;
            }
          },
        );
        const last = this.abuses[this.abuses.length - 1];
        if (last !== undefined)
          last.detail += ` (${Math.round((100 * (b.count - found)) / Math.max(1, b.count))} % 404)`;
        return;
      }
      case 'bola': {
        const targets: Array<{ user: User; order: string }> = [];
        for (const v of b.victims) {
          const vu = w.users[v];
          if (vu !== undefined) for (const o of vu.orders.slice(0, 7)) targets.push({ user: vu, order: o });
        }
        const take = targets.slice(0, b.objects);
        const template = b.form === 'nested' ? p.userOrder : p.order;
        await this.abuse(
          'bola_suspect',
          'GET',
          template,
          `${take.length} orders of ${b.victims.length} other user(s) (${[...new Set(take.map((t) => t.user.auth))].join(', ')}), ${b.form} path`,
          [],
          async () => {
            for (const t of take)
              await this.ok(
                'GET',
                b.form === 'nested'
                  ? fill(p.userOrder, { userId: t.user.id, orderId: t.order })
                  : fill(p.order, { orderId: t.order }),
              );
          },
        );
        const planted = this.abuses[this.abuses.length - 1];
        if (planted !== undefined && planted.kind === 'bola_suspect')
          planted.ownerKinds = take.map((t) => PRINCIPAL_KIND[t.user.auth]);
        return;
      }
      case 'hammer': {
        const template = b.endpoint === 'search' ? p.products : b.endpoint === 'me' ? p.me : p.product;
        const before = this.requests;
        await this.abuse(
          'excessive_usage',
          'GET',
          template,
          `paced at ${b.rate}/s for ${b.seconds} s`,
          [],
          async () => {
            // Paced, never in catch-up bursts: at most `rate` a second over `seconds`, several requests
            // in flight, so the rate is sustained over several buckets of packet time even when a
            // loaded machine answers slowly.
            const interval = 1000 / b.rate;
            const end = performance.now() + b.seconds * 1000;
            let next = performance.now();
            const worker = async (): Promise<void> => {
              for (;;) {
                const slot = Math.max(next, performance.now());
                next = slot + interval;
                if (slot >= end) return;
                const ahead = slot - performance.now();
                if (ahead > 1) await delay(ahead);
                const path =
                  b.endpoint === 'search'
                    ? `${p.products}?q=${r.pick(SEARCH_WORDS)}`
                    : b.endpoint === 'me'
                      ? p.me
                      : fill(p.product, { productId: r.pick(this.favourites) });
                await this.ok('GET', path);
              }
            };
            await Promise.all(Array.from({ length: HAMMER_CONNECTIONS }, worker));
          },
        );
        const done = this.abuses[this.abuses.length - 1];
        if (done !== undefined && done.kind === 'excessive_usage') {
          done.achievedPerSecond = (this.requests - before) / ((done.lastUs - done.firstUs) / 1e6);
          done.detail += `: ${this.requests - before} requests, ${done.achievedPerSecond.toFixed(0)}/s achieved`;
        }
        return;
      }
      case 'spray': {
        const names = this.loginNames(b.names);
        const pws = COMMON_PASSWORDS.slice(0, b.passwords);
        await this.abuse(
          'auth_bruteforce',
          'POST',
          p.login,
          `password spraying: ${names.length} names × ${pws.length} passwords`,
          [{ kind: 'excessive_usage', method: 'POST', template: p.login }],
          async () => {
            for (const pw of pws) for (const nm of names) await this.send('POST', p.login, this.loginRequest(nm, pw));
          },
        );
        return;
      }
      case 'stuff': {
        const names = this.loginNames(b.pairs);
        const real = w.actors
          .filter((a) => a.role === 'normal' && a.user !== null)
          .map((a) => w.users[a.user ?? -1])
          .filter((u): u is User => u !== undefined);
        const pairs = names.map((nm) => ({ nm, pw: `${neutralWord(r)}${r.pick(['!', '#', ''])}` }));
        for (let i = 0; i < b.hits && i < real.length; i++) {
          const u = r.pick(real);
          pairs[r.int(0, pairs.length - 1)] = { nm: u.username, pw: u.password };
        }
        const template = b.form === 'login' ? p.login : p.me;
        const method = b.form === 'login' ? 'POST' : 'GET';
        await this.abuse(
          'auth_bruteforce',
          method,
          template,
          `credential stuffing: ${pairs.length} name/password pairs ${b.form === 'login' ? 'on the login endpoint' : 'as Basic credentials'}`,
          [{ kind: 'excessive_usage', method, template }],
          async () => {
            for (const { nm, pw } of pairs)
              await (b.form === 'login'
                ? this.send('POST', p.login, this.loginRequest(nm, pw))
                : this.send('GET', p.me, {
                    headers: { authorization: `Basic ${Buffer.from(`${nm}:${pw}`).toString('base64')}` },
                  }));
          },
        );
        return;
      }
      case 'harvest': {
        const template = b.form === 'pages' ? p.customers : p.customer;
        const acceptable: Abuse['acceptable'] = [{ kind: 'excessive_usage', method: 'GET', template }];
        if (b.form === 'records') acceptable.push({ kind: 'enumeration', method: 'GET', template });
        await this.abuse(
          'pii_harvest',
          'GET',
          template,
          b.form === 'pages'
            ? `${b.count} pages of ${b.size} customer records`
            : `${b.count} customer records one by one`,
          acceptable,
          async () => {
            if (b.form === 'pages') {
              const from = r.int(1, Math.max(1, Math.floor(w.customers / b.size) - b.count));
              for (let i = 0; i < b.count; i++) await this.ok('GET', `${p.customers}?page=${from + i}&size=${b.size}`);
            } else {
              const seen = new Set<number>();
              while (seen.size < b.count) {
                const n = r.int(1, w.customers);
                if (seen.has(n)) continue;
                seen.add(n);
                await this.ok('GET', fill(p.customer, { customerId: n }));
              }
            }
          },
        );
        return;
      }
    }
  }

  /** Login names to try: the real ones the attacker may know, and made-up ones. */
  loginNames(n: number): string[] {
    const r = this.rng;
    const out = new Set<string>();
    const real = this.world.users.map((u) => u.username);
    while (out.size < n)
      out.add(
        r.chance(0.4) ? r.pick(real) : `${r.pick(['admin', 'info', 'sales', 'j.smith', 'test'])}${r.int(1, 9999)}`,
      );
    return [...out];
  }
}

export async function runClients(world: World, target: { host: string; port: number }): Promise<ActorsTruth> {
  const runs = world.actors.map((a) => new ActorRun(world, a, target));
  const startUs = nowUs();
  // Phase 1 (clumsy logins and first normal rounds), then phase 2 for everyone at once.
  await Promise.all(
    runs.map(async (x) => {
      for (const b of x.actor.behaviours) await x.run(b, 1);
    }),
  );
  await Promise.all(
    runs.map(async (x) => {
      for (const b of x.actor.behaviours) await x.run(b, 2);
    }),
  );
  const endUs = nowUs();
  for (const x of runs) x.agent.destroy();
  const actors: TruthActor[] = runs.map((x) => ({
    name: x.actor.name,
    role: x.actor.role,
    ip: x.actor.ip,
    principalKind: x.user === undefined ? null : (PRINCIPAL_KIND[x.user.auth] ?? null),
    principal: x.principal(),
    requests: x.requests - x.anonymous,
    anonymous: x.anonymous,
    abuses: x.abuses,
  }));
  return {
    schema: 'actors-truth/v1',
    seed: world.seed,
    host: world.host,
    prefix: world.prefix,
    thresholds: { ...world.thresholds },
    startUs,
    endUs,
    requests: runs.reduce((s, x) => s + x.requests, 0),
    failures: runs.reduce((s, x) => s + x.failures, 0),
    actors,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      world: { type: 'string' },
      'truth-out': { type: 'string', default: 'truth.json' },
      port: { type: 'string', default: '80' },
    },
  });
  if (values.world === undefined) throw new Error('--world is required');
  const world = WorldSchema.parse(JSON.parse(readFileSync(values.world, 'utf8')));
  const t0 = performance.now();
  const truth = await runClients(world, { host: world.serverIp, port: Number(values.port) });
  writeActorsTruth(values['truth-out'], truth);
  process.stderr.write(
    `actors client: ${truth.requests} requests by ${truth.actors.length} actors in ${(performance.now() - t0).toFixed(0)} ms, ${truth.failures} unexpected answers\n`,
  );
  process.exit(truth.failures === 0 ? 0 : 4);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
