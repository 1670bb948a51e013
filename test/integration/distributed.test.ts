// Issue 4 faults, on real parts: `apitap collect --pcap` publishes real corpus captures to a real Kafka
// broker (KRaft, deploy/kafka/broker.sh); `apitap analyze` group members write through
// @clickhouse/client to the ClickHouse engine (chDB behind ClickHouse's HTTP interface). During the run
// the ClickHouse front answers 503, the broker is stopped and started again, and an analyzer is
// killed with SIGKILL and replaced. At the end the exchanges are counted by id against the ground
// truth (`apitap replay --exchanges` of the same captures): none lost, none duplicated. Two analyzers
// of one group give the behaviour findings and actors of a replay (their periodic behaviour job reads
// every member's exchange rows back from the store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openClickHouseStore } from '../../engine/adapters/store/clickhouse.js';
import { apitap } from '../support/cli.js';
import { useCluster } from '../support/cluster.js';
import { createTopics, uniqueName } from '../support/kafka.js';
import { actorsCaptureUnavailable, recordActorsCapture } from '../support/actors-capture.js';
import type { ActorRecord, Finding } from '../../engine/contracts/inventory.js';
import { corpus, corpusAvailable, corpusSkip } from '../support/paths.js';
import { startApitap, until, type Proc } from '../support/procs.js';

const cluster = useCluster('apitap-dist-', corpusAvailable());
const work = cluster.work;

const firstCaptures = [corpus('pcaps/pcapplusplus/Pcap++Test/PcapExamples/example.pcap')];
const secondCaptures = [
  corpus('pcaps/zeek/http/bro.org.pcap'),
  corpus('pcaps/ndpi/http_ua_splitted_in_two_pkts.pcapng'),
  corpus('pcaps/zeek/workshop_2011_browse.pcap'),
];

