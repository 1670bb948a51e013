// Pairing and emission. Pairing is FIFO (RFC 9112 §9.3.2): a final response pairs with the oldest
// request that has none, unless a gap provably swallowed a request (the loss heuristic, answers()).
// Exchanges leave in request order, once both messages are finished; unpaired messages leave
// flagged at onEnd, or when more than maxPendingRequests requests wait (pipeline overflow).
import { endMsg } from './message.js';
import type { ParsedHead } from './parser.js';
import { buildExchange } from './record.js';
import { flag, flagEntry } from './state.js';
import type { ConnState, Entry, Msg, Side } from './state.js';

/** Queues a new request's exchange; bounds the requests waiting for a response (the oldest one leaves unpaired). */
export function enqueueRequest(c: ConnState, msg: Msg): void {
  c.queue.push({ seq: c.nextSeq++, req: msg, res: null, interim: [], anomalies: null, protocol: null });
  let waiting = 0;
  for (const e of c.queue) if (e.res === null) waiting++;
  if (waiting > c.maxPending) {
    const i = c.queue.findIndex((e) => e.res === null);
    const old = c.queue[i] as Entry;
    c.queue.splice(i, 1);
    flagEntry(c, old, 'http_pipeline_overflow');
    emitEntry(c, old, true);
  }
}

/**
 * The exchange of the final response `msg` (head `head`, side `side`): `target`'s when it answers
 * it, else a new response-only exchange emitted before the request it did not answer.
 */
export function pairResponse(c: ConnState, side: Side, target: Entry | null, head: ParsedHead, msg: Msg): Entry {
  let entry = answers(c, side, target, head) ? target : null;
  if (entry === null) {
    entry = { seq: c.nextSeq++, req: null, res: msg, interim: c.pendingInterim, anomalies: null, protocol: null };
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
  return entry;
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

/** Emits the finished exchanges at the head of the queue (request order). */
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
function forceEnd(c: ConnState, msg: Msg): void {
  flag(c, msg, 'http_cut_short');
  const side = c.sides.find((s) => s.cur === msg) ?? c.sides[0];
  endMsg(c, side, msg, [], side.lastTs, false);
}
