// The one catalogue of every counter and anomaly apitap emits.
//
// Contract: a name is a stable snake_case string; renaming one is a breaking change of report/v1,
// exchange/v1 (`anomalies`), the store's capture_stats and /metrics. `Counters.inc` only accepts names
// declared here (checked at compile time), and report/v1, the table output, /metrics and the README's
// list are generated from this table, so a counter cannot exist without a meaning.
//
// kind:
// - anomaly: the input was odd (a gap, a malformed header); rides on the Exchange it affected where
//   there is one. Reported by name in report/v1 `capture.anomalies`.
// - drop:    something was not analysed or not delivered (a bound was hit, a record was refused). Every
//   drop has a reason here and is reported by name in `capture.anomalies`.
// - stat:    plain statistics (packets, flows, retries that lost nothing); in /metrics, not anomalies.

export type CounterLayer =
  | 'source'
  | 'decode'
  | 'flow'
  | 'tcp'
  | 'http'
  | 'h2'
  | 'websocket'
  | 'tls'
  | 'collector'
  | 'bus'
  | 'analysis'
  | 'store'
  | 'pipeline'
  | 'actions';
export type CounterKind = 'anomaly' | 'drop' | 'stat';
export type CounterUnit = 'events' | 'packets' | 'bytes' | 'flows' | 'messages' | 'exchanges' | 'rows' | 'hosts';

export interface CounterInfo {
  readonly layer: CounterLayer;
  readonly kind: CounterKind;
  readonly unit: CounterUnit;
  readonly meaning: string;
}

/** An entry: its meaning, or [kind, unit, meaning] where it differs from the section's defaults. */
type Spec = string | readonly [CounterKind, CounterUnit, string];

function section<const T extends Record<string, Spec>>(
  layer: CounterLayer,
  kind: CounterKind,
  unit: CounterUnit,
  entries: T,
): { readonly [K in keyof T]: CounterInfo } {
  const out: Record<string, CounterInfo> = {};
  for (const [name, s] of Object.entries(entries)) {
    out[name] =
      typeof s === 'string' ? { layer, kind, unit, meaning: s } : { layer, kind: s[0], unit: s[1], meaning: s[2] };
  }
  return out as { readonly [K in keyof T]: CounterInfo };
}

const SOURCE = section('source', 'drop', 'events', {
  capture_open_failed: 'a capture file could not be opened',
  capture_read_failed: 'reading a capture failed part-way; what was read is kept',
  capture_not_a_capture: 'a file is neither pcap nor pcapng (nor a compressed one)',
  capture_unsupported_linktype: 'a capture (or pcapng interface) of a link type the decoder does not know',
  capture_packets_unsupported_linktype: [
    'drop',
    'packets',
    'packets of an interface whose link type the decoder does not know',
  ],
  capture_truncated: 'the capture ends inside a record (an interrupted tcpdump): processed up to there',
  capture_bad_record: 'a record whose header is impossible (length beyond the file or the format limit)',
  capture_caplen_over_snaplen: ['anomaly', 'packets', 'a record longer than the snap length the header declares'],
  capture_aborted: 'reading stopped by a signal (SIGINT/SIGTERM on a live pipe); what was read is reported',
  capture_decompressor_missing:
    'the capture is zstd/xz-compressed and neither node nor a `zstd`/`xz` command can decode it',
  vxlan_datagrams_received: ['stat', 'messages', 'UDP datagrams received on the VXLAN socket'],
  vxlan_bytes_received: ['stat', 'bytes', 'bytes received on the VXLAN socket'],
  vxlan_datagram_max_bytes: ['stat', 'bytes', 'largest VXLAN datagram received (high-water mark)'],
  vxlan_socket_errors: 'errors reported by the VXLAN UDP socket',
  vxlan_recv_buffer_capped: [
    'stat',
    'events',
    'the kernel granted a smaller receive buffer than asked for (raise net.core.rmem_max)',
  ],
  vxlan_recv_buffer_bytes: ['stat', 'bytes', 'receive buffer size the kernel granted'],
  vxlan_kernel_drops: ['drop', 'messages', 'datagrams the kernel dropped before apitap read them (socket overflow)'],
});

