// Protocol sniffing: the first bytes of a direction that are plainly not HTTP/1.x.
/**
 * The protocol of a direction whose first bytes are plainly not HTTP/1.x, or null. Strong
 * signatures only, so that an odd HTTP message still goes to the parser (and its anomalies):
 * - a TLS record header (content type 20-23, version 3.0-3.4, length ≤ 2^14 + 2048; RFC 8446 §5.1);
 * - an SSH identification string "SSH-" (RFC 4253 §4.2);
 * - the HTTP/2 client connection preface "PRI * HTTP/2.0" (RFC 9113 §3.4), h2c and gRPC.
 */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

export function otherProtocol(b: Buffer): 'tls' | 'ssh' | 'h2' | null {
  const b0 = b[0] as number;
  if (b.length >= 5 && b0 >= 0x14 && b0 <= 0x17 && b[1] === 0x03 && (b[2] as number) <= 0x04) {
    if (b.readUInt16BE(3) <= 16384 + 2048) return 'tls';
  }
  if (b.length >= 4 && b0 === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d) return 'ssh';
  if (b.length >= H2_PREFACE.length && b0 === 0x50 && b.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) return 'h2';
  return null;
}
