// Analysis throughput per core on the exchanges of a real capture (run on demand, not in CI):
//
//   node --import tsx test/bench/analysis.bench.ts CAPTURE [--rounds N] [--no-sampling] [--no-gate]
//                                                  [--dump OUT.json] [--no-bodies-after N]
//   node --cpu-prof --cpu-prof-dir=.cache/prof --import tsx test/bench/analysis.bench.ts CAPTURE
//
// The collectors run first and their exchanges are kept in memory (not timed); then each round feeds
// all of them, in capture order, into a fresh createAnalysis (real PII scanner and field aggregator, no
// spec, no store) and calls endpoints() and findings() once at the end. Timed per round: wall and CPU
// seconds of the observe loop, exchanges per second overall and for the second half of the exchanges
// ("steady": the endpoints' fields have settled by then). One process, one thread: the figure is per
// core. --no-gate walks every body (analyzers/shared/gate.ts off), --no-sampling also scans every
// value. Prints one JSON line per round, with the scanner's sampling statistics and a sha256 of the
// JSON of endpoints() + findings(), so two versions (or --no-sampling) can be compared for output;
// --dump writes that JSON (last round) for a diff. --no-bodies-after N blanks the body data of every
// exchange after the first N of its route (host, method, target without query): what is left is the
// per-exchange cost outside the bodies (templating, headers, auth, counters), as on settled endpoints.
//
// Capture used for the figures in the README: test/bench/make-capture.sh 60 (nginx + the JSON API +
// wrk in a netns: PII-dense JSON, ~19k exchanges in 60 MB).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import { createAnalysis } from '../../analyzers/analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../../analyzers/pii/index.js';
import type { Body, Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';

async function collect(file: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  const counters = new Counters();
  const collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, (ex) => out.push(ex), counters);
  const res = await readCapture(file, collector, { counters });
  collector.finish();
  for (const p of res.problems) if (p.fatal) throw new Error(`${p.code}: ${p.message}`);
  return out;
}

/** Per exchange: keep its body data (false after the first `n` exchanges of its route). */
function bodyKept(exchanges: readonly Exchange[], n: number): boolean[] {
  const seen = new Map<string, number>();
  return exchanges.map((ex) => {
    if (n < 0 || ex.request === null) return true;
    const t = ex.request.target;
    const q = t.search(/[?#]/);
    const route = `${ex.request.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? ''} ${ex.request.method} ${q < 0 ? t : t.slice(0, q)}`;
    const c = (seen.get(route) ?? 0) + 1;
    seen.set(route, c);
    return c <= n;
  });
}

function round(
  exchanges: readonly Exchange[],
  sampling: boolean,
  gate: boolean,
  dump: string,
  keep: readonly boolean[],
): Record<string, unknown> {
  // Fresh body objects per round: bodies are parsed once per Body object (analyzers/shared/json.ts),
  // so reusing them would time a warm cache instead of the parse.
  const body = (b: Body, k: boolean): Body => (k ? { ...b } : { ...b, data: '' });
  const xs = exchanges.map((ex, i) => ({
    ...ex,
    request: ex.request === null ? null : { ...ex.request, body: body(ex.request.body, keep[i] ?? true) },
    response: ex.response === null ? null : { ...ex.response, body: body(ex.response.body, keep[i] ?? true) },
  }));
  const scanner = createPiiScanner({ secret: 'bench-secret', ...(sampling ? {} : { sampling: false }) });
  const analysis = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner, aggregator: createPiiFieldAggregator() },
    ...(gate ? {} : { bodyGate: false as const }),
  });
  const half = Math.floor(xs.length / 2);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let tHalf = t0;
  let cHalf = c0;
  for (let i = 0; i < xs.length; i++) {
    if (i === half) {
      tHalf = performance.now();
      cHalf = process.cpuUsage();
    }
    analysis.observe(xs[i] as Exchange);
  }
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const endpoints = analysis.endpoints();
  const findings = analysis.findings();
  const t2 = performance.now();
  const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user - a.user + b.system - a.system) / 1e6;
  const wall = (t1 - t0) / 1000;
  const json = JSON.stringify({ endpoints, findings }, null, 1);
  if (dump !== '') writeFileSync(dump, json);
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  return {
    exchanges: xs.length,
    sampling,
    observeSeconds: +wall.toFixed(3),
    observeCpuSeconds: +cpu(c0, c1).toFixed(3),
    finishSeconds: +((t2 - t1) / 1000).toFixed(3),
    exchangesPerSec: Math.round(xs.length / wall),
    exchangesPerCpuSec: Math.round(xs.length / cpu(c0, c1)),
    steadyPerSec: Math.round((xs.length - half) / ((t1 - tHalf) / 1000)),
    steadyPerCpuSec: Math.round((xs.length - half) / cpu(cHalf, c1)),
    endpoints: endpoints.length,
    findings: findings.length,
    piiFields: endpoints.reduce((n, e) => n + e.pii.length, 0),
    digest,
    scanner: scanner.stats?.() ?? null,
    bodies: {
      walked: analysis.stats().analysis_bodies_walked ?? null,
      gated: analysis.stats().analysis_bodies_gated ?? null,
    },
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let file = '';
  let rounds = 1;
  let sampling = true;
  let gate = true;
  let dump = '';
  let noBodiesAfter = -1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--rounds') rounds = Number(args[++i] ?? 1);
    else if (a === '--no-sampling') sampling = false;
    else if (a === '--no-gate') gate = false;
    else if (a === '--dump') dump = args[++i] ?? '';
    else if (a === '--no-bodies-after') noBodiesAfter = Number(args[++i] ?? 0);
    else file = a;
  }
  if (file === '') {
    console.error(
      'usage: node --import tsx test/bench/analysis.bench.ts CAPTURE [--rounds N] [--no-sampling] [--no-gate] [--dump OUT.json] [--no-bodies-after N]',
    );
    process.exitCode = 2;
    return;
  }
  const exchanges = await collect(file);
  const keep = bodyKept(exchanges, noBodiesAfter);
  for (let r = 0; r < rounds; r++)
    console.log(JSON.stringify({ file, round: r + 1, ...round(exchanges, sampling, gate, dump, keep) }));
}

await main();
