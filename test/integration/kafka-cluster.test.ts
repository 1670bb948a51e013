// The partition leader dies while `apitap collect` publishes (issue 16 part 3), on a real three-node
// KRaft cluster (deploy/kafka/broker.sh cluster: replication factor 3, min.insync.replicas 2). The
// collector's producer is idempotent with acks=all (engine/adapters/bus/kafka/publisher.ts): a send
// whose acknowledgement was lost with the leader is retried with the same sequence numbers, and the
// new leader has every acknowledged record. Proof: every exchange of the capture is in the topic
// exactly once (by id, read back with a plain consumer), and `apitap analyze` over that topic gives
// the inventory one `apitap replay` of the capture gives.
//
// The capture is made by real software (nginx + the JSON API + wrk in the netns lab, five API hosts
// so every partition has a leader that carries traffic); without root and the lab's tools the test
// skips. The cluster is its own file's fixture: three JVMs are started once, and stopped after.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import { decodeExchangeMessage, headerString } from '../../engine/adapters/bus/kafka/codec.js';
import { SCHEMA_HEADER } from '../../engine/adapters/bus/types.js';
import { apitap, cliCommand } from '../support/cli.js';
import { diffInventory } from '../support/inventory-diff.js';
import { groupLag, testKafka, uniqueName } from '../support/kafka.js';
import { startCluster, type TestCluster } from '../support/kafka-cluster.js';
import { labUnavailableReason } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { startApitap, until } from '../support/procs.js';

function missingTool(): string | null {
  for (const t of ['tcpdump', 'wrk', 'curl', 'nginx', 'java']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0)
      return `${t} missing (deploy/dev/install-test-deps.sh)`;
  }
  return null;
}
const skip = labUnavailableReason() ?? missingTool() ?? false;
const HOSTS = ['api.shop.example', 'pay.shop.example', 'auth.shop.example', 'cdn.shop.example', 'admin.shop.example'];
const work = mkdtempSync(join(tmpdir(), 'apitap-kc-'));
const capture = join(work, 'capture.pcap');
let kc: TestCluster | undefined;
let port = 19700 + (process.pid % 200) * 2;

