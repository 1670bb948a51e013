import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE_VXLAN_PAYLOAD, MAX_TUNNEL_DEPTH, createDecoder } from './decoder.js';
import { DecodeStatus, TCP_ACK, TCP_PSH, formatAddr } from './packet.js';
import {
  ethernet,
  ethernetVlan,
  ext8,
  httpFrame,
  ipv4,
  ipv6,
  mpls,
  nullLoop,
  sll,
  sll2,
  tcp,
  udp,
  vxlan,
} from './testing.js';

const GET = Buffer.from('GET /a HTTP/1.1\r\n\r\n');

function setup(ports: readonly number[] = [4789]) {
  const counters = new Counters();
  const d = createDecoder({ vxlanPorts: ports }, counters);
  return { d, counters, v: d.view };
}

function payload(v: { frame: Buffer; payloadOff: number; payloadLen: number }): string {
  return v.frame.toString('latin1', v.payloadOff, v.payloadOff + v.payloadLen);
}

const tcpIpv4 = (p = GET) =>
  ipv4(
    { proto: 6, src: '192.0.2.1', dst: '198.51.100.7' },
    tcp({ sport: 40000, dport: 8080, seq: 0xfffffff0, ack: 7 }, p),
  );
const tcpIpv6 = (p = GET, ext: readonly (readonly [number, Buffer])[] = []) =>
  ipv6({ next: 6, ext, src: '2001:db8::1', dst: '2001:db8::2' }, tcp({ sport: 1234, dport: 80 }, p));

