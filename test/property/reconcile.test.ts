// No silent drop (issue 12): every frame handed to the collector is either a TCP segment of a tracked
// connection or counted under exactly one not-analysed reason (collectors/decode/reasons.ts):
//
//   packets == tcp_segments_tracked + Σ NOT_ANALYSED          (and tcp_packets == tracked + Σ FLOW_NOT_ANALYSED)
//
// asserted on every capture of the shared corpus and on random frames: random bytes under every link
// type, and valid frames of every encapsulation cut short and corrupted at random.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isCounterName } from '../../engine/contracts/catalogue.js';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS, type Collector } from '../../collectors/collector.js';
import {
  NOT_ANALYSED,
  NOT_ANALYSED_DECODE,
  NOT_ANALYSED_FLOW,
  NOT_ANALYSED_WITHOUT_PAYLOAD,
} from '../../collectors/decode/reasons.js';
import {
  erspan,
  ethernet,
  ethernetVlan,
  fragHeader,
  geneve,
  gre,
  gtpu,
  httpFrame,
  ipv4,
  ipv6,
  mpls,
  nflog,
  ppp,
  pppoe,
  sll2,
  tcp,
  udp,
  vxlan,
} from '../../collectors/decode/testing.js';
import { LINKTYPE } from '../../collectors/source/types.js';
import { readCapture } from '../../collectors/source/capture.js';
import { captureReport, notAnalysedSummary } from '../../engine/app/pipelines/report.js';
import { Counters } from '../../engine/contracts/counters.js';
import { reportTable } from '../../engine/app/cli/output.js';
import { corpus, corpusDir } from '../support/paths.js';

function sum(c: Counters, names: Iterable<string>): number {
  let n = 0;
  for (const k of names) if (isCounterName(k)) n += c.get(k);
  return n;
}

function assertReconciled(c: Counters, what: string): void {
  const packets = c.get('packets');
  const tracked = c.get('tcp_segments_tracked');
  assert.equal(
    c.get('tcp_packets') + sum(c, NOT_ANALYSED_DECODE),
    packets,
    `${what}: packets ${packets} != tcp_packets ${c.get('tcp_packets')} + decode reasons ${JSON.stringify(c.snapshot('decode_'))}`,
  );
  assert.equal(
    tracked + sum(c, NOT_ANALYSED_FLOW),
    c.get('tcp_packets'),
    `${what}: tcp_packets != tracked + flow reasons`,
  );
  assert.equal(tracked + sum(c, NOT_ANALYSED), packets);
}

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/i.test(name)) out.push(p);
  }
  return out;
}

describe('reconciliation on the corpus', () => {
  const files = captures(corpus('pcaps'));
  it('the corpus holds captures', () => assert.ok(files.length > 10, `captures under ${corpusDir}`));
  for (const file of files) {
    it(relative(corpusDir, file), async () => {
      const counters = new Counters();
      const col = createCollector(DEFAULT_COLLECTOR_OPTIONS, () => undefined, counters);
      const res = await readCapture(file, col, { counters });
      col.finish();
      assert.equal(counters.get('packets'), res.frames);
      assertReconciled(counters, file);
      const rep = captureReport(counters, 1, col.firstUs, col.lastUs);
      let listed = 0;
      let hiding = 0;
      for (const [k, n] of Object.entries(rep.notAnalysed) as [string, number][]) {
        listed += n;
        if (!NOT_ANALYSED_WITHOUT_PAYLOAD.has(k)) hiding += n;
      }
      assert.equal(counters.get('tcp_segments_tracked') + listed, rep.packets);
      const line = notAnalysedSummary(rep);
      if (hiding * 100 > rep.packets)
        assert.match(line ?? '', /^not analysed: \d+ of \d+ packets \([\d.]+ %\): \w+ \d+/);
      else assert.equal(line, null);
    });
  }
});

