// Every anomaly name the HTTP/1.x layer raises, with what it means.
//
// Contract: names are stable snake_case strings. Each one is both a counter (incremented once per
// message it affects, or once per event when no message exists to carry it) and, where a message
// exists, an entry of Exchange.anomalies. Renaming one is a breaking change of exchange/v1 data.
export const HTTP_ANOMALIES = {
  // Pairing (FIFO, RFC 9112 §9.3.2: responses come in the order of the requests).
  http_request_without_response: 'a request was emitted without a response (connection ended, or pipeline overflow)',
  http_response_without_request: 'a response arrived while no request was waiting for one',
  http_pipeline_overflow: 'more than maxPendingRequests requests awaited responses; the oldest was emitted unpaired',
  // Tunnels (RFC 9110 §7.8 Upgrade, §9.3.6 CONNECT): the rest of the connection is not HTTP/1.x.
  http_upgrade: 'a 101 Switching Protocols response: parsing of the connection stopped after it',
  http_connect: 'a 2xx response to CONNECT: the connection became a tunnel, parsing stopped',
  http_upgrade_held_overflow:
    'bytes sent after an Upgrade/CONNECT request, before its response, exceeded the hold buffer',
  // Gaps (bytes the capture never saw).
  http_body_gap: 'a gap inside a body of known length was skipped; the body is incomplete',
  http_gap_in_headers:
    'a gap inside a start line or header section: the message was closed, the direction resynchronised',
  http_gap_in_chunk_framing: 'a gap in chunked framing (size line, CRLF, trailers, or past a chunk end)',
  http_gap_in_unsized_body: 'a gap inside a body delimited by the connection close',
  http_gap_between_messages: 'a gap between messages: the direction resynchronised',
  http_cut_short: 'the connection ended before the message was complete',
  flow_orientation_swapped: 'status lines came from the presumed client: client and server were swapped',
  // Framing (RFC 9112 §6).
  http_te_and_cl: 'both Transfer-Encoding and Content-Length: Transfer-Encoding wins (RFC 9112 §6.3 rule 3)',
  http_bad_content_length: 'Content-Length is not a decimal number: framing unknown, direction resynchronised',
  http_duplicate_content_length: 'several differing Content-Length values: framing unknown, direction resynchronised',
  http_bad_transfer_encoding: 'a request Transfer-Encoding whose final coding is not chunked (RFC 9112 §6.3 rule 4)',
  http_bad_chunk: 'an invalid chunk size line or a missing CRLF after chunk data (RFC 9112 §7.1)',
  // Start line and header section (RFC 9112 §3, §4, §5).
  http_invalid_start_line:
    'a malformed start line: kept as the message when plainly one (a method-like token, or "HTTP/", at line start), else skipped by resync',
  http_invalid_method: 'a request line whose method is not a token (RFC 9110 §9.1: any token is a method)',
  http_invalid_version: 'an HTTP version other than 1.x in a start line',
  http_header_flood: 'more than maxHeaderCount header or trailer lines in one message',
  http_header_overflow: 'a header section (or chunk/trailer line) larger than maxHeaderBytes',
  http_invalid_header: 'a header line without a colon, with an invalid name, or with whitespace before the colon',
  http_obs_fold: 'obsolete line folding in a header value (RFC 9112 §5.2), replaced by SP',
  http_nul_byte: 'a NUL, bare CR or other control byte in a start line or header (RFC 9110 §5.5)',
  // Content decoding (RFC 9110 §8.4).
  http_decompression_capped: 'content decoding reached maxDecodedBytes (decompression bomb cap): only a prefix kept',
  http_decompression_failed: 'content decoding failed on corrupt data',
  http_unsupported_encoding: 'a content coding this layer cannot decode: data holds the encoded bytes',
  http_encoded_body_capped: 'an encoded body exceeded maxEncodedBytes: only its prefix was decoded',
  // Safety net.
  http_internal_error: 'an unexpected exception inside the HTTP layer; the connection was abandoned',
} as const;

export type HttpAnomaly = keyof typeof HTTP_ANOMALIES;
