// The WebSocket layer of one TCP connection (RFC 6455, permessage-deflate RFC 7692): after a 101
// to Upgrade: websocket, the two reassembled byte streams (+ gaps) → one exchange/v1 record per
// data message (the representation is in engine/contracts/exchange.ts, "WebSocket").
//
// Call order: the same as collectors/http (types.ts, HttpConnection): any interleaving of
// onData/onGap/onTruncated for either direction, then onEnd once. Chunks are only read during the
// call: kept payload bytes are copied (and unmasked in the copy). Nothing throws out of this module
// (an unexpected exception is counted as ws_internal_error and abandons the connection).
//
// Each direction is a frame reader over the chunk in place (offsets, no slices in the loop):
// header (2-14 bytes, collected across chunks when split), payload (streamed: a data frame's bytes
// go to the open message up to its cap, a control frame's to a 125-byte buffer), ended (framing
// lost: bytes counted, not parsed). Messages are assembled per direction (RFC 6455 §5.4): control
// frames may come between the fragments of a message; a message is emitted when its FIN frame ends.
// Protocol violations are counted anomalies and parsing goes on by the frame's length; only a
// length that cannot be right (64-bit with the top bit set) ends the direction.
//
// Gaps (reassembly's onGap): inside a frame's payload the frame's length still holds, so the gap is
// skipped and the message marked incomplete (ws_message_gap); anywhere else the frame boundaries are
// lost for good (frames carry no sync marker, client payloads are masked with random keys), so the
// direction's message stream ends (ws_gap) and its open message is emitted incomplete. The other
// direction and the upgrade's record are not affected. A connection joined mid-stream (no 101 seen)
// never gets here: its frames are not guessed.
import { isUtf8 } from 'node:buffer';
import type { WsCounter } from '../../engine/contracts/catalogue.js';
import type { Body, Exchange, HeaderPair, HttpRequest } from '../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../engine/contracts/exchange.js';
import type { Counters } from '../../engine/contracts/counters.js';
import { trimIncompleteUtf8 } from '../http/body.js';
import { exchangeId } from '../http/record.js';
import type {
  ConnectionMeta,
  Direction,
  EndReason,
  ExchangeEmitter,
  HttpConnection,
  HttpOptions,
} from '../http/types.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';
import {
  headerBytes,
  knownOpcode,
  MAX_CONTROL_PAYLOAD,
  MAX_FRAME_LENGTH,
  MAX_HEADER_BYTES,
  normalCloseCode,
  OPCODE,
  validCloseCode,
} from './frames.js';
import type { Negotiated } from './handshake.js';
import { INFLATE, Inflater } from './inflate.js';

const ST = { header: 0, payload: 1, ended: 2 } as const;
type St = (typeof ST)[keyof typeof ST];

/** What the frame being read feeds. */
const SINK = { message: 0, control: 1, skip: 2 } as const;
type Sink = (typeof SINK)[keyof typeof SINK];

/**
 * Fixed bytes of a connection's state (the layer, two readers with their header, mask and control
 * buffers), for stateBytes: measured with heapUsed + arrayBuffers over 5,000 connections (Node 20):
 * ~2,400-2,700 bytes each, the upgrade's request record included.
 */
export const WS_STATE_BYTES = 2600;

export interface WsStart {
  /** The direction the upgrade request travelled in (the client's frames). */
  clientDir: Direction;
  /** Seq of the first message record (the upgrade's record and any before it took the smaller ones). */
  seqBase: number;
  /** The client and server of `meta` are swapped (the HTTP/1.1 layer found so). */
  swapped: boolean;
  /** The upgrade request: its line and headers are repeated on every message record. */
  request: HttpRequest;
  /** The 101's status line and headers. */
  response: { status: number; reason: string; version: string; headers: HeaderPair[] };
  /** Extensions of the 101 (handshake.ts). */
  extensions: Negotiated;
}

/** One data message being assembled. */
interface Message {
  text: boolean;
  compressed: boolean;
  /** RSV bits of an extension this layer does not decode were set: the payload is opaque. */
  opaque: boolean;
  frames: number;
  /** Payload bytes (before inflating), gaps included. */
  size: number;
  parts: Buffer[];
  kept: number;
  cap: number;
  startUs: number;
  endUs: number;
  gapBytes: number;
  /** A gap inside the payload: nothing is kept after it. */
  gapped: boolean;
  truncated: boolean;
  anomalies: Set<WsCounter> | null;
}

