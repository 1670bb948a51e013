// HPACK header block decoding (RFC 7541), one decoder per direction of a connection.
//
// Contract: `decode` never throws. It appends the fields it could decode to `out` and returns a
// status. Watching rather than taking part, a decoder can lose track of the encoder's dynamic table
// (a capture joined mid-connection, a gap that swallowed a header block): the table is then
// *desynchronised*. It keeps working with what it can still know exactly: static-table references
// and literals decode as always, and entries inserted after the desync are the newest entries of
// the encoder's table (RFC 7541 §2.3.3: index 62 is the most recent insertion), so references to
// them resolve too. Only a reference past the known entries is unresolvable: that field is left out
// and counted (`desync`). Once the known entries fill the table (the encoder evicted everything
// older) the decoder is synchronised again.
import { huffmanDecode } from './huffman.js';

/** RFC 7541 Appendix A. */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

const STATIC_LEN = STATIC_TABLE.length; // 61
/** RFC 7541 §4.1: an entry's size is its name and value lengths in octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** SETTINGS_HEADER_TABLE_SIZE default (RFC 9113 §6.5.2). */
export const DEFAULT_TABLE_SIZE = 4096;

export const HPACK = {
  ok: 0,
  /** Some field referenced a dynamic entry the decoder cannot know (desynchronised table). */
  desync: 1,
  /** The block is malformed (bad integer, bad Huffman, index out of a synchronised table, cut short). */
  error: 2,
} as const;
export type HpackStatus = (typeof HPACK)[keyof typeof HPACK];

export interface HpackLimits {
  /** Largest dynamic table size a size update may set (memory bound); larger updates are clamped. */
  maxTableSize: number;
  /** Largest decoded string kept; longer strings end the block as an error. */
  maxStringBytes: number;
}

export const DEFAULT_HPACK_LIMITS: HpackLimits = { maxTableSize: 1 << 20, maxStringBytes: 1 << 20 };

interface Entry {
  name: string;
  value: string;
  size: number;
}

export class HpackDecoder {
  /** Dynamic table, oldest first (index 62 is the last element). */
  private entries: Entry[] = [];
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;
  /** False while entries older than the known ones may exist (mid-stream join, lost block). */
  synced: boolean;
  /** Fields left out because they referenced an unknown dynamic entry, since creation. */
  unresolved = 0;
  private pos = 0;

  constructor(
    synced: boolean,
    private readonly limits: HpackLimits = DEFAULT_HPACK_LIMITS,
  ) {
    this.synced = synced;
  }

  /** A header block was lost or only partly seen: older table state is no longer known exactly. */
  desync(): void {
    this.synced = false;
  }

  get tableSize(): number {
    return this.size;
  }

  get tableEntries(): number {
    return this.entries.length;
  }

  /**
   * Decodes one complete header block src[off, end) (HEADERS/PUSH_PROMISE + CONTINUATION fragments
   * joined), appending [name, value] pairs to `out` in wire order.
   */
  decode(src: Buffer, off: number, end: number, out: [string, string][]): HpackStatus {
    this.pos = off;
    let status: HpackStatus = HPACK.ok;
    while (this.pos < end) {
      const b = src[this.pos] as number;
      if (b & 0x80) {
        // Indexed header field (§6.1).
        const idx = this.int(src, end, 7);
        if (idx < 0 || idx === 0) return this.fail();
        const e = this.lookup(idx);
        if (e === null) {
          if (this.synced) return this.fail();
          this.unresolved++;
          status = HPACK.desync;
          continue;
        }
        out.push([e[0], e[1]]);
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3).
        const n = this.int(src, end, 5);
        if (n < 0) return this.fail();
        this.maxSize = Math.min(n, this.limits.maxTableSize);
        this.evict(0);
        if (this.maxSize === 0) this.synced = true; // an emptied table is known exactly
      } else {
        // Literal (§6.2): with incremental indexing 01xxxxxx (6-bit index), without 0000xxxx and
        // never indexed 0001xxxx (4-bit index).
        const incremental = (b & 0xc0) === 0x40;
        const idx = this.int(src, end, incremental ? 6 : 4);
        if (idx < 0) return this.fail();
        let name: string | null;
        let unknownName = false;
        if (idx === 0) {
          name = this.str(src, end);
          if (name === null) return this.fail();
        } else {
          const e = this.lookup(idx);
          if (e === null) {
            if (this.synced) return this.fail();
            unknownName = true;
            name = '';
          } else {
            name = e[0];
          }
        }
        const value = this.str(src, end);
        if (value === null) return this.fail();
        if (unknownName) {
          this.unresolved++;
          status = HPACK.desync;
        } else {
          out.push([name, value]);
        }
        if (incremental) {
          if (unknownName) {
            // An entry of unknown content takes index 62: the known ones shift but stay known; it
            // cannot be represented, so only its size is unknown: drop the known entries (exact).
            this.entries = [];
            this.size = 0;
            this.synced = false;
          } else {
            this.add(name, value);
          }
        }
      }
    }
    return status;
  }

  /** [name, value] of index `idx` (1-based, static then dynamic), or null when not known. */
  private lookup(idx: number): readonly [string, string] | null {
    if (idx <= STATIC_LEN) return STATIC_TABLE[idx - 1] ?? null;
    const d = idx - STATIC_LEN; // 1 = newest
    const e = this.entries[this.entries.length - d];
    return e === undefined ? null : [e.name, e.value];
  }

  private add(name: string, value: string): void {
    const size = Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1') + ENTRY_OVERHEAD;
    if (size > this.maxSize) {
      // §4.4: an entry larger than the table empties it; the table is then known exactly.
      this.entries = [];
      this.size = 0;
      this.synced = true;
      return;
    }
    this.evict(size);
    this.entries.push({ name, value, size });
    this.size += size;
  }

  /** Evicts oldest entries until `room` more octets fit (§4.4). */
  private evict(room: number): void {
    let drop = 0;
    let size = this.size;
    // When not synchronised, unknown older entries are evicted first by the encoder; the known
    // ones go only once the known ones alone exceed the table, which is then synchronised again.
    while (size + room > this.maxSize && drop < this.entries.length) {
      size -= (this.entries[drop] as Entry).size;
      drop++;
    }
    if (drop > 0) {
      this.entries.splice(0, drop);
      this.synced = true;
    }
    this.size = size;
  }

  private fail(): HpackStatus {
    // Later insertions in this block were not applied: the table is no longer known exactly.
    this.synced = false;
    return HPACK.error;
  }

  /** Prefix-coded integer (§5.1) at this.pos; -1 when cut short or beyond 2^31. */
  private int(src: Buffer, end: number, prefix: number): number {
    const max = (1 << prefix) - 1;
    let v = (src[this.pos++] as number) & max;
    if (v < max) return v;
    let m = 0;
    while (this.pos < end) {
      const b = src[this.pos++] as number;
      v += (b & 0x7f) * 2 ** m;
      m += 7;
      if (v > 0x7fffffff) return -1;
      if ((b & 0x80) === 0) return v;
    }
    return -1;
  }

  /** String literal (§5.2) at this.pos, or null when malformed or over the limit. */
  private str(src: Buffer, end: number): string | null {
    if (this.pos >= end) return null;
    const huff = ((src[this.pos] as number) & 0x80) !== 0;
    const len = this.int(src, end, 7);
    if (len < 0 || this.pos + len > end || len > this.limits.maxStringBytes) return null;
    const s = this.pos;
    this.pos += len;
    return huff ? huffmanDecode(src, s, s + len) : src.toString('latin1', s, s + len);
  }
}
