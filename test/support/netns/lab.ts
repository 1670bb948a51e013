// TypeScript handle on the netns lab (./lab.sh does the work; this module only shells out to it), so
// node:test files can bring up nginx + the JSON API + an AWS-style VXLAN mirror and tear it all down.
// Contract: createLab() resolves only once nginx answers from the cli namespace; on failure lab.sh has
// already removed what it built. Call lab.down() in a finally/after hook: it is idempotent.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../paths.js';

const run = promisify(execFile);
/** Always the source tree's script: tsc does not copy .sh files into dist/. */
export const labScript = join(repoRoot, 'test', 'support', 'netns', 'lab.sh');

export interface LabOptions {
  /** Unique id, part of namespace and interface names ([0-9a-z]{1,10}). Default: a per-process id. */
  readonly id?: string;
  /** VXLAN network identifier of the mirror (default 4242). */
  readonly vni?: number;
  /** MTU 9001 on the veths and the mirror path. */
  readonly jumbo?: boolean;
  /** Mirror only the first N bytes of each frame (AWS mirror "packet length"); see lab.sh. */
  readonly truncate?: number;
  /** No VXLAN mirror at all. */
  readonly mirror?: boolean;
  /** JSON API data seed (default 42). */
  readonly seed?: number;
}

export interface Lab {
  readonly id: string;
  readonly dir: string;
  readonly srvNs: string;
  readonly cliNs: string;
  readonly srvIp: string;
  readonly cliIp: string;
  /** Host name that resolves to srvIp inside the cli namespace. */
  readonly apiHost: string;
  readonly apiUrl: string;
  /** Root-namespace veth on which the mirror's VXLAN datagrams arrive. */
  readonly rootIf: string;
  /** Address in the root namespace the mirror sends to (bind a collector to it, port 4789). */
  readonly collectorIp: string;
  readonly vni: number;
  readonly mtu: number;
  readonly truncate: number;
  readonly accessLog: string;
  readonly env: Readonly<Record<string, string>>;
  /** Runs argv inside a namespace and resolves with its stdout (rejects on non-zero exit). */
  exec(ns: 'srv' | 'cli', argv: readonly string[], opts?: { timeoutMs?: number }): Promise<string>;
  /** Removes everything the lab created. Idempotent. */
  down(): Promise<void>;
}

/** Why the lab cannot run here, or null when it can: root and a working `ip netns`. */
export function labUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'netns lab needs Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'netns lab needs root (ip netns, veth, tc)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return "'ip netns' is not available";
  }
  return null;
}

let counter = 0;

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const id = opts.id ?? `${(process.pid % 100000).toString(36)}${(counter++).toString(36)}`;
  const args = ['up', '--id', id];
  if (opts.vni !== undefined) args.push('--vni', String(opts.vni));
  if (opts.jumbo === true) args.push('--jumbo');
  if (opts.truncate !== undefined && opts.truncate > 0) args.push('--truncate', String(opts.truncate));
  if (opts.mirror === false) args.push('--no-mirror');
  if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [labScript, ...args], { timeout: 60_000 }));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`lab.sh up failed: ${err.stderr?.trim() || err.message}`, { cause: e });
  }
  const env: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const get = (k: string): string => {
    const v = env[k];
    if (v === undefined) throw new Error(`lab.sh up did not report ${k}`);
    return v;
  };
  const dir = get('LAB_DIR');
  const nsOf = { srv: get('SRV_NS'), cli: get('CLI_NS') } as const;
  return {
    id,
    dir,
    srvNs: nsOf.srv,
    cliNs: nsOf.cli,
    srvIp: get('SRV_IP'),
    cliIp: get('CLI_IP'),
    apiHost: get('API_HOST'),
    apiUrl: get('API_URL'),
    rootIf: get('ROOT_IF'),
    collectorIp: get('COLLECTOR_IP'),
    vni: Number(get('VNI')),
    mtu: Number(get('MTU')),
    truncate: Number(get('TRUNCATE')),
    accessLog: get('ACCESS_LOG'),
    env,
    async exec(ns, argv, o = {}) {
      const r = await run('ip', ['netns', 'exec', nsOf[ns], ...argv], {
        timeout: o.timeoutMs ?? 30_000,
        maxBuffer: 64 << 20,
      });
      return r.stdout;
    },
    down: () =>
      new Promise<void>((resolve, reject) => {
        const p = spawn('bash', [labScript, 'down', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('error', reject);
        p.on('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`lab.sh down failed (${code}): ${err.trim()}`)),
        );
      }),
  };
}
