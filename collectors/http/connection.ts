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
import { hash } from 'node:crypto';
import type { Body, Exchange, HeaderPair, HttpRequest } from '../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../engine/contracts/exchange.js';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import type { Counters } from '../../engine/contracts/counters.js';
import { createH2Connection } from '../h2/connection.js';
import { DEFAULT_MAX_FRAME, findFrameChain } from '../h2/frames.js';
import { BodyCollector, emptyBody, headerOf } from './body.js';
import type { BodyLimits } from './body.js';
import { FEED, GAP, MessageParser } from './parser.js';
import type { MessageKind, ParsedHead, ParserSink } from './parser.js';
import { CARRY_BYTES, findStartLine, START } from './resync.js';
import type { StartKind } from './resync.js';
import type { ConnectionMeta, Direction, EndReason, ExchangeEmitter, HttpConnection, HttpOptions } from './types.js';
import { DEFAULT_HTTP_OPTIONS } from './types.js';

const EMPTY: Buffer = Buffer.alloc(0);
const MODE = { parse: 0, resync: 1, hold: 2, tunnel: 3, ended: 4 } as const;
type Mode = (typeof MODE)[keyof typeof MODE];

/** One message (request or final response) being built. */
interface Msg {
  head: ParsedHead;
  /** Chunked trailer fields (RFC 9112 §7.1.2), wire order; set at the message end. */
  trailers: HeaderPair[];
  body: BodyCollector | null;
  record: Body | null;
  endUs: number;
  /** The message reached an end (complete or not). */
  done: boolean;
  /** Reached the end its framing announced, with no gap. */
  complete: boolean;
  /** Created by the first anomaly (most messages have none). */
  anomalies: Set<HttpCounter> | null;
  gapBytes: number;
  truncated: boolean;
  /** Request only: CONNECT, or Upgrade + Connection: upgrade (RFC 9110 §7.8). */
  upgrade: boolean;
  /** Request only: a gap just before this request certainly swallowed at least one whole request. */
  lostBefore: boolean;
}

interface Entry {
  seq: number;
  req: Msg | null;
  res: Msg | null;
  interim: number[];
  /** Created by the first anomaly. */
  anomalies: Set<HttpCounter> | null;
}

interface Side {
  dir: Direction;
  /** Created on the first bytes or gap this direction must parse (parserOf): a connection that is never answered has none for its responses. */
  parser: MessageParser | null;
  mode: Mode;
  /** Message whose head was delivered and whose end was not reached yet. */
  cur: Msg | null;
  /** The current response message is a 1xx interim one. */
  curInterim: boolean;
  carry: Buffer | null;
  held: { buf: Buffer; tsUs: number }[];
  heldBytes: number;
  heldBroken: boolean;
  /** onTruncated marks messages touched by the next onData and onGap calls of this direction. */
  truncCalls: number;
  lastTs: number;
  /** Resync: the carry holds bytes not scanned yet (a rescan after a parse error). */
  scanPending: boolean;
  atEof: boolean;
  /** The connection ended with a FIN (a close-delimited body is then complete). */
  eofClean: boolean;
  /**
   * Request side: a gap certainly swallowed a whole request (it began at a message boundary, or cut
   * a start line) and no request head was parsed since. Response side: a gap outside a known-length
   * body happened since the last final response head (a response may have been lost with it).
   */
  lost: boolean;
}

/** Deterministic exchange id: first 16 hex digits of sha256(flowId ':' seq). */
export function exchangeId(flowId: string, seq: number): string {
  // One-shot crypto.hash (Node >= 20.12): no Hash object per exchange; 5% of the collectors' time
  // on the lab capture with createHash().update().digest().
  // The first 8 bytes as hex: a fresh string, not a slice keeping the whole digest alive.
  return hash('sha256', `${flowId}:${seq}`, 'buffer').toString('hex', 0, 8);
}

export function createHttpConnection(
  meta: ConnectionMeta,
  opts: HttpOptions,
  emit: ExchangeEmitter,
  counters: Counters,
): HttpConnection {
  return new Connection(meta, opts, emit, counters);
}