interface Reader {
  dir: Direction;
  client: boolean;
  st: St;
  /** Header bytes collected across chunks. */
  hdr: Buffer;
  hdrFill: number;
  // The frame being read.
  fin: boolean;
  opcode: number;
  masked: boolean;
  mask: Buffer;
  maskPos: number;
  left: number;
  sink: Sink;
  ctl: Buffer;
  ctlFill: number;
  ctlLost: boolean;
  frameStartUs: number;
  /** The open data message (fragments seen, FIN not yet). */
  msg: Message | null;
  /** This direction sent its close frame. */
  closed: boolean;
  /** permessage-deflate for this direction's messages, or null. */
  inflater: Inflater | null;
  truncCalls: number;
  lastTs: number;
}

export function createWsConnection(
  meta: ConnectionMeta,
  opts: HttpOptions,
  emit: ExchangeEmitter,
  counters: Counters,
  start: WsStart,
): HttpConnection {
  return new WsConnection(meta, opts, emit, counters, start);
}

class WsConnection implements HttpConnection {
  private readonly readers: [Reader, Reader];
  private nextSeq: number;
  private ended = false;
  private dead = false;
  private closeSeen = false;
  private readonly client: { ip: string; port: number };
  private readonly server: { ip: string; port: number };
  private readonly maxEncoded: number;
  /** RSV bits are an unsupported extension's: not violations, payloads opaque. */
  private readonly rsvOpaque: boolean;

  constructor(
    private readonly meta: ConnectionMeta,
    private readonly opts: HttpOptions,
    private readonly emitFn: ExchangeEmitter,
    private readonly counters: Counters,
    private readonly start: WsStart,
  ) {
    this.nextSeq = start.seqBase;
    const m = meta;
    const c = start.swapped ? m.server : m.client;
    const s = start.swapped ? m.client : m.server;
    this.client = { ip: c.ip, port: c.port };
    this.server = { ip: s.ip, port: s.port };
    this.maxEncoded = opts.maxEncodedBytes ?? DEFAULT_HTTP_OPTIONS.maxEncodedBytes ?? 1 << 20;
    const ext = start.extensions;
    if (ext.badParams) counters.inc('ws_bad_extension_params');
    if (ext.unsupported) counters.inc('ws_unsupported_extension');
    this.rsvOpaque = ext.unsupported;
    const d = ext.deflate;
    if (d !== null) counters.inc('ws_upgrades_deflate');
    const inflater = (client: boolean): Inflater | null =>
      d === null
        ? null
        : new Inflater(
            !(client ? d.clientNoContextTakeover : d.serverNoContextTakeover),
            client ? d.clientMaxWindowBits : d.serverMaxWindowBits,
            opts.maxDecodedBytes,
            opts.bodyCaptureBytes,
          );
    const cd = start.clientDir;
    const sd: Direction = cd === 0 ? 1 : 0;
    const r = [newReader(cd, true, inflater(true)), newReader(sd, false, inflater(false))];
    this.readers = cd === 0 ? [r[0] as Reader, r[1] as Reader] : [r[1] as Reader, r[0] as Reader];
  }

  onData(dir: Direction, chunk: Buffer, tsUs: number): void {
    if (this.ended || this.dead) return;
    const r = this.readers[dir];
    try {
      r.lastTs = tsUs;
      this.read(r, chunk, tsUs);
      if (r.truncCalls > 0) r.truncCalls--;
    } catch {
      this.die();
    }
  }

  onGap(dir: Direction, length: number, tsUs: number): void {
    if (this.ended || this.dead || !(length > 0)) return;
    const r = this.readers[dir];
    try {
      this.gap(r, length, tsUs);
      if (r.truncCalls > 0) r.truncCalls--;
    } catch {
      this.die();
    }
  }

  onTruncated(dir: Direction): void {
    if (this.ended || this.dead) return;
    const r = this.readers[dir];
    r.truncCalls = 2;
    if (r.msg !== null) r.msg.truncated = true;
  }

  onEnd(tsUs: number, reason: EndReason, _oneSided: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (this.dead) return;
    try {
      let lost = false;
      for (const r of this.readers) {
        if (r.st === ST.ended) lost = true;
        if (r.msg !== null) {
          this.flag(r.msg, 'ws_cut_short');
          this.finishMessage(r, false, r.lastTs || tsUs);
        }
        r.st = ST.ended;
      }
      // A closed TCP connection without any close frame (RFC 6455 §7.1.5: 1006). At the end of the
      // capture ('eof'), on eviction or idle expiry the connection may still be open.
      if (!this.closeSeen && !lost && (reason === 'fin' || reason === 'rst')) this.counters.inc('ws_no_close');
    } catch {
      this.die();
    }
  }

