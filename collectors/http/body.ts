// Message bodies: counting, bounded capture, and content decoding with decompression-bomb caps.
//
// Contract (exchange/v1 Body):
// - `size` counts every entity byte after transfer decoding, including bytes skipped in gaps (the
//   framing says they were there), whether or not captured.
// - Without Content-Encoding, the first `bodyCaptureBytes` bytes are kept. With one, the first
//   `maxEncodedBytes` encoded bytes are kept and decoded at the end of the message: codings are
//   undone in reverse order of listing (RFC 9110 §8.4.1), each layer's output capped at
//   `maxDecodedBytes`. zlib's sync APIs run with Z_SYNC_FLUSH so a cut stream yields its prefix.
// - Nothing is kept after a gap (the bytes after it do not continue the captured prefix).
// - `data` is utf8 when the captured bytes are valid UTF-8 (an incomplete sequence cut by the cap is
//   dropped first), else base64.
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import type { Body, HeaderPair } from '../../engine/contracts/exchange.js';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';

export interface BodyLimits {
  bodyCaptureBytes: number;
  maxDecodedBytes: number;
  maxEncodedBytes: number;
}

const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
const BR_SYNC = { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH };
type Layer = 'gzip' | 'deflate' | 'br';
const LAYERS: Readonly<Record<string, Layer>> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br' };

/** Accumulates one message's entity bytes. */
export class BodyCollector {
  size = 0;
  /** Some entity bytes were never seen (gap). */
  gap = false;
  private parts: Buffer[] = [];
  private kept = 0;
  private readonly keepCap: number;
  private readonly codings: string[];

  constructor(
    private readonly contentType: string | null,
    contentEncoding: string | null,
    private readonly limits: BodyLimits,
  ) {
    this.codings = parseCodings(contentEncoding);
    this.keepCap = this.codings.length > 0 ? limits.maxEncodedBytes : limits.bodyCaptureBytes;
  }

  /** Bytes copied and kept so far (for state estimates). */
  get keptBytes(): number {
    return this.kept;
  }

  /** `buf` is valid only during the call: the kept part is copied. */
  add(buf: Buffer, off: number, len: number): void {
    this.size += len;
    if (this.gap || this.kept >= this.keepCap) return;
    const n = Math.min(len, this.keepCap - this.kept);
    this.parts.push(Buffer.from(buf.subarray(off, off + n)));
    this.kept += n;
  }

  addGap(len: number): void {
    this.size += len;
    this.gap = true;
  }

