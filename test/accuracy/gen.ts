// JSON generation from a (resolved-on-demand) JSON Schema, with planting: fields are filled by the
// rules below, keyed on the field name, and every planted personal value or hard negative is written to
// the Recorder with its JSON path. Planting is key-driven on purpose: the same rule decides the value
// and the truth, so the truth is exactly what went on the wire.
import type { Json, JsonObject } from './spec.js';
import { deref } from './spec.js';
import type { NegativeClass, PiiKind, Recorder, RouteRef } from './truth.js';
import * as v from './values.js';
import type { Rng } from './values.js';

export interface GenCtx {
  rng: Rng;
  root: JsonObject;
  rec: Recorder;
  route: RouteRef;
  /** request.body, response.body, request.query, request.path */
  location: string;
  /** extra key → kind rules for this API (e.g. Twilio `identity` carries an email) */
  extraPii?: Readonly<Record<string, PiiKind>>;
  /**
   * Conform where the accuracy harness never needed to: readOnly properties are left out of request
   * bodies and writeOnly ones out of response bodies (OpenAPI 3.0 §4.7.24; the side comes from
   * `location`), and `^[0-9]{n}$` patterns get n digits. Off by default, so the accuracy harness keeps
   * generating what it always did; the conformance harness (test/accuracy/conformance) turns it on.
   */
  conformant?: boolean;
}

/** Field names (lower case) that receive planted personal data. */
export const PII_KEYS: Readonly<Record<string, PiiKind>> = {
  email: 'email',
  emailaddress: 'email',
  shopperemail: 'email',
  lastknownshopperemail: 'email',
  phone: 'phone',
  phonenumber: 'phone',
  telephonenumber: 'phone',
  mobile: 'phone',
  password: 'password',
  iban: 'iban',
  cardnumber: 'payment_card',
  firstname: 'person_name',
  lastname: 'person_name',
  holdername: 'person_name',
  ownername: 'person_name',
  bsn: 'bsn',
};

/** Field names that receive a hard negative: personal-data look-alikes that must NOT be reported. */
export const NEGATIVE_KEYS: Readonly<Record<string, NegativeClass>> = {
  orderid: 'luhn_order_number',
  ordernumber: 'luhn_order_number',
  shopperreference: 'nine_digit_non_bsn',
  membershipid: 'nine_digit_non_bsn',
  customernumber: 'nine_digit_non_bsn',
  ipaddress: 'private_ip',
  gateway: 'private_ip',
  globalipv6address: 'private_ip',
};

/**
 * Fields left out of generated bodies: personal data and secrets of kinds this harness does not plant
 * (addresses, social security numbers, tax ids, CVCs, private keys and API secrets). Generating neutral filler under these keys would make a
 * correct detector look wrong, and planting them would widen the truth beyond the stated kinds.
 */
const OMIT_KEYS = new Set([
  'socialsecuritynumber',
  'taxid',
  'billingaddress',
  'cvc',
  'bankaccountnumber',
  'alias',
  'street',
  'postalcode',
  'city',
  'houseNumberOrName'.toLowerCase(),
  'additionaldata',
  'tokendata',
  'issuenumber',
  'shopperip',
  'privatekey',
  'secret',
  'apikey',
  'certificate',
]);

const MAX_DEPTH = 7;

export function piiValue(kind: PiiKind, r: Rng, key: string): string {
  switch (kind) {
    case 'email':
      return v.email(r);
    case 'phone':
      return v.phone(r);
    case 'password':
      return v.password(r);
    case 'iban':
      return v.iban(r);
    case 'payment_card':
      return v.card(r);
    case 'bsn':
      return v.bsn(r);
    case 'person_name':
      return /first/i.test(key)
        ? v.personFirst(r)
        : /last/i.test(key)
          ? v.personLast(r)
          : `${v.personFirst(r)} ${v.personLast(r)}`;
  }
}

