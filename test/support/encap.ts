// Re-encapsulates the frames of a real Ethernet capture the way a mirror or a tunnel would deliver
// them: each real frame (IPv4 curl↔nginx traffic captured by tcpdump in the netns lab) becomes the
// payload of a Geneve, GRE, ERSPAN, IP-in-IP, 4in6, PPPoE-over-QinQ, GTP-U or nested tunnel packet,
// optionally fragmented at the outer IP layer. Used where this machine's kernel has no such tunnel
// driver (`ip link add ... type geneve|gre|...` answers "Unknown device type"): the inner packets are
// still the real ones, byte for byte; only the outer headers are written here, with every length and
// flag set as RFC 8926 / 2784 / 2890 / draft-foschiano-erspan / 2003 / 2473 / 2516 / TS 29.281 say.
import {
  erspan,
  ethernet,
  ethernetVlan,
  fragHeader,
  geneve,
  gre,
  gtpu,
  ipv4,
  ipv6,
  pppoe,
  udp,
  vxlan,
} from '../../collectors/decode/testing.js';

export interface Encapsulation {
  name: string;
  /** exchange/v1 `tunnel` expected on every exchange (null: not tunnelled, e.g. PPPoE). */
  tunnel: { kind: string; id: number } | null;
  /** Outer frames for one real Ethernet frame (several when fragmented). */
  wrap(frame: Buffer, index: number): Buffer[];
}

const A4 = { src: '198.51.100.10', dst: '198.51.100.20' };
const A6 = { src: '2001:db8:12::10', dst: '2001:db8:12::20' };
/** The inner IP packet of an Ethernet frame (the lab's frames carry no VLAN tag). */
const ipOf = (f: Buffer): Buffer => f.subarray(14);
const etherTypeOf = (f: Buffer): number => f.readUInt16BE(12);

/** RFC 791 fragmentation of an IPv4 packet (20-byte header) into pieces of at most `mtu` bytes. */
function fragment4(pkt: Buffer, mtu: number, id: number): Buffer[] {
  const data = pkt.subarray(20);
  if (pkt.length <= mtu) return [pkt];
  const step = Math.floor((mtu - 20) / 8) * 8;
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += step) {
    const piece = data.subarray(off, off + step);
    out.push(ipv4({ ...A4, proto: pkt[9]!, id, mf: off + step < data.length, fragOffset8: off / 8 }, piece));
  }
  return out;
}

/** RFC 8200 §4.5 fragmentation of an IPv6 packet (no extension headers) into pieces of at most `mtu` bytes. */
function fragment6(next: number, payload: Buffer, mtu: number, id: number): Buffer[] {
  if (40 + payload.length <= mtu) return [ipv6({ ...A6, next }, payload)];
  const step = Math.floor((mtu - 48) / 8) * 8;
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += step) {
    const piece = payload.subarray(off, off + step);
    out.push(ipv6({ ...A6, next, ext: [[44, fragHeader(off / 8, off + step < payload.length, id)]] }, piece));
  }
  return out;
}

export const ENCAPSULATIONS: readonly Encapsulation[] = [
  {
    name: 'geneve',
    tunnel: { kind: 'geneve', id: 0x123456 },
    wrap: (f) => [ethernet(0x0800, ipv4({ ...A4, proto: 17 }, udp({ dport: 6081 }, geneve(0x123456, 0x6558, f, 3))))],
  },
  {
    name: 'gretap-key-seq',
    tunnel: { kind: 'gre', id: 4242 },
    wrap: (f, i) => [ethernet(0x0800, ipv4({ ...A4, proto: 47 }, gre({ proto: 0x6558, key: 4242, seq: i }, f)))],
  },
  {
    name: 'gre-l3-checksum',
    tunnel: { kind: 'gre', id: 0 },
    wrap: (f) => [
      ethernet(0x0800, ipv4({ ...A4, proto: 47 }, gre({ proto: etherTypeOf(f), checksum: true }, ipOf(f)))),
    ],
  },
  {
    name: 'ip6gretap',
    tunnel: { kind: 'gre', id: 77 },
    wrap: (f) => [ethernet(0x86dd, ipv6({ ...A6, next: 47 }, gre({ proto: 0x6558, key: 77 }, f)))],
  },
  {
    name: 'erspan-ii',
    tunnel: { kind: 'erspan', id: 100 },
    wrap: (f, i) => [ethernet(0x0800, ipv4({ ...A4, proto: 47 }, gre({ proto: 0x88be, seq: i }, erspan(2, 100, f))))],
  },
  {
    name: 'ip6erspan-iii',
    tunnel: { kind: 'erspan', id: 7 },
    wrap: (f, i) => [ethernet(0x86dd, ipv6({ ...A6, next: 47 }, gre({ proto: 0x22eb, seq: i }, erspan(3, 7, f))))],
  },
  {
    name: 'ipip',
    tunnel: { kind: 'ipip', id: 0 },
    wrap: (f) => [ethernet(0x0800, ipv4({ ...A4, proto: 4 }, ipOf(f)))],
  },
  {
    name: '4in6',
    tunnel: { kind: '4in6', id: 0 },
    wrap: (f) => [ethernet(0x86dd, ipv6({ ...A6, next: 4 }, ipOf(f)))],
  },
  {
    name: 'pppoe-qinq',
    tunnel: null,
    wrap: (f) => [
      ethernetVlan(
        [
          [0x88a8, 300],
          [0x8100, 42],
        ],
        0x8864,
        pppoe(0x2a, 0x0021, ipOf(f)),
      ),
    ],
  },
  {
    name: 'gtpu',
    tunnel: { kind: 'gtpu', id: 0xc0ffee },
    wrap: (f) => [
      ethernet(0x0800, ipv4({ ...A4, proto: 17 }, udp({ sport: 2152, dport: 2152 }, gtpu(0xc0ffee, ipOf(f), true)))),
    ],
  },
  {
    name: 'vxlan-in-gre-over-ipv6',
    tunnel: { kind: 'gre', id: 9 },
    wrap: (f) => [
      ethernet(
        0x86dd,
        ipv6(
          { ...A6, next: 47 },
          gre({ proto: 0x0800, key: 9 }, ipv4({ ...A4, proto: 17 }, udp({ dport: 4789 }, vxlan(31, f)))),
        ),
      ),
    ],
  },
  {
    name: 'gretap-outer-ipv4-fragments',
    tunnel: { kind: 'gre', id: 5 },
    wrap: (f, i) =>
      fragment4(ipv4({ ...A4, proto: 47 }, gre({ proto: 0x6558, key: 5 }, f)), 576, i & 0xffff).map((p) =>
        ethernet(0x0800, p),
      ),
  },
  {
    name: 'ip6gretap-outer-ipv6-fragments',
    tunnel: { kind: 'gre', id: 6 },
    wrap: (f, i) => fragment6(47, gre({ proto: 0x6558, key: 6 }, f), 700, i).map((p) => ethernet(0x86dd, p)),
  },
];
