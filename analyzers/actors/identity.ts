// Who sent an exchange: the actor. Privacy: no raw credential, login name or path value leaves this
// module; principals leave as a masked form plus a keyed HMAC (pii/redact.ts), path and query values
// only as truncated keyed HMACs (comparable with each other and with principal HMACs, never
// reversible without the installation secret).
//
// Identity, in order of precedence (the first credential found names the principal):
//   Authorization: Bearer <JWT>   → `sub` (jwt_sub), else `client_id` / `azp` (jwt_client). The
//                                   signature is NOT verified (an out-of-band sensor has no keys): a
//                                   forged token names whoever it claims, which is itself suspicious
//                                   traffic; the finding evidence says "unverified".
//   Authorization: Basic          → the user name (basic_user); the password is never read.
//   API key header / query / Token scheme → the key itself (api_key).
//   Bearer <opaque> / session cookie       → the token (session).
// The IP is the TCP peer (the exchange's client endpoint). The first X-Forwarded-For / Forwarded hop
// is kept beside it (`forwardedFor`) but never used as identity: any client can write that header.
// Actor id: a hash of the principal's HMAC when there is one, else of the IP as stored (actorIdOf).
import type { Exchange } from '../../engine/contracts/exchange.js';
import { headerValue } from '../../engine/contracts/exchange.js';
import { isApiKeyHeader, isCredentialQueryName, isSessionCookie } from '../auth/classify.js';
import { decodeJwt } from '../pii/jwt.js';
import { hmacHex, maskValue } from '../pii/redact.js';
import { fnv1a } from '../pii/sampling.js';
import { createHash } from 'node:crypto';