export function negativeValue(cls: NegativeClass, r: Rng): string {
  switch (cls) {
    case 'luhn_order_number':
      return v.luhnOrderNumber(r);
    case 'nine_digit_non_bsn':
      return v.nineDigitNonBsn(r);
    case 'uuid':
      return v.uuid(r);
    case 'hash':
      return v.sha256Hex(r);
    case 'timestamp':
      return v.timestamp(r);
    case 'private_ip':
      return v.privateIp(r);
    case 'twilio_sid':
      return v.twilioSid(r, 'XX');
  }
}

function ruleFor(key: string, parentKey: string, ctx: GenCtx): { pii: PiiKind } | { neg: NegativeClass } | undefined {
  const k = key.toLowerCase();
  const extra = ctx.extraPii?.[k];
  if (extra !== undefined) return { pii: extra };
  const pii = PII_KEYS[k];
  if (pii !== undefined) return { pii };
  if (k === 'number' && parentKey.toLowerCase() === 'card') return { pii: 'payment_card' };
  const neg = NEGATIVE_KEYS[k];
  if (neg !== undefined) return { neg };
  return undefined;
}

function typeOf(s: JsonObject): string {
  const t = s['type'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return String(t.find((x) => x !== 'null') ?? 'string');
  if (s['properties'] !== undefined || s['allOf'] !== undefined) return 'object';
  if (s['items'] !== undefined) return 'array';
  return 'string';
}

/** Plants or generates a scalar for a named field; `schemaType` keeps numbers numeric where the schema says so. */
function scalar(s: JsonObject, key: string, parentKey: string, jsonPath: string, ctx: GenCtx): Json {
  const r = ctx.rng;
  // Query parameters are named, not pathed: `tags=a&tags=b` is field `tags`, not `tags[*]`.
  const path = ctx.location === 'request.query' ? jsonPath.replace(/\[\*\]/g, '') : jsonPath;
  const rule = ruleFor(key, parentKey, ctx);
  const t = typeOf(s);
  if (rule !== undefined && 'pii' in rule) {
    ctx.rec.pii(ctx.route, ctx.location, path, rule.pii);
    return piiValue(rule.pii, r, key);
  }
  if (rule !== undefined && 'neg' in rule) {
    ctx.rec.negative(ctx.route, ctx.location, path, rule.neg);
    const val = negativeValue(rule.neg, r);
    return (t === 'integer' || t === 'number') && /^\d+$/.test(val) ? Number(val) : val;
  }
  const en = s['enum'];
  if (Array.isArray(en) && en.length > 0) return r.pick(en.filter((x) => x !== null)) ?? null;
  const fmt = typeof s['format'] === 'string' ? s['format'] : '';
  if (t === 'integer') return r.int(1, 5000);
  if (t === 'number') return Math.round(r.next() * 50000) / 100;
  if (t === 'boolean') return r.chance(0.5);
  // strings
  const pattern = typeof s['pattern'] === 'string' ? s['pattern'] : '';
  const digitsOnly = /^\^\[0-9\]\{(\d+)\}\$$/.exec(pattern);
  if (ctx.conformant === true && digitsOnly?.[1] !== undefined) return r.digits(Number(digitsOnly[1]));
  const sid = /^\^([A-Z]{2})\[0-9a-fA-F\]\{32\}\$$/.exec(pattern);
  if (sid?.[1] !== undefined) {
    // Resource identifiers (ACxxx…, ISxxx…), not credentials: the secret is the auth token.
    ctx.rec.negative(ctx.route, ctx.location, path, 'twilio_sid');
    return v.twilioSid(r, sid[1]);
  }
  if (fmt === 'email') {
    ctx.rec.pii(ctx.route, ctx.location, path, 'email');
    return v.email(r);
  }
  if (fmt === 'uuid') {
    ctx.rec.negative(ctx.route, ctx.location, path, 'uuid');
    return v.uuid(r);
  }
  if (
    fmt === 'date-time' ||
    /^(created|updated|date_created|date_updated|finishedat|startedat|timestamp)$/i.test(key)
  ) {
    ctx.rec.negative(ctx.route, ctx.location, path, 'timestamp');
    return v.timestamp(r);
  }
  if (fmt === 'date') return v.timestamp(r).slice(0, 10);
  if (fmt === 'uri' || fmt === 'url' || /^(url|uri)$/i.test(key))
    return `https://${ctx.route.host}/${v.neutralWord(r)}`;
  if (fmt === 'binary' || fmt === 'byte') return 'aGVsbG8=';
  if (
    /^(id|imageid|containerid|networkid|endpointid|sandboxid|parent)$/i.test(key) &&
    ctx.route.host.includes('docker')
  ) {
    ctx.rec.negative(ctx.route, ctx.location, path, 'hash');
    return `${key === 'ImageID' || key === 'Parent' ? 'sha256:' : ''}${v.sha256Hex(r)}`;
  }
  if (/(Id|_id|ID)$/.test(key) && key.length > 2) {
    ctx.rec.negative(ctx.route, ctx.location, path, 'uuid');
    return v.uuid(r);
  }
  return v.neutralWord(r);
}

/**
 * Generates a value for `schema` at JSON path `path` (`$`, `$.a`, `$.a[*].b`). Returns undefined when
 * the field is to be left out (omitted keys, depth limit).
 */
export function generate(
  schemaIn: Json | undefined,
  ctx: GenCtx,
  path = '$',
  key = '',
  parentKey = '',
  depth = 0,
): Json | undefined {
  if (OMIT_KEYS.has(key.toLowerCase())) return undefined;
  const s = deref(ctx.root, schemaIn);
  const all = s['allOf'];
  if (Array.isArray(all)) {
    const out: JsonObject = {};
    let scalarOut: Json | undefined;
    for (const part of all) {
      const g = generate(part, ctx, path, key, parentKey, depth);
      if (g !== null && typeof g === 'object' && !Array.isArray(g)) Object.assign(out, g);
      else if (g !== undefined) scalarOut = g;
    }
    if (s['properties'] !== undefined) {
      const own = generate({ ...s, allOf: null }, ctx, path, key, parentKey, depth);
      if (own !== null && typeof own === 'object' && !Array.isArray(own)) Object.assign(out, own);
    }
    return Object.keys(out).length > 0 || scalarOut === undefined ? out : scalarOut;
  }
  for (const alt of ['oneOf', 'anyOf'] as const) {
    const xs = s[alt];
    if (Array.isArray(xs) && xs.length > 0) {
      const nonNull = xs.find((x) => deref(ctx.root, x)['type'] !== 'null') ?? xs[0];
      return generate(nonNull, ctx, path, key, parentKey, depth);
    }
  }
  const t = typeOf(s);
  if (t === 'object') {
    if (depth >= MAX_DEPTH) return undefined;
    const out: JsonObject = {};
    const props = s['properties'];
    if (props !== null && typeof props === 'object' && !Array.isArray(props)) {
      for (const [k, ps] of Object.entries(props)) {
        if (ctx.conformant === true) {
          const own = deref(ctx.root, ps);
          if (own[ctx.location.startsWith('request') ? 'readOnly' : 'writeOnly'] === true) continue;
        }
        const g = generate(ps, ctx, `${path}.${k}`, k, key, depth + 1);
        if (g !== undefined) out[k] = g;
      }
    }
    return out;
  }
  if (t === 'array') {
    if (depth >= MAX_DEPTH) return undefined;
    const n = ctx.rng.int(1, 2);
    const out: Json[] = [];
    for (let i = 0; i < n; i++) {
      const g = generate(s['items'], ctx, `${path}[*]`, key, parentKey, depth + 1);
      if (g !== undefined) out.push(g);
    }
    return out;
  }
  return scalar(s, key, parentKey, path, ctx);
}