class Connection implements HttpConnection {
  private readonly sides: [Side, Side];
  /** Direction carrying requests: 0 unless the orientation was found to be swapped. */
  private reqDir: Direction = 0;
  private swapped = false;
  /** Some head was parsed: the orientation is settled. */
  private established = false;
  private queue: Entry[] = [];
  private nextSeq = 0;
  private pendingInterim: number[] = [];
  private holdEntry: Entry | null = null;
  private releasePending = false;
  private oneSided = false;
  private ended = false;
  private dead = false;
  /** Per direction: its first bytes were classified (see otherProtocol). */
  private readonly classified: [boolean, boolean] = [false, false];
  /** Per direction: not HTTP at all (TLS, SSH): its bytes are not parsed or scanned. */
  private readonly notHttp: [boolean, boolean] = [false, false];
  private countedOther = false;
  /**
   * The HTTP/2 layer (collectors/h2) once the connection turned out to be h2c: prior-knowledge
   * preface, frames recognised, or a 101 to Upgrade: h2c. It then receives every later call.
   */
  private h2: HttpConnection | null = null;
  /** A CONNECT tunnel started and the client's first tunnel bytes were not seen yet. */
  private connectTunnel = false;
  /** Per direction: first bytes that are a strict prefix of the HTTP/2 preface, held until decided. */
  private readonly prefaceHeld: [Buffer | null, Buffer | null] = [null, null];
  /** Per direction: chunks still sniffed for HTTP/2 frames on a connection joined mid-stream. */
  private readonly sniffLeft: [number, number] = [SNIFF_CHUNKS, SNIFF_CHUNKS];
  private readonly bodyLimits: BodyLimits;
  private readonly maxPending: number;

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly opts: HttpOptions,
    private readonly emitFn: ExchangeEmitter,
    private readonly counters: Counters,
  ) {
    this.bodyLimits = {
      bodyCaptureBytes: opts.bodyCaptureBytes,
      maxDecodedBytes: opts.maxDecodedBytes,
      maxEncodedBytes: opts.maxEncodedBytes ?? DEFAULT_HTTP_OPTIONS.maxEncodedBytes ?? 1 << 20,
    };
    this.maxPending = Math.max(1, opts.maxPendingRequests);
    const start = meta.handshake ? MODE.parse : MODE.resync;
    this.sides = [this.newSide(0, start), this.newSide(1, start)];
  }

  // --- HttpConnection ------------------------------------------------------------------------

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.h2 !== null) {
      this.h2.onData(dir, chunk, tsUs);
      return;
    }
    if (this.ended || this.dead || this.notHttp[dir]) return;
    if (!this.classified[dir] && chunk.length > 0) {
      const held = this.prefaceHeld[dir];
      if (held !== null) {
        chunk = Buffer.concat([held, chunk]);
        this.prefaceHeld[dir] = null;
      }
      if (chunk.length < H2_PREFACE.length && H2_PREFACE.subarray(0, chunk.length).equals(chunk)) {
        // A strict prefix of the HTTP/2 preface: undecided until more bytes come.
        this.prefaceHeld[dir] = Buffer.from(chunk); // copy: outlives the call
        return;
      }
      this.classified[dir] = true;
      const other = otherProtocol(chunk);
      if (other === 'h2') {
        // The client connection preface (RFC 9113 §3.4): `dir` is the client.
        this.startH2(dir, 'preface', chunk, tsUs, dir);
        return;
      }
      if (other === null && isH2Frames(chunk, 0)) {
        // Frames from the first byte: the server's SETTINGS sent before the client preface was
        // seen, or a capture joined at a frame boundary.
        this.startH2(this.reqDir, this.meta.handshake ? 'preface' : 'midstream', chunk, tsUs, dir);
        return;
      }
      if (other !== null) {
        // Port-independent: HTTPS and SSH share ports with HTTP in real captures. Counted as a
        // statistic, not an HTTP anomaly, and the encrypted stream is not scanned for start lines.
        // Per direction: a TLS client talking to an HTTP server still gets its 400 parsed.
        this.notHttp[dir] = true;
        if (!this.countedOther) {
          this.countedOther = true;
          this.counters.inc('tcp_flows_not_http');
          this.counters.inc(`tcp_flows_${other}`);
        }
        return;
      }
    }
    if (this.sniffLeft[dir] > 0 && !this.established && !this.meta.handshake && chunk.length > 0) {
      this.sniffLeft[dir]--;
      const at = findFrameChain(chunk, 0, chunk.length, DEFAULT_MAX_FRAME, 3, false);
      if (at >= 0) {
        this.startH2(this.reqDir, 'midstream', chunk.subarray(at), tsUs, dir);
        return;
      }
    }
    const side = this.sides[dir];
    try {
      side.lastTs = tsUs;
      this.process(side, chunk, 0, tsUs);
      this.afterCall(side);
    } catch {
      this.die();
    }
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    if (this.h2 !== null) {
      this.h2.onGap(dir, length, tsUs);
      return;
    }
    if (this.ended || this.dead || this.notHttp[dir] || !(length > 0)) return;
    const side = this.sides[dir];
    try {
      this.gap(side, length, tsUs);
      this.afterCall(side);
    } catch {
      this.die();
    }
  }

  onTruncated(dir: Direction): void {
    this.h2?.onTruncated(dir);
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
      if (held === null || this.h2 !== null) continue;
      this.prefaceHeld[dir] = null;
      this.classified[dir] = true;
      this.onData(dir, held, this.sides[dir].lastTs);
    }
    this.oneSided = oneSided;
    try {
      if (!this.dead) this.finishAll(tsUs, reason);
    } catch {
      this.die();
    }
    this.ended = true;
    try {
      for (const e of this.queue) this.emitEntry(e, true);
    } catch {
      this.counters.inc('http_internal_error');
    }
    this.queue = [];
    if (this.h2 !== null) this.h2.onEnd(tsUs, reason, oneSided);
  }

  /**
   * Hands the connection to the HTTP/2 layer: `clientDir` carries the requests; `chunk` (of
   * direction `dir`) is its first data. HTTP/1.x parsing of both directions stops here.
   */
  private startH2(
    clientDir: Direction,
    start: 'preface' | 'midstream',
    chunk: Buffer,
    tsUs: number,
    dir: Direction,
  ): void {
    for (const s of this.sides) s.mode = MODE.ended;
    this.h2 = createH2Connection(this.meta, this.opts, this.emitFn, this.counters, {
      clientDir,
      seqBase: this.nextSeq,
      start,
      swapped: this.swapped,
      upgrade: null,
    });
    this.h2.onData(dir, chunk, tsUs);
  }

  /**
   * A 101 answered an Upgrade: h2c request (RFC 7540 §3.2): the request becomes stream 1 of the
   * HTTP/2 layer, which takes over both directions (the held client bytes first: the preface and
   * frames the client may send before the 101). The HTTP/1.x exchange is not emitted: stream 1 is.
   */
  private startH2Upgrade(entry: Entry, rq: Msg): void {
    const i = this.queue.indexOf(entry);
    if (i >= 0) this.queue.splice(i, 1);
    this.flush();
    const reqSide = this.sides[this.reqDir];
    const held = reqSide.held;
    reqSide.held = [];
    reqSide.heldBytes = 0;
    this.holdEntry = null;
    for (const s of this.sides) s.mode = MODE.tunnel;
    const h2 = createH2Connection(this.meta, this.opts, this.emitFn, this.counters, {
      clientDir: this.reqDir,
      seqBase: entry.seq,
      start: 'upgrade',
      swapped: this.swapped,
      upgrade: {
        request: requestOf(rq),
        anomalies: [...(entry.anomalies ?? []), ...(rq.anomalies ?? [])],
        gapBytes: rq.gapBytes,
        truncated: rq.truncated,
      },
    });
    this.h2 = h2;
    if (reqSide.heldBroken) h2.onGap(this.reqDir, 1, reqSide.lastTs);
    for (const h of held) h2.onData(this.reqDir, h.buf, h.tsUs);
  }

  // --- byte processing -----------------------------------------------------------------------

  private newSide(dir: Direction, mode: Mode): Side {
    const side: Side = {
      dir,
      parser: null,
      mode,
      cur: null,
      curInterim: false,
      carry: null,
      held: [],
      heldBytes: 0,
      heldBroken: false,
      truncCalls: 0,
      lastTs: 0,
      scanPending: false,
      atEof: false,
      eofClean: false,
      lost: false,
    };
    return side;
  }

  /** The side's parser, created on first use with the role the side has now (requests or responses). */
  private parserOf(side: Side): MessageParser {
    if (side.parser === null) side.parser = this.newParser(side, side.dir === this.reqDir ? 'request' : 'response');
    return side.parser;
  }

  private newParser(side: Side, kind: MessageKind): MessageParser {
    const limits = { maxHeaderBytes: this.opts.maxHeaderBytes, maxHeaderCount: this.opts.maxHeaderCount };
    const sink: ParserSink = kind === 'request' ? new RequestSink(this, side) : new ResponseSink(this, side);
    return new MessageParser(kind, sink, limits);
  }

  /**
   * Estimated bytes of this connection's state: fixed costs (CONNECTION_STATE_BYTES) plus the bytes
   * it holds (head bytes in its parsers, resync carry, held tunnel bytes, kept bodies of messages
   * waiting for their pair).
   */
  stateBytes(): number {
    let n = CONNECTION_STATE_BYTES.connection;
    for (const s of this.sides) {
      if (s.parser !== null) n += CONNECTION_STATE_BYTES.parser + s.parser.headBytesHeld;
      if (s.carry !== null) n += s.carry.length;
      n += s.heldBytes;
    }
    for (const e of this.queue) {
      n += CONNECTION_STATE_BYTES.entry;
      if (e.req !== null) n += msgBytes(e.req);
      if (e.res !== null) n += msgBytes(e.res);
    }
    return n;
  }

  /** @internal (RequestSink / ResponseSink): the sink threw while a message ended (it still ended). */
  countEndError(): void {
    this.counters.inc('http_message_end_error');
  }
  /** @internal (RequestSink / ResponseSink) */
  onRequestHeadOf(side: Side, h: ParsedHead): boolean {
    return this.onRequestHead(side, h);
  }
  /** @internal */
  onResponseHeadOf(side: Side, h: ParsedHead): boolean {
    return this.onResponseHead(side, h);
  }
  /** @internal */
  onBodyOf(side: Side, b: Buffer, o: number, n: number, ts: number): void {
    this.onBody(side, b, o, n, ts);
  }
  /** @internal */
  onBodyGapOf(side: Side, n: number): void {
    this.onBodyGap(side, n);
  }
  /** @internal */
  onRequestEndOf(side: Side, t: HeaderPair[], ts: number): boolean {
    return this.onRequestEnd(side, t, ts);
  }
  /** @internal */
  onResponseEndOf(side: Side, t: HeaderPair[], ts: number): boolean {
    return this.onResponseEnd(side, t, ts);
  }

  private afterCall(side: Side): void {
    if (side.truncCalls > 0) side.truncCalls--;
    if (this.releasePending) this.release();
    // Between messages a parser holds nothing (MessageParser.idle): release it, parserOf makes a new
    // one for the next message. Connections waiting for an answer, or idle keep-alive ones, then keep
    // no parser (see CONNECTION_STATE_BYTES).
    const p = side.parser;
    if (p !== null && side.mode === MODE.parse && side.cur === null && p.idle && p.partialHead === null) {
      side.parser = null;
    }
  }

  private process(side: Side, buf: Buffer, off: number, tsUs: number): void {
    // A rescan carried from a parse error is scanned even when this chunk has no bytes left.
    while (off < buf.length || (side.mode === MODE.resync && side.scanPending)) {
      switch (side.mode) {
        case MODE.tunnel:
          // After a 101 to Upgrade: h2c the rest of this chunk is HTTP/2 (the server's first frames).
          if (this.h2 !== null) {
            this.h2.onData(side.dir, buf.subarray(off), tsUs);
          } else if (this.connectTunnel && side.dir === this.reqDir) {
            this.connectTunnel = false;
            const rest = buf.subarray(off);
            if (otherProtocol(rest) === 'h2') this.startH2(this.reqDir, 'preface', rest, tsUs, side.dir);
            else this.counters.inc('http_tunnel_bytes', rest.length);
          } else {
            this.counters.inc('http_tunnel_bytes', buf.length - off);
          }
          return;
        case MODE.ended:
          return;
        case MODE.hold:
          this.holdBytes(side, buf, off, tsUs);
          return;
        case MODE.resync: {
          side.scanPending = false;
          let win = buf;
          let from = off;
          if (side.carry !== null) {
            win = Buffer.concat([side.carry, buf.subarray(off)]);
            from = 0;
            side.carry = null;
          }
          const expected: StartKind = side.dir === this.reqDir ? START.request : START.response;
          const found = findStartLine(win, from, win.length, (_pos, kind) => kind === expected || !this.established);
          if (found === null) {
            const keep = Math.min(win.length - from, CARRY_BYTES);
            this.skip(win.length - from - keep);
            if (keep > 0) side.carry = Buffer.from(win.subarray(win.length - keep));
            return;
          }
          this.skip(found.pos - from);
          if (found.kind !== expected) this.swap(side);
          side.mode = MODE.parse;
          buf = win;
          off = found.pos;
          break;
        }
        default: {
          const parser = this.parserOf(side);
          const st = parser.feed(buf, off, buf.length, tsUs);
          if (st === FEED.done) return;
          off = parser.offset;
          if (st === FEED.error) this.parseError(side);
        }
      }
    }
  }

  private skip(n: number): void {
    if (n > 0) this.counters.inc('http_resync_skipped_bytes', n);
  }

  private enterResync(side: Side, carry: Buffer | null): void {
    side.mode = MODE.resync;
    side.carry = carry;
    this.counters.inc('http_resync');
  }

  /** The parser failed: close what it was building with the anomaly, then resynchronise. */
  private parseError(side: Side): void {
    const p = this.parserOf(side);
    this.closeBroken(side, p.errorCode, 0, side.lastTs);
    let carry = p.rescan;
    if (carry !== null) {
      // Rescan the failed head from its second byte, unless (orientation not settled yet) it starts
      // with a start line of the other kind: then the roles were guessed wrong (RFC 9112 §2.1).
      const expected: StartKind = side.dir === this.reqDir ? START.request : START.response;
      const other =
        !this.established &&
        findStartLine(carry, 0, carry.length, (pos, kind) => pos === 0 && kind !== expected) !== null;
      if (!other) carry = carry.length > 1 ? carry.subarray(1) : null;
    }
    this.enterResync(side, carry);
    side.scanPending = carry !== null;
    p.rescan = null;
    p.partialHead = null;
  }

  /** Close the message in progress (or the partial head the parser had) as incomplete with `anomaly`. */
  private closeBroken(side: Side, anomaly: HttpCounter, gapBytes: number, tsUs: number): void {
    let msg = side.cur;
    if (msg === null && side.parser !== null && side.parser.partialHead !== null) {
      const h = side.parser.partialHead;
      side.parser.partialHead = null;
      if (side.dir === this.reqDir) this.onRequestHead(side, h);
      else this.onResponseHead(side, h);
      msg = side.cur;
    }
    if (msg === null) {
      if (side.curInterim) side.curInterim = false;
      this.counters.inc(anomaly);
      return;
    }
    this.flag(msg, anomaly);
    msg.gapBytes += gapBytes;
    if (msg.body !== null && gapBytes > 0) msg.body.gap = true;
    this.endMsg(side, msg, [], tsUs, false);
    this.flush();
  }

  private gap(side: Side, len: number, tsUs: number): void {
    switch (side.mode) {
      case MODE.tunnel:
      case MODE.ended:
        return;
      case MODE.hold:
        side.lost = true;
        this.skip(side.heldBytes);
        side.held = [];
        side.heldBytes = 0;
        side.heldBroken = true;
        return;
      case MODE.resync:
        if (side.carry !== null) this.skip(side.carry.length);
        side.carry = null;
        // Response side: a response may be in the gap. Request side: not certain (the resync may
        // have been skipping the rest of a request that is already recorded).
        if (side.dir !== this.reqDir) side.lost = true;
        return;
      default: {
        const p = this.parserOf(side);
        const idle = p.idle;
        const hadMsg = side.cur !== null || p.started;
        const r = p.gap(len, tsUs);
        if (r === GAP.skipped) return;
        // Pairing evidence (see onResponseHead): a gap at a message boundary, or one that cut a
        // start line, swallowed a whole message; one inside a recorded message may or may not have.
        if (side.dir !== this.reqDir) side.lost = true;
        else if (r === GAP.between || !hadMsg) side.lost = true;
        if (r === GAP.abort) {
          this.closeBroken(side, p.errorCode, len, side.lastTs);
          p.partialHead = null;
          this.enterResync(side, null);
          return;
        }
        if (side.mode !== MODE.parse) return; // the message end switched to hold/tunnel
        if (idle) this.counters.inc('http_gap_between_messages');
        this.enterResync(side, null);
      }
    }
  }

  private holdBytes(side: Side, buf: Buffer, off: number, tsUs: number): void {
    const n = buf.length - off;
    if (side.heldBroken) {
      this.skip(n);
      return;
    }
    if (side.heldBytes + n > this.opts.maxHeaderBytes) {
      if (this.holdEntry !== null) this.flagEntry(this.holdEntry, 'http_upgrade_held_overflow');
      else this.counters.inc('http_upgrade_held_overflow');
      this.skip(side.heldBytes + n);
      side.held = [];
      side.heldBytes = 0;
      side.heldBroken = true;
      return;
    }
    side.held.push({ buf: Buffer.from(buf.subarray(off)), tsUs }); // copy: outlives the call
    side.heldBytes += n;
  }

  /** The response to the held Upgrade/CONNECT request did not start a tunnel: parse what was held. */
  private release(): void {
    this.releasePending = false;
    const side = this.sides[this.reqDir];
    if (side.mode !== MODE.hold) return;
    const held = side.held;
    side.held = [];
    side.heldBytes = 0;
    this.holdEntry = null;
    if (side.heldBroken) {
      side.heldBroken = false;
      this.enterResync(side, null);
    } else {
      side.mode = MODE.parse;
    }
    for (const h of held) this.process(side, h.buf, 0, h.tsUs);
  }

  /** Status lines came from the presumed client (or request lines from the presumed server). */
  private swap(trigger: Side): void {
    this.swapped = !this.swapped;
    this.reqDir = this.reqDir === 0 ? 1 : 0;
    this.counters.inc('flow_orientation_swapped');
    for (const s of this.sides) {
      const pending = s === trigger || s.parser === null ? null : s.parser.takeHeadBytes();
      s.parser = null; // re-created with its new role on first use
      if (s !== trigger && s.mode === MODE.parse && pending !== null) {
        this.enterResync(s, pending);
        s.scanPending = true; // scanned at this side's next data, or dropped at the end
      }
    }
  }

  private finishAll(tsUs: number, reason: EndReason): void {
    if (this.releasePending || this.sides[this.reqDir].mode === MODE.hold) {
      this.releasePending = true;
      this.release();
    }
    for (const side of this.sides) {
      if (side.mode === MODE.resync && side.scanPending) this.process(side, EMPTY, 0, side.lastTs);
    }
    for (const side of this.sides) {
      if (side.mode === MODE.resync) {
        if (side.carry !== null) this.skip(side.carry.length);
        side.carry = null;
      } else if (side.mode === MODE.parse) {
        side.atEof = true;
        // RFC 9112 §6.3 rule 8: the close ends a body without length; without a FIN it may be cut.
        side.eofClean = reason === 'fin';
        // A side without a parser never parsed anything: nothing to finish.
        if (side.parser !== null && !side.parser.finishEof(tsUs)) {
          const partial = side.cur === null ? side.parser.pendingHead() : null;
          if (side.cur !== null || partial !== null) {
            side.parser.partialHead = partial;
            this.closeBroken(side, 'http_cut_short', 0, side.lastTs);
          }
        }
      }
      side.mode = MODE.ended;
    }
    this.flush();
  }

  private die(): void {
    this.dead = true;
    this.counters.inc('http_internal_error');
    for (const s of this.sides) s.mode = MODE.ended;
  }

  // --- message events (sinks) ----------------------------------------------------------------

  private newMsg(side: Side, head: ParsedHead, withBody: boolean): Msg {
    const msg: Msg = {
      head,
      trailers: [],
      body: withBody
        ? new BodyCollector(
            headerOf(head.headers, 'content-type'),
            headerOf(head.headers, 'content-encoding'),
            this.bodyLimits,
          )
        : null,
      record: null,
      endUs: head.startUs,
      done: false,
      complete: false,
      anomalies: null,
      gapBytes: 0,
      truncated: side.truncCalls > 0,
      upgrade: false,
      lostBefore: false,
    };
    for (const a of head.anomalies) this.flag(msg, a);
    return msg;
  }

  private onRequestHead(side: Side, head: ParsedHead): boolean {
    this.established = true;
    const msg = this.newMsg(side, head, true);
    msg.lostBefore = side.lost;
    side.lost = false;
    const conn = headerOf(head.headers, 'connection');
    msg.upgrade =
      head.method === 'CONNECT' ||
      (headerOf(head.headers, 'upgrade') !== null && conn !== null && /(^|,)\s*upgrade\s*(,|$)/i.test(conn));
    side.cur = msg;
    this.counters.inc('http_requests');
    this.queue.push({ seq: this.nextSeq++, req: msg, res: null, interim: [], anomalies: null });
    // Bound the requests waiting for a response: the oldest one leaves unpaired.
    let waiting = 0;
    for (const e of this.queue) if (e.res === null) waiting++;
    if (waiting > this.maxPending) {
      const i = this.queue.findIndex((e) => e.res === null);
      const old = this.queue[i] as Entry;
      this.queue.splice(i, 1);
      this.flagEntry(old, 'http_pipeline_overflow');
      this.emitEntry(old, true);
    }
    return false;
  }

  private onResponseHead(side: Side, head: ParsedHead): boolean {
    this.established = true;
    const target = this.queue.find((e) => e.res === null) ?? null;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      // Interim response (RFC 9110 §15.2): remember its code; the final response pairs.
      side.curInterim = true;
      side.cur = null;
      if (target !== null) target.interim.push(head.status);
      else this.pendingInterim.push(head.status);
      this.counters.inc('http_interim_responses');
      return true;
    }
    side.curInterim = false;
    const msg = this.newMsg(side, head, true);
    side.cur = msg;
    this.counters.inc('http_responses');
    let entry = this.answers(side, target, head) ? target : null;
    if (entry === null) {
      entry = { seq: this.nextSeq++, req: null, res: msg, interim: this.pendingInterim, anomalies: null };
      this.pendingInterim = [];
      const at = target === null ? -1 : this.queue.indexOf(target);
      if (at < 0) {
        this.queue.push(entry);
      } else {
        // Emitted before the request it did not answer: it takes that position (and seq).
        entry.seq = target?.seq ?? entry.seq;
        for (let i = at; i < this.queue.length; i++) (this.queue[i] as Entry).seq++;
        this.queue.splice(at, 0, entry);
      }
    } else {
      entry.res = msg;
    }
    const method = entry.req?.head.method ?? '';
    // RFC 9112 §6.3 rules 1-2: no content after HEAD, nor in a 2xx to CONNECT (a tunnel follows).
    return method === 'HEAD' || (method === 'CONNECT' && head.status >= 200 && head.status < 300);
  }

  /**
   * Does the final response `head` answer `target`, the oldest request without one (FIFO, RFC 9112
   * §9.3.2)? Not when FIFO is provably off because a request was lost in a gap of the client side:
   * - a response cannot start before its request's first byte was seen (packet time);
   * - a gap that certainly swallowed a request (see Side.lost) before `target`: when the server side
   *   lost nothing since the previous response, this response answers the lost request. When the
   *   server side had a gap too, its response was probably lost with it: FIFO is kept.
   * Consumes the response side's and (when no request waits) the request side's loss marks.
   */
  private answers(side: Side, target: Entry | null, head: ParsedHead): boolean {
    const serverLost = side.lost;
    side.lost = false;
    if (target === null) {
      this.sides[this.reqDir].lost = false; // this response is the lost request's
      return false;
    }
    const req = target.req;
    if (req === null) return true;
    const early = head.startUs < req.head.startUs;
    if (req.lostBefore) {
      req.lostBefore = false; // one lost request is accounted for by this unpaired response
      return !early && serverLost;
    }
    return !early;
  }

  private onBody(side: Side, buf: Buffer, off: number, len: number, _ts: number): void {
    const msg = side.cur;
    if (msg === null || msg.body === null) return;
    msg.body.add(buf, off, len);
    if (side.truncCalls > 0) msg.truncated = true;
  }

  private onBodyGap(side: Side, len: number): void {
    const msg = side.cur;
    if (msg === null) return;
    msg.body?.addGap(len);
    msg.gapBytes += len;
    this.flag(msg, 'http_body_gap');
  }

  private onRequestEnd(side: Side, trailers: HeaderPair[], tsUs: number): boolean {
    const msg = side.cur;
    if (msg === null) return true;
    this.endMsg(side, msg, trailers, tsUs, true);
    if (msg.upgrade) {
      // The client may send tunnel bytes before the response (RFC 9110 §9.3.6): hold them.
      this.holdEntry = this.queue.find((e) => e.req === msg) ?? null;
      side.mode = MODE.hold;
      this.flush();
      return false;
    }
    this.flush();
    return true;
  }

  private onResponseEnd(side: Side, trailers: HeaderPair[], tsUs: number): boolean {
    if (side.curInterim) {
      side.curInterim = false;
      return true;
    }
    const msg = side.cur;
    if (msg === null) return true;
    this.endMsg(side, msg, trailers, tsUs, true);
    const entry = this.queue.find((e) => e.res === msg) ?? null;
    const method = entry?.req?.head.method ?? '';
    const s = msg.head.status;
    if (s === 101 && entry !== null && entry.req !== null && isH2cUpgrade(entry.req.head.headers)) {
      this.startH2Upgrade(entry, entry.req);
      return false;
    }
    let tunnel: HttpCounter | '' = '';
    if (s === 101) tunnel = 'http_upgrade';
    else if (method === 'CONNECT' && s >= 200 && s < 300) tunnel = 'http_connect';
    if (tunnel !== '') {
      if (entry !== null) this.flagEntry(entry, tunnel);
      else this.counters.inc(tunnel);
      // A CONNECT tunnel may carry HTTP/2 with prior knowledge (the client's first tunnel bytes).
      this.connectTunnel = tunnel === 'http_connect';
      const reqSide = this.sides[this.reqDir];
      const held = this.connectTunnel && !reqSide.heldBroken ? reqSide.held : [];
      for (const s2 of this.sides) {
        if (s2 !== reqSide || held.length === 0) this.skip(s2.heldBytes);
        s2.held = [];
        s2.heldBytes = 0;
        s2.mode = MODE.tunnel;
      }
      this.holdEntry = null;
      this.flush();
      for (const h of held) this.process(reqSide, h.buf, 0, h.tsUs);
      return false;
    }
    if (entry !== null && entry === this.holdEntry) this.releasePending = true;
    this.flush();
    return true;
  }

  private endMsg(side: Side, msg: Msg, trailers: HeaderPair[], tsUs: number, reached: boolean): void {
    if (msg.done) return;
    // Trailer fields (RFC 9112 §7.1.2) are kept apart from the header fields (exchange/v1 `trailers`).
    msg.trailers = trailers;
    msg.done = true;
    msg.complete = reached && msg.gapBytes === 0 && !(msg.body?.gap ?? false) && (!side.atEof || side.eofClean);
    msg.endUs = side.atEof ? side.lastTs : tsUs;
    if (side.truncCalls > 0) msg.truncated = true;
    const flag = (a: HttpCounter): void => this.flag(msg, a);
    msg.record = msg.body !== null ? msg.body.finish(msg.complete, flag) : emptyBody(msg.head.headers, msg.complete);
    msg.body = null;
    if (side.cur === msg) side.cur = null;
  }

  // --- pairing and emission ------------------------------------------------------------------

  private flush(): void {
    while (this.queue.length > 0) {
      const e = this.queue[0] as Entry;
      if (e.res === null || !e.res.done || (e.req !== null && !e.req.done)) return;
      this.queue.shift();
      this.emitEntry(e, false);
    }
  }

  private flag(msg: Msg, anomaly: HttpCounter): void {
    if (msg.anomalies === null) msg.anomalies = new Set();
    else if (msg.anomalies.has(anomaly)) return;
    msg.anomalies.add(anomaly);
    this.counters.inc(anomaly);
  }

  private flagEntry(e: Entry, anomaly: HttpCounter): void {
    if (e.anomalies === null) e.anomalies = new Set();
    else if (e.anomalies.has(anomaly)) return;
    e.anomalies.add(anomaly);
    this.counters.inc(anomaly);
  }

  private emitEntry(e: Entry, final: boolean): void {
    if (e.req !== null && !e.req.done) this.forceEnd(e.req);
    if (e.res !== null && !e.res.done) this.forceEnd(e.res);
    if (e.res === null) this.flagEntry(e, 'http_request_without_response');
    if (e.req === null) this.flagEntry(e, 'http_response_without_request');
    if (e.req !== null && e.res !== null) this.counters.inc('http_exchanges_paired');
    this.counters.inc('http_exchanges');
    const ex = this.build(e);
    try {
      this.emitFn(ex);
    } catch {
      this.counters.inc('http_emit_error');
    }
    if (final) e.req = e.res = null;
  }

  /** A message still in progress when its exchange must leave (connection end, overflow). */
  private forceEnd(msg: Msg): void {
    this.flag(msg, 'http_cut_short');
    const side = this.sides.find((s) => s.cur === msg) ?? this.sides[0];
    this.endMsg(side, msg, [], side.lastTs, false);
  }

  private build(e: Entry): Exchange {
    const anomalies = new Set<string>(e.anomalies ?? undefined);
    let gapBytes = 0;
    let truncated = false;
    let request: Exchange['request'] = null;
    let response: Exchange['response'] = null;
    const rq = e.req;
    const rs = e.res;
    if (rq !== null) {
      if (rq.anomalies !== null) for (const a of rq.anomalies) anomalies.add(a);
      gapBytes += rq.gapBytes;
      truncated ||= rq.truncated;
      request = requestOf(rq);
    }
    if (rs !== null) {
      if (rs.anomalies !== null) for (const a of rs.anomalies) anomalies.add(a);
      gapBytes += rs.gapBytes;
      truncated ||= rs.truncated;
      response = {
        status: rs.head.status,
        reason: rs.head.reason,
        version: rs.head.version,
        headers: rs.head.headers,
        trailers: rs.trailers,
        body: rs.record ?? emptyBody(rs.head.headers, false),
        interim: e.interim,
        startUs: rs.head.startUs,
        endUs: rs.endUs,
      };
    }
    const m = this.meta;
    const client = this.swapped ? m.server : m.client;
    const server = this.swapped ? m.client : m.server;
    return {
      schema: EXCHANGE_SCHEMA,
      id: exchangeId(m.flowId, e.seq),
      flowId: m.flowId,
      seq: e.seq,
      vni: m.vni,
      tunnel: m.tunnel === null ? null : { kind: m.tunnel.kind, id: m.tunnel.id },
      client: { ip: client.ip, port: client.port },
      server: { ip: server.ip, port: server.port },
      request,
      response,
      latencyUs: request !== null && response !== null ? response.startUs - request.endUs : null,
      anomalies: [...anomalies].sort(),
      quality: { gapBytes, truncated, oneSided: this.oneSided, midstream: !m.handshake },
      complete: rq !== null && rs !== null && rq.complete && rs.complete,
    };
  }
}