// The decode reasons of NOT_ANALYSED (decode_*) are kind `stat` here: report/v1 lists them under
// capture.notAnalysed (the reconciliation), not among the anomalies.
const DECODE = section('decode', 'anomaly', 'packets', {
  link_unsupported: 'frame of a link type the decoder does not know',
  link_truncated: 'frame shorter than its link-layer (SLL, SLL2, null/loop, PPP, HDLC) header',
  null_unknown_family: 'BSD null/loop frame whose address family is neither IPv4 nor IPv6',
  eth_truncated: 'Ethernet frame shorter than 14 bytes',
  vlan_truncated: '802.1Q/802.1ad tag cut short',
  vlan_too_deep: 'more than 8 stacked VLAN tags',
  mpls_truncated: 'MPLS label stack cut short',
  mpls_too_deep: 'more than 8 MPLS labels',
  mpls_unknown_payload: 'MPLS bottom-of-stack payload is neither IPv4, IPv6 nor control word + Ethernet',
  nflog_truncated: 'NFLOG header or TLV cut short',
  nflog_bad_tlv: 'NFLOG TLV length below its 4-byte header',
  nflog_no_payload: 'NFLOG record without an NFULA_PAYLOAD TLV (logged without packet bytes)',
  ppp_truncated: 'PPP / Cisco HDLC header cut short',
  pppoe_truncated: 'PPPoE session header cut short',
  pppoe_bad_header: 'PPPoE session header with version/type other than 1/1 or a code other than 0',
  ipv4_truncated: 'IPv4 header cut short by the capture',
  ipv4_bad_header: 'IPv4 version or header length (IHL) invalid',
  ipv4_bad_length: 'IPv4 total length smaller than its header',
  ipv4_zero_length: 'IPv4 total length 0 (TSO/offload capture); captured length used instead',
  ipv6_truncated: 'IPv6 fixed header cut short by the capture',
  ipv6_bad_header: 'IPv6 version nibble is not 6',
  ipv6_zero_length: 'IPv6 payload length 0 (jumbogram or offload); captured length used instead',
  ipv6_ext_too_long: 'IPv6 extension header chain longer than 8 headers or past the packet end',
  ip_frag_bad: 'IPv4/IPv6 fragment with inconsistent offset/length (beyond 64 KiB, or truncated capture)',
  ip_frag_overlap: 'IPv4/IPv6 fragment overlapping an earlier one (first copy kept)',
  ip_frag_expired: 'IPv4/IPv6 datagram dropped incomplete after 30 s of packet time',
  ip_frag_evicted: 'IPv4/IPv6 datagram dropped incomplete because the reassembly table was full',
  tcp_truncated: 'TCP header (with options) cut short by the capture',
  tcp_bad_offset: 'TCP data offset below 20 or beyond the IP payload',
  udp_truncated: 'UDP header cut short by the capture',
  udp_bad_length: 'UDP length field disagrees with the IP payload length (IP length used)',
  vxlan_truncated: 'VXLAN header cut short',
  vxlan_bad_flags: 'VXLAN flags without the I (valid VNI) bit',
  geneve_truncated: 'Geneve header or its options cut short',
  geneve_bad_version: 'Geneve version other than 0 (RFC 8926 §3.4)',
  gre_truncated: 'GRE header (checksum, key, sequence, routing) cut short',
  gre_bad_version: 'GRE version other than 0 (RFC 2784) or 1 (PPTP, RFC 2637)',
  gre_bad_routing: 'GRE source route entries (RFC 1701) unterminated or too many',
  erspan_truncated: 'ERSPAN type II/III header cut short',
  erspan_bad_version: 'ERSPAN version field does not match the GRE protocol (1 for 0x88BE, 2 for 0x22EB)',
  gtpu_truncated: 'GTP-U header or extension headers cut short',
  teredo_truncated: 'Teredo authentication / origin indication header cut short',
  tunnel_depth_exceeded: 'tunnels nested deeper than MAX_TUNNEL_DEPTH; the inner packet is not decoded',
  decode_not_tcp: [
    'stat',
    'packets',
    'IP packet whose transport is not TCP (ICMP, plain UDP, ESP...); detail in not_tcp_ip_proto_<n>',
  ],
  decode_unsupported_linktype: ['stat', 'packets', 'frame of a link type the decoder does not know'],
  decode_unsupported_ethertype: [
    'stat',
    'packets',
    'link-layer payload that is not IP: ARP, LLDP, LLC, PPP control, PPPoE discovery, an unknown EtherType or family',
  ],
  decode_truncated: ['stat', 'packets', 'frame cut short (snaplen, mirror MTU) before the TCP header ended'],
  decode_malformed: [
    'stat',
    'packets',
    'header field impossible (version, header length, flags); the anomaly counter says which',
  ],
  decode_ip_fragment: [
    'stat',
    'packets',
    'IPv4/IPv6 fragment held for (or rejected by) reassembly; a completed datagram is analysed once, on its last fragment',
  ],
  decode_truncated_packet: ['stat', 'packets', 'packet captured shorter than its IP length; decoded as far as it goes'],
  ip_fragment: ['stat', 'packets', 'IPv4/IPv6 fragment seen'],
  ip_reassembled: ['stat', 'packets', 'IPv4/IPv6 datagram reassembled from fragments'],
});

const COLLECTOR = section('collector', 'stat', 'packets', {
  packets: 'frames read from the source',
  bytes: ['stat', 'bytes', 'bytes on the wire of the frames read (original length)'],
  packets_truncated: ['anomaly', 'packets', 'frames captured shorter than their wire length (snaplen, mirror MTU)'],
  tcp_packets: 'frames that decoded to a TCP segment',
  tcp_segments_tracked: 'TCP segments that reached a tracked connection (reassembly, HTTP)',
});

