// Every counter and anomaly name the HTTP/2 cleartext and gRPC layers raise, with what it means.
//
// Contract: names are stable snake_case strings. Anomalies are counted once per stream they affect
// and listed on that stream's Exchange.anomalies; events without a stream are counted only.
// Renaming one is a breaking change of exchange/v1 data.
export const H2_ANOMALIES = {
  // Connection and frames (RFC 9113 §4, §6).
  h2_resync:
    'frame boundaries were lost (gap, mid-stream join, bad frame): the direction searched for the next plausible frame header',
  h2_resync_skipped_bytes: 'bytes skipped while searching for a frame header (a counter, not an anomaly)',
  h2_bad_frame:
    'a frame whose length or stream id breaks RFC 9113 §6 (e.g. SETTINGS not a multiple of 6): the direction resynchronised',
  h2_frame_too_large: 'a non-DATA frame larger than the frame cap: skipped (its header block is lost)',
  h2_padding_error: 'a pad length not smaller than the frame payload (RFC 9113 §6.1): the frame was treated as padding',
  h2_continuation_missing: 'a header block without END_HEADERS was followed by another frame than its CONTINUATION',
  h2_header_block_too_large: 'a header block (HEADERS + CONTINUATION) larger than maxHeaderBytes: dropped',
  // HPACK (RFC 7541).
  h2_hpack_desync:
    'a header field referenced a dynamic-table entry lost with a gap or before a mid-stream join: that field is missing',
  h2_hpack_error: 'a malformed header block (bad integer, Huffman or index): the fields after the error are missing',
  h2_headers_lost: 'a gap swallowed (part of) a header block of this stream',
  // Streams (RFC 9113 §5, §8).
  h2_missing_pseudo_header:
    'a request without :method or :path, or a response without :status (lost to desync or a gap)',
  h2_stream_midstream: 'the stream was already open when the capture (or a resynchronisation) picked it up',
  h2_stream_reset: 'RST_STREAM ended the stream (RFC 9113 §6.4)',
  h2_goaway_unprocessed: 'the stream was opened above the last stream id of a GOAWAY (RFC 9113 §6.8): not processed',
  h2_body_gap: 'a gap inside a DATA frame: the body is incomplete',
  h2_cut_short: 'the connection ended while the stream was still open',
  h2_request_without_response: 'the stream ended with a request and no response headers',
  h2_response_without_request: 'the stream had a response but its request headers were never seen',
  h2_stream_overflow: 'more than maxStreams streams were open: the oldest was emitted as is',
  h2_server_push:
    'the stream was promised by the server (PUSH_PROMISE, RFC 9113 §8.4): its request is the promised one',
  h2_upgrade:
    'the connection switched from HTTP/1.1 to h2c with Upgrade (RFC 7540 §3.2): stream 1 is the upgrade request',
  h2_internal_error: 'an unexpected exception inside the HTTP/2 layer; the connection was abandoned',
  // gRPC (PROTOCOL-HTTP2.md of grpc/grpc): length-prefixed messages.
  grpc_bad_message: 'a gRPC message prefix announced more bytes than the stream carried, or a bad compressed flag',
  grpc_decompression_failed: 'a compressed gRPC message failed to decode with its grpc-encoding',
  grpc_decompression_capped: 'a compressed gRPC message decoded past maxDecodedBytes (decompression bomb cap)',
  grpc_unsupported_encoding: 'a compressed message with a grpc-encoding this layer cannot decode',
  grpc_not_protobuf: 'a gRPC message that does not parse as protobuf (kept as base64)',
  grpc_guessed: 'the content-type was lost to an HPACK desync; a POST to /package.Service/Method was taken for gRPC',
  grpc_error_status: 'the call ended with a grpc-status other than 0 (OK)',
  grpc_messages_capped: 'more messages than the body keeps: the rest are counted, not decoded',
} as const;

/** Counters that are not anomalies (statistics of the layer). */
export const H2_COUNTERS = {
  tcp_flows_h2: 'connections decoded as HTTP/2 (prior knowledge, Upgrade: h2c, or recognised from frames)',
  h2_frames: 'HTTP/2 frames read',
  h2_goaway: 'GOAWAY frames (RFC 9113 §6.8): the end of a connection announced',
  h2_hpack_desync_fields: 'header fields left out because they referenced an unknown dynamic-table entry',
  h2_streams: 'HTTP/2 streams emitted as exchanges',
  h2_exchanges: 'exchanges emitted by the HTTP/2 layer',
  h2_requests: 'streams emitted with their request (report/v1 capture.requests adds them to HTTP/1.x requests)',
  h2_responses: 'streams emitted with their response (report/v1 capture.responses)',
  h2_exchanges_paired: 'streams emitted with request and response (report/v1 capture.exchanges)',
  grpc_calls: 'streams carrying gRPC (content-type application/grpc*)',
  grpc_messages_request: 'gRPC messages sent by clients',
  grpc_messages_response: 'gRPC messages sent by servers',
} as const;

export type H2Anomaly = keyof typeof H2_ANOMALIES;
export type H2Counter = keyof typeof H2_COUNTERS | H2Anomaly;