function truthIds(files: string[], name: string): string[] {
  const out = join(work, `${name}.jsonl`);
  const r = apitap(['replay', ...files, '--no-analyze', '--exchanges', out, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
}

function metrics(port: number): Promise<Record<string, number>> {
  return fetch(`http://127.0.0.1:${port}/metrics`).then(async (r) => {
    const out: Record<string, number> = {};
    for (const line of (await r.text()).split('\n')) {
      const [k, v] = line.split(' ');
      if (k !== undefined && v !== undefined) out[k.replace(/^apitap_/, '')] = Number(v);
    }
    return out;
  });
}

test(
  'collect → Kafka → analyzer group → ClickHouse survives a store outage, a broker restart and a killed analyzer',
  { skip: corpusSkip, timeout: 420_000 },
  async () => {
    const topic = uniqueName('dist');
    const group = `${topic}-g`;
    const db = `dist_${process.pid}`;
    const url = `${cluster.front.url}/${db}`;
    const truth = [...truthIds(firstCaptures, 'first'), ...truthIds(secondCaptures, 'second')];
    assert.ok(truth.length > 350, `ground truth has ${truth.length} exchanges`);
    assert.equal(new Set(truth).size, truth.length, 'ground-truth ids are unique');

    const store = await openClickHouseStore({ url });
    await store.migrate();
    const count = async (sql: string): Promise<number> => Number((await store.query(sql))[0]?.['c'] ?? 0);
    const analyzerArgs = (port: number): string[] => [
      'analyze',
      '--kafka',
      cluster.broker.bootstrap,
      '--topic',
      topic,
      '--group',
      group,
      '--clickhouse',
      url,
      '--store',
      join(work, 'secret'),
      '--health-port',
      String(port),
    ];
    const portA = 19100 + (process.pid % 500);
    const portB = portA + 1;
    const portC = portA + 2;
    let a: Proc | null = null;
    let b: Proc | null = null;
    try {
      // 1. The store is down (503) while the first capture is published: the analyzer must retry, not drop.
      a = startApitap(analyzerArgs(portA));
      await until(
        () => metrics(portA),
        (m) => (m['bus_rebalances'] ?? 0) >= 1,
        60_000,
        'analyzer A joined the group',
      );
      await cluster.front.pause();
      const pub1 = apitap([
        'collect',
        '--pcap',
        ...firstCaptures,
        '--kafka',
        cluster.broker.bootstrap,
        '--topic',
        topic,
      ]);
      assert.equal(pub1.code, 0, pub1.stderr);
      const c1 = (JSON.parse(pub1.stdout.trim().split('\n').pop() ?? '{}') as { counters: Record<string, number> })
        .counters;
      assert.equal(c1['bus_published'], truthIds(firstCaptures, 'first-check').length);
      await until(
        () => metrics(portA),
        (m) => (m['bus_handler_errors'] ?? 0) >= 2,
        60_000,
        'analyzer A retrying against the paused store',
      );
      assert.equal(a.child.exitCode, null, 'analyzer A survived the store outage');
      await cluster.front.resume();
      const afterFirst = await until(
        () => count('SELECT count() AS c FROM exchanges FINAL'),
        (n) => n >= (c1['bus_published'] ?? 0),
        120_000,
        'first capture stored after the store came back',
      );
      assert.equal(afterFirst, c1['bus_published']);

      // 2. Kill analyzer A (a crash), start B in the same group; publish the second capture while the broker restarts.
      await a.kill();
      b = startApitap(analyzerArgs(portB));
      await until(
        () => metrics(portB),
        (m) => (m['analyzer_state_rebuilds'] ?? 0) >= 1,
        60_000,
        'analyzer B started',
      );
      await cluster.broker.kill();
      const pub2 = startApitap([
        'collect',
        '--pcap',
        ...secondCaptures,
        '--kafka',
        cluster.broker.bootstrap,
        '--topic',
        topic,
        '--health-port',
        String(portC),
      ]);
      await until(
        () => metrics(portC),
        (m) => (m['bus_publish_errors'] ?? 0) >= 1 && (m['bus_buffered_peak'] ?? 0) >= 1,
        60_000,
        'the collector buffering and retrying while the broker is down',
      );
      assert.equal(pub2.child.exitCode, null, 'collector waits for the broker instead of exiting');
      await cluster.broker.start();
      assert.equal(await pub2.exited, 0, pub2.stderr().slice(-2000));
      const c2 = (JSON.parse(pub2.stdout().trim().split('\n').pop() ?? '{}') as { counters: Record<string, number> })
        .counters;
      assert.equal(
        c2['bus_dropped_on_close'] ?? 0,
        0,
        `collector lost nothing across the broker restart: ${JSON.stringify(c2)}`,
      );
      assert.equal(c2['bus_published'], truth.length - (c1['bus_published'] ?? 0));

      // 3. Everything arrives exactly once, by id.
      await until(
        () => count('SELECT count() AS c FROM exchanges FINAL'),
        (n) => n >= truth.length,
        240_000,
        `all ${truth.length} exchanges stored (B: ${b.stderr().slice(-500)})`,
      );
      const rows = await store.query('SELECT id FROM exchanges FINAL');
      const ids = rows.map((r) => String(r['id']));
      assert.equal(new Set(ids).size, ids.length, 'no exchange stored twice');
      const want = new Set(truth);
      const missing = truth.filter((id) => !ids.includes(id));
      const extra = ids.filter((id) => !want.has(id));
      assert.deepEqual({ missing: missing.length, extra: extra.length }, { missing: 0, extra: 0 });
      const eps = await store.endpoints();
      assert.ok(eps.length > 50, `inventory built: ${eps.length} endpoints`);
      const m = await metrics(portB);
      assert.equal(m['bus_dlq'] ?? 0, 0);
    } finally {
      await a?.kill().catch(() => undefined);
      await b?.stop().catch(() => null);
      await cluster.front.resume().catch(() => undefined);
      await store.close();
    }
  },
);

test(
  'messages that break the exchange/v1 contract go to the dead-letter topic and never stop the worker',
  { skip: corpusSkip, timeout: 120_000 },
  async () => {
    const topic = uniqueName('dlq');
    const port = 19700 + (process.pid % 200);
    const url = `${cluster.front.url}/dlq_${process.pid}`;
    const a = startApitap([
      'analyze',
      '--kafka',
      cluster.broker.bootstrap,
      '--topic',
      topic,
      '--group',
      `${topic}-g`,
      '--clickhouse',
      url,
      '--store',
      join(work, 'secret'),
      '--health-port',
      String(port),
    ]);
    try {
      await until(
        () => metrics(port),
        () => true,
        30_000,
        'analyzer metrics',
      );
      const { testKafka } = await import('../support/kafka.js');
      const producer = testKafka(cluster.broker.bootstrap).producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [
          { key: 'x', value: 'not json' },
          { key: 'y', value: JSON.stringify({ schema: 'exchange/v1', id: 1 }) },
        ],
      });
      await producer.disconnect();
      const pub = apitap([
        'collect',
        '--pcap',
        corpus('pcaps/zeek/http/get.pcap'),
        '--kafka',
        cluster.broker.bootstrap,
        '--topic',
        topic,
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      const m = await until(
        () => metrics(port),
        (x) => (x['bus_dlq'] ?? 0) >= 2 && (x['analyzer_exchanges'] ?? 0) >= 1,
        60_000,
        'dead letters and the valid exchange',
      );
      assert.equal(m['bus_dlq_invalid_json'], 1);
      assert.equal(m['bus_dlq_invalid_exchange'], 1);
      assert.equal(a.child.exitCode, null);
    } finally {
      await a.stop();
    }
  },
);

test(
  'two analyzers in one group give the behaviour findings and actors of `apitap replay` (the behaviour job over the store)',
  { skip: corpusSkip ?? actorsCaptureUnavailable() ?? false, timeout: 300_000 },
  async () => {
    const env = { APITAP_SECRET: 'group-behaviour' };
    const pcap = await recordActorsCapture(work);
    const r = apitap(['replay', pcap, '--no-store', '--format', 'json', '--workers', '0'], env);
    assert.equal(r.code, 0, r.stderr);
    const want = JSON.parse(r.stdout) as { capture: { exchanges: number }; findings: Finding[]; actors: ActorRecord[] };
    const expected = want.findings.filter((f) => f.actor !== undefined);
    assert.ok(
      expected.length >= 3,
      'the capture has its planted abusers (test/integration/actors.test.ts checks each)',
    );

    // Two partitions: the publisher's murmur2 partitioner (keyed by API host) puts shop.test on 1 and
    // accounts.test on 0, so each member owns one host and the job needs both members' rows.
    const topic = uniqueName('actors');
    await createTopics(cluster.broker.bootstrap, [{ topic, partitions: 2 }]);
    const url = `${cluster.front.url}/actors_${process.pid}`;
    const config = join(work, 'actors-config.json');
    writeFileSync(config, JSON.stringify({ analysis: { actors: { intervalSeconds: 1 } } }));
    const port = 19900 + (process.pid % 50) * 2;
    const member = (p: number): Proc =>
      startApitap(
        [
          'analyze',
          '--kafka',
          cluster.broker.bootstrap,
          '--topic',
          topic,
          '--group',
          `${topic}-g`,
          '--clickhouse',
          url,
          '--store',
          join(work, 'secret-actors'),
          '--config',
          config,
          '--health-port',
          String(p),
        ],
        env,
      );
    const store = await openClickHouseStore({ url });
    await store.migrate();
    const a = member(port);
    const b = member(port + 1);
    try {
      // Both members hold one partition each (the last assignment each logged) before anything is published.
      const lastAssigned = (p: Proc): number => {
        const lines = (p.stdout() + p.stderr()).split('\n').filter((l) => l.includes('partitions assigned'));
        const last = lines[lines.length - 1];
        return last === undefined ? -1 : ((JSON.parse(last) as { assigned?: string[] }).assigned ?? []).length;
      };
      await until(
        async () => [lastAssigned(a), lastAssigned(b)],
        (n) => n[0] === 1 && n[1] === 1,
        90_000,
        'each member holds one partition',
      );
      const pub = apitap(['collect', '--pcap', pcap, '--kafka', cluster.broker.bootstrap, '--topic', topic], env);
      assert.equal(pub.code, 0, pub.stderr);
      const total = want.capture.exchanges;
      await until(
        () => store.query('SELECT count() AS c FROM exchanges FINAL').then((x) => Number(x[0]?.['c'] ?? 0)),
        (n) => n >= total,
        120_000,
        `all ${total} exchanges stored`,
      );
      // Both members analysed part of the traffic (one host each): the job needs both members' rows.
      const both = await until(
        () => Promise.all([metrics(port), metrics(port + 1)]),
        (m) => m.reduce((n, x) => n + (x['analyzer_exchanges'] ?? 0), 0) >= total,
        60_000,
        'every exchange counted by a member',
      );
      assert.ok(
        both.every((m) => (m['analyzer_exchanges'] ?? 0) > 0),
        `each member analysed one host: ${both.map((m) => m['analyzer_exchanges']).join(', ')}`,
      );
      const key = (f: Finding): string => JSON.stringify(f);
      const got = await until(
        async () => (await store.findings()).filter((f) => f.actor !== undefined),
        (fs) => expected.every((e) => fs.some((f) => key(f) === key(e))),
        120_000,
        'the behaviour job wrote the replay’s behaviour findings',
      );
      // Each planted abuser once; a finding from an earlier, partial run (another template) may remain.
      assert.deepEqual(
        [...new Set(got.map((f) => `${f.kind} ${f.actor?.id}`))].sort(),
        expected.map((f) => `${f.kind} ${f.actor?.id}`).sort(),
      );
      const actors = await store.actors();
      assert.deepEqual(
        actors.map((x) => [x.id, x.requests, x.endpoints]),
        want.actors.map((x) => [x.id, x.requests, x.endpoints]),
      );
    } finally {
      await a.stop().catch(() => null);
      await b.stop().catch(() => null);
      await store.close();
    }
  },
);