function requestOf(rq: Msg): HttpRequest {
  return {
    method: rq.head.method,
    target: rq.head.target,
    version: rq.head.version,
    headers: rq.head.headers,
    trailers: rq.trailers,
    body: rq.record ?? emptyBody(rq.head.headers, false),
    startUs: rq.head.startUs,
    endUs: rq.endUs,
  };
}

/** HTTP/1.x chunks of a direction sniffed for HTTP/2 frames on a connection joined mid-stream. */
const SNIFF_CHUNKS = 4;

/** The request asks for h2c (RFC 7540 §3.2): an Upgrade token "h2c" (with Connection: upgrade, checked by the caller). */
function isH2cUpgrade(headers: readonly HeaderPair[]): boolean {
  const up = headerOf(headers, 'upgrade');
  if (up === null) return false;
  for (const t of up.split(',')) if (t.trim().toLowerCase() === 'h2c') return true;
  return false;
}

/**
 * HTTP/2 frames start at b[off]: two plausible frame headers in a chain, or one frame that ends
 * exactly at the end of the chunk (frames.ts). Text protocols never match: their first three bytes
 * read as a length far above the 16384-byte default frame size.
 */
function isH2Frames(b: Buffer, off: number): boolean {
  return findFrameChain(b, off, b.length, DEFAULT_MAX_FRAME, 2, true) === off;
}