const FLOW = section('flow', 'anomaly', 'flows', {
  flows: ['stat', 'flows', 'TCP connections tracked'],
  flow_evicted: ['drop', 'flows', 'the flow table was full (flow count); the stalest flow was ended early'],
  flow_evicted_bytes: [
    'drop',
    'flows',
    "the flows' estimated state reached maxStateBytes; the stalest flow was ended early",
  ],
  flow_idle_expired: 'a flow saw no packet for the idle timeout (packet time) and was ended',
  flow_stray_control: [
    'anomaly',
    'packets',
    'an ACK/FIN/RST without payload for a connection never tracked (capture joined after its data)',
  ],
  tcp_data_after_close: [
    'anomaly',
    'packets',
    'payload without SYN on a connection that just ended (late retransmission); ignored',
  ],
  tcp_after_close: ['stat', 'packets', 'a control segment on a connection that just ended; ignored'],
  flow_one_sided: 'a connection ended having seen only one direction',
  flow_orientation_swapped: 'status lines came from the presumed client: client and server were swapped',
});

const TCP = section('tcp', 'anomaly', 'events', {
  tcp_retransmission: 'a segment whose bytes were all delivered already (or a duplicate capture of it)',
  tcp_partial_overlap: 'a segment overlapping bytes already delivered or held; the first copy wins',
  tcp_overlap_conflict: 'overlapping bytes differed from the copy already held (possible evasion)',
  tcp_out_of_order: 'a segment arrived ahead of a hole and was held',
  tcp_gap: 'bytes never seen in the capture (counted per gap; tcp_gap_bytes counts the bytes)',
  tcp_gap_bytes: ['anomaly', 'bytes', 'bytes never seen in the capture (the sum of the gaps)'],
  tcp_ooo_limit: 'the out-of-order bound (per stream or in total) forced a hole to be declared a gap',
  tcp_ack_above_hole: 'the peer acknowledged bytes the capture never saw; the hole became a gap',
  tcp_truncated_segment: 'a segment cut by snaplen or mirror MTU; the cut bytes became a gap',
  tcp_data_after_fin: 'payload beyond the FIN sequence number',
  tcp_data_before_syn: 'payload with a sequence number before the initial sequence',
});

const HTTP = section('http', 'anomaly', 'events', {
  // Pairing (FIFO, RFC 9112 §9.3.2: responses come in the order of the requests).
  http_request_without_response: 'a request was emitted without a response (connection ended, or pipeline overflow)',
  http_response_without_request: 'a response arrived while no request was waiting for one',
  http_pipeline_overflow: 'more than maxPendingRequests requests awaited responses; the oldest was emitted unpaired',
  // Tunnels (RFC 9110 §7.8 Upgrade, §9.3.6 CONNECT): the rest of the connection is not HTTP/1.x.
  http_upgrade:
    'a 101 Switching Protocols to a protocol not decoded here (not h2c, not websocket): parsing of the connection stopped after it',
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
  http_emit_error: ['drop', 'exchanges', 'the exchange sink threw; the exchange was lost'],
  http_message_end_error: 'an exception while a message was being ended (the message was still closed)',
  // Resynchronisation and statistics.
  http_resync: ['stat', 'events', 'a direction searched for the next message start after losing framing'],
  http_resync_skipped_bytes: ['anomaly', 'bytes', 'bytes skipped while resynchronising'],
  http_tunnel_bytes: ['stat', 'bytes', 'bytes after an Upgrade/CONNECT, not parsed as HTTP'],
  http_requests: ['stat', 'messages', 'requests parsed'],
  http_responses: ['stat', 'messages', 'final responses parsed'],
  http_interim_responses: ['stat', 'messages', '1xx interim responses parsed'],
  http_exchanges: ['stat', 'exchanges', 'exchange records emitted (paired or not)'],
  http_exchanges_paired: ['stat', 'exchanges', 'exchange records with both request and response'],
  tcp_flows_not_http: ['stat', 'flows', 'connections recognised as another protocol from their first bytes'],
  tcp_flows_tls: ['stat', 'flows', 'connections recognised as TLS from their first bytes'],
  tcp_flows_ssh: ['stat', 'flows', 'connections recognised as SSH from their first bytes'],
  tcp_flows_h2: [
    'stat',
    'flows',
    'connections decoded as HTTP/2 (prior knowledge, Upgrade: h2c, or recognised from frames)',
  ],
});

const H2 = section('h2', 'anomaly', 'events', {
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
});

const H2_STATS = section('h2', 'stat', 'events', {
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
});

