// The Kafka bus against a real single-node Kafka (deploy/kafka/broker.sh, started here if it is not
// running, stopped at the end if started here). Every test uses its own topic and group.
// Set APITAP_TEST_LOG=warn to see the bus's logs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  createKafkaConsumer,
  createKafkaPublisher,
  type KafkaPublisher,
} from '../../engine/adapters/bus/kafka/index.js';
import {
  BUS_COUNTERS,
  type BatchInfo,
  type ExchangeConsumer,
  type PartitionRef,
} from '../../engine/adapters/bus/types.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import {
  committedOffsets,
  createTopics,
  deleteTopics,
  makeExchange,
  startBroker,
  testKafka,
  uniqueName,
  waitFor,
  type TestBroker,
} from '../support/kafka.js';

const logger = pino({ level: process.env['APITAP_TEST_LOG'] ?? 'silent' }, pino.destination(2));
let broker: TestBroker;
const topics: string[] = [];
const closers: (() => Promise<void>)[] = [];

async function newTopic(partitions = 3): Promise<string> {
  const topic = uniqueName('apitap-test');
  await createTopics(broker.bootstrap, [{ topic, partitions }]);
  topics.push(topic, `${topic}.dlq`);
  return topic;
}

function publisher(
  topic: string,
  counters: Counters,
  extra: Partial<Parameters<typeof createKafkaPublisher>[0]> = {},
): KafkaPublisher {
  const p = createKafkaPublisher({ brokers: [broker.bootstrap], topic, lingerMs: 5, ...extra }, { counters, logger });
  closers.push(() => p.close());
  return p;
}

function consumer(topic: string, groupId: string, counters: Counters): ExchangeConsumer {
  const c = createKafkaConsumer(
    {
      brokers: [broker.bootstrap],
      topic,
      groupId,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
      heartbeatIntervalMs: 1_000,
      sessionTimeoutMs: 10_000,
    },
    { counters, logger },
  );
  closers.push(() => c.stop());
  return c;
}

before(async () => {
  const t0 = Date.now();
  broker = await startBroker();
  console.log(`# broker ${broker.bootstrap} ready in ${Date.now() - t0} ms (started here: ${broker.startedHere})`);
});

after(async () => {
  const t0 = Date.now();
  for (const c of closers.reverse()) await c().catch(() => undefined);
  const t1 = Date.now();
  if (topics.length > 0) await deleteTopics(broker.bootstrap, topics);
  const t2 = Date.now();
  await broker.stop();
  console.log(`# cleanup: clients ${t1 - t0} ms, topics ${t2 - t1} ms, broker stop ${Date.now() - t2} ms`);
});