  stateBytes(): number {
    let n = WS_STATE_BYTES;
    for (const r of this.readers) {
      if (r.msg !== null) n += r.msg.kept;
      if (r.inflater !== null) n += r.inflater.heldBytes;
    }
    return n;
  }

  private die(): void {
    this.dead = true;
    this.counters.inc('ws_internal_error');
    for (const r of this.readers) {
      r.st = ST.ended;
      r.msg = null;
    }
  }

  // --- the frame reader ---------------------------------------------------------------------------

  private read(r: Reader, buf: Buffer, tsUs: number): void {
    let off = 0;
    const end = buf.length;
    while (off < end) {
      if (r.st === ST.header) {
        if (r.hdrFill === 0 && end - off >= 2 && end - off >= headerBytes(buf[off + 1] as number)) {
          // The whole header is in this chunk: read it in place.
          const n = headerBytes(buf[off + 1] as number);
          r.frameStartUs = tsUs;
          this.beginFrame(r, buf, off, tsUs);
          off += n;
        } else {
          if (r.hdrFill === 0) r.frameStartUs = tsUs;
          const need = r.hdrFill < 2 ? 2 : headerBytes(r.hdr[1] as number);
          const take = Math.min(need - r.hdrFill, end - off);
          buf.copy(r.hdr, r.hdrFill, off, off + take);
          r.hdrFill += take;
          off += take;
          if (r.hdrFill >= 2 && r.hdrFill === headerBytes(r.hdr[1] as number)) {
            r.hdrFill = 0;
            this.beginFrame(r, r.hdr, 0, tsUs);
          }
        }
        if ((r.st as St) === ST.payload && r.left === 0) this.endFrame(r, tsUs);
      } else if (r.st === ST.payload) {
        const n = Math.min(r.left, end - off);
        this.payload(r, buf, off, n);
        off += n;
        r.left -= n;
        r.maskPos += n;
        if (r.left === 0) this.endFrame(r, tsUs);
      } else {
        this.counters.inc('ws_skipped_bytes', end - off);
        return;
      }
    }
  }

  /** A frame header at h[o] (complete): validate it, open or continue a message, set the sink. */
  private beginFrame(r: Reader, h: Buffer, o: number, tsUs: number): void {
    this.counters.inc('ws_frames');
    const b0 = h[o] as number;
    const b1 = h[o + 1] as number;
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 0x07;
    const op = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    // Violations of this frame, attached once it is known which message (if any) it belongs to.
    // Allocated only when there is one.
    let bad: WsCounter[] | null = null;
    let len = len7;
    let p = o + 2;
    if (len7 === 126) {
      len = h.readUInt16BE(p);
      p += 2;
      if (len < 126) (bad ??= []).push('ws_nonminimal_length');
    } else if (len7 === 127) {
      const hi = h.readUInt32BE(p);
      const lo = h.readUInt32BE(p + 4);
      p += 8;
      len = hi * 0x100000000 + lo;
      if (hi >= 0x80000000 || len > MAX_FRAME_LENGTH) {
        this.loseFraming(r, 'ws_bad_length');
        return;
      }
      if (len < 65536) (bad ??= []).push('ws_nonminimal_length');
    }
    r.fin = fin;
    r.opcode = op;
    r.masked = masked;
    if (masked) h.copy(r.mask, 0, p, p + 4);
    r.maskPos = 0;
    r.left = len;
    r.st = ST.payload;
    if (masked !== r.client) (bad ??= []).push(r.client ? 'ws_unmasked_client_frame' : 'ws_masked_server_frame');
    if (r.closed) (bad ??= []).push('ws_data_after_close');
    // RSV1 is permessage-deflate's, on the first frame of a data message only (RFC 7692 §6); with an
    // extension this layer does not know, RSV bits are that extension's business.
    const rsvOk = this.rsvOpaque || rsv === 0 || (rsv === 0x4 && r.inflater !== null && op !== 0 && op < 8);
    if (!rsvOk) (bad ??= []).push('ws_bad_rsv');
    if (!knownOpcode(op)) {
      r.sink = SINK.skip;
      (bad ??= []).push('ws_bad_opcode');
    } else if (op >= 8) {
      // Control frame (RFC 6455 §5.5): may come between the fragments of a message.
      if (!fin || len > MAX_CONTROL_PAYLOAD) (bad ??= []).push('ws_bad_control_frame');
      r.sink = SINK.control;
      r.ctlFill = 0;
      r.ctlLost = false;
    } else if (op === OPCODE.continuation) {
      if (r.msg === null) {
        r.sink = SINK.skip;
        (bad ??= []).push('ws_bad_continuation');
      } else {
        r.sink = SINK.message;
      }
    } else {
      if (r.msg !== null) {
        // A new message while a fragmented one is open (RFC 6455 §5.4): the open one is cut.
        this.flag(r.msg, 'ws_bad_continuation');
        this.finishMessage(r, false, r.lastTs);
      }
      r.msg = this.newMessage(r, op === OPCODE.text, rsv, tsUs);
      r.sink = SINK.message;
    }
    const msg = r.sink === SINK.message ? r.msg : null;
    if (msg !== null) {
      msg.frames++;
      if (r.truncCalls > 0) msg.truncated = true;
    }
    if (bad !== null) {
      for (const a of bad) {
        if (msg !== null) this.flag(msg, a);
        else this.counters.inc(a);
      }
    }
  }

