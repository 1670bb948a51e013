// Test helpers for the real single-node Kafka of deploy/kafka/broker.sh.
//
// startBroker() reuses a broker that is already running (status) and then leaves it running on
// stop(); a broker it started itself is stopped by stop(). restart() stops and starts the same broker
// (same data, same port) for broker-loss tests. Topics and groups get unique names per call, so runs
// never see each other's data even though the broker's data directory is kept between runs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { repoRoot } from './paths.js';
import { waitFor as waitForCondition } from './wait.js';

const run = promisify(execFile);
export const brokerScript = join(repoRoot, 'deploy', 'kafka', 'broker.sh');

export interface TestBroker {
  bootstrap: string;
  /** Whether this call started the broker (and so stop() stops it). */
  startedHere: boolean;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stop only (for broker-loss tests); start() brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

async function script(cmd: 'start' | 'stop' | 'status'): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run('bash', [brokerScript, cmd], { cwd: repoRoot, timeout: 600_000, maxBuffer: 4 << 20 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

function bootstrapOf(out: string): string {
  const lines = out.trim().split('\n');
  const m = /^BOOTSTRAP=(\S+)$/.exec(lines[lines.length - 1] ?? '');
  if (!m?.[1]) throw new Error(`broker.sh printed no BOOTSTRAP line:\n${out}`);
  return m[1];
}

async function startOrThrow(): Promise<string> {
  const r = await script('start');
  if (r.code !== 0) throw new Error(`broker.sh start failed (exit ${r.code}):\n${r.err}\n${r.out}`);
  return bootstrapOf(r.out);
}

/** Starts (or reuses) the dev broker. Honours APITAP_TEST_KAFKA_BOOTSTRAP to use an external one. */
export async function startBroker(): Promise<TestBroker> {
  const external = process.env['APITAP_TEST_KAFKA_BOOTSTRAP'];
  const status = external ? null : await script('status');
  const startedHere = !external && status?.code !== 0;
  const bootstrap = external ?? (status?.code === 0 ? bootstrapOf(status.out) : await startOrThrow());
  const stopScript = async (): Promise<void> => {
    const r = await script('stop');
    if (r.code !== 0) throw new Error(`broker.sh stop failed:\n${r.err}`);
  };
  const startAgain = async (): Promise<void> => {
    const b = await startOrThrow();
    if (b !== bootstrap) throw new Error(`broker came back on ${b}, expected ${bootstrap}`);
  };
  return {
    bootstrap,
    startedHere,
    async stop() {
      if (startedHere) await stopScript();
    },
    async restart() {
      await stopScript();
      await startAgain();
    },
    kill: stopScript,
    start: startAgain,
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A kafkajs client; `bootstrap` is host:port or a comma-separated list (the three-node cluster). */
export function testKafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'apitap-test', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
}

/** Creates topics (waits for leaders). */
export async function createTopics(bootstrap: string, topics: { topic: string; partitions: number }[]): Promise<void> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(bootstrap: string, topics: string[]): Promise<void> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    // Only existing ones: kafkajs retries an unknown topic for seconds before failing.
    const existing = new Set(await admin.listTopics());
    const doomed = topics.filter((t) => existing.has(t));
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  } catch {
    // best effort cleanup
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of a group per partition ("-1" = none). */
export async function committedOffsets(
  bootstrap: string,
  groupId: string,
  topic: string,
): Promise<Map<number, string>> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    const r = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out = new Map<number, string>();
    for (const p of r[0]?.partitions ?? []) out.set(p.partition, p.offset);
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** A valid exchange/v1 record for API host `host` (Host header), unique by `id`. */
export function makeExchange(id: string, host: string, seq = 0): Exchange {
  const t = 1_700_000_000_000_000 + seq * 1000;
  const body = {
    size: 0,
    decodedSize: null,
    contentType: null,
    contentEncoding: [],
    encoding: 'utf8' as const,
    data: '',
    truncated: false,
    complete: true,
  };
  return {
    schema: 'exchange/v1',
    id,
    flowId: `flow-${host}`,
    seq,
    vni: null,
    tunnel: null,
    protocol: 'http',
    streamId: null,
    websocket: null,
    client: { ip: '10.0.0.1', port: 40000 + (seq % 20000) },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method: 'GET',
      target: `/items/${seq}`,
      version: 'HTTP/1.1',
      headers: [['Host', host]],
      trailers: [],
      body,
      startUs: t,
      endUs: t + 10,
    },
    response: {
      status: 200,
      reason: 'OK',
      version: 'HTTP/1.1',
      headers: [['Content-Type', 'application/json']],
      trailers: [],
      body: { ...body, size: 2, contentType: 'application/json', data: '{}' },
      interim: [],
      startUs: t + 100,
      endUs: t + 120,
    },
    latencyUs: 90,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
    complete: true,
  };
}

/** Polls `cond` every `everyMs` until true or `timeoutMs` passed (then throws with `what`): waitFor
 * of ./wait.ts with positional arguments. */
export function waitFor(cond: () => boolean, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  return waitForCondition(cond, { timeoutMs, what, everyMs });
}

/** Sum over the partitions of `topic` of the records not yet committed by `groupId` (its lag). */
export async function groupLag(bootstrap: string, groupId: string, topic: string): Promise<number> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    const high = await admin.fetchTopicOffsets(topic);
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [];
    let lag = 0;
    for (const p of high) {
      const c = Number(committed.find((q) => q.partition === p.partition)?.offset ?? '-1');
      lag += Number(p.high) - Math.max(0, c);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
