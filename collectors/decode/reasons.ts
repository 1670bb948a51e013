// Why a frame was not analysed: every frame handed to the collector ends either as a TCP segment
// given to the flow table (`tcp_packets`) or under exactly ONE of the decode reasons below, so
//
//   packets == tcp_packets + Σ DECODE_NOT_ANALYSED
//   tcp_packets == segments tracked by a flow + Σ FLOW_NOT_ANALYSED
//
// (the reconciliation identity; test/property/reconcile.test.ts asserts it on every corpus capture and
// on random frames). The finer anomaly counters (eth_truncated, gre_bad_version, ...) say more about
// the same frame; these names say which bucket it fell into. Names are stable.

/** One counter per frame that the decoder did not hand on, by reason. */
export const DECODE_NOT_ANALYSED = {
  decode_unsupported_linktype: 'frame of a link type the decoder does not know',
  decode_unsupported_ethertype:
    'link-layer payload that is not IP: ARP, LLDP, LLC, PPP control, PPPoE discovery, an unknown EtherType or family',
  decode_not_tcp: 'IP packet whose transport is not TCP (ICMP, plain UDP, ESP...); detail in not_tcp_ip_proto_<n>',
  decode_truncated: 'frame cut short (snaplen, mirror MTU) before the TCP header ended',
  decode_malformed: 'header field impossible (version, header length, flags); the anomaly counter says which',
  decode_ip_fragment:
    'IPv4/IPv6 fragment held for (or rejected by) reassembly; a completed datagram is analysed once, on its last fragment',
  tunnel_depth_exceeded: 'tunnels nested deeper than the decoder follows (MAX_TUNNEL_DEPTH)',
} as const;
export type DecodeNotAnalysed = keyof typeof DECODE_NOT_ANALYSED;

/** TCP segments the flow table counted but tracked no connection for (counted in collectors/flow/table.ts). */
export const FLOW_NOT_ANALYSED = {
  flow_stray_control: 'an ACK/FIN/RST without payload for a connection never tracked',
  tcp_after_close: 'a segment without payload of a connection that just ended (trailing ACK)',
  tcp_data_after_close: 'payload without SYN on a connection that just ended (late retransmission)',
} as const;

/** Counters of the two sides of the identity that are not reasons. */
export const RECONCILE_COUNTERS = {
  packets: 'frames handed to the collector',
  tcp_packets: 'frames decoded to a TCP segment and handed to the flow table',
  tcp_segments_tracked: 'TCP segments that reached a tracked connection (reassembly, HTTP)',
} as const;

/**
 * Reasons for segments that carry no payload (the trailing ACK of a closed connection, a stray ACK of a
 * connection never seen): counted and reconciled, but they hide no traffic, so the human report's
 * warning ignores them.
 */
export const NOT_ANALYSED_WITHOUT_PAYLOAD: ReadonlySet<string> = new Set(['flow_stray_control', 'tcp_after_close']);

/** Every reason, decode then flow: what the report lists under "not analysed". */
export const NOT_ANALYSED: Readonly<Record<string, string>> = { ...DECODE_NOT_ANALYSED, ...FLOW_NOT_ANALYSED };

/** Detail counter of decode_not_tcp: the IP protocol number (RFC 5237 registry). */
export const NOT_TCP_PROTO_PREFIX = 'not_tcp_ip_proto_';
