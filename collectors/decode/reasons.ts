// Why a frame was not analysed: every frame handed to the collector ends either as a TCP segment
// given to the flow table (`tcp_packets`) or under exactly ONE of the decode reasons, so
//
//   packets == tcp_packets + Σ NOT_ANALYSED_DECODE
//   tcp_packets == tcp_segments_tracked + Σ NOT_ANALYSED_FLOW
//
// (the reconciliation identity; test/property/reconcile.test.ts asserts it on every corpus capture and
// on random frames). The finer anomaly counters (eth_truncated, gre_bad_version, ...) say more about
// the same frame; these names say which bucket it fell into. The names and meanings live in the
// catalogue (engine/contracts/catalogue.ts).
export {
  NOT_ANALYSED,
  NOT_ANALYSED_DECODE,
  NOT_ANALYSED_FLOW,
  NOT_ANALYSED_WITHOUT_PAYLOAD,
  type DecodeNotAnalysed,
} from '../../engine/contracts/catalogue.js';

/** Detail counter family of decode_not_tcp: the IP protocol number (RFC 5237 registry). */
export const NOT_TCP_PROTO_PREFIX = 'not_tcp_ip_proto_';
