// A JSON body as a tape of tokens over its raw text: the analyzers' fast path for settled endpoints.
//
// Walking a body costs JSON.parse (every key and value allocated, then collected) plus an object
// walk; for an exchange that brings nothing new the analyzers need only the body's structure (field
// paths and types, for the endpoint's field shapes) and each value's shape (for PII sampling,
// pii/sampling.ts). skimJson() reads the text once, allocates nothing per token, and writes one
// entry of four int32 per token into a reused tape: consumers walk the tape, intern keys by
// comparing the raw text with the keys they know (no string per key), and slice a value only when
// they decide to scan it. Measured on the 60 MB lab capture: see README "Benchmarks".
//
// Contract: a tape exists only where it means exactly what bodyJson() (json.ts) would return, so a
// consumer that walks the tape gives the same result as one that walks the parsed object:
// - the text is strict JSON (RFC 8259), with at most whitespace after it, or it was cut short
//   (`cut`: Body.truncated, or the text simply ends inside a container) and then the tape is the
//   document json.ts's repairCut() makes: every element complete before the last ',' outside a
//   string, with the open containers closed;
// - no object has two members with the same key, and no key is an array index ("0", "17": a JS
//   object enumerates those first, in numeric order), and no key has an escape;
// - otherwise (and past MAX_SKIM_DEPTH) skimJson returns null and the caller uses bodyJson().
// A tape is only valid until the next bodyTape() call with other bodies (four are kept).

/** Token types (entry word 0). */
export const TOK = { obj: 1, arr: 2, end: 3, key: 4, str: 5, num: 6, nul: 7, tru: 8, fal: 9 } as const;

/**
 * Number classes (entry word 3 of a num token), so consumers need no Number() for common numbers:
 * small integers (|x| < 1e5), integers of 6–15 digits whose JSON spelling is String(x), non-integers
 * of at most 15 integer digits, and the rest (exponents, x.000, more digits: call Number()).
 */
export const NUM = { small: 0, big: 1, frac: 2, other: 3 } as const;

/** Entry layout: [type, a, b, c] per token, four int32. */
export interface JsonTape {
  readonly text: string;
  /** Entries; entry i is words 4i..4i+3. obj/arr: a = entry index of its end, b = elements, c = flags (OBJ_GEO). key/str/num: a..b = raw range without quotes; str: c = shapeCode or -1 (escaped: decode first); num: c = NUM class. */
  readonly t: Int32Array;
  /** Number of entries. */
  readonly n: number;
}

/** Object flag: a member is named lat, latitude, lng, lon, long or longitude (PII coordinate pairs). */
export const OBJ_GEO = 1;

/** Containers deeper than this give no tape (the object path bounds depth itself). */
export const MAX_SKIM_DEPTH = 256;

/**
 * Longer texts give no tape (bodyJson() instead): bounds the reused buffers (at most 8 bytes of tape
 * per character, so 2 MiB each; four slots and the scratch) whatever the capture's body cap. Equal
 * to the PII scanner's per-body bound (pii/scanner.ts SCAN_LIMITS.maxBody).
 */
export const MAX_SKIM_CHARS = 262_144;

// Character classes of a value's shape (pii/sampling.ts shapeCode): one bit each.
const C_DIGIT = 1;
const C_LOWER = 2;
const C_UPPER = 4;
const C_SPACE = 8;
const C_AT = 16;
const C_DOT = 32;
const C_DASH = 64;
const C_PLUS = 128;
const C_SLASH = 256;
const C_COLON = 512;
const C_UNDERSCORE = 1024;
const C_EQUALS = 2048;
const C_OTHER = 4096;
const C_NON_ASCII = 8192;
/** Class bit of each ASCII code unit. */
export const ASCII_CLASS: Uint16Array = (() => {
  const t = new Uint16Array(128).fill(C_OTHER);
  for (let c = 48; c <= 57; c++) t[c] = C_DIGIT;
  for (let c = 97; c <= 122; c++) t[c] = C_LOWER;
  for (let c = 65; c <= 90; c++) t[c] = C_UPPER;
  t[32] = t[9] = t[10] = t[13] = C_SPACE;
  t[64] = C_AT;
  t[46] = C_DOT;
  t[45] = C_DASH;
  t[43] = C_PLUS;
  t[47] = C_SLASH;
  t[58] = C_COLON;
  t[95] = C_UNDERSCORE;
  t[61] = C_EQUALS;
  return t;
})();

