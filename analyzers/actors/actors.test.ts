// Actors and behaviour findings, through the real analysis: exchanges → createAnalysis (path tree,
// PII scanner, actor identity) → actor events → detectBehaviour over the final templates. Each
// detector has a true positive and near misses below its thresholds; ordinary multi-user traffic
// gives none; the output does not depend on event order or on how hosts are sharded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange, HeaderPair } from '../../engine/contracts/exchange.js';
import type { Finding } from '../../engine/contracts/inventory.js';
import { createAnalysis, type Analysis } from '../analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../pii/index.js';
import { ex, type ExOpts } from '../testing.js';
import { BEHAVIOUR_DEFAULTS, detectBehaviour, resolverOf, type BehaviourResult } from './detect.js';
import type { ActorEvent } from './event.js';
import { ActorIdentifier, forwardedHop } from './identity.js';

const SECRET = 'actors-test-secret';
const T0 = 1_760_000_000_000_000;
const S = 1_000_000;

function analysis(ipMode: 'raw' | 'hash' = 'raw'): Analysis {
  return createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner: createPiiScanner({ secret: SECRET }), aggregator: createPiiFieldAggregator() },
    actors: { secret: SECRET, ipMode, keepEvents: true, maxEvents: 1_000_000 },
  });
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>): string => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2ln`;
const bearer = (sub: string): HeaderPair => ['Authorization', `Bearer ${jwt({ sub, iat: 1 })}`];

let seq = 0;
function req(ip: string, method: string, target: string, o: ExOpts & { atS: number }): Exchange {
  const n = seq++;
  const e = ex(method, target, { ...o, us: T0 + Math.round(o.atS * S), seq: n, id: `x${n}` });
  return { ...e, client: { ip, port: 40000 + (seq % 20000) } };
}

function run(a: Analysis, xs: readonly Exchange[]): BehaviourResult {
  for (const x of xs) a.observe(x);
  return detectBehaviour([...a.actorEvents()], resolverOf(a.pathMap()), BEHAVIOUR_DEFAULTS);
}
const kinds = (r: BehaviourResult): string[] => r.findings.map((f) => f.kind).sort();
const only = (r: BehaviourResult, kind: string): Finding[] => r.findings.filter((f) => f.kind === kind);

/** Ordinary traffic: `users` principals, each reading its own profile and a few shared products. */
function ordinary(users: number, fromS = 0): Exchange[] {
  const out: Exchange[] = [];
  for (let u = 0; u < users; u++) {
    const ip = `10.1.0.${10 + u}`;
    for (let k = 0; k < 6; k++) {
      const at = fromS + u * 3 + k * 20;
      out.push(req(ip, 'GET', `/api/users/user${u}`, { atS: at, headers: [bearer(`user${u}`)] }));
      out.push(req(ip, 'GET', `/api/products/${100 + ((u + k) % 7)}`, { atS: at + 1, headers: [bearer(`user${u}`)] }));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Identity

test('identity: JWT sub, client id, Basic user, API key, session; IP-only without credentials', () => {
  const id = new ActorIdentifier({ secret: SECRET, ipMode: 'raw' });
  const of = (headers: HeaderPair[], target = '/x') =>
    id.identify(req('192.0.2.7', 'GET', target, { atS: 0, headers }));
  const sub = of([bearer('alice-1234')]);
  assert.equal(sub.principalKind, 'jwt_sub');
  assert.equal(sub.principal, 'al****');
  assert.equal(sub.ip, '192.0.2.7');
  assert.equal(sub.principalHash.length, 32);
  const client = of([['Authorization', `Bearer ${jwt({ client_id: 'svc-billing' })}`]]);
  assert.equal(client.principalKind, 'jwt_client');
  const azp = of([['Authorization', `Bearer ${jwt({ azp: 'svc-billing' })}`]]);
  assert.equal(azp.principalHash, client.principalHash, 'client_id and azp name the same client');
  const basic = of([['Authorization', `Basic ${Buffer.from('bob:s3cret-pass').toString('base64')}`]]);
  assert.equal(basic.principalKind, 'basic_user');
  const basic2 = of([['Authorization', `Basic ${Buffer.from('bob:other-pass').toString('base64')}`]]);
  assert.equal(basic2.id, basic.id, 'the password is not part of the identity');
  const key = of([['X-Api-Key', 'k_live_abcdefghijklmnop']]);
  assert.equal(key.principalKind, 'api_key');
  const qkey = of([], '/x?api_key=k_live_abcdefghijklmnop');
  assert.equal(qkey.id, key.id, 'the same key in the query names the same actor');
  const cookie = of([['Cookie', 'theme=dark; sessionid=8f7e6d5c4b3a29181716']]);
  assert.equal(cookie.principalKind, 'session');
  const cookieJwt = of([['Cookie', `auth_token=${jwt({ sub: 'alice-1234' })}`]]);
  assert.equal(cookieJwt.id, sub.id, 'a JWT in a session cookie names its subject');
  const none = of([['Cookie', 'theme=dark']]);
  assert.equal(none.principalKind, '');
  assert.equal(none.principal, '');
  const text = JSON.stringify([sub, client, basic, key, cookie, none]);
  for (const raw of ['alice-1234', 'svc-billing', 'bob', 's3cret', 'k_live_abcdefghijklmnop', '8f7e6d5c4b3a29181716']) {
    assert.ok(!text.includes(raw), `raw value ${raw} never leaves identify()`);
  }
});

test('identity: X-Forwarded-For is kept beside the TCP peer, never as identity; --actor-ip hash', () => {
  const id = new ActorIdentifier({ secret: SECRET, ipMode: 'raw' });
  const a = id.identify(
    req('192.0.2.7', 'GET', '/x', { atS: 0, headers: [['X-Forwarded-For', '203.0.113.9, 10.0.0.1']] }),
  );
  const b = id.identify(req('192.0.2.7', 'GET', '/x', { atS: 0, headers: [['X-Forwarded-For', '198.51.100.3']] }));
  assert.equal(a.forwardedFor, '203.0.113.9');
  assert.equal(a.id, b.id, 'a different forwarded hop does not make another actor');
  const fwd = req('192.0.2.7', 'GET', '/x', {
    atS: 0,
    headers: [['Forwarded', 'for="[2001:db8::17]:4711";proto=http']],
  });
  assert.equal(forwardedHop(fwd), '2001:db8::17');
  const hashed = new ActorIdentifier({ secret: SECRET, ipMode: 'hash' }).identify(
    req('192.0.2.7', 'GET', '/x', { atS: 0, headers: [['X-Forwarded-For', '203.0.113.9']] }),
  );
  assert.match(hashed.ip, /^hmac:[0-9a-f]{32}$/);
  assert.match(hashed.forwardedFor, /^hmac:[0-9a-f]{32}$/);
  assert.ok(!JSON.stringify(hashed).includes('192.0.2.7'));
});

test('actor events hold no raw path values, login names or personal data', () => {
  const a = analysis();
  run(a, [
    req('10.2.0.1', 'POST', '/api/login', {
      atS: 0,
      reqJson: { username: 'carol@acme-shop.nl', password: 'hunter2hunter2' },
      status: 401,
    }),
    req('10.2.0.1', 'GET', '/api/customers/jan.jansen%40acme-shop.nl', {
      atS: 1,
      headers: [bearer('carol')],
      resJson: { email: 'jan.jansen@acme-shop.nl', phone: '+31612345678' },
    }),
  ]);
  const text = JSON.stringify(a.actorEvents().map((e) => ({ ...e, path: '' })));
  for (const raw of ['carol', 'hunter2', 'jan.jansen', 'acme-shop', '31612345678']) assert.ok(!text.includes(raw), raw);
  const [login, read] = a.actorEvents() as [ActorEvent, ActorEvent];
  assert.notEqual(login.loginHash, '', 'the sign-in presented a login name');
  assert.ok(read.piiReceived.length >= 1, 'the response carried personal data');
});

// ---------------------------------------------------------------------------------------------
// enumeration

function walker(n: number, stepS: number, ip = '10.9.0.66'): Exchange[] {
  const out: Exchange[] = [];
  for (let i = 0; i < n; i++) {
    out.push(req(ip, 'GET', `/api/orders/${5000 + i * 7}`, { atS: 30 + i * stepS, status: i % 3 === 0 ? 200 : 404 }));
  }
  return out;
}

test('enumeration: one actor walking 60 ids of one endpoint within 5 minutes', () => {
  const r = run(analysis(), [...ordinary(6), ...walker(60, 2)]);
  assert.deepEqual(kinds(r), ['enumeration']);
  const f = only(r, 'enumeration')[0] as Finding;
  assert.equal(f.path, '/api/orders/{orderId}');
  assert.equal(f.actor?.ip, '10.9.0.66');
  assert.equal(f.actor?.principal, null);
  assert.equal(f.details['distinctValues'], 60);
  assert.equal(f.details['status404'], 40);
  assert.equal(f.details['notFoundOrForbiddenShare'], 0.667);
  assert.equal(f.firstSeen, new Date((T0 + 30 * S) / 1000).toISOString().replace('Z', '000Z'));
});

test('enumeration near misses: 49 ids, or 60 ids spread over 30 minutes', () => {
  assert.deepEqual(kinds(run(analysis(), [...ordinary(6), ...walker(49, 2)])), []);
  assert.deepEqual(kinds(run(analysis(), [...ordinary(6), ...walker(60, 30)])), []);
});

test('enumeration through a query parameter', () => {
  const xs: Exchange[] = [];
  for (let i = 0; i < 55; i++)
    xs.push(req('10.9.0.67', 'GET', `/api/invoice?invoiceId=${900 + i}`, { atS: i, status: 404 }));
  const r = run(analysis(), xs);
  const f = only(r, 'enumeration')[0] as Finding;
  assert.equal(f.details['parameter'], '?invoiceid');
  assert.equal(f.details['distinctValues'], 55);
});

// ---------------------------------------------------------------------------------------------
// bola_suspect

function ownOrders(users: number): Exchange[] {
  const out: Exchange[] = [];
  for (let u = 0; u < users; u++) {
    for (let o = 0; o < 4; o++) {
      out.push(
        req(`10.1.1.${u}`, 'GET', `/api/users/user${u}/orders/${u * 100 + o}`, {
          atS: u * 5 + o,
          headers: [bearer(`user${u}`)],
        }),
      );
    }
  }
  return out;
}

test('bola_suspect (path binding): a principal reading orders under other users’ own paths', () => {
  const thief = [0, 1, 2].map((u, i) =>
    req('10.9.1.1', 'GET', `/api/users/user${u}/orders/${u * 100 + 1}`, { atS: 100 + i, headers: [bearer('user7')] }),
  );
  const r = run(analysis(), [...ownOrders(8), ...thief]);
  assert.deepEqual(kinds(r), ['bola_suspect']);
  const f = only(r, 'bola_suspect')[0] as Finding;
  assert.equal(f.actor?.principalKind, 'jwt_sub');
  assert.deepEqual(f.details['binding'], { path: 3, created: 0, first_and_mostly: 0 });
  assert.equal(f.details['owners'], 3);
  assert.match(f.evidence, /signature not verified/);
  // Near miss: two objects only; and a refused attempt (403) is no access.
  const two = thief.slice(0, 2);
  const refused = req('10.9.1.1', 'GET', '/api/users/user3/orders/301', {
    atS: 110,
    headers: [bearer('user7')],
    status: 403,
  });
  assert.deepEqual(kinds(run(analysis(), [...ownOrders(8), ...two, refused])), []);
});

test('bola_suspect (created by): a principal reading orders other principals created', () => {
  const xs: Exchange[] = [];
  for (let u = 0; u < 5; u++) {
    const id = `ord-${u}a9f3`;
    xs.push(
      req(`10.1.2.${u}`, 'POST', '/api/orders', {
        atS: u,
        headers: [bearer(`buyer${u}`)],
        status: 201,
        resHeaders: [['Location', `/api/orders/${id}`]],
      }),
    );
    xs.push(req(`10.1.2.${u}`, 'GET', `/api/orders/${id}`, { atS: 10 + u, headers: [bearer(`buyer${u}`)] }));
  }
  const thief = [0, 1, 2].map((u) =>
    req('10.9.2.1', 'GET', `/api/orders/ord-${u}a9f3`, { atS: 50 + u, headers: [bearer('buyer9')] }),
  );
  const r = run(analysis(), [...xs, ...thief]);
  assert.deepEqual(kinds(r), ['bola_suspect']);
  assert.deepEqual((only(r, 'bola_suspect')[0] as Finding).details['binding'], {
    path: 0,
    created: 3,
    first_and_mostly: 0,
  });
  assert.deepEqual(kinds(run(analysis(), xs)), [], 'owners reading their own orders');
});

test('bola_suspect (first and mostly accessed) only where objects are private', () => {
  const docs = (shared: boolean): Exchange[] => {
    const out: Exchange[] = [];
    for (let u = 0; u < 8; u++) {
      for (let k = 0; k < 3; k++) {
        out.push(
          req(`10.1.3.${u}`, 'GET', `/api/documents/${7000 + u}`, { atS: u * 4 + k, headers: [bearer(`emp${u}`)] }),
        );
        // Shared documents: everyone also reads the next colleague's document.
        if (shared)
          out.push(
            req(`10.1.3.${u}`, 'GET', `/api/documents/${7000 + ((u + 1) % 8)}`, {
              atS: 40 + u,
              headers: [bearer(`emp${u}`)],
            }),
          );
      }
    }
    return out;
  };
  const thief = [0, 1, 2, 3].map((u) =>
    req('10.9.3.1', 'GET', `/api/documents/${7000 + u}`, { atS: 100 + u, headers: [bearer('emp9')] }),
  );
  const r = run(analysis(), [...docs(false), ...thief]);
  assert.deepEqual(kinds(r), ['bola_suspect']);
  assert.deepEqual((only(r, 'bola_suspect')[0] as Finding).details['binding'], {
    path: 0,
    created: 0,
    first_and_mostly: 4,
  });
  assert.deepEqual(kinds(run(analysis(), [...docs(true), ...thief])), [], 'shared objects bind to no one');
});

// ---------------------------------------------------------------------------------------------
// auth_bruteforce

function sprayer(n: number, names: number, ip = '10.9.4.4'): Exchange[] {
  const out: Exchange[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      req(ip, 'POST', '/api/login', {
        atS: 200 + i * 3,
        reqJson: { username: `user${i % names}@acme-shop.nl`, password: `Winter${i}!` },
        status: 401,
      }),
    );
  }
  return out;
}

test('auth_bruteforce: many failed sign-ins from one IP; credential stuffing with many login names', () => {
  const logins = Array.from({ length: 6 }, (_, u) =>
    req(`10.1.4.${u}`, 'POST', '/api/login', {
      atS: u * 10,
      reqJson: { username: `user${u}@acme-shop.nl`, password: 'x' },
    }),
  );
  const r = run(analysis(), [...logins, ...ordinary(4), ...sprayer(25, 25)]);
  assert.deepEqual(kinds(r), ['auth_bruteforce']);
  const f = only(r, 'auth_bruteforce')[0] as Finding;
  assert.equal(f.actor?.ip, '10.9.4.4');
  assert.equal(f.details['pattern'], 'credential_stuffing');
  assert.equal(f.details['failures'], 25);
  assert.equal(f.details['distinctPrincipals'], 25);
  const brute = only(run(analysis(), sprayer(22, 2)), 'auth_bruteforce')[0] as Finding;
  assert.equal(brute.details['pattern'], 'brute_force');
  // Near misses: 19 failures with 9 names; 30 failures spread over an hour.
  assert.deepEqual(kinds(run(analysis(), [...logins, ...sprayer(19, 9)])), []);
  const slow = sprayer(30, 5).map((x, i) => ({
    ...x,
    request: x.request && { ...x.request, startUs: T0 + i * 120 * S },
  }));
  assert.deepEqual(kinds(run(analysis(), slow)), []);
});

test('auth_bruteforce: refused calls count once per credential and endpoint; many credentials count', () => {
  // A client polling with an expired token: 60 refusals of one call are one failed attempt.
  const poller = Array.from({ length: 60 }, (_, i) =>
    req('10.1.7.1', 'GET', '/api/me', { atS: i * 4, headers: [bearer('stale-user')], status: 401 }),
  );
  assert.deepEqual(kinds(run(analysis(), [...ordinary(4), ...poller])), []);
  // Token guessing: 30 distinct bearer tokens refused by one endpoint.
  const guesser = Array.from({ length: 30 }, (_, i) =>
    req('10.9.7.7', 'GET', '/api/me', {
      atS: i,
      headers: [['Authorization', `Bearer tok${i}abcdef0123456789`]],
      status: 401,
    }),
  );
  const f = only(run(analysis(), [...ordinary(4), ...guesser]), 'auth_bruteforce')[0] as Finding;
  assert.equal(f.actor?.ip, '10.9.7.7');
  assert.equal(f.details['failures'], 30);
});

// ---------------------------------------------------------------------------------------------
// excessive_usage

function steady(users: number, perBucket: number, buckets: number): Exchange[] {
  const out: Exchange[] = [];
  for (let u = 0; u < users; u++) {
    for (let b = 0; b < buckets; b++) {
      for (let k = 0; k < perBucket; k++) {
        out.push(
          req(`10.1.5.${u}`, 'GET', '/api/search', { atS: b * 10 + u * 0.1 + k, headers: [bearer(`reader${u}`)] }),
        );
      }
    }
  }
  return out;
}
function hammer(buckets: number, perBucket: number): Exchange[] {
  const out: Exchange[] = [];
  for (let b = 0; b < buckets; b++) {
    for (let k = 0; k < perBucket; k++) {
      out.push(
        req('10.9.5.5', 'GET', '/api/search', {
          atS: 20 + b * 10 + (k * 9.9) / perBucket,
          headers: [bearer('scraper')],
        }),
      );
    }
  }
  return out;
}

test('excessive_usage: an actor far above the endpoint’s per-actor rate, sustained', () => {
  const r = run(analysis(), [...steady(5, 2, 12), ...hammer(5, 120)]);
  assert.deepEqual(kinds(r), ['excessive_usage']);
  const f = only(r, 'excessive_usage')[0] as Finding;
  assert.equal(f.actor?.principalKind, 'jwt_sub');
  assert.equal(f.details['bucketsOver'], 5);
  assert.equal(f.details['peakPerBucket'], 120);
  // Near misses: a two-bucket burst; and a rate below the floor.
  assert.deepEqual(kinds(run(analysis(), [...steady(5, 2, 12), ...hammer(2, 120)])), []);
  assert.deepEqual(kinds(run(analysis(), [...steady(5, 2, 12), ...hammer(5, 40)])), []);
});

// ---------------------------------------------------------------------------------------------
// pii_harvest

const FIRST = ['jan', 'piet', 'klaas', 'anna', 'sara', 'eva', 'tom', 'lisa', 'noah', 'emma'];
const email = (i: number): string => `${FIRST[i % 10]}.${FIRST[Math.floor(i / 10) % 10]}${i}@acme-shop.nl`;
function customerPages(ip: string, who: string, pages: number, perPage: number, from: number, atS: number): Exchange[] {
  const out: Exchange[] = [];
  for (let p = 0; p < pages; p++) {
    const items = Array.from({ length: perPage }, (_, k) => ({
      id: from + p * perPage + k,
      email: email(from + p * perPage + k),
    }));
    out.push(req(ip, 'GET', `/api/customers?page=${p}`, { atS: atS + p, headers: [bearer(who)], resJson: { items } }));
  }
  return out;
}

test('pii_harvest: one actor receives far more distinct personal-data values than the others', () => {
  const normal = [0, 1, 2, 3].flatMap((u) => customerPages(`10.1.6.${u}`, `agent${u}`, 1, 2, u * 2, u * 5));
  const r = run(analysis(), [...normal, ...customerPages('10.9.6.6', 'harvester', 8, 25, 100, 100)]);
  assert.deepEqual(kinds(r), ['pii_harvest'], JSON.stringify(r.findings.map((x) => x.details)));
  const f = only(r, 'pii_harvest')[0] as Finding;
  assert.equal(f.actor?.principalKind, 'jwt_sub');
  // 200 values sent; settled fields are sampled by the PII scanner (pii/sampling.ts), so fewer are seen.
  assert.ok((f.details['distinctValues'] as number) >= 100, JSON.stringify(f.details));
  // Near miss: 40 distinct values stay below the minimum.
  assert.deepEqual(kinds(run(analysis(), [...normal, ...customerPages('10.9.6.6', 'harvester', 2, 20, 100, 100)])), []);
});

// ---------------------------------------------------------------------------------------------
// Ordinary traffic, determinism, sharding

test('ordinary multi-user traffic gives no behaviour finding', () => {
  const r = run(analysis(), [...ordinary(30), ...ownOrders(12), ...steady(6, 3, 20)]);
  assert.deepEqual(kinds(r), []);
  assert.ok(r.actors.length >= 30);
});

test('findings and actors do not depend on event order or on sharding by host', () => {
  const all = [
    ...ordinary(6).map((x) => withHost(x, 'shop.example')),
    ...walker(60, 2).map((x) => withHost(x, 'orders.example')),
    ...sprayer(25, 25).map((x) => withHost(x, 'auth.example')),
    ...walker(10, 1, '10.9.4.4').map((x) => withHost(x, 'shop.example')),
  ];
  const whole = analysis();
  for (const x of all) whole.observe(x);
  const events = [...whole.actorEvents()];
  const one = detectBehaviour([...events], resolverOf(whole.pathMap()));
  const reversed = detectBehaviour([...events].reverse(), resolverOf(whole.pathMap()));
  assert.deepEqual(reversed, one);
  // Two shards by host, merged as replay --workers does.
  const shards = [analysis(), analysis()];
  for (const x of all) (shards[x.request?.headers[0]?.[1] === 'auth.example' ? 1 : 0] as Analysis).observe(x);
  const merged = detectBehaviour(
    shards.flatMap((s) => s.actorEvents()),
    resolverOf(shards.flatMap((s) => s.pathMap())),
  );
  assert.equal(JSON.stringify(merged), JSON.stringify(one));
  assert.deepEqual(kinds(one), ['auth_bruteforce', 'enumeration']);
  const sprayerActor = one.actors.find((a) => a.ip === '10.9.4.4');
  assert.ok(sprayerActor !== undefined && sprayerActor.endpoints === 2, 'an IP actor spans hosts');
});

function withHost(x: Exchange, host: string): Exchange {
  const r = x.request;
  if (r === null) return x;
  return { ...x, request: { ...r, headers: [['Host', host], ...r.headers.filter(([k]) => k !== 'Host')] } };
}