const WS = section('websocket', 'anomaly', 'events', {
  // Framing (RFC 6455 §5.2). Each rides on the message record it affected, else it is only counted.
  ws_gap:
    "a gap outside a frame payload (in a frame header, or past the frame's end): that direction's message stream ended there; its later bytes are counted (ws_skipped_bytes), not parsed",
  ws_message_gap: 'a gap inside a frame payload: skipped with the framing kept; the message is incomplete',
  ws_cut_short: 'the connection ended (or the direction lost its framing) in the middle of a message',
  ws_bad_length:
    'a 64-bit payload length with its most significant bit set (RFC 6455 §5.2): framing lost, the direction ended',
  ws_nonminimal_length: 'a payload length not in its minimal encoding (RFC 6455 §5.2)',
  ws_bad_opcode: 'a reserved opcode (3-7, 11-15; RFC 6455 §5.2): the frame was skipped by its length',
  ws_bad_rsv:
    'an RSV bit no negotiated extension defines, or RSV1 on a continuation or control frame (RFC 6455 §5.2, RFC 7692 §6)',
  ws_unmasked_client_frame: 'a client frame without a mask (RFC 6455 §5.1)',
  ws_masked_server_frame: 'a server frame with a mask (RFC 6455 §5.1)',
  ws_bad_control_frame: 'a fragmented control frame or one longer than 125 bytes (RFC 6455 §5.5)',
  ws_bad_continuation:
    'a continuation frame with no message open, or a new data frame while a fragmented message was open (RFC 6455 §5.4): the open message was emitted incomplete',
  ws_invalid_utf8: 'a text message or close reason that is not valid UTF-8 (RFC 6455 §8.1): data is base64',
  ws_data_after_close: 'a frame after the close frame of the same direction (RFC 6455 §5.5.1)',
  // Closing (RFC 6455 §7).
  ws_bad_close: 'a close payload of one byte, or a status code not allowed on the wire (RFC 6455 §7.4)',
  ws_close_error:
    'a close frame with a status other than 1000 (normal) or 1001 (going away): protocol error, policy, too big, internal error…',
  ws_no_close:
    'the TCP connection ended with no close frame from either side (RFC 6455 §7.1.5: abnormal closure, 1006)',
  // permessage-deflate (RFC 7692).
  ws_bad_extension_params: 'malformed permessage-deflate parameters in the 101 (RFC 7692 §7.1): defaults were used',
  ws_unsupported_extension:
    'the 101 negotiated an extension other than permessage-deflate: messages with RSV bits are counted, not decoded',
  ws_inflate_failed: 'a compressed message that did not inflate (corrupt data): data holds what decoded',
  ws_inflate_capped:
    'a compressed message inflated past maxDecodedBytes (decompression bomb cap): only a prefix was kept',
  ws_encoded_message_capped: 'a compressed message larger than maxEncodedBytes: only its prefix was decoded',
  ws_inflate_context_lost:
    'a compressed message not decoded because its direction had lost the shared LZ77 window (context takeover, RFC 7692 §7.2.3) to an earlier gap, cap or failure',
  // Safety net.
  ws_internal_error: 'an unexpected exception inside the WebSocket layer; the connection was abandoned',
  ws_emit_error: ['drop', 'exchanges', 'the exchange sink threw; the message record was lost'],
  ws_skipped_bytes: [
    'anomaly',
    'bytes',
    'bytes of a direction after it lost its framing (ws_gap, ws_bad_length): not parsed',
  ],
});

const WS_STATS = section('websocket', 'stat', 'events', {
  ws_upgrades: 'connections that switched to WebSocket (a 101 with Upgrade: websocket, RFC 6455 §4)',
  ws_upgrades_deflate: 'WebSocket connections that negotiated permessage-deflate (RFC 7692)',
  ws_frames: ['stat', 'messages', 'WebSocket frames read (data and control)'],
  ws_messages_client_text: ['stat', 'messages', 'text messages sent by clients (each one an exchange record)'],
  ws_messages_client_binary: ['stat', 'messages', 'binary messages sent by clients (counted, not scanned)'],
  ws_messages_server_text: ['stat', 'messages', 'text messages sent by servers (each one an exchange record)'],
  ws_messages_server_binary: ['stat', 'messages', 'binary messages sent by servers (counted, not scanned)'],
  ws_messages_compressed: ['stat', 'messages', 'messages compressed with permessage-deflate (RSV1)'],
  ws_messages_fragmented: ['stat', 'messages', 'messages sent in more than one frame'],
  ws_message_bytes: ['stat', 'bytes', 'payload bytes of data frames (before inflating)'],
  ws_pings: ['stat', 'messages', 'ping frames'],
  ws_pongs: ['stat', 'messages', 'pong frames'],
  ws_close_frames: ['stat', 'messages', 'close frames'],
});

const TLS = section('tls', 'anomaly', 'events', {
  tls_bad_record:
    'a record header that is not TLS (content type, version or length) before the handshake ended; that direction is no longer parsed',
  tls_bad_handshake: 'a handshake message whose fields run past its length (RFC 8446 §4); the message is ignored',
  tls_handshake_overflow:
    'handshake bytes of one direction exceeded maxHandshakeBytes; that direction is no longer parsed',
  tls_budget_exceeded:
    'incomplete handshake bytes held by all connections reached maxTotalHandshakeBytes; that direction is no longer parsed',
  tls_gap: 'a gap in a direction before its cleartext handshake ended; that direction is no longer parsed',
  tls_certificate_unparsed: 'a certificate of the chain that node:crypto X509Certificate could not read',
  tls_chain_capped: 'the Certificate message held more than maxCertificates certificates; the rest are not summarised',
  tls_sslv2_client_hello: 'an SSLv2-compatible ClientHello (RFC 5246 Appendix E.2): counted, not parsed',
  tls_no_client_hello: 'the connection ended without a ClientHello seen (capture joined mid-handshake, or loss)',
  tls_no_server_hello: 'the connection ended without a ServerHello seen (one-sided capture, refused, or loss)',
  tls_emit_error: ['drop', 'events', 'the TLS record sink threw; the record was dropped'],
  tls_internal_error: 'an unexpected exception in the TLS layer: parsing of the connection stopped',
});

