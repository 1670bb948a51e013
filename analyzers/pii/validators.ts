// Pure validators: value in, 'valid' | 'invalid' | 'n/a' out. No I/O, no state, no throwing.
//
// Contract: a validator receives the candidate as matched (separators allowed where the format allows
// them) and normalises it itself. 'n/a' means "this validator cannot judge this value" (e.g. wrong
// length for the scheme); the detector table treats 'invalid' as "drop the candidate".
// Library validators (stdnum, ibantools, libphonenumber) run only after a cheap shape check, because
// stdnum builds an Error (with a stack) for every rejected input.
import { isIP } from 'node:net';
import { isValidIBAN } from 'ibantools';
import { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';
import { stdnum } from 'stdnum';
import { parse as parseDomain } from 'tldts';
import creditCardType from 'credit-card-type';

export type Validity = 'valid' | 'invalid' | 'n/a';

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Digits of `v` when every other character is one of `seps`; null otherwise. */
export function digitsOnly(v: string, seps = ' -.'): string | null {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (isDigit(c)) out += v[i];
    else if (!seps.includes(v[i] as string)) return null;
  }
  return out;
}

/** Luhn (ISO/IEC 7812-1 annex B) over a digit string. */
export function luhn(d: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = d.charCodeAt(i) - 48;
    if (dbl) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
    dbl = !dbl;
  }
  return d.length > 0 && sum % 10 === 0;
}

/** Payment card: 12..19 digits, a brand whose prefix and length fit (credit-card-type), Luhn. */
export function validateCard(v: string): Validity {
  const d = digitsOnly(v);
  if (d === null || d.length < 12 || d.length > 19) return 'n/a';
  if (!luhn(d)) return 'invalid';
  if (/^(\d)\1+$/.test(d)) return 'invalid';
  // UATP (airline cards, MII 1): 15 digits starting with 1; credit-card-type does not list it.
  if (d.length === 15 && d[0] === '1') return 'valid';
  const key = `${d.slice(0, 8)}:${d.length}`;
  let ok = brandCache.get(key);
  if (ok === undefined) {
    ok = creditCardType(d).some((b) => b.lengths.includes(d.length));
    if (brandCache.size >= BRAND_CACHE_MAX) brandCache.clear();
    brandCache.set(key, ok);
  }
  return ok ? 'valid' : 'invalid';
}

/**
 * Brand check results by (first 8 digits, length): credit-card-type's patterns are prefixes of at
 * most 8 digits, so that pair decides the answer; the library clones its whole table per call (a
 * third of a card field's full-scan cost on the lab capture). Bounded, cleared when full.
 */
const brandCache = new Map<string, boolean>();
const BRAND_CACHE_MAX = 4096;

/** IBAN: per-country length and BBAN format plus ISO 7064 mod 97-10 (ibantools). */
export function validateIban(v: string): Validity {
  const c = v.replace(/[\s-]/g, '').toUpperCase();
  if (c.length < 15 || c.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(c)) return 'n/a';
  return isValidIBAN(c) ? 'valid' : 'invalid';
}

/** NL BSN elfproef: Σ dᵢ·(9,8,7,6,5,4,3,2,−1) ≡ 0 (mod 11); 8-digit numbers are zero-padded. */
export function validateBsn(v: string): Validity {
  const d0 = digitsOnly(v, ' .-');
  if (d0 === null || (d0.length !== 9 && d0.length !== 8)) return 'n/a';
  const d = d0.length === 8 ? '0' + d0 : d0;
  if (d === '000000000') return 'invalid';
  let s = 0;
  for (let i = 0; i < 8; i++) s += (d.charCodeAt(i) - 48) * (9 - i);
  s -= d.charCodeAt(8) - 48;
  return s % 11 === 0 ? 'valid' : 'invalid';
}

/** UK NHS number: 10 digits, mod 11 check digit (weights 10..2; 11 → 0; 10 → invalid). */
export function validateNhs(v: string): Validity {
  const d = digitsOnly(v, ' -');
  if (d === null || d.length !== 10) return 'n/a';
  let s = 0;
  for (let i = 0; i < 9; i++) s += (d.charCodeAt(i) - 48) * (10 - i);
  let check = 11 - (s % 11);
  if (check === 11) check = 0;
  if (check === 10) return 'invalid';
  return check === d.charCodeAt(9) - 48 ? 'valid' : 'invalid';
}

