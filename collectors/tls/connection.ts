// The TLS layer of one TCP connection: two reassembled byte streams → one tls/v1 record.
//
// Per direction, a record framer (RFC 8446 §5.1: type u8, legacy_record_version u16, length u16)
// feeds the fragments of handshake records (type 22) into a bounded handshake reassembler, which
// cuts complete handshake messages (type u8, length u24; RFC 8446 §4) out of them. So a record split
// across TCP segments, several handshake messages in one record and one message split across
// records (a long Certificate chain, a post-quantum ClientHello) all arrive as the same messages.
// Only handshake bytes are held, and only until their message is complete (maxHandshakeBytes per
// direction). Bytes are never buffered for the records themselves: fragments are consumed in place.
//
// A direction stops being parsed (and its bytes are skipped by one length check per call) when its
// cleartext handshake is over:
// - on the first application_data record (type 23): from there on everything is encrypted;
// - on ChangeCipherSpec (type 20) unless the connection negotiates TLS 1.3: in TLS <= 1.2 the
//   records after it are encrypted (RFC 5246 §7.1); TLS 1.3 sends a dummy CCS for middlebox
//   compatibility (RFC 8446 §D.4), possibly before a second ClientHello, and encrypts with type 23;
// - after a TLS 1.3 ServerHello (the rest of the server's flight is encrypted), and after a
//   TLS <= 1.2 ServerHelloDone (nothing more of interest in clear);
// - on a gap, a record header that is not TLS, or the handshake byte bound (counted anomalies).
// The record is emitted once: when the server's cleartext handshake is over and the ClientHello was
// seen, else at the end of the connection with what was seen. Nothing throws out of this module.
import { shortId } from '../ids.js';
import type { TlsCertificate, TlsEmitter, TlsHandshake } from '../../engine/contracts/tls.js';
import { TLS_SCHEMA } from '../../engine/contracts/tls.js';
import type { Counters } from '../../engine/contracts/counters.js';
import type { ConnectionMeta, Direction } from '../http/types.js';
import type { TlsAnomaly } from './anomalies.js';
import type { ClientHello, ServerHello } from './handshake.js';
import { HS, parseClientHello, parseServerHello, walkCertificates } from './handshake.js';
import { summarizeCertificate } from './x509.js';

export interface TlsOptions {
  /** Max handshake bytes parsed per direction (a post-quantum ClientHello is ~2 KiB, long chains ~20 KiB). */
  maxHandshakeBytes: number;
  /** Max certificates of one chain that are summarised. */
  maxCertificates: number;
  /** Max bytes of incomplete handshake messages held across all connections of one collector. */
  maxTotalHandshakeBytes: number;
}

export const DEFAULT_TLS_OPTIONS: TlsOptions = {
  maxHandshakeBytes: 256 * 1024,
  maxCertificates: 10,
  maxTotalHandshakeBytes: 64 * 1024 * 1024,
};

/** Bytes held by all TLS connections of one collector (incomplete handshake messages). */
export interface TlsBudget {
  held: number;
  readonly max: number;
}

export function createTlsBudget(max: number): TlsBudget {
  return { held: 0, max };
}

/** RFC 8446 §5.1: TLSPlaintext.length ≤ 2^14; TLSCiphertext ≤ 2^14 + 256 (RFC 5246 allows + 2048). */
const MAX_RECORD = 16384 + 2048;
const CT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23, heartbeat: 24 } as const;
const ST = { header: 0, body: 1, done: 2 } as const;
type St = (typeof ST)[keyof typeof ST];
const SERVER_HELLO_DONE = 14;
const TLS13 = 0x0304;

/**
 * Do these first bytes of a direction start TLS? A TLS record header (type 20-24, version 3.x with
 * x ≤ 4), judged on the bytes present (a header split across segments is judged on its prefix), or
 * an SSLv2-compatible ClientHello (RFC 5246 Appendix E.2: 2-byte length with the top bit set,
 * msg_type 1, version 0x0002 or 0x03xx).
 */