const TLS_STATS = section('tls', 'stat', 'events', {
  tls_connections: 'connections whose first bytes in a direction were a TLS record (or an SSLv2 ClientHello)',
  tls_late_start: 'TLS began after plaintext on the connection (HTTP CONNECT tunnel, STARTTLS)',
  tls_records_emitted: 'tls/v1 records emitted (one per TLS connection)',
  tls_client_hellos: 'ClientHello messages parsed',
  tls_server_hellos: 'ServerHello messages parsed (HelloRetryRequest included)',
  tls_hello_retries: 'HelloRetryRequest messages (RFC 8446 §4.1.4)',
  tls_certificates: 'certificates summarised from Certificate messages',
  tls_encrypted_bytes: 'bytes after the cleartext handshake, skipped without buffering',
  tls_records: 'tls/v1 records the analysis folded into the inventory of encrypted hosts',
  tls_records_incomplete: 'tls/v1 records without a complete handshake (one side or hello missing)',
  tls_records_without_hello: 'tls/v1 records without any hello (no server name or version known)',
  tls_entries_capped: [
    'drop',
    'events',
    'the inventory of encrypted hosts reached its bound: the record was counted, not kept',
  ],
  tls_leaves_capped: [
    'drop',
    'events',
    'an encrypted host kept the most leaf certificates it keeps: the new one was counted, not kept',
  ],
});

const BUS = section('bus', 'stat', 'messages', {
  bus_published: 'records accepted for delivery',
  bus_publish_errors: 'publish attempts the broker refused (retried)',
  bus_buffered_peak: 'largest number of records waiting in the publisher buffer',
  bus_buffered_bytes_peak: ['stat', 'bytes', 'largest number of serialised bytes waiting in the publisher buffer'],
  bus_dropped_buffer_full: [
    'drop',
    'messages',
    'refused by publish(): the bounded buffer was full (messages or bytes)',
  ],
  bus_dropped_too_large: ['drop', 'messages', 'refused by publish(): one record exceeds the maximum message size'],
  bus_dropped_closed: ['drop', 'messages', 'refused by publish(): the publisher was already closed'],
  bus_dropped_on_close: ['drop', 'messages', 'still buffered when close() gave up waiting for the broker'],
  bus_reconnects: 'reconnections of the producer after a broker failure',
  bus_consumed: 'records handed to the consumer handler',
  bus_handler_errors: 'handler failures (the batch is retried)',
  bus_commit_errors: 'offset commits that failed (the batch may be redelivered)',
  bus_dlq: ['drop', 'messages', 'records sent to the dead-letter topic (all reasons)'],
  bus_dlq_invalid_json: ['drop', 'messages', 'dead-letter reason: the value is not JSON'],
  bus_dlq_invalid_exchange: ['drop', 'messages', 'dead-letter reason: JSON that is not an exchange/v1 record'],
  bus_dlq_schema_mismatch: ['drop', 'messages', 'dead-letter reason: a schema header other than exchange/v1'],
  bus_dlq_errors: ['drop', 'messages', 'dead-letter publishes that failed'],
  bus_rebalances: ['stat', 'events', 'consumer group rebalances'],
  bus_consumer_crashes: ['stat', 'events', 'consumer crashes (the consumer rejoins)'],
});

