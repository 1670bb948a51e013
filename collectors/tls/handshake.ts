// Decoding of the cleartext TLS handshake messages apitap reads: ClientHello, ServerHello and the
// TLS <= 1.2 Certificate message. Pure functions over (buf, off, end) of one complete handshake
// message body (the 4-byte handshake header already removed). Every length is checked against `end`
// before it is used; a message whose fields run past it returns null (the caller counts
// tls_bad_handshake). Nothing here throws on any input.

/** Handshake message types (RFC 8446 §4, RFC 5246 §7.4). */
export const HS = { clientHello: 1, serverHello: 2, certificate: 11 } as const;

/** Extension types (IANA TLS ExtensionType registry). */
const EXT = { serverName: 0, alpn: 16, supportedVersions: 43 } as const;

/** RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
const HRR_RANDOM = Buffer.from('CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C', 'hex');

/** RFC 8701 GREASE code points (0x0A0A, 0x1A1A, ... 0xFAFA) are reserved noise, left out. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

export interface ClientHello {
  legacyVersion: number;
  sni: string | null;
  /** legacy_version first unless supported_versions is present (then only its list, RFC 8446 §4.2.1). */
  versions: number[];
  alpn: string[];
  ciphers: number[];
}

export interface ServerHello {
  legacyVersion: number;
  /** supported_versions selected_version, else legacy_version. */
  version: number;
  cipher: number;
  alpn: string | null;
  helloRetry: boolean;
}