/** Publicly known never-issued or advertising SSNs (Woolworth's wallet card, the "123-45-6789" sample). */
const SSN_BLOCKLIST: ReadonlySet<string> = new Set(['078051120', '123456789', '219099999', '457555462']);

/**
 * US SSN (SSA rules): area ≠ 000/666/9xx, group ≠ 00, serial ≠ 0000, not all one digit, not a
 * publicised sample. Separators must be consistent: ddd-dd-dddd, ddd dd dddd, ddd.dd.dddd, bare, or the
 * half-grouped ddd-dddddd / ddddd-dddd forms; mixed separators (693-09.4444) are not an SSN.
 */
export function validateSsn(v: string): Validity {
  if (!/^(?:\d{9}|\d{3}([-. ])\d{2}\1\d{4}|\d{3}-\d{6}|\d{5}-\d{4})$/.test(v)) return 'n/a';
  const d = v.replace(/[-. ]/g, '');
  if (/^(\d)\1{8}$/.test(d) || SSN_BLOCKLIST.has(d)) return 'invalid';
  const area = d.slice(0, 3);
  if (area === '000' || area === '666' || d[0] === '9') return 'invalid';
  if (d.slice(3, 5) === '00' || d.slice(5) === '0000') return 'invalid';
  return 'valid';
}

interface StdnumValidator {
  validate(v: string): { isValid: boolean };
}
// stdnum's index type makes every country optional; resolve the modules once at load and fail closed.
const NEVER: StdnumValidator = { validate: () => ({ isValid: false }) };
function sv(country: string, name: string): StdnumValidator {
  const c = (stdnum as unknown as Record<string, Record<string, StdnumValidator> | undefined>)[country];
  return c?.[name] ?? NEVER;
}

function viaStdnum(mod: StdnumValidator, v: string): Validity {
  try {
    return mod.validate(v).isValid ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/** National identifiers we report as `national_id`, validated by stdnum (checksums, date parts, prefixes). */
export const NATIONAL_ID_SCHEMES = {
  de_idnr: { shape: /^\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}$/, mod: sv('DE', 'idnr') },
  fr_nir: {
    shape: /^[12378][ ]?\d{2}[ ]?\d{2}[ ]?(?:\d{2}|2A|2B|2a|2b)[ ]?\d{3}[ ]?\d{3}[ ]?\d{2}$/,
    mod: sv('FR', 'nir'),
  },
  es_dni: { shape: /^\d{7,8}-?[A-Za-z]$/, mod: sv('ES', 'dni') },
  es_nie: { shape: /^[XYZxyz]-?\d{7}-?[A-Za-z]$/, mod: sv('ES', 'nie') },
  it_cf: {
    shape:
      /^[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]$/,
    mod: sv('IT', 'codicefiscale'),
  },
  gb_nino: { shape: /^[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]?$/, mod: sv('GB', 'nino') },
  pl_pesel: { shape: /^\d{11}$/, mod: sv('PL', 'pesel') },
  be_nn: { shape: /^\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}\.?\d{2}$/, mod: sv('BE', 'nn') },
  se_pnr: { shape: /^(?:\d{2})?\d{6}[-+]?\d{4}$/, mod: sv('SE', 'personnummer') },
  fi_hetu: { shape: /^\d{6}[-+ABCDEFUVWXYa-fu-y]\d{3}[0-9A-Ya-y]$/, mod: sv('FI', 'hetu') },
  nl_onderwijs: { shape: /^10\d{2}\.?\d{2}\.?\d{3}$/, mod: sv('NL', 'onderwijsnummer') },
} as const satisfies Record<string, { shape: RegExp; mod: StdnumValidator }>;
export type NationalIdScheme = keyof typeof NATIONAL_ID_SCHEMES | 'uk_nhs';

/** Input forms stdnum does not take as such: SE without separator, ES DNI with 7 digits. */
function prepare(k: keyof typeof NATIONAL_ID_SCHEMES, v: string): string {
  if (k === 'se_pnr' && /^\d{10}$|^\d{12}$/.test(v)) return `${v.slice(0, v.length - 4)}-${v.slice(-4)}`;
  if (k === 'es_dni' && /^\d{7}-?[A-Za-z]$/.test(v)) return '0' + v;
  return v;
}