const ANALYSIS = section('analysis', 'stat', 'exchanges', {
  analysis_exchanges: 'exchanges observed by the analyzers',
  analysis_without_request: 'exchanges without a request (only a response was seen): host window only',
  analysis_restored_endpoints: ['stat', 'rows', 'endpoint rows restored from the store'],
  analysis_forgotten_hosts: ['stat', 'hosts', 'hosts whose state was dropped (partition revoked)'],
  analysis_tree_path_too_deep: [
    'drop',
    'events',
    'a path deeper than the path tree bound: its tail was folded into the last kept segment',
  ],
  analysis_tree_children_overflow: [
    'drop',
    'events',
    'a path-tree node reached its child bound: the new segment went to the node’s overflow parameter',
  ],
  analysis_tree_nodes_overflow: [
    'drop',
    'events',
    'a host’s path tree reached its node bound: the new path went to the nearest parameter',
  ],
  analysis_bodies_walked: [
    'stat',
    'messages',
    'bodies walked by the analyzers (field shapes, PII, conformance): the body gate let them through',
  ],
  analysis_bodies_gated: [
    'stat',
    'messages',
    'bodies of settled streams not walked (body gate, analyzers/shared/gate.ts: at least 1 in 32 per stream, 1 in 16.5 on average, is walked; headers, statuses and counters see every exchange)',
  ],
  analysis_bodies_novel_envelope: [
    'stat',
    'messages',
    'bodies of settled streams walked because their envelope (media type, encoding, size class, status) was new',
  ],
  analysis_bodies_novel_key: [
    'stat',
    'messages',
    'bodies of settled streams walked because they carried an object key the stream had never shown',
  ],
  analysis_body_keys_overflow: [
    'stat',
    'events',
    'object keys not remembered (the stream had 4,096 already): treated as known',
  ],
  analysis_body_envelopes_overflow: [
    'stat',
    'messages',
    'bodies whose envelope was not remembered (the stream had 32 already): treated as known',
  ],
  analysis_body_streams_untracked: [
    'stat',
    'messages',
    'bodies walked because the body gate’s stream table was full (65,536 streams)',
  ],
  actors_events_dropped: [
    'drop',
    'exchanges',
    'exchanges beyond analysis.actors.maxEvents: left out of behaviour detection (actors, behaviour findings)',
  ],
  actors_detector_capped: [
    'drop',
    'events',
    'a behaviour detector bound was hit (distinct values per actor and endpoint, objects per endpoint): the excess is not counted',
  ],
  actors_report_truncated: [
    'drop',
    'rows',
    'actors beyond analysis.actors.reportTop left out of report/v1 `actors` (the store keeps every actor)',
  ],
  actors_seen: ['stat', 'rows', 'distinct actors (principal, else client IP) in the behaviour detection'],
  actors_behaviour_runs: [
    'stat',
    'events',
    'behaviour detection runs (end of replay; periodic job of the analyzer group)',
  ],
  graphql_exchanges: 'exchanges recognised as GraphQL requests (analyzers/graphql)',
  graphql_operations: ['stat', 'events', 'GraphQL operations folded into the inventory (a batch of N counts N)'],
  graphql_batches: 'GraphQL exchanges whose body was a batch (a JSON array of operations)',
  graphql_persisted_by_hash: ['stat', 'events', 'GraphQL operations sent as a persisted-query hash without document'],
  graphql_document_parses: ['stat', 'events', 'GraphQL documents parsed (each distinct document once while cached)'],
  graphql_document_too_large: [
    'anomaly',
    'events',
    'a GraphQL document over the size bound (64 KiB): not parsed, the exchange stays plain HTTP',
  ],
  graphql_document_too_deep: [
    'anomaly',
    'events',
    'a GraphQL document nested deeper than the bound (64): not parsed, the exchange stays plain HTTP',
  ],
  graphql_document_too_many_tokens: [
    'anomaly',
    'events',
    'a GraphQL document over the token bound (10000): not parsed, the exchange stays plain HTTP',
  ],
  graphql_syntax_error: ['anomaly', 'events', 'a GraphQL request whose document does not parse'],
  graphql_no_operation: ['anomaly', 'events', 'a GraphQL document without an executable operation'],
  graphql_operation_not_found: ['anomaly', 'events', 'operationName names no operation of the document'],
  graphql_operation_ambiguous: [
    'anomaly',
    'events',
    'a document with several operations and no operationName (servers refuse it)',
  ],
  graphql_alias_abuse: [
    'anomaly',
    'events',
    'a GraphQL operation with more aliased fields than the bound (256): alias batching (still inventoried)',
  ],
  graphql_persisted_hash_mismatch: [
    'anomaly',
    'events',
    'a persisted-query hash that is not the SHA-256 of the document sent with it',
  ],
  graphql_result_missing: [
    'anomaly',
    'events',
    'a GraphQL operation whose response held no result for it (not JSON, or a batch answer of another length)',
  ],
  graphql_batch_truncated: ['drop', 'events', 'GraphQL batch elements beyond the bound (100): not analysed'],
  graphql_operations_overflow: [
    'drop',
    'events',
    'GraphQL operations of a host beyond its bound (2000): counted in `<base>/overflow/operations`',
  ],
  graphql_persisted_map_full: [
    'drop',
    'events',
    'persisted-query hashes not remembered: the host’s bound (10000) was reached',
  ],
  analyzer_exchanges: 'exchanges analysed by the analyzer group (after deduplication)',
  analyzer_skipped_counted: 'redelivered exchanges already counted in the inventory (exactly-once)',
  analyzer_skipped_seen: 'redelivered exchanges already observed before a failed write',
  analyzer_state_rebuilds: ['stat', 'events', 'host states rebuilt from the store after a rebalance'],
  analyzer_findings_resolved: ['stat', 'rows', 'findings resolved because the traffic no longer supports them'],
  conformance_exchanges: 'exchanges attributed to a documented operation and checked against it (names, status)',
  conformance_bodies_validated: [
    'stat',
    'messages',
    'request and response JSON bodies validated against their operation’s schema',
  ],
  conformance_bodies_sampled_out: [
    'stat',
    'messages',
    'bodies of settled operations not validated (decaying sample, at least 1 in 64 per stream)',
  ],
  conformance_bodies_novel_shape: [
    'stat',
    'messages',
    'bodies of settled operations validated because their shape was new for the operation',
  ],
  conformance_bodies_unchecked: [
    'drop',
    'messages',
    'JSON bodies whose media type the operation does not declare (not validated)',
  ],
  conformance_schemas_failed: [
    'drop',
    'events',
    'schemas that failed to bundle or compile (unresolvable root, bounds, invalid pattern), each counted once and skipped',
  ],
  conformance_bodies_schema_failed: [
    'drop',
    'messages',
    'bodies not validated because their schema failed to bundle or compile',
  ],
  conformance_validators_compiled: ['stat', 'events', 'schemas compiled into validators (again after an eviction)'],
  conformance_validators_evicted: [
    'stat',
    'events',
    'compiled validators evicted from the bounded cache (compiled again on next use)',
  ],
  conformance_specs_parsed_whole: [
    'stat',
    'events',
    'large YAML specs (pruned at load) parsed whole when traffic first reached one of their operations',
  ],
  conformance_entries_dropped: [
    'drop',
    'events',
    'conformance observations dropped because the finding-entry bound was reached',
  ],
});

