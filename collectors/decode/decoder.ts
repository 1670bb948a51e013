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
import { COUNTERS, familyMember } from '../../engine/contracts/catalogue.js';
import type { CounterInfo, CounterName, DecodeAnomaly } from '../../engine/contracts/catalogue.js';
import type { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE } from '../source/types.js';
import { DecodeStatus, TUNNEL, createPacketView, tunnelKey } from './packet.js';
import type { PacketView } from './packet.js';
import type { DecodeNotAnalysed } from './reasons.js';

/** Pseudo link type: the frame starts at the VXLAN header (live receiver; outer headers stripped). */
export const LINKTYPE_VXLAN_PAYLOAD = LINKTYPE.VXLAN_PAYLOAD;

/** The not-analysed reason each anomaly that stops decoding falls under. */
function reasonOf(name: DecodeAnomaly): DecodeNotAnalysed {
  if (name === 'link_unsupported') return 'decode_unsupported_linktype';
  if (name === 'tunnel_depth_exceeded') return 'tunnel_depth_exceeded';
  if (name.endsWith('_truncated') || name === 'nflog_no_payload') return 'decode_truncated';
  return 'decode_malformed';
}
const REASON_OF = new Map<string, DecodeNotAnalysed>(
  (Object.entries(COUNTERS) as [CounterName, CounterInfo][])
    .filter(([, c]) => c.layer === 'decode' && c.kind === 'anomaly')
    .map(([k]) => [k as DecodeAnomaly, reasonOf(k as DecodeAnomaly)]),
);
const NOT_TCP_NAMES: readonly CounterName[] = Array.from({ length: 256 }, (_, i) =>
  familyMember('not_tcp_ip_proto_', i),
);

export interface DecoderOptions {
  /** UDP destination ports carrying VXLAN (IANA 4789). */
  vxlanPorts: readonly number[];
  /** UDP destination ports carrying Geneve (IANA 6081). */
  genevePorts?: readonly number[];
  /** UDP ports (either end) carrying GTP-U (3GPP TS 29.281, 2152). */
  gtpuPorts?: readonly number[];
  /** UDP ports (either end) carrying Teredo (RFC 4380, 3544). */
  teredoPorts?: readonly number[];
  /** UDP ports (either end) carrying AYIYA (draft-massar-v6ops-ayiya, 5072). */
  ayiyaPorts?: readonly number[];
}

