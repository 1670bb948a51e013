// Puts the TLS layer beside the HTTP layer of one connection without changing the HTTP path.
//
// Every call goes to the HTTP connection first, unchanged (it recognises TLS itself and skips it,
// counted tcp_flows_tls). Per direction the tap watches for where TLS starts:
// - at the first byte: a TLS record header or an SSLv2 ClientHello (startsTls);
// - later, at the start of a delivered chunk within the first LATE_START_WINDOW bytes: a handshake
//   record carrying a ClientHello or ServerHello (handshakeStart) — TLS after a plaintext prefix, as
//   in an HTTP CONNECT tunnel (RFC 9110 §9.3.6) or STARTTLS (RFC 3207, 2595, 4217, ...). A TLS
//   client sends its hello only after the plaintext answer, so it begins a new segment.
// The TLS connection is created only then, so a plain-HTTP flow costs a few byte tests on the
// chunks of its first 64 KiB per direction. Bytes of a direction before its TLS start are not fed.
import type { TlsEmitter } from '../../engine/contracts/tls.js';
import type { Counters } from '../../engine/contracts/counters.js';
import type { ConnectionMeta, Direction, EndReason, HttpConnection } from '../http/types.js';
import type { TlsBudget, TlsOptions } from './connection.js';
import { createTlsBudget, handshakeStart, startsTls, TlsConnection } from './connection.js';

/** Bytes of a direction in which a late TLS start is looked for. */
export const LATE_START_WINDOW = 64 * 1024;

const WATCH = 0;
const TLS = 1;
const OFF = 2;

class TlsTap implements HttpConnection {
  private tls: TlsConnection | null = null;
  private readonly st: [number, number] = [WATCH, WATCH];
  private readonly seen: [number, number] = [0, 0];

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly http: HttpConnection,
    private readonly opts: TlsOptions,
    private readonly emit: TlsEmitter,
    private readonly counters: Counters,
    private readonly budget: TlsBudget,
  ) {}

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    this.http.onData(dir, chunk, tsUs);
    const st = this.st[dir];
    if (st === TLS) {
      (this.tls as TlsConnection).onData(dir, chunk, tsUs);
      return;
    }
    if (st === OFF || chunk.length === 0) return;
    const first = this.seen[dir] === 0;
    this.seen[dir] += chunk.length;
    if ((first && startsTls(chunk)) || handshakeStart(chunk)) {
      if (!first) this.counters.inc('tls_late_start');
      this.st[dir] = TLS;
      this.tls ??= new TlsConnection(this.meta, this.opts, this.emit, this.counters, this.budget);
      this.tls.onData(dir, chunk, tsUs);
    } else if (this.seen[dir] > LATE_START_WINDOW) {
      this.st[dir] = OFF;
    }
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    this.http.onGap(dir, length, tsUs);
    if (this.st[dir] === TLS) (this.tls as TlsConnection).onGap(dir, length);
    else this.seen[dir] += length;
  }

  onTruncated(dir: Direction): void {
    this.http.onTruncated(dir);
  }

  onEnd(tsUs: number, reason: EndReason, oneSided: boolean): void {
    this.http.onEnd(tsUs, reason, oneSided);
    if (this.tls !== null) this.tls.onEnd();
  }

  /** The HTTP layer's state (the flow table's byte bound); TLS held bytes have their own budget (TlsBudget). */
  stateBytes(): number {
    return this.http.stateBytes?.() ?? 0;
  }
}

/**
 * The HTTP connection `http`, with a TLS parser attached when the connection turns out to carry TLS.
 * `budget` is shared by all connections of one collector (createTlsBudget).
 */
export function withTls(
  meta: ConnectionMeta,
  http: HttpConnection,
  opts: TlsOptions,
  emit: TlsEmitter,
  counters: Counters,
  budget: TlsBudget = createTlsBudget(opts.maxTotalHandshakeBytes),
): HttpConnection {
  return new TlsTap(meta, http, opts, emit, counters, budget);
}
