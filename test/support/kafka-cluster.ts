// Test helpers for the three-node KRaft cluster of deploy/kafka/broker.sh (`broker.sh cluster ...`):
// start (or reuse) it, find partition leaders, kill and restart one node. A cluster this helper
// started is stopped by stop(); one that was already running is left running.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { brokerScript, testKafka } from './kafka.js';
import { repoRoot } from './paths.js';

const run = promisify(execFile);

async function cluster(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run('bash', [brokerScript, 'cluster', ...args], {
      cwd: repoRoot,
      timeout: 600_000,
      maxBuffer: 4 << 20,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

function bootstrapOf(out: string): string {
  const m = /BOOTSTRAP=(\S+)\s*$/.exec(out.trim());
  if (!m?.[1]) throw new Error(`broker.sh cluster printed no BOOTSTRAP line:\n${out}`);
  return m[1];
}

export interface TestCluster {
  /** host:port,host:port,host:port */
  readonly bootstrap: string;
  /** Node id → its host:port. */
  readonly nodes: ReadonlyMap<number, string>;
  /** Leader node id of each partition of `topic`. */
  leaders(topic: string): Promise<Map<number, number>>;
  /** SIGKILL one node (a crashed broker). */
  killNode(id: number): Promise<void>;
  startNode(id: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<TestCluster> {
  const status = await cluster('status');
  const startedHere = status.code !== 0;
  const r = await cluster('start');
  if (r.code !== 0) throw new Error(`broker.sh cluster start failed (exit ${r.code}):\n${r.err}\n${r.out}`);
  const bootstrap = bootstrapOf(r.out);
  const nodes = new Map(bootstrap.split(',').map((b, i) => [i + 1, b] as const));
  return {
    bootstrap,
    nodes,
    async leaders(topic) {
      const admin = testKafka(bootstrap).admin();
      await admin.connect();
      try {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        const out = new Map<number, number>();
        for (const p of md.topics[0]?.partitions ?? []) out.set(p.partitionId, p.leader);
        return out;
      } finally {
        await admin.disconnect();
      }
    },
    async killNode(id) {
      const k = await cluster('kill-node', String(id));
      if (k.code !== 0) throw new Error(`kill-node ${id} failed:\n${k.err}`);
    },
    async startNode(id) {
      const s = await cluster('start-node', String(id));
      if (s.code !== 0) throw new Error(`start-node ${id} failed:\n${s.err}\n${s.out}`);
    },
    async stop() {
      if (startedHere) await cluster('stop');
    },
  };
}