/** DE Steuer-ID digit rule (BMF): in the first 10 digits at most one digit repeats, at most 3 times
 * (IDs issued before 2016 may have no repeated digit). */
function deIdnrDigits(v: string): boolean {
  const d = v.replace(/ /g, '').slice(0, 10);
  const n = new Array<number>(10).fill(0);
  for (let i = 0; i < d.length; i++) {
    const k = d.charCodeAt(i) - 48;
    n[k] = (n[k] ?? 0) + 1;
  }
  let multi = 0;
  for (const c of n) {
    if (c > 3) return false;
    if (c > 1) multi++;
  }
  return multi <= 1;
}

function schemeValid(k: keyof typeof NATIONAL_ID_SCHEMES, v: string): boolean {
  const s = NATIONAL_ID_SCHEMES[k];
  if (!s.shape.test(v)) return false;
  if (k === 'de_idnr' && !deIdnrDigits(v)) return false;
  return viaStdnum(s.mod, prepare(k, v)) === 'valid';
}

/** Which national-id schemes accept `v` (restricted to `only` when a key names the scheme). */
export function nationalIdSchemes(v: string, only?: readonly NationalIdScheme[]): NationalIdScheme[] {
  const out: NationalIdScheme[] = [];
  if (v.length < 8 || v.length > 24) return out;
  for (const k of Object.keys(NATIONAL_ID_SCHEMES) as (keyof typeof NATIONAL_ID_SCHEMES)[]) {
    if (only !== undefined && only.length > 0 && !only.includes(k)) continue;
    if (schemeValid(k, v)) out.push(k);
  }
  if (
    (only === undefined || only.length === 0 || only.includes('uk_nhs')) &&
    /^\d{3}[ -]?\d{3}[ -]?\d{4}$/.test(v) &&
    validateNhs(v) === 'valid'
  )
    out.push('uk_nhs');
  return out;
}

/** 'valid' when a scheme (restricted to `only` when given) accepts `v`; 'invalid' when one had the shape. */
export function validateNationalId(v: string, only?: readonly NationalIdScheme[]): Validity {
  if (v.length < 8 || v.length > 24) return 'n/a';
  if (nationalIdSchemes(v, only).length > 0) return 'valid';
  let shaped = false;
  for (const s of Object.values(NATIONAL_ID_SCHEMES)) if (s.shape.test(v)) shaped = true;
  if (/^\d{3}[ -]?\d{3}[ -]?\d{4}$/.test(v)) shaped = true;
  return shaped ? 'invalid' : 'n/a';
}

/** Strong national ids: checksum plus rich structure, safe to report from the value alone. */
export function validateStrongNationalId(v: string): Validity {
  const fr = NATIONAL_ID_SCHEMES.fr_nir;
  const it = NATIONAL_ID_SCHEMES.it_cf;
  if (fr.shape.test(v)) return viaStdnum(fr.mod, v);
  if (it.shape.test(v)) return viaStdnum(it.mod, v);
  return 'n/a';
}

/** Domains reserved for documentation and testing (RFC 2606, RFC 6761). */
const RESERVED_TLDS: ReadonlySet<string> = new Set(['test', 'invalid', 'localhost', 'example', 'local']);

/** example.*, *.test, *.invalid, *.localhost, *.example, *.local: documentation and test mailboxes. */
function isDocumentationDomain(domain: string): boolean {
  const tld = domain.slice(domain.lastIndexOf('.') + 1);
  if (RESERVED_TLDS.has(tld)) return true;
  return parseDomain(domain, { allowPrivateDomains: false }).domainWithoutSuffix === 'example';
}

/**
 * Email: local@domain where the domain ends in a real ICANN suffix, or is a documentation domain:
 * a field carrying `jane@example.com` in staging carries real addresses in production, so those stay
 * emails and the detector marks them as examples (lower confidence), like test card numbers.
 */
export function validateEmail(v: string): Validity {
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1 || v.length > 254) return 'n/a';
  const domain = v.slice(at + 1).toLowerCase();
  if (domain.endsWith('.') || domain.includes('..')) return 'invalid';
  if (isDocumentationDomain(domain)) return 'valid';
  const p = parseDomain(domain, { allowPrivateDomains: false });
  if (p.isIp === true || p.isIcann !== true || p.domain === null || p.publicSuffix === null) return 'invalid';
  // A public suffix alone (user@co.uk) is not a mailbox domain.
  if (p.domain === p.publicSuffix) return 'invalid';
  return 'valid';
}

