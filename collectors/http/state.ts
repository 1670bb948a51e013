// The state of one HTTP connection shared by the files that implement it (connection.ts owns it):
// message records (Msg), pairing entries (Entry), the per-direction state (Side), and the counting
// helpers every part uses. Plain mutable records: one connection is driven by one caller at a time.
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import type { Body, HeaderPair } from '../../engine/contracts/exchange.js';
import type { Counters } from '../../engine/contracts/counters.js';
import type { BodyCollector, BodyLimits } from './body.js';
import type { MessageParser, ParsedHead } from './parser.js';
import type { ConnectionMeta, Direction, ExchangeEmitter, HttpOptions } from './types.js';

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
  anomalies: Set<HttpCounter>;
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
  anomalies: Set<HttpCounter>;
}

export interface Side {
  dir: Direction;
  parser: MessageParser;
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

/** What the direction machine, the message builder and the pairing read and write of a connection. */
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
  readonly bodyLimits: BodyLimits;
  readonly maxPending: number;
}

export function skip(c: ConnState, n: number): void {
  if (n > 0) c.counters.inc('http_resync_skipped_bytes', n);
}

export function flag(c: ConnState, msg: Msg, anomaly: HttpCounter): void {
  if (msg.anomalies.has(anomaly)) return;
  msg.anomalies.add(anomaly);
  c.counters.inc(anomaly);
}

export function flagEntry(c: ConnState, e: Entry, anomaly: HttpCounter): void {
  if (e.anomalies.has(anomaly)) return;
  e.anomalies.add(anomaly);
  c.counters.inc(anomaly);
}