const STORE = section('store', 'stat', 'rows', {
  store_insert_batches: ['stat', 'events', 'INSERT statements sent'],
  store_retries: ['stat', 'events', 'retries of a write after a retryable error'],
  store_write_errors: ['drop', 'events', 'writes that failed for good'],
  store_rows_written_endpoints: 'endpoint rows written',
  store_rows_written_endpoint_paths: 'provisional-path → endpoint mapping rows written',
  store_rows_written_findings: 'finding rows written',
  store_rows_written_exchanges: 'exchange rows written',
  store_rows_written_capture_stats: 'capture statistics rows written',
  store_rows_written_tls: 'TLS endpoint rows written',
  store_rows_written_api_facts: 'drift baseline rows written',
  store_rows_written_actors: 'actor summary rows written',
  store_exchange_rows: 'exchange rows handed to the store by the analyzer',
  store_findings_resolved: 'finding tombstones written',
  store_errors_unavailable: ['stat', 'events', 'store errors: unreachable or overloaded (retryable)'],
  store_errors_rejected: ['stat', 'events', 'store errors: the server rejected the statement'],
  store_errors_config: ['stat', 'events', 'store errors: configuration (credentials, database)'],
  store_errors_closed: ['stat', 'events', 'store errors: used after close'],
});

const PIPELINE = section('pipeline', 'stat', 'exchanges', {
  exchanges_emitted: 'exchanges the collector handed to the bus',
  watch_snapshots: ['stat', 'events', 'inventory snapshots `watch` wrote to the store (packet-time period, signals)'],
  watch_skipped_counted: 'exchanges `watch` found already stored and counted (a restart over the same traffic)',
  watch_dropped_queue_full: [
    'drop',
    'exchanges',
    'live exchanges dropped because the analysis queue of `watch` was full (the mirror cannot be slowed)',
  ],
  serve_http_queries: ['stat', 'events', 'queries answered by the ClickHouse HTTP interface over the store'],
  serve_http_errors: ['stat', 'events', 'requests the ClickHouse HTTP interface refused or failed'],
});

// Remediation actions (engine/app/actions): I/O towards receivers, not analysis output.
const ACTIONS = section('actions', 'stat', 'events', {
  actions_new: 'findings at or above --actions-min-severity not actioned before: one action/v1 each',
  actions_repeated:
    'findings at or above the threshold whose id was already actioned (this process or the ledger): not sent again',
  actions_below_threshold: 'findings below --actions-min-severity: no action',
  actions_sent: 'actions the webhook acknowledged with a 2xx answer',
  actions_retried: 'webhook attempts that failed and were scheduled again (sum of the actions_retry_* reasons)',
  actions_retry_network: 'retry reason: no HTTP answer (connection refused or reset, DNS, TLS)',
  actions_retry_timeout: 'retry reason: no answer within webhook.timeoutMs',
  actions_retry_status: 'retry reason: the webhook answered 408, 425, 429 or 5xx',
  actions_failed_rejected: [
    'drop',
    'events',
    'the webhook answered another non-2xx status (3xx, 4xx): the action is not retried',
  ],
  actions_failed_exhausted: ['drop', 'events', 'webhook.maxAttempts attempts failed: the action was given up'],
  actions_dropped_queue_full: [
    'drop',
    'events',
    'a new action found the webhook queue full (webhook.queueMax): not queued',
  ],
  actions_dropped_on_close: ['drop', 'events', 'still undelivered when the exit grace period (webhook.graceMs) ended'],
  actions_queue_peak: 'largest number of actions waiting for the webhook (high-water mark)',
  actions_ledger_errors: 'the ledger of delivered ids could not be read or appended (a restart may resend those)',
  actions_kafka_published: 'actions acknowledged by Kafka (topic apitap.actions)',
  actions_kafka_errors: 'failed sends of actions to Kafka (retried)',
  actions_kafka_buffered_peak: 'largest number of actions waiting for Kafka',
  actions_kafka_buffered_bytes_peak: ['stat', 'bytes', 'largest number of serialised action bytes waiting for Kafka'],
  actions_kafka_dropped_buffer_full: ['drop', 'events', 'an action found the Kafka buffer full: not published'],
  actions_kafka_dropped_too_large: ['drop', 'events', 'an action larger than the maximum message size'],
  actions_kafka_dropped_closed: ['drop', 'events', 'an action offered after the Kafka publisher closed'],
  actions_kafka_dropped_on_close: [
    'drop',
    'events',
    'actions still buffered when the Kafka publisher gave up waiting at exit',
  ],
  actions_kafka_reconnects: 'rebuilds of the actions Kafka producer after repeated failures',
});

