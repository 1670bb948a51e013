// Properties: the decoder never throws and every offset it reports lies inside the frame, for random
// bytes under every link type and for every truncation / bit flip of valid frames.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Counters } from '../../engine/contracts/counters.js';
import { LINKTYPE_VXLAN_PAYLOAD, createDecoder } from './decoder.js';
import type { Decoder } from './decoder.js';
import { DecodeStatus } from './packet.js';
import {
  erspan,
  fragHeader,
  geneve,
  gre,
  gtpu,
  nflog,
  ppp,
  pppoe,
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

const LINKTYPES = [
  0,
  1,
  9,
  12,
  14,
  50,
  51,
  101,
  104,
  108,
  109,
  113,
  117,
  228,
  229,
  239,
  276,
  LINKTYPE_VXLAN_PAYLOAD,
  147,
];

function checkView(d: Decoder, status: DecodeStatus): void {
  const v = d.view;
  const n = v.frame.length;
  assert.ok(status >= 0 && status <= 3);
  if (v.ipVersion !== 0) {
    const alen = v.ipVersion === 4 ? 4 : 16;
    assert.ok(v.srcAddrOff >= 0 && v.srcAddrOff + alen <= n, 'src address in bounds');
    assert.ok(v.dstAddrOff >= 0 && v.dstAddrOff + alen <= n, 'dst address in bounds');
  }
  if (status === DecodeStatus.OK) {
    assert.ok(v.payloadOff >= 0 && v.payloadOff <= n, `payloadOff ${v.payloadOff} in [0, ${n}]`);
    assert.ok(v.payloadLen >= 0 && v.payloadOff + v.payloadLen <= n, 'payload in bounds');
    assert.ok(v.payloadWireLen >= v.payloadLen, 'wire length covers captured length');
    assert.equal(v.proto, 6);
  }
}

const GET = Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
const v6 = ipv6(
  {
    next: 6,
    ext: [
      [0, ext8()],
      [60, ext8(16)],
    ],
  },
  tcp({}, GET),
);
const v4 = ipv4({ proto: 6, options: Buffer.alloc(4, 1) }, tcp({ options: Buffer.alloc(12, 1) }, GET));
const VALID: readonly (readonly [Buffer, number])[] = [
  [httpFrame(GET), 1],
  [
    ethernetVlan(
      [
        [0x88a8, 1],
        [0x8100, 2],
      ],
      0x8847,
      mpls([1, 2, 3], v4),
    ),
    1,
  ],
  [ethernet(0x86dd, v6), 1],
  [ethernet(0x0800, ipv4({ proto: 17 }, udp({ dport: 4789 }, vxlan(3, httpFrame(GET))))), 1],
  [
    ethernet(
      0x0800,
      ipv4(
        { proto: 17 },
        udp(
          { dport: 4789 },
          vxlan(3, ethernet(0x0800, ipv4({ proto: 17 }, udp({ dport: 4789 }, vxlan(4, httpFrame(GET)))))),
        ),
      ),
    ),
    1,
  ],
  [vxlan(9, ethernetVlan([[0x8100, 5]], 0x86dd, v6)), LINKTYPE_VXLAN_PAYLOAD],
  [sll(0x0800, v4), 113],
  [sll2(0x86dd, v6), 276],
  [nullLoop(30, true, v6), 0],
  [nullLoop(2, false, v4), 108],
  [v4, 101],
  [v6, 229],
  [nflog(2, v4), 239],
  [nflog(10, v6, false), 239],
  [ppp(0x21, v4, { hdlc: true }), 50],
  [ppp(0x57, v6, { compress: true }), 9],
  [pppoe(1, 0x21, v4), 51],
  [ethernetVlan([[0x88a8, 7]], 0x8864, pppoe(2, 0x57, v6)), 1],
  [ethernet(0x0800, ipv4({ proto: 17 }, udp({ dport: 6081 }, geneve(5, 0x6558, httpFrame(GET), 2)))), 1],
  [ethernet(0x0800, ipv4({ proto: 47 }, gre({ proto: 0x6558, key: 1, seq: 2, checksum: true }, httpFrame(GET)))), 1],
  [
    ethernet(
      0x86dd,
      ipv6({ next: 47 }, gre({ proto: 0x22eb, seq: 1 }, erspan(3, 9, httpFrame(GET), { subheader: true }))),
    ),
    1,
  ],
  [ethernet(0x0800, ipv4({ proto: 47 }, gre({ proto: 0x88be, seq: 1 }, erspan(2, 9, httpFrame(GET))))), 1],
  [ethernet(0x0800, ipv4({ proto: 4 }, v4)), 1],
  [ethernet(0x86dd, ipv6({ next: 41 }, v6)), 1],
  [ethernet(0x0800, ipv4({ proto: 17 }, udp({ sport: 2152, dport: 2152 }, gtpu(3, v4, true)))), 1],
];

describe('decoder properties', () => {
  it('valid frames decode OK', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    for (const [f, lt] of VALID) assert.equal(d.decode(f, lt, 0, f.length), DecodeStatus.OK);
  });

  it('random bytes under every link type never throw and stay in bounds', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...LINKTYPES), fc.nat(3000), (bytes, lt, wire) => {
        checkView(d, d.decode(Buffer.from(bytes), lt, 0, wire));
      }),
      { numRuns: 20000 },
    );
  });

  it('random truncations of valid frames never throw and stay in bounds', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.nat(), ([f, lt], cut) => {
        const n = cut % (f.length + 1);
        checkView(d, d.decode(f.subarray(0, n), lt, 0, f.length));
      }),
      { numRuns: 5000 },
    );
  });

  it('random byte corruption of valid frames never throws and stays in bounds', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        ([f, lt], flips, cut) => {
          const b = Buffer.from(f);
          for (const [i, val] of flips) b[i % b.length] = val;
          checkView(d, d.decode(b.subarray(0, b.length - (cut % 8)), lt, 0, b.length));
        },
      ),
      { numRuns: 20000 },
    );
  });

  it('random fragments never throw', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    const payload = tcp({}, Buffer.alloc(600, 0x62));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 80 }),
            fc.integer({ min: 1, max: 600 }),
            fc.boolean(),
            fc.integer({ min: 0, max: 3 }),
          ),
          { maxLength: 20 },
        ),
        (frags) => {
          let ts = 0;
          for (const [off8, len, mf, id] of frags) {
            const data = Buffer.alloc(len);
            payload.copy(data, 0, Math.min(off8 * 8, payload.length));
            const f = ethernet(0x0800, ipv4({ proto: 6, id, mf, fragOffset8: off8 }, data));
            checkView(d, d.decode(f, 1, (ts += 1_000_000), f.length));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random IPv6 fragments never throw', () => {
    const d = createDecoder({ vxlanPorts: [4789] }, new Counters());
    const payload = tcp({}, Buffer.alloc(600, 0x62));
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 80 }),
            fc.integer({ min: 1, max: 600 }),
            fc.boolean(),
            fc.integer({ min: 0, max: 3 }),
          ),
          { maxLength: 20 },
        ),
        (frags) => {
          let ts = 0;
          for (const [off8, len, mf, id] of frags) {
            const data = Buffer.alloc(len);
            payload.copy(data, 0, Math.min(off8 * 8, payload.length));
            const f = ethernet(0x86dd, ipv6({ next: 6, ext: [[44, fragHeader(off8, mf, id)]] }, data));
            checkView(d, d.decode(f, 1, (ts += 1_000_000), f.length));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
