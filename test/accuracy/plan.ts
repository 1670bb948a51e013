// The scenario shared by the harness server and client: which APIs, which undocumented (shadow) routes
// exist, which documented routes announce their own deprecation, which fields are added to bodies to
// plant data, which operations the client calls and which it leaves alone (orphans), and how path
// parameters get realistic values. Server and client both derive everything from this file and the
// seed, so they agree without talking to each other.
import type { JsonObject, Operation, SpecDoc } from './spec.js';
import { loadSpec, opKey, shape } from './spec.js';
import type { NegativeClass, PiiKind } from './truth.js';
import type { Rng } from './values.js';
import * as v from './values.js';

export interface ApiSet {
  host: string;
  prefix: string;
  current: SpecDoc[];
  previous: SpecDoc[];
}

/** A route the server implements: a documented operation, a removed one, or an undocumented one. */
export interface Route {
  host: string;
  method: string;
  template: string;
  origin: 'documented' | 'shadow' | 'previous';
  op: Operation | undefined;
  shadow: ShadowRoute | undefined;
}

export interface ShadowRoute {
  host: string;
  method: string;
  template: string;
  /** path parameter schemas, where the generic guess (integers for `…Id`) would be unrealistic */
  params?: Record<string, JsonObject>;
  request?: JsonObject;
  response?: JsonObject;
  status?: number;
}

const str = { type: 'string' } as const;
const uuidS = { type: 'string', format: 'uuid' } as const;
const obj = (properties: Record<string, JsonObject>): JsonObject => ({ type: 'object', properties });

/**
 * Undocumented routes (shadow ground truth). Some sit under documented prefixes, some are method-level
 * shadows of documented paths (`POST /user/login` where only GET is documented).
 */
export const SHADOW: readonly ShadowRoute[] = [
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/pet/{petId}/vaccinations',
    response: {
      type: 'array',
      items: obj({
        vaccine: str,
        administeredAt: { type: 'string', format: 'date-time' },
        vetEmail: { type: 'string', format: 'email' },
      }),
    },
  },
  {
    host: 'petstore3.swagger.io',
    method: 'POST',
    template: '/user/login',
    request: obj({ username: str, password: str }),
    response: obj({ token: str, expiresAt: { type: 'string', format: 'date-time' } }),
  },
  { host: 'petstore3.swagger.io', method: 'DELETE', template: '/store/inventory', status: 204 },
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/user/{username}/devices/{deviceId}',
    params: { deviceId: uuidS },
    response: obj({
      deviceId: { type: 'string', format: 'uuid' },
      email: str,
      lastSeenAt: { type: 'string', format: 'date-time' },
    }),
  },
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/internal/metrics',
    response: obj({ requests: { type: 'integer' }, errors: { type: 'integer' } }),
  },
  {
    host: 'redocly.com',
    method: 'GET',
    template: '/tickets/{ticketId}',
    params: { ticketId: uuidS },
    response: obj({
      ticketId: { type: 'string', format: 'uuid' },
      email: str,
      phone: str,
      ticketDate: { type: 'string', format: 'date' },
    }),
  },
  {
    host: 'redocly.com',
    method: 'POST',
    template: '/special-events/{eventId}/publish',
    params: { eventId: uuidS },
    response: obj({ eventId: { type: 'string', format: 'uuid' }, status: { type: 'string', enum: ['published'] } }),
  },
  {
    host: 'pal-test.adyen.com',
    method: 'POST',
    template: '/listRecurringDetailsInternal',
    request: obj({ merchantAccount: str, shopperReference: str }),
    response: obj({
      details: { type: 'array', items: obj({ card: obj({ number: str, holderName: str }), shopperEmail: str }) },
    }),
  },
  {
    host: 'chat.twilio.com',
    method: 'GET',
    template: '/v2/Services/{ServiceSid}/Users/{UserSid}/Devices/{Sid}',
    response: obj({
      sid: { type: 'string', pattern: '^DV[0-9a-fA-F]{32}$' },
      identity: str,
      platform: { type: 'string', enum: ['ios', 'android', 'web'] },
    }),
  },
  {
    host: 'chat.twilio.com',
    method: 'GET',
    template: '/v2/Services/{ServiceSid}/Analytics',
    response: obj({ messages_count: { type: 'integer' }, active_users: { type: 'integer' } }),
  },
  { host: 'chat.twilio.com', method: 'DELETE', template: '/v2/Services/{ServiceSid}/Users', status: 204 },
  {
    host: 'api.twilio.com',
    method: 'GET',
    template: '/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Events.json',
    params: {
      AccountSid: { type: 'string', pattern: '^AC[0-9a-fA-F]{32}$' },
      CallSid: { type: 'string', pattern: '^CA[0-9a-fA-F]{32}$' },
    },
    response: obj({ events: { type: 'array', items: obj({ name: str, timestamp: { type: 'string' } }) } }),
  },
  {
    host: 'api.twilio.com',
    method: 'GET',
    template: '/2010-04-01/Accounts/{AccountSid}/Usage/Records.json',
    params: { AccountSid: { type: 'string', pattern: '^AC[0-9a-fA-F]{32}$' } },
    response: obj({ usage: { type: 'integer' } }),
  },
  {
    host: 'api.twilio.com',
    method: 'DELETE',
    template: '/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json',
    params: {
      AccountSid: { type: 'string', pattern: '^AC[0-9a-fA-F]{32}$' },
      MessageSid: { type: 'string', pattern: '^SM[0-9a-fA-F]{32}$' },
      Sid: { type: 'string', pattern: '^ME[0-9a-fA-F]{32}$' },
    },
    status: 204,
  },
  {
    host: 'eu.jobs.example.net',
    method: 'POST',
    template: '/projects/{project}/jobs/{job}:pause',
    response: obj({ name: str, done: { type: 'boolean' } }),
  },
  {
    host: 'eu.jobs.example.net',
    method: 'GET',
    template: '/projects/{project}/quotas',
    response: obj({ jobsPerDay: { type: 'integer' } }),
  },
  {
    host: 'docker-engine.apitap.test',
    method: 'GET',
    template: '/containers/{id}/debug',
    response: obj({ Id: str, Pid: { type: 'integer' }, Goroutines: { type: 'integer' } }),
  },
  {
    host: 'docker-engine.apitap.test',
    method: 'POST',
    template: '/images/{name}/scan',
    response: obj({ Vulnerabilities: { type: 'integer' }, Critical: { type: 'integer' } }),
  },
];

