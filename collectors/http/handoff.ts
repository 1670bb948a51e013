// What a direction carries and the hand-off to the HTTP/2 layer (collectors/h2) and the WebSocket
// layer (collectors/websocket): a direction's first bytes are classified (TLS/SSH are not parsed,
// the HTTP/2 preface or frames start HTTP/2, a strict prefix of the preface is held until decided),
// the first chunks of a connection joined mid-stream are sniffed for HTTP/2 frames, a 101 to
// Upgrade: h2c turns the request into stream 1 (RFC 7540 §3.2), and a 101 to Upgrade: websocket
// hands both directions to the WebSocket frame reader (RFC 6455 §4).
import { createH2Connection } from '../h2/connection.js';
import { DEFAULT_MAX_FRAME, findFrameChain } from '../h2/frames.js';
import { createWsConnection } from '../websocket/connection.js';
import { negotiated } from '../websocket/handshake.js';
import { flush } from './pairing.js';
import { requestOf } from './record.js';
import { H2_PREFACE, isH2Frames, otherProtocol } from './sniff.js';
import { MODE } from './state.js';
import type { ConnState, Entry, Msg } from './state.js';
import type { Direction } from './types.js';

/**
 * The sniffing of `chunk` (direction `dir`) before HTTP/1.x parsing: the bytes to parse (the chunk,
 * or held preface bytes followed by it), or null when the chunk was taken (held, handed to HTTP/2,
 * or not HTTP).
 */
export function sniff(c: ConnState, dir: Direction, chunk: Buffer, tsUs: number): Buffer | null {
  if (!c.classified[dir] && chunk.length > 0) {
    const held = c.prefaceHeld[dir];
    if (held !== null) {
      chunk = Buffer.concat([held, chunk]);
      c.prefaceHeld[dir] = null;
    }
    if (chunk.length < H2_PREFACE.length && H2_PREFACE.subarray(0, chunk.length).equals(chunk)) {
      // A strict prefix of the HTTP/2 preface: undecided until more bytes come.
      c.prefaceHeld[dir] = Buffer.from(chunk); // copy: outlives the call
      return null;
    }
    c.classified[dir] = true;
    const other = otherProtocol(chunk);
    if (other === 'h2') {
      // The client connection preface (RFC 9113 §3.4): `dir` is the client.
      startH2(c, dir, 'preface', chunk, tsUs, dir);
      return null;
    }
    if (other === null && isH2Frames(chunk, 0)) {
      // Frames from the first byte: the server's SETTINGS sent before the client preface was
      // seen, or a capture joined at a frame boundary.
      startH2(c, c.reqDir, c.meta.handshake ? 'preface' : 'midstream', chunk, tsUs, dir);
      return null;
    }
    if (other !== null) {
      // Port-independent: HTTPS and SSH share ports with HTTP in real captures. Counted as a
      // statistic, not an HTTP anomaly, and the encrypted stream is not scanned for start lines.
      // Per direction: a TLS client talking to an HTTP server still gets its 400 parsed.
      c.notHttp[dir] = true;
      if (!c.countedOther) {
        c.countedOther = true;
        c.counters.inc('tcp_flows_not_http');
        c.counters.inc(`tcp_flows_${other}`);
      }
      return null;
    }
  }
  if (c.sniffLeft[dir] > 0 && !c.established && !c.meta.handshake && chunk.length > 0) {
    c.sniffLeft[dir]--;
    const at = findFrameChain(chunk, 0, chunk.length, DEFAULT_MAX_FRAME, 3, false);
    if (at >= 0) {
      startH2(c, c.reqDir, 'midstream', chunk.subarray(at), tsUs, dir);
      return null;
    }
  }
  return chunk;
}

/**
 * Hands the connection to the HTTP/2 layer: `clientDir` carries the requests; `chunk` (of
 * direction `dir`) is its first data. HTTP/1.x parsing of both directions stops here.
 */
export function startH2(
  c: ConnState,
  clientDir: Direction,
  start: 'preface' | 'midstream',
  chunk: Buffer,
  tsUs: number,
  dir: Direction,
): void {
  for (const s of c.sides) s.mode = MODE.ended;
  c.next = createH2Connection(c.meta, c.opts, c.emitFn, c.counters, {
    clientDir,
    seqBase: c.nextSeq,
    start,
    swapped: c.swapped,
    upgrade: null,
  });
  c.next.onData(dir, chunk, tsUs);
}

/**
 * A 101 answered an Upgrade: h2c request (RFC 7540 §3.2): the request becomes stream 1 of the
 * HTTP/2 layer, which takes over both directions (the held client bytes first: the preface and
 * frames the client may send before the 101). The HTTP/1.x exchange is not emitted: stream 1 is.
 */
export function startH2Upgrade(c: ConnState, entry: Entry, rq: Msg): void {
  const i = c.queue.indexOf(entry);
  if (i >= 0) c.queue.splice(i, 1);
  flush(c);
  const reqSide = c.sides[c.reqDir];
  const held = reqSide.held;
  reqSide.held = [];
  reqSide.heldBytes = 0;
  c.holdEntry = null;
  for (const s of c.sides) s.mode = MODE.tunnel;
  const h2 = createH2Connection(c.meta, c.opts, c.emitFn, c.counters, {
    clientDir: c.reqDir,
    seqBase: entry.seq,
    start: 'upgrade',
    swapped: c.swapped,
    upgrade: {
      request: requestOf(rq),
      anomalies: [...(entry.anomalies ?? []), ...(rq.anomalies ?? [])],
      gapBytes: rq.gapBytes,
      truncated: rq.truncated,
    },
  });
  c.next = h2;
  if (reqSide.heldBroken) h2.onGap(c.reqDir, 1, reqSide.lastTs);
  for (const h of held) h2.onData(c.reqDir, h.buf, h.tsUs);
}

/**
 * A 101 answered an Upgrade: websocket request (RFC 6455 §4.2.2): the upgrade exchange leaves now
 * as a 'websocket' record (not flagged http_upgrade: parsing goes on), and the WebSocket layer
 * takes over both directions, the client's frames sent before the 101 (held) first. Message
 * records take the seqs after every exchange the HTTP/1.x layer numbered.
 */
export function startWsUpgrade(c: ConnState, entry: Entry, rq: Msg, rs: Msg): void {
  entry.protocol = 'websocket';
  c.counters.inc('ws_upgrades');
  const reqSide = c.sides[c.reqDir];
  const held = reqSide.held;
  const broken = reqSide.heldBroken;
  reqSide.held = [];
  reqSide.heldBytes = 0;
  c.holdEntry = null;
  for (const s of c.sides) s.mode = MODE.tunnel;
  flush(c);
  const ws = createWsConnection(c.meta, c.opts, c.emitFn, c.counters, {
    clientDir: c.reqDir,
    seqBase: c.nextSeq,
    swapped: c.swapped,
    request: requestOf(rq),
    response: { status: rs.head.status, reason: rs.head.reason, version: rs.head.version, headers: rs.head.headers },
    extensions: negotiated(rs.head.headers),
  });
  c.next = ws;
  // Early client frames that overflowed the hold buffer were dropped: the client stream starts with a gap.
  if (broken) ws.onGap(c.reqDir, 1, reqSide.lastTs);
  else for (const h of held) ws.onData(c.reqDir, h.buf, h.tsUs);
}