/**
 * The protocol of a direction whose first bytes are plainly not HTTP/1.x, or null. Strong
 * signatures only, so that an odd HTTP message still goes to the parser (and its anomalies):
 * - a TLS record header (content type 20-23, version 3.0-3.4, length ≤ 2^14 + 2048; RFC 8446 §5.1);
 * - an SSH identification string "SSH-" (RFC 4253 §4.2);
 * - the HTTP/2 client connection preface "PRI * HTTP/2.0" (RFC 9113 §3.4), h2c and gRPC.
 */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function otherProtocol(b: Buffer): 'tls' | 'ssh' | 'h2' | null {
  const b0 = b[0] as number;
  if (b.length >= 5 && b0 >= 0x14 && b0 <= 0x17 && b[1] === 0x03 && (b[2] as number) <= 0x04) {
    if (b.readUInt16BE(3) <= 16384 + 2048) return 'tls';
  }
  if (b.length >= 4 && b0 === 0x53 && b[1] === 0x53 && b[2] === 0x48 && b[3] === 0x2d) return 'ssh';
  if (b.length >= 16 && b0 === 0x50 && b.subarray(0, 16).equals(H2_PREFACE.subarray(0, 16))) return 'h2';
  return null;
}

/**
 * Fixed per-connection costs of the state estimate (stateBytes), measured with heap snapshots of
 * 5,000 half-open connections (Node 20): the connection with its two sides, one direction's parser,
 * one pending exchange with its message head.
 */