/** Documented, non-deprecated operations whose responses announce deprecation (zombie ground truth). */
export const DEPRECATION_HEADERS: ReadonlyArray<{
  host: string;
  method: string;
  template: string;
  headers: Record<string, string>;
}> = [
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/pet/findByTags',
    headers: {
      Deprecation: '@1688169599',
      Sunset: 'Sun, 30 Jun 2024 23:59:59 GMT',
      Link: '<https://petstore3.swagger.io/docs/migrate>; rel="deprecation"',
    },
  },
  {
    host: 'chat.twilio.com',
    method: 'GET',
    template: '/v2/Credentials',
    headers: { Sunset: 'Wed, 31 Dec 2025 23:59:59 GMT' },
  },
  { host: 'redocly.com', method: 'GET', template: '/museum-hours', headers: { Deprecation: 'true' } },
];

/** Fields added to generated bodies to plant personal data and hard negatives beyond the schema. */
export const EXTRA_FIELDS: ReadonlyArray<{
  host: string;
  method: string;
  template: string;
  location: 'request.body' | 'response.body';
  properties: Record<string, JsonObject>;
}> = [
  {
    host: 'petstore3.swagger.io',
    method: 'POST',
    template: '/store/order',
    location: 'request.body',
    properties: { orderNumber: str, customerNumber: str, payment: obj({ cardNumber: str, iban: str }) },
  },
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/store/order/{orderId}',
    location: 'response.body',
    properties: { orderNumber: str },
  },
  {
    host: 'petstore3.swagger.io',
    method: 'POST',
    template: '/user',
    location: 'request.body',
    properties: { bsn: str },
  },
  {
    host: 'petstore3.swagger.io',
    method: 'GET',
    template: '/user/{username}',
    location: 'response.body',
    properties: { bsn: str },
  },
  {
    host: 'redocly.com',
    method: 'POST',
    template: '/tickets',
    location: 'request.body',
    properties: { phone: str, membershipId: str, requestId: str, refundAccount: str },
  },
];

/**
 * Per-API key rules on top of gen.ts's, for data under keys that give no hint, so only the value can
 * tell: Twilio user identities are e-mail addresses here; the museum's refund account is an IBAN.
 */
export const EXTRA_PII: Readonly<Record<string, Readonly<Record<string, PiiKind>>>> = {
  'chat.twilio.com': { identity: 'email' },
  'redocly.com': { refundaccount: 'iban' },
};