describe('kafka bus (real broker)', () => {
  test('publishes N exchanges and consumes exactly those ids; one host → one partition; commits after handling', async () => {
    const topic = await newTopic(3);
    const groupId = uniqueName('g');
    const pc = new Counters();
    const cc = new Counters();
    const N = 3000;
    const hosts = Array.from({ length: 12 }, (_, i) => `api${i}.example.com`);
    const pub = publisher(topic, pc);
    const sent = new Set<string>();
    for (let i = 0; i < N; i++) {
      const ex = makeExchange(`ex-${i}`, hosts[i % hosts.length] as string, i);
      assert.equal(pub.publish(ex), true);
      sent.add(ex.id);
    }
    await pub.flush(30_000);
    assert.equal(pc.get(BUS_COUNTERS.published), N);
    assert.equal(pc.get(BUS_COUNTERS.publishErrors), 0);

    const seen = new Map<string, number>();
    const hostPartitions = new Map<string, Set<number>>();
    const assignedSeen: PartitionRef[] = [];
    const c = consumer(topic, groupId, cc);
    await c.run(
      async (batch: Exchange[], info: BatchInfo) => {
        for (const ex of batch) {
          seen.set(ex.id, (seen.get(ex.id) ?? 0) + 1);
          const host = ex.request?.headers[0]?.[1] ?? '';
          const s = hostPartitions.get(host) ?? new Set<number>();
          s.add(info.partition);
          hostPartitions.set(host, s);
        }
      },
      { onAssign: (ps) => void assignedSeen.push(...ps) },
    );
    await waitFor(() => seen.size >= N, 60_000, `${N} exchanges consumed`);
    assert.deepEqual(new Set(seen.keys()), sent);
    assert.equal([...seen.values()].filter((n) => n > 1).length, 0, 'no duplicates without failures');
    for (const [host, parts] of hostPartitions) assert.equal(parts.size, 1, `${host} on one partition`);
    const used = new Set([...hostPartitions.values()].flatMap((s) => [...s]));
    assert.ok(used.size > 1, 'several hosts spread over several partitions');
    assert.equal(assignedSeen.length, 3, 'onAssign saw the 3 partitions');

    // Commits land right after each handled batch: committed offsets reach the end of every partition.
    const admin = testKafka(broker.bootstrap).admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    await waitFor(() => cc.get(BUS_COUNTERS.consumed) >= N, 10_000, 'consumed counter');
    const committed = await committedOffsets(broker.bootstrap, groupId, topic);
    for (const e of ends)
      assert.equal(committed.get(e.partition), e.high, `partition ${e.partition} committed to its end`);
    await c.stop();
  });

  test('malformed messages go to <topic>.dlq with the reason in headers; the worker goes on', async () => {
    const topic = await newTopic(1);
    const groupId = uniqueName('g');
    const cc = new Counters();
    const raw = testKafka(broker.bootstrap).producer();
    await raw.connect();
    const good = makeExchange('good-1', 'a.example.com');
    const notExchange = { ...makeExchange('bad-shape', 'a.example.com'), seq: -1 };
    await raw.send({
      topic,
      messages: [
        { key: 'a.example.com', value: 'not json {', headers: { schema: 'exchange/v1' } },
        { key: 'a.example.com', value: JSON.stringify(notExchange), headers: { schema: 'exchange/v1' } },
        { key: 'a.example.com', value: JSON.stringify(good), headers: { schema: 'exchange/v9' } },
        { key: 'a.example.com', value: JSON.stringify(good), headers: { schema: 'exchange/v1' } },
      ],
    });
    await raw.disconnect();

    const got: string[] = [];
    const c = consumer(topic, groupId, cc);
    await c.run(async (batch) => {
      for (const ex of batch) got.push(ex.id);
    });
    await waitFor(() => got.length >= 1 && cc.get(BUS_COUNTERS.dlq) >= 3, 30_000, 'good message + 3 dead letters');
    assert.deepEqual(got, ['good-1']);
    assert.equal(cc.get(BUS_COUNTERS.dlqInvalidJson), 1);
    assert.equal(cc.get(BUS_COUNTERS.dlqInvalidExchange), 1);
    assert.equal(cc.get(BUS_COUNTERS.dlqSchemaMismatch), 1);

    // Read the dead letters back.
    const dl = testKafka(broker.bootstrap).consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 200 });
    const letters: { error: string; detail: string; offset: string; srcTopic: string }[] = [];
    await dl.connect();
    await dl.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    await dl.run({
      eachMessage: async ({ message }) => {
        const h = (k: string): string => String(message.headers?.[k] ?? '');
        letters.push({
          error: h('error'),
          detail: h('error.detail'),
          offset: h('source.offset'),
          srcTopic: h('source.topic'),
        });
      },
    });
    await waitFor(() => letters.length >= 3, 30_000, '3 dead letters read back');
    await dl.disconnect();
    assert.deepEqual(
      letters.map((l) => [l.error, l.offset, l.srcTopic]),
      [
        ['invalid_json', '0', topic],
        ['invalid_exchange', '1', topic],
        ['schema_mismatch', '2', topic],
      ],
    );
    assert.match(letters[1]?.detail ?? '', /^seq:too_small/);
    await c.stop();
  });

  test('at-least-once: a failing handler pauses, retries the same batch, commits only after success', async () => {
    const topic = await newTopic(1);
    const groupId = uniqueName('g');
    const pc = new Counters();
    const cc = new Counters();
    const N = 200;
    const pub = publisher(topic, pc);
    for (let i = 0; i < N; i++) pub.publish(makeExchange(`r-${i}`, 'retry.example.com', i));
    await pub.flush(30_000);

    let calls = 0;
    const committedDuringFailures: string[] = [];
    const delivered = new Map<string, number>();
    const c = consumer(topic, groupId, cc);
    await c.run(async (batch) => {
      calls++;
      if (calls <= 2) {
        // The store is "down": nothing may have been committed yet.
        const off = await committedOffsets(broker.bootstrap, groupId, topic);
        committedDuringFailures.push(off.get(0) ?? 'none');
        throw new Error('store down');
      }
      for (const ex of batch) delivered.set(ex.id, (delivered.get(ex.id) ?? 0) + 1);
    });
    await waitFor(() => delivered.size >= N, 30_000, 'all delivered after the failures');
    assert.deepEqual(committedDuringFailures, ['-1', '-1']);
    assert.equal(cc.get(BUS_COUNTERS.handlerErrors), 2);
    assert.equal(
      [...delivered.values()].every((n) => n === 1),
      true,
      'each id handled successfully once',
    );
    await waitFor(() => cc.get(BUS_COUNTERS.consumed) >= N, 10_000, 'consumed counter');
    const off = await committedOffsets(broker.bootstrap, groupId, topic);
    assert.equal(off.get(0), String(N));
    await c.stop();
  });

  test('rebalance hooks: a second instance takes half the partitions (onRevoke/onAssign) and gives them back on stop', async () => {
    const topic = await newTopic(4);
    const groupId = uniqueName('g');
    const a: string[] = [];
    const b: string[] = [];
    const fmt = (tag: string, ps: PartitionRef[]): string =>
      `${tag}:${ps
        .map((p) => p.partition)
        .sort()
        .join(',')}`;
    const ca = consumer(topic, groupId, new Counters());
    await ca.run(async () => undefined, {
      onAssign: (ps) => void a.push(fmt('assign', ps)),
      onRevoke: (ps) => void a.push(fmt('revoke', ps)),
    });
    await waitFor(() => a.length >= 1, 20_000, 'first instance assigned');
    assert.deepEqual(a, ['assign:0,1,2,3']);
    const cb = consumer(topic, groupId, new Counters());
    await cb.run(async () => undefined, {
      onAssign: (ps) => void b.push(fmt('assign', ps)),
      onRevoke: (ps) => void b.push(fmt('revoke', ps)),
    });
    await waitFor(() => a.length >= 2 && b.length >= 1, 30_000, 'rebalance seen by both');
    const bParts = (b[0] ?? '').slice('assign:'.length);
    assert.equal(bParts.split(',').length, 2);
    assert.equal(a[1], `revoke:${bParts}`);
    await cb.stop();
    assert.deepEqual(b, [`assign:${bParts}`, `revoke:${bParts}`]);
    await waitFor(() => a.length >= 3, 30_000, 'partitions back to the first instance');
    assert.equal(a[2], `assign:${bParts}`);
    await ca.stop();
    assert.equal(a[3], 'revoke:0,1,2,3');
  });

  test('an exchange larger than maxMessageBytes is refused and counted', async () => {
    const pc = new Counters();
    const pub = publisher(uniqueName('never-created'), pc, { maxMessageBytes: 200 });
    assert.equal(pub.publish(makeExchange('big', 'big.example.com')), false);
    assert.equal(pc.get(BUS_COUNTERS.droppedTooLarge), 1);
    assert.equal(pub.buffered(), 0);
    await pub.close();
    assert.equal(pub.publish(makeExchange('late', 'big.example.com')), false);
    assert.equal(pc.get(BUS_COUNTERS.droppedClosed), 1);
  });

  test('broker stopped mid-run: publisher buffers (bounded, drops counted), reconnects, nothing accepted is lost', async () => {
    const topic = await newTopic(3);
    const groupId = uniqueName('g');
    const pc = new Counters();
    const cc = new Counters();
    const BUF = 400;
    const pub = publisher(topic, pc, { bufferMaxMessages: BUF, retryMaxMs: 1_000, requestTimeoutMs: 5_000 });
    const seen = new Map<string, number>();
    const c = consumer(topic, groupId, cc);
    await c.run(async (batch) => {
      for (const ex of batch) seen.set(ex.id, (seen.get(ex.id) ?? 0) + 1);
    });

    const accepted = new Set<string>();
    let i = 0;
    const publishN = (n: number): void => {
      for (let k = 0; k < n; k++, i++) {
        const ex = makeExchange(`d-${i}`, `h${i % 7}.example.com`, i);
        if (pub.publish(ex)) accepted.add(ex.id);
      }
    };
    publishN(300);
    await pub.flush(30_000);
    await waitFor(() => seen.size >= 300, 30_000, 'first 300 consumed');

    const tStop = Date.now();
    await broker.kill();
    const stopMs = Date.now() - tStop;
    publishN(300); // buffered: the broker is gone
    await waitFor(() => pc.get(BUS_COUNTERS.publishErrors) >= 2, 30_000, 'sends failing while the broker is down');
    publishN(200); // 100 fit, 100 are dropped: the buffer holds at most BUF
    assert.ok(pc.get(BUS_COUNTERS.publishErrors) >= 1, 'sends failed while the broker was down');
    assert.equal(pub.buffered(), BUF);
    assert.equal(pc.get(BUS_COUNTERS.bufferedPeak), BUF);
    assert.equal(pc.get(BUS_COUNTERS.droppedBufferFull), 100);
    assert.equal(accepted.size, 700);

    const tStart = Date.now();
    await broker.start();
    const startMs = Date.now() - tStart;
    const tBack = Date.now();
    await pub.flush(60_000);
    const flushMs = Date.now() - tBack;
    await waitFor(
      () => [...accepted].every((id) => seen.has(id)),
      90_000,
      'every accepted exchange consumed after the restart',
    );
    const backMs = Date.now() - tBack;
    const dups = [...seen.values()].filter((n) => n > 1).length;
    const admin = testKafka(broker.bootstrap).admin();
    await admin.connect();
    const inTopic = (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + Number(p.high), 0);
    await admin.disconnect();
    const extra = [...seen.keys()].filter((id) => !accepted.has(id)).length;
    console.log(
      `# broker loss: stop ${stopMs} ms, start ${startMs} ms, publisher drained ${flushMs} ms, all consumed ${backMs} ms after start; ` +
        `publish errors ${pc.get(BUS_COUNTERS.publishErrors)}, reconnects ${pc.get(BUS_COUNTERS.reconnects)}, ` +
        `dropped ${pc.get(BUS_COUNTERS.droppedBufferFull)}, consumer crashes ${cc.get(BUS_COUNTERS.consumerCrashes)}, ` +
        `commit errors ${cc.get(BUS_COUNTERS.commitErrors)}, records in topic ${inTopic} (accepted ${accepted.size}), duplicates delivered ${dups}`,
    );
    assert.equal(extra, 0, 'nothing arrives that was refused');
    assert.equal(pc.get(BUS_COUNTERS.published), 700);
    await c.stop();
  });
});
