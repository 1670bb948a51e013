import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Counters } from '../../engine/contracts/counters.js';
import { MAX_CAPLEN, readCapture } from './capture.js';
import { pcapFile, pcapngBlock, pcapngFile } from './testing.js';
import type { TestRecord } from './testing.js';
import type { SourceResult } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'apitap-capture-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(bytes: Buffer): string {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, bytes);
  return p;
}

interface Got {
  data: string;
  lt: number;
  ts: number;
  wire: number;
}
async function read(
  path: string,
  opts: Parameters<typeof readCapture>[2] = {},
): Promise<{ r: SourceResult; got: Got[] }> {
  const got: Got[] = [];
  const r = await readCapture(
    path,
    { onFrame: (f, lt, ts, wire) => got.push({ data: f.toString('hex'), lt, ts, wire }) },
    opts,
  );
  return { r, got };
}

const RECS: TestRecord[] = [
  { tsUs: 1_700_000_000_123_456, data: Buffer.from('aabbccddeeff', 'hex') },
  { tsUs: 1_700_000_001_000_001, data: Buffer.alloc(1500, 7), orig: 9000 },
  { tsUs: 1_700_000_002_999_999, data: Buffer.alloc(0) },
];
const expectRecs = (got: Got[], lt = 1): void => {
  assert.deepEqual(
    got,
    RECS.map((r) => ({ data: r.data.toString('hex'), lt, ts: r.tsUs, wire: r.orig ?? r.data.length })),
  );
};

