// Deterministic ids of the collectors: the first 8 bytes of SHA-256 (FIPS 180-4) of a short text, as
// 16 lower-case hex digits. Flow ids hash `vni|tunnel|client|server|first packet time` (collectors/flow),
// exchange ids `flowId:seq` (collectors/http/record.ts).
//
// Why not node:crypto: an id costs one native call (crypto.hash) or a Hash object, ~5 µs each on
// Node 20; under a flood of half-open connections (one flow id and one exchange id per connection)
// that was 12% of the collectors' CPU. The texts are short (one or two 64-byte blocks), so the
// compression function in JS over a reused Int32Array costs well under a microsecond, with no
// allocation but the result string. Texts with a code point above 0x7f (never produced by the
// collectors: addresses, ports, numbers, ASCII tunnel kinds) go to node:crypto, which hashes their
// UTF-8 bytes: the id is the same either way.
import { hash } from 'node:crypto';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
/** Message schedule and state, reused by every call (not re-entrant; the collectors are single-threaded per instance). */
const W = new Int32Array(64);
const H = new Int32Array(8);
const HEX = '0123456789abcdef';
const HEX_CODES = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CODES[i] = HEX.charCodeAt(i);

/** SHA-256 of `text`'s UTF-8 bytes, first 8 bytes as 16 hex digits (= crypto.hash('sha256', text).slice(0, 16)). */
export function shortId(text: string): string {
  const n = text.length;
  H.set(IV);
  // Every code unit read is OR-ed here: above 0x7f, the text was not ASCII (see the end).
  let seen = 0;
  // Padding (§5.1.1): 0x80, zeros, then the bit length in the last 8 bytes of the last block.
  const blocks = ((n + 8) >> 6) + 1;
  for (let b = 0; b < blocks; b++) {
    const base = b * 64;
    for (let w = 0; w < 16; w++) {
      const at = base + w * 4;
      if (at + 3 < n) {
        const c0 = text.charCodeAt(at);
        const c1 = text.charCodeAt(at + 1);
        const c2 = text.charCodeAt(at + 2);
        const c3 = text.charCodeAt(at + 3);
        seen |= c0 | c1 | c2 | c3;
        W[w] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3;
      } else {
        let word = 0;
        for (let k = at; k < at + 4; k++) {
          const c = k < n ? text.charCodeAt(k) : k === n ? 0x80 : 0;
          if (k < n) seen |= c;
          word = (word << 8) | c;
        }
        W[w] = word;
      }
    }
    if (b === blocks - 1) {
      // Bit length: texts here are far below 2^29 bytes, so the high word is 0.
      W[14] = 0;
      W[15] = n * 8;
    }
    compress();
  }
  if (seen > 0x7f) return hash('sha256', text, 'buffer').toString('hex', 0, 8);
  return hex8(H[0] as number) + hex8(H[1] as number);
}

/** A 32-bit word as 8 lower-case hex digits. */
function hex8(w: number): string {
  return String.fromCharCode(
    HEX_CODES[(w >>> 28) & 15] as number,
    HEX_CODES[(w >>> 24) & 15] as number,
    HEX_CODES[(w >>> 20) & 15] as number,
    HEX_CODES[(w >>> 16) & 15] as number,
    HEX_CODES[(w >>> 12) & 15] as number,
    HEX_CODES[(w >>> 8) & 15] as number,
    HEX_CODES[(w >>> 4) & 15] as number,
    HEX_CODES[w & 15] as number,
  );
}

/** One block (§6.2.2) from W[0..15] into H. */
function compress(): void {
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15] as number;
    const w2 = W[t - 2] as number;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = ((W[t - 16] as number) + s0 + (W[t - 7] as number) + s1) | 0;
  }
  let a = H[0] as number;
  let b = H[1] as number;
  let c = H[2] as number;
  let d = H[3] as number;
  let e = H[4] as number;
  let f = H[5] as number;
  let g = H[6] as number;
  let h = H[7] as number;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + (K[t] as number) + (W[t] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = ((H[0] as number) + a) | 0;
  H[1] = ((H[1] as number) + b) | 0;
  H[2] = ((H[2] as number) + c) | 0;
  H[3] = ((H[3] as number) + d) | 0;
  H[4] = ((H[4] as number) + e) | 0;
  H[5] = ((H[5] as number) + f) | 0;
  H[6] = ((H[6] as number) + g) | 0;
  H[7] = ((H[7] as number) + h) | 0;
}