/** The Docker Engine API is exercised through this subset (what a CLI and a compose tool call); the rest are orphans. */
export const DOCKER_SUBSET = new Set([
  'GET /containers/json',
  'POST /containers/create',
  'GET /containers/{id}/json',
  'GET /containers/{id}/top',
  'GET /containers/{id}/logs',
  'GET /containers/{id}/stats',
  'POST /containers/{id}/start',
  'POST /containers/{id}/stop',
  'POST /containers/{id}/restart',
  'POST /containers/{id}/kill',
  'DELETE /containers/{id}',
  'POST /containers/{id}/wait',
  'POST /containers/prune',
  'GET /images/json',
  'POST /images/create',
  'GET /images/{name}/json',
  'GET /images/{name}/history',
  'POST /images/{name}/tag',
  'DELETE /images/{name}',
  'GET /images/search',
  'POST /auth',
  'GET /info',
  'GET /version',
  'GET /volumes',
  'POST /volumes/create',
  'GET /volumes/{name}',
  'DELETE /volumes/{name}',
  'GET /networks',
  'GET /networks/{id}',
  'POST /networks/create',
  'POST /networks/{id}/connect',
  'POST /containers/{id}/exec',
  'POST /exec/{id}/start',
  'GET /exec/{id}/json',
  'GET /system/df',
]);

/** Removed operations (present in --previous only) that the client still calls: Twilio Chat v1. */
export const PREVIOUS_CALLED = new Set([
  'GET /v1/Services/{Sid}',
  'GET /v1/Services/{ServiceSid}/Channels',
  'POST /v1/Services/{ServiceSid}/Channels/{ChannelSid}/Messages',
  'GET /v1/Services/{ServiceSid}/Users/{Sid}',
  'GET /v1/Credentials',
  'DELETE /v1/Services/{ServiceSid}/Roles/{Sid}',
]);

export function loadApis(specs: string[], previous: string[]): Map<string, ApiSet> {
  const apis = new Map<string, ApiSet>();
  const add = (file: string, prev: boolean): void => {
    const [path, host] = file.split('=') as [string, string | undefined];
    const doc = loadSpec(path, host);
    const key = doc.host.toLowerCase();
    const a = apis.get(key) ?? { host: key, prefix: doc.prefix, current: [], previous: [] };
    (prev ? a.previous : a.current).push(doc);
    apis.set(key, a);
  };
  for (const s of specs) add(s, false);
  for (const p of previous) add(p, true);
  return apis;
}

/** All routes of one API: current operations, removed-but-served previous ones, and shadow routes. */
export function routesOf(api: ApiSet): Route[] {
  const out: Route[] = [];
  const current = new Set<string>();
  for (const d of api.current)
    for (const op of d.ops) {
      current.add(opKey(api.host, op.method, op.path));
      out.push({ host: api.host, method: op.method, template: op.path, origin: 'documented', op, shadow: undefined });
    }
  for (const d of api.previous)
    for (const op of d.ops) {
      if (current.has(opKey(api.host, op.method, op.path))) continue;
      out.push({ host: api.host, method: op.method, template: op.path, origin: 'previous', op, shadow: undefined });
    }
  for (const s of SHADOW)
    if (s.host === api.host)
      out.push({ host: api.host, method: s.method, template: s.template, origin: 'shadow', op: undefined, shadow: s });
  return out;
}