describe('decoder: link types', () => {
  it('Ethernet II / IPv4 / TCP fills the view', () => {
    const { d, v, counters } = setup();
    assert.equal(d.decode(ethernet(0x0800, tcpIpv4()), 1, 42, 0), DecodeStatus.OK);
    assert.equal(v.ipVersion, 4);
    assert.equal(formatAddr(v.frame, v.srcAddrOff, 4), '192.0.2.1');
    assert.equal(formatAddr(v.frame, v.dstAddrOff, 4), '198.51.100.7');
    assert.deepEqual(
      [v.proto, v.srcPort, v.dstPort, v.seq, v.ack, v.tcpFlags],
      [6, 40000, 8080, 0xfffffff0, 7, TCP_PSH | TCP_ACK],
    );
    assert.equal(payload(v), GET.toString('latin1'));
    assert.equal(v.payloadWireLen, GET.length);
    assert.deepEqual([v.tsUs, v.vni, v.vlan], [42, -1, -1]);
    assert.deepEqual(counters.snapshot(), {});
  });

  it('Ethernet padding is trimmed by the IPv4 total length', () => {
    const { d, v } = setup();
    const f = Buffer.concat([ethernet(0x0800, ipv4({ proto: 6 }, tcp({}, Buffer.alloc(0)))), Buffer.alloc(6)]);
    assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
    assert.equal(v.payloadLen, 0);
    assert.equal(v.payloadWireLen, 0);
  });

  it('802.3/LLC frames and ARP are NOT_TCP, not anomalies, counted as unsupported EtherTypes', () => {
    const { d, counters } = setup();
    assert.equal(d.decode(ethernet(0x0026, Buffer.alloc(38)), 1, 0, 0), DecodeStatus.NOT_TCP);
    assert.equal(d.decode(ethernet(0x0806, Buffer.alloc(28)), 1, 0, 0), DecodeStatus.NOT_TCP);
    assert.deepEqual(counters.snapshot(), { decode_unsupported_ethertype: 2 });
  });

  for (const [name, tags] of [
    ['802.1Q', [[0x8100, 100]]],
    [
      '802.1ad QinQ',
      [
        [0x88a8, 10],
        [0x8100, 20],
      ],
    ],
    [
      '0x9100 stacked x3',
      [
        [0x9100, 5],
        [0x9100, 6],
        [0x8100, 7],
      ],
    ],
  ] as const) {
    it(`${name}: outermost VLAN id reported`, () => {
      const { d, v } = setup();
      assert.equal(d.decode(ethernetVlan(tags, 0x0800, tcpIpv4()), 1, 0, 0), DecodeStatus.OK);
      assert.equal(v.vlan, tags[0]![1]);
      assert.equal(payload(v), GET.toString('latin1'));
    });
  }

  it('VLAN stack deeper than 8 is vlan_too_deep', () => {
    const { d, counters } = setup();
    const tags = Array.from({ length: 9 }, (_, i) => [0x8100, i] as const);
    assert.equal(d.decode(ethernetVlan(tags, 0x0800, tcpIpv4()), 1, 0, 0), DecodeStatus.BAD);
    assert.equal(counters.get('vlan_too_deep'), 1);
  });

  it('MPLS stack over VLAN carries IPv4 and IPv6 (version nibble guess)', () => {
    const { d, v } = setup();
    const f4 = ethernetVlan(
      [
        [0x8100, 215],
        [0x8100, 11],
      ],
      0x8847,
      mpls([1000, 2000], tcpIpv4()),
    );
    assert.equal(d.decode(f4, 1, 0, 0), DecodeStatus.OK);
    assert.deepEqual([v.vlan, v.ipVersion, v.dstPort], [215, 4, 8080]);
    assert.equal(d.decode(ethernet(0x8847, mpls([16], tcpIpv6())), 1, 0, 0), DecodeStatus.OK);
    assert.equal(v.ipVersion, 6);
  });

  it('MPLS pseudowire with control word then Ethernet', () => {
    const { d, v } = setup();
    const f = ethernet(0x8847, mpls([16], Buffer.concat([Buffer.alloc(4), ethernet(0x0800, tcpIpv4())])));
    assert.equal(d.decode(f, 1, 0, 0), DecodeStatus.OK);
    assert.equal(payload(v), GET.toString('latin1'));
  });

  it('Linux SLL (113) and SLL2 (276)', () => {
    const { d, v } = setup();
    assert.equal(d.decode(sll(0x0800, tcpIpv4()), 113, 0, 0), DecodeStatus.OK);
    assert.equal(payload(v), GET.toString('latin1'));
    assert.equal(d.decode(sll2(0x86dd, tcpIpv6()), 276, 0, 0), DecodeStatus.OK);
    assert.equal(v.ipVersion, 6);
    assert.equal(payload(v), GET.toString('latin1'));
  });

  for (const lt of [101, 12, 14]) {
    it(`raw IP link type ${lt} (v4 and v6 by version nibble)`, () => {
      const { d, v } = setup();
      assert.equal(d.decode(tcpIpv4(), lt, 0, 0), DecodeStatus.OK);
      assert.equal(v.ipVersion, 4);
      assert.equal(d.decode(tcpIpv6(), lt, 0, 0), DecodeStatus.OK);
      assert.equal(v.ipVersion, 6);
    });
  }

  it('raw IPv4 (228) and raw IPv6 (229)', () => {
    const { d, v } = setup();
    assert.equal(d.decode(tcpIpv4(), 228, 0, 0), DecodeStatus.OK);
    assert.equal(d.decode(tcpIpv6(), 229, 0, 0), DecodeStatus.OK);
    assert.equal(formatAddr(v.frame, v.srcAddrOff, 6), '2001:db8::1');
  });

  for (const lt of [0, 108]) {
    for (const le of [true, false]) {
      it(`BSD null/loop ${lt} ${le ? 'little' : 'big'}-endian family: AF_INET, AF_INET6 24/28/30`, () => {
        const { d, v, counters } = setup();
        assert.equal(d.decode(nullLoop(2, le, tcpIpv4()), lt, 0, 0), DecodeStatus.OK);
        for (const fam of [24, 28, 30]) {
          assert.equal(d.decode(nullLoop(fam, le, tcpIpv6()), lt, 0, 0), DecodeStatus.OK);
          assert.equal(v.ipVersion, 6);
        }
        assert.equal(d.decode(nullLoop(7, le, tcpIpv4()), lt, 0, 0), DecodeStatus.NOT_TCP);
        assert.equal(counters.get('null_unknown_family'), 1);
      });
    }
  }

  it('unknown link type counts link_unsupported', () => {
    const { d, counters } = setup();
    assert.equal(d.decode(tcpIpv4(), 147, 0, 0), DecodeStatus.BAD);
    assert.equal(counters.get('link_unsupported'), 1);
  });
});

