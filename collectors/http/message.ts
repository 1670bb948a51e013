// Messages of one direction: a request or final response from its head to its end (body
// collection, body gaps, completeness, the body record). Pairing them is pairing.ts's job.
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import { BodyCollector, emptyBody, headerOf } from './body.js';
import type { ParsedHead } from './parser.js';
import { flag } from './state.js';
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
    anomalies: new Set(),
    gapBytes: 0,
    truncated: side.truncCalls > 0,
    upgrade: false,
    lostBefore: false,
  };
  for (const a of head.anomalies) flag(c, msg, a);
  return msg;
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
