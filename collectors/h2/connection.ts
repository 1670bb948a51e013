// The HTTP/2 cleartext layer of one TCP connection (RFC 9113): two reassembled byte streams (+ gaps)
// → one Exchange per stream.
//
// Call order: the same as collectors/http (types.ts, HttpConnection): any interleaving of
// onData/onGap/onTruncated for either direction, then onEnd once. Chunks are only read during the
// call. Nothing throws out of this module (an unexpected exception is counted as h2_internal_error
// and abandons the connection; open streams are still emitted at onEnd).
//
// Each direction is a frame reader: preface (the client's "PRI * HTTP/2.0..." still to be matched),
// header (reading a 9-byte frame header), payload (reading a frame's payload: DATA is streamed into
// the stream's body, other frames are collected whole), resync (frame boundaries lost: looking for
// a chain of plausible frame headers, frames.ts). Flow control is not modelled: we only watch.
//
// Degradation is per stream: a gap inside a DATA frame marks that stream's body incomplete; a gap
// that loses a header block desynchronises that direction's HPACK table (hpack.ts) so later blocks
// decode what they can, and the fields they cannot are counted (h2_hpack_desync); a stream whose
// request pseudo-headers are unknown is still emitted, with request null and the anomaly.
//
// Exchanges leave when both directions ended the stream (END_STREAM), at RST_STREAM, or at the end
// of the connection; `seq` counts exchanges in emission order from `seqBase`.
import type { H2Counter, HttpCounter } from '../../engine/contracts/catalogue.js';
import type { Body, Exchange, HeaderPair, HttpRequest } from '../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../engine/contracts/exchange.js';
import type { Counters } from '../../engine/contracts/counters.js';
import { BodyCollector, emptyBody, headerOf } from '../http/body.js';
import type { BodyLimits } from '../http/body.js';
import { exchangeId } from '../http/connection.js';
import type {
  ConnectionMeta,
  Direction,
  EndReason,
  ExchangeEmitter,
  HttpConnection,
  HttpOptions,
} from '../http/types.js';
import {
  DEFAULT_MAX_FRAME,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  MAX_FRAME_LIMIT,
  PREFACE,
  findFrameChain,
  plausibleHeader,
} from './frames.js';
import type { GrpcSchema } from './descriptor.js';
import { GrpcCollector, isGrpcContentType } from './grpc.js';
import { HPACK, HpackDecoder } from './hpack.js';

const MODE = { preface: 0, header: 1, payload: 2, resync: 3, ended: 4 } as const;
type Mode = (typeof MODE)[keyof typeof MODE];

/** Open streams kept per connection; past it the oldest is emitted as is (h2_stream_overflow). */
const MAX_STREAMS = 1024;
/** Ids of emitted streams remembered, so late frames (RST_STREAM, DATA) do not reopen them. */
const MAX_CLOSED = 4096;
/** Frames in a resync chain before the boundary is trusted. */
const RESYNC_CHAIN = 3;
/** Largest frame a resync chain may contain: the bytes held while deciding stay under ~200 KiB. */
const RESYNC_MAX_FRAME = 65536;
/** gRPC messages decoded into one body (the rest are counted). */
const GRPC_MAX_MESSAGES = 256;

const EMPTY: Buffer = Buffer.alloc(0);

export interface H2Start {
  /** The direction carrying the client's frames (requests). */
  clientDir: Direction;
  /** Seq of the first exchange this layer emits (after the HTTP/1.1 ones of an upgraded connection). */
  seqBase: number;
  /**
   * How the directions begin: 'preface' (prior knowledge with the handshake seen: the client
   * preface, the server's first frame), 'upgrade' (after a 101 to Upgrade: h2c), 'midstream'
   * (frame boundaries and HPACK state unknown on both sides).
   */
  start: 'preface' | 'upgrade' | 'midstream';
  /** The client and server of `meta` are swapped (the HTTP/1.1 layer found so). */
  swapped: boolean;
  /** Upgrade: the HTTP/1.1 request that is stream 1 (RFC 7540 §3.2), with its anomalies and quality. */
  upgrade: { request: HttpRequest; anomalies: string[]; gapBytes: number; truncated: boolean } | null;
}

/** One direction of one stream. */
interface Half {
  /** Header fields other than pseudo-headers, wire order; null until a header block was seen. */
  headers: HeaderPair[] | null;
  pseudo: Map<string, string>;
  trailers: HeaderPair[];
  body: BodyCollector | GrpcCollector | null;
  record: Body | null;
  ended: boolean;
  /** A gap or desync lost (part of) this half's header block. */
  headersLost: boolean;
  startUs: number;
  endUs: number;
  gapBytes: number;
  truncated: boolean;
}

interface Stream {
  id: number;
  req: Half;
  res: Half;
  interim: number[];
  anomalies: Set<string>;
  grpc: boolean;
  /** The HTTP/1.1 upgrade request (stream 1 of an upgraded connection). */
  upgradeReq: HttpRequest | null;
}

