// The HTTP/1.x layer of one TCP connection: two reassembled byte streams (+ gaps) → Exchange records.
//
// Call order (from reassembly): any interleaving of onData/onGap/onTruncated for either direction,
// then onEnd exactly once; calls after onEnd are ignored. Chunks are only read during onData.
// Nothing throws out of this module: an unexpected exception is counted (http_internal_error) and
// abandons the connection's parsing; pending exchanges are still emitted at onEnd.
//
// Pairing is FIFO (RFC 9112 §9.3.2): a final response pairs with the oldest request that has none.
// Exchanges leave in request order, once both messages are finished; unpaired messages leave
// flagged at onEnd, or when more than maxPendingRequests requests wait (pipeline overflow).
// Each direction is in one mode: parse (bytes go to its MessageParser), resync (looking for the next
// start line after a gap, an error or a mid-stream join), hold (client bytes after an Upgrade or
// CONNECT request, kept until the response says whether a tunnel starts), tunnel (ignored).
//
// Files: sniff.ts (first bytes that are not HTTP/1.x), direction.ts (the per-direction mode machine),
// message.ts (one message from head to end), pairing.ts (FIFO pairing, loss heuristics, emission),
// record.ts (the exchange/v1 record and its id), state.ts (the state they share, owned here).
import type { Counters } from '../../engine/contracts/counters.js';
import type { BodyLimits } from './body.js';
import { afterCall, finishAll, gap, newSide, processBytes } from './direction.js';
import { emitEntry } from './pairing.js';
import { otherProtocol } from './sniff.js';
import { MODE } from './state.js';
import type { ConnState, Entry, Side } from './state.js';
import type { ConnectionMeta, Direction, EndReason, ExchangeEmitter, HttpConnection, HttpOptions } from './types.js';
import { DEFAULT_HTTP_OPTIONS } from './types.js';

export { exchangeId } from './record.js';

export function createHttpConnection(
  meta: ConnectionMeta,
  opts: HttpOptions,
  emit: ExchangeEmitter,
  counters: Counters,
): HttpConnection {
  return new Connection(meta, opts, emit, counters);
}

/** One connection: its state (ConnState, read and written by direction.ts, message.ts, pairing.ts)
 * and the entry points reassembly calls. */
class Connection implements HttpConnection, ConnState {
  readonly sides: [Side, Side];
  reqDir: Direction = 0;
  swapped = false;
  established = false;
  queue: Entry[] = [];
  nextSeq = 0;
  pendingInterim: number[] = [];
  holdEntry: Entry | null = null;
  releasePending = false;
  oneSided = false;
  ended = false;
  dead = false;
  /** Per direction: its first bytes were classified (see otherProtocol). */
  private readonly classified: [boolean, boolean] = [false, false];
  /** Per direction: not HTTP at all (TLS, SSH): its bytes are not parsed or scanned. */
  private readonly notHttp: [boolean, boolean] = [false, false];
  private countedOther = false;
  readonly bodyLimits: BodyLimits;
  readonly maxPending: number;

  constructor(
    readonly meta: ConnectionMeta,
    readonly opts: HttpOptions,
    readonly emitFn: ExchangeEmitter,
    readonly counters: Counters,
  ) {
    this.bodyLimits = {
      bodyCaptureBytes: opts.bodyCaptureBytes,
      maxDecodedBytes: opts.maxDecodedBytes,
      maxEncodedBytes: opts.maxEncodedBytes ?? DEFAULT_HTTP_OPTIONS.maxEncodedBytes ?? 1 << 20,
    };
    this.maxPending = Math.max(1, opts.maxPendingRequests);
    const start = meta.handshake ? MODE.parse : MODE.resync;
    this.sides = [newSide(this, 0, 'request', start), newSide(this, 1, 'response', start)];
  }

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.ended || this.dead || this.notHttp[dir]) return;
    if (!this.classified[dir] && chunk.length > 0) {
      this.classified[dir] = true;
      const other = otherProtocol(chunk);
      if (other !== null) {
        // Port-independent: HTTPS and SSH share ports with HTTP in real captures. Counted as a
        // statistic, not an HTTP anomaly, and the encrypted stream is not scanned for start lines.
        // Per direction: a TLS client talking to an HTTP server still gets its 400 parsed.
        this.notHttp[dir] = true;
        // HTTP/2 (h2c with prior knowledge, gRPC): the server answers with binary frames, not
        // HTTP/1.x, so the whole connection is skipped.
        if (other === 'h2') this.notHttp[dir === 0 ? 1 : 0] = true;
        if (!this.countedOther) {
          this.countedOther = true;
          this.counters.inc('tcp_flows_not_http');
          this.counters.inc(`tcp_flows_${other}`);
        }
        return;
      }
    }
    const side = this.sides[dir];
    try {
      side.lastTs = tsUs;
      processBytes(this, side, chunk, 0, tsUs);
      afterCall(this, side);
    } catch {
      this.die();
    }
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    if (this.ended || this.dead || this.notHttp[dir] || !(length > 0)) return;
    const side = this.sides[dir];
    try {
      gap(this, side, length, tsUs);
      afterCall(this, side);
    } catch {
      this.die();
    }
  }

  onTruncated(dir: Direction): void {
    if (this.ended || this.dead) return;
    const side = this.sides[dir];
    side.truncCalls = 2;
    if (side.cur !== null) side.cur.truncated = true;
  }

  onEnd(tsUs: number, reason: EndReason, oneSided: boolean): void {
    if (this.ended) return;
    this.oneSided = oneSided;
    try {
      if (!this.dead) finishAll(this, tsUs, reason);
    } catch {
      this.die();
    }
    this.ended = true;
    try {
      for (const e of this.queue) emitEntry(this, e, true);
    } catch {
      this.counters.inc('http_internal_error');
    }
    this.queue = [];
  }

  private die(): void {
    this.dead = true;
    this.counters.inc('http_internal_error');
    for (const s of this.sides) s.mode = MODE.ended;
  }
}
