// HTTP/2 frame layout (RFC 9113 §4.1) and the plausibility rules used to find frame boundaries again
// after they were lost (a gap, or a capture that starts mid-connection).
//
//   +-----------------------------------------------+
//   |                 Length (24)                   |
//   +---------------+---------------+---------------+
//   |   Type (8)    |   Flags (8)   |
//   +-+-------------+---------------+-------------------------------+
//   |R|                 Stream Identifier (31)                      |
//   +=+=============================================================+
//   |                   Frame Payload (0...)                      ...
//
// A header is plausible when its type is one RFC 9113 defines, its flags are a subset of the ones
// that type defines, the reserved bit is clear, and its length and stream id obey the type's rules
// (§6.1-§6.10). One plausible header is weak evidence in binary data; resynchronisation requires a
// chain of them (each next header exactly where the previous frame ends).

export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE default (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME = 16384;
/** Largest length the 24-bit field can announce. */
export const MAX_FRAME_LIMIT = (1 << 24) - 1;

export const FRAME = {
  data: 0,
  headers: 1,
  priority: 2,
  rstStream: 3,
  settings: 4,
  pushPromise: 5,
  ping: 6,
  goaway: 7,
  windowUpdate: 8,
  continuation: 9,
} as const;

export const FLAG = {
  endStream: 0x1,
  ack: 0x1,
  endHeaders: 0x4,
  padded: 0x8,
  priority: 0x20,
} as const;

/** Flags each frame type defines (RFC 9113 §6), by type. */
const FLAGS_OF = [
  FLAG.endStream | FLAG.padded, // DATA
  FLAG.endStream | FLAG.endHeaders | FLAG.padded | FLAG.priority, // HEADERS
  0, // PRIORITY
  0, // RST_STREAM
  FLAG.ack, // SETTINGS
  FLAG.endHeaders | FLAG.padded, // PUSH_PROMISE
  FLAG.ack, // PING
  0, // GOAWAY
  0, // WINDOW_UPDATE
  FLAG.endHeaders, // CONTINUATION
] as const;

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Checks the frame header at b[off, off+9) against RFC 9113 §6: the frame's length, or -1 when the
 * header is not plausible. `maxLen` bounds the length (the receiver's SETTINGS_MAX_FRAME_SIZE).
 */
export function plausibleHeader(b: Buffer, off: number, maxLen: number): number {
  const len = ((b[off] as number) << 16) | ((b[off + 1] as number) << 8) | (b[off + 2] as number);
  const type = b[off + 3] as number;
  const flags = b[off + 4] as number;
  if (len > maxLen || type > 9) return -1;
  if ((flags & ~(FLAGS_OF[type] as number)) !== 0) return -1;
  const sid = b.readUInt32BE(off + 5);
  if (sid > 0x7fffffff) return -1; // reserved bit set
  switch (type) {
    case FRAME.data:
    case FRAME.headers:
    case FRAME.continuation:
      return sid !== 0 ? len : -1;
    case FRAME.priority:
      return sid !== 0 && len === 5 ? len : -1;
    case FRAME.rstStream:
      return sid !== 0 && len === 4 ? len : -1;
    case FRAME.settings:
      return sid === 0 && len % 6 === 0 && (flags === 0 || len === 0) ? len : -1;
    case FRAME.pushPromise:
      return sid !== 0 && len >= 4 ? len : -1;
    case FRAME.ping:
      return sid === 0 && len === 8 ? len : -1;
    case FRAME.goaway:
      return sid === 0 && len >= 8 ? len : -1;
    default: // WINDOW_UPDATE: stream 0 or not
      return len === 4 ? len : -1;
  }
}

/**
 * The first offset in b[from, end) where `minChain` plausible frame headers follow each other, or
 * where a shorter chain (at least one frame) ends exactly at `end` when `endIsBoundary` (the caller
 * knows a frame boundary there). Returns that offset (>= 0); -1 when there is none; when a candidate
 * needs bytes past `end` to be decided, -(offset + 2) (the caller keeps the bytes from there and
 * waits for more).
 */
export function findFrameChain(
  b: Buffer,
  from: number,
  end: number,
  maxLen: number,
  minChain: number,
  endIsBoundary: boolean,
): number {
  for (let p = from; p + FRAME_HEADER_BYTES <= end; p++) {
    let q = p;
    let n = 0;
    let undecided = false;
    while (n < minChain) {
      if (q + FRAME_HEADER_BYTES > end) {
        undecided = q !== end || !endIsBoundary;
        break;
      }
      const len = plausibleHeader(b, q, maxLen);
      if (len < 0) break;
      q += FRAME_HEADER_BYTES + len;
      n++;
      if (q > end) {
        undecided = true;
        break;
      }
    }
    if (n >= minChain) return p;
    if (n > 0 && q === end && endIsBoundary) return p;
    if (undecided && n > 0) return -(p + 2);
  }
  return -1;
}
