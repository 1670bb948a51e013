// Link layer → IP → TCP/UDP decoding in place, with VXLAN, VLAN and MPLS unwrapping.
//
// Contract: `decode` never throws and never reads outside [0, frame.length). It refills the one
// PacketView it owns (see packet.ts) and returns a DecodeStatus; every non-OK outcome and every
// anomaly on the way has been counted under a name of the catalogue's decode section (or decode_not_tcp /
// ip_fragment / decode_truncated_packet). Per packet it allocates nothing, except when the last
// missing IPv4 fragment of a datagram arrives: the reassembled datagram is a new Buffer and the view
// then points into it (`view.frame` !== the frame passed in, IP header at offset 0).
//
// Two ends travel through the layers: `cap` (bytes present in the buffer that belong to this
// layer, i.e. trimmed by the IP length to drop Ethernet padding/FCS) and `wire` (where the layer
// ends according to the IP length; beyond `cap` when snaplen or the mirror MTU cut the packet).
// Offsets never exceed `cap` before a read; `wire` is used for lengths only.
import type { DecodeAnomaly } from '../../engine/contracts/catalogue.js';
import type { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE } from '../source/types.js';
import { DecodeStatus, createPacketView } from './packet.js';
import type { PacketView } from './packet.js';

/** Pseudo link type: the frame starts at the VXLAN header (live receiver; outer headers stripped). */
export const LINKTYPE_VXLAN_PAYLOAD = LINKTYPE.VXLAN_PAYLOAD;

export interface DecoderOptions {
  /** UDP destination ports carrying VXLAN (IANA 4789). */
  vxlanPorts: readonly number[];
}

export interface Decoder {
  readonly view: PacketView;
  decode(frame: Buffer, linkType: number, tsUs: number, wireLen: number): DecodeStatus;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_QINQ_OLD2 = 0x9200;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const MAX_VLAN = 8;
const MAX_MPLS = 8;
const MAX_IPV6_EXT = 8;
const MAX_TUNNEL = 2;
/** Bounds of the IPv4 reassembly table (RFC 791 §3.2; 30 s is below the 60-120 s of most stacks: mirrors lose fragments). */
const FRAG_MAX_DATAGRAMS = 1024;
const FRAG_MAX_BYTES = 65535;
const FRAG_TIMEOUT_US = 30_000_000;

type EtherHandler = (buf: Buffer, off: number, cap: number, wire: number, depth: number) => DecodeStatus;

interface FragPiece {
  off: number;
  data: Buffer;
}
interface FragDatagram {
  firstTsUs: number;
  /** Copy of the IPv4 header of the offset-0 fragment, or null until it arrives. */
  header: Buffer | null;
  /** Payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number;
  stored: number;
  pieces: FragPiece[];
}

class DecoderImpl implements Decoder {
  readonly view: PacketView = createPacketView();
  private readonly vxlanPort = new Uint8Array(65536);
  private readonly ether = new Map<number, EtherHandler>();
  private readonly frags = new Map<string, FragDatagram>();
  /** Tunnel depth of the current packet (0 outside VXLAN). */
  private tunnels = 0;

  constructor(
    opts: DecoderOptions,
    private readonly counters: Counters,
  ) {
    for (const p of opts.vxlanPorts) if (Number.isInteger(p) && p > 0 && p < 65536) this.vxlanPort[p] = 1;
    const ipv4: EtherHandler = (b, o, c, w) => this.ipv4(b, o, c, w);
    const ipv6: EtherHandler = (b, o, c, w) => this.ipv6(b, o, c, w);
    const vlan: EtherHandler = (b, o, c, w, d) => this.vlan(b, o, c, w, d);
    const mpls: EtherHandler = (b, o, c, w) => this.mpls(b, o, c, w);
    this.ether.set(ETH_IPV4, ipv4).set(ETH_IPV6, ipv6);
    this.ether.set(ETH_VLAN, vlan).set(ETH_QINQ, vlan).set(ETH_QINQ_OLD, vlan).set(ETH_QINQ_OLD2, vlan);
    this.ether.set(ETH_MPLS, mpls).set(ETH_MPLS_MC, mpls);
  }