export const PRINCIPAL_KINDS = ['jwt_sub', 'jwt_client', 'api_key', 'basic_user', 'session'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export type IpMode = 'raw' | 'hash';

export interface IdentityOptions {
  /** Per-installation secret keying every HMAC. */
  secret: Buffer | string;
  /** 'raw' keeps client IPs for remediation; 'hash' stores `hmac:<hex>` instead. */
  ipMode: IpMode;
}

export interface ActorIdentity {
  id: string;
  /** TCP peer, raw or `hmac:<hex>`. */
  ip: string;
  /** First X-Forwarded-For / Forwarded hop (same form as ip), '' when absent. Never identity. */
  forwardedFor: string;
  /** Masked principal, '' without credentials. */
  principal: string;
  principalKind: PrincipalKind | '';
  /** HMAC (32 hex) of the principal's identity value, '' without credentials. */
  principalHash: string;
}

/** Length of the truncated keyed hashes of path/query values and login names. */
export const VALUE_HASH_HEX = 16;

/**
 * HMACs per distinct value through a bounded two-generation cache keyed by a 53-bit fingerprint (as
 * the PII scanner does), so hot segments (`users`, `v1`) cost a map lookup and no raw value is kept.
 */
export class Hasher {
  private young = new Map<number, string>();
  private old = new Map<number, string>();
  constructor(
    private readonly secret: Buffer | string,
    private readonly cap = 8192,
  ) {}
  /** Full 32-hex HMAC of the value. */
  full(v: string): string {
    const k = fnv1a(v) * 0x200000 + (fnv1a(v, 0x9dc5811c) & 0x1fffff);
    let h = this.young.get(k);
    if (h !== undefined) return h;
    h = this.old.get(k);
    if (h === undefined) h = hmacHex(this.secret, v);
    if (this.young.size >= this.cap) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(k, h);
    return h;
  }
  /** Truncated HMAC (VALUE_HASH_HEX hex): what exchange rows keep of path/query values. */
  short(v: string): string {
    return this.full(v).slice(0, VALUE_HASH_HEX);
  }
  private taggedYoung = new Map<number, string>();
  private taggedOld = new Map<number, string>();
  /**
   * `${tag}${short(v)}`, one string per distinct (tag, value) through the same kind of bounded cache
   * (fingerprint keys, no raw value kept): events of a hot path share their id strings instead of
   * building two per segment per exchange.
   */
  tagged(tag: string, v: string): string {
    const seed = fnv1a(tag);
    const k = fnv1a(v, seed) * 0x200000 + (fnv1a(v, seed ^ 0x9dc5811c) & 0x1fffff);
    let t = this.taggedYoung.get(k);
    if (t !== undefined) return t;
    t = this.taggedOld.get(k) ?? `${tag}${this.short(v)}`;
    if (this.taggedYoung.size >= this.cap) {
      this.taggedOld = this.taggedYoung;
      this.taggedYoung = new Map();
    }
    this.taggedYoung.set(k, t);
    return t;
  }
}

interface Credential {
  kind: PrincipalKind;
  value: string;
}

function bearerPrincipal(token: string): Credential | null {
  if (token === '') return null;
  if (token.split('.').length === 3) {
    const jwt = decodeJwt(token);
    if (jwt.valid && jwt.claims !== null) {
      const c = jwt.claims;
      const str = (k: string): string | null => {
        const v = c[k];
        return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
      };
      const sub = str('sub');
      if (sub !== null) return { kind: 'jwt_sub', value: sub };
      const client = str('client_id') ?? str('azp');
      if (client !== null) return { kind: 'jwt_client', value: client };
    }
  }
  return { kind: 'session', value: token };
}

function basicUser(b64: string): string | null {
  let text: string;
  try {
    text = Buffer.from(b64, 'base64').toString('utf8');
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  const user = colon < 0 ? text : text.slice(0, colon);
  return user === '' ? null : user;
}

const ROLE = { none: 0, authorization: 1, apiKey: 2, cookie: 3 } as const;
type Role = (typeof ROLE)[keyof typeof ROLE];
/** Roles by raw header name (names are protocol vocabulary, not personal; bounded, cleared when full). */
const roles = new Map<string, Role>();

/** What a request header can carry for identity: a pure function of its name, cached. */
function headerRole(rawName: string): Role {
  let r = roles.get(rawName);
  if (r === undefined) {
    const name = rawName.toLowerCase();
    r =
      name === 'authorization'
        ? ROLE.authorization
        : name === 'cookie'
          ? ROLE.cookie
          : isApiKeyHeader(name)
            ? ROLE.apiKey
            : ROLE.none;
    if (roles.size >= 1024) roles.clear();
    roles.set(rawName, r);
  }
  return r;
}

/** The request's identifying credential, or null. Raw values never leave identify(). */
function credentialOf(ex: Exchange): Credential | null {
  const req = ex.request;
  if (req === null) return null;
  let apiKey: string | null = null;
  let session: string | null = null;
  for (const [rawName, rawValue] of req.headers) {
    const role = headerRole(rawName);
    if (role === ROLE.none) continue;
    const value = rawValue.trim();
    if (value === '') continue;
    if (role === ROLE.authorization) {
      const sp = value.indexOf(' ');
      const scheme = (sp < 0 ? value : value.slice(0, sp)).toLowerCase();
      const cred = sp < 0 ? value : value.slice(sp + 1).trim();
      if (scheme === 'basic') {
        const u = basicUser(cred);
        if (u !== null) return { kind: 'basic_user', value: u };
      } else if (scheme === 'bearer' || sp < 0) {
        const p = bearerPrincipal(cred);
        if (p !== null && p.kind !== 'session') return p;
        if (p !== null) session ??= p.value;
      } else if (scheme === 'token' || scheme === 'apikey' || scheme === 'api-key') apiKey ??= cred;
    } else if (role === ROLE.apiKey) {
      apiKey ??= value;
    } else {
      for (const c of value.split(';')) {
        const eq = c.indexOf('=');
        if (eq < 0) continue;
        const cname = c.slice(0, eq).trim();
        const cval = c.slice(eq + 1).trim();
        if (cval === '' || !isSessionCookie(cname)) continue;
        // A JWT in a cookie names its subject like a bearer token.
        const p = bearerPrincipal(cval);
        if (p !== null && p.kind !== 'session') return p;
        session ??= `${cname.toLowerCase()}=${cval}`;
      }
    }
  }
  if (apiKey === null) {
    const q = req.target.indexOf('?');
    if (q >= 0) {
      for (const part of req.target.slice(q + 1).split(/[&#]/)) {
        const eq = part.indexOf('=');
        if (eq <= 0) continue;
        if (!isCredentialQueryName(part.slice(0, eq))) continue;
        const v = part.slice(eq + 1);
        if (v !== '') {
          apiKey = v;
          break;
        }
      }
    }
  }
  if (apiKey !== null) return { kind: 'api_key', value: apiKey };
  if (session !== null) return { kind: 'session', value: session };
  return null;
}

const FORWARDED_FOR = /(?:^|[;,\s])for\s*=\s*"?(\[)?([^\]",;\s]+)/i;

/** First hop of X-Forwarded-For, else of Forwarded (RFC 7239 §5.2 `for=`), '' when absent. */
export function forwardedHop(ex: Exchange): string {
  const req = ex.request;
  if (req === null) return '';
  const xff = headerValue(req.headers, 'x-forwarded-for');
  if (xff !== null) {
    const first = (xff.split(',')[0] ?? '').trim();
    if (first !== '') return first;
  }
  const fwd = headerValue(req.headers, 'forwarded');
  if (fwd !== null) {
    const m = FORWARDED_FOR.exec(fwd);
    const v = m?.[2];
    // A bracketed IPv6 node keeps its colons; `ip:port` (one colon) loses the port (RFC 7239 §6).
    if (v !== undefined) return m?.[1] === '[' || v.split(':').length > 2 ? v : v.replace(/:\d+$/, '');
  }
  return '';
}

/** Masked display form of a principal: a short prefix, never the whole value. */
export function maskPrincipal(kind: PrincipalKind, value: string): string {
  if (kind === 'basic_user' || kind === 'jwt_sub' || kind === 'jwt_client') {
    const keep = value.length >= 8 ? 2 : value.length >= 4 ? 1 : 0;
    return value.slice(0, keep) + '****';
  }
  return maskValue('api_key', value);
}

/**
 * The actor id: sha256 over forms that are already safe to store (the principal's keyed HMAC, or the
 * IP as stored: raw, or its HMAC with --actor-ip hash), so the behaviour detectors derive the same id
 * from stored rows (an IP-keyed actor of a brute-force finding) without the secret.
 */
export function actorIdOf(ip: string, principalKind: string, principalHash: string): string {
  const basis = principalHash !== '' ? `actor|p|${principalKind}|${principalHash}` : `actor|ip|${ip}`;
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

export class ActorIdentifier {
  readonly hasher: Hasher;
  private readonly ipMode: IpMode;
  /** Actor ids by their basis (bounded: cleared when full; ids are recomputed, never wrong). */
  private readonly ids = new Map<string, string>();

  private idOf(ip: string, kind: string, principalHash: string): string {
    const k = principalHash !== '' ? `${kind}|${principalHash}` : ip;
    let id = this.ids.get(k);
    if (id === undefined) {
      if (this.ids.size >= 8192) this.ids.clear();
      id = actorIdOf(ip, kind, principalHash);
      this.ids.set(k, id);
    }
    return id;
  }
  constructor(opts: IdentityOptions) {
    this.hasher = new Hasher(opts.secret);
    this.ipMode = opts.ipMode;
  }

  ipForm(ip: string): string {
    return ip === '' || this.ipMode === 'raw' ? ip : `hmac:${this.hasher.full(`ip|${ip}`)}`;
  }

  identify(ex: Exchange): ActorIdentity {
    const ip = this.ipForm(ex.client.ip);
    const cred = credentialOf(ex);
    const fwd = forwardedHop(ex);
    if (cred === null) {
      return {
        id: this.idOf(ip, '', ''),
        ip,
        forwardedFor: this.ipForm(fwd),
        principal: '',
        principalKind: '',
        principalHash: '',
      };
    }
    // The principal's HMAC is of the bare identity value, so a path segment holding the same value
    // (`/users/{sub}/orders`) hashes equal to it (bola_suspect's path binding).
    const principalHash = this.hasher.full(cred.value);
    return {
      id: this.idOf(ip, cred.kind, principalHash),
      ip,
      forwardedFor: this.ipForm(fwd),
      principal: maskPrincipal(cred.kind, cred.value),
      principalKind: cred.kind,
      principalHash,
    };
  }
}
