// Builds one behaviour capture: two network namespaces joined by a veth pair, the API server (server.ts)
// in one, every actor (client.ts) in the other with one address per client IP, tcpdump -s 0 on the
// server's end of the veth (what a mirror port sees). Returns once the capture holds the end of every
// connection and everything it created is gone again (namespaces, processes), also on failure.
//
// Namespace names start with APITAP_NS_PREFIX (default `apitap-act`), so parallel sessions can keep
// theirs apart. The subnet only has to be unique inside the lab's own namespaces; it moves with the seed.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../../support/paths.js';
import { waitFor } from '../../support/wait.js';
import { captureState } from './pcap.js';
import type { CaptureState } from './pcap.js';
import type { ActorsTruth } from './truth.js';
import { readActorsTruth } from './truth.js';
import type { Thresholds, World } from './world.js';
import { clientIps, makeWorld } from './world.js';

/** Why the lab cannot run here, or null: root, `ip netns`, tcpdump. */
export function actorsLabUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the behaviour lab needs Linux network namespaces';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'the behaviour lab needs root (ip netns, veth, tcpdump)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return "'ip netns' is not available";
  }
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed (bash deploy/dev/install-test-deps.sh)';
  }
  return null;
}

export interface CaptureOptions {
  seed: number;
  /** Directory for world.json, truth.json, capture.pcap and logs (created). */
  out: string;
  thresholds?: Thresholds;
  normals?: number;
}

export interface Capture {
  world: World;
  truth: ActorsTruth;
  pcap: string;
  state: CaptureState;
  /** Wall milliseconds spent generating traffic (namespaces up to capture closed). */
  ms: number;
}

let counter = 0;

/** node on the compiled sibling (dist/, as the suite runs) or on the source through tsx. */
function script(name: 'server' | 'client'): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return import.meta.url.endsWith('.js')
    ? ['node', join(here, `${name}.js`)]
    : ['node', '--import', 'tsx', join(here, `${name}.ts`)];
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function exited(p: ChildProcess): Promise<number | null> {
  return p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve(p.exitCode)
    : new Promise((resolve) => p.once('exit', (code) => resolve(code)));
}

export async function captureActors(o: CaptureOptions): Promise<Capture> {
  const t0 = Date.now();
  mkdirSync(o.out, { recursive: true });
  const prefix = process.env['APITAP_NS_PREFIX'] ?? 'apitap-act';
  const id = `${(process.pid % 46656).toString(36)}${(counter++).toString(36)}`;
  const nsS = `${prefix}-s-${id}`;
  const nsC = `${prefix}-c-${id}`;
  const vS = `avs${id}`;
  const vC = `avc${id}`;
  const subnet = `10.${200 + (o.seed % 50)}.${((o.seed * 7) % 250) + 1}`;
  const world = makeWorld({
    seed: o.seed,
    subnet,
    ...(o.thresholds !== undefined ? { thresholds: o.thresholds } : {}),
    ...(o.normals !== undefined ? { normals: o.normals } : {}),
  });
  const worldFile = join(o.out, 'world.json');
  writeFileSync(worldFile, JSON.stringify(world, null, 2) + '\n');
  const pcap = join(o.out, 'capture.pcap');
  const truthFile = join(o.out, 'truth.json');
  const ready = join(o.out, 'server.ready');
  for (const f of [pcap, truthFile, ready]) if (existsSync(f)) writeFileSync(f, '');
  const procs: ChildProcess[] = [];
  const logs = new Map<string, string>();
  const start = (name: string, ns: string, argv: string[]): ChildProcess => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    logs.set(name, '');
    p.stderr?.on('data', (c: Buffer) => logs.set(name, (logs.get(name) ?? '') + c.toString()));
    procs.push(p);
    return p;
  };
  const log = (name: string): string => (logs.get(name) ?? '').trim();
  try {
    ip(['netns', 'add', nsS]);
    ip(['netns', 'add', nsC]);
    ip(['link', 'add', vS, 'type', 'veth', 'peer', 'name', vC]);
    ip(['link', 'set', vS, 'netns', nsS]);
    ip(['link', 'set', vC, 'netns', nsC]);
    ip(['-n', nsS, 'addr', 'add', `${world.serverIp}/24`, 'dev', vS]);
    for (const a of clientIps(world)) ip(['-n', nsC, 'addr', 'add', `${a}/24`, 'dev', vC]);
    for (const [ns, dev] of [
      [nsS, vS],
      [nsC, vC],
    ] as const) {
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      // MSS-sized segments on the wire, not 64 KB offload super-frames (see test/support/netns/lab.sh).
      try {
        ip(['-n', ns, 'link', 'set', dev, 'gso_max_segs', '1']);
      } catch {
        /* older iproute2: offload frames stay; apitap reads them too */
      }
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }

    const tcpdump = start('tcpdump', nsS, ['tcpdump', '-i', vS, '-s', '0', '-U', '-n', '-w', pcap, 'tcp port 80']);
    await waitFor(() => log('tcpdump').includes('listening on') || tcpdump.exitCode !== null, {
      timeoutMs: 15_000,
      what: () => `tcpdump to start (${log('tcpdump')})`,
    });
    if (tcpdump.exitCode !== null) throw new Error(`tcpdump failed: ${log('tcpdump')}`);
    const server = start('server', nsS, [
      ...script('server'),
      '--world',
      worldFile,
      '--listen',
      `${world.serverIp}:80`,
      '--ready-file',
      ready,
    ]);
    await waitFor(() => readFileSync(ready, 'utf8').includes('ready') || server.exitCode !== null, {
      timeoutMs: 30_000,
      what: () => `the API server to start (${log('server')})`,
    });
    if (server.exitCode !== null) throw new Error(`API server failed: ${log('server')}`);
    const client = start('client', nsC, [...script('client'), '--world', worldFile, '--truth-out', truthFile]);
    const clientRc = await exited(client);
    if (clientRc !== 0) throw new Error(`client failed (${String(clientRc)}): ${log('client')}`);
    // tcpdump writes behind the wire on a busy machine: wait for the file, not for the sockets.
    let state = captureState(pcap);
    await waitFor(
      () => {
        state = captureState(pcap);
        return state.connections > 0 && state.open === 0;
      },
      { timeoutMs: 60_000, what: () => `the capture to hold the end of every connection (${state.open} open)` },
    );
    server.kill('SIGTERM');
    await exited(server);
    tcpdump.kill('SIGINT');
    await exited(tcpdump);
    if (/^[1-9]\d* packets? dropped by kernel/m.test(log('tcpdump')))
      throw new Error(`tcpdump dropped packets: ${log('tcpdump')}`);
    writeFileSync(join(o.out, 'lab.log'), [...logs].map(([k, v]) => `## ${k}\n${v}`).join('\n'));
    state = captureState(pcap);
    return { world, truth: readActorsTruth(truthFile), pcap, state, ms: Date.now() - t0 };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(procs.map(exited));
    for (const ns of [nsS, nsC])
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* never created */
      }
  }
}
