// The per-direction mode machine: parse (bytes go to the side's MessageParser), resync (looking
// for the next start line after a gap, an error or a mid-stream join), hold (client bytes after an
// Upgrade or CONNECT request, kept until the response says whether a tunnel starts), tunnel
// (ignored, or HTTP/2 after the hand-off), ended. Also gaps per mode, the release of held bytes,
// orientation swaps and the end of the connection.
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import { startH2 } from './handoff.js';
import { endMsg, onRequestHead, onResponseHead, RequestSink, ResponseSink } from './message.js';
import { flush } from './pairing.js';
import { FEED, GAP, MessageParser } from './parser.js';
import type { MessageKind, ParserSink } from './parser.js';
import { CARRY_BYTES, findStartLine, START } from './resync.js';
import type { StartKind } from './resync.js';
import { otherProtocol } from './sniff.js';
import { MODE, flag, flagEntry, skip } from './state.js';
import type { ConnState, Side } from './state.js';
import type { EndReason } from './types.js';

const EMPTY: Buffer = Buffer.alloc(0);

/** The side's parser, created on first use with the role the side has now (requests or responses). */
export function parserOf(c: ConnState, side: Side): MessageParser {
  if (side.parser === null) side.parser = newParser(c, side, side.dir === c.reqDir ? 'request' : 'response');
  return side.parser;
}

function newParser(c: ConnState, side: Side, kind: MessageKind): MessageParser {
  const limits = { maxHeaderBytes: c.opts.maxHeaderBytes, maxHeaderCount: c.opts.maxHeaderCount };
  const sink: ParserSink = kind === 'request' ? new RequestSink(c, side) : new ResponseSink(c, side);
  return new MessageParser(kind, sink, limits);
}

export function afterCall(c: ConnState, side: Side): void {
  if (side.truncCalls > 0) side.truncCalls--;
  if (c.releasePending) release(c);
  // Between messages a parser holds nothing (MessageParser.idle): release it, parserOf makes a new
  // one for the next message. Connections waiting for an answer, or idle keep-alive ones, then keep
  // no parser (see CONNECTION_STATE_BYTES).
  const p = side.parser;
  if (p !== null && side.mode === MODE.parse && side.cur === null && p.idle && p.partialHead === null) {
    side.parser = null;
  }
}

export function processBytes(c: ConnState, side: Side, buf: Buffer, off: number, tsUs: number): void {
  // A rescan carried from a parse error is scanned even when this chunk has no bytes left.
  while (off < buf.length || (side.mode === MODE.resync && side.scanPending)) {
    switch (side.mode) {
      case MODE.tunnel:
        // After a 101 to Upgrade: h2c or websocket the rest of this chunk is the next layer's (the
        // server's first frames).
        if (c.next !== null) {
          c.next.onData(side.dir, buf.subarray(off), tsUs);
        } else if (c.connectTunnel && side.dir === c.reqDir) {
          c.connectTunnel = false;
          const rest = buf.subarray(off);
          if (otherProtocol(rest) === 'h2') startH2(c, c.reqDir, 'preface', rest, tsUs, side.dir);
          else c.counters.inc('http_tunnel_bytes', rest.length);
        } else {
          c.counters.inc('http_tunnel_bytes', buf.length - off);
        }
        return;
      case MODE.ended:
        return;
      case MODE.hold:
        holdBytes(c, side, buf, off, tsUs);
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
        const expected: StartKind = side.dir === c.reqDir ? START.request : START.response;
        const found = findStartLine(win, from, win.length, (_pos, kind) => kind === expected || !c.established);
        if (found === null) {
          const keep = Math.min(win.length - from, CARRY_BYTES);
          skip(c, win.length - from - keep);
          if (keep > 0) side.carry = Buffer.from(win.subarray(win.length - keep));
          return;
        }
        skip(c, found.pos - from);
        if (found.kind !== expected) swap(c, side);
        side.mode = MODE.parse;
        buf = win;
        off = found.pos;
        break;
      }
      default: {
        const parser = parserOf(c, side);
        const st = parser.feed(buf, off, buf.length, tsUs);
        if (st === FEED.done) return;
        off = parser.offset;
        if (st === FEED.error) parseError(c, side);
      }
    }
  }
}

function enterResync(c: ConnState, side: Side, carry: Buffer | null): void {
  side.mode = MODE.resync;
  side.carry = carry;
  c.counters.inc('http_resync');
}

/** The parser failed: close what it was building with the anomaly, then resynchronise. */
function parseError(c: ConnState, side: Side): void {
  const p = parserOf(c, side);
  closeBroken(c, side, p.errorCode, 0, side.lastTs);
  let carry = p.rescan;
  if (carry !== null) {
    // Rescan the failed head from its second byte, unless (orientation not settled yet) it starts
    // with a start line of the other kind: then the roles were guessed wrong (RFC 9112 §2.1).
    const expected: StartKind = side.dir === c.reqDir ? START.request : START.response;
    const other =
      !c.established && findStartLine(carry, 0, carry.length, (pos, kind) => pos === 0 && kind !== expected) !== null;
    if (!other) carry = carry.length > 1 ? carry.subarray(1) : null;
  }
  enterResync(c, side, carry);
  side.scanPending = carry !== null;
  p.rescan = null;
  p.partialHead = null;
}

