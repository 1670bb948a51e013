// The seeded world of the behaviour-accuracy harness: one JSON API (users, orders, products, customer
// records, a login endpoint), its principals (bearer JWTs, API keys, Basic users, session cookies), the
// client IPs, and the actors: normal clients, near misses (normal clients that come close to a
// threshold without crossing it) and planted abusers, one or two per finding kind.
//
// Everything that a detector could be fitted to is drawn from the seed: path prefix and resource
// names, id formats, which user authenticates how, how many ids a walker walks and how dense the
// existing ids are, how many objects a BOLA reader takes and in which path form, how far above the
// baseline a hammerer goes and on which endpoint, how many names a sprayer or stuffer tries and how,
// and whether a harvester pages or reads records one by one. The amounts are drawn relative to the
// thresholds apitap is run with (`thresholds`), so the mechanism is tested, not one number.
//
// Pure: no I/O, no clock. The orchestrator writes the result as world.json for server and client.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { email, iban, personFirst, personLast, phone, Rng, username as pickUsername, uuid } from '../values.js';

export const AUTH_KINDS = ['jwt', 'api_key', 'basic', 'session'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];
/** principalKind as apitap names it (engine/contracts/inventory.ts ActorRef). */
export const PRINCIPAL_KIND: Readonly<Record<AuthKind, string>> = {
  jwt: 'jwt_sub',
  api_key: 'api_key',
  basic: 'basic_user',
  session: 'session',
};

/** The behaviour finding kinds (engine/contracts/inventory.ts FINDING_KINDS). */
export const BEHAVIOUR_KINDS = [
  'enumeration',
  'bola_suspect',
  'excessive_usage',
  'auth_bruteforce',
  'pii_harvest',
] as const;
export type BehaviourKind = (typeof BEHAVIOUR_KINDS)[number];

/** Thresholds apitap is configured with (its documented defaults unless the world says otherwise). */
export const Thresholds = z.object({
  /** enumeration: distinct values of one identifier parameter of one endpoint within the window. */
  enumerationDistinct: z.number().int(),
  /** bola_suspect: distinct objects of another principal. */
  bolaObjects: z.number().int(),
  /** auth_bruteforce: failed authentications from one IP. */
  bruteforceFailures: z.number().int(),
  /** auth_bruteforce (stuffing): distinct principals or login names among one IP's failures. */
  bruteforceDistinct: z.number().int(),
  /** enumeration: the window, packet-time seconds. */
  enumerationWindowSeconds: z.number().int(),
});
export type Thresholds = z.infer<typeof Thresholds>;
/** apitap's documented defaults (analyzers/actors/detect.ts BEHAVIOUR_DEFAULTS). */
export const DEFAULT_THRESHOLDS: Thresholds = {
  enumerationDistinct: 50,
  bolaObjects: 3,
  bruteforceFailures: 20,
  bruteforceDistinct: 10,
  enumerationWindowSeconds: 300,
};

/** Thresholds drawn from the seed, so the amounts of abuse move with them (and the config is used). */
export function seededThresholds(seed: number): Thresholds {
  const r = new Rng(seed).fork('thresholds');
  return {
    enumerationDistinct: r.int(25, 90),
    bolaObjects: r.int(2, 5),
    bruteforceFailures: r.int(10, 35),
    bruteforceDistinct: r.int(5, 15),
    // Short enough for a slow walker to spread past it within seconds of traffic (see makeWorld).
    enumerationWindowSeconds: r.int(25, 35),
  };
}

/**
 * Packet-time stretch applied to the capture (pcap.ts stretchCapture): traffic generated in seconds is
 * judged as if it had taken five times as long, so the default 10 s rate buckets and 5 min windows see
 * realistic rates.
 */
export const TIME_SCALE = 5;

/** apitap's --config for a world: its thresholds, and every actor listed in report/v1. */
export function configFor(w: World): Record<string, unknown> {
  const t = w.thresholds;
  return {
    analysis: {
      actors: {
        reportTop: 100_000,
        enumeration: { distinctValues: t.enumerationDistinct, windowSeconds: t.enumerationWindowSeconds },
        bola: { minObjects: t.bolaObjects },
        bruteforce: { failures: t.bruteforceFailures, distinctPrincipals: t.bruteforceDistinct },
      },
    },
  };
}

