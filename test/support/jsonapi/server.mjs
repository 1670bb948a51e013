#!/usr/bin/env node
// A small, dependency-free JSON REST API used as the real upstream behind nginx in the netns lab
// (test/support/netns/lab.sh), for the demo capture (deploy/demo/make-demo.sh) and the benchmark
// capture (test/bench/make-capture.sh). Documented by ./openapi.yaml (except /internal/debug, on
// purpose: it is the "shadow" route).
//
// Every value is derived from --seed and the entity's index, never from the clock or request order,
// so two runs with the same seed serve byte-identical bodies (the `Date` header is off).
// All personal data is synthetic but *valid in form*: IBANs pass ISO 13616 mod-97, card numbers
// pass Luhn, phones are E.164 — so the PII detectors see realistic positives.
//
// Usage:
//   node server.mjs [--host 127.0.0.1] [--port 8080] [--seed 42]
//   node server.mjs --fixtures [--seed 42]   prints {"users":N,"orderIds":[...],...} for load scripts
//
// Response framing, on purpose a mix (what nginx forwards to the client differs again: nginx
// re-chunks anything it gzips itself):
//   - most routes: Content-Length
//   - GET /api/v1/users (list), GET /api/v1/orders/{uuid}/items, GET /api/v1/search: streamed,
//     no Content-Length (Transfer-Encoding: chunked), written in several pieces
//   - /api/v2/*: gzip by this server when the client sends Accept-Encoding: gzip (other routes are
//     left to nginx's own gzip)
import http from 'node:http';
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { URL } from 'node:url';
import { gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
function opt(name, dflt) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  if (v === undefined) {
    process.stderr.write(`jsonapi: --${name} needs a value\n`);
    process.exit(2);
  }
  return v;
}
const HOST = opt('host', '127.0.0.1');
const PORT = Number(opt('port', '8080'));
const SEED = Number(opt('seed', '42'));
const N_USERS = 1000;
const N_ORDERS = 400;
const N_PRODUCTS = 600;
const N_ACCOUNTS = 300;