/** Every counter, by name. */
export const COUNTERS = {
  ...SOURCE,
  ...DECODE,
  ...COLLECTOR,
  ...FLOW,
  ...TCP,
  ...HTTP,
  ...H2,
  ...H2_STATS,
  ...WS,
  ...WS_STATS,
  ...TLS,
  ...TLS_STATS,
  ...BUS,
  ...ANALYSIS,
  ...STORE,
  ...PIPELINE,
  ...ACTIONS,
} as const;

/**
 * Families: one counter per value of a detail (an IP protocol number), named prefix + value. Each
 * member has its family's meaning; members appear in /metrics once they count something.
 */
export const FAMILIES = {
  not_tcp_ip_proto_: {
    layer: 'decode',
    kind: 'stat',
    unit: 'packets',
    meaning: 'IP packets of protocol <n> (RFC 5237 registry), detail of decode_not_tcp',
  },
} as const satisfies Record<string, CounterInfo>;
type FamilyName = `${keyof typeof FAMILIES}${number}`;

export type CounterName = keyof typeof COUNTERS | FamilyName;

/** A member of a family, e.g. family('not_tcp_ip_proto_', 17). */
export const familyMember = (prefix: keyof typeof FAMILIES, n: number): CounterName => `${prefix}${n}`;

/** What a counter means (catalogue entry or its family's), or undefined for a name not declared. */
export function counterInfo(name: string): CounterInfo | undefined {
  if (Object.hasOwn(COUNTERS, name)) return (COUNTERS as Record<string, CounterInfo>)[name];
  for (const [prefix, info] of Object.entries(FAMILIES)) {
    if (name.startsWith(prefix) && /^\d{1,3}$/.test(name.slice(prefix.length))) return info;
  }
  return undefined;
}

/**
 * Why a frame was not analysed: every frame ends as a TCP segment of a tracked connection or under
 * exactly one of these reasons, so packets == tcp_segments_tracked + Σ reasons (the reconciliation
 * identity, test/property/reconcile.test.ts). Decode reasons first, then the flow table's.
 */
export const NOT_ANALYSED_DECODE = [
  'decode_unsupported_linktype',
  'decode_unsupported_ethertype',
  'decode_not_tcp',
  'decode_truncated',
  'decode_malformed',
  'decode_ip_fragment',
  'tunnel_depth_exceeded',
] as const satisfies readonly (keyof typeof COUNTERS)[];
export const NOT_ANALYSED_FLOW = [
  'flow_stray_control',
  'tcp_after_close',
  'tcp_data_after_close',
] as const satisfies readonly (keyof typeof COUNTERS)[];
export const NOT_ANALYSED: ReadonlySet<string> = new Set<string>([...NOT_ANALYSED_DECODE, ...NOT_ANALYSED_FLOW]);
/** Reasons for segments without payload (trailing ACKs): reconciled, but they hide no traffic. */
export const NOT_ANALYSED_WITHOUT_PAYLOAD: ReadonlySet<string> = new Set(['flow_stray_control', 'tcp_after_close']);
export type DecodeAnomaly = keyof typeof DECODE;
export type DecodeNotAnalysed = (typeof NOT_ANALYSED_DECODE)[number];
export type HttpCounter = keyof typeof HTTP;
export type H2Anomaly = keyof typeof H2;
export type TlsAnomaly = keyof typeof TLS;
export type H2Counter = keyof typeof H2 | keyof typeof H2_STATS;
export type WsCounter = keyof typeof WS | keyof typeof WS_STATS;
export type SourceCounter = keyof typeof SOURCE;

/** Reported by name in report/v1 `capture.anomalies` (anomalies and drops, not statistics). */
export const isReported = (name: string): boolean => {
  const c = counterInfo(name);
  return c !== undefined && c.kind !== 'stat';
};

/** Runtime guard for names that arrive as data (stored capture_stats, Kafka headers). */
export const isCounterName = (name: string): name is CounterName => counterInfo(name) !== undefined;

/** High-water marks and settings (Counters.max), exposed as gauges; every other counter only grows. */
export const GAUGES: ReadonlySet<CounterName> = new Set<CounterName>([
  'vxlan_datagram_max_bytes',
  'vxlan_recv_buffer_bytes',
  'bus_buffered_peak',
  'bus_buffered_bytes_peak',
  'actions_queue_peak',
  'actions_kafka_buffered_peak',
  'actions_kafka_buffered_bytes_peak',
]);