const User = z.object({
  /** The id in resource paths (/users/{id}). */
  id: z.string(),
  username: z.string(),
  password: z.string(),
  auth: z.enum(AUTH_KINDS),
  /** The credential's identity as apitap should derive it: JWT sub, API key, Basic user; for sessions
   * the cookie value is minted by the server at login and recorded by the client. */
  principal: z.string(),
  apiKey: z.string(),
  jwt: z.string(),
  staff: z.boolean(),
  orders: z.array(z.string()),
});
export type User = z.infer<typeof User>;

const Behaviour = z.discriminatedUnion('do', [
  /** A normal session: profile, own orders (list, read, create), products, search; staff read a few customers. */
  z.object({ do: z.literal('normal'), scale: z.number(), rounds: z.number().int() }),
  /** Walks ids of one parameter: path (/products/{id}) or query (/stock?id=). */
  z.object({
    /** `seconds`: spread evenly over this many seconds of wall time (else as fast as answered). */
    seconds: z.number().optional(),
    do: z.literal('walk'),
    form: z.enum(['path', 'query']),
    start: z.number().int(),
    count: z.number().int(),
  }),
  /** Reads other users' orders with its own credentials: nested (/users/{B}/orders/{o}) or flat (/orders/{o}). */
  z.object({
    do: z.literal('bola'),
    form: z.enum(['nested', 'flat']),
    victims: z.array(z.number().int()),
    objects: z.number().int(),
  }),
  /** Many requests on one endpoint, paced at `rate` a second of wall time for `seconds`. */
  z.object({
    do: z.literal('hammer'),
    endpoint: z.enum(['search', 'me', 'product']),
    rate: z.number(),
    seconds: z.number(),
  }),
  /** Password spraying: many login names, a few common passwords. */
  z.object({ do: z.literal('spray'), names: z.number().int(), passwords: z.number().int() }),
  /** Credential stuffing: many distinct name/password pairs, on the login endpoint or as Basic credentials. */
  z.object({
    do: z.literal('stuff'),
    form: z.enum(['login', 'basic']),
    pairs: z.number().int(),
    hits: z.number().int(),
  }),
  /** Bulk download of customer records: list pages or records one by one. */
  z.object({
    do: z.literal('harvest'),
    form: z.enum(['pages', 'records']),
    count: z.number().int(),
    size: z.number().int(),
  }),
  /** A user mistyping the password a few times before logging in. */
  z.object({ do: z.literal('clumsy_login'), failures: z.number().int() }),
]);
export type Behaviour = z.infer<typeof Behaviour>;

const Actor = z.object({
  name: z.string(),
  role: z.enum(['normal', 'near_miss', 'abuser']),
  ip: z.string(),
  /** Index into users: the credentials it presents (null: none of its own). */
  user: z.number().int().nullable(),
  behaviours: z.array(Behaviour),
});
export type Actor = z.infer<typeof Actor>;

export const Paths = z.object({
  me: z.string(),
  user: z.string(),
  userOrders: z.string(),
  userOrder: z.string(),
  orders: z.string(),
  order: z.string(),
  products: z.string(),
  product: z.string(),
  productLookup: z.string(),
  customers: z.string(),
  customer: z.string(),
  login: z.string(),
});
export type Paths = z.infer<typeof Paths>;

export const WorldSchema = z.object({
  schema: z.literal('actors-world/v1'),
  seed: z.number(),
  host: z.string(),
  prefix: z.string(),
  /** Path templates, prefix included; parameters as {name}. */
  paths: Paths,
  loginBody: z.enum(['json', 'form']),
  /** The query parameter of productLookup that names the product. */
  lookupParam: z.string(),
  idStyle: z.enum(['int', 'uuid']),
  jwtKey: z.string(),
  users: z.array(User),
  /** Existing product ids (sparse: a walker meets 404s between them). */
  products: z.array(z.number().int()),
  productMax: z.number().int(),
  customers: z.number().int(),
  thresholds: Thresholds,
  /** The packet-time stretch the harness applies to the capture. */
  timeScale: z.number(),
  serverIp: z.string(),
  actors: z.array(Actor),
});
export type World = z.infer<typeof WorldSchema>;

export interface WorldOptions {
  seed: number;
  /** First three octets of the lab subnet, e.g. "10.215.7": server .1, clients .10 and up. */
  subnet: string;
  thresholds?: Thresholds;
  /** Normal clients (default 12). */
  normals?: number;
}

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