interface Side {
  dir: Direction;
  mode: Mode;
  prefaceGot: number;
  hdr: Buffer;
  hdrFill: number;
  // The frame being read.
  len: number;
  type: number;
  flags: number;
  sid: number;
  left: number;
  /** Non-DATA payload being collected (null: skipped, or DATA). */
  payload: Buffer | null;
  payFill: number;
  /** The frame's payload was partly lost or is skipped. */
  frameLost: boolean;
  // DATA frame state.
  padPending: boolean;
  dataLeft: number;
  // Header block (HEADERS/PUSH_PROMISE + CONTINUATION).
  block: Buffer[];
  blockBytes: number;
  blockSid: number;
  /** 0 none, 1 HEADERS, 2 PUSH_PROMISE. */
  blockKind: number;
  blockEndStream: boolean;
  blockPromised: number;
  blockLost: boolean;
  blockStartUs: number;
  hpack: HpackDecoder;
  /** Largest frame this direction may send: the peer's SETTINGS_MAX_FRAME_SIZE. */
  maxFrame: number;
  carry: Buffer | null;
  lastTs: number;
  truncCalls: number;
}

export function createH2Connection(
  meta: ConnectionMeta,
  opts: HttpOptions,
  emit: ExchangeEmitter,
  counters: Counters,
  start: H2Start,
): H2Connection {
  return new H2Connection(meta, opts, emit, counters, start);
}

export class H2Connection implements HttpConnection {
  private readonly sides: [Side, Side];
  private clientDir: Direction;
  private swapped: boolean;
  /** Orientation confirmed by a header block (pseudo-headers of the expected kind). */
  private settled = false;
  private readonly streams = new Map<number, Stream>();
  private readonly closed = new Set<number>();
  private nextSeq: number;
  private ended = false;
  private dead = false;
  private oneSided = false;
  private readonly midstream: boolean;
  private readonly bodyLimits: BodyLimits;
  private readonly maxBlock: number;
  private readonly grpcSchema: GrpcSchema | null;

  constructor(
    private readonly meta: ConnectionMeta,
    opts: HttpOptions,
    private readonly emitFn: ExchangeEmitter,
    private readonly counters: Counters,
    start: H2Start,
  ) {
    this.clientDir = start.clientDir;
    this.swapped = start.swapped;
    this.nextSeq = start.seqBase;
    this.midstream = start.start === 'midstream' || !meta.handshake;
    this.bodyLimits = {
      bodyCaptureBytes: opts.bodyCaptureBytes,
      maxDecodedBytes: opts.maxDecodedBytes,
      maxEncodedBytes: opts.maxEncodedBytes ?? 1 << 20,
    };
    this.maxBlock = Math.max(opts.maxHeaderBytes, 16384);
    this.grpcSchema = opts.grpcSchema ?? null;
    const mid = start.start === 'midstream';
    const c = this.newSide(start.clientDir, mid ? MODE.resync : MODE.preface, !mid);
    const s = this.newSide(start.clientDir === 0 ? 1 : 0, mid ? MODE.resync : MODE.header, !mid);
    this.sides = start.clientDir === 0 ? [c, s] : [s, c];
    counters.inc('tcp_flows_h2');
    if (start.upgrade !== null) {
      const u = start.upgrade;
      const st = this.open(1);
      st.upgradeReq = u.request;
      st.req.headers = u.request.headers;
      st.req.ended = true;
      st.req.startUs = u.request.startUs;
      st.req.endUs = u.request.endUs;
      st.req.gapBytes = u.gapBytes;
      st.req.truncated = u.truncated;
      st.req.record = u.request.body;
      st.interim.push(101);
      st.grpc = isGrpcContentType(headerOf(u.request.headers, 'content-type'));
      for (const a of u.anomalies) st.anomalies.add(a);
      this.flag(st, 'h2_upgrade');
    }
  }