  decode(frame: Buffer, linkType: number, tsUs: number, wireLen: number): DecodeStatus {
    const v = this.view;
    v.frame = frame;
    v.tsUs = tsUs;
    v.wireLen = wireLen > frame.length ? wireLen : frame.length;
    v.vni = -1;
    this.tunnels = 0;
    this.resetInner();
    const len = frame.length;
    // Frames cut by snaplen: layers below IP have no length field, so `wire` starts as the frame's
    // wire length and IP narrows it.
    const wire = v.wireLen;
    switch (linkType) {
      case LINKTYPE.ETHERNET:
        return this.ethernet(frame, 0, len, wire);
      case LINKTYPE.RAW:
      case LINKTYPE.RAW_12:
      case LINKTYPE.RAW_14:
        return this.rawIp(frame, 0, len, wire);
      case LINKTYPE.IPV4:
        return this.ipv4(frame, 0, len, wire);
      case LINKTYPE.IPV6:
        return this.ipv6(frame, 0, len, wire);
      case LINKTYPE.LINUX_SLL:
        if (len < 16) return this.bad('link_truncated');
        return this.etherType(frame, frame.readUInt16BE(14), 16, len, wire, 0);
      case LINKTYPE.LINUX_SLL2:
        if (len < 20) return this.bad('link_truncated');
        return this.etherType(frame, frame.readUInt16BE(0), 20, len, wire, 0);
      case LINKTYPE.NULL:
      case LINKTYPE.LOOP:
        return this.nullLoop(frame, len, wire);
      case LINKTYPE.VXLAN_PAYLOAD:
        return this.vxlan(frame, 0, len, wire);
      default:
        return this.bad('link_unsupported');
    }
  }

  /** Fields that describe the innermost packet; reset again when a tunnel is entered. */
  private resetInner(): void {
    const v = this.view;
    v.vlan = -1;
    v.ipVersion = 0;
    v.srcAddrOff = 0;
    v.dstAddrOff = 0;
    v.proto = 0;
    v.srcPort = 0;
    v.dstPort = 0;
    v.seq = 0;
    v.ack = 0;
    v.tcpFlags = 0;
    v.payloadOff = 0;
    v.payloadLen = 0;
    v.payloadWireLen = 0;
  }

  private bad(name: DecodeAnomaly): DecodeStatus {
    this.counters.inc(name);
    return DecodeStatus.BAD;
  }

  private notTcp(): DecodeStatus {
    this.counters.inc('decode_not_tcp');
    return DecodeStatus.NOT_TCP;
  }

  private ethernet(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 14) return this.bad('eth_truncated');
    return this.etherType(buf, buf.readUInt16BE(off + 12), off + 14, cap, wire, 0);
  }

  /** Dispatch on an EtherType; values below 0x0600 are 802.3 lengths (LLC/SNAP), never TCP here. */
  private etherType(buf: Buffer, type: number, off: number, cap: number, wire: number, depth: number): DecodeStatus {
    const h = this.ether.get(type);
    if (h === undefined) return this.notTcp();
    return h(buf, off, cap, wire, depth);
  }

  /** 802.1Q / 802.1ad / 0x9100 tag: TCI (PCP 3, DEI 1, VID 12) then the next EtherType. */
  private vlan(buf: Buffer, off: number, cap: number, wire: number, depth: number): DecodeStatus {
    if (depth >= MAX_VLAN) return this.bad('vlan_too_deep');
    if (cap - off < 4) return this.bad('vlan_truncated');
    if (this.view.vlan === -1) this.view.vlan = buf.readUInt16BE(off) & 0x0fff;
    return this.etherType(buf, buf.readUInt16BE(off + 2), off + 4, cap, wire, depth + 1);
  }