/** A bounded reader: every read checks the bound; `ok` turns false on the first overrun. */
class Reader {
  ok = true;
  constructor(
    readonly buf: Buffer,
    public off: number,
    public end: number,
  ) {}
  u8(): number {
    if (this.off + 1 > this.end) return this.fail();
    return this.buf[this.off++] as number;
  }
  u16(): number {
    if (this.off + 2 > this.end) return this.fail();
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u24(): number {
    if (this.off + 3 > this.end) return this.fail();
    const v = ((this.buf[this.off] as number) << 16) | this.buf.readUInt16BE(this.off + 1);
    this.off += 3;
    return v;
  }
  /** Skip n bytes; false (and not ok) when fewer remain. */
  skip(n: number): boolean {
    if (this.off + n > this.end) {
      this.fail();
      return false;
    }
    this.off += n;
    return true;
  }
  private fail(): number {
    this.ok = false;
    this.off = this.end;
    return 0;
  }
}

/** Printable ASCII only (SNI and ALPN are ASCII by RFC 6066 §3 and RFC 7301 §3.1 practice). */
function ascii(buf: Buffer, off: number, len: number): string {
  let s = '';
  for (let i = off; i < off + len; i++) {
    const c = buf[i] as number;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** Walks the extensions block at r (u16 length + entries) calling fn(type, off, end) per extension. */
function extensions(r: Reader, fn: (type: number, off: number, end: number) => void): boolean {
  if (r.off >= r.end) return true; // no extensions block (TLS <= 1.2 without extensions)
  const len = r.u16();
  if (!r.ok || r.off + len > r.end) return false;
  const stop = r.off + len;
  while (r.off < stop) {
    if (r.off + 4 > stop) return false;
    const type = r.u16();
    const n = r.u16();
    if (r.off + n > stop) return false;
    fn(type, r.off, r.off + n);
    r.off += n;
  }
  return true;
}

/** RFC 6066 §3: ServerNameList; the first host_name (type 0) entry, lower-cased. */
function serverName(buf: Buffer, off: number, end: number): string | null {
  const r = new Reader(buf, off, end);
  const listLen = r.u16();
  if (!r.ok || r.off + listLen > end) return null;
  const stop = r.off + listLen;
  while (r.off + 3 <= stop) {
    const type = r.u8();
    const n = r.u16();
    if (r.off + n > stop) return null;
    if (type === 0 && n > 0) return ascii(buf, r.off, n).toLowerCase();
    r.off += n;
  }
  return null;
}

/** RFC 7301 §3.1: ProtocolNameList. */
function protocolNames(buf: Buffer, off: number, end: number): string[] | null {
  const r = new Reader(buf, off, end);
  const listLen = r.u16();
  if (!r.ok || r.off + listLen > end) return null;
  const stop = r.off + listLen;
  const out: string[] = [];
  while (r.off < stop) {
    const n = r.u8();
    if (n === 0 || r.off + n > stop) return null;
    out.push(ascii(buf, r.off, n));
    r.off += n;
  }
  return out;
}

/** RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2, whose extensions block is optional). */
export function parseClientHello(buf: Buffer, off: number, end: number): ClientHello | null {
  const r = new Reader(buf, off, end);
  const legacyVersion = r.u16();
  r.skip(32); // random
  r.skip(r.u8()); // legacy_session_id
  const cs = r.u16();
  if (!r.ok || (cs & 1) !== 0 || r.off + cs > end) return null;
  const ciphers: number[] = [];
  for (let p = r.off; p < r.off + cs; p += 2) {
    const c = buf.readUInt16BE(p);
    if (!isGrease(c)) ciphers.push(c);
  }
  r.off += cs;
  r.skip(r.u8()); // legacy_compression_methods
  if (!r.ok) return null;
  let sni: string | null = null;
  let alpn: string[] = [];
  let supported: number[] | null = null;
  let bad = false;
  const ok = extensions(r, (type, o, e) => {
    if (type === EXT.serverName) sni = serverName(buf, o, e);
    else if (type === EXT.alpn) {
      const p = protocolNames(buf, o, e);
      if (p === null) bad = true;
      else alpn = p;
    } else if (type === EXT.supportedVersions) {
      // ClientHello form: u8 length + list of u16 (RFC 8446 §4.2.1).
      const n = e > o ? (buf[o] as number) : -1;
      if (n < 0 || (n & 1) !== 0 || o + 1 + n > e) {
        bad = true;
        return;
      }
      supported = [];
      for (let p = o + 1; p < o + 1 + n; p += 2) {
        const v = buf.readUInt16BE(p);
        if (!isGrease(v) && !supported.includes(v)) supported.push(v);
      }
    }
  });
  if (!ok || bad) return null;
  return { legacyVersion, sni, versions: supported ?? [legacyVersion], alpn, ciphers };
}

/** RFC 8446 §4.1.3 (and RFC 5246 §7.4.1.3). */
export function parseServerHello(buf: Buffer, off: number, end: number): ServerHello | null {
  const r = new Reader(buf, off, end);
  const legacyVersion = r.u16();
  const randomAt = r.off;
  if (!r.skip(32)) return null;
  const helloRetry = buf.compare(HRR_RANDOM, 0, 32, randomAt, randomAt + 32) === 0;
  r.skip(r.u8()); // legacy_session_id_echo
  const cipher = r.u16();
  r.u8(); // legacy_compression_method
  if (!r.ok) return null;
  let version = legacyVersion;
  let alpn: string | null = null;
  let bad = false;
  const ok = extensions(r, (type, o, e) => {
    if (type === EXT.supportedVersions) {
      // ServerHello form: the selected version, one u16.
      if (e - o !== 2) bad = true;
      else version = buf.readUInt16BE(o);
    } else if (type === EXT.alpn) {
      const p = protocolNames(buf, o, e);
      if (p === null || p.length !== 1) bad = true;
      else alpn = p[0] ?? null;
    }
  });
  if (!ok || bad) return null;
  return { legacyVersion, version, cipher, alpn, helloRetry };
}

/**
 * RFC 5246 §7.4.2: certificate_list (u24) of ASN.1Cert (u24 + DER). Calls fn(off, end) per
 * certificate, at most `max` times; returns the number of certificates in the list, or -1 when the
 * lengths do not add up.
 */
export function walkCertificates(
  buf: Buffer,
  off: number,
  end: number,
  max: number,
  fn: (off: number, end: number) => void,
): number {
  const r = new Reader(buf, off, end);
  const listLen = r.u24();
  if (!r.ok || r.off + listLen > end) return -1;
  const stop = r.off + listLen;
  let n = 0;
  while (r.off < stop) {
    const len = r.u24();
    if (!r.ok || len === 0 || r.off + len > stop) return -1;
    if (n < max) fn(r.off, r.off + len);
    n++;
    r.off += len;
  }
  return n;
}
