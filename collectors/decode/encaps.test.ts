// Link types and tunnels beyond Ethernet/VXLAN: NFLOG, PPP, PPP-in-HDLC, Cisco HDLC, PPPoE in any
// order with VLAN and MPLS; Geneve, GRE (checksum, key, sequence), ERSPAN I/II/III, IP-in-IP, 6in4,
// IPv6-in-IPv6, 4in6, GTP-U, Teredo, PPTP; nested to MAX_TUNNEL_DEPTH; IPv6 fragment reassembly. Each
// case also checks the not-analysed reason a broken variant is counted under.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE } from '../source/types.js';
import { MAX_TUNNEL_DEPTH, createDecoder } from './decoder.js';
import { DecodeStatus, TUNNEL, TUNNEL_KINDS, formatAddr, type PacketView } from './packet.js';
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
  mpls,
  nflog,
  ppp,
  pppoe,
  tcp,
  udp,
  vxlan,
} from './testing.js';

const GET = Buffer.from('GET /t HTTP/1.1\r\nHost: t\r\n\r\n');
const seg = (): Buffer => tcp({ sport: 41000, dport: 80 }, GET);
const v4 = (): Buffer => ipv4({ proto: 6, src: '192.0.2.1', dst: '192.0.2.2' }, seg());
const v6 = (): Buffer => ipv6({ next: 6, src: '2001:db8::a', dst: '2001:db8::b' }, seg());
const eth4 = (): Buffer => ethernet(0x0800, v4());
const outer4 = (proto: number, payload: Buffer): Buffer =>
  ethernet(0x0800, ipv4({ proto, src: '198.51.100.1', dst: '198.51.100.2' }, payload));
const outer6 = (next: number, payload: Buffer): Buffer =>
  ethernet(0x86dd, ipv6({ next, src: '2001:db8:ffff::1', dst: '2001:db8:ffff::2' }, payload));

function setup(): { d: ReturnType<typeof createDecoder>; v: PacketView; counters: Counters } {
  const counters = new Counters();
  const d = createDecoder({ vxlanPorts: [4789], genevePorts: [6081] }, counters);
  return { d, v: d.view, counters };
}

function expectInner(v: PacketView, version: 4 | 6): void {
  assert.equal(v.ipVersion, version);
  assert.equal(formatAddr(v.frame, v.srcAddrOff, version), version === 4 ? '192.0.2.1' : '2001:db8::a');
  assert.deepEqual([v.srcPort, v.dstPort], [41000, 80]);
  assert.equal(v.frame.toString('latin1', v.payloadOff, v.payloadOff + v.payloadLen), GET.toString('latin1'));
}

const tunnelOf = (v: PacketView): [string, number] => [TUNNEL_KINDS[v.tunnelKind] ?? '?', v.tunnelId];

