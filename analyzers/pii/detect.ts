// Value-level detection: detectors are DATA (VALUE_DETECTORS), each a record of kind, prefilter,
// anchored whole-value pattern, optional delimited text pattern, validator, base score, strength and
// whether a key hint is required. detectValue() judges one JSON leaf / parameter / header value as a
// whole; detectText() scans free text for substrings. CONTEXT_DETECTORS (coordinate pairs, Authorization,
// cookies) judge values the scanner found in a known place. All return Candidates, which hold the raw
// value and therefore never leave the scanner (scanner.ts turns them into redacted PiiHits).
//
// Scoring (pii.md, after Presidio): base score; a passing validator lifts it to ≥ 0.85; a positive
// key hint adds 0.35 × weight (leaf 1, parent 0.5, ancestors 0.25); a failing validator drops the
// candidate; a negative leaf key (orderId, version, amount...) drops weak candidates and lowers strong
// ones by 0.2.
import type { PiiKind } from '../../engine/contracts/inventory.js';
import { identifierShape } from './ids.js';
import { decodeJwt } from './jwt.js';
import type { KeyEvidence } from './keys.js';
import { keyEvidence } from './keys.js';
import { genericSecretValue, isPlaceholder, scanSecrets } from './secrets.js';
import type { SecretMatch } from './secrets.js';
import {
  shannon,
  validateBsn,
  validateCard,
  validateDate,
  isDocumentationEmail,
  validateEmail,
  validateIban,
  validateIp,
  validateLatLong,
  validateNationalId,
  validateNlPostcode,
  validatePhone,
  validateSsn,
  validateStrongNationalId,
} from './validators.js';
import type { NationalIdScheme, Validity } from './validators.js';
import { findPhoneNumbersInText } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';

export interface Candidate {
  kind: PiiKind;
  /** Detector or secret rule id. */
  detector: string;
  /** Raw matched value. Never copied into a PiiHit, a log or a store row. */
  value: string;
  /** Offsets of `value` within the scanned string. */
  start: number;
  end: number;
  confidence: number;
  strength: 'strong' | 'weak';
  validated: boolean;
  keyHint: boolean;
  example: boolean;
  /** Claim path when found inside a JWT's claims ("$.email"), else null. */
  via: string | null;
  /** Extra redacted facts (JWT: alg, alg_none, no_exp). */
  details: Record<string, string | boolean> | null;
}

export interface DetectOptions {
  /** ISO 3166 alpha-2 country for phone numbers written without +/00. */
  defaultCountry?: string;
}

/**
 * Where a whole value sits, for the identifier rule (ids.ts):
 * - 'field': a JSON leaf, query/form parameter or header, judged by its key path;
 * - 'credential': a credential location (Authorization, Cookie, Set-Cookie): whatever its shape, the
 *   value is the credential;
 * - 'path': a URL path segment; the key path is the previous segment, a collection name
 *   (`/Credentials/{Sid}`, `/tokens/{id}`), so an identifier-shaped segment is that resource's id.
 */
export type ValueContext = 'field' | 'credential' | 'path';

interface ValueStats {
  len: number;
  digits: number;
  letters: number;
  at: boolean;
  colon: boolean;
  dot: boolean;
  space: boolean;
}

function statsOf(v: string): ValueStats {
  let digits = 0,
    letters = 0,
    at = false,
    colon = false,
    dot = false,
    space = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else if (c === 64) at = true;
    else if (c === 58) colon = true;
    else if (c === 46) dot = true;
    else if (c === 32) space = true;
  }
  return { len: v.length, digits, letters, at, colon, dot, space };
}

export interface ValueDetector {
  id: string;
  kind: PiiKind;
  /** Cheap test on counts before any regex. */
  prefilter: (s: ValueStats) => boolean;
  /** Anchored whole-value pattern. */
  pattern: RegExp;
  /** Global, delimited pattern for free text (absent: not scanned in text). */
  text?: RegExp;
  validate: (v: string, o: DetectOptions, ev: KeyEvidence) => Validity;
  base: number;
  /** Strength with a passing validator (or shape) and no key hint. */
  strength: 'strong' | 'weak' | ((v: string) => 'strong' | 'weak');
  /** Minimum positive key weight needed (0: none). Macie: weak types require a keyword. */
  requiresKey: number;
  /** Well-known documentation values (normalised: separators removed, upper case). */
  examples?: ReadonlySet<string>;
}

const compact = (v: string): string => v.replace(/[\s.-]/g, '').toUpperCase();

// Units that make "1000 MB" look like an NL postcode; dropped from value-only detection.
const UNIT_PAIRS: ReadonlySet<string> = new Set([
  'KB',
  'MB',
  'GB',
  'TB',
  'PB',
  'EB',
  'KM',
  'CM',
  'MM',
  'NM',
  'MG',
  'KG',
  'ML',
  'CL',
  'DL',
  'HZ',
  'MS',
  'NS',
  'US',
  'PX',
  'PT',
  'EM',
  'AM',
  'PM',
  'HP',
  'KW',
  'MW',
  'GW',
  'KV',
  'MA',
]);

