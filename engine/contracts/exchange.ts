// exchange/v1: the only record that crosses from collectors to analyzers (in process, or over Kafka).
//
// Contract:
// - Every field is always present (null where unknown), except `protocol`, `streamId` and
//   `websocket`, which HTTP/1.x records leave out (h2c records leave out `websocket`), so JSON.stringify of an Exchange built by the collector is
//   byte-identical across runs of the same capture: key order is the order below.
// - Times are packet time in integer microseconds since the Unix epoch, never wall clock.
// - Header names and values are kept as on the wire (names not lower-cased), in wire order.
// - Body `data` holds at most the configured capture cap of the *decoded* body (transfer and content
//   encodings removed when possible); `size` always counts the full entity length seen on the wire.
// - `anomalies` holds stable snake_case names (see anomalies.ts), sorted, without duplicates.
import { z } from 'zod';

export const EXCHANGE_SCHEMA = 'exchange/v1' as const;

export const Endpoint = z.object({
  ip: z.string(),
  port: z.number().int().min(0).max(65535),
});

export const HeaderPair = z.tuple([z.string(), z.string()]);

export const Body = z.object({
  /**
   * Entity length after transfer decoding (chunk framing removed), before content decoding, as the
   * framing declares it: bytes skipped in a gap inside a body of known length are included.
   */
  size: z.number().int().nonnegative(),
  /** Bytes after content decoding (gzip, deflate, br); equal to size without Content-Encoding; null when decoding was capped, failed or partial. */
  decodedSize: z.number().int().nonnegative().nullable(),
  /** Content-Type header value, or null. */
  contentType: z.string().nullable(),
  /** Content-Encoding tokens as listed on the wire (e.g. ["gzip"]), empty when none. */
  contentEncoding: z.array(z.string()),
  /** How `data` is encoded in this record: utf8 text when the captured bytes are valid UTF-8, else base64. */
  encoding: z.enum(['utf8', 'base64']),
  /** Captured (decoded when possible) body bytes, at most the capture cap. */
  data: z.string(),
  /** True when `data` holds fewer bytes than the body had (cap reached, decode failed, gap, or cut short). */
  truncated: z.boolean(),
  /** True when the whole body was seen on the wire (no gap, not cut off by the end of the connection). */
  complete: z.boolean(),
});

export const Request = z.object({
  method: z.string(),
  target: z.string(),
  /** "HTTP/1.0" or "HTTP/1.1" as on the wire; "" when the start line had no valid version. */
  version: z.string(),
  headers: z.array(HeaderPair),
  /** Chunked trailer fields (RFC 9112 §7.1.2), in wire order; empty when none. */
  trailers: z.array(HeaderPair),
  body: Body,
  startUs: z.number().int(),
  endUs: z.number().int(),
});

export const Response = z.object({
  status: z.number().int(),
  reason: z.string(),
  version: z.string(),
  headers: z.array(HeaderPair),
  trailers: z.array(HeaderPair),
  body: Body,
  /** Status codes of 1xx interim responses that preceded this final response, in order. */
  interim: z.array(z.number().int()),
  startUs: z.number().int(),
  endUs: z.number().int(),
});

/**
 * WebSocket (RFC 6455, collectors/websocket): how a connection upgraded with `Upgrade: websocket`
 * is represented, so that every analyzer works on it unchanged.
 * - The upgrade itself is the HTTP/1.1 exchange it always was (request, the 101, its latency), with
 *   `protocol: 'websocket'` and `websocket` absent: the endpoint (host, GET, path) and its auth come
 *   from it, and its protocol becomes 'websocket'.
 * - Each data message (text or binary, all its fragments, inflated when permessage-deflate was
 *   negotiated) is one more record of the connection (`seq` after the upgrade's, in the order the
 *   messages ended), with `protocol: 'websocket'` and `websocket` set. It repeats the upgrade's
 *   request line and headers (the message travels under that path and those credentials) and the
 *   101's status line and headers; the message is the body of the side it travelled on (client →
 *   `request.body`, server → `response.body`), the other side's body is empty. Body `contentType`
 *   is the collector's classification of the message: 'application/json' (a text message that
 *   starts like JSON), 'text/plain' (other text), 'application/octet-stream' (binary: counted, its
 *   bytes not kept, `data` empty). `contentEncoding` is ['permessage-deflate'] for a compressed
 *   message. Start and end times of both sides are the message's first and last frame; `latencyUs`
 *   is null (messages are not requests and answers).
 * - So an endpoint's hits count its upgrades plus its messages (both directions): a WebSocket API
 *   does its work in messages as a REST API does in requests, and the endpoint's last-seen time
 *   follows the connection's last message, not its hours-old handshake. Records with `websocket`
 *   give the per-direction counts; PII and field shapes get paths under the endpoint
 *   (`request.body $.user.email`) exactly as for an HTTP body.
 * - Control frames (ping, pong, close) are not records; they and every framing anomaly are counted
 *   (engine/contracts/catalogue.ts, section websocket).
 */
export const WebSocketMessage = z.object({
  /** Who sent the message: 'client' (the side that sent the upgrade request) or 'server'. */
  direction: z.enum(['client', 'server']),
  /** Opcode of its first frame: 'text' (1) or 'binary' (2). */
  type: z.enum(['text', 'binary']),
  /** Frames the message was sent in (1 when not fragmented). */
  frames: z.number().int().nonnegative(),
  /** Compressed with permessage-deflate (RSV1 set on its first frame, RFC 7692 §6). */
  compressed: z.boolean(),
});