/** Whether the email's domain is a documentation or test domain (reported as an example). */
export function isDocumentationEmail(v: string): boolean {
  const at = v.lastIndexOf('@');
  return at > 0 && isDocumentationDomain(v.slice(at + 1).toLowerCase());
}

// Metadata.hasCallingCode is public in libphonenumber-js but missing from its type declarations.
const PHONE_METADATA = new Metadata() as unknown as { hasCallingCode?: (code: string) => boolean };
const hasCallingCode: (code: string) => boolean =
  typeof PHONE_METADATA.hasCallingCode === 'function'
    ? (code) => (PHONE_METADATA.hasCallingCode as (c: string) => boolean).call(PHONE_METADATA, code)
    : () => true;

/** Whether the digits after '+' start with a country calling code (ITU E.164: 1 to 3 digits). */
function knownCallingCode(s: string): boolean {
  let code = '';
  for (let i = 1; i < s.length && code.length < 3; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      code += s[i] as string;
      if (hasCallingCode(code)) return true;
    } else if (code.length > 0 || (c !== 32 && c !== 40 && c !== 41 && c !== 45 && c !== 46)) return false;
  }
  return false;
}

/**
 * Phone via libphonenumber-js (max metadata) `isValid`. Without a leading + or 00 the number needs a
 * default country (from config, or a key hint supplies none: the caller passes its default).
 */
export function validatePhone(v: string, defaultCountry?: string): Validity {
  let digits = 0;
  for (let i = 0; i < v.length; i++) if (isDigit(v.charCodeAt(i))) digits++;
  if (digits < 8 || digits > 15) return 'n/a';
  let s = v.trim();
  if (s.startsWith('00')) s = '+' + s.slice(2);
  const international = s.startsWith('+');
  if (!international && defaultCountry === undefined) return 'n/a';
  // Shape gate: an international number whose first 1-3 digits are no country calling code is what
  // the library rejects by building and catching a ParseError (INVALID_COUNTRY): same answer, no throw.
  if (international && !knownCallingCode(s)) return 'invalid';
  try {
    const p = international
      ? parsePhoneNumberFromString(s)
      : parsePhoneNumberFromString(s, defaultCountry as CountryCode);
    if (p === undefined) return 'invalid';
    return p.isValid() ? 'valid' : 'invalid';
  } catch {
    return 'invalid';
  }
}

// IP ranges that are infrastructure, not a person: RFC 1918, loopback, link-local, CGNAT, multicast,
// documentation (RFC 5737 / RFC 3849), benchmarking, unique-local, reserved. Kept as data (prefix, bits).
const V4_RESERVED: readonly (readonly [number, number])[] = [
  [0x00000000, 8],
  [0x0a000000, 8],
  [0x64400000, 10],
  [0x7f000000, 8],
  [0xa9fe0000, 16],
  [0xac100000, 12],
  [0xc0000000, 24],
  [0xc0000200, 24],
  [0xc0a80000, 16],
  [0xc6120000, 15],
  [0xc6336400, 24],
  [0xcb007100, 24],
  [0xe0000000, 4],
  [0xf0000000, 4],
];

function v4ToInt(v: string): number {
  const p = v.split('.');
  return (((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3])) >>> 0;
}

function isReservedV4(v: string): boolean {
  const n = v4ToInt(v);
  for (const [base, bits] of V4_RESERVED) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((n & mask) >>> 0 === base) return true;
  }
  return false;
}