// Postcode shapes accepted under a postcode key hint: UK (Royal Mail letter rules), NL, 5-digit
// (DE/FR/IT/ES/US, 01001..99998), 4-digit (BE/AT/CH/DK/NO, 1000..9999), US ZIP+4, PL, PT, SE, CA.
const UK_POSTCODE =
  /^(?:GIR ?0AA|(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$/;
function validatePostcodeShape(v: string): Validity {
  const u = v.trim();
  if (UK_POSTCODE.test(u.toUpperCase()) && u === u.toUpperCase()) return 'valid';
  if (validateNlPostcode(u) === 'valid') return 'valid';
  if (/^\d{5}$/.test(u)) {
    const n = Number(u);
    return n >= 1001 && n <= 99998 ? 'valid' : 'invalid';
  }
  if (/^[1-9]\d{3}$/.test(u)) return 'valid';
  if (/^\d{5}-\d{4}$/.test(u) || /^\d{2}-\d{3}$/.test(u) || /^\d{4}-\d{3}$/.test(u) || /^\d{3} \d{2}$/.test(u))
    return 'valid';
  if (/^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$/.test(u)) return 'valid';
  return 'invalid';
}

/** ICAO 9303 check digit over the first 8 characters (weights 7,3,1). */
function icaoCheck(v: string): boolean {
  const w = [7, 3, 1];
  let s = 0;
  for (let i = 0; i < 8; i++) {
    const c = v.charCodeAt(i);
    const n = c >= 48 && c <= 57 ? c - 48 : c - 55;
    s += n * (w[i % 3] as number);
  }
  return s % 10 === v.charCodeAt(8) - 48;
}

// Passport numbers under a passport key hint: UK (AA9999999), US (999999999 / A99999999), NL
// (AA + 6 alnum + digit, no O), DE (ICAO charset, last char the ICAO check digit), generic ICAO
// 9-character documents with a passing check digit.
function validatePassportShape(v: string): Validity {
  const u = v.toUpperCase();
  if (/^[A-Z]{2}\d{7}$/.test(u)) return 'valid';
  if (/^(?:\d{9}|[A-Z]\d{8})$/.test(u)) return 'valid';
  if (/^[A-NP-Z]{2}[A-NP-Z0-9]{6}\d$/.test(u)) return 'valid';
  if (/^[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}\d$/.test(u)) return icaoCheck(u) ? 'valid' : 'invalid';
  return /^[A-Z0-9]{6,10}$/.test(u) ? 'invalid' : 'n/a';
}

function validatePersonName(v: string): Validity {
  const t = v.trim();
  if (t.length < 2 || t.length > 80) return 'n/a';
  if (!/^[\p{L}][\p{L}\p{M}' .,-]*$/u.test(t)) return 'invalid';
  const words = t.split(/\s+/);
  if (words.length > 6) return 'invalid';
  if (/^(?:null|none|undefined|true|false|n\/a|unknown|anonymous|test|admin|user)$/i.test(t)) return 'invalid';
  return 'valid';
}

function validateStreet(v: string): Validity {
  const t = v.trim();
  if (t.length < 4 || t.length > 200) return 'n/a';
  if (t.includes('@') || t.includes('://') || !/\p{L}/u.test(t)) return 'invalid';
  if (!/[\s,]/.test(t) && !/\d/.test(t)) return 'invalid';
  return 'valid';
}

const CARD_EXAMPLES = new Set([
  '4111111111111111',
  '4012888888881881',
  '5555555555554444',
  '5105105105105100',
  '378282246310005',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '4242424242424242',
  '4000056655665556',
  '30569309025904',
  '38520000023237',
  '3530111333300000',
  '3566002020360505',
  '4222222222222',
  '5200828282828210',
  '2223003122003222',
  '6200000000000005',
  '4000000000000002',
]);
const IBAN_EXAMPLES = new Set([
  'NL91ABNA0417164300',
  'DE89370400440532013000',
  'GB29NWBK60161331926819',
  'GB82WEST12345698765432',
  'FR1420041010050500013M02606',
  'BE68539007547034',
  'ES9121000418450200051332',
  'IT60X0542811101000000123456',
  'CH9300762011623852957',
  'AT611904300234573201',
]);
const BSN_EXAMPLES = new Set(['123456782', '111222333', '999999990', '012345672']);
const SSN_EXAMPLES = new Set(['078051121', '078051123', '219099998']);

/**
 * International (+ / 00) numbers that libphonenumber accepts are strong. National numbers validated
 * with the configured default country are strong when written the way people write phone numbers
 * ("(415) 555-0132", "06-12345678"); a bare digit run is weak: ids and counters look like that too.
 */
function phoneStrength(v: string): 'strong' | 'weak' {
  const t = v.trim();
  if (/^(?:\+|00)/.test(t)) return 'strong';
  return /[ ()./-]/.test(t) ? 'strong' : 'weak';
}

// National-id schemes named by a key (`pesel`, `nino`...): the value is judged by that scheme only,
// so an 11-digit Belgian number under `rijksregisternummer` is not accepted because PESEL would.
const SCHEME_HINTS: Readonly<Record<string, readonly NationalIdScheme[]>> = {
  steuerid: ['de_idnr'],
  idnr: ['de_idnr'],
  steueridentifikationsnummer: ['de_idnr'],
  nir: ['fr_nir'],
  numerosecu: ['fr_nir'],
  securitesociale: ['fr_nir'],
  insee: ['fr_nir'],
  dni: ['es_dni', 'es_nie'],
  nif: ['es_dni', 'es_nie'],
  nie: ['es_nie'],
  codicefiscale: ['it_cf'],
  fiscalcode: ['it_cf'],
  nino: ['gb_nino'],
  nationalinsurance: ['gb_nino'],
  nationalinsurancenumber: ['gb_nino'],
  nhs: ['uk_nhs'],
  nhsnumber: ['uk_nhs'],
  pesel: ['pl_pesel'],
  rijksregisternummer: ['be_nn'],
  rijksregister: ['be_nn'],
  insz: ['be_nn'],
  personnummer: ['se_pnr'],
  hetu: ['fi_hetu'],
  henkilotunnus: ['fi_hetu'],
  onderwijsnummer: ['nl_onderwijs'],
};
function schemesFor(ev: KeyEvidence): NationalIdScheme[] | undefined {
  const t = ev.leafTokens;
  const out: NationalIdScheme[] = [];
  for (let i = 0; i < t.length; i++) {
    let joined = '';
    for (let j = i; j < t.length && j < i + 4; j++) {
      joined += t[j];
      const s = SCHEME_HINTS[joined];
      if (s !== undefined) for (const x of s) if (!out.includes(x)) out.push(x);
    }
  }
  return out.length > 0 ? out : undefined;
}

const digitCount =
  (lo: number, hi: number) =>
  (s: ValueStats): boolean =>
    s.digits >= lo && s.digits <= hi;

/** The value detectors, in reporting order. Secrets (api_key, jwt) live in secrets.ts. */
export const VALUE_DETECTORS: readonly ValueDetector[] = [
  {
    id: 'email',
    kind: 'email',
    prefilter: (s) => s.at && s.dot && s.len >= 6 && s.len <= 254,
    pattern:
      /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z0-9-]{2,63}$/,
    text: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z0-9-]{2,63}(?![A-Za-z0-9-])/g,
    validate: validateEmail,
    base: 0.6,
    strength: 'strong',
    requiresKey: 0,
  },
  {
    id: 'iban',
    kind: 'iban',
    prefilter: (s) => s.digits >= 4 && s.len >= 15 && s.len <= 42,
    pattern: /^[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}$/,
    text: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}(?![A-Za-z0-9])/g,
    validate: validateIban,
    base: 0.5,
    strength: 'strong',
    requiresKey: 0,
    examples: IBAN_EXAMPLES,
  },
  {
    id: 'national-id-strong',
    kind: 'national_id',
    prefilter: (s) => s.len >= 15 && s.len <= 22 && s.digits >= 7,
    pattern:
      /^(?:[12378] ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}|[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z])$/,
    text: /(?<![A-Za-z0-9])(?:[12378] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}|[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z])(?![A-Za-z0-9])/g,
    validate: validateStrongNationalId,
    base: 0.6,
    strength: 'strong',
    requiresKey: 0,
  },
  {
    id: 'payment-card',
    kind: 'payment_card',
    prefilter: digitCount(12, 19),
    pattern: /^(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})$/,
    text: /(?<![\d-])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d])/g,
    validate: validateCard,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0,
    examples: CARD_EXAMPLES,
  },
  {
    id: 'bsn',
    kind: 'bsn',
    prefilter: digitCount(8, 9),
    pattern: /^(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{8})$/,
    text: /(?<![\d.-])(?:\d{9}|\d{4}\.\d{2}\.\d{3})(?![\d-]|\.\d)/g,
    validate: (v) => (v.length === 8 ? 'n/a' : validateBsn(v)),
    base: 0.2,
    strength: 'weak',
    requiresKey: 0,
    examples: BSN_EXAMPLES,
  },
  {
    id: 'bsn-8',
    kind: 'bsn',
    prefilter: digitCount(8, 8),
    pattern: /^\d{8}$/,
    validate: validateBsn,
    base: 0.2,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'us-ssn',
    kind: 'us_ssn',
    prefilter: digitCount(9, 9),
    pattern: /^(?:\d{9}|\d{3}[-. ]\d{2}[-. ]\d{4}|\d{3}-\d{6}|\d{5}-\d{4})$/,
    text: /(?<![\d-])(?:\d{3}([-. ])\d{2}\1\d{4}|\d{3}-\d{6}|\d{5}-\d{4}|\d{9})(?![\d-]|\.\d)/g,
    validate: validateSsn,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
    examples: SSN_EXAMPLES,
  },
  {
    id: 'national-id',
    kind: 'national_id',
    prefilter: (s) => s.len >= 8 && s.len <= 24 && s.digits >= 6,
    pattern: /^[A-Za-z0-9][A-Za-z0-9 .+-]{6,22}[A-Za-z0-9]$/,
    text: /(?:(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2}(?: ?[A-Da-d])?(?! ?[A-Za-z0-9])|(?<![A-Za-z0-9])[XYZxyz]-?\d{7}-?[A-Za-z](?![A-Za-z0-9])|(?<![0-9])(?:\d{3}([ -]?)\d{3}\1\d{4}|\d{7,8}-?[A-Za-z]|\d{11}|\d{2} \d{3} \d{3} \d{3}|\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}|(?:\d{2})?\d{6}[-+]?\d{4}|\d{6}[-+A-FU-Y]\d{3}[0-9A-Y])(?![A-Za-z0-9]))/g,
    validate: (v, _o, ev) => validateNationalId(v, schemesFor(ev)),
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'phone',
    kind: 'phone',
    prefilter: (s) => s.digits >= 8 && s.digits <= 15 && s.letters === 0 && s.len <= 24,
    pattern: /^(?:\+|00)?[0-9 ()./-]{7,22}[0-9]$/,
    validate: (v, o) => validatePhone(v, o.defaultCountry),
    base: 0.4,
    strength: phoneStrength,
    requiresKey: 0,
  },
  {
    id: 'ip-address',
    kind: 'ip_address',
    prefilter: (s) => (s.dot || s.colon) && s.len >= 3 && s.len <= 45 && !s.space,
    pattern: /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]{2,39}(?:\d{1,3}(?:\.\d{1,3}){3})?)$/,
    text: /(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)|(?=[0-9A-Fa-f]{0,4}:)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:]))/g,
    validate: validateIp,
    base: 0.6,
    strength: 'strong',
    requiresKey: 0,
  },
  {
    id: 'postcode-nl',
    kind: 'postcode',
    prefilter: (s) => s.digits === 4 && s.letters === 2,
    pattern: /^[1-9]\d{3} ?[A-Za-z]{2}$/,
    text: /(?<![\w])[1-9]\d{3} ?[A-Z]{2}(?![\w])/g,
    validate: (v) => (UNIT_PAIRS.has(v.slice(-2).toUpperCase()) ? 'n/a' : validateNlPostcode(v)),
    base: 0.5,
    strength: 'strong',
    requiresKey: 0,
  },
  {
    id: 'postcode',
    kind: 'postcode',
    prefilter: (s) => s.len >= 4 && s.len <= 10 && s.digits >= 1,
    pattern: /^[A-Za-z0-9][A-Za-z0-9 -]{2,8}[A-Za-z0-9]$/,
    text: /(?<![A-Za-z0-9])(?:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{5}(?:-\d{4})?|\d{4}(?: ?[A-Z]{2})?)(?![A-Za-z0-9])/g,
    validate: validatePostcodeShape,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'date-of-birth',
    kind: 'date_of_birth',
    prefilter: (s) => s.digits >= 6 && s.len <= 30,
    pattern: /^\d{1,4}[-/.]?\d{1,2}[-/.]?\d{1,4}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/,
    validate: validateDate,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'passport',
    kind: 'passport',
    prefilter: (s) => s.len >= 6 && s.len <= 10 && s.digits >= 2,
    pattern: /^[A-Za-z0-9]{6,10}$/,
    text: /(?<![A-Za-z0-9])[A-Za-z0-9]{9}(?![A-Za-z0-9])/g,
    validate: validatePassportShape,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'person-name',
    kind: 'person_name',
    prefilter: (s) => s.digits === 0 && s.len >= 2 && s.len <= 80,
    pattern: /^[^\d@<>{}[\]=_#$%^*|\\]{2,80}$/u,
    validate: validatePersonName,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
  {
    id: 'street-address',
    kind: 'street_address',
    prefilter: (s) => s.len >= 4 && s.len <= 200 && !s.at,
    pattern: /^[^<>{}[\]=|\\]{4,200}$/u,
    validate: validateStreet,
    base: 0.3,
    strength: 'weak',
    requiresKey: 0.5,
  },
];

const MAX_VALUE = 65_536;
const MAX_TEXT = 262_144;

function strengthOf(d: ValueDetector, v: string): 'strong' | 'weak' {
  return typeof d.strength === 'function' ? d.strength(v) : d.strength;
}

function score(
  out: Candidate[],
  kind: PiiKind,
  detector: string,
  value: string,
  start: number,
  base: number,
  strength: 'strong' | 'weak',
  validity: Validity,
  ev: KeyEvidence,
  example: boolean,
  via: string | null,
  details: Record<string, string | boolean> | null,
): void {
  const w = ev.positive[kind] ?? 0;
  // A negative leaf key drops weak candidates, and also dotted quads / postcodes (`version: 1.2.3.4`).
  if (ev.negative && w === 0 && (strength === 'weak' || kind === 'ip_address' || kind === 'postcode')) return;
  let conf = base;
  if (validity === 'valid') conf = Math.max(conf, 0.85);
  conf += 0.35 * w;
  if (ev.negative && w === 0) conf -= 0.2;
  if (example) conf = Math.min(conf, 0.5);
  conf = Math.round(Math.min(1, Math.max(0.01, conf)) * 100) / 100;
  out.push({
    kind,
    detector,
    value,
    start,
    end: start + value.length,
    confidence: conf,
    strength,
    validated: validity === 'valid',
    keyHint: w > 0,
    example,
    via,
    details,
  });
}

/** score() drops this candidate whatever the validator says (negative leaf key, no positive hint). */
function droppedByKey(d: ValueDetector, weight: number, v: string, ev: KeyEvidence): boolean {
  if (!ev.negative || weight > 0) return false;
  return d.kind === 'ip_address' || d.kind === 'postcode' || strengthOf(d, v) === 'weak';
}

/** Runs one detector; 'valid' when it produced a candidate. */
function runDetector(
  d: ValueDetector,
  v: string,
  start: number,
  ev: KeyEvidence,
  o: DetectOptions,
  out: Candidate[],
  via: string | null,
): Validity {
  const validity = d.validate(v, o, ev);
  // Detectors with a validator need it to say 'valid'; shape-only detectors (key-hinted) too.
  if (validity !== 'valid') return validity;
  const example = (d.examples?.has(compact(v)) ?? false) || (d.kind === 'email' && isDocumentationEmail(v));
  score(out, d.kind, d.id, v, start, d.base, strengthOf(d, v), validity, ev, example, via, null);
  return 'valid';
}

function jwtCandidate(
  m: SecretMatch,
  ev: KeyEvidence,
  o: DetectOptions,
  out: Candidate[],
  via: string | null,
  depth: number,
): void {
  const j = decodeJwt(m.value);
  const details: Record<string, string | boolean> = { alg_none: j.algNone, no_exp: j.claims !== null && !j.hasExp };
  // `alg` is a registered algorithm name (RFC 7518 §3.1); anything else is reported as "other", so no
  // free-form header text reaches a hit.
  if (j.alg !== null) details['alg'] = /^[A-Za-z0-9+_-]{1,16}$/.test(j.alg) ? j.alg : 'other';
  score(out, 'jwt', 'jwt', m.value, m.start, 0.6, 'strong', j.valid ? 'valid' : 'n/a', ev, false, via, details);
  if (j.claims !== null && depth === 0) {
    // Claims are scanned as JSON leaves under their claim names; the hits keep the outer location.
    walkClaims(j.claims, [], o, out, m.start, 0);
  }
}

// NumericDate claims (RFC 7519 §4.1.4-4.1.6; OIDC Core §2 auth_time, §5.1 updated_at): timestamps by
// definition, never personal values. Skipped at the top level of the claims, where the RFC defines
// them (measured: two libphonenumber parses of 10-digit numbers per token, ~17 µs, with a default country).
const NUMERIC_DATE_CLAIMS: ReadonlySet<string> = new Set(['exp', 'nbf', 'iat', 'auth_time', 'updated_at']);

function walkClaims(
  x: unknown,
  path: string[],
  o: DetectOptions,
  out: Candidate[],
  start: number,
  depth: number,
): void {
  if (depth > 4 || out.length > 256) return;
  if (typeof x === 'number' && path.length === 1 && NUMERIC_DATE_CLAIMS.has(path[0] as string)) return;
  if (typeof x === 'string' || typeof x === 'number') {
    const before = out.length;
    detectInto(String(x), path, o, out, 1, '$' + path.map((p) => '.' + p).join(''));
    for (let i = before; i < out.length; i++) {
      const c = out[i] as Candidate;
      c.start = start;
      c.end = start;
    }
    return;
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length && i < 32; i++) walkClaims(x[i], path, o, out, start, depth + 1);
    return;
  }
  if (typeof x === 'object' && x !== null) {
    let n = 0;
    for (const [k, v] of Object.entries(x)) {
      if (n++ > 64) break;
      path.push(k);
      walkClaims(v, path, o, out, start, depth + 1);
      path.pop();
    }
  }
}