  private newMessage(r: Reader, text: boolean, rsv: number, tsUs: number): Message {
    const compressed = (rsv & 0x4) !== 0 && r.inflater !== null && !this.rsvOpaque;
    const opaque = rsv !== 0 && this.rsvOpaque;
    // What is kept: text up to the capture cap; compressed payloads up to the encoded cap (with
    // context takeover binary ones too: their bytes continue the window); other binary: nothing.
    let cap = 0;
    if (compressed) cap = text || (r.inflater?.takeover ?? false) ? this.maxEncoded : 0;
    else if (text && !opaque) cap = this.opts.bodyCaptureBytes;
    return {
      text,
      compressed,
      opaque,
      frames: 0,
      size: 0,
      parts: [],
      kept: 0,
      cap,
      startUs: r.frameStartUs,
      endUs: tsUs,
      gapBytes: 0,
      gapped: false,
      truncated: r.truncCalls > 0,
      anomalies: null,
    };
  }

  /** `n` payload bytes of the current frame at buf[off]. */
  private payload(r: Reader, buf: Buffer, off: number, n: number): void {
    if (n === 0) return;
    if (r.sink === SINK.message) {
      const m = r.msg as Message;
      m.size += n;
      this.counters.inc('ws_message_bytes', n);
      if (r.truncCalls > 0) m.truncated = true;
      if (m.gapped || m.kept >= m.cap) return;
      const k = Math.min(n, m.cap - m.kept);
      const copy = Buffer.allocUnsafe(k);
      buf.copy(copy, 0, off, off + k);
      if (r.masked) unmask(copy, 0, k, r.mask, r.maskPos);
      m.parts.push(copy);
      m.kept += k;
    } else if (r.sink === SINK.control) {
      const k = Math.min(n, MAX_CONTROL_PAYLOAD - r.ctlFill);
      if (k <= 0) return;
      buf.copy(r.ctl, r.ctlFill, off, off + k);
      if (r.masked) unmask(r.ctl, r.ctlFill, k, r.mask, r.maskPos);
      r.ctlFill += k;
    }
  }

  private endFrame(r: Reader, tsUs: number): void {
    r.st = ST.header;
    if (r.sink === SINK.control) {
      this.control(r);
      return;
    }
    if (r.sink === SINK.message && r.fin && r.msg !== null) this.finishMessage(r, true, tsUs);
  }

  private control(r: Reader): void {
    switch (r.opcode) {
      case OPCODE.ping:
        this.counters.inc('ws_pings');
        return;
      case OPCODE.pong:
        this.counters.inc('ws_pongs');
        return;
      case OPCODE.close:
        break;
      default:
        return;
    }
    this.counters.inc('ws_close_frames');
    r.closed = true;
    this.closeSeen = true;
    if (r.ctlLost) return; // its payload fell in a gap
    // RFC 6455 §5.5.1: empty, or a 2-byte status code followed by a UTF-8 reason (never kept).
    if (r.ctlFill === 0) return;
    if (r.ctlFill === 1) {
      this.counters.inc('ws_bad_close');
      return;
    }
    const code = r.ctl.readUInt16BE(0);
    if (!validCloseCode(code)) this.counters.inc('ws_bad_close');
    else if (!normalCloseCode(code)) this.counters.inc('ws_close_error');
    if (r.ctlFill > 2 && !isUtf8(r.ctl.subarray(2, r.ctlFill))) this.counters.inc('ws_invalid_utf8');
  }

