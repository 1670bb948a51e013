// Puts the TLS layer beside the HTTP layer of one connection without changing the HTTP path.
//
// Every call goes to the HTTP connection first, unchanged (it recognises TLS itself and skips it,
// counted tcp_flows_tls). The TLS connection is created only when the first bytes of a direction
// look like TLS (startsTls), so a plain-HTTP flow costs one boolean test per call. A direction whose
// first bytes were seen before that and were not TLS is not parsed as TLS.
import type { TlsEmitter } from '../../engine/contracts/tls.js';
import type { Counters } from '../../engine/telemetry/counters.js';
import type { ConnectionMeta, Direction, EndReason, HttpConnection } from '../http/types.js';
import type { TlsOptions } from './connection.js';
import { startsTls, TlsConnection } from './connection.js';

class TlsTap implements HttpConnection {
  private tls: TlsConnection | null = null;
  private readonly checked: [boolean, boolean] = [false, false];

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly http: HttpConnection,
    private readonly opts: TlsOptions,
    private readonly emit: TlsEmitter,
    private readonly counters: Counters,
  ) {}

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    this.http.onData(dir, chunk, tsUs);
    if (!this.checked[dir] && chunk.length > 0) {
      this.checked[dir] = true;
      if (this.tls === null && startsTls(chunk)) {
        this.tls = new TlsConnection(this.meta, this.opts, this.emit, this.counters);
        const other: Direction = dir === 0 ? 1 : 0;
        if (this.checked[other]) this.tls.disable(other);
      } else if (this.tls !== null && !startsTls(chunk)) {
        this.tls.disable(dir);
        return;
      }
    }
    if (this.tls !== null) this.tls.onData(dir, chunk, tsUs);
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    this.http.onGap(dir, length, tsUs);
    // A gap before the first byte of a direction: its start is unknown, so it is not parsed as TLS.
    if (!this.checked[dir]) this.checked[dir] = true;
    if (this.tls !== null) this.tls.onGap(dir, length);
  }

  onTruncated(dir: Direction): void {
    this.http.onTruncated(dir);
  }

  onEnd(tsUs: number, reason: EndReason, oneSided: boolean): void {
    this.http.onEnd(tsUs, reason, oneSided);
    if (this.tls !== null) this.tls.onEnd();
  }
}

/** The HTTP connection `http`, with a TLS parser attached when the connection turns out to be TLS. */
export function withTls(
  meta: ConnectionMeta,
  http: HttpConnection,
  opts: TlsOptions,
  emit: TlsEmitter,
  counters: Counters,
): HttpConnection {
  return new TlsTap(meta, http, opts, emit, counters);
}