/** An HS256 JWT: the server verifies it; apitap reads `sub` without verifying (it has no key). */
export function signJwt(key: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Customer record n: deterministic from the seed; carries email, phone, IBAN and names. */
export function customerRecord(seed: number, n: number): Record<string, unknown> {
  const r = new Rng(seed).fork(`customer ${n}`);
  return {
    id: n,
    firstName: personFirst(r),
    lastName: personLast(r),
    email: email(r),
    phone: phone(r),
    iban: iban(r),
    segment: r.pick(['retail', 'sme', 'enterprise']),
  };
}

const pathSeg = (s: string): string => s.replace(/^\/+|\/+$/g, '');

export function makeWorld(o: WorldOptions): World {
  const seed = o.seed;
  const r = new Rng(seed).fork('world');
  const th = o.thresholds ?? DEFAULT_THRESHOLDS;
  const prefix = r.pick(['/api/v1', '/v2', '', '/shop/api/v3']);
  const users = r.pick(['users', 'accounts', 'members']);
  const orders = r.pick(['orders', 'purchases', 'bookings']);
  const products = r.pick(['products', 'items', 'catalog']);
  const customers = r.pick(['customers', 'clients', 'contacts']);
  const login = r.pick(['/auth/login', '/login', '/session', '/oauth/signin']);
  // Its own resource, not a literal beside product ids: without a spec, `lookup` among many numeric
  // siblings is (rightly) a value of the id parameter, and the walk would be on another endpoint.
  const lookup = r.pick(['stock', 'availability', 'inventory/check']);
  const lookupParam = r.pick(['id', 'productId', 'sku']);
  const p = (s: string): string => `${prefix}/${pathSeg(s)}`;
  const paths: Paths = {
    me: p('me'),
    user: p(`${users}/{userId}`),
    userOrders: p(`${users}/{userId}/${orders}`),
    userOrder: p(`${users}/{userId}/${orders}/{orderId}`),
    orders: p(orders),
    order: p(`${orders}/{orderId}`),
    products: p(products),
    product: p(`${products}/{productId}`),
    productLookup: p(lookup),
    customers: p(customers),
    customer: p(`${customers}/{customerId}`),
    login: p(login),
  };
  const host = `${r.pick(['api', 'shop-api', 'gateway', 'backend'])}.${r.pick(['acme', 'northwind', 'globex', 'initech'])}.test`;
  const idStyle = r.pick(['int', 'uuid'] as const);
  const jwtKey = r.hex(32);
  const nNormal = o.normals ?? 12;
  const ip = (i: number): string => `${o.subnet}.${10 + i}`;

  // ---- users: normals, near misses and abusers each have their own account; staff read customers.
  const userList: User[] = [];
  const usedNames = new Set<string>();
  let orderSeq = r.int(10_000, 90_000);
  const newUser = (auth: AuthKind, staff: boolean): number => {
    const ur = r.fork(`user ${userList.length}`);
    let name = `${pickUsername(ur)}${ur.int(1, 999)}`;
    while (usedNames.has(name)) name = `${name}${ur.int(0, 9)}`;
    usedNames.add(name);
    const id = idStyle === 'int' ? String(ur.int(1000, 99_999)) : uuid(ur);
    const apiKey = `${ur.pick(['ak_live_', 'key-', 'sk_', ''])}${ur.hex(32)}`;
    const jwt = signJwt(jwtKey, { sub: id, iss: `https://${host}`, iat: 1_790_000_000, scope: 'orders:rw' });
    const nOrders = ur.int(3, 7);
    const ords: string[] = [];
    for (let i = 0; i < nOrders; i++) ords.push(idStyle === 'int' ? String(orderSeq++ + ur.int(0, 3)) : uuid(ur));
    orderSeq += 5;
    const principal = auth === 'jwt' ? id : auth === 'api_key' ? apiKey : auth === 'basic' ? name : '';
    userList.push({
      id,
      username: name,
      password: `${ur.pick(['Zomer', 'Haven', 'Molen', 'Storm'])}-${ur.hex(6)}!`,
      auth,
      principal,
      apiKey,
      jwt,
      staff,
      orders: ords,
    });
    return userList.length - 1;
  };
  const authFor = (i: number): AuthKind => AUTH_KINDS[(i + r.int(0, 3)) % AUTH_KINDS.length] as AuthKind;

  const actors: Actor[] = [];
  let ipNext = 0;
  const normalRounds = r.int(2, 3);
  // Normal clients: every auth kind, a spread of activity; two share one address (a NAT), with
  // different principal kinds so each finding can be told apart by principal kind.
  for (let i = 0; i < nNormal; i++) {
    const staff = i % 3 === 2;
    const u = newUser(authFor(i), staff);
    const shareWithPrevious = i === 1;
    if (shareWithPrevious) {
      const prev = userList[u - 1];
      const mine = userList[u];
      if (prev !== undefined && mine !== undefined && prev.auth === mine.auth) {
        mine.auth = AUTH_KINDS[(AUTH_KINDS.indexOf(prev.auth) + 1) % AUTH_KINDS.length] as AuthKind;
        mine.principal =
          mine.auth === 'jwt'
            ? mine.id
            : mine.auth === 'api_key'
              ? mine.apiKey
              : mine.auth === 'basic'
                ? mine.username
                : '';
      }
    }
    actors.push({
      name: `normal-${i + 1}`,
      role: 'normal',
      ip: shareWithPrevious ? ip(ipNext - 1) : ip(ipNext++),
      user: u,
      behaviours: [{ do: 'normal', scale: 0.6 + r.next(), rounds: normalRounds }],
    });
  }
  const normalUsers = actors.map((a) => a.user).filter((x): x is number => x !== null);

  // Products: ids 1..productMax, about `density` of them exist.
  const productMax = r.int(400, 900);
  const density = 0.3 + r.next() * 0.6;
  const productIds: number[] = [];
  const pr = r.fork('products');
  for (let i = 1; i <= productMax; i++) if (pr.chance(density) || i <= 3) productIds.push(i);
  const nCustomers = r.int(2500, 6000);

  // ---- near misses: normal clients that come close to a threshold.
  {
    const u = newUser(authFor(50), false);
    const count = Math.max(5, Math.floor(th.enumerationDistinct * (0.3 + r.next() * 0.3)));
    actors.push({
      name: 'near-walker',
      role: 'near_miss',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        { do: 'normal', scale: 0.8, rounds: 1 },
        { do: 'walk', form: 'path', start: r.int(1, Math.max(1, productMax - count)), count },
      ],
    });
  }
  {
    const u = newUser(authFor(51), false);
    actors.push({
      name: 'near-bola',
      role: 'near_miss',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        { do: 'normal', scale: 0.8, rounds: 1 },
        {
          do: 'bola',
          form: r.pick(['nested', 'flat'] as const),
          victims: [r.pick(normalUsers)],
          objects: th.bolaObjects - 1,
        },
      ],
    });
  }
  {
    const u = newUser('session', false);
    actors.push({
      name: 'clumsy-login',
      role: 'near_miss',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        { do: 'clumsy_login', failures: r.int(1, 3) },
        { do: 'normal', scale: 0.8, rounds: 1 },
      ],
    });
  }

  // ---- abusers: two per kind where the kind has two mechanisms, forms alternate with the seed.
  const flip = r.chance(0.5);
  for (let k = 0; k < 2; k++) {
    const u = newUser(authFor(60 + k), false);
    const count = Math.floor(th.enumerationDistinct * (1.4 + r.next() * 2.5));
    actors.push({
      name: `walker-${k + 1}`,
      role: 'abuser',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        {
          do: 'walk',
          form: (k === 0) === flip ? 'path' : 'query',
          start: r.int(1, Math.max(1, productMax - count)),
          count,
        },
      ],
    });
  }
  for (let k = 0; k < 2; k++) {
    const u = newUser(authFor(70 + k), false);
    // One or more victims, enough of them to hold the objects read (K+1 to K+5).
    const want = th.bolaObjects + r.int(1, 5);
    const pool = normalUsers.slice();
    const victims: number[] = [];
    let available = 0;
    while (pool.length > 0 && (victims.length === 0 || available < want || (victims.length === 1 && r.chance(0.3)))) {
      const v = pool.splice(r.int(0, pool.length - 1), 1)[0] as number;
      victims.push(v);
      available += userList[v]?.orders.length ?? 0;
    }
    const objects = Math.min(available, want);
    // The second BOLA reader sits behind the NAT address of the first two normal clients.
    const behindNat = k === 1;
    const me = userList[u];
    if (behindNat && me !== undefined) {
      const taken = new Set(actors.filter((a) => a.ip === ip(0)).map((a) => userList[a.user ?? -1]?.auth));
      const free = AUTH_KINDS.find((x) => !taken.has(x)) ?? 'jwt';
      me.auth = free;
      me.principal = free === 'jwt' ? me.id : free === 'api_key' ? me.apiKey : free === 'basic' ? me.username : '';
    }
    actors.push({
      name: `bola-${k + 1}`,
      role: 'abuser',
      ip: behindNat ? ip(0) : ip(ipNext++),
      user: u,
      behaviours: [
        { do: 'normal', scale: 0.8, rounds: 1 },
        { do: 'bola', form: (k === 0) === flip ? 'nested' : 'flat', victims, objects },
      ],
    });
  }
  {
    const u = newUser(authFor(80), false);
    actors.push({
      name: 'hammer-1',
      role: 'abuser',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        { do: 'normal', scale: 0.8, rounds: 1 },
        // 60–90 requests a second for 8–10 s of wall time: at the 5× stretch, 120–180 requests in each
        // default 10 s bucket over 8–10 buckets, against a few per bucket for a normal client. (A
        // loaded machine may achieve less: the truth records what was achieved.)
        {
          do: 'hammer',
          endpoint: r.pick(['search', 'me', 'product'] as const),
          rate: r.int(60, 90),
          seconds: r.int(8, 10),
        },
      ],
    });
  }
  // Sprayers and stuffers: 1.3–3.3 times the larger brute-force threshold in names or pairs.
  const bruteAmount = (): number =>
    Math.ceil(Math.max(th.bruteforceFailures, th.bruteforceDistinct) * (1.3 + 2 * r.next()));
  actors.push({
    name: 'sprayer-1',
    role: 'abuser',
    ip: ip(ipNext++),
    user: null,
    behaviours: [{ do: 'spray', names: bruteAmount(), passwords: r.int(1, 3) }],
  });
  const stuffHits = r.int(0, 2);
  actors.push({
    name: 'stuffer-1',
    role: 'abuser',
    ip: ip(ipNext++),
    user: null,
    behaviours: [
      {
        do: 'stuff',
        form: r.pick(['login', 'basic'] as const),
        pairs: bruteAmount() + stuffHits,
        hits: stuffHits,
      },
    ],
  });
  for (let k = 0; k < 2; k++) {
    const u = newUser('api_key', true);
    const form = (k === 0) === flip ? 'pages' : 'records';
    actors.push({
      name: `harvester-${k + 1}`,
      role: 'abuser',
      ip: ip(ipNext++),
      user: u,
      behaviours: [
        form === 'pages'
          ? { do: 'harvest', form, count: r.int(8, 20), size: r.pick([50, 100]) }
          : { do: 'harvest', form, count: r.int(200, 500), size: 1 },
      ],
    });
  }

  // A slow walker (near miss): more distinct ids than the enumeration threshold, but spread over 2.2
  // windows of packet time, so no window holds more than about 0.7 of the threshold. Only where the
  // window is short enough to be spread past in seconds of traffic (the seeded thresholds); drawn
  // last, so it leaves the rest of the world as it was.
  const span = Math.ceil((2.2 * th.enumerationWindowSeconds) / TIME_SCALE);
  if (span <= 20) {
    const u = newUser(authFor(90), false);
    const count = Math.ceil(th.enumerationDistinct * (1.2 + 0.3 * r.next()));
    actors.push({
      name: 'slow-walker',
      role: 'near_miss',
      ip: ip(ipNext),
      user: u,
      behaviours: [
        { do: 'walk', form: 'query', start: r.int(1, Math.max(1, productMax - count)), count, seconds: span },
      ],
    });
  }

  return WorldSchema.parse({
    schema: 'actors-world/v1',
    seed,
    host,
    prefix,
    paths,
    loginBody: r.pick(['json', 'form'] as const),
    lookupParam,
    idStyle,
    jwtKey,
    users: userList,
    products: productIds,
    productMax,
    customers: nCustomers,
    thresholds: th,
    timeScale: TIME_SCALE,
    serverIp: `${o.subnet}.1`,
    actors,
  });
}

/** Every client address of the world (the lab puts each on the client namespace's interface). */
export function clientIps(w: World): string[] {
  return [...new Set(w.actors.map((a) => a.ip))].sort();
}