export function startsTls(b: Buffer): boolean {
  if (b.length === 0) return false;
  const b0 = b[0] as number;
  if (b0 >= CT.changeCipherSpec && b0 <= CT.heartbeat) {
    return (b.length < 2 || b[1] === 3) && (b.length < 3 || (b[2] as number) <= 4);
  }
  return isSslv2Hello(b);
}

/**
 * Does this chunk begin a TLS handshake record whose first message is a ClientHello or ServerHello
 * (RFC 8446 §5.1, §4)? Record type 22, version 3.x (x ≤ 4), handshake type 1 or 2 with a length
 * below 64 KiB, and a hello version 3.x: strong enough to recognise TLS after plaintext.
 */
export function handshakeStart(b: Buffer): boolean {
  return (
    b.length >= 11 &&
    b[0] === CT.handshake &&
    b[1] === 3 &&
    (b[2] as number) <= 4 &&
    (b[5] === HS.clientHello || b[5] === HS.serverHello) &&
    b[6] === 0 &&
    b[9] === 3 &&
    (b[10] as number) <= 4
  );
}

function isSslv2Hello(b: Buffer): boolean {
  return b.length >= 4 && ((b[0] as number) & 0x80) !== 0 && b[2] === 1 && (b[3] === 0 || b[3] === 3);
}

class Dir {
  st: St = ST.header;
  readonly hdr = Buffer.alloc(5);
  hdrLen = 0;
  type = 0;
  remaining = 0;
  /** Bytes of an incomplete handshake message (copied: they outlive the onData call). */
  pending: Buffer | null = null;
  handshakeBytes = 0;
  /** No byte of this direction was seen yet. */
  fresh = true;
}

