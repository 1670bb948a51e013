// Capture reader benchmark: apitap's readCapture vs the pcap-parser package (see
// docs/decisions/0001-pcap-reader.md). Synthesises a big pcap in the temp dir by repeating the
// records of a corpus file, then runs each reader in its own child process (clean peak RSS).
//
//   node --import tsx test/bench/pcap-reader.bench.ts [sizeMB=200]
//   node --import tsx test/bench/pcap-reader.bench.ts --child apitap|apitap+decode|pcap-parser FILE
//
// The pcap-parser run on the corrupted file takes minutes (quadratic buffering); that is the finding.
// Prints one JSON line per scenario: frames, seconds, MB/s, peak RSS (MB).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Counters } from '../../engine/contracts/counters.js';
import { readCapture } from '../../collectors/source/capture.js';
import { createDecoder } from '../../collectors/decode/decoder.js';
import { corpus } from '../support/paths.js';

const SOURCE = corpus('pcaps', 'pcapplusplus', 'Pcap++Test', 'PcapExamples', 'example.pcap');

function synthesise(path: string, sizeMB: number, badLengthAtRecord = -1): void {
  const src = readFileSync(SOURCE);
  const body = src.subarray(24);
  const fd = openSync(path, 'w');
  writeSync(fd, src.subarray(0, 24));
  let written = 24;
  let first = true;
  while (written < sizeMB * 1024 * 1024) {
    if (first && badLengthAtRecord >= 0) {
      // Corrupt the caplen of record #badLengthAtRecord (as a broken writer or an attacker would).
      const b = Buffer.from(body);
      let p = 0;
      for (let i = 0; i < badLengthAtRecord; i++) p += 16 + b.readUInt32LE(p + 8);
      b.writeUInt32LE(0x7fffffff, p + 8);
      writeSync(fd, b);
    } else {
      writeSync(fd, body);
    }
    first = false;
    written += body.length;
  }
  closeSync(fd);
}

async function runChild(mode: string, path: string): Promise<void> {
  const size = statSync(path).size;
  const t0 = process.hrtime.bigint();
  let frames = 0;
  let note = '';
  if (mode === 'apitap' || mode === 'apitap+decode') {
    const counters = new Counters();
    const d = createDecoder({ vxlanPorts: [4789] }, counters);
    const decode = mode === 'apitap+decode';
    const r = await readCapture(path, {
      onFrame(f, lt, ts, wire) {
        frames++;
        if (decode) d.decode(f, lt, ts, wire);
      },
    });
    note = r.problems.map((p) => p.code).join(',');
  } else {
    const pcapParser = createRequire(import.meta.url)('pcap-parser') as { parse(p: string): EventEmitter };
    await new Promise<void>((resolve) => {
      const p = pcapParser.parse(path);
      p.on('packet', () => {
        frames++;
      });
      p.on('error', (e: Error) => {
        note = e.message;
      });
      p.on('end', () => resolve());
    });
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    JSON.stringify({
      mode,
      fileMB: +(size / 2 ** 20).toFixed(1),
      frames,
      seconds: +s.toFixed(2),
      MBps: +(size / 2 ** 20 / s).toFixed(1),
      peakRssMB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
      note,
    }),
  );
}

async function main(): Promise<void> {
  const [, , a1, a2, a3] = process.argv;
  if (a1 === '--child') {
    await runChild(a2!, a3!);
    return;
  }
  const sizeMB = Number(a1 ?? 200);
  // Own temp directory: other benchmarks share the machine's temp dir.
  const dir = mkdtempSync(join(tmpdir(), 'apitap-pcap-reader-bench-'));
  const big = join(dir, `big-${sizeMB}.pcap`);
  const bad = join(dir, 'badlen-64.pcap');
  synthesise(big, sizeMB);
  synthesise(bad, 64, 1);
  const self = fileURLToPath(import.meta.url);
  const run = (mode: string, path: string): void => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, path], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 600_000,
    });
    if (r.error) console.log(JSON.stringify({ mode, error: r.error.message }));
  };
  for (const mode of ['apitap', 'pcap-parser', 'apitap+decode']) run(mode, big);
  console.log('# a 64 MB file whose second record declares caplen 0x7fffffff:');
  for (const mode of ['apitap', 'pcap-parser']) run(mode, bad);
  rmSync(dir, { recursive: true, force: true });
}

await main();