function secretCandidates(
  text: string,
  base: number,
  ev: KeyEvidence,
  o: DetectOptions,
  out: Candidate[],
  via: string | null,
  depth: number,
): number {
  const ms: SecretMatch[] = [];
  scanSecrets(text, ms);
  for (const m of ms) {
    const shifted: SecretMatch = { ...m, start: m.start + base, end: m.end + base };
    if (m.rule.kind === 'jwt') jwtCandidate(shifted, ev, o, out, via, depth);
    else score(out, 'api_key', m.rule.id, m.value, shifted.start, 0.7, 'strong', 'valid', ev, m.example, via, null);
  }
  return ms.length;
}

const MASKED = /^(?:[*•x#.]{3,}|\[?(?:redacted|hidden|masked|filtered)\]?)$/i;

/**
 * May a key-name detector (generic-api-key, session-key) call `v` a credential? Resource identifiers
 * (ids.ts) only in a credential location, or under a leaf key that names a credential and is not an
 * id key (`token` yes; `tokenId`, `credential_sid`, `$.credentials[*].sid`, `/Credentials/{Sid}` no).
 */
function credentialValue(v: string, ev: KeyEvidence, where: ValueContext): boolean {
  if (where === 'credential' || identifierShape(v) === null) return true;
  return where === 'field' && ev.leafCredential && !ev.idKey;
}

function keyOnly(v: string, ev: KeyEvidence, out: Candidate[], via: string | null, where: ValueContext): void {
  const pw = ev.positive.password ?? 0;
  if (
    pw >= 0.5 &&
    !ev.negative &&
    v.length > 0 &&
    v.length <= 256 &&
    !MASKED.test(v) &&
    !isPlaceholder(v) &&
    !/^(?:true|false|null|undefined|\d{1,2})$/i.test(v)
  ) {
    score(out, 'password', 'password-key', v, 0, 0.4, 'weak', 'valid', ev, false, via, null);
  }
  const ak = ev.positive.api_key ?? 0;
  const st = ev.positive.session_token ?? 0;
  const asKey = ak >= 0.5 && !ev.negative && genericSecretValue(v);
  const asSession =
    st >= 0.5 && v.length >= 16 && v.length <= 4096 && !isPlaceholder(v) && shannon(v) >= 3 && !/\s/.test(v);
  if ((!asKey && !asSession) || !credentialValue(v, ev, where)) return;
  if (asKey) score(out, 'api_key', 'generic-api-key', v, 0, 0.4, 'weak', 'valid', ev, false, via, null);
  if (asSession) {
    score(out, 'session_token', 'session-key', v, 0, 0.4, 'weak', 'valid', ev, false, via, null);
  }
}

// lat,long written as one string: "52.3676,4.9041" or "52.3676, 4.9041".
const LATLONG = /^(-?\d{1,2}\.\d{4,12}),\s?(-?\d{1,3}\.\d{4,12})$/;

/**
 * Detectors whose kind comes from where the value sits (a coordinate pair in a JSON document, an
 * Authorization or Cookie value) rather than from a pattern over the value alone: the scanner finds
 * the place and the value, these decide and score. One definition per detector id (beside
 * VALUE_DETECTORS, whose ids they do not reuse).
 * - latlong: validated coordinates (validateLatLong) with base 0.6, so ≥ 0.85 once valid. Two forms,
 *   one rule: a "lat,long" string (detectInto) gets the key-hint lift of its key path like every
 *   value detector; a numeric pair recognised by its keys (lat/lng members, a GeoJSON [lon, lat] under
 *   a coordinates key; detectLatLongPair) is scored without key evidence: its keys are what made it a
 *   candidate, so they do not lift it again (0.85).
 * - basic-auth: Authorization: Basic user:password: the password (0.95), the user when it is an email
 *   address (0.9).
 * - authorization: any other Authorization credential of 8 characters or more that no value detector
 *   recognised (0.9).
 * - cookie-shape: a cookie value that looks like a session identifier whatever its name (weak;
 *   0.7 in Set-Cookie, where the server issues it; 0.6 in Cookie).
 */
export const CONTEXT_DETECTORS = {
  latlong: { id: 'latlong', kind: 'geolocation', base: 0.6, strength: 'strong' },
  basicAuthPassword: { id: 'basic-auth', kind: 'password', confidence: 0.95, strength: 'strong' },
  basicAuthEmail: { id: 'basic-auth', kind: 'email', confidence: 0.9, strength: 'strong' },
  authorization: { id: 'authorization', kind: 'session_token', confidence: 0.9, strength: 'strong', minLength: 8 },
  cookieShape: {
    id: 'cookie-shape',
    kind: 'session_token',
    confidence: { setCookie: 0.7, cookie: 0.6 },
    strength: 'weak',
    minLength: 16,
    minEntropy: 3.5,
  },
} as const;

const NO_EVIDENCE: KeyEvidence = keyEvidence([]);

/** A validated context candidate (the whole value, no key hint, not an example). */
function contextCandidate(
  kind: PiiKind,
  detector: string,
  value: string,
  confidence: number,
  strength: 'strong' | 'weak',
): Candidate {
  return {
    kind,
    detector,
    value,
    start: 0,
    end: value.length,
    confidence,
    strength,
    validated: true,
    keyHint: false,
    example: false,
    via: null,
    details: null,
  };
}

/** latlong for a numeric coordinate pair found by the JSON walker (see CONTEXT_DETECTORS). */
export function detectLatLongPair(lat: number, lon: number): Candidate[] {
  const out: Candidate[] = [];
  const lt = String(lat);
  const ln = String(lon);
  if (validateLatLong(lat, lon, lt, ln) !== 'valid') return out;
  const d = CONTEXT_DETECTORS.latlong;
  score(out, d.kind, d.id, `${lt},${ln}`, 0, d.base, d.strength, 'valid', NO_EVIDENCE, false, null, null);
  return out;
}

/** basic-auth for the decoded user and password of Authorization: Basic (see CONTEXT_DETECTORS). */
export function detectBasicAuth(user: string, pass: string): Candidate[] {
  const out: Candidate[] = [];
  const p = CONTEXT_DETECTORS.basicAuthPassword;
  if (pass.length > 0) out.push(contextCandidate(p.kind, p.id, pass, p.confidence, p.strength));
  const e = CONTEXT_DETECTORS.basicAuthEmail;
  if (user.includes('@') && validateEmail(user) === 'valid')
    out.push(contextCandidate(e.kind, e.id, user, e.confidence, e.strength));
  return out;
}

/**
 * Candidates for an Authorization credential other than Basic (Bearer and other schemes): a JWT or a
 * recognised key is reported as such, anything else as the session token (see CONTEXT_DETECTORS).
 */
export function detectAuthorization(token: string, o: DetectOptions = {}): Candidate[] {
  let cands = detectValue(token, ['authorization'], o, 'credential');
  const d = CONTEXT_DETECTORS.authorization;
  if (cands.some((c) => c.kind === 'jwt' || c.kind === 'api_key')) cands = cands.filter((c) => c.kind !== d.kind);
  else if (token.length >= d.minLength && !cands.some((c) => c.kind === d.kind)) {
    cands.push(contextCandidate(d.kind, d.id, token, d.confidence, d.strength));
  }
  return cands;
}

/**
 * Candidates for one cookie value (Cookie, or Set-Cookie when `isSet`) named `name`: the value
 * detectors as a credential, then cookie-shape (see CONTEXT_DETECTORS).
 */
export function detectCookie(name: string, value: string, isSet: boolean, o: DetectOptions = {}): Candidate[] {
  const cands = detectValue(value, [name], o, 'credential');
  const d = CONTEXT_DETECTORS.cookieShape;
  // A cookie whose value looks like a session identifier is a session token even without the name.
  if (
    !cands.some((c) => c.kind === 'session_token' || c.kind === 'jwt' || c.kind === 'api_key') &&
    value.length >= d.minLength &&
    !/\s/.test(value) &&
    shannon(value) >= d.minEntropy &&
    !/^\d+$/.test(value)
  ) {
    cands.push(contextCandidate(d.kind, d.id, value, isSet ? d.confidence.setCookie : d.confidence.cookie, d.strength));
  }
  return cands;
}

function detectInto(
  value: string,
  keyPath: readonly string[],
  o: DetectOptions,
  out: Candidate[],
  depth: number,
  via: string | null,
  where: ValueContext = 'field',
  rejected?: PiiKind[],
): void {
  if (value.length === 0 || value.length > MAX_VALUE) return;
  const ev = keyEvidence(keyPath);
  const v = value.length < 64 ? value.trim() : value;
  const s = statsOf(v);
  const before = out.length;
  let whole = false;
  // The free-text fallback below depends on `whole` (some detector validated the whole value); only
  // when that fallback cannot run may a validator whose candidate the key would drop be skipped
  // (measured: libphonenumber on Luhn-/length-plausible `orderId` numbers was ~8 µs per value).
  const textFallback = s.space && s.len >= 12;
  for (const d of VALUE_DETECTORS) {
    const weight = ev.positive[d.kind] ?? 0;
    if (d.requiresKey > 0 && weight < d.requiresKey) continue;
    if (!d.prefilter(s) || !d.pattern.test(v)) continue;
    if (!textFallback && droppedByKey(d, weight, v, ev)) continue;
    const r = runDetector(d, v, 0, ev, o, out, via);
    if (r === 'valid') whole = true;
    // A weak checksum detector that needs no key matched the shape and its checksum failed: the field
    // holds values of this shape that are not of this kind (pii.md: weak kinds are labelled from
    // values alone only when *all* their values validate; aggregate.ts counts these).
    else if (
      r === 'invalid' &&
      rejected !== undefined &&
      d.requiresKey === 0 &&
      strengthOf(d, v) === 'weak' &&
      !rejected.includes(d.kind)
    ) {
      rejected.push(d.kind);
    }
  }
  if (s.dot && s.len <= 40) {
    const m = LATLONG.exec(v);
    if (m !== null && validateLatLong(Number(m[1]), Number(m[2]), m[1] as string, m[2] as string) === 'valid') {
      const d = CONTEXT_DETECTORS.latlong;
      score(out, d.kind, d.id, v, 0, d.base, d.strength, 'valid', ev, false, via, null);
      whole = true;
    }
  }
  if (s.len >= 16) secretCandidates(v, 0, ev, o, out, via, depth);
  keyOnly(v, ev, out, via, where);
  // Free text inside a leaf ("call me at +31 6 ..."): substring scan when nothing matched whole.
  if (!whole && out.length === before && s.space && s.len >= 12) textInto(v, o, out, via, ev, false);
}

/**
 * Candidates for one whole value (a JSON leaf, a parameter, a header value) at `keyPath`. `rejected`,
 * when given, receives the weak checksum kinds (payment_card, bsn) whose shape matched the whole value
 * but whose checksum failed (for field aggregation; never a candidate).
 */
export function detectValue(
  value: string,
  keyPath: readonly string[],
  o: DetectOptions = {},
  where: ValueContext = 'field',
  rejected?: PiiKind[],
): Candidate[] {
  const out: Candidate[] = [];
  detectInto(value, keyPath, o, out, 0, null, where, rejected);
  return out;
}

/**
 * The strong prefixed-secret rules only (gitleaks rules, JWT with its claims, PEM keys, URL credentials)
 * for one whole value: what a sampled-out value of a settled field still goes through (scanner.ts).
 */
export function detectSecretsOnly(value: string, keyPath: readonly string[], o: DetectOptions = {}): Candidate[] {
  const out: Candidate[] = [];
  if (value.length < 16 || value.length > MAX_VALUE) return out;
  secretCandidates(value, 0, keyEvidence(keyPath), o, out, null, 0);
  return out;
}

function trimIbanTail(v: string): string | null {
  // "VG96 VPVG … 8901 X in a sentence": the delimited match may swallow a trailing token.
  let t = v;
  while (t.length > 15) {
    const sp = Math.max(t.lastIndexOf(' '), t.lastIndexOf('-'));
    if (sp < 0) return null;
    t = t.slice(0, sp);
    if (validateIban(t) === 'valid') return t;
  }
  return null;
}

/**
 * Cheap gate before libphonenumber's finder, which costs microseconds per call and builds a thrown
 * ParseError per rejected candidate (measured: 19% of a whole replay's CPU, mostly on ISO timestamps
 * such as "…T06:28:21+00:00" that hold a '+' and 8 digits). The finder runs only when the text has a
 * phone-shaped run: '+' or '00' then ≥ 8 digits with common separators (or, with a default country,
 * any such run of ≥ 8 digits).
 */
const INTL_PHONE_RUN = /(?:^|[^\w+])(?:\+|00)\s?[1-9](?:[\s()./-]{0,2}\d){6,16}/;
const NATIONAL_PHONE_RUN = /(?:^|\D)\(?\d(?:[\s()./-]{0,2}\d){7,16}/;
function phoneCandidate(text: string, national: boolean): boolean {
  if (!hasDigits(text, PHONE_MIN_DIGITS)) return false;
  return INTL_PHONE_RUN.test(text) || (national && NATIONAL_PHONE_RUN.test(text));
}

const PHONE_MIN_DIGITS = 8;
function hasDigits(s: string, n: number): boolean {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++d >= n) return true;
  }
  return false;
}

function textInto(
  text: string,
  o: DetectOptions,
  out: Candidate[],
  via: string | null,
  ev: KeyEvidence,
  secrets: boolean,
): void {
  if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT);
  const taken: [number, number][] = [];
  const overlaps = (a: number, b: number): boolean => taken.some(([x, y]) => a < y && x < b);
  if (secrets) {
    const before = out.length;
    secretCandidates(text, 0, ev, o, out, via, 0);
    for (let i = before; i < out.length; i++) {
      const c = out[i] as Candidate;
      if (c.via === via) taken.push([c.start, c.end]);
    }
  }
  for (const d of VALUE_DETECTORS) {
    if (d.text === undefined) continue;
    if (d.requiresKey > 0 && (ev.positive[d.kind] ?? 0) < d.requiresKey) continue;
    const re = d.text;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    let guard = 0;
    while ((m = re.exec(text)) !== null && guard++ < 256) {
      let v = m[0];
      if (v.length === 0) {
        re.lastIndex++;
        continue;
      }
      const start = m.index;
      if (overlaps(start, start + v.length)) continue;
      if (d.kind === 'iban' && validateIban(v) !== 'valid') {
        const t = trimIbanTail(v);
        if (t === null) continue;
        v = t;
      }
      if (runDetector(d, v, start, ev, o, out, via) === 'valid') taken.push([start, start + v.length]);
    }
  }
  // Phones in text: libphonenumber's own finder (needs + / 00, or a default country). pii.md: a phone
  // has ≥ 8 digits (validatePhone's rule for whole values), so the finder (4-7 µs even on digit-free
  // text) runs only when the text holds 8 digits, and shorter numbers it finds are dropped.
  if (phoneCandidate(text, o.defaultCountry !== undefined)) {
    try {
      const found =
        o.defaultCountry !== undefined
          ? findPhoneNumbersInText(text, { defaultCountry: o.defaultCountry as CountryCode })
          : findPhoneNumbersInText(text);
      for (const f of found.slice(0, 64)) {
        if (overlaps(f.startsAt, f.endsAt)) continue;
        const v = text.slice(f.startsAt, f.endsAt);
        if (!hasDigits(v, PHONE_MIN_DIGITS) || !f.number.isValid()) continue;
        const strength = phoneStrength(v);
        score(out, 'phone', 'phone', v, f.startsAt, 0.4, strength, 'valid', ev, false, via, null);
        taken.push([f.startsAt, f.endsAt]);
      }
    } catch {
      // libphonenumber rejects some inputs by throwing; bad input is data, not an error.
    }
  }
}

/**
 * Candidates for free text (text/plain bodies, free-text leaves, log-like values) with the key path
 * of the field the text sits in ([] for a whole body). Every detector with a text pattern runs;
 * key-hint-only detectors run only under their hint. Callers keep weak candidates only with a key hint.
 */
export function detectText(text: string, keyPath: readonly string[] = [], o: DetectOptions = {}): Candidate[] {
  const out: Candidate[] = [];
  textInto(text, o, out, null, keyEvidence(keyPath), true);
  return out;
}

export { statsOf };
