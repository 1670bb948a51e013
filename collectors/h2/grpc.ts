// gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): one call per stream; each direction carries
// length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length, the message).
//
// GrpcCollector reads one direction's DATA bytes as they come (messages may span frames and frames
// may hold several messages), counts every message, keeps the first ones within byte and count caps,
// and at the end decodes them (grpc-encoding gzip/deflate with the decompression cap, then protobuf
// without a schema, protobuf.ts) into a JSON body: one message → its object, several → an array of
// them in order (a stream), none → empty. Nothing kept after a gap: messages after it are counted
// only when their prefix is seen again (it is not: the framing is lost, the rest is skipped).
import type { H2Counter, HttpCounter } from '../../engine/contracts/catalogue.js';
import zlib from 'node:zlib';
import type { Body } from '../../engine/contracts/exchange.js';
import type { GrpcSchema, PbMessageSchema } from './descriptor.js';
import { decodeProtobuf } from './protobuf.js';
import type { PbValue } from './protobuf.js';

export interface GrpcLimits {
  /** Bytes of JSON kept in Body.data. */
  bodyCaptureBytes: number;
  /** Encoded message bytes kept for decoding (all messages of the direction together). */
  maxEncodedBytes: number;
  /** Bytes one message may decode to (decompression bomb cap). */
  maxDecodedBytes: number;
  /** Messages decoded into the body; the rest are counted only. */
  maxMessages: number;
}

const PREFIX = 5;

/** True for content-type application/grpc, application/grpc+proto, application/grpc-web... (not grpc-web: it is framed differently over HTTP/1). */
export function isGrpcContentType(ct: string | null): boolean {
  if (ct === null) return false;
  const t = ct.trim().toLowerCase();
  return t === 'application/grpc' || t.startsWith('application/grpc+') || t.startsWith('application/grpc;');
}

export class GrpcCollector {
  /** Entity bytes seen (DATA payload without padding), gaps included. */
  size = 0;
  messages = 0;
  gap = false;
  /** A message prefix announced more bytes than the stream carried, or a bad flag. */
  bad = false;
  private readonly kept: { compressed: boolean; data: Buffer }[] = [];
  private keptBytes = 0;
  private readonly head = Buffer.alloc(PREFIX);
  private headFill = 0;
  /** Bytes left of the current message (after its prefix); -1 while reading a prefix. */
  private left = -1;
  private compressed = false;
  private parts: Buffer[] | null = null;
  private capped = false;

  /**
   * `type`: the message type of this direction when a schema names it (descriptor.ts), with the
   * whole `schema` for its nested types; else messages are decoded by field number.
   */
  constructor(
    private readonly contentType: string | null,
    private readonly encoding: string | null,
    private readonly limits: GrpcLimits,
    private readonly type: PbMessageSchema | null = null,
    private readonly schema: GrpcSchema | null = null,
  ) {}

  /** `buf` is valid only during the call: kept bytes are copied. */
  add(buf: Buffer, off: number, len: number): void {
    this.size += len;
    if (this.gap || this.bad) return;
    const end = off + len;
    let p = off;
    while (p < end) {
      if (this.left < 0) {
        const n = Math.min(PREFIX - this.headFill, end - p);
        buf.copy(this.head, this.headFill, p, p + n);
        this.headFill += n;
        p += n;
        if (this.headFill < PREFIX) return;
        this.headFill = 0;
        const flag = this.head[0] as number;
        if (flag > 1) {
          this.bad = true;
          return;
        }
        this.compressed = flag === 1;
        this.left = this.head.readUInt32BE(1);
        this.messages++;
        const keep =
          this.kept.length < this.limits.maxMessages && this.keptBytes + this.left <= this.limits.maxEncodedBytes;
        if (!keep && this.kept.length < this.limits.maxMessages) this.capped = true;
        if (this.kept.length >= this.limits.maxMessages) this.capped = true;
        this.parts = keep ? [] : null;
        if (this.left === 0) this.endMessage();
        continue;
      }
      const n = Math.min(this.left, end - p);
      if (this.parts !== null) this.parts.push(Buffer.from(buf.subarray(p, p + n))); // copy: outlives the call
      this.left -= n;
      p += n;
      if (this.left === 0) this.endMessage();
    }
  }

  addGap(len: number): void {
    this.size += len;
    this.gap = true;
    this.parts = null;
  }

  private endMessage(): void {
    if (this.parts !== null) {
      const data = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
      this.kept.push({ compressed: this.compressed, data });
      this.keptBytes += data.length;
    }
    this.parts = null;
    this.left = -1;
  }

  /** The Body record (data: the JSON of the decoded messages). `flag` receives anomalies. */
  finish(complete: boolean, flag: (anomaly: H2Counter | HttpCounter) => void): Body {
    const midMessage = this.left >= 0 || this.headFill > 0;
    if (midMessage && !this.gap) {
      this.bad = true;
    }
    if (this.bad) flag('grpc_bad_message');
    if (this.capped) flag('grpc_messages_capped');
    const values: PbValue[] = [];
    let decodedSize = 0;
    let exact = !this.capped && !this.gap && !this.bad;
    for (const m of this.kept) {
      let raw = m.data;
      if (m.compressed) {
        const d = this.decompress(raw, flag);
        if (d === null) {
          exact = false;
          values.push(raw.toString('base64'));
          continue;
        }
        raw = d;
      }
      decodedSize += raw.length;
      const msg = decodeProtobuf(raw, 0, raw.length, undefined, this.type, this.schema);
      if (msg === null) {
        flag('grpc_not_protobuf');
        values.push(raw.toString('base64'));
      } else {
        values.push(msg);
      }
    }
    let data = '';
    if (values.length === 1) data = JSON.stringify(values[0]);
    else if (values.length > 1) data = JSON.stringify(values);
    let truncated = !exact;
    if (data.length > this.limits.bodyCaptureBytes) {
      data = data.slice(0, this.limits.bodyCaptureBytes);
      truncated = true;
    }
    const whole = complete && !this.gap;
    return {
      size: this.size,
      decodedSize: whole && exact ? decodedSize : null,
      contentType: this.contentType,
      contentEncoding: this.encoding !== null && this.kept.some((m) => m.compressed) ? [this.encoding] : [],
      encoding: 'utf8',
      data,
      truncated: truncated || !whole,
      complete: whole,
    };
  }

  private decompress(raw: Buffer, flag: (anomaly: H2Counter | HttpCounter) => void): Buffer | null {
    const enc = (this.encoding ?? '').trim().toLowerCase();
    const opts = { maxOutputLength: this.limits.maxDecodedBytes };
    try {
      if (enc === 'gzip') return zlib.gunzipSync(raw, opts);
      if (enc === 'deflate') {
        // grpc's "deflate" is zlib-wrapped (RFC 1950); raw deflate is accepted too.
        try {
          return zlib.inflateSync(raw, opts);
        } catch (e) {
          if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw e;
          return zlib.inflateRawSync(raw, opts);
        }
      }
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') flag('grpc_decompression_capped');
      else flag('grpc_decompression_failed');
      return null;
    }
    flag('grpc_unsupported_encoding');
    return null;
  }
}
