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
import { isAscii, isUtf8 } from 'node:buffer';
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
  /**
   * The kept bytes, copied into one buffer sized by the first piece and doubled up to the cap (no
   * copy per piece plus a concatenation at the end): `buf[0, kept)`.
   */
  private buf: Buffer = EMPTY;
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

  /** Bytes held for the kept part so far (the buffer's capacity; for state estimates). */
  get keptBytes(): number {
    return this.buf.length;
  }

  /** `buf` is valid only during the call: the kept part is copied. */
  add(buf: Buffer, off: number, len: number): void {
    this.size += len;
    if (this.gap || this.kept >= this.keepCap) return;
    const n = Math.min(len, this.keepCap - this.kept);
    const need = this.kept + n;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.keepCap, Math.max(need, 2 * this.buf.length)));
      this.buf.copy(grown, 0, 0, this.kept);
      this.buf = grown;
    }
    buf.copy(this.buf, this.kept, off, off + n);
    this.kept = need;
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
    const raw = this.buf.subarray(0, this.kept);
    this.buf = EMPTY;
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
    // ASCII (most JSON) is its own UTF-8 and its latin1 decoding is a plain copy.
    const ascii = isAscii(data);
    if (!ascii && !isUtf8(data)) {
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
      data: ascii ? data.toString('latin1') : encoding === 'utf8' ? data.toString('utf8') : data.toString('base64'),
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
  return zlibWrapped(input) ? zlib.inflateSync(input, opts) : zlib.inflateRawSync(input, opts);
}

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but raw deflate is common: detect the
 * RFC 1950 header (CM = 8, CINFO <= 7, FCHECK makes CMF*256+FLG a multiple of 31).
 */
