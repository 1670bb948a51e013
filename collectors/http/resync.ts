// Finding the next plausible HTTP/1.x start line in a byte stream whose framing was lost
// (after a gap, a framing error, or when the capture joined the connection mid-stream).
//
// A request line is `method SP request-target SP HTTP-version CRLF` (RFC 9112 §3) with a method
// from KNOWN_METHODS; a status line is `HTTP-version SP 3DIGIT SP` (RFC 9112 §4; the reason may be
// empty, so CR or LF may follow the code). Both contain "HTTP/1.", so the scan looks for that
// string and checks around it. A start line need not follow an LF: after a gap the stream can
// resume right at a message start. The method is the longest known method that is a suffix of the
// token before the target, so "xyzGET / HTTP/1.1" resynchronises at "GET".
//
// Determinism across chunk splits: every decision uses at most WALK_BACK bytes before an
// occurrence and STATUS_NEED after it; the caller keeps the last CARRY_BYTES bytes when nothing
// was found, so every occurrence is decided once with its full context, whatever the split.
import { KNOWN_METHODS } from './parser.js';

export const START = { request: 1, response: 2 } as const;
export type StartKind = (typeof START)[keyof typeof START];

/** Longest request target considered during resync (longer lines are skipped as noise). */
export const MAX_TARGET = 8192;
const MAX_METHOD = 16;
const WALK_BACK = MAX_TARGET + MAX_METHOD + 2;
const STATUS_NEED = 13; // "HTTP/1.1 200 " or "HTTP/1.1 200\r"
/** Bytes the caller keeps between calls when nothing was found. */
export const CARRY_BYTES = WALK_BACK + STATUS_NEED;

const NEEDLE = Buffer.from('HTTP/1.', 'latin1');
const METHOD_SET: ReadonlySet<string> = new Set(KNOWN_METHODS);

export interface StartLine {
  pos: number;
  kind: StartKind;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isMethodChar = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || c === 0x2d; // A-Z, '-'

/**
 * The first start line in buf[from, end) accepted by `accept`, or null. Positions whose check
 * needs bytes past `end` are not decided (null for them; the caller rescans them with more data).
 */
export function findStartLine(
  buf: Buffer,
  from: number,
  end: number,
  accept: (pos: number, kind: StartKind) => boolean,
): StartLine | null {
  let h = buf.indexOf(NEEDLE, from);
  while (h !== -1 && h + NEEDLE.length < end) {
    const minor = buf[h + 7];
    if (minor === 0x30 || minor === 0x31) {
      // Status line at h.
      if (
        h + STATUS_NEED <= end &&
        buf[h + 8] === 0x20 &&
        isDigit(buf[h + 9]) &&
        isDigit(buf[h + 10]) &&
        isDigit(buf[h + 11])
      ) {
        const after = buf[h + 12];
        if ((after === 0x20 || after === 0x0d || after === 0x0a) && accept(h, START.response))
          return { pos: h, kind: START.response };
      }
      // Request line ending at h: " HTTP/1.x" CRLF or LF.
      const c8 = buf[h + 8];
      if (
        h > from &&
        buf[h - 1] === 0x20 &&
        h + 9 < end + 1 &&
        (c8 === 0x0a || (c8 === 0x0d && h + 9 < end && buf[h + 9] === 0x0a))
      ) {
        const pos = requestStart(buf, from, h - 1);
        if (pos >= 0 && accept(pos, START.request)) return { pos, kind: START.request };
      }
    }
    h = buf.indexOf(NEEDLE, h + 1);
  }
  return null;
}

/** Start of `method SP target` ending at the SP at `sp`, or -1. */
function requestStart(buf: Buffer, from: number, sp: number): number {
  const lowest = Math.max(from, sp - WALK_BACK);
  let t = sp - 1;
  while (t >= lowest) {
    const c = buf[t] as number;
    if (c === 0x20) break;
    if (c < 0x21 || c === 0x7f) return -1; // control bytes never appear in a request-target
    t--;
  }
  if (t < lowest || t === sp - 1) return -1; // no SP before the target, or empty target
  // buf[t] is the SP between method and target; method chars end at t - 1.
  let m = t - 1;
  const methodLow = Math.max(from, t - MAX_METHOD);
  while (m >= methodLow && isMethodChar(buf[m] as number)) m--;
  // Longest known method that is a suffix of buf[m + 1, t).
  for (let s = m + 1; s < t; s++) {
    if (METHOD_SET.has(buf.toString('latin1', s, t))) return s;
  }
  return -1;
}
