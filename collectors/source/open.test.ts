// Compressed captures by magic bytes (gzip, zstd, xz; never by name), cut compressed streams, and
// standard input ('-') through a child process, plain and compressed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../test/support/paths.js';
import { readCapture } from './capture.js';
import { detectCompression } from './open.js';
import { pcapFile, pcapngBlock } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'apitap-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
const records = Array.from({ length: 3000 }, (_, i) => ({
  tsUs: 1_700_000_000_000_000 + i * 10,
  data: Buffer.alloc(60 + (i % 700), i & 0xff),
}));
const plain = pcapFile(records);

async function frames(path: string): Promise<{ n: number; bytes: number; codes: string[] }> {
  let n = 0;
  let bytes = 0;
  const r = await readCapture(path, {
    onFrame(f) {
      n++;
      bytes += f.length;
    },
  });
  return { n, bytes, codes: r.problems.map((p) => p.code) };
}

const compressors = [
  ['gzip', (b: Buffer): Buffer => gzipSync(b), true],
  ['zstd', (b: Buffer): Buffer => execFileSync('zstd', ['-q', '-c'], { input: b }), has('zstd')],
  ['xz', (b: Buffer): Buffer => execFileSync('xz', ['-c'], { input: b }), has('xz')],
] as const;

describe('compressed captures', () => {
  const total = records.reduce((a, r) => a + r.data.length, 0);
  for (const [name, compress, available] of compressors) {
    it(
      `${name}: detected by magic bytes under any file name; same frames as the plain file`,
      {
        skip: available ? false : `'${name}' not installed (deploy/dev/install-test-deps.sh)`,
      },
      async () => {
        const z = compress(plain);
        assert.equal(detectCompression(z, z.length), name);
        const p = join(dir, `capture-${name}.bin`);
        writeFileSync(p, z);
        assert.deepEqual(await frames(p), { n: records.length, bytes: total, codes: [] });
      },
    );

    it(
      `${name}: a stream cut short reports capture_truncated after the frames before the cut`,
      {
        skip: available ? false : `'${name}' not installed`,
      },
      async () => {
        const z = compress(plain);
        const p = join(dir, `cut-${name}.bin`);
        writeFileSync(p, z.subarray(0, Math.floor(z.length * 0.6)));
        const r = await frames(p);
        assert.ok(r.n > 0 && r.n < records.length, `${r.n} frames`);
        assert.deepEqual(r.codes, ['capture_truncated']);
      },
    );
  }

  it('a plain pcap or pcapng is not taken for a compressed one', () => {
    assert.equal(detectCompression(plain, plain.length), null);
    const shb = pcapngBlock(0x0a0d0d0a, 16);
    assert.equal(detectCompression(shb, shb.length), null);
  });
});

describe("standard input ('-')", () => {
  const script = join(dir, 'count.mts');
  writeFileSync(
    script,
    `import { readCapture } from ${JSON.stringify(join(repoRoot, 'collectors/source/capture.ts'))};\n` +
      `let n = 0; const r = await readCapture('-', { onFrame() { n++; } });\n` +
      `process.stdout.write(JSON.stringify({ n, frames: r.frames, codes: r.problems.map((p) => p.code) }));\n`,
  );
  const viaStdin = (input: Buffer): { n: number; frames: number; codes: string[] } =>
    JSON.parse(execFileSync('node', ['--import', 'tsx', script], { input, cwd: repoRoot, encoding: 'utf8' })) as {
      n: number;
      frames: number;
      codes: string[];
    };

  it('reads a pcap piped in, and a zstd-compressed one', () => {
    assert.deepEqual(viaStdin(plain), { n: records.length, frames: records.length, codes: [] });
    if (has('zstd'))
      assert.deepEqual(viaStdin(execFileSync('zstd', ['-q', '-c'], { input: plain })), {
        n: records.length,
        frames: records.length,
        codes: [],
      });
  });

  it('empty input is not a capture; a cut pcap is truncated', () => {
    assert.deepEqual(viaStdin(Buffer.alloc(0)).codes, ['capture_not_a_capture']);
    const cut = viaStdin(plain.subarray(0, plain.length - 100));
    assert.deepEqual(cut.codes, ['capture_truncated']);
    assert.equal(cut.n, records.length - 1);
  });

  it('the bytes are the same as the file', () => {
    const p = join(dir, 'same.pcap');
    writeFileSync(p, plain);
    assert.ok(readFileSync(p).equals(plain));
  });
});
