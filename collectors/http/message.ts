// One message from head to end: the parser's events (through RequestSink / ResponseSink) build a
// Msg (head, body, trailers, anomalies), queue it for pairing, and at the end decide what follows
// (hold after an Upgrade/CONNECT request, a tunnel or the HTTP/2 hand-off after its response).
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import { BodyCollector, emptyBody, headerOf } from './body.js';
import { processBytes } from './direction.js';
import { isWebSocketUpgrade } from '../websocket/handshake.js';
import { startH2Upgrade, startWsUpgrade } from './handoff.js';
import { enqueueRequest, flush, pairResponse } from './pairing.js';
import type { ParsedHead, ParserSink } from './parser.js';
import { isH2cUpgrade } from './sniff.js';
import { MODE, flag, flagEntry, skip } from './state.js';
import type { ConnState, Msg, Side } from './state.js';

export function newMsg(c: ConnState, side: Side, head: ParsedHead, withBody: boolean): Msg {
  const msg: Msg = {
    head,
    trailers: [],
    body: withBody
      ? new BodyCollector(
          headerOf(head.headers, 'content-type'),
          headerOf(head.headers, 'content-encoding'),
          c.bodyLimits,
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
  for (const a of head.anomalies) flag(c, msg, a);
  return msg;
}

export function onRequestHead(c: ConnState, side: Side, head: ParsedHead): boolean {
  c.established = true;
  const msg = newMsg(c, side, head, true);
  msg.lostBefore = side.lost;
  side.lost = false;
  const conn = headerOf(head.headers, 'connection');
  msg.upgrade =
    head.method === 'CONNECT' ||
    (headerOf(head.headers, 'upgrade') !== null && conn !== null && /(^|,)\s*upgrade\s*(,|$)/i.test(conn));
  side.cur = msg;
  c.counters.inc('http_requests');
  enqueueRequest(c, msg);
  return false;
}

export function onResponseHead(c: ConnState, side: Side, head: ParsedHead): boolean {
  c.established = true;
  const target = c.queue.find((e) => e.res === null) ?? null;
  if (head.status >= 100 && head.status < 200 && head.status !== 101) {
    // Interim response (RFC 9110 §15.2): remember its code; the final response pairs.
    side.curInterim = true;
    side.cur = null;
    if (target !== null) target.interim.push(head.status);
    else c.pendingInterim.push(head.status);
    c.counters.inc('http_interim_responses');
    return true;
  }
  side.curInterim = false;
  const msg = newMsg(c, side, head, true);
  side.cur = msg;
  c.counters.inc('http_responses');
  const entry = pairResponse(c, side, target, head, msg);
  const method = entry.req?.head.method ?? '';
  // RFC 9112 §6.3 rules 1-2: no content after HEAD, nor in a 2xx to CONNECT (a tunnel follows).
  return method === 'HEAD' || (method === 'CONNECT' && head.status >= 200 && head.status < 300);
}

export function onBody(side: Side, buf: Buffer, off: number, len: number, _ts: number): void {
  const msg = side.cur;
  if (msg === null || msg.body === null) return;
  msg.body.add(buf, off, len);
  if (side.truncCalls > 0) msg.truncated = true;
}

export function onBodyGap(c: ConnState, side: Side, len: number): void {
  const msg = side.cur;
  if (msg === null) return;
  msg.body?.addGap(len);
  msg.gapBytes += len;
  flag(c, msg, 'http_body_gap');
}

export function onRequestEnd(c: ConnState, side: Side, trailers: HeaderPair[], tsUs: number): boolean {
  const msg = side.cur;
  if (msg === null) return true;
  endMsg(c, side, msg, trailers, tsUs, true);
  if (msg.upgrade) {
    // The client may send tunnel bytes before the response (RFC 9110 §9.3.6): hold them.
    c.holdEntry = c.queue.find((e) => e.req === msg) ?? null;
    side.mode = MODE.hold;
    flush(c);
    return false;
  }
  flush(c);
  return true;
}

export function onResponseEnd(c: ConnState, side: Side, trailers: HeaderPair[], tsUs: number): boolean {
  if (side.curInterim) {
    side.curInterim = false;
    return true;
  }
  const msg = side.cur;
  if (msg === null) return true;
  endMsg(c, side, msg, trailers, tsUs, true);
  const entry = c.queue.find((e) => e.res === msg) ?? null;
  const method = entry?.req?.head.method ?? '';
  const s = msg.head.status;
  if (s === 101 && entry !== null && entry.req !== null && isH2cUpgrade(entry.req.head.headers)) {
    startH2Upgrade(c, entry, entry.req);
    return false;
  }
  if (
    s === 101 &&
    entry !== null &&
    entry.req !== null &&
    isWebSocketUpgrade(entry.req.head.headers, msg.head.headers)
  ) {
    startWsUpgrade(c, entry, entry.req, msg);
    return false;
  }
  let tunnel: HttpCounter | '' = '';
  if (s === 101) tunnel = 'http_upgrade';
  else if (method === 'CONNECT' && s >= 200 && s < 300) tunnel = 'http_connect';
  if (tunnel !== '') {
    if (entry !== null) flagEntry(c, entry, tunnel);
    else c.counters.inc(tunnel);
    // A CONNECT tunnel may carry HTTP/2 with prior knowledge (the client's first tunnel bytes).
    c.connectTunnel = tunnel === 'http_connect';
    const reqSide = c.sides[c.reqDir];
    const held = c.connectTunnel && !reqSide.heldBroken ? reqSide.held : [];
    for (const s2 of c.sides) {
      if (s2 !== reqSide || held.length === 0) skip(c, s2.heldBytes);
      s2.held = [];
      s2.heldBytes = 0;
      s2.mode = MODE.tunnel;
    }
    c.holdEntry = null;
    flush(c);
    for (const h of held) processBytes(c, reqSide, h.buf, 0, h.tsUs);
    return false;
  }
  if (entry !== null && entry === c.holdEntry) c.releasePending = true;
  flush(c);
  return true;
}

export function endMsg(
  c: ConnState,
  side: Side,
  msg: Msg,
  trailers: HeaderPair[],
  tsUs: number,
  reached: boolean,
): void {
  if (msg.done) return;
  // Trailer fields (RFC 9112 §7.1.2) are kept apart from the header fields (exchange/v1 `trailers`).
  msg.trailers = trailers;
  msg.done = true;
  msg.complete = reached && msg.gapBytes === 0 && !(msg.body?.gap ?? false) && (!side.atEof || side.eofClean);
  msg.endUs = side.atEof ? side.lastTs : tsUs;
  if (side.truncCalls > 0) msg.truncated = true;
  const flagMsg = (a: HttpCounter): void => flag(c, msg, a);
  msg.record = msg.body !== null ? msg.body.finish(msg.complete, flagMsg) : emptyBody(msg.head.headers, msg.complete);
  msg.body = null;
  if (side.cur === msg) side.cur = null;
}

/** A request side's parser events, routed to its connection (an object, not four closures per parser). */
export class RequestSink implements ParserSink {
  constructor(
    private readonly c: ConnState,
    private readonly side: Side,
  ) {}
  onHead(h: ParsedHead): boolean {
    return onRequestHead(this.c, this.side, h);
  }
  onBody(b: Buffer, o: number, n: number, ts: number): void {
    onBody(this.side, b, o, n, ts);
  }
  onBodyGap(n: number): void {
    onBodyGap(this.c, this.side, n);
  }
  onMessageEnd(t: HeaderPair[], ts: number): boolean {
    return onRequestEnd(this.c, this.side, t, ts);
  }
  onEndError(): void {
    this.c.counters.inc('http_message_end_error');
  }
}

export class ResponseSink implements ParserSink {
  constructor(
    private readonly c: ConnState,
    private readonly side: Side,
  ) {}
  onHead(h: ParsedHead): boolean {
    return onResponseHead(this.c, this.side, h);
  }
  onBody(b: Buffer, o: number, n: number, ts: number): void {
    onBody(this.side, b, o, n, ts);
  }
  onBodyGap(n: number): void {
    onBodyGap(this.c, this.side, n);
  }
  onMessageEnd(t: HeaderPair[], ts: number): boolean {
    return onResponseEnd(this.c, this.side, t, ts);
  }
  onEndError(): void {
    this.c.counters.inc('http_message_end_error');
  }
}