export class TlsConnection {
  private readonly dirs: [Dir, Dir] = [new Dir(), new Dir()];
  private clientDir: Direction = 0;
  private ch: ClientHello | null = null;
  private sh: ServerHello | null = null;
  private helloRetry = false;
  private certs: TlsCertificate[] | null = null;
  private firstUs = -1;
  private chUs = -1;
  private readonly anomalies = new Set<TlsAnomaly>();
  private emitted = false;
  private dead = false;

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly opts: TlsOptions,
    private readonly emitFn: TlsEmitter,
    private readonly counters: Counters,
    private readonly budget: TlsBudget = createTlsBudget(opts.maxTotalHandshakeBytes),
  ) {
    counters.inc('tls_connections');
  }

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.dead) return;
    const d = this.dirs[dir];
    if (d.st === ST.done) {
      if (!d.fresh) this.counters.inc('tls_encrypted_bytes', chunk.length);
      return;
    }
    try {
      if (this.firstUs < 0) this.firstUs = tsUs;
      this.records(dir, d, chunk, tsUs);
      this.check();
    } catch {
      this.dead = true;
      this.flag('tls_internal_error');
    }
  }

  onGap(dir: Direction, length: number): void {
    const d = this.dirs[dir];
    if (this.dead || d.st === ST.done || !(length > 0)) return;
    this.flag('tls_gap');
    this.stop(d);
    this.check();
  }

  onEnd(): void {
    for (const d of this.dirs) this.hold(d, null);
    if (this.emitted) return;
    if (this.ch === null) this.flag('tls_no_client_hello');
    if (this.sh === null) this.flag('tls_no_server_hello');
    this.emit();
  }

  // --- records -------------------------------------------------------------------------------

  private records(dir: Direction, d: Dir, b: Buffer, tsUs: number): void {
    let off = 0;
    if (d.fresh) {
      d.fresh = false;
      if (isSslv2Hello(b)) {
        // Counted and ignored: no SNI, ALPN or extensions can be in it. A TLS server answers with
        // a TLS ServerHello, parsed on its own direction.
        this.counters.inc('tls_sslv2_client_hello');
        this.clientDir = dir;
        this.stop(d);
        return;
      }
    }
    const len = b.length;
    while (off < len) {
      if (d.st === ST.done) {
        this.counters.inc('tls_encrypted_bytes', len - off);
        return;
      }
      if (d.st === ST.header) {
        const take = Math.min(5 - d.hdrLen, len - off);
        b.copy(d.hdr, d.hdrLen, off, off + take);
        d.hdrLen += take;
        off += take;
        if (d.hdrLen < 5) return;
        d.hdrLen = 0;
        const type = d.hdr[0] as number;
        const rlen = d.hdr.readUInt16BE(3);
        if (
          type < CT.changeCipherSpec ||
          type > CT.heartbeat ||
          d.hdr[1] !== 3 ||
          (d.hdr[2] as number) > 4 ||
          rlen > MAX_RECORD
        ) {
          this.flag('tls_bad_record');
          this.stop(d);
          continue;
        }
        if (type === CT.applicationData) {
          this.counters.inc('tls_encrypted_bytes', 5);
          this.stop(d);
          continue;
        }
        d.type = type;
        d.remaining = rlen;
        d.st = ST.body;
        if (rlen === 0) this.recordEnd(d);
        continue;
      }
      const n = Math.min(d.remaining, len - off);
      if (d.type === CT.handshake) this.handshake(dir, d, b, off, n, tsUs);
      off += n;
      d.remaining -= n;
      if (d.remaining === 0 && d.st === ST.body) this.recordEnd(d);
    }
  }

  private recordEnd(d: Dir): void {
    d.st = ST.header;
    if (d.type !== CT.changeCipherSpec) return;
    // TLS 1.3 middlebox compatibility CCS (RFC 8446 §D.4): records stay readable until type 23.
    // The version is known from the ServerHello or HelloRetryRequest (both carry supported_versions).
    if (this.sh !== null && this.sh.version >= TLS13) return;
    this.stop(d);
  }

  private stop(d: Dir): void {
    d.st = ST.done;
    this.hold(d, null);
    d.hdrLen = 0;
  }

  /** Sets a direction's held bytes, accounted in the collector-wide budget. */
  private hold(d: Dir, b: Buffer | null): void {
    if (d.pending !== null) this.budget.held -= d.pending.length;
    d.pending = b;
    if (b !== null) this.budget.held += b.length;
  }

  // --- handshake messages --------------------------------------------------------------------

  /** `n` bytes of a handshake record's fragment at b[off]: cut complete messages, keep the rest. */
  private handshake(dir: Direction, d: Dir, b: Buffer, off: number, n: number, tsUs: number): void {
    d.handshakeBytes += n;
    if (d.handshakeBytes > this.opts.maxHandshakeBytes) {
      this.flag('tls_handshake_overflow');
      this.stop(d);
      return;
    }
    let buf = b;
    let start = off;
    let end = off + n;
    if (d.pending !== null) {
      buf = Buffer.concat([d.pending, b.subarray(off, off + n)]);
      start = 0;
      end = buf.length;
      this.hold(d, null);
    }
    while (end - start >= 4) {
      const type = buf[start] as number;
      const mlen = ((buf[start + 1] as number) << 16) | buf.readUInt16BE(start + 2);
      if (mlen > this.opts.maxHandshakeBytes) {
        this.flag('tls_handshake_overflow');
        this.stop(d);
        return;
      }
      if (end - start < 4 + mlen) break;
      this.message(dir, d, type, buf, start + 4, start + 4 + mlen, tsUs);
      start += 4 + mlen;
      if (d.st === ST.done) return;
    }
    if (start >= end) return;
    if (this.budget.held + (end - start) > this.budget.max) {
      this.flag('tls_budget_exceeded');
      this.stop(d);
      return;
    }
    this.hold(d, Buffer.from(buf.subarray(start, end))); // copy: outlives the call
  }

  private message(dir: Direction, d: Dir, type: number, b: Buffer, off: number, end: number, tsUs: number): void {
    switch (type) {
      case HS.clientHello: {
        const ch = parseClientHello(b, off, end);
        if (ch === null) {
          this.flag('tls_bad_handshake');
          return;
        }
        this.counters.inc('tls_client_hellos');
        // A second ClientHello (after a HelloRetryRequest) repeats the first one's offers.
        if (this.ch === null) {
          this.ch = ch;
          this.chUs = tsUs;
          this.clientDir = dir;
        }
        return;
      }
      case HS.serverHello: {
        const sh = parseServerHello(b, off, end);
        if (sh === null) {
          this.flag('tls_bad_handshake');
          return;
        }
        if (this.ch !== null && dir === this.clientDir) {
          this.flag('tls_bad_handshake'); // a ServerHello from the side that sent the ClientHello
          return;
        }
        this.counters.inc('tls_server_hellos');
        if (this.ch === null) this.clientDir = dir === 0 ? 1 : 0;
        this.sh = sh;
        if (sh.helloRetry) {
          this.helloRetry = true;
          this.counters.inc('tls_hello_retries');
          return;
        }
        if (sh.version >= TLS13) this.stop(d); // EncryptedExtensions onwards are encrypted
        return;
      }
      case HS.certificate: {
        // The server's chain only (a client Certificate follows a CertificateRequest, RFC 5246 §7.4.6).
        if (this.sh === null || this.sh.version >= TLS13 || this.certs !== null || dir === this.clientDir) return;
        const certs: TlsCertificate[] = [];
        const total = walkCertificates(b, off, end, this.opts.maxCertificates, (o, e) => {
          const c = summarizeCertificate(b.subarray(o, e));
          if (c === null) this.flag('tls_certificate_unparsed');
          else certs.push(c);
        });
        if (total < 0) {
          this.flag('tls_bad_handshake');
          return;
        }
        if (total > this.opts.maxCertificates) this.flag('tls_chain_capped');
        this.counters.inc('tls_certificates', certs.length);
        this.certs = certs;
        return;
      }
      case SERVER_HELLO_DONE:
        if (this.sh !== null && dir !== this.clientDir) this.stop(d);
        return;
      default:
    }
  }

  // --- emission ------------------------------------------------------------------------------

  private flag(a: TlsAnomaly): void {
    if (this.anomalies.has(a)) return;
    this.anomalies.add(a);
    this.counters.inc(a);
  }

  /** Emit as soon as the server's cleartext part is over and the ClientHello is known. */
  private check(): void {
    if (this.emitted || this.ch === null || this.sh === null) return;
    const server = this.dirs[this.clientDir === 0 ? 1 : 0];
    if (server.st === ST.done) this.emit();
  }

  private emit(): void {
    if (this.emitted) return;
    this.emitted = true;
    const m = this.meta;
    const swapped = this.clientDir === 1;
    const client = swapped ? m.server : m.client;
    const server = swapped ? m.client : m.server;
    const ch = this.ch;
    const sh = this.sh;
    const rec: TlsHandshake = {
      schema: TLS_SCHEMA,
      id: shortId(`tls:${m.flowId}`),
      flowId: m.flowId,
      vni: m.vni,
      client: { ip: client.ip, port: client.port },
      server: { ip: server.ip, port: server.port },
      timeUs: this.chUs >= 0 ? this.chUs : Math.max(0, this.firstUs),
      sni: ch?.sni ?? null,
      versionsOffered: ch?.versions ?? [],
      version: sh !== null && !sh.helloRetry ? sh.version : null,
      alpnOffered: ch?.alpn ?? [],
      alpn: sh !== null && !sh.helloRetry ? sh.alpn : null,
      ciphersOffered: ch?.ciphers ?? [],
      cipher: sh !== null && !sh.helloRetry ? sh.cipher : null,
      helloRetry: this.helloRetry,
      certificates: this.certs,
      anomalies: [...this.anomalies].sort(),
      complete: ch !== null && sh !== null && !sh.helloRetry,
    };
    this.counters.inc('tls_records_emitted');
    try {
      this.emitFn(rec);
    } catch {
      this.counters.inc('tls_emit_error');
    }
  }
}
