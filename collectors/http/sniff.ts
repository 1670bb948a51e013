// Recognising what a direction carries from its first bytes: plainly not HTTP/1.x (TLS, SSH), the
// HTTP/2 client preface, HTTP/2 frames, and an Upgrade request for h2c. Pure functions of the bytes.
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import { DEFAULT_MAX_FRAME, findFrameChain } from '../h2/frames.js';
import { headerOf } from './body.js';

/** HTTP/1.x chunks of a direction sniffed for HTTP/2 frames on a connection joined mid-stream. */
export const SNIFF_CHUNKS = 4;

/** The request asks for h2c (RFC 7540 §3.2): an Upgrade token "h2c" (with Connection: upgrade, checked by the caller). */
export function isH2cUpgrade(headers: readonly HeaderPair[]): boolean {
  const up = headerOf(headers, 'upgrade');
  if (up === null) return false;
  for (const t of up.split(',')) if (t.trim().toLowerCase() === 'h2c') return true;
  return false;
}

/**
 * HTTP/2 frames start at b[off]: two plausible frame headers in a chain, or one frame that ends
 * exactly at the end of the chunk (frames.ts). Text protocols never match: their first three bytes
 * read as a length far above the 16384-byte default frame size.
 */
export function isH2Frames(b: Buffer, off: number): boolean {
  return findFrameChain(b, off, b.length, DEFAULT_MAX_FRAME, 2, true) === off;
}

/**
 * The protocol of a direction whose first bytes are plainly not HTTP/1.x, or null. Strong
 * signatures only, so that an odd HTTP message still goes to the parser (and its anomalies):
 * - a TLS record header (content type 20-23, version 3.0-3.4, length ≤ 2^14 + 2048; RFC 8446 §5.1);
 * - an SSH identification string "SSH-" (RFC 4253 §4.2);
 * - the HTTP/2 client connection preface "PRI * HTTP/2.0" (RFC 9113 §3.4), h2c and gRPC.
 */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function otherProtocol(b: Buffer): 'tls' | 'ssh' | 'h2' | null {
  const b0 = b[0] as number;
  if (b.length >= 5 && b0 >= 0x14 && b0 <= 0x17 && b[1] === 0x03 && (b[2] as number) <= 0x04) {
    if (b.readUInt16BE(3) <= 16384 + 2048) return 'tls';
  }
  if (b.length >= 4 && b0 === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d) return 'ssh';
  if (b.length >= 16 && b0 === 0x50 && b.subarray(0, 16).equals(H2_PREFACE.subarray(0, 16))) return 'h2';
  return null;
}