  /**
   * The Body record. `complete`: the message framing reached its end with no gap. `flag` receives
   * decoding anomalies.
   */
  finish(complete: boolean, flag: (anomaly: HttpCounter) => void): Body {
    const raw = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    const whole = complete && !this.gap;
    const allKept = this.kept === this.size;
    const cap = this.limits.bodyCaptureBytes;
    let out = raw;
    let decodedSize: number | null = whole ? this.size : null;
    let exact = allKept; // `out` holds the whole decoded body
    const encoded = this.codings.filter((c) => c !== 'identity');
    if (encoded.length > 0 && this.size > 0) {
      if (!allKept && !this.gap) flag('http_encoded_body_capped');
      const d = decodeAll(raw, encoded, this.limits, flag);
      if (d === UNSUPPORTED) {
        out = raw; // the encoded bytes, as captured
        decodedSize = null;
        exact = false;
      } else if (d === null) {
        out = EMPTY;
        decodedSize = null;
        exact = false;
      } else {
        out = d.out;
        exact = d.exact && allKept;
        decodedSize = exact && whole ? d.out.length : null;
      }
    }
    let data = out.length > cap ? out.subarray(0, cap) : out;
    const truncated = !exact || data.length < out.length || !whole;
    let encoding: 'utf8' | 'base64' = 'utf8';
    if (!isUtf8(data)) {
      const trimmed = trimIncompleteUtf8(data);
      if (trimmed.length < data.length && trimmed.length >= data.length - 3 && isUtf8(trimmed)) data = trimmed;
      else encoding = 'base64';
    }
    return {
      size: this.size,
      decodedSize,
      contentType: this.contentType,
      contentEncoding: this.codings.slice(),
      encoding,
      data: encoding === 'utf8' ? data.toString('utf8') : data.toString('base64'),
      truncated,
      complete: whole,
    };
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** An empty body (messages without content, or messages cut before their body). */
export function emptyBody(headers: readonly HeaderPair[], complete: boolean): Body {
  return {
    size: 0,
    decodedSize: complete ? 0 : null,
    contentType: headerOf(headers, 'content-type'),
    contentEncoding: parseCodings(headerOf(headers, 'content-encoding')),
    encoding: 'utf8',
    data: '',
    truncated: false,
    complete,
  };
}

/** All values of a header joined with ", " (RFC 9110 §5.3), or null. */
export function headerOf(headers: readonly HeaderPair[], lower: string): string | null {
  let v: string | null = null;
  for (const [k, val] of headers) {
    if (k.length === lower.length && k.toLowerCase() === lower) v = v === null ? val : `${v}, ${val}`;
  }
  return v;
}

function parseCodings(v: string | null): string[] {
  if (v === null) return [];
  const out: string[] = [];
  for (const t of v.split(',')) {
    const c = t.trim().toLowerCase();
    if (c !== '') out.push(c);
  }
  return out;
}

/** Drop a trailing incomplete UTF-8 sequence (at most 3 bytes) so a cut at the cap stays text. */
export function trimIncompleteUtf8(b: Buffer): Buffer {
  let i = b.length - 1;
  let back = 0;
  while (i >= 0 && back < 3 && ((b[i] as number) & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return b;
  const lead = b[i] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? b.subarray(0, i) : b;
}

interface Decoded {
  out: Buffer;
  /** The output is the complete decoding of the input (not capped, no failure). */
  exact: boolean;
}

const UNSUPPORTED: Decoded = { out: EMPTY, exact: false };

/** Undo `codings` (listed in application order) in reverse. UNSUPPORTED for an unknown coding, null when a layer fails outright. */
function decodeAll(
  input: Buffer,
  codings: string[],
  limits: BodyLimits,
  flag: (a: HttpCounter) => void,
): Decoded | null {
  let cur = input;
  let exact = true;
  for (let i = codings.length - 1; i >= 0; i--) {
    const layer = LAYERS[codings[i] as string];
    if (layer === undefined) {
      flag('http_unsupported_encoding');
      return UNSUPPORTED;
    }
    // The last layer only needs what is captured; inner layers feed the next one.
    const need = i === 0 ? limits.bodyCaptureBytes : limits.maxDecodedBytes;
    const r = decodeLayer(layer, cur, need, limits.maxDecodedBytes);
    if (r.failed) {
      flag('http_decompression_failed');
      if (r.out.length === 0) return null;
    }
    if (r.capped) flag('http_decompression_capped');
    exact = exact && !r.capped && !r.failed;
    cur = r.out;
  }
  return { out: cur, exact };
}

interface LayerResult {
  out: Buffer;
  capped: boolean;
  failed: boolean;
}

function runLayer(layer: Layer, input: Buffer, maxOut: number): Buffer {
  const opts = { ...(layer === 'br' ? BR_SYNC : SYNC), maxOutputLength: maxOut };
  if (layer === 'gzip') return zlib.gunzipSync(input, opts);
  if (layer === 'br') return zlib.brotliDecompressSync(input, opts);
  // "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but raw deflate is common: detect the
  // RFC 1950 header (CM = 8, CINFO <= 7, FCHECK makes CMF*256+FLG a multiple of 31).
  const cmf = input[0];
  const flg = input[1];
  const wrapped =
    cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0;
  return wrapped ? zlib.inflateSync(input, opts) : zlib.inflateRawSync(input, opts);
}

/**
 * Decode one layer with output capped at `cap`. zlib's maxOutputLength throws without returning
 * the prefix, so on a cap hit the prefix is recovered by decoding growing input prefixes (1 KiB,
 * doubling) until at least `need` bytes come out: deflate expands at most ~1032:1, so the first
 * step already covers a capture of 1 MiB, and every step stays under `cap` or stops.
 */
function decodeLayer(layer: Layer, input: Buffer, need: number, cap: number): LayerResult {
  try {
    return { out: runLayer(layer, input, cap), capped: false, failed: false };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_BUFFER_TOO_LARGE') return { out: salvage(layer, input, cap), capped: false, failed: true };
  }
  let best = EMPTY;
  for (let k = 1024; k < input.length; k *= 2) {
    try {
      const out = runLayer(layer, input.subarray(0, k), cap);
      best = out;
      if (out.length >= need) break;
    } catch {
      break;
    }
  }
  return { out: best, capped: true, failed: false };
}

/** Decoded prefix of a corrupt stream: the first decodable input prefix by halving, at most 4 tries (bounded work). */
function salvage(layer: Layer, input: Buffer, cap: number): Buffer {
  let len = input.length >> 1;
  for (let tries = 0; tries < 4 && len >= 64; tries++) {
    try {
      return runLayer(layer, input.subarray(0, len), cap);
    } catch {
      len >>= 1;
    }
  }
  return EMPTY;
}
