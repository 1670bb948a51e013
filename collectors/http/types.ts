// The HTTP layer's side of the reassembly contract.
//
// Reassembly delivers, per connection, the in-order bytes of each direction, gaps of known size, and
// the end. Direction 0 is client→server as the flow layer believes; the HTTP layer may find the
// orientation was inferred wrongly (a response line arriving in direction 0) and swap it.
import type { Exchange } from '../../engine/contracts/exchange.js';
import type { GrpcSchema } from '../h2/descriptor.js';

export const CLIENT_TO_SERVER = 0;
export const SERVER_TO_CLIENT = 1;
export type Direction = 0 | 1;

export type EndReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'eof';

/** What the flow layer knows about the connection when it creates the HTTP parser for it. */
export interface ConnectionMeta {
  /** Deterministic flow id (see flow/). */
  flowId: string;
  vni: number | null;
  /** Tunnel identity (exchange/v1 `tunnel`), or null when not tunnelled. */
  tunnel: { kind: string; id: number } | null;
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  /** Orientation came from the handshake (SYN) rather than from a guess. */
  handshake: boolean;
}

export interface HttpConnection {
  /** In-order bytes of one direction. `chunk` is valid only during the call. `truncated` marks bytes from a packet cut by snaplen/MTU (the cut bytes arrive as a gap). */
  onData(dir: Direction, chunk: Buffer, tsUs: number): void;
  /** `length` bytes of direction `dir` were never seen (lost, or never mirrored). */
  onGap(dir: Direction, length: number, tsUs: number): void;
  /** The packet carrying the following bytes was truncated by the capture (for quality flags). */
  onTruncated(dir: Direction): void;
  /** The connection is over: flush every pending message (unpaired ones are emitted, flagged). */
  onEnd(tsUs: number, reason: EndReason, oneSided: boolean): void;
  /** Estimated bytes of this connection's state (fixed costs + bytes it holds), for the flow table's byte bound. */
  stateBytes?(): number;
}

export interface HttpOptions {
  /** Max decoded body bytes kept in Exchange.body.data (full size is still counted). */
  bodyCaptureBytes: number;
  /** Max bytes produced by content decoding of one body (decompression bomb cap). */
  maxDecodedBytes: number;
  /** Max total header bytes of one message before http_header_overflow. */
  maxHeaderBytes: number;
  /** Max header lines of one message before http_header_flood. */
  maxHeaderCount: number;
  /** Max requests waiting for their response on one connection (pipelining) before the oldest is emitted unpaired. */
  maxPendingRequests: number;
  /**
   * Max encoded (compressed) bytes of one body kept for content decoding; the rest is counted, not
   * kept, and only the prefix is decoded (anomaly http_encoded_body_capped). Default 1 MiB.
   */
  maxEncodedBytes?: number;
  /**
   * Message types of gRPC methods (a FileDescriptorSet, collectors/h2/descriptor.ts): fields of
   * those methods' messages get their names instead of their numbers.
   */
  grpcSchema?: GrpcSchema;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  bodyCaptureBytes: 64 * 1024,
  maxDecodedBytes: 8 * 1024 * 1024,
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 256,
  maxPendingRequests: 64,
  maxEncodedBytes: 1024 * 1024,
};

export type ExchangeEmitter = (ex: Exchange) => void;