/** Shape from class bits and length: length exact up to 40, then one bucket per power of two. */
export function shapeOf(bits: number, n: number): number {
  const len = n <= 40 ? n : 36 + (31 - Math.clz32(n)); // 41..63 → 41, 64..127 → 42, …
  return (bits << 6) | Math.min(len, 63);
}

/** The shape of text[a, b) (no escapes in it). */
export function shapeOfRange(s: string, a: number, b: number): number {
  let bits = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    bits |= c < 128 ? (ASCII_CLASS[c] as number) : C_NON_ASCII;
  }
  return shapeOf(bits, b - a);
}

// Reused across calls: the scratch tape and the skimmer's stacks.
let scratch = new Int32Array(16_384);
const open = new Int32Array(MAX_SKIM_DEPTH); // entry index of each open container
const bloom = new Int32Array(MAX_SKIM_DEPTH * 2); // per open object: 64-bit filter of its keys
const keyBase = new Int32Array(MAX_SKIM_DEPTH); // per open object: its first key in `keys`
let keys = new Int32Array(1024); // [start, end] of the keys of the open objects

const ST_VALUE = 0; // a value is expected
const ST_FIRST = 1; // after '{': a key or '}'
const ST_AFTER = 2; // after a value: ',' or a closer (or the end, at depth 0)
const ST_KEY = 3; // after ',' in an object: a key
const ST_COLON = 4; // after a key: ':'
const ST_FIRST_ITEM = 5; // after '[': a value or ']'

/** Result of one pass: entries written, or why not. */
const FAIL = -1; // not strict JSON, or outside the contract: use bodyJson()
const INCOMPLETE = -2; // the text ended inside a container
const CUT = -3; // scanString: the text ended inside the string

let lastComma = -1;

/** Class bit per ASCII code unit, or STOP for '"', '\\' and control characters (string scan). */
const STOP = 0x8000;
const SCAN: Uint16Array = (() => {
  const t = ASCII_CLASS.slice();
  for (let c = 0; c < 0x20; c++) t[c] = STOP;
  t[0x22] = STOP;
  t[0x5c] = STOP;
  return t;
})();

// Out-values of scanString (one string at a time).
let strBits = 0;
let strEscaped = false;

/**
 * A string's contents from `a` (after the opening quote): the index of the closing quote, FAIL
 * (invalid), or CUT (the text ends inside it). Sets strBits (shape classes, valid when not escaped)
 * and strEscaped.
 */
function scanString(s: string, a: number, end: number): number {
  let bits = 0;
  let escaped = false;
  for (let j = a; j < end; j++) {
    const k = s.charCodeAt(j);
    if (k >= 128) {
      bits |= C_NON_ASCII;
      continue;
    }
    const x = SCAN[k] as number;
    if (x !== STOP) {
      bits |= x;
      continue;
    }
    if (k === 0x22) {
      strBits = bits;
      strEscaped = escaped;
      return j;
    }
    if (k !== 0x5c) return FAIL; // a control character
    escaped = true;
    if (j + 1 >= end) return CUT;
    const y = s.charCodeAt(j + 1);
    if (y === 0x75 /* u */) {
      if (j + 6 > end) return CUT;
      for (let h = j + 2; h < j + 6; h++) {
        const d = s.charCodeAt(h);
        if (!((d >= 48 && d <= 57) || (d >= 65 && d <= 70) || (d >= 97 && d <= 102))) return FAIL;
      }
      j += 5;
    } else if (
      y === 0x22 ||
      y === 0x5c ||
      y === 0x2f ||
      y === 0x62 ||
      y === 0x66 ||
      y === 0x6e ||
      y === 0x72 ||
      y === 0x74
    ) {
      j++;
    } else return FAIL;
  }
  return CUT;
}

