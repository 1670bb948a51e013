// Pairing (RFC 9112 §9.3.2): requests and final responses meet in a FIFO queue of entries; the
// loss heuristics (answers) break FIFO only where a gap provably swallowed a request. Entries leave
// in request order once both messages are finished (flush), or unpaired (emitEntry with final).
// The message-end events also decide hold/tunnel after Upgrade and CONNECT (RFC 9110 §7.8, §9.3.6).
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import { headerOf } from './body.js';
import { endMsg, newMsg } from './message.js';
import type { ParsedHead } from './parser.js';
import { buildExchange } from './record.js';
import { MODE, flag, flagEntry, skip } from './state.js';
import type { ConnState, Entry, Msg, Side } from './state.js';

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
  c.queue.push({ seq: c.nextSeq++, req: msg, res: null, interim: [], anomalies: new Set() });
  // Bound the requests waiting for a response: the oldest one leaves unpaired.
  let waiting = 0;
  for (const e of c.queue) if (e.res === null) waiting++;
  if (waiting > c.maxPending) {
    const i = c.queue.findIndex((e) => e.res === null);
    const old = c.queue[i] as Entry;
    c.queue.splice(i, 1);
    flagEntry(c, old, 'http_pipeline_overflow');
    emitEntry(c, old, true);
  }
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
  let entry = answers(c, side, target, head) ? target : null;
  if (entry === null) {
    entry = { seq: c.nextSeq++, req: null, res: msg, interim: c.pendingInterim, anomalies: new Set() };
    c.pendingInterim = [];
    const at = target === null ? -1 : c.queue.indexOf(target);
    if (at < 0) {
      c.queue.push(entry);
    } else {
      // Emitted before the request it did not answer: it takes that position (and seq).
      entry.seq = target?.seq ?? entry.seq;
      for (let i = at; i < c.queue.length; i++) (c.queue[i] as Entry).seq++;
      c.queue.splice(at, 0, entry);
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
export function answers(c: ConnState, side: Side, target: Entry | null, head: ParsedHead): boolean {
  const serverLost = side.lost;
  side.lost = false;
  if (target === null) {
    c.sides[c.reqDir].lost = false; // this response is the lost request's
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
  let tunnel: HttpCounter | '' = '';
  if (s === 101) tunnel = 'http_upgrade';
  else if (method === 'CONNECT' && s >= 200 && s < 300) tunnel = 'http_connect';
  if (tunnel !== '') {
    if (entry !== null) flagEntry(c, entry, tunnel);
    else c.counters.inc(tunnel);
    for (const s2 of c.sides) {
      skip(c, s2.heldBytes);
      s2.held = [];
      s2.heldBytes = 0;
      s2.mode = MODE.tunnel;
    }
    c.holdEntry = null;
    flush(c);
    return false;
  }
  if (entry !== null && entry === c.holdEntry) c.releasePending = true;
  flush(c);
  return true;
}

export function flush(c: ConnState): void {
  while (c.queue.length > 0) {
    const e = c.queue[0] as Entry;
    if (e.res === null || !e.res.done || (e.req !== null && !e.req.done)) return;
    c.queue.shift();
    emitEntry(c, e, false);
  }
}

export function emitEntry(c: ConnState, e: Entry, final: boolean): void {
  if (e.req !== null && !e.req.done) forceEnd(c, e.req);
  if (e.res !== null && !e.res.done) forceEnd(c, e.res);
  if (e.res === null) flagEntry(c, e, 'http_request_without_response');
  if (e.req === null) flagEntry(c, e, 'http_response_without_request');
  if (e.req !== null && e.res !== null) c.counters.inc('http_exchanges_paired');
  c.counters.inc('http_exchanges');
  const ex = buildExchange(c, e);
  try {
    c.emitFn(ex);
  } catch {
    c.counters.inc('http_emit_error');
  }
  if (final) e.req = e.res = null;
}

/** A message still in progress when its exchange must leave (connection end, overflow). */
export function forceEnd(c: ConnState, msg: Msg): void {
  flag(c, msg, 'http_cut_short');
  const side = c.sides.find((s) => s.cur === msg) ?? c.sides[0];
  endMsg(c, side, msg, [], side.lastTs, false);
}