  /** RFC 3032 label stack; the payload type is not signalled, so guess by the IP version nibble (as Wireshark does). */
  private mpls(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    for (let i = 0; ; i++) {
      if (i >= MAX_MPLS) return this.bad('mpls_too_deep');
      if (cap - off < 4) return this.bad('mpls_truncated');
      const bos = buf[off + 2]! & 0x01;
      off += 4;
      if (bos !== 0) break;
    }
    if (cap - off < 1) return this.bad('mpls_truncated');
    const version = buf[off]! >> 4;
    if (version === 4) return this.ipv4(buf, off, cap, wire);
    if (version === 6) return this.ipv6(buf, off, cap, wire);
    // Nibble 0: RFC 4385 pseudowire control word, then an Ethernet frame (RFC 4448).
    if (version === 0 && cap - off >= 4 + 14) return this.ethernet(buf, off + 4, cap, wire);
    this.counters.inc('mpls_unknown_payload');
    return this.notTcp();
  }

  private rawIp(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 1) return this.bad('ipv4_truncated');
    const version = buf[off]! >> 4;
    if (version === 6) return this.ipv6(buf, off, cap, wire);
    return this.ipv4(buf, off, cap, wire);
  }

  /**
   * BSD loopback: a 4-byte address family, host order for LINKTYPE_NULL (so either order here) and
   * network order for LINKTYPE_LOOP. AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD/OpenBSD),
   * 28 (FreeBSD), 30 (macOS).
   */
  private nullLoop(buf: Buffer, cap: number, wire: number): DecodeStatus {
    if (cap < 4) return this.bad('link_truncated');
    let fam = buf.readUInt32LE(0);
    if (fam > 0xffff) fam = buf.readUInt32BE(0);
    if (fam === 2) return this.ipv4(buf, 4, cap, wire);
    if (fam === 24 || fam === 28 || fam === 30) return this.ipv6(buf, 4, cap, wire);
    this.counters.inc('null_unknown_family');
    return this.notTcp();
  }

  /** RFC 791. Checksums are not verified: mirrored traffic with checksum offload carries bad ones. */
  private ipv4(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 20) return this.bad('ipv4_truncated');
    const b0 = buf[off]!;
    const ihl = (b0 & 0x0f) * 4;
    if (b0 >> 4 !== 4 || ihl < 20) return this.bad('ipv4_bad_header');
    if (cap - off < ihl) return this.bad('ipv4_truncated');
    let total = buf.readUInt16BE(off + 2);
    if (total === 0) {
      // TSO: the NIC fills the length in later; take what the wire/capture says.
      this.counters.inc('ipv4_zero_length');
      total = wire - off;
    }
    if (total < ihl) return this.bad('ipv4_bad_length');
    const ipWire = off + total;
    let ipCap = ipWire;
    if (ipWire > cap) {
      ipCap = cap;
      this.counters.inc('decode_truncated_packet');
    }
    const v = this.view;
    v.ipVersion = 4;
    v.srcAddrOff = off + 12;
    v.dstAddrOff = off + 16;
    const proto = buf[off + 9]!;
    v.proto = proto;
    const fragField = buf.readUInt16BE(off + 6);
    if ((fragField & 0x3fff) !== 0) return this.fragment(buf, off, ihl, total, ipCap, ipWire, fragField);
    return this.transport(buf, proto, off + ihl, ipCap, ipWire);
  }

  /** RFC 8200 §4: walk the extension header chain (bounded) to the upper-layer header. */
  private ipv6(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 40) return this.bad('ipv6_truncated');
    if (buf[off]! >> 4 !== 6) return this.bad('ipv6_bad_header');
    let plen = buf.readUInt16BE(off + 4);
    if (plen === 0) {
      this.counters.inc('ipv6_zero_length');
      plen = wire - off - 40;
      if (plen < 0) plen = 0;
    }
    const ipWire = off + 40 + plen;
    let ipCap = ipWire;
    if (ipWire > cap) {
      ipCap = cap;
      this.counters.inc('decode_truncated_packet');
    }
    const v = this.view;
    v.ipVersion = 6;
    v.srcAddrOff = off + 8;
    v.dstAddrOff = off + 24;
    let next = buf[off + 6]!;
    let p = off + 40;
    for (let i = 0; ; i++) {
      if (next !== 0 && next !== 43 && next !== 44 && next !== 60 && next !== 51) break;
      if (i >= MAX_IPV6_EXT || ipCap - p < 8) return this.bad('ipv6_ext_too_long');
      const hdrNext = buf[p]!;
      let hlen: number;
      if (next === 44) {
        hlen = 8;
        const fo = buf.readUInt16BE(p + 2);
        // Offset 0 with M clear is an "atomic fragment" (RFC 6946): a whole datagram.
        if ((fo & 0xfff9) !== 0) {
          v.proto = hdrNext;
          this.counters.inc('ip_fragment');
          this.counters.inc('ipv6_fragment');
          return DecodeStatus.FRAGMENT;
        }
      } else if (next === 51) {
        hlen = (buf[p + 1]! + 2) * 4;
      } else {
        hlen = (buf[p + 1]! + 1) * 8;
      }
      if (p + hlen > ipCap) return this.bad('ipv6_ext_too_long');
      next = hdrNext;
      p += hlen;
    }
    v.proto = next;
    return this.transport(buf, next, p, ipCap, ipWire);
  }

  private transport(buf: Buffer, proto: number, off: number, cap: number, wire: number): DecodeStatus {
    if (proto === 6) return this.tcp(buf, off, cap, wire);
    if (proto === 17) return this.udp(buf, off, cap, wire);
    return this.notTcp();
  }

  /** RFC 9293 §3.1. */
  private tcp(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 20) return this.bad('tcp_truncated');
    const doff = (buf[off + 12]! >> 4) * 4;
    if (doff < 20 || off + doff > wire) return this.bad('tcp_bad_offset');
    if (off + doff > cap) return this.bad('tcp_truncated');
    const v = this.view;
    v.srcPort = buf.readUInt16BE(off);
    v.dstPort = buf.readUInt16BE(off + 2);
    v.seq = buf.readUInt32BE(off + 4);
    v.ack = buf.readUInt32BE(off + 8);
    v.tcpFlags = buf[off + 13]!;
    v.payloadOff = off + doff;
    v.payloadLen = cap - v.payloadOff;
    v.payloadWireLen = wire - v.payloadOff;
    return DecodeStatus.OK;
  }

  private udp(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 8) return this.bad('udp_truncated');
    const v = this.view;
    const dst = buf.readUInt16BE(off + 2);
    v.srcPort = buf.readUInt16BE(off);
    v.dstPort = dst;
    const ulen = buf.readUInt16BE(off + 4);
    // A UDP length of 0 is legal for jumbograms (RFC 2675); otherwise it should match IP.
    if (ulen !== 0 && ulen !== wire - off) this.counters.inc('udp_bad_length');
    v.payloadOff = off + 8;
    v.payloadLen = cap - v.payloadOff;
    v.payloadWireLen = wire - v.payloadOff;
    if (this.vxlanPort[dst] === 1) return this.vxlan(buf, off + 8, cap, wire);
    return this.notTcp();
  }

  /** RFC 7348 §5: flags(8, I bit 0x08) reserved(24) VNI(24) reserved(8), then an Ethernet frame. */
  private vxlan(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (this.tunnels >= MAX_TUNNEL) return this.bad('vxlan_too_deep');
    if (cap - off < 8) return this.bad('vxlan_truncated');
    if ((buf[off]! & 0x08) === 0) return this.bad('vxlan_bad_flags');
    this.tunnels++;
    this.resetInner();
    this.view.vni = buf.readUInt32BE(off + 4) >>> 8;
    return this.ethernet(buf, off + 8, cap, wire);
  }

  /**
   * IPv4 fragment (RFC 791 §3.2, RFC 815 style): copy into a bounded table keyed by
   * (src, dst, id, proto); when the datagram is complete decode it from a fresh Buffer.
   * Cold path: string keys and copies are fine here, fragments are rare in HTTP traffic.
   */
  private fragment(
    buf: Buffer,
    off: number,
    ihl: number,
    total: number,
    cap: number,
    wire: number,
    fragField: number,
  ): DecodeStatus {
    this.counters.inc('ip_fragment');
    const fragOff = (fragField & 0x1fff) * 8;
    const more = (fragField & 0x2000) !== 0;
    const dataLen = total - ihl;
    const tsUs = this.view.tsUs;
    this.expireFrags(tsUs);
    if (cap < wire || fragOff + dataLen > FRAG_MAX_BYTES || (more && dataLen % 8 !== 0) || dataLen <= 0) {
      this.counters.inc('ip_frag_bad');
      return DecodeStatus.FRAGMENT;
    }
    const key = `${buf.readUInt32BE(off + 12)}:${buf.readUInt32BE(off + 16)}:${buf.readUInt16BE(off + 4)}:${buf[off + 9]}`;
    let d = this.frags.get(key);
    if (d === undefined) {
      if (this.frags.size >= FRAG_MAX_DATAGRAMS) {
        const oldest = this.frags.keys().next();
        if (!oldest.done) this.frags.delete(oldest.value);
        this.counters.inc('ip_frag_evicted');
      }
      d = { firstTsUs: tsUs, header: null, total: -1, stored: 0, pieces: [] };
      this.frags.set(key, d);
    }
    const end = fragOff + dataLen;
    for (const p of d.pieces) {
      if (fragOff < p.off + p.data.length && p.off < end) {
        this.counters.inc('ip_frag_overlap');
        return DecodeStatus.FRAGMENT;
      }
    }
    if (!more) {
      if (d.total !== -1 && d.total !== end) {
        this.counters.inc('ip_frag_bad');
        return DecodeStatus.FRAGMENT;
      }
      d.total = end;
    }
    if (d.stored + dataLen > FRAG_MAX_BYTES) {
      this.counters.inc('ip_frag_bad');
      return DecodeStatus.FRAGMENT;
    }
    if (fragOff === 0) d.header = Buffer.from(buf.subarray(off, off + ihl));
    d.pieces.push({ off: fragOff, data: Buffer.from(buf.subarray(off + ihl, off + total)) });
    d.stored += dataLen;
    if (d.header === null || d.total < 0 || d.stored !== d.total) return DecodeStatus.FRAGMENT;
    // Pieces do not overlap and sum to total, so they tile [0, total).
    this.frags.delete(key);
    const h = d.header;
    const out = Buffer.allocUnsafe(h.length + d.total);
    h.copy(out, 0);
    out.writeUInt16BE(h.length + d.total, 2);
    out.writeUInt16BE(0, 6);
    for (const p of d.pieces) p.data.copy(out, h.length + p.off);
    this.counters.inc('ip_reassembled');
    this.view.frame = out;
    return this.ipv4(out, 0, out.length, out.length);
  }

  private expireFrags(nowUs: number): void {
    // Map iteration is insertion order, i.e. by first fragment time for a time-ordered capture.
    for (const [k, d] of this.frags) {
      if (nowUs - d.firstTsUs <= FRAG_TIMEOUT_US) break;
      this.frags.delete(k);
      this.counters.inc('ip_frag_expired');
    }
  }
}

export function createDecoder(opts: DecoderOptions, counters: Counters): Decoder {
  return new DecoderImpl(opts, counters);
}