describe('decoder: IP', () => {
  it('IPv4 options are skipped via IHL', () => {
    const { d, v } = setup();
    const f = ethernet(0x0800, ipv4({ proto: 6, options: Buffer.from([1, 1, 1, 0, 0x94, 4, 0, 0]) }, tcp({}, GET)));
    assert.equal(d.decode(f, 1, 0, 0), DecodeStatus.OK);
    assert.equal(payload(v), GET.toString('latin1'));
  });

  it('IPv4 bad IHL / version / total length are anomalies', () => {
    const { d, counters } = setup();
    const f = ethernet(0x0800, tcpIpv4());
    const bad = Buffer.from(f);
    bad[14] = 0x44;
    assert.equal(d.decode(bad, 1, 0, 0), DecodeStatus.BAD);
    const badV = Buffer.from(f);
    badV[14] = 0x55;
    assert.equal(d.decode(badV, 1, 0, 0), DecodeStatus.BAD);
    const badLen = Buffer.from(f);
    badLen.writeUInt16BE(10, 16);
    assert.equal(d.decode(badLen, 1, 0, 0), DecodeStatus.BAD);
    assert.deepEqual(counters.snapshot(), { decode_malformed: 3, ipv4_bad_header: 2, ipv4_bad_length: 1 });
  });

  it('IPv4 total length 0 (TSO) uses the captured length', () => {
    const { d, v, counters } = setup();
    const f = ethernet(0x0800, ipv4({ proto: 6, totalLength: 0 }, tcp({}, GET)));
    assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
    assert.equal(v.payloadLen, GET.length);
    assert.equal(counters.get('ipv4_zero_length'), 1);
  });

  it('IPv6 extension chain: hop-by-hop, routing, dest opts, AH, atomic fragment', () => {
    const { d, v } = setup();
    const ah = Buffer.alloc(16);
    ah[1] = 2; // (2+2)*4 = 16
    const frag = Buffer.alloc(8); // offset 0, M 0: atomic
    const f = ethernet(
      0x86dd,
      tcpIpv6(GET, [
        [0, ext8()],
        [43, ext8(16)],
        [44, frag],
        [51, ah],
        [60, ext8()],
      ]),
    );
    assert.equal(d.decode(f, 1, 0, 0), DecodeStatus.OK);
    assert.equal(v.proto, 6);
    assert.equal(payload(v), GET.toString('latin1'));
  });

  it('IPv6 chain longer than 8 is ipv6_ext_too_long; a real IPv6 fragment is FRAGMENT', () => {
    const { d, counters } = setup();
    const chain = Array.from({ length: 9 }, () => [60, ext8()] as const);
    assert.equal(d.decode(ethernet(0x86dd, tcpIpv6(GET, chain)), 1, 0, 0), DecodeStatus.BAD);
    assert.equal(counters.get('ipv6_ext_too_long'), 1);
    const frag = Buffer.alloc(8);
    frag.writeUInt16BE(0x0001, 2); // M set
    assert.equal(d.decode(ethernet(0x86dd, tcpIpv6(GET, [[44, frag]])), 1, 0, 0), DecodeStatus.FRAGMENT);
    assert.equal(counters.get('ip_fragment'), 1);
  });

  it('truncated capture: payloadLen = captured, payloadWireLen from IP', () => {
    const { d, v, counters } = setup();
    const body = Buffer.alloc(1000, 0x41);
    const full = ethernet(0x0800, ipv4({ proto: 6 }, tcp({}, body)));
    const cut = full.subarray(0, 14 + 20 + 20 + 100);
    assert.equal(d.decode(cut, 1, 0, full.length), DecodeStatus.OK);
    assert.equal(v.payloadLen, 100);
    assert.equal(v.payloadWireLen, 1000);
    assert.equal(v.wireLen, full.length);
    assert.equal(counters.get('decode_truncated_packet'), 1);
  });

  it('TCP options and bad data offsets', () => {
    const { d, v, counters } = setup();
    const mss = Buffer.from([2, 4, 5, 0xb4, 1, 1, 1, 0]);
    assert.equal(d.decode(ethernet(0x0800, ipv4({ proto: 6 }, tcp({ options: mss }, GET))), 1, 0, 0), DecodeStatus.OK);
    assert.equal(payload(v), GET.toString('latin1'));
    assert.equal(
      d.decode(ethernet(0x0800, ipv4({ proto: 6 }, tcp({ dataOffset: 4 }, GET))), 1, 0, 0),
      DecodeStatus.BAD,
    );
    assert.equal(
      d.decode(ethernet(0x0800, ipv4({ proto: 6 }, tcp({ dataOffset: 15 }, Buffer.alloc(4)))), 1, 0, 0),
      DecodeStatus.BAD,
    );
    assert.equal(counters.get('tcp_bad_offset'), 2);
  });

  it('UDP that is not a tunnel is NOT_TCP with ports and payload', () => {
    const { d, v, counters } = setup();
    assert.equal(
      d.decode(ethernet(0x0800, ipv4({ proto: 17 }, udp({ sport: 5353, dport: 53 }, Buffer.alloc(12)))), 1, 0, 0),
      DecodeStatus.NOT_TCP,
    );
    assert.deepEqual([v.proto, v.srcPort, v.dstPort, v.payloadLen], [17, 5353, 53, 12]);
    assert.deepEqual(counters.snapshot(), { decode_not_tcp: 1, not_tcp_ip_proto_17: 1 });
  });
});

