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
// This file owns the state (ConnState, state.ts) and implements HttpConnection; the work is in
// handoff.ts (protocol sniffing, HTTP/2 hand-off; sniff.ts recognises the bytes), direction.ts (the
// per-direction mode machine), message.ts (one message head → end), pairing.ts (FIFO pairing, loss
// heuristic, emission) and record.ts (the exchange/v1 record).
import type { Counters } from '../../engine/contracts/counters.js';
import type { BodyLimits } from './body.js';
import { afterCall, finishAll, gap, processBytes } from './direction.js';
import { sniff } from './handoff.js';
import { emitEntry } from './pairing.js';
import { SNIFF_CHUNKS } from './sniff.js';
import { die, MODE, newSide, stateBytes } from './state.js';
import type { ConnState, Entry, Side } from './state.js';
import type { ConnectionMeta, Direction, EndReason, ExchangeEmitter, HttpConnection, HttpOptions } from './types.js';
import { DEFAULT_HTTP_OPTIONS } from './types.js';

export { exchangeId } from './record.js';
export { CONNECTION_STATE_BYTES } from './state.js';

export function createHttpConnection(
  meta: ConnectionMeta,
  opts: HttpOptions,
  emit: ExchangeEmitter,
  counters: Counters,
): HttpConnection {
  return new Connection(meta, opts, emit, counters);
}

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
  readonly classified: [boolean, boolean] = [false, false];
  readonly notHttp: [boolean, boolean] = [false, false];
  countedOther = false;
  next: HttpConnection | null = null;
  connectTunnel = false;
  readonly prefaceHeld: [Buffer | null, Buffer | null] = [null, null];
  readonly sniffLeft: [number, number] = [SNIFF_CHUNKS, SNIFF_CHUNKS];
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
    this.sides = [newSide(0, start), newSide(1, start)];
  }

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.next !== null) {
      this.next.onData(dir, chunk, tsUs);
      return;
    }
    if (this.ended || this.dead || this.notHttp[dir]) return;
    const bytes = sniff(this, dir, chunk, tsUs);
    if (bytes === null) return;
    const side = this.sides[dir];
    try {
      side.lastTs = tsUs;
      processBytes(this, side, bytes, 0, tsUs);
      afterCall(this, side);
    } catch {
      die(this);
    }
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    if (this.next !== null) {
      this.next.onGap(dir, length, tsUs);
      return;
    }
    if (this.ended || this.dead || this.notHttp[dir] || !(length > 0)) return;
    const side = this.sides[dir];
    try {
      gap(this, side, length, tsUs);
      afterCall(this, side);
    } catch {
      die(this);
    }
  }

  onTruncated(dir: Direction): void {
    this.next?.onTruncated(dir);
    if (this.ended || this.dead) return;
    const side = this.sides[dir];
    side.truncCalls = 2;
    if (side.cur !== null) side.cur.truncated = true;
  }

  onEnd(tsUs: number, reason: EndReason, oneSided: boolean): void {
    if (this.ended) return;
    for (const dir of [0, 1] as const) {
      // Bytes that only began like the preface: HTTP/1.x after all (e.g. a lone "PRI").
      const held = this.prefaceHeld[dir];
      if (held === null || this.next !== null) continue;
      this.prefaceHeld[dir] = null;
      this.classified[dir] = true;
      this.onData(dir, held, this.sides[dir].lastTs);
    }
    this.oneSided = oneSided;
    try {
      if (!this.dead) finishAll(this, tsUs, reason);
    } catch {
      die(this);
    }
    this.ended = true;
    try {
      for (const e of this.queue) emitEntry(this, e, true);
    } catch {
      this.counters.inc('http_internal_error');
    }
    this.queue = [];
    if (this.next !== null) this.next.onEnd(tsUs, reason, oneSided);
  }

  /** Estimated bytes of this connection's state (see stateBytes in state.ts). */
  stateBytes(): number {
    return stateBytes(this);
  }
}
