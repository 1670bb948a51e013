// The reader against the shared corpus: frame counts equal capinfos (test/golden/frames.json), and
// every µs pcap gives frame-for-frame the same result as the pcap-parser package (the differential
// oracle kept by docs/decisions/0001-pcap-reader.md). ns and big-endian variants are synthesised here
// from corpus files, in a temp directory.
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { EventEmitter } from 'node:events';
import { after, describe, it } from 'node:test';
import { createGunzip, gunzipSync } from 'node:zlib';
import { corpus, needsCorpus, repoRoot } from '../../test/support/paths.js';
import { readCapture } from './capture.js';

interface Golden {
  captures: Record<string, { frames: number; tcp: number }>;
}
const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'golden', 'frames.json'), 'utf8')) as Golden;
const files = Object.keys(golden.captures);

interface Frame {
  ts: number;
  wire: number;
  data: Buffer;
}
async function ours(path: string): Promise<Frame[]> {
  const out: Frame[] = [];
  const r = await readCapture(path, { onFrame: (f, _lt, ts, wire) => out.push({ ts, wire, data: Buffer.from(f) }) });
  assert.deepEqual(r.problems, [], path);
  return out;
}

interface PcapParserPacket {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}
const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(input: string | Readable): EventEmitter };
function oracle(path: string): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const out: Frame[] = [];
    const input = path.endsWith('.gz') ? createReadStream(path).pipe(createGunzip()) : path;
    const p = pcapParser.parse(input);
    p.on('packet', (pkt: PcapParserPacket) => {
      const h = pkt.header;
      out.push({
        ts: h.timestampSeconds * 1e6 + h.timestampMicroseconds,
        wire: Math.max(h.originalLength, h.capturedLength),
        data: Buffer.from(pkt.data),
      });
    });
    p.on('error', reject);
    p.on('end', () => resolve(out));
  });
}

function rawBytes(rel: string): Buffer {
  const b = readFileSync(corpus(rel));
  return rel.endsWith('.gz') ? gunzipSync(b) : b;
}

const dir = mkdtempSync(join(tmpdir(), 'apitap-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrite a little-endian µs pcap as ns (magic + fraction × 1000) and/or big-endian. */
function rewrite(src: Buffer, o: { nano: boolean; bigEndian: boolean }): Buffer {
  assert.equal(src.readUInt32LE(0), 0xa1b2c3d4, 'source must be a little-endian µs pcap');
  const b = Buffer.from(src);
  const put32 = (off: number, v: number): void => {
    if (o.bigEndian) b.writeUInt32BE(v, off);
    else b.writeUInt32LE(v, off);
  };
  const put16 = (off: number, v: number): void => {
    if (o.bigEndian) b.writeUInt16BE(v, off);
    else b.writeUInt16LE(v, off);
  };
  put32(0, o.nano ? 0xa1b23c4d : 0xa1b2c3d4);
  put16(4, src.readUInt16LE(4));
  put16(6, src.readUInt16LE(6));
  for (const off of [8, 12, 16, 20]) put32(off, src.readUInt32LE(off));
  for (let p = 24; p + 16 <= src.length;) {
    const caplen = src.readUInt32LE(p + 8);
    put32(p, src.readUInt32LE(p));
    put32(p + 4, src.readUInt32LE(p + 4) * (o.nano ? 1000 : 1));
    put32(p + 8, caplen);
    put32(p + 12, src.readUInt32LE(p + 12));
    p += 16 + caplen;
  }
  return b;
}

describe('readCapture on the corpus', needsCorpus, () => {
  it('golden file covers every corpus capture', () => {
    assert.ok(files.length >= 50);
  });

  for (const rel of files) {
    it(`${rel}: frame count equals capinfos`, async () => {
      let frames = 0;
      const r = await readCapture(corpus(rel), {
        onFrame: () => {
          frames++;
        },
      });
      assert.deepEqual(r.problems, []);
      assert.equal(r.frames, golden.captures[rel]!.frames);
      assert.equal(frames, r.frames);
    });
  }
});

describe('pcap-parser as differential oracle (every µs pcap)', needsCorpus, () => {
  const micro = files.filter((rel) => {
    const m = rawBytes(rel).readUInt32LE(0);
    return m === 0xa1b2c3d4 || m === 0xd4c3b2a1;
  });
  it('found µs pcaps to compare', () => assert.ok(micro.length >= 40));
  for (const rel of micro) {
    it(`${rel}: identical frames`, async () => {
      const [a, b] = await Promise.all([ours(corpus(rel)), oracle(corpus(rel))]);
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) {
        assert.equal(a[i]!.ts, b[i]!.ts, `frame ${i + 1} timestamp`);
        assert.equal(a[i]!.wire, b[i]!.wire, `frame ${i + 1} length`);
        assert.ok(a[i]!.data.equals(b[i]!.data), `frame ${i + 1} bytes`);
      }
    });
  }
});

describe('synthesised variants of corpus files', needsCorpus, () => {
  for (const rel of [
    'pcaps/zeek/http/get.pcap',
    'pcaps/pcapplusplus/Pcap++Test/PcapExamples/example.pcap',
    'pcaps/scapy/http_chunk.pcap.gz',
  ]) {
    for (const variant of [
      { nano: true, bigEndian: false },
      { nano: false, bigEndian: true },
      { nano: true, bigEndian: true },
    ]) {
      it(`${rel} as ${variant.nano ? 'ns' : 'µs'} ${variant.bigEndian ? 'big' : 'little'}-endian reads the same frames`, async () => {
        const src = rawBytes(rel);
        const path = join(dir, `v-${variant.nano}-${variant.bigEndian}.pcap`);
        writeFileSync(path, rewrite(src, variant));
        const want = await ours(corpus(rel));
        const got = await ours(path);
        assert.equal(got.length, want.length);
        for (let i = 0; i < got.length; i++) {
          assert.equal(got[i]!.ts, want[i]!.ts);
          assert.equal(got[i]!.wire, want[i]!.wire);
          assert.ok(got[i]!.data.equals(want[i]!.data));
        }
      });
    }
  }
});
