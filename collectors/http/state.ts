// The state of one HTTP/1.x connection, shared by the files that implement it (connection.ts owns
// it): message records (Msg), pairing entries (Entry), the per-direction state (Side), the modes,
// and the counting helpers every part uses. Plain mutable records: one connection is driven by one
// caller at a time.
import type { Body, HeaderPair } from '../../engine/contracts/exchange.js';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import type { Counters } from '../../engine/contracts/counters.js';
import type { BodyCollector, BodyLimits } from './body.js';
import type { MessageParser, ParsedHead } from './parser.js';
import type { ConnectionMeta, Direction, ExchangeEmitter, HttpConnection, HttpOptions } from './types.js';

export const MODE = { parse: 0, resync: 1, hold: 2, tunnel: 3, ended: 4 } as const;
export type Mode = (typeof MODE)[keyof typeof MODE];

/** One message (request or final response) being built. */
export interface Msg {
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

export interface Entry {
  seq: number;
  req: Msg | null;
  res: Msg | null;
  interim: number[];
  /** Created by the first anomaly. */
  anomalies: Set<HttpCounter> | null;
  /** exchange/v1 `protocol` of the record, or null for HTTP/1.x (left out of the record). */
  protocol: string | null;
}

export interface Side {
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

/** What the direction machine, the message builder, the pairing and the HTTP/2 hand-off read and write of a connection. */
export interface ConnState {
  readonly meta: ConnectionMeta;
  readonly opts: HttpOptions;
  readonly emitFn: ExchangeEmitter;
  readonly counters: Counters;
  readonly sides: [Side, Side];
  /** Direction carrying requests: 0 unless the orientation was found to be swapped. */
  reqDir: Direction;
  swapped: boolean;
  /** Some head was parsed: the orientation is settled. */
  established: boolean;
  /** Exchanges in request order, waiting for both messages to finish. */
  queue: Entry[];
  nextSeq: number;
  /** Interim (1xx) codes seen before any request waits for a response. */
  pendingInterim: number[];
  /** The exchange of the Upgrade/CONNECT request whose client bytes are held. */
  holdEntry: Entry | null;
  /** The response to the held request did not start a tunnel: parse the held bytes after this call. */
  releasePending: boolean;
  oneSided: boolean;
  ended: boolean;
  dead: boolean;
  /** Per direction: its first bytes were classified (see otherProtocol). */
  readonly classified: [boolean, boolean];
  /** Per direction: not HTTP at all (TLS, SSH): its bytes are not parsed or scanned. */
  readonly notHttp: [boolean, boolean];
  countedOther: boolean;
  /**
   * The layer that took the connection over, which then receives every later call: HTTP/2
   * (collectors/h2) once the connection turned out to be h2c (prior-knowledge preface, frames
   * recognised, or a 101 to Upgrade: h2c), or WebSocket (collectors/websocket) after a 101 to
   * Upgrade: websocket.
   */
  next: HttpConnection | null;
  /** A CONNECT tunnel started and the client's first tunnel bytes were not seen yet. */
  connectTunnel: boolean;
  /** Per direction: first bytes that are a strict prefix of the HTTP/2 preface, held until decided. */
  readonly prefaceHeld: [Buffer | null, Buffer | null];
  /** Per direction: chunks still sniffed for HTTP/2 frames on a connection joined mid-stream. */
  readonly sniffLeft: [number, number];
  readonly bodyLimits: BodyLimits;
  readonly maxPending: number;
}

export function newSide(dir: Direction, mode: Mode): Side {
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

export function skip(c: ConnState, n: number): void {
  if (n > 0) c.counters.inc('http_resync_skipped_bytes', n);
}

export function flag(c: ConnState, msg: Msg, anomaly: HttpCounter): void {
  if (msg.anomalies === null) msg.anomalies = new Set();
  else if (msg.anomalies.has(anomaly)) return;
  msg.anomalies.add(anomaly);
  c.counters.inc(anomaly);
}

export function flagEntry(c: ConnState, e: Entry, anomaly: HttpCounter): void {
  if (e.anomalies === null) e.anomalies = new Set();
  else if (e.anomalies.has(anomaly)) return;
  e.anomalies.add(anomaly);
  c.counters.inc(anomaly);
}

/** An unexpected exception: parsing of the connection is abandoned (pending exchanges still leave at onEnd). */
export function die(c: ConnState): void {
  c.dead = true;
  c.counters.inc('http_internal_error');
  for (const s of c.sides) s.mode = MODE.ended;
}

/**
 * Fixed per-connection costs of the state estimate (stateBytes), measured with heap snapshots of
 * 5,000 half-open connections (Node 20): the connection with its two sides, one direction's parser,
 * one pending exchange with its message head.
 */
export const CONNECTION_STATE_BYTES = { connection: 1200, parser: 700, entry: 900 } as const;

/**
 * Estimated bytes of this connection's state: fixed costs (CONNECTION_STATE_BYTES) plus the bytes
 * it holds (head bytes in its parsers, resync carry, held tunnel bytes, kept bodies of messages
 * waiting for their pair).
 */
export function stateBytes(c: ConnState): number {
  let n = CONNECTION_STATE_BYTES.connection;
  for (const s of c.sides) {
    if (s.parser !== null) n += CONNECTION_STATE_BYTES.parser + s.parser.headBytesHeld;
    if (s.carry !== null) n += s.carry.length;
    n += s.heldBytes;
  }
  if (c.next !== null) n += c.next.stateBytes?.() ?? 0;
  for (const e of c.queue) {
    n += CONNECTION_STATE_BYTES.entry;
    if (e.req !== null) n += msgBytes(e.req);
    if (e.res !== null) n += msgBytes(e.res);
  }
  return n;
}

function msgBytes(m: Msg): number {
  return (m.body?.keptBytes ?? 0) + (m.record?.data.length ?? 0);
}
