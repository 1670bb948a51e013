// `apitap collect --vxlan` live throughput: the highest rate of AWS-style VXLAN mirror traffic the
// collector takes without a drop (run on demand, not in CI; loopback only):
//
//   node --import tsx test/bench/vxlan.bench.ts [--kafka BOOTSTRAP] [--rates 5000,10000,...] [--seconds 10]
//        [--capture FILE] [--max-mb 64] [--cli dist|source] [--keep-going] [--node-arg=--cpu-prof ...]
//
// Parts, each its own process so none shares the collector's event loop:
// - Kafka: --kafka, else a private single-node broker started with deploy/kafka/broker.sh under its
//   own APITAP_KAFKA_HOME (the jars linked from the repo's .cache/kafka, so nothing is fetched and
//   the shared dev broker other tests reuse is never touched); stopped and deleted at the end.
// - The collector: the real CLI, `apitap collect --vxlan 127.0.0.1:PORT --kafka … --topic <unique>
//   --health-port HP --stats-interval 0` (dist/ when it is at least as new as the sources, else the
//   TypeScript sources through tsx; --cli forces one), stopped with SIGTERM at the end.
// - The sender: test/bench/vxlan-sender.ts, one process per step, frames of a real capture behind a
//   VXLAN header (VNI 123…), paced by a token bucket. Each step starts at a VNI of its own, so no
//   step continues another step's flows.
//
// Per step (rates ascending), from the collector's /metrics (counters) before and after, plus
// /proc: offered = what the sender really sent per second (it may fall short of the target on a
// busy machine); received = vxlan_datagrams_received; Mbit/s = vxlan_bytes_received (UDP payload,
// VXLAN header included); kernel drops = growth of the `drops` column of /proc/net/udp for the
// collector's port (the socket receive buffer overflowed; cross-checked against vxlan_kernel_drops
// when the collector exposes it); own drops = growth of bus_dropped_* plus flow/fragment evictions;
// exchanges/s = bus_published growth per second of sending; CPU = utime+stime growth of the
// collector's /proc/<pid>/stat per second of sending (100% = one core); RSS after the step.
// A step is clean when every datagram sent was received, kernel drops and own drops are 0. After
// two consecutive lossy steps the ramp stops (--keep-going: run every rate).
//
// Output: progress on stderr, a JSON line per step, then a markdown table and the highest clean rate
// on stdout.
//
// Measured 2026-11-23, Node 20.20, 2 cores shared with other engineers' jobs (host 100% busy, load
// 5-8), collector from the sources (tsx), lab-300.pcap (avg 800 B frames), 10 s steps: clean up to
// 11,000 packets/s = 70 Mbit/s (2,600 exchanges/s published, collector ~55% of a core);
// 12,000 pps lost 2.6% in the kernel. The collector never got a full core, so the limit here is CPU
// share plus the socket buffer: net.core.rmem_max was 4 MiB, so the 64 MiB SO_RCVBUF request was
// capped to 8 MiB (vxlan_recv_buffer_capped = 1), about 0.4 s of traffic at this rate.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import type { SenderResult } from './vxlan-sender.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const brokerScript = join(repoRoot, 'deploy', 'kafka', 'broker.sh');
const senderScript = join(repoRoot, 'test', 'bench', 'vxlan-sender.ts');
const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => {
  process.stderr.write(`[vxlan.bench] ${msg}\n`);
};

// ---------- small probes ----------

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        const port = typeof a === 'object' && a !== null ? a.port : 0;
        s.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

function httpGet(url: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`)),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

type Metrics = Record<string, number>;

async function metrics(healthPort: number): Promise<Metrics> {
  const out: Metrics = {};
  for (const line of (await httpGet(`http://127.0.0.1:${healthPort}/metrics`)).split('\n')) {
    const m = /^apitap_(\S+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

const mv = (m: Metrics, k: string): number => m[k] ?? 0;

/** `drops` column of /proc/net/udp for the socket bound to 127.0.0.1:port (or any address), or -1. */
function udpDrops(port: number): number {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && f[1]!.endsWith(portHex)) return Number(f[12]);
    }
  }
  return -1;
}

