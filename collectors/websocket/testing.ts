// Test support: WebSocket frames built byte by byte (RFC 6455 §5.2), a real permessage-deflate
// compressor (node:zlib, sync flush, tail removed: RFC 7692 §7.2.1), and a harness that feeds an
// upgrade plus frames through the HTTP layer (the real hand-off) in chunks of any size.
import zlib from 'node:zlib';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../http/connection.js';
import type { Direction, EndReason, HttpOptions } from '../http/types.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';

export interface FrameSpec {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** RSV bits (0..7; 4 = RSV1). */
  rsv?: number;
  /** Masking key (client frames), or null for none. */
  mask?: Buffer | null;
  /** Length encoding: 'min' (default), or force 16/64 bits (non-minimal when short). */
  len?: 'min' | 16 | 64;
  /** Announced length when it must differ from the payload (hostile frames). */
  announce?: number;
}

export function frame(f: FrameSpec): Buffer {
  const n = f.announce ?? f.payload.length;
  const enc = f.len ?? 'min';
  const ext = enc === 64 || (enc === 'min' && n > 0xffff) ? 8 : enc === 16 || (enc === 'min' && n > 125) ? 2 : 0;
  const mask = f.mask ?? null;
  const h = Buffer.alloc(2 + ext + (mask !== null ? 4 : 0));
  h[0] = ((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode;
  h[1] = (mask !== null ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(n, 2);
  if (ext === 8) {
    h.writeUInt32BE(Math.floor(n / 0x100000000), 2);
    h.writeUInt32BE(n >>> 0, 6);
  }
  let body = f.payload;
  if (mask !== null) {
    mask.copy(h, 2 + ext);
    body = Buffer.from(f.payload);
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number);
  }
  return Buffer.concat([h, body]);
}

/** A close frame payload: status code and reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, Buffer.from(reason, 'utf8')]);
}

/**
 * A permessage-deflate compressor of one direction: each message compressed with a sync flush and
 * the trailing 00 00 ff ff removed (RFC 7692 §7.2.1). `takeover`: the previous messages' last
 * 2^windowBits bytes are the compressor's window (RFC 7692 §7.2.3), given to zlib as its preset
 * dictionary (node's zlib has no synchronous streaming; the real streaming compressor of the `ws`
 * package is exercised in real.test.ts).
 */
export class Deflater {
  private history: Buffer = Buffer.alloc(0);
  constructor(
    private readonly takeover: boolean,
    private readonly windowBits = 15,
  ) {}

  compress(msg: Buffer): Buffer {
    const opts: zlib.ZlibOptions = { finishFlush: zlib.constants.Z_SYNC_FLUSH, windowBits: this.windowBits };
    if (this.takeover && this.history.length > 0) opts.dictionary = this.history;
    const out = zlib.deflateRawSync(msg, opts);
    if (this.takeover) {
      const h = Buffer.concat([this.history, msg]);
      this.history = Buffer.from(h.subarray(Math.max(0, h.length - (1 << this.windowBits))));
    }
    return out.subarray(0, out.length - 4);
  }
}

export const WS_META = {
  flowId: 'flow-ws',
  vni: null,
  tunnel: null,
  client: { ip: '10.0.0.1', port: 40000 },
  server: { ip: '10.0.0.2', port: 80 },
  handshake: true,
};

export const UPGRADE_REQUEST =
  'GET /chat?room=1 HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Authorization: Bearer t0k3n\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** A 101 with the given Sec-WebSocket-Extensions (or none). */
export function upgradeResponse(extensions: string | null = null): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
    '\r\n'
  );
}

export type WsEvent =
  { dir: Direction; data: Buffer } | { dir: Direction; gap: number } | { dir: Direction; truncated: true };

export interface WsRun {
  exchanges: Exchange[];
  counters: Counters;
}

/**
 * The upgrade (request, then a 101 with `extensions`), then `events`, through the HTTP layer; data
 * re-split by `split` (chunk sizes for a length); the connection ends with `end`.
 */
export function runWs(
  events: readonly WsEvent[],
  o: {
    extensions?: string | null;
    split?: (len: number) => number[];
    end?: EndReason;
    opts?: Partial<HttpOptions>;
    /** Client bytes sent after the request, before the 101 (held by the HTTP layer until it comes). */
    early?: Buffer;
  } = {},
): WsRun {
  const counters = new Counters();
  const exchanges: Exchange[] = [];
  const conn = createHttpConnection(
    WS_META,
    { ...DEFAULT_HTTP_OPTIONS, ...o.opts },
    (ex) => exchanges.push(ex),
    counters,
  );
  let ts = 1_700_000_000_000_000;
  const feed = (dir: Direction, b: Buffer): void => {
    const sizes = o.split?.(b.length) ?? [b.length];
    let off = 0;
    for (const n of sizes) {
      ts += 10;
      conn.onData(dir, b.subarray(off, off + n), ts);
      off += n;
    }
  };
  feed(0, Buffer.concat([Buffer.from(UPGRADE_REQUEST, 'latin1'), o.early ?? Buffer.alloc(0)]));
  feed(1, Buffer.from(upgradeResponse(o.extensions ?? null), 'latin1'));
  for (const e of events) {
    if ('data' in e) feed(e.dir, e.data);
    else if ('gap' in e) conn.onGap(e.dir, e.gap, (ts += 10));
    else conn.onTruncated(e.dir);
  }
  conn.onEnd(ts + 10, o.end ?? 'fin', false);
  return { exchanges, counters };
}

/** The message records (not the upgrade's) as "c|s text|binary <data>" lines. */
export function messages(exs: readonly Exchange[]): string[] {
  return exs
    .filter((e) => e.websocket !== undefined && e.websocket !== null)
    .map((e) => {
      const w = e.websocket as NonNullable<Exchange['websocket']>;
      const body = w.direction === 'client' ? e.request?.body : e.response?.body;
      return `${w.direction === 'client' ? 'c' : 's'} ${w.type} ${body?.data ?? ''}`;
    });
}

/** Random 4-byte masking key from a seed (deterministic tests). */
export function maskOf(seed: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE((Math.imul(seed + 1, 0x9e3779b1) | 1) >>> 0, 0);
  return b;
}
