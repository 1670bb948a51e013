// The decoded view of one packet: offsets into the frame's Buffer, never copies.
//
// Contract: a decoder owns ONE PacketView and refills it for every frame (stable shape: every field
// is set on every decode). The view and `frame` are valid only until the next decode call. For VXLAN
// (and any other tunnel) the view describes the innermost TCP/UDP packet and `vni` names the tunnel.
export interface PacketView {
  frame: Buffer;
  tsUs: number;
  /** Bytes on the wire for the outermost frame (> frame.length when snaplen or mirror MTU cut it). */
  wireLen: number;
  /** VXLAN network identifier (innermost VXLAN header), or -1 when the packet came through no VXLAN tunnel. */
  vni: number;
  /**
   * Tunnel identity: index into TUNNEL_KINDS (0 = not tunnelled) and id of the outermost tunnel that
   * carries an id (VXLAN/Geneve VNI, GRE key, ERSPAN session, GTP-U TEID, PPTP call id); when no
   * tunnel on the way has one, the outermost tunnel with id 0.
   */
  tunnelKind: number;
  tunnelId: number;
  /** Outermost 802.1Q VLAN id of the innermost frame, or -1. */
  vlan: number;
  /** 4 or 6, 0 when there is no IP layer. */
  ipVersion: number;
  /** Offsets of the source and destination addresses in `frame` (4 or 16 bytes long). */
  srcAddrOff: number;
  dstAddrOff: number;
  /** IP protocol number of the transport (6 TCP, 17 UDP), after IPv6 extension headers. */
  proto: number;
  srcPort: number;
  dstPort: number;
  /** TCP only: sequence number, acknowledgement number (unsigned 32-bit), flags byte (FIN 1, SYN 2, RST 4, PSH 8, ACK 16). */
  seq: number;
  ack: number;
  tcpFlags: number;
  /** Transport payload: offset and the number of bytes actually captured. */
  payloadOff: number;
  payloadLen: number;
  /** Payload bytes the packet carried on the wire (from IP lengths); > payloadLen when truncated. */
  payloadWireLen: number;
}

/** Tunnel kinds by index (PacketView.tunnelKind); the names are exchange/v1 `tunnel.kind` values. Stable. */
export const TUNNEL_KINDS = [
  '',
  'vxlan',
  'geneve',
  'gre',
  'erspan',
  'ipip',
  '6in4',
  '4in6',
  'ip6ip6',
  'gtpu',
  'teredo',
  'pptp',
  'mplsip',
  'ayiya',
] as const;
export type TunnelKindName = (typeof TUNNEL_KINDS)[number];
export const TUNNEL = {
  NONE: 0,
  VXLAN: 1,
  GENEVE: 2,
  GRE: 3,
  ERSPAN: 4,
  IPIP: 5,
  SIX_IN_FOUR: 6,
  FOUR_IN_SIX: 7,
  IP6IP6: 8,
  GTPU: 9,
  TEREDO: 10,
  PPTP: 11,
  MPLSIP: 12,
  AYIYA: 13,
} as const;

/** A number that names the tunnel identity exactly (flow keys): -1 when not tunnelled. */
export function tunnelKey(v: PacketView): number {
  return v.tunnelKind === 0 ? -1 : v.tunnelKind * 4294967296 + v.tunnelId;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Result of decoding one frame. Anything but OK has been counted by the decoder under its name. */
export const DecodeStatus = {
  OK: 0,
  /** Decoded fine, but not TCP (UDP that is not a tunnel, ICMP, ARP...). Counted, not an anomaly. */
  NOT_TCP: 1,
  /** Malformed or truncated before the transport payload; the anomaly counter says which. */
  BAD: 2,
  /** An IPv4/IPv6 fragment that could not be reassembled (yet); counted. */
  FRAGMENT: 3,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

export function createPacketView(): PacketView {
  return {
    frame: Buffer.alloc(0),
    tsUs: 0,
    wireLen: 0,
    vni: -1,
    tunnelKind: 0,
    tunnelId: 0,
    vlan: -1,
    ipVersion: 0,
    srcAddrOff: 0,
    dstAddrOff: 0,
    proto: 0,
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    tcpFlags: 0,
    payloadOff: 0,
    payloadLen: 0,
    payloadWireLen: 0,
  };
}

/** Render the address at `off` (4 bytes IPv4 dotted, 16 bytes IPv6 RFC 5952 compressed). Not for the hot path. */
export function formatAddr(buf: Buffer, off: number, version: number): string {
  if (version === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + i * 2));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}