function isReservedV6(v: string): boolean {
  const s = v.toLowerCase();
  if (s === '::' || s === '::1') return true;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  const head = tail === null ? '' : s.slice(0, s.length - (tail[1] as string).length);
  if (
    tail !== null &&
    (/^(?:0{1,4}:){5}ffff:$|^::ffff:$|^::$|^(?:0{1,4}:){6}$|^::ffff:0{1,4}:$/.test(head) || s.startsWith('64:ff9b::'))
  ) {
    return isReservedV4(tail[1] as string);
  }
  const first = parseInt(s.split(':')[0] || '0', 16);
  if ((first & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((first & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (s.startsWith('2001:db8:') || s.startsWith('2001:db8::') || s.startsWith('2001:0db8:')) return true; // RFC 3849
  if (first === 0) return true; // ::/8 reserved (incl. IPv4-compatible)
  return false;
}

/**
 * IP address via node:net. A syntactically valid address in a private or reserved range is 'invalid'
 * for our purpose (infrastructure, not a person); a public address is 'valid'.
 */
export function validateIp(v: string): Validity {
  if (v.length < 2 || v.length > 45) return 'n/a';
  const fam = isIP(v);
  if (fam === 0) return 'n/a';
  if (fam === 4) return isReservedV4(v) ? 'invalid' : 'valid';
  return isReservedV6(v) ? 'invalid' : 'valid';
}

/** A lat/long pair: both in range, both with at least 4 decimals (≈ 11 m), not (0,0). */
export function validateLatLong(lat: number, lon: number, latText: string, lonText: string): Validity {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return 'n/a';
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return 'invalid';
  const dec = (t: string): number => {
    const i = t.indexOf('.');
    return i < 0 ? 0 : t.length - i - 1;
  };
  if (dec(latText) < 4 || dec(lonText) < 4) return 'n/a';
  if (lat === 0 && lon === 0) return 'invalid';
  return 'valid';
}

/** NL postcode 9999 AA: first digit 1-9, letters not SA, SD or SS (never issued). */
export function validateNlPostcode(v: string): Validity {
  const m = /^([1-9]\d{3}) ?([A-Za-z]{2})$/.exec(v);
  if (m === null) return 'n/a';
  const l = (m[2] as string).toUpperCase();
  return l === 'SA' || l === 'SD' || l === 'SS' ? 'invalid' : 'valid';
}

// shannon() scratch: counts per UTF-16 code unit and the distinct units in first-seen order. Module
// scope and reset after each call (no raw value outlives the call: only counts of code units stay, all
// zero). The sum runs in first-occurrence order, as the Map version did, so results are bit-identical.
// Measured: ~8x faster than the Map version on 700-character tokens (it was 9% of scanner time).
const ENT_COUNT = new Uint32Array(65_536);
let entOrder = new Uint16Array(1024);

function shannonSlow(s: string): number {
  const freq = new Map<string, number>();
  for (const ch of s) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of freq.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Shannon entropy in bits per character (per code point; p = count / UTF-16 length). */
export function shannon(s: string): number {
  const len = s.length;
  if (len === 0) return 0;
  if (entOrder.length < len) entOrder = new Uint16Array(len);
  let distinct = 0;
  let surrogate = false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      surrogate = true;
      break;
    }
    const n = ENT_COUNT[c] as number;
    if (n === 0) entOrder[distinct++] = c;
    ENT_COUNT[c] = n + 1;
  }
  let h = 0;
  if (!surrogate) {
    for (let i = 0; i < distinct; i++) {
      const p = (ENT_COUNT[entOrder[i] as number] as number) / len;
      h -= p * Math.log2(p);
    }
  }
  for (let i = 0; i < distinct; i++) ENT_COUNT[entOrder[i] as number] = 0;
  // Astral code points (surrogate pairs) count as one symbol: the Map version handles them.
  return surrogate ? shannonSlow(s) : h;
}

/** A date of birth: a calendar date (ISO, D-M-Y, M/D/Y) with a year 1900..2030. */
export function validateDate(v: string): Validity {
  let y: number, m: number, d: number;
  let r = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(v);
  if (r !== null) {
    y = Number(r[1]);
    m = Number(r[2]);
    d = Number(r[3]);
  } else {
    r = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(v);
    if (r === null) {
      r = /^(\d{4})(\d{2})(\d{2})$/.exec(v);
      if (r === null) return 'n/a';
      y = Number(r[1]);
      m = Number(r[2]);
      d = Number(r[3]);
    } else {
      y = Number(r[3]);
      m = Number(r[2]);
      d = Number(r[1]);
      if (m > 12 && d <= 12) [m, d] = [d, m];
    }
  }
  if (y < 1900 || y > 2030 || m < 1 || m > 12 || d < 1 || d > 31) return 'invalid';
  return 'valid';
}

export { isIP };