describe('link types', () => {
  it('NFLOG: TLVs in either byte order, IPv4 and IPv6 payloads', () => {
    for (const le of [true, false]) {
      const { d, v } = setup();
      const f4 = nflog(2, v4(), le);
      assert.equal(d.decode(f4, LINKTYPE.NFLOG, 0, f4.length), DecodeStatus.OK);
      expectInner(v, 4);
      const f6 = nflog(10, v6(), le);
      assert.equal(d.decode(f6, LINKTYPE.NFLOG, 0, f6.length), DecodeStatus.OK);
      expectInner(v, 6);
    }
  });

  it('NFLOG without a payload TLV, or cut inside it, is counted as truncated', () => {
    const { d, counters } = setup();
    const f = nflog(2, v4());
    const noPayload = f.subarray(0, 4 + 8 + 8);
    assert.equal(d.decode(noPayload, LINKTYPE.NFLOG, 0, noPayload.length), DecodeStatus.BAD);
    assert.equal(counters.get('nflog_no_payload'), 1);
    const cut = f.subarray(0, f.length - GET.length - 10);
    assert.equal(d.decode(cut, LINKTYPE.NFLOG, 0, f.length), DecodeStatus.BAD);
    assert.equal(counters.get('decode_truncated'), 2);
  });

  it('PPP with and without 0xFF03, compressed protocol field; PPP-in-HDLC; Cisco HDLC', () => {
    const { d, v } = setup();
    for (const [f, lt] of [
      [ppp(0x21, v4()), LINKTYPE.PPP],
      [ppp(0x21, v4(), { hdlc: true }), LINKTYPE.PPP],
      [ppp(0x57, v6(), { compress: true }), LINKTYPE.PPP],
      [ppp(0x21, v4(), { hdlc: true }), LINKTYPE.PPP_HDLC],
      [Buffer.concat([Buffer.from([0x0f, 0x00, 0x08, 0x00]), v4()]), LINKTYPE.PPP_HDLC],
      [Buffer.concat([Buffer.from([0x8f, 0x00, 0x86, 0xdd]), v6()]), LINKTYPE.C_HDLC],
      [ppp(0x0281, mpls([16, 17], v4())), LINKTYPE.PPP],
    ] as const) {
      assert.equal(d.decode(f, lt, 0, f.length), DecodeStatus.OK, f.toString('hex', 0, 6));
      expectInner(v, v.ipVersion === 6 ? 6 : 4);
    }
  });

  it('pflog (header length rounded to 4, address family) and enc (af, spi, flags)', () => {
    const { d, v, counters } = setup();
    const pf = (af: number, pkt: Buffer): Buffer => {
      const h = Buffer.alloc(64);
      h[0] = 61;
      h[1] = af;
      return Buffer.concat([h, pkt]);
    };
    for (const [f, ver] of [
      [pf(2, v4()), 4],
      [pf(24, v6()), 6],
    ] as const) {
      assert.equal(d.decode(f, LINKTYPE.PFLOG, 0, f.length), DecodeStatus.OK);
      expectInner(v, ver);
    }
    const enc = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0]), v4()]);
    assert.equal(d.decode(enc, LINKTYPE.ENC, 0, enc.length), DecodeStatus.OK);
    expectInner(v, 4);
    const unknown = pf(99, v4());
    assert.equal(d.decode(unknown, LINKTYPE.PFLOG, 0, unknown.length), DecodeStatus.NOT_TCP);
    assert.equal(counters.get('decode_unsupported_ethertype'), 1);
  });

  it('PPP control protocols (LCP) are unsupported EtherTypes, not anomalies', () => {
    const { d, counters } = setup();
    const lcp = ppp(0xc021, Buffer.from([1, 1, 0, 4]), { hdlc: true });
    assert.equal(d.decode(lcp, LINKTYPE.PPP_HDLC, 0, lcp.length), DecodeStatus.NOT_TCP);
    assert.deepEqual(counters.snapshot(), { decode_unsupported_ethertype: 1 });
  });

  it('PPPoE session in any order with QinQ and MPLS; padding trimmed by the PPPoE length', () => {
    const { d, v } = setup();
    const padded = Buffer.concat([pppoe(0x1234, 0x21, v4()), Buffer.alloc(12)]);
    const frames = [
      ethernet(0x8864, pppoe(7, 0x21, v4())),
      ethernetVlan(
        [
          [0x88a8, 10],
          [0x8100, 20],
        ],
        0x8864,
        pppoe(7, 0x57, v6()),
      ),
      ethernet(0x8847, mpls([100], Buffer.concat([Buffer.alloc(4), ethernetVlan([[0x8100, 30]], 0x8864, padded)]))),
      ethernet(0x8864, pppoe(9, 0x0281, mpls([5], v4()))),
    ];
    for (const f of frames) {
      assert.equal(d.decode(f, LINKTYPE.ETHERNET, 0, f.length), DecodeStatus.OK);
      expectInner(v, v.ipVersion === 6 ? 6 : 4);
    }
    const f = ethernet(0x8864, pppoe(7, 0x21, v4()));
    f[14] = 0x12;
    const { d: d2, counters } = setup();
    assert.equal(d2.decode(f, 1, 0, f.length), DecodeStatus.BAD);
    assert.deepEqual(counters.snapshot(), { decode_malformed: 1, pppoe_bad_header: 1 });
    const disc = ethernet(0x8863, Buffer.alloc(20));
    assert.equal(d2.decode(disc, 1, 0, disc.length), DecodeStatus.NOT_TCP);
    assert.equal(counters.get('decode_unsupported_ethertype'), 1);
  });
});