export const CONNECTION_STATE_BYTES = { connection: 1200, parser: 700, entry: 900 } as const;

function msgBytes(m: Msg): number {
  return (m.body?.keptBytes ?? 0) + (m.record?.data.length ?? 0);
}

/** A request side's parser events, routed to its connection (an object, not four closures per parser). */
class RequestSink implements ParserSink {
  constructor(
    private readonly c: Connection,
    private readonly side: Side,
  ) {}
  onHead(h: ParsedHead): boolean {
    return this.c.onRequestHeadOf(this.side, h);
  }
  onBody(b: Buffer, o: number, n: number, ts: number): void {
    this.c.onBodyOf(this.side, b, o, n, ts);
  }
  onBodyGap(n: number): void {
    this.c.onBodyGapOf(this.side, n);
  }
  onMessageEnd(t: HeaderPair[], ts: number): boolean {
    return this.c.onRequestEndOf(this.side, t, ts);
  }
  onEndError(): void {
    this.c.countEndError();
  }
}

class ResponseSink implements ParserSink {
  constructor(
    private readonly c: Connection,
    private readonly side: Side,
  ) {}
  onHead(h: ParsedHead): boolean {
    return this.c.onResponseHeadOf(this.side, h);
  }
  onBody(b: Buffer, o: number, n: number, ts: number): void {
    this.c.onBodyOf(this.side, b, o, n, ts);
  }
  onBodyGap(n: number): void {
    this.c.onBodyGapOf(this.side, n);
  }
  onMessageEnd(t: HeaderPair[], ts: number): boolean {
    return this.c.onResponseEndOf(this.side, t, ts);
  }
  onEndError(): void {
    this.c.countEndError();
  }
}