export const DEFAULT_GENEVE_PORTS: readonly number[] = [6081];
const DEFAULT_GTPU_PORTS: readonly number[] = [2152];
const DEFAULT_TEREDO_PORTS: readonly number[] = [3544];
const DEFAULT_AYIYA_PORTS: readonly number[] = [5072];

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
const ETH_PPPOE_SESSION = 0x8864;
const ETH_TEB = 0x6558;
const ETH_ERSPAN_2 = 0x88be;
const ETH_ERSPAN_3 = 0x22eb;
const ETH_PPP = 0x880b;
const ETH_WCCP = 0x883e;
const MAX_VLAN = 8;
const MAX_MPLS = 8;
const MAX_IPV6_EXT = 8;
const MAX_NFLOG_TLVS = 64;
const MAX_GRE_SRE = 16;
const MAX_GTP_EXT = 16;
/** Tunnels followed per packet (VXLAN in GRE in IPv6 ...); the next one counts tunnel_depth_exceeded. */
export const MAX_TUNNEL_DEPTH = 4;
/** Bounds of the fragment reassembly table (RFC 791 §3.2, RFC 8200 §4.5; 30 s is below the 60-120 s of most stacks: mirrors lose fragments). */
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
  /** 4 or 6. */
  version: number;
  /** Copy of the IP header of the offset-0 fragment (IPv6: the fixed header, next header patched), or null until it arrives. */
  header: Buffer | null;
  /** Payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number;
  stored: number;
  pieces: FragPiece[];
}

function portTable(ports: readonly number[]): Uint8Array {
  const t = new Uint8Array(65536);
  for (const p of ports) if (Number.isInteger(p) && p > 0 && p < 65536) t[p] = 1;
  return t;
}

class DecoderImpl implements Decoder {
  readonly view: PacketView = createPacketView();
  private readonly vxlanPort: Uint8Array;
  private readonly genevePort: Uint8Array;
  private readonly gtpuPort: Uint8Array;
  private readonly teredoPort: Uint8Array;
  private readonly ayiyaPort: Uint8Array;
  private readonly ether = new Map<number, EtherHandler>();
  private readonly frags = new Map<string, FragDatagram>();
  /** Tunnels entered for the current packet. */
  private tunnels = 0;
  /** The tunnel identity in the view came from a tunnel that carries an id. */
  private tunnelHasId = false;

  constructor(
    opts: DecoderOptions,
    private readonly counters: Counters,
  ) {
    this.vxlanPort = portTable(opts.vxlanPorts);
    this.genevePort = portTable(opts.genevePorts ?? DEFAULT_GENEVE_PORTS);
    this.gtpuPort = portTable(opts.gtpuPorts ?? DEFAULT_GTPU_PORTS);
    this.teredoPort = portTable(opts.teredoPorts ?? DEFAULT_TEREDO_PORTS);
    this.ayiyaPort = portTable(opts.ayiyaPorts ?? DEFAULT_AYIYA_PORTS);
    const ipv4: EtherHandler = (b, o, c, w) => this.ipv4(b, o, c, w);
    const ipv6: EtherHandler = (b, o, c, w) => this.ipv6(b, o, c, w);
    const vlan: EtherHandler = (b, o, c, w, d) => this.vlan(b, o, c, w, d);
    const mpls: EtherHandler = (b, o, c, w) => this.mpls(b, o, c, w);
    const pppoe: EtherHandler = (b, o, c, w) => this.pppoe(b, o, c, w);
    this.ether.set(ETH_IPV4, ipv4).set(ETH_IPV6, ipv6);
    this.ether.set(ETH_VLAN, vlan).set(ETH_QINQ, vlan).set(ETH_QINQ_OLD, vlan).set(ETH_QINQ_OLD2, vlan);
    this.ether.set(ETH_MPLS, mpls).set(ETH_MPLS_MC, mpls);
    this.ether.set(ETH_PPPOE_SESSION, pppoe);
  }

  decode(frame: Buffer, linkType: number, tsUs: number, wireLen: number): DecodeStatus {
    const v = this.view;
    v.frame = frame;
    v.tsUs = tsUs;
    v.wireLen = wireLen > frame.length ? wireLen : frame.length;
    v.vni = -1;
    v.tunnelKind = TUNNEL.NONE;
    v.tunnelId = 0;
    this.tunnels = 0;
    this.tunnelHasId = false;
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
      case LINKTYPE.PPP:
      case LINKTYPE.PPP_HDLC:
      case LINKTYPE.C_HDLC:
        return this.pppOrHdlc(frame, 0, len, wire);
      case LINKTYPE.PPP_ETHER:
        return this.pppoe(frame, 0, len, wire);
      case LINKTYPE.NFLOG:
        return this.nflog(frame, len, wire);
      case LINKTYPE.PFLOG: {
        // OpenBSD/FreeBSD pfloghdr: length(1) af(1) ...; the packet starts at length rounded up to 4.
        if (len < 2) return this.bad('link_truncated');
        const hlen = (frame[0]! + 3) & ~3;
        if (hlen < 4 || len < hlen) return this.bad('link_truncated');
        return this.family(frame, frame[1]!, hlen, len, wire);
      }
      case LINKTYPE.ENC:
        // OpenBSD enc(4): af(4, host order) spi(4) flags(4), then the packet.
        if (len < 12) return this.bad('link_truncated');
        return this.family(
          frame,
          frame.readUInt32LE(0) > 0xffff ? frame.readUInt32BE(0) : frame.readUInt32LE(0),
          12,
          len,
          wire,
        );
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

  /** An anomaly that stops decoding: its own counter plus the frame's not-analysed reason. */
  private bad(name: DecodeAnomaly): DecodeStatus {
    this.counters.inc(name);
    const reason = REASON_OF.get(name) ?? 'decode_malformed';
    if (reason !== name) this.counters.inc(reason);
    return DecodeStatus.BAD;
  }

  /** Link-layer payload that is not IP (unknown EtherType, PPP control protocol, address family). */
  private notIp(): DecodeStatus {
    this.counters.inc('decode_unsupported_ethertype');
    return DecodeStatus.NOT_TCP;
  }

  /** An IP packet whose transport is not TCP (and no tunnel we follow). */
  private notTcp(proto: number): DecodeStatus {
    this.counters.inc('decode_not_tcp');
    this.counters.inc(NOT_TCP_NAMES[proto & 0xff]!);
    return DecodeStatus.NOT_TCP;
  }

  private fragHeld(): DecodeStatus {
    this.counters.inc('decode_ip_fragment');
    return DecodeStatus.FRAGMENT;
  }

  /**
   * Enter one tunnel level: false (after counting tunnel_depth_exceeded) when too deep. The view's
   * tunnel identity is the outermost tunnel carrying an id, else the outermost tunnel (id 0).
   */
  private enter(kind: number, id: number, hasId: boolean): boolean {
    if (this.tunnels >= MAX_TUNNEL_DEPTH) {
      this.bad('tunnel_depth_exceeded');
      return false;
    }
    this.tunnels++;
    this.resetInner();
    const v = this.view;
    if (v.tunnelKind === TUNNEL.NONE || (hasId && !this.tunnelHasId)) {
      v.tunnelKind = kind;
      v.tunnelId = id;
      this.tunnelHasId = hasId;
    }
    return true;
  }

  private ethernet(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 14) return this.bad('eth_truncated');
    return this.etherType(buf, buf.readUInt16BE(off + 12), off + 14, cap, wire, 0);
  }

  /** Dispatch on an EtherType; values below 0x0600 are 802.3 lengths (LLC/SNAP), never TCP here. */
  private etherType(buf: Buffer, type: number, off: number, cap: number, wire: number, depth: number): DecodeStatus {
    const h = this.ether.get(type);
    if (h === undefined) return this.notIp();
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
    return this.notIp();
  }

  /**
   * RFC 2516 §4 PPPoE session stage: VER 1, TYPE 1 (one byte 0x11), CODE 0, SESSION_ID, LENGTH of the
   * PPP payload, then a PPP protocol field. LENGTH trims the Ethernet padding.
   */
  private pppoe(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 6) return this.bad('pppoe_truncated');
    if (buf[off] !== 0x11 || buf[off + 1] !== 0) return this.bad('pppoe_bad_header');
    const end = off + 6 + buf.readUInt16BE(off + 4);
    if (end < cap) cap = end;
    return this.ppp(buf, off + 6, cap, wire);
  }

  /**
   * LINKTYPE_PPP (9), LINKTYPE_PPP_HDLC (50), LINKTYPE_C_HDLC (104): PPP with or without the RFC 1662
   * address/control bytes 0xFF 0x03, or Cisco HDLC (address 0x0F unicast / 0x8F broadcast, control 0,
   * then an EtherType).
   */
  private pppOrHdlc(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 2) return this.bad('link_truncated');
    const a = buf[off]!;
    if ((a === 0x0f || a === 0x8f) && buf[off + 1] === 0) {
      if (cap - off < 4) return this.bad('link_truncated');
      return this.etherType(buf, buf.readUInt16BE(off + 2), off + 4, cap, wire, 0);
    }
    return this.ppp(buf, off, cap, wire);
  }

  /** RFC 1661 §2: optional 0xFF 0x03 (RFC 1662), protocol field of 1 byte when compressed (odd first byte, RFC 1661 §6.5) or 2. */
  private ppp(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off >= 2 && buf[off] === 0xff && buf[off + 1] === 0x03) off += 2;
    if (cap - off < 1) return this.bad('ppp_truncated');
    let proto: number;
    if ((buf[off]! & 1) === 1) {
      proto = buf[off]!;
      off += 1;
    } else {
      if (cap - off < 2) return this.bad('ppp_truncated');
      proto = buf.readUInt16BE(off);
      off += 2;
    }
    switch (proto) {
      case 0x0021:
        return this.ipv4(buf, off, cap, wire);
      case 0x0057:
        return this.ipv6(buf, off, cap, wire);
      case 0x0281:
      case 0x0283:
        return this.mpls(buf, off, cap, wire);
      case 0x0031: // RFC 3518 bridged Ethernet: 2 flag/pad bytes then the frame.
        if (cap - off < 2) return this.bad('ppp_truncated');
        return this.ethernet(buf, off + 2, cap, wire);
      default:
        return this.notIp();
    }
  }

  /**
   * LINKTYPE_NFLOG (239): family(1) version(1) resource id(2, big endian), then TLVs of length(2)
   * type(2) in the logging host's byte order, length including the 4-byte header, padded to 4.
   * NFULA_PAYLOAD (type 9) holds the packet from its IP header. The byte order is read from each TLV:
   * types are small (< 256), so the order that yields a small type is the host's.
   */
  private nflog(buf: Buffer, cap: number, wire: number): DecodeStatus {
    if (cap < 4) return this.bad('nflog_truncated');
    const family = buf[0]!;
    let p = 4;
    for (let i = 0; i < MAX_NFLOG_TLVS && cap - p >= 4; i++) {
      let len = buf.readUInt16LE(p);
      let type = buf.readUInt16LE(p + 2) & 0x7fff;
      if (type > 0xff) {
        len = buf.readUInt16BE(p);
        type = buf.readUInt16BE(p + 2) & 0x7fff;
      }
      if (len < 4) return this.bad('nflog_bad_tlv');
      if (type === 9) {
        const end = p + len < cap ? p + len : cap;
        // Bytes the packet had beyond the capture: only the frame's wire length tells.
        const w = wire - cap + end;
        if (family === 2) return this.ipv4(buf, p + 4, end, w);
        if (family === 10) return this.ipv6(buf, p + 4, end, w);
        return this.rawIp(buf, p + 4, end, w);
      }
      p += (len + 3) & ~3;
    }
    if (p < cap) return this.bad('nflog_truncated');
    return this.bad('nflog_no_payload');
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
    return this.notIp();
  }

  /** An IP packet named by a BSD/Linux address family: AF_INET 2; AF_INET6 10 (Linux), 24, 28, 30 (BSDs). */
  private family(buf: Buffer, fam: number, off: number, cap: number, wire: number): DecodeStatus {
    if (fam === 2) return this.ipv4(buf, off, cap, wire);
    if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return this.ipv6(buf, off, cap, wire);
    this.counters.inc('null_unknown_family');
    return this.notIp();
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
    if ((fragField & 0x3fff) !== 0) return this.fragment4(buf, off, ihl, total, ipCap, ipWire, fragField);
    return this.transport(buf, proto, off + ihl, ipCap, ipWire, 4);
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
          return this.fragment6(buf, off, p, hdrNext, fo, ipCap, ipWire);
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
    return this.transport(buf, next, p, ipCap, ipWire, 6);
  }

  /** IP protocol dispatch: TCP, UDP (tunnels on UDP), and the IP-level tunnels (RFC 2003, 4213, 2473, 2784, 4023). */
  private transport(buf: Buffer, proto: number, off: number, cap: number, wire: number, outer: number): DecodeStatus {
    switch (proto) {
      case 6:
        return this.tcp(buf, off, cap, wire);
      case 17:
        return this.udp(buf, off, cap, wire);
      case 4:
        if (!this.enter(outer === 4 ? TUNNEL.IPIP : TUNNEL.FOUR_IN_SIX, 0, false)) return DecodeStatus.BAD;
        return this.ipv4(buf, off, cap, wire);
      case 41:
        if (!this.enter(outer === 4 ? TUNNEL.SIX_IN_FOUR : TUNNEL.IP6IP6, 0, false)) return DecodeStatus.BAD;
        return this.ipv6(buf, off, cap, wire);
      case 47:
        return this.gre(buf, off, cap, wire);
      case 137:
        if (!this.enter(TUNNEL.MPLSIP, 0, false)) return DecodeStatus.BAD;
        return this.mpls(buf, off, cap, wire);
      default:
        return this.notTcp(proto);
    }
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
    const src = buf.readUInt16BE(off);
    const dst = buf.readUInt16BE(off + 2);
    v.srcPort = src;
    v.dstPort = dst;
    const ulen = buf.readUInt16BE(off + 4);
    // A UDP length of 0 is legal for jumbograms (RFC 2675); otherwise it should match IP.
    if (ulen !== 0 && ulen !== wire - off) this.counters.inc('udp_bad_length');
    v.payloadOff = off + 8;
    v.payloadLen = cap - v.payloadOff;
    v.payloadWireLen = wire - v.payloadOff;
    if (this.vxlanPort[dst] === 1) return this.vxlan(buf, off + 8, cap, wire);
    if (this.genevePort[dst] === 1) return this.geneve(buf, off + 8, cap, wire);
    if (this.gtpuPort[dst] === 1 || this.gtpuPort[src] === 1) return this.gtpu(buf, off + 8, cap, wire);
    if (this.teredoPort[dst] === 1 || this.teredoPort[src] === 1) return this.teredo(buf, off + 8, cap, wire);
    if (this.ayiyaPort[dst] === 1 || this.ayiyaPort[src] === 1) return this.ayiya(buf, off + 8, cap, wire);
    return this.notTcp(17);
  }

  /** RFC 7348 §5: flags(8, I bit 0x08) reserved(24) VNI(24) reserved(8), then an Ethernet frame. */
  private vxlan(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 8) return this.bad('vxlan_truncated');
    if ((buf[off]! & 0x08) === 0) return this.bad('vxlan_bad_flags');
    const vni = buf.readUInt32BE(off + 4) >>> 8;
    if (!this.enter(TUNNEL.VXLAN, vni, true)) return DecodeStatus.BAD;
    this.view.vni = vni;
    return this.ethernet(buf, off + 8, cap, wire);
  }

  /**
   * RFC 8926 §3.4: Ver(2) OptLen(6, 4-byte words) O C Rsvd(6) Protocol Type(16) VNI(24) Reserved(8),
   * then OptLen*4 bytes of options (skipped by length), then the payload named by Protocol Type
   * (0x6558 Ethernet, as AWS Gateway Load Balancer sends; IPv4/IPv6 also dispatched).
   */
  private geneve(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 8) return this.bad('geneve_truncated');
    const b0 = buf[off]!;
    if (b0 >> 6 !== 0) return this.bad('geneve_bad_version');
    const p = off + 8 + (b0 & 0x3f) * 4;
    if (p > cap) return this.bad('geneve_truncated');
    const proto = buf.readUInt16BE(off + 2);
    if (!this.enter(TUNNEL.GENEVE, buf.readUInt32BE(off + 4) >>> 8, true)) return DecodeStatus.BAD;
    if (proto === ETH_TEB) return this.ethernet(buf, p, cap, wire);
    return this.etherType(buf, proto, p, cap, wire, 0);
  }

  /**
   * GRE, RFC 2784 with RFC 2890 (key, sequence) and RFC 1701 routing: C R K S s Recur(3) Flags(5)
   * Ver(3), Protocol Type; then checksum+offset (present when C or R), key (K), sequence (S), and
   * source route entries (R) up to a null SRE. Version 1 is PPTP's enhanced GRE (RFC 2637 §4.1).
   * Protocol 0x88BE is ERSPAN type II (with S) or type I (without), 0x22EB ERSPAN type III, 0x6558
   * transparent Ethernet bridging; anything else is an EtherType.
   */
  private gre(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 4) return this.bad('gre_truncated');
    const fl = buf.readUInt16BE(off);
    const proto = buf.readUInt16BE(off + 2);
    const ver = fl & 7;
    if (ver === 1) return this.pptp(buf, off, fl, proto, cap, wire);
    if (ver !== 0) return this.bad('gre_bad_version');
    let p = off + 4;
    if ((fl & 0xc000) !== 0) p += 4;
    let key = 0;
    const hasKey = (fl & 0x2000) !== 0;
    if (hasKey) {
      if (cap - p < 4) return this.bad('gre_truncated');
      key = buf.readUInt32BE(p);
      p += 4;
    }
    const hasSeq = (fl & 0x1000) !== 0;
    if (hasSeq) p += 4;
    if (p > cap) return this.bad('gre_truncated');
    if ((fl & 0x4000) !== 0) {
      // SRE: address family(2) offset(1) length(1) routing information(length); ends with length 0.
      for (let i = 0; ; i++) {
        if (i >= MAX_GRE_SRE) return this.bad('gre_bad_routing');
        if (cap - p < 4) return this.bad('gre_truncated');
        const family = buf.readUInt16BE(p);
        const len = buf[p + 3]!;
        p += 4 + len;
        if (family === 0 && len === 0) break;
      }
      if (p > cap) return this.bad('gre_truncated');
    }
    if (proto === ETH_ERSPAN_2) return this.erspan(buf, p, cap, wire, hasSeq ? 2 : 1);
    if (proto === ETH_ERSPAN_3) return this.erspan(buf, p, cap, wire, 3);
    if (!this.enter(TUNNEL.GRE, key, hasKey)) return DecodeStatus.BAD;
    if (proto === ETH_TEB) return this.ethernet(buf, p, cap, wire);
    if (proto === ETH_PPP) return this.ppp(buf, p, cap, wire);
    // Cisco WCCP redirection: WCCPv2 puts a 4-byte redirect header before the IPv4 packet, WCCPv1 none.
    if (proto === ETH_WCCP) return this.ipv4(buf, cap - p >= 1 && buf[p]! >> 4 === 4 ? p : p + 4, cap, wire);
    return this.etherType(buf, proto, p, cap, wire, 0);
  }

  /** RFC 2637 §4.1 enhanced GRE: flags with K set, protocol 0x880B, payload length(16) call id(16), sequence (S), ack (A 0x0080), then PPP. */
  private pptp(buf: Buffer, off: number, fl: number, proto: number, cap: number, wire: number): DecodeStatus {
    if (proto !== ETH_PPP || (fl & 0x2000) === 0) return this.bad('gre_bad_version');
    let p = off + 8;
    if ((fl & 0x1000) !== 0) p += 4;
    if ((fl & 0x0080) !== 0) p += 4;
    if (p > cap) return this.bad('gre_truncated');
    if (!this.enter(TUNNEL.PPTP, buf.readUInt16BE(off + 6), true)) return DecodeStatus.BAD;
    // An ack-only packet carries no payload at all.
    if (p === cap) return this.notIp();
    return this.ppp(buf, p, cap, wire);
  }

  /**
   * ERSPAN (draft-foschiano-erspan): type I has no header; type II 8 bytes, Ver(4)=1 VLAN(12)
   * COS(3) En(2) T(1) Session ID(10) Reserved(12) Index(20); type III 12 bytes, Ver(4)=2 VLAN(12)
   * COS(3) BSO(2) T(1) Session ID(10) Timestamp(32) SGT(16) P(1) FT(5) HW ID(6) D(1) Gra(2) O(1),
   * plus an 8-byte platform-specific subheader when O is set; FT 0 is Ethernet, 2 is IP.
   */
  private erspan(buf: Buffer, p: number, cap: number, wire: number, type: number): DecodeStatus {
    if (type === 1) {
      if (!this.enter(TUNNEL.ERSPAN, 0, false)) return DecodeStatus.BAD;
      return this.ethernet(buf, p, cap, wire);
    }
    const hlen = type === 2 ? 8 : 12;
    if (cap - p < hlen) return this.bad('erspan_truncated');
    if (buf[p]! >> 4 !== type - 1) return this.bad('erspan_bad_version');
    const session = buf.readUInt16BE(p + 2) & 0x03ff;
    let ft = 0;
    let q = p + hlen;
    if (type === 3) {
      const w = buf.readUInt16BE(p + 10);
      ft = (w >> 10) & 0x1f;
      if ((w & 1) !== 0) q += 8;
      if (q > cap) return this.bad('erspan_truncated');
    }
    if (!this.enter(TUNNEL.ERSPAN, session, true)) return DecodeStatus.BAD;
    if (ft === 2) return this.rawIp(buf, q, cap, wire);
    if (ft !== 0) return this.notIp();
    return this.ethernet(buf, q, cap, wire);
  }

  /**
   * GTP-U (3GPP TS 29.281 §5.1): flags Ver(3)=1 PT(1)=1 E S PN, message type (255 = G-PDU), length,
   * TEID; with any of E/S/PN 4 more bytes (sequence, N-PDU, next extension type), then extension
   * headers of length*4 bytes each. A G-PDU carries an IP packet. Other messages (echo, end marker)
   * and GTP' / GTPv2 on the port are plain UDP.
   */
  private gtpu(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 8) return this.notTcp(17);
    const fl = buf[off]!;
    if (fl >> 5 !== 1 || (fl & 0x10) === 0 || buf[off + 1] !== 0xff) return this.notTcp(17);
    let p = off + 8;
    if ((fl & 0x07) !== 0) {
      if (cap - p < 4) return this.bad('gtpu_truncated');
      let nextExt = buf[p + 3]!;
      p += 4;
      for (let i = 0; nextExt !== 0; i++) {
        if (i >= MAX_GTP_EXT || cap - p < 4) return this.bad('gtpu_truncated');
        const len = buf[p]! * 4;
        if (len === 0 || cap - p < len) return this.bad('gtpu_truncated');
        nextExt = buf[p + len - 1]!;
        p += len;
      }
    }
    if (cap - p < 1) return this.bad('gtpu_truncated');
    if (!this.enter(TUNNEL.GTPU, buf.readUInt32BE(off + 4), true)) return DecodeStatus.BAD;
    return this.rawIp(buf, p, cap, wire);
  }

  /**
   * Teredo (RFC 4380 §5.1.1): an IPv6 packet in UDP, optionally preceded by an authentication
   * header (0x0001, ID-len, AU-len, client id, authentication value, nonce 8, confirmation 1) and/or
   * an origin indication (0x0000, port 2, address 4). UDP on the port that is neither is plain UDP
   * (Teredo bubbles carry an IPv6 header with no payload and are analysed as such).
   */
  private teredo(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    let p = off;
    if (cap - p >= 2 && buf[p] === 0 && buf[p + 1] === 1) {
      if (cap - p < 4) return this.bad('teredo_truncated');
      p += 4 + buf[p + 2]! + buf[p + 3]! + 9;
      if (p > cap) return this.bad('teredo_truncated');
    }
    if (cap - p >= 2 && buf[p] === 0 && buf[p + 1] === 0) {
      p += 8;
      if (p > cap) return this.bad('teredo_truncated');
    }
    // Not Teredo unless an IPv6 header whose payload length fills the datagram (as Zeek checks).
    if (cap - p < 40 || buf[p]! >> 4 !== 6 || 40 + buf.readUInt16BE(p + 4) !== wire - p) return this.notTcp(17);
    if (!this.enter(TUNNEL.TEREDO, 0, false)) return DecodeStatus.BAD;
    return this.ipv6(buf, p, cap, wire);
  }

  /**
   * AYIYA (draft-massar-v6ops-ayiya §5): IDLen(4) IDType(4) SigLen(4) HshMeth(4) AutMeth(4) OpCode(4)
   * NextHeader(8) Epoch(32), identity of 2^IDLen bytes, signature of SigLen*4 bytes. OpCode 1 is a
   * forwarded packet of IP protocol NextHeader (41 IPv6, 4 IPv4); other opcodes are plain UDP.
   */
  private ayiya(buf: Buffer, off: number, cap: number, wire: number): DecodeStatus {
    if (cap - off < 8) return this.notTcp(17);
    const p = off + 8 + (1 << (buf[off]! >> 4)) + (buf[off + 1]! >> 4) * 4;
    const next = buf[off + 3]!;
    if ((buf[off + 2]! & 0x0f) !== 1 || (next !== 41 && next !== 4) || p > cap) return this.notTcp(17);
    if (!this.enter(TUNNEL.AYIYA, 0, false)) return DecodeStatus.BAD;
    return next === 41 ? this.ipv6(buf, p, cap, wire) : this.ipv4(buf, p, cap, wire);
  }

  /** IPv4 fragment (RFC 791 §3.2): keyed by (tunnel, src, dst, id, proto). */
  private fragment4(
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
    if (cap < wire || fragOff + dataLen > FRAG_MAX_BYTES || (more && dataLen % 8 !== 0) || dataLen <= 0) {
      this.expireFrags(this.view.tsUs);
      this.counters.inc('ip_frag_bad');
      return this.fragHeld();
    }
    const key = `4:${tunnelKey(this.view)}:${buf.readUInt32BE(off + 12)}:${buf.readUInt32BE(off + 16)}:${buf.readUInt16BE(off + 4)}:${buf[off + 9]}`;
    return this.fragAdd(key, 4, buf, off, ihl, -1, off + ihl, dataLen, fragOff, more);
  }

  /**
   * IPv6 fragment (RFC 8200 §4.5): keyed by (tunnel, src, dst, identification). The reassembled
   * datagram is the fixed header (next header = the fragment header's, per §4.5 the offset-0
   * fragment's) followed by the fragmentable part; extension headers before the fragment header
   * (hop-by-hop, routing) are dropped, nothing above IP reads them.
   */
  private fragment6(
    buf: Buffer,
    off: number,
    fragHdr: number,
    next: number,
    fo: number,
    cap: number,
    wire: number,
  ): DecodeStatus {
    this.counters.inc('ip_fragment');
    const fragOff = fo & 0xfff8;
    const more = (fo & 1) !== 0;
    const dataOff = fragHdr + 8;
    const dataLen = wire - dataOff;
    if (cap < wire || fragOff + dataLen > FRAG_MAX_BYTES || (more && dataLen % 8 !== 0) || dataLen <= 0) {
      this.expireFrags(this.view.tsUs);
      this.counters.inc('ip_frag_bad');
      return this.fragHeld();
    }
    const key = `6:${tunnelKey(this.view)}:${buf.toString('latin1', off + 8, off + 40)}:${buf.readUInt32BE(fragHdr + 4)}`;
    return this.fragAdd(key, 6, buf, off, 40, next, dataOff, dataLen, fragOff, more);
  }

  /**
   * Store one fragment in the bounded table; when the datagram is complete decode it from a fresh
   * Buffer (the view then points into it). Cold path: string keys and copies are fine here,
   * fragments are rare in HTTP traffic.
   */
  private fragAdd(
    key: string,
    version: number,
    buf: Buffer,
    hdrOff: number,
    hdrLen: number,
    v6Next: number,
    dataOff: number,
    dataLen: number,
    fragOff: number,
    more: boolean,
  ): DecodeStatus {
    const tsUs = this.view.tsUs;
    this.expireFrags(tsUs);
    let d = this.frags.get(key);
    if (d === undefined) {
      if (this.frags.size >= FRAG_MAX_DATAGRAMS) {
        const oldest = this.frags.keys().next();
        if (!oldest.done) this.frags.delete(oldest.value);
        this.counters.inc('ip_frag_evicted');
      }
      d = { firstTsUs: tsUs, version, header: null, total: -1, stored: 0, pieces: [] };
      this.frags.set(key, d);
    }
    const end = fragOff + dataLen;
    for (const p of d.pieces) {
      if (fragOff < p.off + p.data.length && p.off < end) {
        this.counters.inc('ip_frag_overlap');
        return this.fragHeld();
      }
    }
    if (!more) {
      if (d.total !== -1 && d.total !== end) {
        this.counters.inc('ip_frag_bad');
        return this.fragHeld();
      }
      d.total = end;
    }
    if (d.stored + dataLen > FRAG_MAX_BYTES) {
      this.counters.inc('ip_frag_bad');
      return this.fragHeld();
    }
    if (fragOff === 0) {
      const h = Buffer.from(buf.subarray(hdrOff, hdrOff + hdrLen));
      if (v6Next >= 0) h[6] = v6Next;
      d.header = h;
    }
    d.pieces.push({ off: fragOff, data: Buffer.from(buf.subarray(dataOff, dataOff + dataLen)) });
    d.stored += dataLen;
    if (d.header === null || d.total < 0 || d.stored !== d.total) return this.fragHeld();
    // Pieces do not overlap and sum to total, so they tile [0, total).
    this.frags.delete(key);
    const h = d.header;
    const out = Buffer.allocUnsafe(h.length + d.total);
    h.copy(out, 0);
    if (d.version === 4) {
      out.writeUInt16BE(h.length + d.total, 2);
      out.writeUInt16BE(0, 6);
    } else {
      out.writeUInt16BE(d.total, 4);
    }
    for (const p of d.pieces) p.data.copy(out, h.length + p.off);
    this.counters.inc('ip_reassembled');
    this.view.frame = out;
    return d.version === 4 ? this.ipv4(out, 0, out.length, out.length) : this.ipv6(out, 0, out.length, out.length);
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
