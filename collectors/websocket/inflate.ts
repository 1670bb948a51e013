// permessage-deflate decoding for one sending direction (RFC 7692 §7.2.2).
//
// A compressed message is raw DEFLATE whose trailing 0x00 0x00 0xff 0xff (the empty stored block of
// a sync flush) was removed by the sender: it is appended back and the message inflated with a
// sync flush, so a prefix (a message cut by a gap or a cap) yields what it holds.
//
// Context takeover (RFC 7692 §7.2.3): without *_no_context_takeover the sender's LZ77 window runs
// on across messages, so a message may refer back into earlier messages' uncompressed bytes. The
// window is exactly the last 2^window_bits bytes of the direction's decompressed output, so each
// message is inflated by itself (zlib's synchronous API: nothing asynchronous in the packet path)
// with that tail as the preset dictionary, then the tail is updated. Once a message of the
// direction is lost, cut, capped or corrupt, the tail is unknown: the direction's later compressed
// messages are not decoded (`lost`), since they would silently decode wrong bytes.
//
// Bounds: one message's output stops at maxDecodedBytes (decompression bomb cap); the kept tail is
// at most 2^15 bytes, in a buffer of twice that (appends amortised).
import zlib from 'node:zlib';

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const EMPTY: Buffer = Buffer.alloc(0);

export const INFLATE = { ok: 0, failed: 1, capped: 2, lost: 3 } as const;
export type InflateStatus = (typeof INFLATE)[keyof typeof INFLATE];

export interface InflateResult {
  /** Decompressed bytes (a prefix unless status is ok and the input was whole). */
  out: Buffer;
  status: InflateStatus;
}

export class Inflater {
  /** The window is unknown: later compressed messages cannot be decoded (context takeover only). */
  lost = false;
  private tail: Buffer | null = null;
  private fill = 0;
  private readonly windowBytes: number;

  /**
   * `takeover`: the sender keeps its window across messages; `windowBits`: its window (8..15);
   * `maxOut`: decompression bomb cap of one message; `need`: output bytes worth salvaging when a
   * message hits the cap (the capture cap).
   */
  constructor(
    readonly takeover: boolean,
    windowBits: number,
    private readonly maxOut: number,
    private readonly need: number,
  ) {
    this.windowBytes = 1 << Math.min(15, Math.max(8, windowBits));
  }

  /** Bytes held for the window. */
  get heldBytes(): number {
    return this.tail?.length ?? 0;
  }

  /**
   * Inflates one message's compressed payload (`whole`: every byte of it, no gap, no cap). With
   * context takeover every message of the direction must come here, in order.
   */
  inflate(input: Buffer, whole: boolean): InflateResult {
    if (this.takeover && this.lost) return { out: EMPTY, status: INFLATE.lost };
    const data = whole ? Buffer.concat([input, TAIL]) : input;
    const dict =
      this.takeover && this.fill > 0 && this.tail !== null
        ? this.tail.subarray(Math.max(0, this.fill - this.windowBytes), this.fill)
        : null;
    let r: InflateResult;
    try {
      r = { out: run(data, dict, this.maxOut), status: INFLATE.ok };
    } catch (e) {
      const code = (e as { code?: string }).code;
      r = code === 'ERR_BUFFER_TOO_LARGE' ? this.salvageCapped(data, dict) : this.salvageFailed(data, dict);
    }
    if (this.takeover) {
      if (r.status !== INFLATE.ok || !whole) this.lost = true;
      else this.remember(r.out);
    }
    return r;
  }

  /** Appends `out` to the window tail (the last windowBytes bytes are kept). */
  private remember(out: Buffer): void {
    const w = this.windowBytes;
    if (out.length >= w) {
      this.tail ??= Buffer.allocUnsafe(2 * w);
      out.copy(this.tail, 0, out.length - w);
      this.fill = w;
      return;
    }
    if (this.tail === null) this.tail = Buffer.allocUnsafe(2 * w);
    if (this.fill + out.length > this.tail.length) {
      // Keep the last w - out.length bytes, then append: the result is the last w bytes.
      const keep = Math.min(this.fill, w - out.length);
      this.tail.copy(this.tail, 0, this.fill - keep, this.fill);
      this.fill = keep;
    }
    out.copy(this.tail, this.fill);
    this.fill += out.length;
  }

  /**
   * Output above the cap: zlib's maxOutputLength throws without the prefix, so the prefix comes from
   * decoding growing input prefixes (1 KiB, doubling) until `need` bytes come out (as body.ts).
   */
  private salvageCapped(data: Buffer, dict: Buffer | null): InflateResult {
    let best = EMPTY;
    for (let k = 1024; k < data.length; k *= 2) {
      try {
        best = run(data.subarray(0, k), dict, this.maxOut);
        if (best.length >= this.need) break;
      } catch {
        break;
      }
    }
    return { out: best, status: INFLATE.capped };
  }

  /** Decoded prefix of a corrupt message: the first decodable input prefix by halving, at most 4 tries. */
  private salvageFailed(data: Buffer, dict: Buffer | null): InflateResult {
    let len = data.length >> 1;
    for (let tries = 0; tries < 4 && len >= 64; tries++) {
      try {
        return { out: run(data.subarray(0, len), dict, this.maxOut), status: INFLATE.failed };
      } catch {
        len >>= 1;
      }
    }
    return { out: EMPTY, status: INFLATE.failed };
  }
}

function run(data: Buffer, dict: Buffer | null, maxOut: number): Buffer {
  // windowBits 15 accepts every distance a sender with 8..15 bits can use.
  const opts: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH, windowBits: 15, maxOutputLength: maxOut };
  if (dict !== null) opts.dictionary = dict;
  return zlib.inflateRawSync(data, opts);
}