// ---------- deterministic generators ----------
/** 32-bit seed from (seed, kind, index): entities are independent of each other and of request order. */
function seedOf(kind, i) {
  const h = createHash('sha256').update(`${SEED}/${kind}/${i}`).digest();
  return h.readUInt32BE(0);
}
/** mulberry32: tiny, fast, good enough for test data. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    digits: (n) => {
      let s = '';
      for (let k = 0; k < n; k++) s += String(Math.floor(next() * 10));
      return s;
    },
    hex: (n) => {
      let s = '';
      for (let k = 0; k < n; k++) s += Math.floor(next() * 16).toString(16);
      return s;
    },
  };
}

const FIRST = [
  'Alice',
  'Bob',
  'Carla',
  'David',
  'Elif',
  'Farid',
  'Greta',
  'Hiroshi',
  'Ines',
  'Jonas',
  'Katarzyna',
  'Liam',
  'Mei',
  'Noah',
  'Olga',
  'Pedro',
  'Quentin',
  'Rosa',
  'Sven',
  'Tamara',
  'Umar',
  'Valentina',
  'Wen',
  'Ximena',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Andersson',
  'Becker',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Horvath',
  'Ivanova',
  'Jansen',
  'Kowalski',
  'Lopez',
  'Müller',
  'Nakamura',
  "O'Brien",
  'Petrov',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Novak',
  'Weber',
];
const STREETS = [
  'Hauptstraße',
  'Baker Street',
  'Rue de Rivoli',
  'Calle Mayor',
  'Main Street',
  'Karl-Marx-Allee',
  'Kingsway',
  'Via Roma',
  'Elm Street',
  'Bahnhofstraße',
];
const CITIES = [
  { city: 'Berlin', postcode: () => '10' + '115', country: 'DE' },
  { city: 'London', postcode: () => 'SW1A 1AA', country: 'GB' },
  { city: 'Paris', postcode: () => '75001', country: 'FR' },
  { city: 'Madrid', postcode: () => '28013', country: 'ES' },
  { city: 'New York', postcode: () => '10001', country: 'US' },
  { city: 'Munich', postcode: () => '80331', country: 'DE' },
];
const PRODUCT_WORDS = ['Ergonomic', 'Wireless', 'Organic', 'Recycled', 'Smart', 'Compact', 'Deluxe', 'Rugged'];
const PRODUCT_NOUNS = [
  'Keyboard',
  'Chair',
  'Coffee Beans',
  'Backpack',
  'Headphones',
  'Lamp',
  'Water Bottle',
  'Notebook',
];

/** ISO 7064 mod 97-10 over a string of digits and letters (A=10 … Z=35). */
function mod97(s) {
  let r = 0;
  for (const ch of s) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) r = (r * 10 + Number(d)) % 97;
  }
  return r;
}
/** A valid IBAN (ISO 13616): check digits = 98 - mod97(BBAN + country + "00"). */
function iban(r, country) {
  let bban;
  if (country === 'GB') bban = r.pick(['NWBK', 'BARC', 'MIDL', 'LOYD']) + r.digits(6) + r.digits(8);
  else if (country === 'FR') {
    // RIB: bank(5) branch(5) account(11) key(2), key = 97 - (89·bank + 15·branch + 3·account) mod 97
    const bank = r.digits(5),
      branch = r.digits(5),
      acct = r.digits(11);
    const key = 97 - Number((89n * BigInt(bank) + 15n * BigInt(branch) + 3n * BigInt(acct)) % 97n);
    bban = bank + branch + acct + String(key).padStart(2, '0');
  } else if (country === 'ES') {
    // CCC: bank(4) branch(4) two mod-11 control digits, account(10)
    const bankBranch = r.digits(8),
      acct = r.digits(10);
    const dc = (s, w) => {
      const m = 11 - ([...s].reduce((t, d, k) => t + Number(d) * (w[k] ?? 0), 0) % 11);
      return m === 11 ? 0 : m === 10 ? 1 : m;
    };
    bban = bankBranch + dc(bankBranch, [4, 8, 5, 10, 9, 7, 3, 6]) + dc(acct, [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]) + acct;
  } else bban = r.digits(8) + r.digits(10); // DE (and the default for US customers): BLZ(8) account(10)
  const cc = country === 'US' ? 'DE' : country;
  const check = 98 - mod97(bban + cc + '00');
  return cc + String(check).padStart(2, '0') + bban;
}
/** A card number passing Luhn (ISO/IEC 7812): Visa 4…, Mastercard 51–55… */
function cardNumber(r) {
  const body = r.next() < 0.6 ? '4' + r.digits(14) : '5' + r.int(1, 5) + r.digits(13);
  let sum = 0;
  for (let k = 0; k < body.length; k++) {
    let d = Number(body[body.length - 1 - k]);
    if (k % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}
function phone(r, country) {
  switch (country) {
    case 'GB':
      return '+447' + r.digits(9);
    case 'FR':
      return '+336' + r.digits(8);
    case 'ES':
      return '+346' + r.digits(8);
    case 'US':
      return '+1' + r.int(2, 9) + r.digits(2) + r.int(2, 9) + r.digits(6);
    default:
      return '+4915' + r.int(1, 9) + r.digits(8);
  }
}
function uuid(r) {
  const h = r.hex(32).split('');
  h[12] = '4';
  h[16] = '89ab'[parseInt(h[16] ?? '0', 16) & 3];
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
function isoDay(r, fromYear, toYear) {
  return `${r.int(fromYear, toYear)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`;
}

function user(id) {
  const r = rng(seedOf('user', id));
  const first = r.pick(FIRST);
  const last = r.pick(LAST);
  const place = r.pick(CITIES);
  const asciiLast = last
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
  return {
    id,
    username: `${first.toLowerCase()}.${asciiLast}${id}`,
    name: `${first} ${last}`,
    // Mostly free-mail domains (as Faker does): detectors rightly ignore RFC 2606 example.* addresses,
    // so those alone would hide email PII; one in six stays at example.com to exercise that rule.
    email: `${first.toLowerCase()}.${asciiLast}${id}@${r.pick(['gmail.com', 'outlook.com', 'gmx.de', 'yahoo.co.uk', 'web.de', 'example.com'])}`,
    phone: phone(r, place.country),
    date_of_birth: isoDay(r, 1950, 2004),
    address: {
      street: `${r.pick(STREETS)} ${r.int(1, 240)}`,
      city: place.city,
      postcode: place.postcode(),
      country: place.country,
    },
    payment: {
      iban: iban(r, place.country),
      card: {
        number: cardNumber(r),
        expiry: `${String(r.int(1, 12)).padStart(2, '0')}/${r.int(26, 31)}`,
        holder: `${first} ${last}`.toUpperCase(),
      },
    },
    created_at: `${isoDay(r, 2019, 2024)}T${String(r.int(0, 23)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}:00Z`,
    roles: r.next() < 0.05 ? ['admin', 'user'] : ['user'],
  };
}
function product(id) {
  const r = rng(seedOf('product', id));
  return {
    id,
    sku: `SKU-${r.hex(8).toUpperCase()}`,
    name: `${r.pick(PRODUCT_WORDS)} ${r.pick(PRODUCT_NOUNS)}`,
    price: { amount: r.int(199, 49999) / 100, currency: r.pick(['EUR', 'USD', 'GBP']) },
    stock: r.int(0, 500),
    tags: [r.pick(['new', 'sale', 'eco', 'bestseller']), r.pick(['home', 'office', 'outdoor'])],
    description: Array.from({ length: r.int(2, 6) }, () =>
      r.pick([
        'Durable and light.',
        'Ships in 24h.',
        'Two-year warranty.',
        'Made from recycled materials.',
        'Loved by customers.',
        'Limited edition.',
      ]),
    ).join(' '),
  };
}
const orderIds = Array.from({ length: N_ORDERS }, (_, i) => uuid(rng(seedOf('order-id', i + 1))));
const orderIndex = new Map(orderIds.map((id, i) => [id, i + 1]));
function order(i) {
  const r = rng(seedOf('order', i));
  const customer = r.int(1, N_USERS);
  const nItems = r.int(1, 12);
  const items = Array.from({ length: nItems }, (_, k) => {
    const p = product(r.int(1, N_PRODUCTS));
    return { line: k + 1, product_id: p.id, sku: p.sku, name: p.name, quantity: r.int(1, 5), unit_price: p.price };
  });
  const u = user(customer);
  return {
    id: orderIds[i - 1],
    customer_id: customer,
    status: r.pick(['pending', 'paid', 'shipped', 'delivered', 'cancelled']),
    placed_at: `${isoDay(r, 2023, 2024)}T10:00:00Z`,
    shipping_address: u.address,
    contact: { email: u.email, phone: u.phone },
    items,
  };
}
function account(id) {
  const r = rng(seedOf('account', id));
  const owner = user(r.int(1, N_USERS));
  return {
    id,
    owner: owner.name,
    iban: owner.payment.iban,
    bic: `${r.pick(['DEUT', 'COBA', 'BNPA', 'BARC'])}${owner.address.country}${r.pick(['FF', 'MM', '2L'])}XXX`,
    balance: { amount: r.int(-50000, 5000000) / 100, currency: 'EUR' },
    opened: isoDay(r, 2005, 2023),
  };
}

if (args.includes('--fixtures')) {
  process.stdout.write(JSON.stringify({ users: N_USERS, products: N_PRODUCTS, accounts: N_ACCOUNTS, orderIds }) + '\n');
  process.exit(0);
}

// ---------- HTTP ----------
const JSON_TYPE = 'application/json; charset=utf-8';

function send(req, res, status, body, extraHeaders = {}) {
  let buf = Buffer.from(JSON.stringify(body));
  const headers = { 'Content-Type': JSON_TYPE, ...extraHeaders };
  const wantsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (wantsGzip && req.url.startsWith('/api/v2/') && buf.length >= 512) {
    buf = gzipSync(buf, { level: 6 });
    headers['Content-Encoding'] = 'gzip';
    headers['Vary'] = 'Accept-Encoding';
  }
  headers['Content-Length'] = String(buf.length);
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : buf);
}
/** Streams a JSON array in pieces with no Content-Length (Node then uses chunked encoding). */
function stream(res, head, items, tail = ']}') {
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store' });
  res.write(head);
  const PER_CHUNK = 25;
  let k = 0;
  const pump = () => {
    while (k < items.length) {
      const end = Math.min(k + PER_CHUNK, items.length);
      let piece = '';
      for (; k < end; k++) piece += (k > 0 ? ',' : '') + JSON.stringify(items[k]());
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end(tail);
  };
  pump();
}
function notFound(req, res) {
  send(req, res, 404, { error: 'not_found', message: 'no such resource', path: req.url.split('?')[0] });
}
function intParam(v, lo, hi, dflt) {
  if (v === null || v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) return NaN;
  const n = Number(v);
  return n < lo || n > hi ? NaN : n;
}
function tokenFor(username) {
  return createHash('sha256').update(`${SEED}/token/${username}`).digest('base64url');
}
/** The "current user" is the one whose token is presented; default user 1 for an unknown token. */
function currentUserId(req) {
  const auth = String(req.headers['authorization'] ?? '');
  const m = /^Bearer\s+(\S+)$/.exec(auth);
  if (!m) return 0;
  for (let id = 1; id <= 50; id++) if (tokenFor(user(id).username) === m[1]) return id;
  return 1;
}

function readBody(req, limit, done) {
  const parts = [];
  let n = 0;
  req.on('data', (c) => {
    n += c.length;
    if (n <= limit) parts.push(c);
  });
  req.on('end', () => done(n > limit ? null : Buffer.concat(parts)));
}

const routes = [
  ['GET', /^\/health$/, (req, res) => send(req, res, 200, { status: 'ok', service: 'jsonapi', version: '1.4.2' })],
  [
    'GET',
    /^\/api\/v1\/users\/me$/,
    (req, res) => {
      const id = currentUserId(req);
      if (id === 0) return send(req, res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="api"' });
      send(req, res, 200, user(id));
    },
  ],
  [
    'GET',
    /^\/api\/v1\/users\/(\d+)$/,
    (req, res, m) => {
      const id = Number(m[1]);
      if (id < 1 || id > N_USERS) return notFound(req, res);
      send(req, res, 200, user(id));
    },
  ],
  [
    'GET',
    /^\/api\/v1\/users$/,
    (req, res, _m, q) => {
      const limit = intParam(q.get('limit'), 1, N_USERS, 50);
      const offset = intParam(q.get('offset'), 0, N_USERS, 0);
      if (Number.isNaN(limit) || Number.isNaN(offset))
        return send(req, res, 400, { error: 'bad_request', message: 'limit/offset' });
      const ids = [];
      for (let id = offset + 1; id <= Math.min(N_USERS, offset + limit); id++) ids.push(() => user(id));
      stream(res, `{"offset":${offset},"limit":${limit},"total":${N_USERS},"users":[`, ids);
    },
  ],
  [
    'GET',
    /^\/api\/v1\/orders\/([0-9a-f-]{36})$/,
    (req, res, m) => {
      const i = orderIndex.get(m[1]);
      if (i === undefined) return notFound(req, res);
      const o = order(i);
      send(req, res, 200, { ...o, items: undefined, item_count: o.items.length });
    },
  ],
  [
    'GET',
    /^\/api\/v1\/orders\/([0-9a-f-]{36})\/items$/,
    (req, res, m) => {
      const i = orderIndex.get(m[1]);
      if (i === undefined) return notFound(req, res);
      const o = order(i);
      stream(
        res,
        `{"order_id":"${o.id}","items":[`,
        o.items.map((it) => () => it),
      );
    },
  ],
  [
    'POST',
    /^\/api\/v1\/orders$/,
    (req, res) =>
      readBody(req, 64 * 1024, (body) => {
        let parsed;
        try {
          parsed = body ? JSON.parse(body.toString('utf8')) : null;
        } catch {
          parsed = null;
        }
        if (!parsed || !Array.isArray(parsed.items))
          return send(req, res, 422, { error: 'invalid_order', message: 'items[] required' });
        const n = (parsed.items.length % N_ORDERS) + 1;
        send(
          req,
          res,
          201,
          { id: orderIds[n - 1], status: 'pending', items: parsed.items.length },
          { Location: `/api/v1/orders/${orderIds[n - 1]}` },
        );
      }),
  ],
  [
    'POST',
    /^\/api\/v1\/login$/,
    (req, res) =>
      readBody(req, 16 * 1024, (body) => {
        let parsed;
        try {
          parsed = body ? JSON.parse(body.toString('utf8')) : null;
        } catch {
          parsed = null;
        }
        if (!parsed || typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
          return send(req, res, 400, { error: 'bad_request', message: 'username and password required' });
        }
        if (parsed.password.length < 8 || parsed.password === 'wrong-password') {
          return send(req, res, 401, { error: 'invalid_credentials' });
        }
        send(
          req,
          res,
          200,
          { access_token: tokenFor(parsed.username), token_type: 'Bearer', expires_in: 3600 },
          {
            'Cache-Control': 'no-store',
            'Set-Cookie': `session=${tokenFor('s/' + parsed.username).slice(0, 24)}; Path=/; HttpOnly; Secure`,
          },
        );
      }),
  ],
  [
    'GET',
    /^\/api\/v1\/search$/,
    (req, res, _m, q) => {
      const term = (q.get('q') ?? '').toLowerCase();
      const hits = [];
      for (let id = 1; id <= N_PRODUCTS && hits.length < 200; id++) {
        const p = product(id);
        if (!term || p.name.toLowerCase().includes(term)) hits.push(() => p);
      }
      stream(res, `{"query":${JSON.stringify(term)},"results":[`, hits);
    },
  ],
  // Deprecated v1 route: still served, announces its retirement (RFC 9745 Deprecation, RFC 8594 Sunset).
  [
    'GET',
    /^\/api\/v1\/accounts\/(\d+)$/,
    (req, res, m) => {
      const id = Number(m[1]);
      if (id < 1 || id > N_ACCOUNTS) return notFound(req, res);
      send(req, res, 200, account(id), {
        Deprecation: 'true',
        Sunset: 'Wed, 31 Dec 2025 23:59:59 GMT',
        Link: `</api/v2/accounts/${id}>; rel="successor-version"`,
      });
    },
  ],
  [
    'GET',
    /^\/api\/v2\/accounts\/(\d+)$/,
    (req, res, m) => {
      const id = Number(m[1]);
      if (id < 1 || id > N_ACCOUNTS) return notFound(req, res);
      send(req, res, 200, account(id));
    },
  ],
  [
    'GET',
    /^\/api\/v2\/products$/,
    (req, res, _m, q) => {
      const page = intParam(q.get('page'), 1, 1000, 1);
      const per = intParam(q.get('per_page'), 1, 200, 20);
      if (Number.isNaN(page) || Number.isNaN(per))
        return send(req, res, 400, { error: 'bad_request', message: 'page/per_page' });
      const items = [];
      for (let id = (page - 1) * per + 1; id <= Math.min(N_PRODUCTS, page * per); id++) items.push(product(id));
      const last = Math.ceil(N_PRODUCTS / per);
      send(
        req,
        res,
        200,
        { page, per_page: per, total: N_PRODUCTS, items },
        page < last ? { Link: `</api/v2/products?page=${page + 1}&per_page=${per}>; rel="next"` } : {},
      );
    },
  ],
  [
    'GET',
    /^\/api\/v2\/products\/(\d+)$/,
    (req, res, m) => {
      const id = Number(m[1]);
      if (id < 1 || id > N_PRODUCTS) return notFound(req, res);
      send(req, res, 200, product(id));
    },
  ],
  // Documented in openapi.yaml but never called by the lab's load scripts: the "orphan".
  [
    'GET',
    /^\/api\/v2\/reports\/([a-z0-9-]+)$/,
    (req, res, m) => send(req, res, 200, { id: m[1], status: 'ready', rows: 0 }),
  ],
  // Undocumented on purpose: the "shadow" route. Leaks internals the way real debug endpoints do.
  [
    'GET',
    /^\/internal\/debug$/,
    (req, res) =>
      send(req, res, 200, {
        build: 'jsonapi 1.4.2 (commit 3f9c2ab)',
        uptime_s: 86400,
        config: {
          db_url: 'postgres://api:REDACTED@db.internal:5432/shop',
          feature_flags: ['new-checkout', 'beta-search'],
        },
        admin_contact: user(1).email,
        last_error: null,
      }),
  ],
];

const server = http.createServer((req, res) => {
  res.sendDate = false; // determinism: nginx adds its own Date in front anyway
  const url = new URL(req.url ?? '/', 'http://x');
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  let pathMatched = false;
  for (const [m, re, handler] of routes) {
    const hit = re.exec(url.pathname);
    if (!hit) continue;
    pathMatched = true;
    if (m !== method) continue;
    return handler(req, res, hit, url.searchParams);
  }
  if (pathMatched) return send(req, res, 405, { error: 'method_not_allowed' });
  notFound(req, res);
});
server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive_timeout, so nginx closes first
server.headersTimeout = 66_000;
server.on('error', (e) => {
  process.stderr.write(`jsonapi: ${e.message}\n`);
  process.exit(1);
});
server.listen(PORT, HOST, () => process.stdout.write(`jsonapi listening on ${HOST}:${PORT} seed=${SEED}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