  // --- HttpConnection ------------------------------------------------------------------------

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.ended || this.dead || chunk.length === 0) return;
    const side = this.sides[dir];
    try {
      side.lastTs = tsUs;
      this.process(side, chunk, 0, tsUs);
    } catch {
      this.die();
    }
    if (side.truncCalls > 0) side.truncCalls--;
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    if (this.ended || this.dead || !(length > 0)) return;
    const side = this.sides[dir];
    try {
      this.gap(side, length, tsUs);
    } catch {
      this.die();
    }
    if (side.truncCalls > 0) side.truncCalls--;
  }

  onTruncated(dir: Direction): void {
    if (this.ended || this.dead) return;
    this.sides[dir].truncCalls = 2;
  }

  onEnd(_tsUs: number, _reason: EndReason, oneSided: boolean): void {
    if (this.ended) return;
    this.oneSided = oneSided;
    try {
      if (!this.dead) {
        for (const side of this.sides) this.finishSide(side);
      }
    } catch {
      this.die();
    }
    this.ended = true;
    try {
      for (const st of [...this.streams.values()].sort((a, b) => a.id - b.id)) {
        this.emitStream(st, true);
      }
    } catch {
      this.counters.inc('h2_internal_error');
    }
    this.streams.clear();
  }

  // --- frame reading -------------------------------------------------------------------------

  private newSide(dir: Direction, mode: Mode, synced: boolean): Side {
    return {
      dir,
      mode,
      prefaceGot: 0,
      hdr: Buffer.alloc(FRAME_HEADER_BYTES),
      hdrFill: 0,
      len: 0,
      type: 0,
      flags: 0,
      sid: 0,
      left: 0,
      payload: null,
      payFill: 0,
      frameLost: false,
      padPending: false,
      dataLeft: 0,
      block: [],
      blockBytes: 0,
      blockSid: 0,
      blockKind: 0,
      blockEndStream: false,
      blockPromised: 0,
      blockLost: false,
      blockStartUs: 0,
      hpack: new HpackDecoder(synced),
      maxFrame: DEFAULT_MAX_FRAME,
      carry: null,
      lastTs: 0,
      truncCalls: 0,
    };
  }

  private process(side: Side, buf: Buffer, off: number, tsUs: number): void {
    while (off < buf.length) {
      switch (side.mode) {
        case MODE.ended:
          return;
        case MODE.preface: {
          const n = Math.min(PREFACE.length - side.prefaceGot, buf.length - off);
          if (buf.compare(PREFACE, side.prefaceGot, side.prefaceGot + n, off, off + n) !== 0) {
            // Not the preface: maybe the roles are reversed, or the capture missed it.
            this.counters.inc('h2_bad_frame');
            this.enterResync(side, null);
            break;
          }
          side.prefaceGot += n;
          off += n;
          if (side.prefaceGot === PREFACE.length) side.mode = MODE.header;
          break;
        }
        case MODE.header: {
          const n = Math.min(FRAME_HEADER_BYTES - side.hdrFill, buf.length - off);
          buf.copy(side.hdr, side.hdrFill, off, off + n);
          side.hdrFill += n;
          off += n;
          if (side.hdrFill === FRAME_HEADER_BYTES) {
            side.hdrFill = 0;
            if (!this.beginFrame(side, tsUs)) {
              this.counters.inc('h2_bad_frame');
              // Rescan from the second byte of the rejected header.
              this.enterResync(side, Buffer.from(side.hdr.subarray(1)));
            }
          }
          break;
        }
        case MODE.payload:
          off = this.payload(side, buf, off, tsUs);
          break;
        default:
          off = this.resync(side, buf, off, tsUs, false);
      }
    }
  }

  /** Frame header in side.hdr: set up reading its payload. False when the header is not plausible. */
  private beginFrame(side: Side, tsUs: number): boolean {
    const h = side.hdr;
    const len = plausibleHeader(h, 0, MAX_FRAME_LIMIT);
    if (len < 0) return false;
    side.len = len;
    side.left = len;
    side.type = h[3] as number;
    side.flags = h[4] as number;
    side.sid = h.readUInt32BE(5);
    side.payload = null;
    side.payFill = 0;
    side.frameLost = false;
    this.counters.inc('h2_frames');
    if (side.blockKind !== 0 && (side.type !== FRAME.continuation || side.sid !== side.blockSid)) {
      // RFC 9113 §6.10: nothing may come between a header block's frames.
      this.counters.inc('h2_continuation_missing');
      side.blockLost = true;
      this.endBlock(side, tsUs);
    }
    if (side.type === FRAME.data) {
      side.padPending = (side.flags & FLAG.padded) !== 0;
      side.dataLeft = side.padPending ? 0 : len;
      const fresh = !this.streams.has(side.sid);
      const st = this.streamFor(side.sid, true);
      // DATA before any HEADERS of its stream: the stream began before the capture or a resync.
      if (st !== null && fresh) this.flag(st, 'h2_stream_midstream');
      if (st !== null) {
        const half = this.halfOf(st, side.dir);
        if (half.startUs === 0) half.startUs = tsUs;
        if (side.truncCalls > 0) half.truncated = true;
      }
    } else if (len > this.maxBlock + 512) {
      this.counters.inc('h2_frame_too_large');
      side.frameLost = true;
    } else {
      side.payload = len === 0 ? EMPTY : null;
    }
    side.mode = MODE.payload;
    if (len === 0) this.endFrame(side, EMPTY, tsUs);
    return true;
  }

  /** Payload bytes from buf[off]; returns the new offset. */
  private payload(side: Side, buf: Buffer, off: number, tsUs: number): number {
    if (side.type === FRAME.data) {
      while (off < buf.length && side.left > 0) {
        if (side.padPending) {
          const pad = buf[off] as number;
          off++;
          side.left--;
          side.padPending = false;
          if (pad > side.left) {
            this.counters.inc('h2_padding_error');
            side.dataLeft = 0;
          } else {
            side.dataLeft = side.left - pad;
          }
          continue;
        }
        const n = Math.min(buf.length - off, side.left);
        const d = Math.min(n, side.dataLeft);
        if (d > 0) {
          const st = this.streamFor(side.sid, false);
          if (st !== null) this.dataBytes(st, side.dir, buf, off, d);
          side.dataLeft -= d;
        }
        off += n;
        side.left -= n;
      }
      if (side.left === 0) this.endFrame(side, EMPTY, tsUs);
      return off;
    }
    const n = Math.min(buf.length - off, side.left);
    if (!side.frameLost) {
      if (side.payFill === 0 && n === side.len) {
        side.payload = buf.subarray(off, off + n); // whole payload in this chunk: no copy
      } else {
        side.payload ??= Buffer.allocUnsafe(side.len);
        buf.copy(side.payload, side.payFill, off, off + n);
      }
      side.payFill += n;
    }
    side.left -= n;
    off += n;
    if (side.left === 0) this.endFrame(side, side.frameLost ? EMPTY : (side.payload ?? EMPTY), tsUs);
    return off;
  }

  /** The frame is complete (or lost, `frameLost`): act on it. */
  private endFrame(side: Side, p: Buffer, tsUs: number): void {
    side.mode = MODE.header;
    side.payload = null;
    const { type, flags, sid } = side;
    const lost = side.frameLost;
    switch (type) {
      case FRAME.data:
        if (flags & FLAG.endStream) this.endHalf(sid, side.dir, tsUs);
        return;
      case FRAME.headers:
      case FRAME.pushPromise: {
        side.blockKind = type === FRAME.headers ? 1 : 2;
        side.blockSid = sid;
        side.blockEndStream = type === FRAME.headers && (flags & FLAG.endStream) !== 0;
        side.blockLost = lost;
        side.block = [];
        side.blockBytes = 0;
        side.blockPromised = 0;
        side.blockStartUs = tsUs;
        if (!lost) {
          let s = 0;
          let e = p.length;
          if (flags & FLAG.padded) {
            const pad = p.length > 0 ? (p[0] as number) : 0;
            s = 1;
            e = p.length - pad;
          }
          if (type === FRAME.headers && flags & FLAG.priority) s += 5;
          if (type === FRAME.pushPromise) {
            if (s + 4 <= e) side.blockPromised = p.readUInt32BE(s) & 0x7fffffff;
            s += 4;
          }
          if (s > e) {
            this.counters.inc('h2_padding_error');
            side.blockLost = true;
          } else {
            this.addFragment(side, p, s, e);
          }
        }
        if (flags & FLAG.endHeaders) this.endBlock(side, tsUs);
        return;
      }
      case FRAME.continuation:
        if (side.blockKind === 0) {
          // A CONTINUATION whose HEADERS was lost (gap, resync): its block cannot be decoded.
          side.hpack.desync();
          return;
        }
        if (lost) side.blockLost = true;
        else this.addFragment(side, p, 0, p.length);
        if (flags & FLAG.endHeaders) this.endBlock(side, tsUs);
        return;
      case FRAME.rstStream: {
        const st = this.streams.get(sid);
        if (st !== undefined) {
          this.flag(st, 'h2_stream_reset');
          const h = this.halfOf(st, side.dir);
          if (h.endUs === 0) h.endUs = tsUs;
          this.emitStream(st, false);
        }
        return;
      }
      case FRAME.settings:
        if (!lost && (flags & FLAG.ack) === 0) this.settings(side, p);
        return;
      case FRAME.goaway: {
        this.counters.inc('h2_goaway');
        if (lost || p.length < 4) return;
        const last = p.readUInt32BE(0) & 0x7fffffff;
        // Streams the GOAWAY's receiver opened above `last` were not processed (RFC 9113 §6.8);
        // clients open odd ids, servers (push) even ones.
        const receiverOdd = side.dir !== this.clientDir;
        for (const st of this.streams.values()) {
          if (st.id > last && (st.id % 2 === 1) === receiverOdd) this.flag(st, 'h2_goaway_unprocessed');
        }
        return;
      }
      default:
        return; // PRIORITY, PING, WINDOW_UPDATE, unknown types (§5.5): nothing to record
    }
  }

  private settings(side: Side, p: Buffer): void {
    const peer = this.sides[side.dir === 0 ? 1 : 0];
    for (let i = 0; i + 6 <= p.length; i += 6) {
      const id = p.readUInt16BE(i);
      const v = p.readUInt32BE(i + 2);
      // SETTINGS_MAX_FRAME_SIZE: what the sender accepts, i.e. the peer's frames (§6.5.2).
      if (id === 0x5 && v >= DEFAULT_MAX_FRAME && v <= MAX_FRAME_LIMIT) peer.maxFrame = v;
    }
  }

  private addFragment(side: Side, p: Buffer, s: number, e: number): void {
    if (side.blockLost) return;
    if (side.blockBytes + (e - s) > this.maxBlock) {
      this.counters.inc('h2_header_block_too_large');
      side.blockLost = true;
      side.block = [];
      return;
    }
    side.block.push(Buffer.from(p.subarray(s, e))); // copy: the block may span chunks
    side.blockBytes += e - s;
  }

  /** The header block is complete (or lost): decode it and hand it to its stream. */
  private endBlock(side: Side, tsUs: number): void {
    const kind = side.blockKind;
    side.blockKind = 0;
    const fields: [string, string][] = [];
    let status: number = HPACK.ok;
    if (side.blockLost) {
      side.hpack.desync();
    } else {
      const block = side.block.length === 1 ? (side.block[0] as Buffer) : Buffer.concat(side.block);
      const before = side.hpack.unresolved;
      status = side.hpack.decode(block, 0, block.length, fields);
      const missed = side.hpack.unresolved - before;
      if (missed > 0) this.counters.inc('h2_hpack_desync_fields', missed);
    }
    side.block = [];
    side.blockBytes = 0;
    const sid = side.blockSid;
    if (kind === 2) {
      // PUSH_PROMISE: the promised stream's request (RFC 9113 §8.4); its response comes on it.
      const promised = side.blockPromised;
      if (promised === 0 || this.closed.has(promised)) return;
      const st = this.streams.get(promised) ?? this.open(promised);
      this.flag(st, 'h2_server_push');
      this.applyBlock(st, st.req, fields, status, side.blockLost, side.blockStartUs, true);
      st.req.ended = true;
      st.req.endUs = side.blockStartUs;
      return;
    }
    this.orient(side, fields);
    const fresh = !this.streams.has(sid);
    const st = this.streamFor(sid, true);
    if (st === null) return;
    const half = this.halfOf(st, side.dir);
    const isReq = half === st.req;
    // A stream first seen by its response, or by a request block without :method (its trailers):
    // it began before the capture or a resynchronisation.
    if (fresh && (!isReq || findPseudo(fields, ':method') === null)) this.flag(st, 'h2_stream_midstream');
    const statusCode = isReq ? -1 : Number(findPseudo(fields, ':status') ?? '-1');
    if (!isReq && statusCode >= 100 && statusCode < 200 && half.headers === null) {
      st.interim.push(statusCode); // informational (RFC 9113 §8.1): the final response follows
      return;
    }
    if (half.headers !== null || (isReq && st.upgradeReq !== null)) {
      // A second block on a half is trailers (RFC 9113 §8.1).
      for (const f of fields) if (f[0].charCodeAt(0) !== 0x3a) half.trailers.push(f);
      if (status !== HPACK.ok || side.blockLost) this.blockAnomalies(st, status, side.blockLost);
    } else {
      this.applyBlock(st, half, fields, status, side.blockLost, side.blockStartUs, isReq);
    }
    if (side.blockEndStream) this.endHalf(sid, side.dir, tsUs);
  }

  private applyBlock(
    st: Stream,
    half: Half,
    fields: [string, string][],
    status: number,
    lost: boolean,
    tsUs: number,
    isReq: boolean,
  ): void {
    const headers: HeaderPair[] = [];
    for (const f of fields) {
      if (f[0].charCodeAt(0) === 0x3a) half.pseudo.set(f[0], f[1]);
      else headers.push([f[0], f[1]]);
    }
    half.headers = headers;
    if (half.startUs === 0 || tsUs < half.startUs) half.startUs = tsUs;
    if (lost) half.headersLost = true;
    this.blockAnomalies(st, status, lost);
    const ct = headerOf(headers, 'content-type');
    if (isGrpcContentType(ct)) st.grpc = true;
    else if (isReq && ct === null && status === HPACK.desync && looksGrpc(half.pseudo)) {
      // The content-type was a dynamic-table reference lost to the desync; a POST to
      // /package.Service/Method is taken for gRPC (its bodies are then read as gRPC messages).
      st.grpc = true;
      this.flag(st, 'grpc_guessed');
    }
    if (half.body === null) half.body = this.newBody(st, headers, isReq);
    if (isReq && (!half.pseudo.has(':method') || !(half.pseudo.has(':path') || half.pseudo.has(':authority')))) {
      this.flag(st, 'h2_missing_pseudo_header');
    } else if (!isReq && !half.pseudo.has(':status')) {
      this.flag(st, 'h2_missing_pseudo_header');
    }
  }

  private blockAnomalies(st: Stream, status: number, lost: boolean): void {
    if (lost) this.flag(st, 'h2_headers_lost');
    if (status === HPACK.desync) this.flag(st, 'h2_hpack_desync');
    else if (status === HPACK.error) this.flag(st, 'h2_hpack_error');
  }

  private newBody(st: Stream, headers: HeaderPair[], isReq: boolean): BodyCollector | GrpcCollector {
    const ct = headerOf(headers, 'content-type');
    if (st.grpc || isGrpcContentType(ct)) {
      const schema = this.grpcSchema;
      const method = schema?.methods.get(st.req.pseudo.get(':path') ?? '');
      const type = method !== undefined ? (schema?.types.get(isReq ? method.input : method.output) ?? null) : null;
      return new GrpcCollector(
        ct,
        headerOf(headers, 'grpc-encoding'),
        {
          bodyCaptureBytes: this.bodyLimits.bodyCaptureBytes,
          maxEncodedBytes: this.bodyLimits.maxEncodedBytes,
          maxDecodedBytes: this.bodyLimits.maxDecodedBytes,
          maxMessages: GRPC_MAX_MESSAGES,
        },
        type,
        schema ?? null,
      );
    }
    return new BodyCollector(ct, headerOf(headers, 'content-encoding'), this.bodyLimits);
  }

  /**
   * Before the orientation is confirmed: a block with :status from the presumed client, or with
   * :method from the presumed server, means the roles were guessed wrong (mid-stream join).
   */
  private orient(side: Side, fields: [string, string][]): void {
    if (this.settled) return;
    const hasStatus = findPseudo(fields, ':status') !== null;
    const hasMethod = findPseudo(fields, ':method') !== null;
    if (!hasStatus && !hasMethod) return;
    this.settled = true;
    const fromClient = side.dir === this.clientDir;
    if ((fromClient && hasStatus && !hasMethod) || (!fromClient && hasMethod && !hasStatus)) {
      this.clientDir = this.clientDir === 0 ? 1 : 0;
      this.swapped = !this.swapped;
      this.counters.inc('flow_orientation_swapped');
      for (const st of this.streams.values()) {
        const r = st.req;
        st.req = st.res;
        st.res = r;
      }
    }
  }

  // --- gaps and resynchronisation ------------------------------------------------------------

  private gap(side: Side, len: number, tsUs: number): void {
    switch (side.mode) {
      case MODE.ended:
        return;
      case MODE.resync:
        if (side.carry !== null) this.counters.inc('h2_resync_skipped_bytes', side.carry.length);
        side.carry = null;
        return;
      case MODE.payload:
        if (len <= side.left) {
          // Inside the frame: its length tells where the next one starts.
          if (side.type === FRAME.data) {
            if (side.padPending) {
              side.padPending = false; // the pad length was lost: assume no padding
              side.dataLeft = side.left - 1;
            }
            const st = this.streamFor(side.sid, false);
            const d = Math.min(len, side.dataLeft);
            if (st !== null && d > 0) this.dataGap(st, side.dir, d);
            side.dataLeft -= d;
            side.left -= len;
          } else {
            side.frameLost = true;
            side.left -= len;
          }
          if (side.left === 0) this.endFrame(side, EMPTY, tsUs);
          return;
        }
        if (side.type === FRAME.data) {
          const st = this.streamFor(side.sid, false);
          if (st !== null && side.dataLeft > 0) this.dataGap(st, side.dir, side.dataLeft);
        }
        this.loseBlock(side, tsUs);
        this.enterResync(side, null);
        return;
      default:
        this.loseBlock(side, tsUs);
        this.enterResync(side, null);
    }
  }

  /** A header block in progress (or the frame being read) cannot complete: mark its stream. */
  private loseBlock(side: Side, tsUs: number): void {
    if (side.mode === MODE.payload && (side.type === FRAME.headers || side.type === FRAME.pushPromise)) {
      side.blockKind = side.type === FRAME.headers ? 1 : 2;
      side.blockSid = side.sid;
      side.blockEndStream = side.type === FRAME.headers && (side.flags & FLAG.endStream) !== 0;
      side.blockPromised = 0;
      side.blockStartUs = tsUs;
    }
    if (side.blockKind !== 0) {
      side.blockLost = true;
      this.endBlock(side, tsUs);
    }
  }

  private enterResync(side: Side, carry: Buffer | null): void {
    this.counters.inc('h2_resync');
    side.mode = MODE.resync;
    side.carry = carry;
    side.hdrFill = 0;
    side.blockKind = 0;
    side.block = [];
    side.blockBytes = 0;
    // Header blocks may have been lost with the frames: dynamic-table state is not known exactly.
    side.hpack.desync();
  }

  /** Resync mode: find the next frame boundary in carry + buf[off..]; returns the new offset in buf. */
  private resync(side: Side, buf: Buffer, off: number, tsUs: number, atEnd: boolean): number {
    let win = buf;
    let from = off;
    if (side.carry !== null) {
      win = Buffer.concat([side.carry, buf.subarray(off)]);
      from = 0;
      side.carry = null;
    }
    // Frames larger than RESYNC_MAX_FRAME are not used as resync anchors (bounds the carry).
    const maxLen = Math.min(side.maxFrame, RESYNC_MAX_FRAME);
    const r = findFrameChain(win, from, win.length, maxLen, RESYNC_CHAIN, atEnd);
    if (r >= 0) {
      this.counters.inc('h2_resync_skipped_bytes', r - from);
      side.mode = MODE.header;
      side.hdrFill = 0;
      this.process(side, win, r, tsUs);
      return buf.length;
    }
    let keepFrom: number;
    if (r === -1) {
      keepFrom = Math.max(from, win.length - (FRAME_HEADER_BYTES - 1));
    } else {
      keepFrom = -r - 2;
      // A candidate needing more than a chain's worth of bytes is given up.
      const bound = RESYNC_CHAIN * (maxLen + FRAME_HEADER_BYTES) + FRAME_HEADER_BYTES;
      if (win.length - keepFrom > bound) keepFrom++;
    }
    this.counters.inc('h2_resync_skipped_bytes', keepFrom - from);
    if (!atEnd && keepFrom < win.length)
      side.carry = Buffer.from(win.subarray(keepFrom)); // copy: outlives the call
    else if (keepFrom < win.length) this.counters.inc('h2_resync_skipped_bytes', win.length - keepFrom);
    return buf.length;
  }

  private finishSide(side: Side): void {
    if (side.mode === MODE.resync && side.carry !== null) {
      const c = side.carry;
      side.carry = null;
      this.resync(side, c, 0, side.lastTs, true);
    }
    if (side.mode === MODE.payload && side.type === FRAME.data) {
      const st = this.streamFor(side.sid, false);
      if (st !== null && side.dataLeft > 0) this.flag(st, 'h2_cut_short');
    }
    if (side.blockKind !== 0 || (side.mode === MODE.payload && side.type !== FRAME.data))
      this.loseBlock(side, side.lastTs);
    side.mode = MODE.ended;
  }

  // --- streams -------------------------------------------------------------------------------

  private newHalf(): Half {
    return {
      headers: null,
      pseudo: new Map(),
      trailers: [],
      body: null,
      record: null,
      ended: false,
      headersLost: false,
      startUs: 0,
      endUs: 0,
      gapBytes: 0,
      truncated: false,
    };
  }

  private open(id: number): Stream {
    const st: Stream = {
      id,
      req: this.newHalf(),
      res: this.newHalf(),
      interim: [],
      anomalies: new Set(),
      grpc: false,
      upgradeReq: null,
    };
    if (this.streams.size >= MAX_STREAMS) {
      const oldest = this.streams.values().next().value as Stream;
      this.flag(oldest, 'h2_stream_overflow');
      this.emitStream(oldest, true);
    }
    this.streams.set(id, st);
    return st;
  }

  /** The open stream `sid`; with `create`, opened when new (not when already emitted). */
  private streamFor(sid: number, create: boolean): Stream | null {
    const st = this.streams.get(sid);
    if (st !== undefined) return st;
    if (!create || sid === 0 || this.closed.has(sid)) return null;
    return this.open(sid);
  }

  private halfOf(st: Stream, dir: Direction): Half {
    // Pushed streams (even ids) carry only server frames; the request half comes from PUSH_PROMISE.
    return dir === this.clientDir ? st.req : st.res;
  }

  private dataBytes(st: Stream, dir: Direction, buf: Buffer, off: number, len: number): void {
    const half = this.halfOf(st, dir);
    half.body ??= this.newBody(st, half.headers ?? [], half === st.req);
    half.body.add(buf, off, len);
  }

  private dataGap(st: Stream, dir: Direction, len: number): void {
    const half = this.halfOf(st, dir);
    half.body ??= this.newBody(st, half.headers ?? [], half === st.req);
    half.body.addGap(len);
    half.gapBytes += len;
    this.flag(st, 'h2_body_gap');
  }

  private endHalf(sid: number, dir: Direction, tsUs: number): void {
    const st = this.streams.get(sid);
    if (st === undefined) return;
    const half = this.halfOf(st, dir);
    half.ended = true;
    half.endUs = tsUs;
    if (st.req.ended && st.res.ended) this.emitStream(st, false);
  }

  private flag(st: Stream, anomaly: H2Counter | HttpCounter): void {
    if (st.anomalies.has(anomaly)) return;
    st.anomalies.add(anomaly);
    this.counters.inc(anomaly);
  }

  private die(): void {
    this.dead = true;
    this.counters.inc('h2_internal_error');
    for (const s of this.sides) s.mode = MODE.ended;
  }

  // --- emission ------------------------------------------------------------------------------

  private emitStream(st: Stream, atEnd: boolean): void {
    if (!this.streams.delete(st.id)) return;
    this.closed.add(st.id);
    if (this.closed.size > MAX_CLOSED) this.closed.delete(this.closed.values().next().value as number);
    const open = !st.req.ended || !st.res.ended;
    if (atEnd && open && !st.anomalies.has('h2_stream_reset')) this.flag(st, 'h2_cut_short');
    const ex = this.build(st);
    this.counters.inc('h2_streams');
    this.counters.inc('h2_exchanges');
    if (st.grpc) this.counters.inc('grpc_calls');
    try {
      this.emitFn(ex);
    } catch {
      this.counters.inc('http_emit_error');
    }
  }

  private finishBody(st: Stream, half: Half, isReq: boolean): Body {
    if (half.record !== null) return half.record;
    const complete = half.ended && half.gapBytes === 0 && !half.headersLost;
    const flag = (a: H2Counter | HttpCounter): void => this.flag(st, a);
    if (half.body === null) return emptyBody(half.headers ?? [], complete);
    const b = half.body;
    if (b instanceof GrpcCollector) {
      this.counters.inc(isReq ? 'grpc_messages_request' : 'grpc_messages_response', b.messages);
    }
    half.record = b.finish(complete, flag);
    return half.record;
  }

  private build(st: Stream): Exchange {
    const rq = st.req;
    const rs = st.res;
    const reqBody = this.finishBody(st, rq, true);
    const resBody = this.finishBody(st, rs, false);
    let request: Exchange['request'] = null;
    if (st.upgradeReq !== null) {
      request = { ...st.upgradeReq, trailers: rq.trailers };
    } else if (rq.headers !== null) {
      const method = rq.pseudo.get(':method') ?? null;
      const authority = rq.pseudo.get(':authority') ?? null;
      const path = rq.pseudo.get(':path') ?? (method === 'CONNECT' ? authority : null);
      if (method !== null && path !== null) {
        // :authority stands for Host (RFC 9113 §8.3.1): given as a host field when none is present,
        // so that analyzers find the API host as in HTTP/1.1.
        const headers =
          authority !== null && headerOf(rq.headers, 'host') === null
            ? [['host', authority] as HeaderPair, ...rq.headers]
            : rq.headers;
        request = {
          method,
          target: path,
          version: 'HTTP/2',
          headers,
          trailers: rq.trailers,
          body: reqBody,
          startUs: rq.startUs,
          endUs: rq.ended ? rq.endUs : Math.max(rq.startUs, this.sides[this.clientDir].lastTs),
        };
      }
    }
    let response: Exchange['response'] = null;
    const statusText = rs.pseudo.get(':status') ?? null;
    if (rs.headers !== null && statusText !== null) {
      const status = Number.parseInt(statusText, 10);
      response = {
        status: Number.isFinite(status) ? status : 0,
        reason: '',
        version: 'HTTP/2',
        headers: rs.headers,
        trailers: rs.trailers,
        body: resBody,
        interim: st.interim,
        startUs: rs.startUs,
        endUs: rs.ended ? rs.endUs : Math.max(rs.startUs, this.sides[this.clientDir === 0 ? 1 : 0].lastTs),
      };
    }
    if (rq.headers === null && st.upgradeReq === null) this.flag(st, 'h2_response_without_request');
    else if (request === null) this.flag(st, 'h2_missing_pseudo_header');
    if (response === null) {
      if (rs.headers === null) this.flag(st, 'h2_request_without_response');
      else this.flag(st, 'h2_missing_pseudo_header');
    }
    // Report totals (report/v1 capture): the upgrade request and its 101 were counted as HTTP/1.1.
    if (st.upgradeReq === null) {
      if (request !== null) this.counters.inc('h2_requests');
      if (response !== null) this.counters.inc('h2_responses');
    }
    if (request !== null && response !== null) this.counters.inc('h2_exchanges_paired');
    if (st.grpc && response !== null) {
      // Trailers-only responses carry grpc-status in the header block (PROTOCOL-HTTP2.md).
      const gs = headerOf(response.trailers, 'grpc-status') ?? headerOf(response.headers, 'grpc-status');
      if (gs !== null && gs.trim() !== '0') this.flag(st, 'grpc_error_status');
    }
    const m = this.meta;
    const client = this.swapped ? m.server : m.client;
    const server = this.swapped ? m.client : m.server;
    const seq = this.nextSeq++;
    const gapBytes = rq.gapBytes + rs.gapBytes;
    const quality = {
      gapBytes,
      truncated: rq.truncated || rs.truncated,
      oneSided: this.oneSided,
      midstream: this.midstream,
    };
    const complete =
      request !== null &&
      response !== null &&
      rq.ended &&
      rs.ended &&
      gapBytes === 0 &&
      !rq.headersLost &&
      !rs.headersLost &&
      !st.anomalies.has('h2_stream_reset') &&
      !st.anomalies.has('h2_hpack_desync') &&
      !st.anomalies.has('h2_hpack_error');
    const latency = request !== null && response !== null ? Math.max(0, response.startUs - request.endUs) : null;
    return {
      schema: EXCHANGE_SCHEMA,
      id: exchangeId(m.flowId, seq),
      flowId: m.flowId,
      seq,
      vni: m.vni,
      client: { ip: client.ip, port: client.port },
      server: { ip: server.ip, port: server.port },
      request,
      response,
      latencyUs: latency,
      anomalies: [...st.anomalies].sort(),
      quality,
      complete,
      protocol: st.grpc ? 'grpc' : 'h2c',
      streamId: st.id,
    };
  }
}

/** gRPC's request shape (PROTOCOL-HTTP2.md): POST to /{package.}Service/Method. */
const GRPC_PATH = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/;

function looksGrpc(pseudo: ReadonlyMap<string, string>): boolean {
  return pseudo.get(':method') === 'POST' && GRPC_PATH.test(pseudo.get(':path') ?? '');
}

function findPseudo(fields: readonly [string, string][], name: string): string | null {
  for (const f of fields) if (f[0] === name) return f[1];
  return null;
}