/** Close the message in progress (or the partial head the parser had) as incomplete with `anomaly`. */
function closeBroken(c: ConnState, side: Side, anomaly: HttpCounter, gapBytes: number, tsUs: number): void {
  let msg = side.cur;
  if (msg === null && side.parser !== null && side.parser.partialHead !== null) {
    const h = side.parser.partialHead;
    side.parser.partialHead = null;
    if (side.dir === c.reqDir) onRequestHead(c, side, h);
    else onResponseHead(c, side, h);
    msg = side.cur;
  }
  if (msg === null) {
    if (side.curInterim) side.curInterim = false;
    c.counters.inc(anomaly);
    return;
  }
  flag(c, msg, anomaly);
  msg.gapBytes += gapBytes;
  if (msg.body !== null && gapBytes > 0) msg.body.gap = true;
  endMsg(c, side, msg, [], tsUs, false);
  flush(c);
}

export function gap(c: ConnState, side: Side, len: number, tsUs: number): void {
  switch (side.mode) {
    case MODE.tunnel:
    case MODE.ended:
      return;
    case MODE.hold:
      side.lost = true;
      skip(c, side.heldBytes);
      side.held = [];
      side.heldBytes = 0;
      side.heldBroken = true;
      return;
    case MODE.resync:
      if (side.carry !== null) skip(c, side.carry.length);
      side.carry = null;
      // Response side: a response may be in the gap. Request side: not certain (the resync may
      // have been skipping the rest of a request that is already recorded).
      if (side.dir !== c.reqDir) side.lost = true;
      return;
    default: {
      const p = parserOf(c, side);
      const idle = p.idle;
      const hadMsg = side.cur !== null || p.started;
      const r = p.gap(len, tsUs);
      if (r === GAP.skipped) return;
      // Pairing evidence (see answers in pairing.ts): a gap at a message boundary, or one that cut
      // a start line, swallowed a whole message; one inside a recorded message may or may not have.
      if (side.dir !== c.reqDir) side.lost = true;
      else if (r === GAP.between || !hadMsg) side.lost = true;
      if (r === GAP.abort) {
        closeBroken(c, side, p.errorCode, len, side.lastTs);
        p.partialHead = null;
        enterResync(c, side, null);
        return;
      }
      if (side.mode !== MODE.parse) return; // the message end switched to hold/tunnel
      if (idle) c.counters.inc('http_gap_between_messages');
      enterResync(c, side, null);
    }
  }
}

function holdBytes(c: ConnState, side: Side, buf: Buffer, off: number, tsUs: number): void {
  const n = buf.length - off;
  if (side.heldBroken) {
    skip(c, n);
    return;
  }
  if (side.heldBytes + n > c.opts.maxHeaderBytes) {
    if (c.holdEntry !== null) flagEntry(c, c.holdEntry, 'http_upgrade_held_overflow');
    else c.counters.inc('http_upgrade_held_overflow');
    skip(c, side.heldBytes + n);
    side.held = [];
    side.heldBytes = 0;
    side.heldBroken = true;
    return;
  }
  side.held.push({ buf: Buffer.from(buf.subarray(off)), tsUs }); // copy: outlives the call
  side.heldBytes += n;
}

/** The response to the held Upgrade/CONNECT request did not start a tunnel: parse what was held. */
function release(c: ConnState): void {
  c.releasePending = false;
  const side = c.sides[c.reqDir];
  if (side.mode !== MODE.hold) return;
  const held = side.held;
  side.held = [];
  side.heldBytes = 0;
  c.holdEntry = null;
  if (side.heldBroken) {
    side.heldBroken = false;
    enterResync(c, side, null);
  } else {
    side.mode = MODE.parse;
  }
  for (const h of held) processBytes(c, side, h.buf, 0, h.tsUs);
}

/** Status lines came from the presumed client (or request lines from the presumed server). */
function swap(c: ConnState, trigger: Side): void {
  c.swapped = !c.swapped;
  c.reqDir = c.reqDir === 0 ? 1 : 0;
  c.counters.inc('flow_orientation_swapped');
  for (const s of c.sides) {
    const pending = s === trigger || s.parser === null ? null : s.parser.takeHeadBytes();
    s.parser = null; // re-created with its new role on first use
    if (s !== trigger && s.mode === MODE.parse && pending !== null) {
      enterResync(c, s, pending);
      s.scanPending = true; // scanned at this side's next data, or dropped at the end
    }
  }
}

/** The connection ended: release held bytes, finish the rescans, end each direction (RFC 9112 §6.3). */
export function finishAll(c: ConnState, tsUs: number, reason: EndReason): void {
  if (c.releasePending || c.sides[c.reqDir].mode === MODE.hold) {
    c.releasePending = true;
    release(c);
  }
  for (const side of c.sides) {
    if (side.mode === MODE.resync && side.scanPending) processBytes(c, side, EMPTY, 0, side.lastTs);
  }
  for (const side of c.sides) {
    if (side.mode === MODE.resync) {
      if (side.carry !== null) skip(c, side.carry.length);
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
          closeBroken(c, side, 'http_cut_short', 0, side.lastTs);
        }
      }
    }
    side.mode = MODE.ended;
  }
  flush(c);
}
