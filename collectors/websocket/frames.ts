// WebSocket frame layout (RFC 6455 §5.2) and the rules a passive reader checks.
//
//    0                   1                   2                   3
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//   | |1|2|3|       |K|             |                               |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   |     Extended payload length continued, if payload len == 127  |
//   + - - - - - - - - - - - - - - - +-------------------------------+
//   |                               |Masking-key, if MASK set to 1  |
//   +-------------------------------+-------------------------------+
//   | Masking-key (continued)       |          Payload Data         |
//   +-------------------------------- - - - - - - - - - - - - - - - +

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** The longest frame header: 2 + 8 (64-bit length) + 4 (masking key). */
export const MAX_HEADER_BYTES = 14;
/** Control frames carry at most 125 payload bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/**
 * Largest 64-bit length accepted: 2^53 - 1 (exact in a JS number). RFC 6455 allows up to 2^63 - 1;
 * a frame announcing more than 8 PiB is framing lost, not data.
 */
export const MAX_FRAME_LENGTH = Number.MAX_SAFE_INTEGER;

/** Bytes of the header whose first two bytes are b0 b1. */
export function headerBytes(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}

/** Opcodes RFC 6455 §5.2 defines (others are reserved). */
export function knownOpcode(op: number): boolean {
  return op <= 2 || (op >= 8 && op <= 10);
}

/**
 * A status code allowed in a close frame (RFC 6455 §7.4.1, §7.4.2 and the IANA registry): 1000-1003,
 * 1007-1014 (1004 reserved; 1005, 1006 and 1015 must never be sent), 3000-4999 (registered and
 * private use).
 */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A close status that reports no error: 1000 normal closure, 1001 going away. */
export function normalCloseCode(code: number): boolean {
  return code === 1000 || code === 1001;
}