export const Exchange = z.object({
  schema: z.literal(EXCHANGE_SCHEMA),
  /** Deterministic: derived from flowId and seq. */
  id: z.string(),
  /** Deterministic: derived from VNI, tunnel identity, the connection's 4-tuple and its first packet time. */
  flowId: z.string(),
  /** Position of this exchange on its connection, 0-based. */
  seq: z.number().int().nonnegative(),
  /** VXLAN network identifier of the mirror session, or null when not tunnelled through VXLAN. */
  vni: z.number().int().nullable(),
  /**
   * The tunnel the packets came through: kind ('vxlan', 'geneve', 'gre', 'erspan', 'ipip', '6in4',
   * '4in6', 'ip6ip6', 'gtpu', 'teredo', 'ayiya', 'pptp', 'mplsip') and id of the outermost tunnel that carries
   * one (VNI, GRE key, ERSPAN session, TEID, call id); else the outermost tunnel with id 0. Null when
   * not tunnelled. Records written before the field existed read as null.
   */
  tunnel: z.object({ kind: z.string(), id: z.number().int().nonnegative() }).nullable().default(null),
  client: Endpoint,
  server: Endpoint,
  request: Request.nullable(),
  response: Response.nullable(),
  /** responseStart - requestEnd in microseconds, or null when unpaired. */
  latencyUs: z.number().int().nullable(),
  anomalies: z.array(z.string()),
  /** Capture-quality facts that findings use as evidence of how complete the exchange was. */
  quality: z.object({
    /** Bytes of this exchange's messages that were never seen (gaps inside them). */
    gapBytes: z.number().int().nonnegative(),
    /** Some packet of this exchange was cut by snaplen or mirror MTU. */
    truncated: z.boolean(),
    /** Only one direction of the connection was ever seen. */
    oneSided: z.boolean(),
    /** The connection was joined mid-stream (no handshake seen). */
    midstream: z.boolean(),
  }),
  /** Both messages present and complete. */
  complete: z.boolean(),
  /**
   * The protocol the exchange was carried in: 'http' (HTTP/1.x), 'h2c' (HTTP/2 cleartext), 'grpc'
   * (gRPC over h2c), 'websocket' (see WebSocket below); later 'graphql'. HTTP/1.x records leave it
   * out (their bytes stay as before the field existed): absent means 'http'.
   */
  protocol: z.string().default('http'),
  /** HTTP/2 stream identifier; absent or null outside HTTP/2. */
  streamId: z.number().int().nonnegative().nullable().default(null),
  /** WebSocket message records only (see WebSocket below); absent or null on every other record. */
  websocket: WebSocketMessage.nullable().default(null),
});

export type Endpoint = z.infer<typeof Endpoint>;
export type HeaderPair = z.infer<typeof HeaderPair>;
export type Body = z.infer<typeof Body>;
export type HttpRequest = z.infer<typeof Request>;
export type HttpResponse = z.infer<typeof Response>;
export type WebSocketMessage = z.infer<typeof WebSocketMessage>;
/**
 * As producers build it: `protocol`, `streamId` and `websocket` may be absent (their defaults apply
 * when a record is parsed); read the protocol with exchangeProtocol().
 */
export type Exchange = z.input<typeof Exchange>;

/** The exchange's protocol, 'http' when the record does not say. */
export function exchangeProtocol(ex: Exchange): string {
  return ex.protocol ?? 'http';
}

/** Case-insensitive header lookup: the first value, or null. `name` is lower-case. */
export function headerValue(headers: readonly HeaderPair[], name: string): string | null {
  const n = name.length;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as HeaderPair;
    const k = h[0];
    if (k.length === n && lowerEquals(k, name)) return h[1];
  }
  return null;
}

/** k.toLowerCase() === lower, compared in place for ASCII (header names are tokens, RFC 9110 §5.1). */
function lowerEquals(k: string, lower: string): boolean {
  for (let i = 0; i < k.length; i++) {
    let c = k.charCodeAt(i);
    if (c >= 128) return k.toLowerCase() === lower;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;
/** Host header value → apiHost's form of it (bounded, cleared when full; host names, not personal data). */
const hostNames = new Map<string, string>();

/**
 * The API host an exchange belongs to — the one definition the Kafka partition key, the analyzers and
 * the store share: the authority of an absolute-form target (RFC 9112 §3.2.2: it wins over Host;
 * userinfo dropped), else the Host header, both lower-cased with the port kept, else server ip:port.
 */
export function apiHost(ex: Exchange): string {
  // An origin-form target ('/…') cannot be absolute-form: no regex on the common path.
  const abs = ex.request && ex.request.target.charCodeAt(0) !== 47 ? ABSOLUTE_FORM.exec(ex.request.target) : null;
  if (abs) {
    const authority = (abs[1] ?? '').replace(/^[^@]*@/, '').toLowerCase();
    if (authority !== '') return authority;
  }
  const h = ex.request ? headerValue(ex.request.headers, 'host') : null;
  if (h !== null) {
    const known = hostNames.get(h);
    if (known !== undefined) return known;
    const norm = h.trim().toLowerCase();
    if (norm !== '') {
      // The same host string for every exchange of a host: maps keyed by it hash it once.
      if (h.length <= 255) {
        if (hostNames.size >= 1024) hostNames.clear();
        hostNames.set(h, norm);
      }
      return norm;
    }
  }
  const ip = ex.server.ip.includes(':') ? `[${ex.server.ip}]` : ex.server.ip;
  return `${ip}:${ex.server.port}`;
}