describe('decoder: IPv4 reassembly', () => {
  const seg = tcp({ sport: 1, dport: 80 }, Buffer.alloc(3000, 0x61)); // 3020 bytes
  const frag = (off8: number, len: number, mf: boolean, id = 9) =>
    ethernet(0x0800, ipv4({ proto: 6, id, mf, fragOffset8: off8 }, seg.subarray(off8 * 8, off8 * 8 + len)));

  it('out-of-order fragments reassemble into one TCP segment', () => {
    const { d, v, counters } = setup();
    assert.equal(d.decode(frag(370, 60, false), 1, 1, 0), DecodeStatus.FRAGMENT);
    assert.equal(d.decode(frag(0, 1480, true), 1, 2, 0), DecodeStatus.FRAGMENT);
    assert.equal(d.decode(frag(0, 1480, true, 10), 1, 2, 0), DecodeStatus.FRAGMENT); // another datagram
    assert.equal(d.decode(frag(185, 1480, true), 1, 3, 0), DecodeStatus.OK);
    assert.equal(v.payloadLen, 3000);
    assert.equal(v.tsUs, 3);
    assert.equal(payload(v), 'a'.repeat(3000));
    assert.equal(counters.get('ip_fragment'), 4);
    assert.equal(counters.get('ip_reassembled'), 1);
  });

  it('incomplete datagrams expire after 30 s of packet time', () => {
    const { d, counters } = setup();
    d.decode(frag(0, 1480, true), 1, 0, 0);
    d.decode(frag(370, 60, false), 1, 31_000_000, 0);
    assert.equal(counters.get('ip_frag_expired'), 1);
  });

  it('overlaps are counted and ignored', () => {
    const { d, counters } = setup();
    d.decode(frag(0, 1480, true), 1, 0, 0);
    assert.equal(d.decode(frag(0, 1480, true), 1, 0, 0), DecodeStatus.FRAGMENT);
    assert.equal(counters.get('ip_frag_overlap'), 1);
  });

  it('the table is bounded at 1024 datagrams', () => {
    const { d, counters } = setup();
    for (let i = 0; i < 1030; i++) d.decode(frag(0, 8, true, i), 1, 0, 0);
    assert.equal(counters.get('ip_frag_evicted'), 6);
  });
});