describe('reconciliation on random frames', () => {
  const GET = Buffer.from('GET /r HTTP/1.1\r\nHost: r\r\n\r\n');
  const seg = (sport: number, flags = 0x18): Buffer => tcp({ sport, dport: 80, flags }, GET);
  const v4 = (sport: number): Buffer => ipv4({ proto: 6 }, seg(sport));
  const v6 = (sport: number): Buffer => ipv6({ next: 6 }, seg(sport));
  const eth = (sport: number): Buffer => ethernet(0x0800, v4(sport));
  const o4 = (proto: number, p: Buffer): Buffer => ethernet(0x0800, ipv4({ proto }, p));
  /** Valid frames of every encapsulation, each with its link type. */
  const VALID: readonly (readonly [Buffer, number])[] = [
    [httpFrame(GET), LINKTYPE.ETHERNET],
    [ethernet(0x0800, ipv4({ proto: 6 }, seg(1, 0x02))), LINKTYPE.ETHERNET],
    [ethernet(0x0800, ipv4({ proto: 6 }, seg(2, 0x10))), LINKTYPE.ETHERNET],
    [ethernet(0x0806, Buffer.alloc(28)), LINKTYPE.ETHERNET],
    [o4(1, Buffer.alloc(16)), LINKTYPE.ETHERNET],
    [o4(17, udp({ dport: 53 }, Buffer.alloc(20))), LINKTYPE.ETHERNET],
    [ethernetVlan([[0x88a8, 1]], 0x8864, pppoe(3, 0x21, v4(3))), LINKTYPE.ETHERNET],
    [ethernet(0x8847, mpls([1, 2], v6(4))), LINKTYPE.ETHERNET],
    [o4(17, udp({ dport: 4789 }, vxlan(5, eth(5)))), LINKTYPE.ETHERNET],
    [o4(17, udp({ dport: 6081 }, geneve(6, 0x6558, eth(6), 2))), LINKTYPE.ETHERNET],
    [o4(47, gre({ proto: 0x6558, key: 7, seq: 1, checksum: true }, eth(7))), LINKTYPE.ETHERNET],
    [o4(47, gre({ proto: 0x88be, seq: 1 }, erspan(2, 8, eth(8)))), LINKTYPE.ETHERNET],
    [o4(47, gre({ proto: 0x22eb, seq: 1 }, erspan(3, 9, eth(9), { subheader: true }))), LINKTYPE.ETHERNET],
    [o4(4, v4(10)), LINKTYPE.ETHERNET],
    [o4(41, v6(11)), LINKTYPE.ETHERNET],
    [ethernet(0x86dd, ipv6({ next: 4 }, v4(12))), LINKTYPE.ETHERNET],
    [o4(17, udp({ sport: 2152, dport: 2152 }, gtpu(13, v4(13), true))), LINKTYPE.ETHERNET],
    [
      ethernet(0x86dd, ipv6({ next: 6, ext: [[44, fragHeader(0, true, 1)]] }, seg(14).subarray(0, 16))),
      LINKTYPE.ETHERNET,
    ],
    [ethernet(0x0800, ipv4({ proto: 6, mf: true }, seg(15).subarray(0, 16))), LINKTYPE.ETHERNET],
    [nflog(2, v4(16)), LINKTYPE.NFLOG],
    [nflog(10, v6(17), false), LINKTYPE.NFLOG],
    [ppp(0x21, v4(18), { hdlc: true }), LINKTYPE.PPP_HDLC],
    [ppp(0x57, v6(19)), LINKTYPE.PPP],
    [pppoe(20, 0x21, v4(20)), LINKTYPE.PPP_ETHER],
    [sll2(0x0800, v4(21)), LINKTYPE.LINUX_SLL2],
    [vxlan(22, eth(22)), LINKTYPE.VXLAN_PAYLOAD],
  ];
  const LINKTYPES = [
    0,
    1,
    9,
    12,
    50,
    51,
    101,
    104,
    108,
    109,
    113,
    117,
    147,
    228,
    229,
    239,
    276,
    LINKTYPE.VXLAN_PAYLOAD,
  ];

  function run(frames: readonly (readonly [Buffer, number, number])[]): Counters {
    const counters = new Counters();
    const col: Collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, () => undefined, counters);
    let ts = 1_700_000_000_000_000;
    for (const [f, lt, wire] of frames) col.onFrame(f, lt, (ts += 1000), wire);
    col.finish();
    return counters;
  }

  it('random bytes under every link type', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 160 }), fc.constantFrom(...LINKTYPES), fc.nat(400)), {
          maxLength: 30,
        }),
        (frames) => {
          const c = run(frames.map(([b, lt, w]) => [Buffer.from(b), lt, w] as const));
          assertReconciled(c, 'random bytes');
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('valid frames of every encapsulation, cut short and corrupted', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(...VALID),
            fc.nat(),
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
          ),
          { minLength: 1, maxLength: 40 },
        ),
        (items) => {
          const frames = items.map(([[f, lt], cut, flips]) => {
            const b = Buffer.from(f);
            for (const [i, val] of flips) b[i % b.length] = val;
            const n = cut % 3 === 0 ? b.length : cut % (b.length + 1);
            return [b.subarray(0, n), lt, b.length] as const;
          });
          const c = run(frames);
          assertReconciled(c, 'mutated frames');
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('every valid frame decodes to a tracked TCP segment or a reason a person would expect', () => {
    const c = run(VALID.map(([f, lt]) => [f, lt, f.length] as const));
    assertReconciled(c, 'valid frames');
    assert.equal(c.get('decode_truncated') + c.get('decode_malformed'), 0, JSON.stringify(c.snapshot()));
    assert.equal(c.get('decode_unsupported_ethertype'), 1);
    assert.equal(c.get('decode_not_tcp'), 2);
    assert.equal(c.get('decode_ip_fragment'), 2);
  });
});

describe('the human report says why a capture yielded nothing', () => {
  it('names the three largest reasons when more than 1 % of the packets were not analysed', () => {
    const counters = new Counters();
    const col = createCollector(DEFAULT_COLLECTOR_OPTIONS, () => undefined, counters);
    const dns = ethernet(0x0800, ipv4({ proto: 17 }, udp({ dport: 53 }, Buffer.alloc(30))));
    const arp = ethernet(0x0806, Buffer.alloc(28));
    const cut = httpFrame().subarray(0, 30);
    const frames = [...Array<Buffer>(5).fill(dns), ...Array<Buffer>(3).fill(arp), cut, cut, httpFrame()];
    frames.forEach((f, i) => col.onFrame(f, 1, 1_700_000_000_000_000 + i, 60));
    col.finish();
    const rep = captureReport(counters, 1, col.firstUs, col.lastUs);
    const text = reportTable({ schema: 'report/v1', capture: rep });
    assert.match(
      text,
      /\nnot analysed: 10 of 11 packets \(90\.9 %\): decode_not_tcp 5, decode_unsupported_ethertype 3, decode_truncated 2\n/,
    );
    const clean = captureReport(new Counters(), 1, -1, -1);
    assert.ok(!reportTable({ schema: 'report/v1', capture: clean }).includes('not analysed'));
  });
});
