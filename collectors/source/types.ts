// Sources turn a file or a socket into link-layer frames with packet time.
//
// Ownership: `frame` is only valid during the onFrame call (a source may reuse or slice one big
// Buffer); a consumer that keeps bytes copies them.
// Link types are LINKTYPE_* numbers from the tcpdump registry (1 Ethernet, 101 raw IP, 113 Linux SLL,
// 276 Linux SLL2, 0 BSD null, 108 OpenBSD loop, 228 raw IPv4, 229 raw IPv6, 9/50 PPP, 51 PPPoE, 104 Cisco HDLC, 239 NFLOG).
import type { SourceCounter } from '../../engine/contracts/catalogue.js';
export interface FrameSink {
  /**
   * One captured frame. `tsUs` is packet time (microseconds since the epoch, nanosecond captures
   * rounded down); `wireLen` is the original length on the wire (>= frame.length when truncated).
   */
  onFrame(frame: Buffer, linkType: number, tsUs: number, wireLen: number): void;
}

/** A structural problem of the capture file itself (not of a packet): named, counted, reported. */
export interface SourceProblem {
  /** A name of the catalogue's source section: capture_truncated, capture_not_a_capture, ... */
  code: SourceCounter;
  message: string;
  /** True when reading stopped because of it. */
  fatal: boolean;
}

export interface SourceResult {
  frames: number;
  bytes: number;
  problems: SourceProblem[];
}

/** LINKTYPE_* numbers the decoder understands (tcpdump.org/linktypes.html), plus apitap's pseudo type. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  /** PPP (RFC 1661), with or without the RFC 1662 0xFF 0x03 address/control bytes. */
  PPP: 9,
  /** LINKTYPE_RAW as some BSDs wrote it (DLT_RAW 12 / 14). */
  RAW_12: 12,
  RAW_14: 14,
  /** PPP in HDLC-like framing (RFC 1662) or Cisco HDLC. */
  PPP_HDLC: 50,
  /** PPPoE session (RFC 2516) without the Ethernet header. */
  PPP_ETHER: 51,
  RAW: 101,
  /** Cisco HDLC: address, control, EtherType. */
  C_HDLC: 104,
  LOOP: 108,
  /** OpenBSD enc(4) IPsec: af, spi, flags, then the (decrypted) packet. */
  ENC: 109,
  /** OpenBSD/FreeBSD pf log: pfloghdr, then the packet. */
  PFLOG: 117,
  LINUX_SLL: 113,
  /** Linux netfilter NFLOG (nflog:N in tcpdump): TLVs around the IP packet. */
  NFLOG: 239,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  /**
   * Not in the registry (above the 16-bit range on purpose): the frame starts at the VXLAN header.
   * Produced by the live UDP receiver, where the kernel already removed the outer IP/UDP headers.
   */
  VXLAN_PAYLOAD: 0x10000,
} as const;

/** Link types a capture file may declare and the decoder accepts, for "supported:" messages. */
export const SUPPORTED_FILE_LINKTYPES: ReadonlySet<number> = new Set([
  0, 1, 9, 12, 14, 50, 51, 101, 104, 108, 109, 113, 117, 228, 229, 239, 276,
]);
export const SUPPORTED_LINKTYPES_TEXT =
  'Ethernet(1), raw IP(101,228,229,12,14), Linux SLL(113), SLL2(276), BSD null/loop(0,108), PPP(9), PPP-HDLC(50), PPPoE(51), Cisco HDLC(104), NFLOG(239), pflog(117), enc(109)';