/** utime + stime of a process in seconds (all threads), and its RSS in MB. */
function procStat(pid: number): { cpu: number; rssMB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3 → index 0; utime field 14 → index 11; stime 15 → 12.
  const ticks = Number(f[11]) + Number(f[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu: ticks / CLK_TCK, rssMB: rss ? Number(rss[1]) / 1024 : 0 };
}
/** Busy and total jiffies of all CPUs (/proc/stat), for the host's load during a step. */
function hostCpu(): { busy: number; total: number } {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

// USER_HZ; 100 on every Linux architecture node runs on (getconf CLK_TCK).
const CLK_TCK = 100;

// ---------- broker ----------

interface Broker {
  bootstrap: string;
  stop(): Promise<void>;
}

async function brokerCmd(cmd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await run('bash', [brokerScript, cmd], { cwd: repoRoot, env, timeout: 300_000, maxBuffer: 4 << 20 });
  return r.stdout;
}

async function startBroker(): Promise<Broker> {
  // A private home: the shared dev broker (.cache/kafka) may be in use by someone's tests, and this
  // bench stops what it starts. The jars are linked, not fetched.
  const home = join(tmpdir(), `apitap-vxlan-bench-kafka-${process.pid}`);
  mkdirSync(home, { recursive: true });
  const sharedLibs = join(repoRoot, '.cache', 'kafka');
  const libs = existsSync(sharedLibs)
    ? readdirSync(sharedLibs).filter((d) => d.startsWith('libs-') && existsSync(join(sharedLibs, d, '.complete')))
    : [];
  for (const d of libs) if (!existsSync(join(home, d))) symlinkSync(join(sharedLibs, d), join(home, d));
  const env = { ...process.env, APITAP_KAFKA_HOME: home, APITAP_KAFKA_PARTITIONS: '3' };
  const t0 = performance.now();
  let out: string;
  try {
    out = await brokerCmd('start', env);
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const m = /BOOTSTRAP=(\S+)\s*$/.exec(out);
  if (!m) throw new Error(`broker.sh printed no BOOTSTRAP line:\n${out}`);
  log(`private broker ${m[1]!} up in ${((performance.now() - t0) / 1000).toFixed(1)}s (APITAP_KAFKA_HOME=${home})`);
  return {
    bootstrap: m[1]!,
    async stop() {
      try {
        await brokerCmd('stop', env);
      } finally {
        // rmSync does not follow the symlinked jar directories; it removes the links.
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

// ---------- collector ----------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function collectorCommand(choice: string | undefined): { argv: string[]; which: string } {
  const dist = join(repoRoot, 'dist', 'engine', 'app', 'cli', 'main.js');
  const source = ['--import', 'tsx', join(repoRoot, 'engine', 'app', 'cli', 'main.ts')];
  if (choice === 'source' || !existsSync(dist)) return { argv: source, which: 'source (tsx)' };
  if (choice === 'dist') return { argv: [dist], which: 'dist' };
  const srcNewest = Math.max(...['engine', 'collectors', 'analyzers'].map((d) => newestMtime(join(repoRoot, d))));
  if (srcNewest > statSync(dist).mtimeMs)
    return { argv: source, which: 'source (tsx; dist/ is older than the sources)' };
  return { argv: [dist], which: 'dist' };
}

interface Collector {
  child: ChildProcess;
  pid: number;
  port: number;
  healthPort: number;
  stderr(): string;
  stdout(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

async function startCollector(
  bootstrap: string,
  topic: string,
  cliChoice: string | undefined,
  nodeArgs: readonly string[],
): Promise<Collector> {
  const port = await freePort('udp');
  const healthPort = await freePort('tcp');
  const { argv, which } = collectorCommand(cliChoice);
  const args = [
    ...nodeArgs,
    ...argv,
    'collect',
    '--vxlan',
    `127.0.0.1:${port}`,
    '--kafka',
    bootstrap,
    '--topic',
    topic,
    '--health-port',
    String(healthPort),
    '--stats-interval',
    '0',
  ];
  log(`collector: node ${args.join(' ')}  [${which}]`);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const c: Collector = {
    child,
    pid: child.pid ?? -1,
    port,
    healthPort,
    stderr: () => err,
    stdout: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  const t0 = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode} during start:\n${err}`);
    try {
      await metrics(healthPort);
      if (udpDrops(port) >= 0) break;
    } catch {
      /* not up yet */
    }
    if (performance.now() - t0 > 60_000) throw new Error(`collector not ready after 60s:\n${err}`);
    await sleep(200);
  }
  log(
    `collector pid ${c.pid} ready in ${((performance.now() - t0) / 1000).toFixed(1)}s: UDP ${port}, health ${healthPort}`,
  );
  return c;
}

// ---------- one step ----------

function runSender(args: string[]): Promise<SenderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', senderScript, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`sender exited with ${code}: ${err}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as SenderResult);
      } catch {
        reject(new Error(`sender printed no result: ${out} ${err}`));
      }
    });
  });
}

/** Counters that mean a datagram or an exchange was lost inside the collector (not parse anomalies). */
const OWN_DROP = /^(bus_dropped_|flow_evicted|ip_frag_evicted)/;

interface Step {
  targetPps: number;
  sent: number;
  offeredPps: number;
  sendSeconds: number;
  senderErrors: number;
  received: number;
  receivedPps: number;
  mbps: number;
  kernelDrops: number;
  /** vxlan_kernel_drops growth as the collector reports it; null when it does not expose it. */
  kernelDropsReported: number | null;
  /** sent - received - kernelDrops: lost somewhere else (should be 0 on loopback). */
  unaccounted: number;
  ownDrops: number;
  ownDropDetail: Record<string, number>;
  exchangesEmitted: number;
  exchangesPublished: number;
  publishedPerSec: number;
  /** Exchanges emitted but neither published nor dropped when the step ended (still buffered). */
  backlog: number;
  cpuPct: number;
  /** The sender's CPU while sending (100 = one core). */
  senderCpuPct: number;
  /** The whole host's CPU use during the step, all processes (100 = every core busy). */
  hostBusyPct: number;
  rssMB: number;
  clean: boolean;
  /** Growth of every collector counter during the step (anomalies included), for diagnosis. */
  counters: Record<string, number>;
}

async function step(
  c: Collector,
  pps: number,
  seconds: number,
  vni: number,
  capture: string | undefined,
  maxMb: string,
): Promise<Step> {
  const m0 = await metrics(c.healthPort);
  const d0 = udpDrops(c.port);
  const p0 = procStat(c.pid);
  const h0 = hostCpu();
  const args = [
    '--port',
    String(c.port),
    '--pps',
    String(pps),
    '--seconds',
    String(seconds),
    '--vni',
    String(vni),
    '--max-mb',
    maxMb,
    '--batch',
    String(Math.max(16, Math.ceil(pps / 2000))),
  ];
  if (capture !== undefined) args.push('--capture', capture);
  const s = await runSender(args);
  // Settle: the socket may still hold datagrams and the publisher batches; wait until every datagram
  // is accounted for (received or dropped by the kernel) and the bus has caught up, or nothing moves.
  let m1 = await metrics(c.healthPort);
  let d1 = udpDrops(c.port);
  const tSettle = performance.now();
  for (;;) {
    const recv = mv(m1, 'vxlan_datagrams_received') - mv(m0, 'vxlan_datagrams_received');
    const emitted = mv(m1, 'exchanges_emitted') - mv(m0, 'exchanges_emitted');
    let gone = mv(m1, 'bus_published') - mv(m0, 'bus_published');
    for (const k of Object.keys(m1)) if (k.startsWith('bus_dropped_')) gone += mv(m1, k) - mv(m0, k);
    if ((recv + (d1 - d0) >= s.sent && gone >= emitted) || performance.now() - tSettle > 8000) break;
    await sleep(250);
    const prev = m1;
    m1 = await metrics(c.healthPort);
    d1 = udpDrops(c.port);
    if (
      mv(m1, 'vxlan_datagrams_received') === mv(prev, 'vxlan_datagrams_received') &&
      mv(m1, 'bus_published') === mv(prev, 'bus_published') &&
      performance.now() - tSettle > 2000
    )
      break;
  }
  const p2 = procStat(c.pid);
  const h1 = hostCpu();
  const received = mv(m1, 'vxlan_datagrams_received') - mv(m0, 'vxlan_datagrams_received');
  const kernelDrops = d1 - d0;
  const ownDropDetail: Record<string, number> = {};
  let ownDrops = 0;
  for (const k of Object.keys(m1)) {
    if (!OWN_DROP.test(k)) continue;
    const d = mv(m1, k) - mv(m0, k);
    if (d !== 0) {
      ownDropDetail[k] = d;
      ownDrops += d;
    }
  }
  const emitted = mv(m1, 'exchanges_emitted') - mv(m0, 'exchanges_emitted');
  const published = mv(m1, 'bus_published') - mv(m0, 'bus_published');
  let busDropped = 0;
  for (const k of Object.keys(m1)) if (k.startsWith('bus_dropped_')) busDropped += mv(m1, k) - mv(m0, k);
  const reported = 'vxlan_kernel_drops' in m1 ? mv(m1, 'vxlan_kernel_drops') - mv(m0, 'vxlan_kernel_drops') : null;
  const unaccounted = s.sent - received - kernelDrops;
  // CPU over the sending window plus the drain after it (what the step cost), per second of sending.
  const cpuSec = p2.cpu - p0.cpu;
  return {
    targetPps: pps,
    sent: s.sent,
    offeredPps: s.pps,
    sendSeconds: s.seconds,
    senderErrors: s.sendErrors,
    received,
    receivedPps: Math.round(received / s.seconds),
    mbps: Number(
      (((mv(m1, 'vxlan_bytes_received') - mv(m0, 'vxlan_bytes_received')) * 8) / s.seconds / 1e6).toFixed(1),
    ),
    kernelDrops,
    kernelDropsReported: reported,
    unaccounted,
    ownDrops,
    ownDropDetail,
    exchangesEmitted: emitted,
    exchangesPublished: published,
    publishedPerSec: Math.round(published / s.seconds),
    backlog: emitted - published - busDropped,
    cpuPct: Math.round((cpuSec / s.seconds) * 100),
    senderCpuPct: s.cpuPct,
    hostBusyPct: Math.round(((h1.busy - h0.busy) / Math.max(1, h1.total - h0.total)) * 100),
    rssMB: Math.round(p2.rssMB),
    clean: kernelDrops === 0 && ownDrops === 0 && unaccounted === 0 && s.sendErrors === 0,
    counters: Object.fromEntries(
      Object.keys(m1)
        .map((k) => [k, mv(m1, k) - mv(m0, k)])
        .filter(([, v]) => v !== 0),
    ),
  };
}

// ---------- main ----------

function table(steps: readonly Step[]): string {
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const rows = [
    '| target pps | offered pps | received pps | Mbit/s received | kernel drops | own drops | exchanges/s published | collector CPU | sender CPU | host busy | collector RSS MB | clean |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const s of steps) {
    rows.push(
      `| ${fmt(s.targetPps)} | ${fmt(s.offeredPps)} | ${fmt(s.receivedPps)} | ${s.mbps.toFixed(1)} | ${fmt(s.kernelDrops)}${s.unaccounted !== 0 ? ` (+${fmt(s.unaccounted)} unaccounted)` : ''} | ${fmt(s.ownDrops)} | ${fmt(s.publishedPerSec)} | ${s.cpuPct}% | ${s.senderCpuPct}% | ${s.hostBusyPct}% | ${s.rssMB} | ${s.clean ? 'yes' : 'no'} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kafka: { type: 'string' },
      rates: { type: 'string', default: '5000,7500,10000,12500,15000,20000,30000' },
      seconds: { type: 'string', default: '10' },
      capture: { type: 'string' },
      'max-mb': { type: 'string', default: '64' },
      cli: { type: 'string' },
      'keep-going': { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  const rates = values.rates.split(',').map(Number);
  if (rates.some((r) => !(r > 0))) throw new Error(`--rates wants positive numbers, got ${values.rates}`);
  rates.sort((a, b) => a - b);
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error(`--seconds wants a positive number, got ${values.seconds}`);
  if (values.cli !== undefined && values.cli !== 'dist' && values.cli !== 'source')
    throw new Error('--cli wants dist or source');

  let broker: Broker | null = null;
  let collector: Collector | null = null;
  let stopping = false;
  const cleanup = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (collector !== null) {
      const code = await collector.stop();
      log(`collector stopped, exit ${code}`);
      const last = collector
        .stderr()
        .trim()
        .split('\n')
        .filter((l) => l.includes('collector stopped'))
        .pop();
      if (last !== undefined) log(`collector final line: ${last.slice(0, 2000)}`);
    }
    if (broker !== null) {
      await broker.stop();
      log('private broker stopped and its data deleted');
    }
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const steps: Step[] = [];
  try {
    const t0 = performance.now();
    let bootstrap = values.kafka;
    if (bootstrap === undefined) {
      broker = await startBroker();
      bootstrap = broker.bootstrap;
    }
    const topic = `apitap.bench.vxlan.${Date.now()}`;
    collector = await startCollector(bootstrap, topic, values.cli, values['node-arg']);
    const c = collector;
    const crashed = c.exited.then((code) => {
      throw new Error(`collector exited with ${code} during the run:\n${c.stderr().slice(-4000)}`);
    });
    crashed.catch(() => undefined);
    // Warm-up: JIT, the Kafka producer's connection and the topic's creation, not measured.
    log('warm-up: 3 s at 5,000 pps (not measured)');
    await Promise.race([step(c, 5000, 3, 100, values.capture, values['max-mb']), crashed]);
    let lossy = 0;
    for (const [i, pps] of rates.entries()) {
      log(`step ${i + 1}/${rates.length}: ${pps.toLocaleString('en-US')} pps for ${seconds}s`);
      // VNI 1000, 2000, ...: each step's flows are its own (the sender adds 1 per replay of its set).
      const s = await Promise.race([step(c, pps, seconds, 1000 * (i + 1), values.capture, values['max-mb']), crashed]);
      steps.push(s);
      process.stdout.write(JSON.stringify({ schema: 'vxlan-bench-step/v1', ...s }) + '\n');
      log(
        `  offered ${s.offeredPps} pps, received ${s.receivedPps} pps, ${s.mbps} Mbit/s, kernel drops ${s.kernelDrops}` +
          `${s.kernelDropsReported !== null ? ` (collector says ${s.kernelDropsReported})` : ''}, own drops ${s.ownDrops}, ` +
          `${s.publishedPerSec} exchanges/s, CPU ${s.cpuPct}% (sender ${s.senderCpuPct}%, host busy ${s.hostBusyPct}%), RSS ${s.rssMB} MB, backlog ${s.backlog}`,
      );
      if (s.offeredPps < pps * 0.97) log(`  note: the sender reached only ${s.offeredPps} of ${pps} pps`);
      lossy = s.clean ? 0 : lossy + 1;
      if (lossy >= 2 && !values['keep-going']) {
        log('two lossy steps in a row: stopping the ramp');
        break;
      }
    }
    const m = await metrics(c.healthPort);
    log(`collector counters at the end: ${JSON.stringify(m)}`);
    log(`total ${((performance.now() - t0) / 1000).toFixed(0)}s`);
  } finally {
    await cleanup();
  }
  if (steps.length > 0) {
    const best = steps.filter((s) => s.clean).pop();
    process.stdout.write(`\n${table(steps)}\n\n`);
    process.stdout.write(
      best !== undefined
        ? `Highest rate without drops: ${best.offeredPps.toLocaleString('en-US')} packets/s, ${best.mbps.toFixed(1)} Mbit/s (${best.publishedPerSec.toLocaleString('en-US')} exchanges/s published, collector CPU ${best.cpuPct}%).\n`
        : 'No step was free of drops.\n',
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`vxlan.bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