describe('readCapture: pcap', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? 'little' : 'big'}-endian ${nano ? 'ns' : 'µs'} pcap`, async () => {
        const { r, got } = await read(file(pcapFile(RECS, { le, nano, linkType: 113 })));
        assert.deepEqual(r.problems, []);
        assert.equal(r.frames, 3);
        assert.equal(r.bytes, 1506);
        expectRecs(got, 113);
      });
    }
  }

  it('ns timestamps are floored to µs', async () => {
    const b = pcapFile([{ tsUs: 0, data: Buffer.alloc(1) }], { nano: true });
    b.writeUInt32LE(10, 24);
    b.writeUInt32LE(999_999_999, 28);
    const { got } = await read(file(b));
    assert.equal(got[0]!.ts, 10_999_999);
  });

  it('Kuznetzov modified pcap (24-byte record headers)', async () => {
    const h = pcapFile([]);
    h.writeUInt32LE(0xa1b2cd34, 0);
    const rec = Buffer.alloc(24 + 3);
    rec.writeUInt32LE(5, 0);
    rec.writeUInt32LE(6, 4);
    rec.writeUInt32LE(3, 8);
    rec.writeUInt32LE(3, 12);
    rec.write('abc', 24, 'latin1');
    const { r, got } = await read(file(Buffer.concat([h, rec])));
    assert.equal(r.frames, 1);
    assert.deepEqual(got[0], { data: '616263', lt: 1, ts: 5_000_006, wire: 3 });
  });

  it('gzip-compressed pcap', async () => {
    const { r, got } = await read(file(gzipSync(pcapFile(RECS))));
    assert.deepEqual(r.problems, []);
    expectRecs(got);
  });

  it('truncated last record: earlier frames delivered, non-fatal problem names the offset', async () => {
    const full = pcapFile(RECS);
    const { r, got } = await read(file(full.subarray(0, full.length - 1)));
    assert.equal(r.frames, 2);
    assert.equal(got.length, 2);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.code, 'capture_truncated');
    assert.equal(r.problems[0]!.fatal, false);
    assert.match(r.problems[0]!.message, /byte offset 1562/);
  });

  it('truncated gzip stream is capture_truncated too', async () => {
    const gz = gzipSync(pcapFile(RECS));
    const { r } = await read(file(gz.subarray(0, gz.length - 30)));
    assert.equal(r.problems[0]?.code, 'capture_truncated');
    assert.equal(r.problems[0]?.fatal, false);
  });

  it('garbage is capture_not_a_capture with the magic', async () => {
    const p = file(Buffer.from('<html><body>hello</body></html>'));
    const { r } = await read(p);
    assert.deepEqual(r.problems, [
      { code: 'capture_not_a_capture', fatal: true, message: `${p}: not a pcap or pcapng file (magic 0x3c68746d)` },
    ]);
    const e = await read(file(Buffer.alloc(0)));
    assert.equal(e.r.problems[0]?.code, 'capture_not_a_capture');
  });

  it('missing file is capture_open_failed with the OS message', async () => {
    const { r } = await read(join(dir, 'nope.pcap'));
    assert.equal(r.problems[0]?.code, 'capture_open_failed');
    assert.equal(r.problems[0]?.fatal, true);
    assert.match(r.problems[0]!.message, /ENOENT/);
  });

  it('absurd record length is fatal capture_bad_record, nothing allocated from it', async () => {
    const b = pcapFile(RECS);
    b.writeUInt32LE(0xfffffff0, 24 + 16 + 6 + 8); // caplen of the 2nd record
    const { r, got } = await read(file(b));
    assert.equal(got.length, 1);
    assert.equal(r.problems[0]?.code, 'capture_bad_record');
    assert.equal(r.problems[0]?.fatal, true);
    const big = pcapFile([{ tsUs: 0, data: Buffer.alloc(MAX_CAPLEN + 1) }], { snaplen: 0 });
    assert.equal((await read(file(big))).r.problems[0]?.code, 'capture_bad_record');
  });

  it('unsupported pcap link type is fatal with a helpful message', async () => {
    const p = file(pcapFile(RECS, { linkType: 147 }));
    const { r } = await read(p);
    assert.deepEqual(r.problems, [
      {
        code: 'capture_unsupported_linktype',
        fatal: true,
        message: `${p}: unsupported link type 147 (LINKTYPE_USER0); supported: Ethernet(1), raw IP(101,228,229,12,14), Linux SLL(113), SLL2(276), BSD null/loop(0,108), PPP(9), PPP-HDLC(50), PPPoE(51), Cisco HDLC(104), NFLOG(239), pflog(117), enc(109)`,
      },
    ]);
  });

  it('FCS bits above the low 16 of the link type field are ignored', async () => {
    const { got } = await read(file(pcapFile(RECS, { linkType: 0x14000001 })));
    assert.equal(got[0]?.lt, 1);
  });

  it('abort and progress', async () => {
    const recs = Array.from({ length: 4000 }, (_, i) => ({ tsUs: i, data: Buffer.alloc(1400) }));
    const path = file(pcapFile(recs));
    const seen: number[] = [];
    const all = await read(path, {
      onProgress: (b, t) => {
        seen.push(b);
        assert.ok(b <= t);
      },
    });
    assert.equal(all.r.frames, 4000);
    assert.ok(seen.length >= 2);
    const ac = new AbortController();
    ac.abort();
    const { r } = await read(path, { signal: ac.signal });
    assert.equal(r.problems[0]?.code, 'capture_aborted');
    assert.ok(r.frames < 4000);
  });
});

describe('readCapture: pcapng', () => {
  for (const le of [true, false]) {
    it(`${le ? 'little' : 'big'}-endian, two interfaces with own link types, skipped blocks`, async () => {
      const recs = RECS.map((r, i) => ({ ...r, ifId: i % 2 }));
      const b = pcapngFile([{ linkType: 1 }, { linkType: 101, tsresol: 9 }], recs, {
        le,
        extra: [pcapngBlock(4, 20, le), pcapngBlock(0x80000001, 100, le)],
      });
      const { r, got } = await read(file(b));
      assert.deepEqual(r.problems, []);
      assert.deepEqual(
        got.map((g) => [g.lt, g.ts, g.wire]),
        RECS.map((x, i) => [i % 2 === 0 ? 1 : 101, x.tsUs, x.orig ?? x.data.length]),
      );
    });
  }

  it('if_tsresol power of two, decimal ms and if_tsoffset', async () => {
    const ts = 1_700_000_000_500_000;
    const b = pcapngFile(
      [
        { linkType: 1, tsresol: 0x80 | 20 },
        { linkType: 1, tsresol: 3 },
        { linkType: 1, tsresol: 6, tsoffsetSec: 1_600_000_000 },
      ],
      [
        { tsUs: ts, data: Buffer.alloc(1) },
        { tsUs: ts, data: Buffer.alloc(1), ifId: 1 },
        { tsUs: ts, data: Buffer.alloc(1), ifId: 2 },
      ],
    );
    const { got } = await read(file(b));
    // 2^-20 s units: floor(units * 1e6 / 2^20) loses < 1 µs.
    assert.ok(Math.abs(got[0]!.ts - ts) <= 1);
    assert.equal(got[1]!.ts, ts);
    assert.equal(got[2]!.ts, ts);
  });

  it('several sections, the second one big-endian; interfaces reset per section', async () => {
    const a = pcapngFile([{ linkType: 1 }], [RECS[0]!]);
    const b = pcapngFile([{ linkType: 113 }], [RECS[1]!], { le: false });
    const { r, got } = await read(file(Buffer.concat([a, b])));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      got.map((g) => g.lt),
      [1, 113],
    );
  });

  it('simple packet block uses interface 0 snaplen and the block original length', async () => {
    const head = pcapngFile([{ linkType: 1, snaplen: 4 }], [{ tsUs: 5, data: Buffer.alloc(2) }]);
    const spb = Buffer.alloc(16 + 8);
    spb.writeUInt32LE(3, 0);
    spb.writeUInt32LE(spb.length, 4);
    spb.writeUInt32LE(100, 8);
    spb.write('abcdefgh', 12, 'latin1');
    spb.writeUInt32LE(spb.length, spb.length - 4);
    const { got } = await read(file(Buffer.concat([head, spb])));
    assert.deepEqual(got[1], { data: '61626364', lt: 1, ts: 5, wire: 100 });
  });

  it('unsupported interface: its packets skipped and counted, others read; fatal only when none is supported', async () => {
    const counters = new Counters();
    const p = file(
      pcapngFile(
        [{ linkType: 1 }, { linkType: 147 }],
        RECS.map((r, i) => ({ ...r, ifId: i === 1 ? 1 : 0 })),
      ),
    );
    const { r } = await read(p, { counters });
    assert.equal(r.frames, 2);
    assert.equal(counters.get('capture_packets_unsupported_linktype'), 1);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.code, 'capture_unsupported_linktype');
    assert.equal(r.problems[0]!.fatal, false);
    const only = await read(file(pcapngFile([{ linkType: 147 }], RECS)));
    assert.equal(only.r.problems[0]?.fatal, true);
  });

  it('packet block for an undefined interface and absurd block lengths are capture_bad_record', async () => {
    const b = pcapngFile([{ linkType: 1 }], [RECS[0]!]);
    const epbOff = b.length - (32 + 8); // the last block: EPB with 6 data bytes padded to 8
    b.writeUInt32LE(9, epbOff + 8); // interface id 9 was never defined
    const { r } = await read(file(b));
    assert.equal(r.problems[0]?.code, 'capture_bad_record');
    const huge = pcapngBlock(6, 16);
    huge.writeUInt32LE(0x7ffffff0, 4);
    const h = await read(file(Buffer.concat([pcapngFile([{ linkType: 1 }], []), huge])));
    assert.equal(h.r.problems[0]?.code, 'capture_bad_record');
  });

  it('a truncated pcapng (big skipped block cut) is capture_truncated', async () => {
    const b = Buffer.concat([pcapngFile([{ linkType: 1 }], [RECS[0]!]), pcapngBlock(5, 5_000_000)]);
    const { r } = await read(file(b.subarray(0, b.length - 100)));
    assert.equal(r.frames, 1);
    assert.equal(r.problems[0]?.code, 'capture_truncated');
  });
});