/** OpenAPI matching: split on '/', static segments beat parameters position by position. */
export function matchRoute(
  routes: Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const segs = path.split('/');
  let best: { route: Route; params: Record<string, string>; rank: string } | undefined;
  for (const r of routes) {
    if (r.method !== method) continue;
    const ts = r.template.split('/');
    if (ts.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let rank = '';
    let ok = true;
    for (let i = 0; i < ts.length && ok; i++) {
      const t = ts[i] ?? '';
      const s = segs[i] ?? '';
      const m = /^\{([^}]+)\}$/.exec(t);
      if (m?.[1] !== undefined) {
        if (s === '') ok = false;
        params[m[1]] = decodeURIComponent(s);
        rank += '2';
      } else if (t.includes('{')) {
        // A segment mixing text and expressions (`{Sid}.json`, `{job}:cancel`): ranks between.
        const names: string[] = [];
        const re = new RegExp(
          '^' +
            t.replace(/\{([^}]+)\}|([^{]+)/g, (_a, name: string | undefined, lit: string | undefined) => {
              if (name !== undefined) {
                names.push(name);
                return '(.+?)';
              }
              return (lit ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            }) +
            '$',
        );
        const got = re.exec(s);
        if (got === null) ok = false;
        else names.forEach((n, k) => (params[n] = decodeURIComponent(got[k + 1] ?? '')));
        rank += '1';
      } else {
        ok = t === s;
        rank += '0';
      }
    }
    if (ok && (best === undefined || rank < best.rank)) best = { route: r, params, rank };
  }
  return best === undefined ? undefined : { route: best.route, params: best.params };
}

export function extraFields(
  host: string,
  method: string,
  template: string,
  location: string,
): Record<string, JsonObject> | undefined {
  const e = EXTRA_FIELDS.find(
    (x) => x.host === host && x.method === method && shape(x.template) === shape(template) && x.location === location,
  );
  return e?.properties;
}

export function deprecationHeaders(host: string, method: string, template: string): Record<string, string> | undefined {
  return DEPRECATION_HEADERS.find(
    (x) => x.host === host && x.method === method && shape(x.template) === shape(template),
  )?.headers;
}

const TWILIO_PREFIX: Readonly<Record<string, string>> = {
  Services: 'IS',
  Channels: 'CH',
  Users: 'US',
  Members: 'MB',
  Messages: 'IM',
  Roles: 'RL',
  Invites: 'IN',
  Credentials: 'CR',
  Bindings: 'BS',
  Webhooks: 'WH',
  Devices: 'DV',
};

/** A realistic value for one path parameter, with the hard-negative class it represents if any. */
export function pathParamValue(
  host: string,
  template: string,
  name: string,
  schema: JsonObject,
  r: Rng,
): { value: string; neg?: NegativeClass } {
  if (name === 'orderId') return { value: v.luhnOrderNumber(r), neg: 'luhn_order_number' };
  const pattern = typeof schema['pattern'] === 'string' ? schema['pattern'] : '';
  const sid = /^\^([A-Z]{2})\[/.exec(pattern);
  if (sid?.[1] !== undefined) return { value: v.twilioSid(r, sid[1]), neg: 'twilio_sid' };
  if (host === 'chat.twilio.com') {
    const segs = template.split('/');
    const i = segs.indexOf(`{${name}}`);
    const parent = name === 'Sid' ? (segs[i - 1] ?? '') : `${name.replace(/Sid$/, '')}s`;
    return { value: v.twilioSid(r, TWILIO_PREFIX[parent] ?? 'XX'), neg: 'twilio_sid' };
  }
  if (schema['format'] === 'uuid') return { value: v.uuid(r), neg: 'uuid' };
  if (schema['type'] === 'integer' || schema['type'] === 'number') return { value: String(r.int(1, 99999)) };
  if (host.startsWith('docker')) {
    if (template.startsWith('/containers/')) {
      const c = v.containerRef(r);
      return c.length === 64 ? { value: c, neg: 'hash' } : { value: c };
    }
    if (template.startsWith('/exec/')) return { value: v.sha256Hex(r), neg: 'hash' };
    if (template.startsWith('/images/')) return { value: v.imageRef(r) };
    if (template.startsWith('/volumes/')) return { value: v.volumeName(r) };
    if (template.startsWith('/networks/'))
      return r.chance(0.5)
        ? { value: v.sha256Hex(r), neg: 'hash' }
        : { value: r.pick(['frontend', 'backend', 'monitoring', 'host']) };
  }
  if (name === 'username') return { value: v.username(r) };
  if (/id$/i.test(name)) return { value: String(r.int(1, 99999)) };
  return { value: v.neutralWord(r) };
}

/** Operations that carry the planted data: always called, so every kind is represented. */
export const ALWAYS_CALLED = new Set([
  'pal-test.adyen.com POST /listRecurringDetails',
  'pal-test.adyen.com POST /scheduleAccountUpdater',
  'petstore3.swagger.io POST /user',
  'petstore3.swagger.io GET /user/{username}',
  'petstore3.swagger.io POST /store/order',
  'petstore3.swagger.io GET /store/order/{orderId}',
  'petstore3.swagger.io GET /user/login',
  'redocly.com POST /tickets',
  'chat.twilio.com POST /v2/Services/{ServiceSid}/Users',
  'chat.twilio.com GET /v2/Services/{ServiceSid}/Users/{Sid}',
]);

/** Whether the client calls a documented operation at all; the rest are orphans. */
export function shouldCall(op: Operation, r: Rng): boolean {
  if (op.method === 'HEAD' || op.method === 'OPTIONS') return false;
  if (op.deprecated) return true;
  if (deprecationHeaders(op.host, op.method, op.path) !== undefined) return true;
  if (ALWAYS_CALLED.has(`${op.host} ${op.method} ${op.path}`)) return true;
  if (op.requestBody !== undefined && !/json|x-www-form-urlencoded/.test(op.requestBody.contentType)) return false;
  if (op.host.startsWith('docker')) return DOCKER_SUBSET.has(`${op.method} ${op.path}`);
  return r.chance(0.8);
}
