// The half-open flood against ordinary traffic, collectors only (run on demand, not in CI):
//
//   node --import tsx test/bench/flood.bench.ts [ORDINARY_CAPTURE] [--connections N]
//
// Writes a flood of N half-open connections (default 300,000: a SYN and one request each, never
// answered; collectors/flow/testing.ts) to a temporary pcap, runs the collectors stage of
// test/bench/replay.bench.ts on it (its own child process: peak RSS is the stage's own) and, when
// given, on an ordinary capture (test/bench/make-capture.sh), and prints both result lines plus the
// packet-rate ratio (flood / ordinary, CPU-based: the machine may be shared). The issue 7 target:
// flood peak RSS within 400 MB and a ratio of at least 1.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHalfOpenFlood } from '../../collectors/flow/testing.js';

interface StageLine {
  packets: number;
  cpuSeconds: number;
  peakRssMB: number;
}

function collectors(file: string): StageLine & Record<string, unknown> {
  const bench = join(fileURLToPath(new URL('.', import.meta.url)), 'replay.bench.ts');
  const out = spawnSync(process.execPath, ['--import', 'tsx', bench, '--child', 'collectors', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (out.status !== 0) throw new Error(`collectors stage failed on ${file} (${String(out.status)})`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as StageLine & Record<string, unknown>;
}

const args = process.argv.slice(2);
let ordinary = '';
let connections = 300_000;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--connections') connections = Number(args[++i]);
  else ordinary = args[i] as string;
}
const dir = mkdtempSync(join(tmpdir(), 'apitap-flood-bench-'));
try {
  const flood = join(dir, `flood-${connections}.pcap`);
  writeHalfOpenFlood(flood, { connections });
  const f = collectors(flood);
  console.log(JSON.stringify({ case: 'flood', connections, ...f }));
  if (ordinary !== '') {
    const o = collectors(ordinary);
    console.log(JSON.stringify({ case: 'ordinary', ...o }));
    const rate = (x: StageLine): number => x.packets / x.cpuSeconds;
    console.log(
      JSON.stringify({
        floodPacketsPerCpuSec: Math.round(rate(f)),
        ordinaryPacketsPerCpuSec: Math.round(rate(o)),
        ratio: +(rate(f) / rate(o)).toFixed(2),
        floodPeakRssMB: f.peakRssMB,
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
