// Test helpers: TLS handshake messages and records built byte by byte from RFC 8446 §4 / RFC 5246
// §7.4 structures, so parser tests state their input rather than hide it in a hex blob.
const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
const u16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vec8 = (b: Buffer): Buffer => Buffer.concat([u8(b.length), b]);
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const vec24 = (b: Buffer): Buffer => Buffer.concat([u24(b.length), b]);

export function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(body)]);
}

export const sniExt = (name: string): Buffer =>
  ext(0, vec16(Buffer.concat([u8(0), vec16(Buffer.from(name, 'ascii'))])));
export const alpnExt = (protos: readonly string[]): Buffer =>
  ext(16, vec16(Buffer.concat(protos.map((p) => vec8(Buffer.from(p, 'ascii'))))));
export const versionsExtClient = (vs: readonly number[]): Buffer => ext(43, vec8(Buffer.concat(vs.map(u16))));
export const versionsExtServer = (v: number): Buffer => ext(43, u16(v));
/** key_share with one entry of `size` opaque bytes (an ML-KEM-768 + X25519 hybrid share is 1216 bytes). */
export const keyShareExt = (group: number, size: number): Buffer =>
  ext(51, vec16(Buffer.concat([u16(group), vec16(Buffer.alloc(size, 0x5a))])));

export function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body]);
}

export interface HelloSpec {
  version?: number;
  ciphers?: number[];
  extensions?: Buffer[];
  random?: Buffer;
}

export function clientHello(s: HelloSpec = {}): Buffer {
  const body = Buffer.concat([
    u16(s.version ?? 0x0303),
    s.random ?? Buffer.alloc(32, 1),
    vec8(Buffer.alloc(32, 2)),
    vec16(Buffer.concat((s.ciphers ?? [0x1301, 0xc02f]).map(u16))),
    vec8(Buffer.from([0])),
    ...(s.extensions === undefined ? [] : [vec16(Buffer.concat(s.extensions))]),
  ]);
  return handshake(1, body);
}

export const HRR_RANDOM = Buffer.from('CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C', 'hex');

export function serverHello(s: HelloSpec & { cipher?: number } = {}): Buffer {
  const body = Buffer.concat([
    u16(s.version ?? 0x0303),
    s.random ?? Buffer.alloc(32, 3),
    vec8(Buffer.alloc(32, 2)),
    u16(s.cipher ?? 0xc02f),
    u8(0),
    ...(s.extensions === undefined ? [] : [vec16(Buffer.concat(s.extensions))]),
  ]);
  return handshake(2, body);
}

export function certificateMsg(ders: readonly Buffer[]): Buffer {
  return handshake(11, vec24(Buffer.concat(ders.map(vec24))));
}

export const serverHelloDone = (): Buffer => handshake(14, Buffer.alloc(0));

/** Records of `type` carrying `payload`, cut into fragments of at most `max` bytes (RFC 8446 §5.1). */
export function records(type: number, payload: Buffer, max = 16384, version = 0x0303): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length || (off === 0 && payload.length === 0); off += max) {
    const frag = payload.subarray(off, Math.min(payload.length, off + max));
    out.push(Buffer.concat([u8(type), u16(version), u16(frag.length), frag]));
    if (payload.length === 0) break;
  }
  return Buffer.concat(out);
}

export const ccs = (): Buffer => records(20, Buffer.from([1]));
export const appData = (n: number): Buffer => records(23, Buffer.alloc(n, 0xee));