describe('tunnels', () => {
  it('Geneve: options skipped by length, VNI as tunnel id, Ethernet or IP payload; ports configurable', () => {
    const { d, v } = setup();
    for (const opt of [0, 1, 5, 63]) {
      const f = outer4(17, udp({ dport: 6081 }, geneve(0xabcdef, 0x6558, eth4(), opt)));
      assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
      expectInner(v, 4);
      assert.deepEqual(tunnelOf(v), ['geneve', 0xabcdef]);
      assert.equal(v.vni, -1, 'the VNI field stays VXLAN-only');
    }
    const ip = outer6(17, udp({ dport: 6081 }, geneve(5, 0x86dd, v6())));
    assert.equal(d.decode(ip, 1, 0, ip.length), DecodeStatus.OK);
    expectInner(v, 6);
    const other = createDecoder({ vxlanPorts: [], genevePorts: [7000] }, new Counters());
    const f = outer4(17, udp({ dport: 7000 }, geneve(3, 0x6558, eth4())));
    assert.equal(other.decode(f, 1, 0, f.length), DecodeStatus.OK);
    const std = outer4(17, udp({ dport: 6081 }, geneve(3, 0x6558, eth4())));
    assert.equal(other.decode(std, 1, 0, std.length), DecodeStatus.NOT_TCP);
  });

  it('GRE: every combination of checksum, key and sequence; IPv4, IPv6, TEB payloads; key as tunnel id', () => {
    const { d, v } = setup();
    for (const checksum of [false, true])
      for (const key of [undefined, 0, 77, 0xffffffff])
        for (const seq of [undefined, 5]) {
          const o = { checksum, ...(key === undefined ? {} : { key }), ...(seq === undefined ? {} : { seq }) };
          for (const [proto, inner, ver] of [
            [0x0800, v4(), 4],
            [0x86dd, v6(), 6],
            [0x6558, eth4(), 4],
          ] as const) {
            const f = outer4(47, gre({ proto, ...o }, inner));
            assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK, JSON.stringify(o));
            expectInner(v, ver);
            assert.deepEqual(tunnelOf(v), ['gre', key ?? 0]);
          }
        }
    const f6 = outer6(47, gre({ proto: 0x6558, key: 9 }, eth4()));
    assert.equal(d.decode(f6, 1, 0, f6.length), DecodeStatus.OK);
    assert.deepEqual(tunnelOf(v), ['gre', 9]);
  });

  it('GRE with a bad version or cut short is counted', () => {
    const { d, counters } = setup();
    const bad = outer4(47, gre({ proto: 0x0800, version: 3 }, v4()));
    assert.equal(d.decode(bad, 1, 0, bad.length), DecodeStatus.BAD);
    const f = outer4(47, gre({ proto: 0x0800, key: 1, seq: 2 }, v4()));
    const cut = f.subarray(0, 14 + 20 + 8);
    assert.equal(d.decode(cut, 1, 0, f.length), DecodeStatus.BAD);
    assert.deepEqual(counters.snapshot(), {
      decode_malformed: 1,
      decode_truncated: 1,
      decode_truncated_packet: 1,
      gre_bad_version: 1,
      gre_truncated: 1,
    });
  });

  it('ERSPAN type I, II and III (with and without the platform subheader); session id as tunnel id', () => {
    const { d, v } = setup();
    const inner = ethernetVlan([[0x8100, 12]], 0x0800, v4());
    const cases = [
      [gre({ proto: 0x88be }, inner), 0],
      [gre({ proto: 0x88be, seq: 1 }, erspan(2, 513, inner)), 513],
      [gre({ proto: 0x22eb, seq: 1 }, erspan(3, 1023, inner)), 1023],
      [gre({ proto: 0x22eb, seq: 1 }, erspan(3, 4, inner, { subheader: true })), 4],
    ] as const;
    for (const [g, session] of cases) {
      for (const f of [outer4(47, g), outer6(47, g)]) {
        assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
        expectInner(v, 4);
        assert.equal(v.vlan, 12);
        assert.deepEqual(tunnelOf(v), ['erspan', session]);
      }
    }
    const { d: d2, counters } = setup();
    const wrong = outer4(47, gre({ proto: 0x22eb, seq: 1 }, erspan(2, 1, inner)));
    assert.equal(d2.decode(wrong, 1, 0, wrong.length), DecodeStatus.BAD);
    assert.equal(counters.get('erspan_bad_version'), 1);
  });

  it('IP in IP: ipip, 6in4, ip6ip6, 4in6', () => {
    const { d, v } = setup();
    for (const [f, kind, ver] of [
      [outer4(4, v4()), 'ipip', 4],
      [outer4(41, v6()), '6in4', 6],
      [outer6(41, v6()), 'ip6ip6', 6],
      [outer6(4, v4()), '4in6', 4],
    ] as const) {
      assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
      expectInner(v, ver);
      assert.deepEqual(tunnelOf(v), [kind, 0]);
    }
  });

  it('GTP-U with and without extension headers (TEID as tunnel id); other GTP messages are plain UDP', () => {
    const { d, v, counters } = setup();
    for (const ext of [false, true]) {
      const f = outer4(17, udp({ sport: 2152, dport: 2152 }, gtpu(0xdeadbeef, v4(), ext)));
      assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
      expectInner(v, 4);
      assert.deepEqual(tunnelOf(v), ['gtpu', 0xdeadbeef]);
    }
    const echo = gtpu(0, Buffer.alloc(4));
    echo[1] = 1;
    const f = outer4(17, udp({ sport: 2152, dport: 2152 }, echo));
    assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.NOT_TCP);
    assert.equal(counters.get('not_tcp_ip_proto_17'), 1);
  });

  it('AYIYA forwards IPv6 (identity and signature skipped by length); Teredo needs a consistent IPv6 header', () => {
    const { d, v, counters } = setup();
    const ay = Buffer.concat([Buffer.from([0x41, 0x52, 0x11, 41, 0, 0, 0, 1]), Buffer.alloc(16 + 20, 7), v6()]);
    const f = outer4(17, udp({ sport: 40000, dport: 5072 }, ay));
    assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
    expectInner(v, 6);
    assert.deepEqual(tunnelOf(v), ['ayiya', 0]);
    const notTeredo = outer4(17, udp({ sport: 3544, dport: 40000 }, Buffer.concat([v6(), Buffer.alloc(3)])));
    assert.equal(d.decode(notTeredo, 1, 0, notTeredo.length), DecodeStatus.NOT_TCP);
    assert.equal(counters.get('not_tcp_ip_proto_17'), 1);
  });

  it('WCCP over GRE, with (v2) and without (v1) the redirect header', () => {
    const { d, v } = setup();
    for (const hdr of [Buffer.alloc(0), Buffer.from([0x00, 0x00, 0x01, 0x02])]) {
      const f = outer4(47, gre({ proto: 0x883e }, Buffer.concat([hdr, v4()])));
      assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
      expectInner(v, 4);
      assert.deepEqual(tunnelOf(v), ['gre', 0]);
    }
  });

  it('Teredo with origin indication; PPTP enhanced GRE with the call id', () => {
    const { d, v } = setup();
    const origin = Buffer.from([0, 0, 0xaa, 0xbb, 1, 2, 3, 4]);
    const t = outer4(17, udp({ sport: 3544, dport: 40000 }, Buffer.concat([origin, v6()])));
    assert.equal(d.decode(t, 1, 0, t.length), DecodeStatus.OK);
    expectInner(v, 6);
    assert.deepEqual(tunnelOf(v), ['teredo', 0]);
    const body = ppp(0x21, v4(), { hdlc: true });
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x3001, 0);
    h.writeUInt16BE(0x880b, 2);
    h.writeUInt16BE(body.length, 4);
    h.writeUInt16BE(321, 6);
    const p = outer4(47, Buffer.concat([h, body]));
    assert.equal(d.decode(p, 1, 0, p.length), DecodeStatus.OK);
    expectInner(v, 4);
    assert.deepEqual(tunnelOf(v), ['pptp', 321]);
  });

  it('nested: VXLAN in GRE over IPv6 keeps the outermost id; an id-less outer tunnel yields to an inner id', () => {
    const { d, v } = setup();
    const vx = udp({ dport: 4789 }, vxlan(4242, eth4()));
    const f = outer6(47, gre({ proto: 0x0800, key: 55 }, ipv4({ proto: 17 }, vx)));
    assert.equal(d.decode(f, 1, 0, f.length), DecodeStatus.OK);
    expectInner(v, 4);
    assert.deepEqual(tunnelOf(v), ['gre', 55]);
    assert.equal(v.vni, 4242);
    const g = outer4(4, ipv4({ proto: 17 }, vx));
    assert.equal(d.decode(g, 1, 0, g.length), DecodeStatus.OK);
    assert.deepEqual(tunnelOf(v), ['vxlan', 4242]);
    assert.equal(v.tunnelKind, TUNNEL.VXLAN);
  });

  it('tunnels deeper than MAX_TUNNEL_DEPTH are counted as tunnel_depth_exceeded', () => {
    const { d, counters } = setup();
    let p = v4();
    for (let i = 0; i < MAX_TUNNEL_DEPTH; i++) p = ipv4({ proto: 4 }, p);
    const ok = ethernet(0x0800, p);
    assert.equal(d.decode(ok, 1, 0, ok.length), DecodeStatus.OK);
    const deep = ethernet(0x0800, ipv4({ proto: 4 }, p));
    assert.equal(d.decode(deep, 1, 0, deep.length), DecodeStatus.BAD);
    assert.deepEqual(counters.snapshot(), { tunnel_depth_exceeded: 1 });
  });
});