function zlibWrapped(input: Buffer): boolean {
  const cmf = input[0];
  const flg = input[1];
  return cmf !== undefined && flg !== undefined && (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && (cmf * 256 + flg) % 31 === 0;
}

/** The fields of Node's zlib stream objects (lib/zlib.js, ZlibBase) the reusable path drives. */
interface ZlibInternals {
  _handle?: {
    writeSync?: (
      flush: number,
      input: Buffer,
      inOff: number,
      inLen: number,
      out: Buffer,
      outOff: number,
      outLen: number,
    ) => void;
    onerror?: (message: string, errno: number) => void;
    reset?: () => void;
    close?: () => void;
  };
  _writeState?: Uint32Array;
}

type InflaterKind = 'gzip' | 'inflate' | 'inflateRaw' | 'br';
const SCRATCH_BYTES = 64 * 1024;

/**
 * One decompressor per kind, reused for every body of the thread (bodies are decoded one at a time,
 * synchronously). Why: zlib.gunzipSync() builds a stream object, a native handle and a 16 KiB
 * output buffer per call; on the lab capture (9,300 gzip bodies of ~10 KB) that construction was
 * ~70% of the decoding time (~40 µs of ~55 µs per body, Node 20), the inflate itself the rest.
 *
 * It drives the same native handle the sync APIs use (lib/zlib.js processChunkSync: writeSync with
 * the finish flush, the output in pieces) and resets it between bodies, so its output is the sync
 * API's output byte for byte. It only answers the plain case: any error, or output above the cap,
 * returns null and the caller takes the sync API path (identical errors, caps and salvage). The
 * internals are checked once against the sync API on a sample (selfTest); where they differ (another
 * Node version), every body takes the sync API path.
 */
class Inflater {
  private engine: ZlibInternals | null = null;
  private error = false;
  private readonly onError = (): void => {
    this.error = true;
  };

  constructor(
    private readonly kind: InflaterKind,
    private readonly flush: number,
  ) {}

  private make(): ZlibInternals | null {
    const e = (this.kind === 'gzip'
      ? zlib.createGunzip()
      : this.kind === 'inflate'
        ? zlib.createInflate()
        : this.kind === 'inflateRaw'
          ? zlib.createInflateRaw()
          : zlib.createBrotliDecompress()) as unknown as ZlibInternals;
    const h = e._handle;
    if (
      h === undefined ||
      typeof h.writeSync !== 'function' ||
      typeof h.reset !== 'function' ||
      !(e._writeState instanceof Uint32Array)
    ) {
      return null;
    }
    // Errors come back synchronously through the handle's onerror (the stream's own handler
    // destroys the stream): note them instead.
    h.onerror = this.onError;
    return e;
  }

  /** The complete decoding of `input` when it succeeds within `maxOut` bytes; null otherwise (or when unusable). */
  run(input: Buffer, maxOut: number): Buffer | null {
    if (!fastInflate) return null;
    const e = (this.engine ??= this.make());
    if (e === null) return null;
    const h = e._handle as Required<NonNullable<ZlibInternals['_handle']>>;
    const state = e._writeState as Uint32Array;
    const out = scratch();
    let pieces: Buffer[] | null = null;
    let first: Buffer | null = null;
    let nread = 0;
    let inOff = 0;
    let inLen = input.length;
    this.error = false;
    try {
      for (;;) {
        h.writeSync(this.flush, input, inOff, inLen, out, 0, out.length);
        if (this.error) break;
        const availOut = state[0] as number;
        const availIn = state[1] as number;
        const have = out.length - availOut;
        if (have > 0) {
          nread += have;
          if (nread > maxOut) break;
          const piece = Buffer.allocUnsafe(have);
          out.copy(piece, 0, 0, have);
          if (first === null) first = piece;
          else (pieces ??= [first]).push(piece);
        }
        if (availOut !== 0) {
          h.reset();
          if (first === null) return EMPTY;
          return pieces === null ? first : Buffer.concat(pieces, nread);
        }
        inOff += inLen - availIn;
        inLen = availIn;
      }
    } catch {
      // not expected from the handle: fall through to the sync API
    }
    // An error or the cap: this handle's state is unknown, start the next body on a fresh one.
    this.engine = null;
    try {
      h.close();
    } catch {
      // already closed
    }
    return null;
  }
}

let scratchBuf: Buffer | null = null;
function scratch(): Buffer {
  return (scratchBuf ??= Buffer.allocUnsafe(SCRATCH_BYTES));
}

const INFLATERS = {
  gzip: new Inflater('gzip', zlib.constants.Z_SYNC_FLUSH),
  inflate: new Inflater('inflate', zlib.constants.Z_SYNC_FLUSH),
  inflateRaw: new Inflater('inflateRaw', zlib.constants.Z_SYNC_FLUSH),
  br: new Inflater('br', zlib.constants.BROTLI_OPERATION_FLUSH),
} as const;

function inflaterOf(layer: Layer, input: Buffer): Inflater | null {
  if (fastInflate === null) fastInflate = selfTest();
  if (!fastInflate) return null;
  if (layer === 'gzip') return INFLATERS.gzip;
  if (layer === 'br') return INFLATERS.br;
  return zlibWrapped(input) ? INFLATERS.inflate : INFLATERS.inflateRaw;
}

/** Whether bodies are decoded by the reusable decompressors (false: Node's internals differ, sync APIs only). */
export function reusableDecompressors(): boolean {
  if (fastInflate === null) fastInflate = selfTest();
  return fastInflate;
}

/** The reusable path is on when it reproduces the sync APIs on a sample (whole, cut, two bodies in a row). */
let fastInflate: boolean | null = null;
function selfTest(): boolean {
  fastInflate = true;
  try {
    // Small and cheap to make (a few ms at first use): the decoding loop itself is tested in body.test.ts.
    const text = Buffer.from('{"apitap":"self test","n":[1,2,3,4,5,6,7,8,9,10]}'.repeat(60));
    const samples: [Layer, Buffer][] = [
      ['gzip', zlib.gzipSync(text, { level: 1 })],
      ['deflate', zlib.deflateSync(text, { level: 1 })],
      ['deflate', zlib.deflateRawSync(text, { level: 1 })],
      ['br', zlib.brotliCompressSync(text, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })],
    ];
    for (const [layer, z] of samples) {
      for (const input of [z, z.subarray(0, z.length >> 1), z]) {
        const got = inflaterOf(layer, input)?.run(input, 1 << 20) ?? null;
        if (got === null || !got.equals(runLayer(layer, input, 1 << 20))) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Decode one layer with output capped at `cap`. zlib's maxOutputLength throws without returning
 * the prefix, so on a cap hit the prefix is recovered by decoding growing input prefixes (1 KiB,
 * doubling) until at least `need` bytes come out: deflate expands at most ~1032:1, so the first
 * step already covers a capture of 1 MiB, and every step stays under `cap` or stops.
 */
function decodeLayer(layer: Layer, input: Buffer, need: number, cap: number): LayerResult {
  const fast = inflaterOf(layer, input)?.run(input, cap) ?? null;
  if (fast !== null) return { out: fast, capped: false, failed: false };
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
