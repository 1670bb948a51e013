// Deterministic value generators for the accuracy harness: realistic identifiers, planted personal data
// that passes its checksum, and hard negatives that look like personal data but are not.
// Everything draws from one seeded PRNG so a seed reproduces the same traffic byte for byte.
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { isValidIBAN } from 'ibantools';

/** mulberry32: small, fast, good enough for test data; not for anything secret. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.next() * xs.length)];
    if (x === undefined) throw new Error('pick from empty list');
    return x;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
  /** A child generator whose stream depends only on this seed and a label (stable under reordering). */
  fork(label: string): Rng {
    let h = 2166136261 ^ this.s;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619);
    return new Rng(h >>> 0);
  }
}

// ---- checksums (pure) -------------------------------------------------------------------------

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function luhnComplete(body: string): string {
  for (let c = 0; c <= 9; c++) if (luhnValid(body + String(c))) return body + String(c);
  throw new Error('unreachable');
}

/** Dutch BSN elfproef: Σ dᵢ·(9,8,7,6,5,4,3,2,−1) ≡ 0 (mod 11). */
export function elfproefValid(nine: string): boolean {
  if (!/^\d{9}$/.test(nine)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (nine.charCodeAt(i) - 48) * (9 - i);
  sum -= nine.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

export function ibanMod97(iban: string): number {
  const re = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of re) {
    const v = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem;
}

// ---- planted personal data --------------------------------------------------------------------

const FIRST = [
  'Emma',
  'Daan',
  'Sophie',
  'Lucas',
  'Julia',
  'Sem',
  'Olivia',
  'Noah',
  'Mila',
  'Liam',
  'Fatima',
  'Mohammed',
  'Anna',
  'Jan',
  'Charlotte',
  'Oliver',
] as const;
const LAST = [
  'de Vries',
  'Jansen',
  'Bakker',
  'Visser',
  'Smit',
  'Meijer',
  'Mulder',
  'Bos',
  'Vos',
  'Peters',
  'Hendriks',
  'Smith',
  'Taylor',
  'Brown',
  'Wilson',
  'Schmidt',
] as const;
const MAIL_DOMAINS = [
  'gmail.com',
  'outlook.com',
  'kpn.nl',
  'ziggo.nl',
  'proton.me',
  'yahoo.co.uk',
  'web.de',
  'icloud.com',
] as const;

export function personFirst(r: Rng): string {
  return r.pick(FIRST);
}
export function personLast(r: Rng): string {
  return r.pick(LAST);
}
export function email(r: Rng): string {
  const local = `${r.pick(FIRST).toLowerCase()}.${r.pick(LAST).toLowerCase().replace(/\s+/g, '')}${r.chance(0.5) ? String(r.int(1, 99)) : ''}`;
  return `${local}@${r.pick(MAIL_DOMAINS)}`;
}
/** E.164 mobile numbers (NL, UK, DE) that libphonenumber-js/max accepts as valid. */
export function phone(r: Rng): string {
  for (;;) {
    const c = r.int(0, 2);
    const n =
      c === 0
        ? `+316${r.digits(8)}`
        : c === 1
          ? `+447${r.pick(['4', '5', '7', '8', '9'])}${r.digits(8)}`
          : `+491${r.pick(['51', '52', '57', '60', '70', '76'])}${r.digits(8)}`;
    if (isValidPhoneNumber(n)) return n;
  }
}
/** NL or DE IBAN with a correct mod-97 check (verified with ibantools). */
export function iban(r: Rng): string {
  for (;;) {
    const bban = r.chance(0.6) ? `${r.pick(['ABNA', 'INGB', 'RABO', 'SNSB', 'TRIO'])}${r.digits(10)}` : r.digits(18);
    const cc = bban.length === 14 ? 'NL' : 'DE';
    const check = 98 - ibanMod97(`${cc}00${bban}`);
    const s = `${cc}${String(check).padStart(2, '0')}${bban}`;
    if (isValidIBAN(s)) return s;
  }
}
/** Visa / Mastercard numbers: brand prefix, 16 digits, Luhn-valid. */
export function card(r: Rng): string {
  const prefix = r.chance(0.5) ? `4${r.digits(5)}` : `5${r.int(1, 5)}${r.digits(4)}`;
  return luhnComplete(prefix + r.digits(9));
}
export function bsn(r: Rng): string {
  for (;;) {
    const s = String(r.int(1, 9)) + r.digits(8);
    if (elfproefValid(s)) return s;
  }
}
export function password(r: Rng): string {
  const words = ['Zomer', 'Tulp', 'Fiets', 'Kanaal', 'Haven', 'Molen', 'Dijk', 'Storm'] as const;
  return `${r.pick(words)}${r.pick(words).toLowerCase()}${r.int(10, 9999)}${r.pick(['!', '#', '$', '%', '&'])}`;
}

// ---- hard negatives -----------------------------------------------------------------------------

/** Luhn-valid 16-digit numbers with a card-brand prefix: the classic false positive for order numbers. */
export function luhnOrderNumber(r: Rng): string {
  return luhnComplete(`4${r.digits(14)}`);
}
/** 9-digit identifiers that FAIL the elfproef (so never a BSN, even under a `bsn` key). */
export function nineDigitNonBsn(r: Rng): string {
  for (;;) {
    const s = String(r.int(1, 9)) + r.digits(8);
    if (!elfproefValid(s)) return s;
  }
}
export function uuid(r: Rng): string {
  const h = r.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[r.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
export function sha256Hex(r: Rng): string {
  return r.hex(64);
}
export function timestamp(r: Rng): string {
  const t = Date.UTC(2024, 0, 1) + r.int(0, 400 * 86400) * 1000;
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}
export function privateIp(r: Rng): string {
  return `172.${r.int(17, 31)}.${r.int(0, 255)}.${r.int(2, 254)}`;
}

// ---- realistic identifiers ----------------------------------------------------------------------

/** Twilio SID: two-letter type prefix + 32 hex = 34 chars (e.g. CH…, US…, IS…). */
export function twilioSid(r: Rng, prefix: string): string {
  return prefix + r.hex(32);
}
const CONTAINER_NAMES = [
  'web-1',
  'api_gateway',
  'redis-cache',
  'postgres-main',
  'worker_3',
  'nginx-edge',
  'kafka-0',
  'grafana',
] as const;
export function containerRef(r: Rng): string {
  return r.chance(0.6) ? r.hex(64) : r.pick(CONTAINER_NAMES);
}
export function imageRef(r: Rng): string {
  return r.pick([
    'nginx:1.25',
    'redis:7.2',
    'postgres:16-alpine',
    'node:20-slim',
    'alpine:3.19',
    'busybox:latest',
    'python:3.12',
    'golang:1.22',
  ]);
}
export function volumeName(r: Rng): string {
  return r.chance(0.5) ? r.hex(64) : r.pick(['pgdata', 'redis-data', 'uploads', 'grafana-storage', 'certs']);
}
const USERNAMES = [
  'emma.jansen',
  'daan_devries',
  'sophie88',
  'lbakker',
  'j.visser',
  'noah.smit',
  'mila_m',
  'oliverb',
] as const;
export function username(r: Rng): string {
  return r.pick(USERNAMES);
}
const WORDS = [
  'alpha',
  'bravo',
  'delta',
  'echo',
  'harbor',
  'meadow',
  'orbit',
  'pixel',
  'quartz',
  'summit',
  'tango',
  'violet',
] as const;
/** A neutral string: a word and a small number, never personal data by shape. */
export function neutralWord(r: Rng): string {
  return `${r.pick(WORDS)}-${r.int(1, 999)}`;
}