describe('IPv6 fragments', () => {
  const big = tcp({ sport: 41000, dport: 80 }, Buffer.alloc(3000, 0x61));
  const frag = (off: number, len: number, more: boolean, id = 9): Buffer =>
    ethernet(
      0x86dd,
      ipv6(
        { next: 6, src: '2001:db8::a', dst: '2001:db8::b', ext: [[44, fragHeader(off / 8, more, id)]] },
        big.subarray(off, off + len),
      ),
    );

  it('reassembled in any order; each held fragment counted under decode_ip_fragment', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const { d, v, counters } = setup();
      const pieces = [frag(0, 1232, true), frag(1232, 1232, true), frag(2464, big.length - 2464, false)];
      const st = order.map((i) => d.decode(pieces[i]!, 1, i, pieces[i]!.length));
      assert.deepEqual(st, [DecodeStatus.FRAGMENT, DecodeStatus.FRAGMENT, DecodeStatus.OK]);
      assert.equal(v.ipVersion, 6);
      assert.equal(v.payloadLen, 3000);
      assert.equal(formatAddr(v.frame, v.srcAddrOff, 6), '2001:db8::a');
      assert.equal(counters.get('decode_ip_fragment'), 2);
      assert.equal(counters.get('ip_reassembled'), 1);
    }
  });

  it('overlaps, bad lengths and expiry are counted; the table forgets them', () => {
    const { d, counters } = setup();
    const a = frag(0, 1232, true, 1);
    d.decode(a, 1, 0, a.length);
    const overlap = frag(1224, 16, true, 1);
    assert.equal(d.decode(overlap, 1, 0, overlap.length), DecodeStatus.FRAGMENT);
    const odd = frag(0, 13, true, 2);
    assert.equal(d.decode(odd, 1, 0, odd.length), DecodeStatus.FRAGMENT);
    const late = frag(1232, 1232, true, 1);
    d.decode(late, 1, 60_000_000, late.length);
    assert.equal(counters.get('ip_frag_overlap'), 1);
    assert.equal(counters.get('ip_frag_bad'), 1);
    assert.equal(counters.get('ip_frag_expired'), 1);
    assert.equal(counters.get('decode_ip_fragment'), 4);
  });
});
