// `apitap replay` throughput per stage, on a real capture (run on demand, not in CI):
//
//   node --import tsx test/bench/replay.bench.ts CAPTURE [--stage collectors|endpoints|analysis] [--runs N]
//   node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx test/bench/replay.bench.ts --child analysis CAPTURE
//
// Stages, each in its own child process (so the peak RSS, process.resourceUsage().maxRSS, is the
// stage's own and startup/module loading is not timed):
// - collectors: readCapture → createCollector (decode, flow, reassembly, HTTP); exchanges counted, dropped.
// - endpoints:  the same into createAnalysis without PII (endpoints, auth, templating: the analyzers
//               this bench's owner tunes; PII has test/bench/pii.bench.ts).
// - analysis:   the same, each exchange into createAnalysis (real PII scanner and field aggregator,
//               no spec, no store), then endpoints() and findings() once at the end ("finish").
// Prints one JSON line per stage and run: capture MB/s, packets/s, exchanges/s, wall and CPU seconds,
// peak RSS (MB).
// Memory check: run it on a 60 MB and a 300 MB capture; the peak RSS must not grow with the size.
//
// Capture used for the numbers in the PR: /tmp/b60.pcap = the first 60 MB of the 300 MB lab capture
// from test/bench/make-capture.sh (nginx + wrk in a netns; ~400k packets, ~100k exchanges).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import { createAnalysis } from '../../analyzers/analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../../analyzers/pii/index.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';

type Stage = 'collectors' | 'endpoints' | 'analysis';
const STAGES: readonly Stage[] = ['collectors', 'endpoints', 'analysis'];

interface StageResult {
  stage: Stage;
  file: string;
  fileMB: number;
  packets: number;
  exchanges: number;
  seconds: number;
  /** CPU seconds of the process (user + system; includes GC and zlib threads), less noisy on a shared machine. */
  cpuSeconds: number;
  /** Of which analysis.endpoints() + findings() at the end. */
  finishSeconds: number;
  MBps: number;
  packetsPerSec: number;
  exchangesPerSec: number;
  peakRssMB: number;
}

async function child(stage: Stage, file: string): Promise<StageResult> {
  const counters = new Counters();
  let exchanges = 0;
  const analysis =
    stage === 'collectors'
      ? null
      : createAnalysis({
          specs: [],
          previousSpecs: [],
          overrides: null,
          pii:
            stage === 'analysis'
              ? { scanner: createPiiScanner({ secret: 'bench-secret' }), aggregator: createPiiFieldAggregator() }
              : null,
        });
  const emit =
    analysis === null
      ? (): void => {
          exchanges++;
        }
      : (ex: Exchange): void => {
          exchanges++;
          analysis.observe(ex);
        };
  const collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, emit, counters);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await readCapture(file, collector, { counters });
  collector.finish();
  const t1 = performance.now();
  if (analysis !== null) {
    analysis.endpoints();
    analysis.findings();
  }
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  for (const p of res.problems) if (p.fatal) throw new Error(`${p.code}: ${p.message}`);
  const s = (t2 - t0) / 1000;
  const fileMB = statSync(file).size / 1e6;
  const packets = counters.get('packets');
  return {
    stage,
    file,
    fileMB: +fileMB.toFixed(1),
    packets,
    exchanges,
    seconds: +s.toFixed(3),
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    finishSeconds: +((t2 - t1) / 1000).toFixed(3),
    MBps: +(fileMB / s).toFixed(1),
    packetsPerSec: Math.round(packets / s),
    exchangesPerSec: Math.round(exchanges / s),
    // maxRSS is in KiB.
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const stage = args[1] as Stage;
    const file = args[2] as string;
    console.log(JSON.stringify(await child(stage, file)));
    return;
  }
  let file = '';
  let stages: Stage[] = [...STAGES];
  let runs = 1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--stage') {
      const s = STAGES.find((x) => x === args[i + 1]);
      i++;
      if (s !== undefined) stages = [s];
    } else if (a === '--runs') runs = Number(args[++i] ?? 1);
    else file = a;
  }
  if (file === '') {
    console.error(
      'usage: node --import tsx test/bench/replay.bench.ts CAPTURE [--stage collectors|endpoints|analysis] [--runs N]',
    );
    process.exitCode = 2;
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const stage of stages) {
    for (let r = 0; r < runs; r++) {
      const out = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', stage, file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (out.status !== 0) throw new Error(`${stage} child failed (${String(out.status)})`);
      process.stdout.write(out.stdout);
    }
  }
}

await main();