before(async () => {
  if (skip !== false) return;
  kc = await startCluster();
  const made = spawnSync('bash', [join(repoRoot, 'test/bench/make-capture.sh'), '4', capture], {
    env: { ...process.env, API_HOSTS: HOSTS.join(','), MAX_SECONDS: '120', SEED: '17' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(made.status, 0, made.stderr);
});

after(async () => {
  await kc?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function metrics(p: number): Promise<Record<string, number>> {
  try {
    const out: Record<string, number> = {};
    for (const line of (await (await fetch(`http://127.0.0.1:${p}/metrics`)).text()).split('\n')) {
      const [k, v] = line.split(' ');
      if (k !== undefined && v !== undefined && !k.startsWith('#')) out[k.replace(/^apitap_/, '')] = Number(v);
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * Every record of `topic` from the beginning: exchange id → how many records carry it. Records are
 * keyed by (partition, offset), so a redelivery to this reader (its own rebalance) counts once.
 */
async function idsInTopic(bootstrap: string, topic: string): Promise<Map<string, number>> {
  const kafka = testKafka(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const));
  await admin.disconnect();
  const records = new Map<string, string>();
  const next = new Map<number, bigint>();
  const consumer = kafka.consumer({ groupId: uniqueName('kc-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const d = decodeExchangeMessage(message.value, headerString(message.headers, SCHEMA_HEADER));
      records.set(`${partition}:${message.offset}`, d.ok ? d.ex.id : `invalid:${partition}:${message.offset}`);
      const n = BigInt(message.offset) + 1n;
      if ((next.get(partition) ?? 0n) < n) next.set(partition, n);
    },
  });
  try {
    await until(
      () => Promise.resolve([...high].every(([p, h]) => (next.get(p) ?? 0n) >= h)),
      (done) => done,
      120_000,
      `read ${topic} up to its high watermarks`,
    );
  } finally {
    await consumer.disconnect();
  }
  const out = new Map<string, number>();
  for (const id of records.values()) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

test(
  'the partition leader is killed while collect publishes: nothing lost, nothing duplicated, inventory equals replay',
  { skip, timeout: 600_000 },
  async () => {
    const c = kc as TestCluster;
    const ids = join(work, 'truth.jsonl');
    const r = apitap(['replay', capture, '--no-store', '--format', 'json', '--exchanges', ids, '--workers', '0']);
    assert.equal(r.code, 0, r.stderr);
    const truth = JSON.parse(r.stdout) as { endpoints: EndpointRecord[]; findings: Finding[] };
    const truthIds = readFileSync(ids, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    assert.ok(truthIds.length > 500, `capture holds ${truthIds.length} exchanges`);

    const topic = uniqueName('kc');
    const admin = testKafka(c.bootstrap).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
      ],
    });
    await admin.disconnect();

    // The collector reads the capture from a pipe: half of it, then the leader of most partitions is
    // killed, then the rest.
    const cport = port++;
    const [cmd, ...pre] = cliCommand();
    const child = spawn(
      cmd as string,
      [...pre, 'collect', '--pcap', '-', '--kafka', c.bootstrap, '--topic', topic, '--health-port', String(cport)],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    const bytes = readFileSync(capture);
    child.stdin.write(bytes.subarray(0, bytes.length >> 1));
    await until(
      () => metrics(cport),
      (m) => (m['bus_published'] ?? 0) > 0,
      60_000,
      'collector published',
    );
    const leaders = await c.leaders(topic);
    const count = new Map<number, number>();
    for (const l of leaders.values()) count.set(l, (count.get(l) ?? 0) + 1);
    const victim = [...count].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 1;
    await c.killNode(victim);
    child.stdin.end(bytes.subarray(bytes.length >> 1));
    assert.equal(await exited, 0, err);
    const counters = (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { counters: Record<string, number> })
      .counters;
    assert.equal(counters['bus_published'], truthIds.length, JSON.stringify(counters));
    const moved = await c.leaders(topic);
    assert.ok(
      [...moved.values()].every((l) => l !== victim),
      `leaders moved off node ${victim}: ${JSON.stringify([...moved])}`,
    );

    // In the topic: every exchange, each once.
    const inTopic = await idsInTopic(c.bootstrap, topic);
    const missing = truthIds.filter((id) => !inTopic.has(id));
    const twice = [...inTopic].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual({ missing: missing.length, twice: twice.length }, { missing: 0, twice: 0 });
    assert.equal(inTopic.size, truthIds.length);

    // The analyzer group over the surviving two nodes: the inventory of one replay.
    const store = join(work, 'store');
    const aport = port++;
    const a = startApitap([
      'analyze',
      '--kafka',
      c.bootstrap,
      '--topic',
      topic,
      '--group',
      `${topic}-g`,
      '--store',
      store,
      '--http',
      'none',
      '--health-port',
      String(aport),
    ]);
    try {
      await until(
        () => groupLag(c.bootstrap, `${topic}-g`, topic).catch(() => -1),
        (n) => n === 0,
        180_000,
        'analyzer caught up',
        300,
      );
    } finally {
      assert.equal(await a.stop(), 0, a.stderr().slice(-3000));
    }
    await c.startNode(victim);
    const e = apitap(['endpoints', '--format', 'json', '--store', store]);
    const f = apitap(['findings', '--format', 'json', '--store', store]);
    assert.equal(e.code + f.code, 0, e.stderr + f.stderr);
    const d = diffInventory(
      truth,
      { endpoints: JSON.parse(e.stdout) as EndpointRecord[], findings: JSON.parse(f.stdout) as Finding[] },
      { distinctExact: true },
    );
    // One analyzer run without restarts: PII distinct counts are exact too.
    assert.deepEqual(d.lines, [], JSON.stringify(d));
    process.stderr.write(
      `kafka-cluster: ${truthIds.length} exchanges, leader node ${victim} killed (led ${count.get(victim)} of ${leaders.size} partitions), ${inTopic.size} ids in the topic, hits ${d.hits.got}/${d.hits.want}\n`,
    );
  },
);
