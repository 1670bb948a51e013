// HPACK decoding against RFC 7541 Appendix C, and the desynchronised-table behaviour (hpack.ts).
import assert from 'node:assert/strict';
import test from 'node:test';
import fc from 'fast-check';
import { HPACK, HpackDecoder } from './hpack.js';
import { huffmanDecode, huffmanEncode } from './huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function decodeAll(d: HpackDecoder, blocks: string[]): { fields: [string, string][][]; status: number[] } {
  const fields: [string, string][][] = [];
  const status: number[] = [];
  for (const b of blocks) {
    const out: [string, string][] = [];
    const buf = hex(b);
    status.push(d.decode(buf, 0, buf.length, out));
    fields.push(out);
  }
  return { fields, status };
}

// C.3 (requests without Huffman) and C.4 (the same with Huffman): one decoder across the three.
const C3 = [
  '828684410f7777772e6578616d706c652e636f6d',
  '828684be58086e6f2d6361636865',
  '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
];
const C4 = [
  '828684418cf1e3c2e5f23a6ba0ab90f4ff',
  '828684be5886a8eb10649cbf',
  '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
];
const REQUESTS: [string, string][][] = [
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ],
];

test('RFC 7541 C.3 and C.4: requests with and without Huffman, dynamic table across blocks', () => {
  for (const blocks of [C3, C4]) {
    const d = new HpackDecoder(true);
    const r = decodeAll(d, blocks);
    assert.deepEqual(r.fields, REQUESTS);
    assert.deepEqual(r.status, [HPACK.ok, HPACK.ok, HPACK.ok]);
    assert.equal(d.tableSize, 164); // C.3.3 / C.4.3: table size 164
    assert.equal(d.tableEntries, 3);
  }
});

// C.5 (responses, 256-octet table, evictions) and C.6 (the same with Huffman).
const C5 = [
  '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
  '4803333037c1c0bf',
  '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31',
];
const C6 = [
  '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
  '4883640effc1c0bf',
  '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
];
const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const LOC = 'https://www.example.com';
const RESPONSES: [string, string][][] = [
  [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', DATE1],
    ['location', LOC],
  ],
  [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', DATE1],
    ['location', LOC],
  ],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ['location', LOC],
    ['content-encoding', 'gzip'],
    ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ],
];

test('RFC 7541 C.5 and C.6: responses with evictions in a 256-octet table', () => {
  for (const blocks of [C5, C6]) {
    const d = new HpackDecoder(true);
    // The encoder announces the 256-octet table with a size update (§6.3) before the first block.
    const upd = Buffer.from([0x3f, 0xe1, 0x01]); // 001 11111 + 225 = 256
    assert.equal(d.decode(upd, 0, upd.length, []), HPACK.ok);
    const r = decodeAll(d, blocks);
    assert.deepEqual(r.fields, RESPONSES);
    assert.equal(d.tableSize, 215); // C.5.3 / C.6.3
    assert.equal(d.tableEntries, 3);
  }
});

test('RFC 7541 C.2: literal field representations', () => {
  const d = new HpackDecoder(true);
  const cases: [string, [string, string]][] = [
    ['400a637573746f6d2d6b65790d637573746f6d2d686561646572', ['custom-key', 'custom-header']], // C.2.1
    ['040c2f73616d706c652f70617468', [':path', '/sample/path']], // C.2.2
    ['100870617373776f726406736563726574', ['password', 'secret']], // C.2.3
    ['82', [':method', 'GET']], // C.2.4
  ];
  for (const [b, f] of cases) {
    const out: [string, string][] = [];
    assert.equal(d.decode(hex(b), 0, hex(b).length, out), HPACK.ok);
    assert.deepEqual(out, [f]);
  }
  assert.equal(d.tableEntries, 1); // only C.2.1 indexes
});

test('a desynchronised table decodes literals, static references and entries added since', () => {
  // Joined after C.4.1: the entry [:authority www.example.com] is unknown to this decoder.
  const d = new HpackDecoder(false);
  const out: [string, string][] = [];
  const b2 = hex(C4[1] as string);
  assert.equal(d.decode(b2, 0, b2.length, out), HPACK.desync);
  assert.deepEqual(out, [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    ['cache-control', 'no-cache'],
  ]);
  assert.equal(d.unresolved, 1);
  // C.4.3 references index 62 (cache-control, added by C.4.2: known) and 63 (:authority: unknown).
  const out3: [string, string][] = [];
  const b3 = hex(C4[2] as string);
  assert.equal(d.decode(b3, 0, b3.length, out3), HPACK.desync);
  assert.deepEqual(out3, [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    ['custom-key', 'custom-value'],
  ]);
  assert.equal(d.unresolved, 2);
  // A synchronised decoder treats an index past its table as an error, not a desync.
  const s = new HpackDecoder(true);
  assert.equal(s.decode(hex('be'), 0, 1, []), HPACK.error);
});

test('a table emptied by evictions is synchronised again', () => {
  const d = new HpackDecoder(false);
  // Size update to 64 octets, then a literal with indexing of 40 octets, then another: evicts the first.
  const name = 'aaaa';
  const lit = (v: string): Buffer =>
    Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([v.length]), Buffer.from(v)]);
  const block = Buffer.concat([Buffer.from([0x3f, 0x21]), lit('x'.repeat(4)), lit('y'.repeat(4))]);
  assert.equal(d.decode(block, 0, block.length, []), HPACK.ok);
  assert.equal(d.synced, true);
  assert.equal(d.tableEntries, 1);
});

test('Huffman: encode/decode round trip for any latin1 text; invalid padding is rejected', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      const enc = huffmanEncode(text);
      assert.equal(huffmanDecode(enc, 0, enc.length), text);
    }),
    { numRuns: 300, seed: 13 },
  );
  // 'a' is 00011 (5 bits): padding with zeros instead of ones is invalid (RFC 7541 §5.2).
  assert.equal(huffmanDecode(Buffer.from([0x18]), 0, 1), null);
  // A full EOS code (30 ones) inside a string is invalid.
  assert.equal(huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4), null);
});

test('random bytes never throw and never grow the table past its size', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, synced) => {
      const d = new HpackDecoder(synced);
      const b = Buffer.from(bytes);
      const st = d.decode(b, 0, b.length, []);
      assert.ok(st === HPACK.ok || st === HPACK.desync || st === HPACK.error);
      assert.ok(d.tableSize <= 1 << 20);
    }),
    { numRuns: 1000, seed: 13 },
  );
});