  private gap(r: Reader, len: number, tsUs: number): void {
    if (r.st === ST.ended) {
      this.counters.inc('ws_skipped_bytes', len);
      return;
    }
    if (r.st === ST.payload && r.hdrFill === 0 && len <= r.left) {
      // Inside the payload: the frame's length still says where the next frame starts.
      if (r.sink === SINK.message) {
        const m = r.msg as Message;
        m.size += len;
        m.gapBytes += len;
        m.gapped = true;
        this.flag(m, 'ws_message_gap');
      } else if (r.sink === SINK.control) {
        r.ctlLost = true;
      }
      r.left -= len;
      r.maskPos += len;
      if (r.left === 0) this.endFrame(r, tsUs);
      return;
    }
    if (r.st === ST.payload && r.msg !== null && r.sink === SINK.message) {
      r.msg.gapBytes += Math.min(len, r.left);
      r.msg.size += Math.min(len, r.left);
    }
    this.loseFraming(r, 'ws_gap');
  }

  /** The direction's frame boundaries are lost: its open message leaves incomplete, the rest is skipped. */
  private loseFraming(r: Reader, why: WsCounter): void {
    if (r.msg !== null) {
      this.flag(r.msg, why);
      this.flag(r.msg, 'ws_cut_short');
      this.finishMessage(r, false, r.lastTs);
    } else {
      this.counters.inc(why);
    }
    r.st = ST.ended;
    r.hdrFill = 0;
    r.left = 0;
  }

  private flag(m: Message, a: WsCounter): void {
    if (m.anomalies === null) m.anomalies = new Set();
    else if (m.anomalies.has(a)) return;
    m.anomalies.add(a);
    this.counters.inc(a);
  }

  // --- messages → records -------------------------------------------------------------------------

  /** Ends the open message of `r` (`reached`: its FIN frame ended) and emits its record. */
  private finishMessage(r: Reader, reached: boolean, tsUs: number): void {
    const m = r.msg as Message;
    r.msg = null;
    m.endUs = tsUs;
    const complete = reached && !m.gapped;
    const raw = m.parts.length === 1 ? (m.parts[0] as Buffer) : Buffer.concat(m.parts);
    m.parts = [];
    const allKept = m.kept === m.size;
    let out: Buffer = raw;
    let decodedSize: number | null = complete ? m.size : null;
    let exact = allKept;
    if (m.compressed && r.inflater !== null && m.cap > 0) {
      if (!allKept && !m.gapped) this.flag(m, 'ws_encoded_message_capped');
      const d = r.inflater.inflate(raw, complete && allKept);
      out = d.out;
      exact = d.status === INFLATE.ok && complete && allKept;
      decodedSize = exact ? out.length : null;
      if (d.status === INFLATE.failed) this.flag(m, 'ws_inflate_failed');
      else if (d.status === INFLATE.capped) this.flag(m, 'ws_inflate_capped');
      else if (d.status === INFLATE.lost) this.flag(m, 'ws_inflate_context_lost');
    } else if (m.compressed) {
      decodedSize = null; // binary without context takeover: not inflated (not scanned)
    }
    const client = r.client;
    const counter: WsCounter = client
      ? m.text
        ? 'ws_messages_client_text'
        : 'ws_messages_client_binary'
      : m.text
        ? 'ws_messages_server_text'
        : 'ws_messages_server_binary';
    this.counters.inc(counter);
    if (m.compressed) this.counters.inc('ws_messages_compressed');
    if (m.frames > 1) this.counters.inc('ws_messages_fragmented');
    const body =
      m.text && !m.opaque ? this.textBody(m, out, exact, complete, decodedSize) : binaryBody(m, decodedSize, complete);
    this.emit(r, m, body, complete);
  }

  private textBody(m: Message, out: Buffer, exact: boolean, complete: boolean, decodedSize: number | null): Body {
    const cap = this.opts.bodyCaptureBytes;
    let data = out.length > cap ? out.subarray(0, cap) : out;
    const whole = exact && data.length === out.length && complete;
    let encoding: 'utf8' | 'base64' = 'utf8';
    if (!isUtf8(data)) {
      const trimmed = whole ? data : trimIncompleteUtf8(data);
      if (trimmed.length < data.length && isUtf8(trimmed)) data = trimmed;
      else {
        encoding = 'base64';
        this.flag(m, 'ws_invalid_utf8');
      }
    }
    return {
      size: m.size,
      decodedSize,
      contentType: looksJson(data) ? 'application/json' : 'text/plain',
      contentEncoding: m.compressed ? ['permessage-deflate'] : [],
      encoding,
      data: encoding === 'utf8' ? data.toString('utf8') : data.toString('base64'),
      truncated: !whole,
      complete,
    };
  }