/** Whether text[a, a + len) is lat, lng, lon, long, latitude or longitude (first char already 'l'). */
function isGeoKey(s: string, a: number, len: number): boolean {
  switch (len) {
    case 3:
      return s.startsWith('lat', a) || s.startsWith('lng', a) || s.startsWith('lon', a);
    case 4:
      return s.startsWith('long', a);
    case 8:
      return s.startsWith('latitude', a);
    case 9:
      return s.startsWith('longitude', a);
    default:
      return false;
  }
}

/**
 * One pass over text[0, end): the tape in `scratch`, returns the number of entries (or FAIL /
 * INCOMPLETE). `closeAtEnd`: text[0, end) ends just before a ',' of a container; close what is open.
 */
function pass(s: string, end: number, closeAtEnd: boolean): number {
  let n = 0;
  let sp = 0;
  let nk = 0;
  let st: number = ST_VALUE;
  let i = 0;
  lastComma = -1;
  let t = scratch;
  for (;;) {
    let c = 0;
    while (i < end) {
      c = s.charCodeAt(i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      i++;
    }
    if (i >= end) break;
    if ((n + 2) * 4 > t.length) {
      const g = new Int32Array(t.length * 2);
      g.set(t);
      scratch = t = g;
    }
    if (st === ST_AFTER) {
      if (sp === 0) return FAIL; // trailing garbage: json.ts's repairCut path, not ours
      const top = open[sp - 1] as number;
      const isObj = t[top * 4] === TOK.obj;
      if (c === 0x2c) {
        lastComma = i;
        t[top * 4 + 2] = (t[top * 4 + 2] as number) + 1;
        st = isObj ? ST_KEY : ST_VALUE;
        i++;
        continue;
      }
      if (c !== (isObj ? 0x7d : 0x5d)) return FAIL;
      t[top * 4 + 2] = (t[top * 4 + 2] as number) + 1;
      t[top * 4 + 1] = n;
      t[n * 4] = TOK.end;
      n++;
      sp--;
      if (isObj) nk = keyBase[sp] as number;
      i++;
      continue;
    }
    if (st === ST_COLON) {
      if (c !== 0x3a) return FAIL;
      st = ST_VALUE;
      i++;
      continue;
    }
    if (st === ST_FIRST || st === ST_KEY) {
      if (c === 0x7d && st === ST_FIRST) {
        const top = open[sp - 1] as number;
        t[top * 4 + 1] = n;
        t[n * 4] = TOK.end;
        n++;
        sp--;
        nk = keyBase[sp] as number;
        st = ST_AFTER;
        i++;
        continue;
      }
      if (c !== 0x22) return FAIL;
      // A key: no escapes, no control characters, not an array index, not a duplicate.
      const a = i + 1;
      const j = scanString(s, a, end);
      if (j === FAIL || (j >= 0 && strEscaped)) return FAIL;
      if (j < 0) break; // cut inside the key (an escape there is refused once it is complete)
      const len = j - a;
      const c0 = len > 0 ? s.charCodeAt(a) : 0;
      if (c0 >= 48 && c0 <= 57) return FAIL;
      const top = open[sp - 1] as number;
      const h = (len * 7 + c0 * 13 + (len > 0 ? s.charCodeAt(j - 1) : 0)) & 63;
      const w = (sp - 1) * 2 + (h >> 5);
      const bit = 1 << (h & 31);
      if (((bloom[w] as number) & bit) !== 0) {
        for (let q = keyBase[sp - 1] as number; q < nk; q += 2) {
          const qa = keys[q] as number;
          if ((keys[q + 1] as number) - qa !== len) continue;
          let same = true;
          for (let r = 0; r < len; r++) {
            if (s.charCodeAt(qa + r) !== s.charCodeAt(a + r)) {
              same = false;
              break;
            }
          }
          if (same) return FAIL;
        }
      }
      bloom[w] = (bloom[w] as number) | bit;
      if (nk + 2 > keys.length) {
        const g = new Int32Array(keys.length * 2);
        g.set(keys);
        keys = g;
      }
      keys[nk++] = a;
      keys[nk++] = j;
      if (c0 === 0x6c /* l */ && isGeoKey(s, a, len)) t[top * 4 + 3] = (t[top * 4 + 3] as number) | OBJ_GEO;
      const e = n * 4;
      t[e] = TOK.key;
      t[e + 1] = a;
      t[e + 2] = j;
      t[e + 3] = 0;
      n++;
      st = ST_COLON;
      i = j + 1;
      continue;
    }
    // ST_VALUE or ST_FIRST_ITEM
    if (c === 0x5d && st === ST_FIRST_ITEM) {
      const top = open[sp - 1] as number;
      t[top * 4 + 1] = n;
      t[n * 4] = TOK.end;
      n++;
      sp--;
      st = ST_AFTER;
      i++;
      continue;
    }
    const e = n * 4;
    if (c === 0x7b || c === 0x5b) {
      if (sp >= MAX_SKIM_DEPTH) return FAIL;
      t[e] = c === 0x7b ? TOK.obj : TOK.arr;
      t[e + 1] = -1;
      t[e + 2] = 0;
      t[e + 3] = 0;
      open[sp] = n;
      if (c === 0x7b) {
        keyBase[sp] = nk;
        bloom[sp * 2] = 0;
        bloom[sp * 2 + 1] = 0;
      }
      sp++;
      n++;
      st = c === 0x7b ? ST_FIRST : ST_FIRST_ITEM;
      i++;
      continue;
    }
    if (c === 0x22) {
      const a = i + 1;
      const j = scanString(s, a, end);
      if (j === FAIL) return FAIL;
      if (j < 0) break; // cut inside the string
      const escaped = strEscaped;
      const bits = strBits;
      t[e] = TOK.str;
      t[e + 1] = a;
      t[e + 2] = j;
      t[e + 3] = escaped ? -1 : shapeOf(bits, j - a);
      n++;
      st = ST_AFTER;
      i = j + 1;
      continue;
    }
    if (c === 0x2d || (c >= 48 && c <= 57)) {
      const a = i;
      let j = i;
      if (c === 0x2d) j++;
      const d0 = j;
      if (j < end && s.charCodeAt(j) === 48) j++;
      else {
        const f = j < end ? s.charCodeAt(j) : -1;
        if (f < 49 || f > 57) {
          if (j >= end) break;
          return FAIL;
        }
        while (j < end && (s.charCodeAt(j) - 48) >>> 0 < 10) j++;
      }
      const intDigits = j - d0;
      let cls: number = intDigits <= 5 ? NUM.small : intDigits <= 15 ? NUM.big : NUM.other;
      if (j < end && s.charCodeAt(j) === 0x2e) {
        j++;
        const f0 = j;
        let nonZero = false;
        while (j < end) {
          const k = s.charCodeAt(j);
          if ((k - 48) >>> 0 >= 10) break;
          if (k !== 48) nonZero = true;
          j++;
        }
        if (j === f0) {
          if (j >= end) break;
          return FAIL;
        }
        cls = nonZero && intDigits <= 15 ? NUM.frac : nonZero || cls !== NUM.small ? NUM.other : NUM.small;
      }
      if (j < end && (s.charCodeAt(j) | 0x20) === 0x65) {
        j++;
        if (j < end && (s.charCodeAt(j) === 0x2b || s.charCodeAt(j) === 0x2d)) j++;
        const x0 = j;
        while (j < end && (s.charCodeAt(j) - 48) >>> 0 < 10) j++;
        if (j === x0) {
          if (j >= end) break;
          return FAIL;
        }
        cls = NUM.other;
      }
      if (j >= end && sp > 0 && !closeAtEnd) break; // the number may go on past the cut
      t[e] = TOK.num;
      t[e + 1] = a;
      t[e + 2] = j;
      t[e + 3] = cls;
      n++;
      st = ST_AFTER;
      i = j;
      continue;
    }
    const lit = c === 0x6e ? 'null' : c === 0x74 ? 'true' : c === 0x66 ? 'false' : '';
    if (lit === '') return FAIL;
    if (i + lit.length > end) {
      if (!s.startsWith(lit.slice(0, end - i), i)) return FAIL;
      break;
    }
    if (!s.startsWith(lit, i)) return FAIL;
    t[e] = c === 0x6e ? TOK.nul : c === 0x74 ? TOK.tru : TOK.fal;
    t[e + 1] = i;
    t[e + 2] = i + lit.length;
    t[e + 3] = 0;
    n++;
    st = ST_AFTER;
    i += lit.length;
  }
  // The end of text[0, end).
  if (st === ST_AFTER && sp === 0) return n;
  if (sp === 0) return FAIL; // empty, or a cut top-level scalar
  if (!closeAtEnd || st !== ST_AFTER) return INCOMPLETE;
  if ((n + sp) * 4 > t.length) {
    const g = new Int32Array((n + sp) * 8);
    g.set(t);
    scratch = t = g;
  }
  while (sp > 0) {
    const top = open[--sp] as number;
    t[top * 4 + 2] = (t[top * 4 + 2] as number) + 1;
    t[top * 4 + 1] = n;
    t[n * 4] = TOK.end;
    n++;
  }
  return n;
}

/**
 * The tape of `text` into the scratch buffer, or null (see the contract above). `cut`: the text was
 * cut short (Body.truncated): a complete top-level scalar is then not a document (json.ts).
 */
function skimInto(text: string, cut: boolean): number {
  if (text.length > MAX_SKIM_CHARS) return FAIL;
  let n = pass(text, text.length, false);
  if (n >= 0) {
    const top = scratch[0] as number;
    if (cut && top !== TOK.obj && top !== TOK.arr) return FAIL;
    return n;
  }
  if (n === FAIL) return FAIL;
  // Ran out inside a container: the elements before the last ',' (json.ts repairCut).
  const at = lastComma;
  if (at < 0) return FAIL;
  n = pass(text, at, true);
  return n;
}

/** The tape of a JSON text in a new array (tests, one-off callers), or null. */
export function skimJson(text: string, cut = false): JsonTape | null {
  const n = skimInto(text, cut);
  if (n < 0) return null;
  return { text, t: scratch.slice(0, n * 4), n };
}

interface Slot {
  body: object | null;
  text: string;
  tape: { text: string; t: Int32Array; n: number } | null;
  buf: Int32Array;
  used: number;
}
const SLOTS: Slot[] = Array.from({ length: 4 }, () => ({
  body: null,
  text: '',
  tape: null,
  buf: new Int32Array(0),
  used: 0,
}));
let clock = 0;

/**
 * The tape of an exchange body (same condition as bodyJson: the whole `data`, utf8), kept for the
 * last four bodies asked for so the endpoint layer and the PII scanner skim a body once. The tape is
 * valid until four other bodies have been asked for: use it within one observe().
 */
export function bodyTape(body: { data: string; truncated: boolean }): JsonTape | null {
  clock++;
  let lru = SLOTS[0] as Slot;
  for (const s of SLOTS) {
    if (s.body === body && s.text === body.data) {
      s.used = clock;
      return s.tape;
    }
    if (s.used < lru.used) lru = s;
  }
  lru.body = body;
  lru.text = body.data;
  lru.used = clock;
  const n = skimInto(body.data, body.truncated);
  if (n < 0) {
    lru.tape = null;
    return null;
  }
  if (lru.buf.length < n * 4) lru.buf = new Int32Array(Math.max(n * 4, lru.buf.length * 2, 1024));
  lru.buf.set(scratch.subarray(0, n * 4));
  lru.tape = { text: body.data, t: lru.buf, n };
  return lru.tape;
}

/** A string token's value (escapes decoded). */
export function tokenString(tape: JsonTape, e: number): string {
  const a = tape.t[e * 4 + 1] as number;
  const b = tape.t[e * 4 + 2] as number;
  return (tape.t[e * 4 + 3] as number) === -1
    ? (JSON.parse(tape.text.slice(a - 1, b + 1)) as string)
    : tape.text.slice(a, b);
}

/** A number token's value. */
export function tokenNumber(tape: JsonTape, e: number): number {
  return Number(tape.text.slice(tape.t[e * 4 + 1] as number, tape.t[e * 4 + 2] as number));
}

/** The entry after the value at entry `e` (skips a container's contents). */
export function nextValue(tape: JsonTape, e: number): number {
  const ty = tape.t[e * 4] as number;
  return ty === TOK.obj || ty === TOK.arr ? (tape.t[e * 4 + 1] as number) + 1 : e + 1;
}