describe('decoder: VXLAN', () => {
  const inner = httpFrame(GET, { src: '10.9.0.1', dst: '10.9.0.2', sport: 3333, dport: 80 });
  const outer = (vni: number, port = 4789, flags = 0x08, innerFrame = inner) =>
    ethernetVlan(
      [[0x8100, 300]],
      0x0800,
      ipv4({ proto: 17, src: '172.31.0.1', dst: '172.31.0.2' }, udp({ dport: port }, vxlan(vni, innerFrame, flags))),
    );

  it('decodes the inner TCP packet in the same buffer, vni and inner VLAN reset', () => {
    const { d, v } = setup();
    const f = outer(5569041);
    assert.equal(d.decode(f, 1, 0, 0), DecodeStatus.OK);
    assert.equal(v.frame, f);
    assert.equal(v.vni, 5569041);
    assert.equal(v.vlan, -1);
    assert.equal(formatAddr(v.frame, v.srcAddrOff, 4), '10.9.0.1');
    assert.deepEqual([v.srcPort, v.dstPort], [3333, 80]);
    assert.equal(payload(v), GET.toString('latin1'));
  });

  it('only on configured ports', () => {
    const a = setup([4789]);
    assert.equal(a.d.decode(outer(1, 8472), 1, 0, 0), DecodeStatus.NOT_TCP);
    const b = setup([4789, 8472]);
    assert.equal(b.d.decode(outer(1, 8472), 1, 0, 0), DecodeStatus.OK);
    assert.equal(b.v.vni, 1);
  });

  it('bad flags, truncation and nesting depth', () => {
    const { d, v, counters } = setup();
    assert.equal(d.decode(outer(1, 4789, 0x00), 1, 0, 0), DecodeStatus.BAD);
    const f = outer(1);
    const cut = f.subarray(0, 18 + 20 + 8 + 4);
    assert.equal(d.decode(cut, 1, 0, f.length), DecodeStatus.BAD);
    const twice = outer(7, 4789, 0x08, outer(8));
    assert.equal(d.decode(twice, 1, 0, 0), DecodeStatus.OK);
    assert.equal(v.vni, 8);
    let nested = outer(9);
    for (let i = 1; i < MAX_TUNNEL_DEPTH; i++) nested = outer(9 + i, 4789, 0x08, nested);
    assert.equal(d.decode(nested, 1, 0, 0), DecodeStatus.OK, `${MAX_TUNNEL_DEPTH} levels are followed`);
    assert.equal(d.decode(outer(7, 4789, 0x08, nested), 1, 0, 0), DecodeStatus.BAD);
    assert.deepEqual(
      [counters.get('vxlan_bad_flags'), counters.get('vxlan_truncated'), counters.get('tunnel_depth_exceeded')],
      [1, 1, 1],
    );
  });

  it('LINKTYPE_VXLAN_PAYLOAD starts at the VXLAN header', () => {
    const { d, v } = setup([]);
    assert.equal(d.decode(vxlan(77, inner), LINKTYPE_VXLAN_PAYLOAD, 5, 0), DecodeStatus.OK);
    assert.equal(v.vni, 77);
    assert.equal(payload(v), GET.toString('latin1'));
  });
});

describe('decoder: view contract', () => {
  it('every field is reset between packets', () => {
    const { d, v } = setup();
    d.decode(ethernetVlan([[0x8100, 3]], 0x0800, tcpIpv4()), 1, 0, 0);
    assert.equal(d.decode(ethernet(0x0806, Buffer.alloc(28)), 1, 9, 0), DecodeStatus.NOT_TCP);
    assert.deepEqual([v.vlan, v.ipVersion, v.srcPort, v.seq, v.payloadLen, v.tsUs], [-1, 0, 0, 0, 0, 9]);
  });
});