  private emit(r: Reader, m: Message, body: Body, complete: boolean): void {
    const seq = this.nextSeq++;
    const rq = this.start.request;
    const rs = this.start.response;
    const fromClient = r.client;
    const meta = this.meta;
    const ex: Exchange = {
      schema: EXCHANGE_SCHEMA,
      id: exchangeId(meta.flowId, seq),
      flowId: meta.flowId,
      seq,
      vni: meta.vni,
      tunnel: meta.tunnel === null ? null : { kind: meta.tunnel.kind, id: meta.tunnel.id },
      client: { ip: this.client.ip, port: this.client.port },
      server: { ip: this.server.ip, port: this.server.port },
      request: {
        method: rq.method,
        target: rq.target,
        version: rq.version,
        headers: rq.headers,
        trailers: [],
        body: fromClient ? body : emptyBody(),
        startUs: m.startUs,
        endUs: m.endUs,
      },
      response: {
        status: rs.status,
        reason: rs.reason,
        version: rs.version,
        headers: rs.headers,
        trailers: [],
        body: fromClient ? emptyBody() : body,
        interim: [],
        startUs: m.startUs,
        endUs: m.endUs,
      },
      latencyUs: null,
      anomalies: m.anomalies === null ? [] : [...m.anomalies].sort(),
      quality: { gapBytes: m.gapBytes, truncated: m.truncated, oneSided: false, midstream: !meta.handshake },
      complete,
      protocol: 'websocket',
      streamId: null,
      websocket: {
        direction: fromClient ? 'client' : 'server',
        type: m.text ? 'text' : 'binary',
        frames: m.frames,
        compressed: m.compressed,
      },
    };
    try {
      this.emitFn(ex);
    } catch {
      this.counters.inc('ws_emit_error');
    }
  }
}

function newReader(dir: Direction, client: boolean, inflater: Inflater | null): Reader {
  return {
    dir,
    client,
    st: ST.header,
    hdr: Buffer.alloc(MAX_HEADER_BYTES),
    hdrFill: 0,
    fin: false,
    opcode: 0,
    masked: false,
    mask: Buffer.alloc(4),
    maskPos: 0,
    left: 0,
    sink: SINK.skip,
    ctl: Buffer.alloc(MAX_CONTROL_PAYLOAD),
    ctlFill: 0,
    ctlLost: false,
    frameStartUs: 0,
    msg: null,
    closed: false,
    inflater,
    truncCalls: 0,
    lastTs: 0,
  };
}

/** XOR `n` bytes of b from `off` with the masking key, starting at key position `pos` (RFC 6455 §5.3). */
function unmask(b: Buffer, off: number, n: number, mask: Buffer, pos: number): void {
  const m0 = mask[pos & 3] as number;
  const m1 = mask[(pos + 1) & 3] as number;
  const m2 = mask[(pos + 2) & 3] as number;
  const m3 = mask[(pos + 3) & 3] as number;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const j = off + i;
    b[j] = (b[j] as number) ^ m0;
    b[j + 1] = (b[j + 1] as number) ^ m1;
    b[j + 2] = (b[j + 2] as number) ^ m2;
    b[j + 3] = (b[j + 3] as number) ^ m3;
  }
  for (; i < n; i++) b[off + i] = (b[off + i] as number) ^ (mask[(pos + i) & 3] as number);
}

/** The message starts like a JSON document (first non-blank byte `{` or `[`). */
function looksJson(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b || c === 0x5b;
  }
  return false;
}

function binaryBody(m: Message, decodedSize: number | null, complete: boolean): Body {
  return {
    size: m.size,
    decodedSize,
    contentType: 'application/octet-stream',
    contentEncoding: m.compressed ? ['permessage-deflate'] : [],
    encoding: 'utf8',
    data: '',
    truncated: m.size > 0 || !complete,
    complete,
  };
}

function emptyBody(): Body {
  return {
    size: 0,
    decodedSize: 0,
    contentType: null,
    contentEncoding: [],
    encoding: 'utf8',
    data: '',
    truncated: false,
    complete: true,
  };
}
