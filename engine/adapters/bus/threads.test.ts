import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { Counters } from '../../contracts/counters.js';
import { apiHost, type Exchange } from '../../contracts/exchange.js';
import { consumeThreadShard, createThreadPublisher, shardOf } from './threads.js';

const ex = (host: string, seq: number): Exchange =>
  ({
    id: `${host}-${seq}`,
    seq,
    request: { target: '/x', headers: [['host', host]] },
    server: { ip: '10.0.0.1', port: 80 },
  }) as unknown as Exchange;

test('shardOf is a stable function of the host', () => {
  assert.equal(shardOf('api.example.com', 4), shardOf('api.example.com', 4));
  const counts: number[] = [0, 0, 0, 0];
  for (let i = 0; i < 1000; i++) {
    const k = shardOf(`h${i}.example`, 4);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  for (const c of counts) assert.ok(c > 150, `spread: ${counts.join(',')}`);
});

test('every exchange reaches its host’s shard once, in order, with bounded batches in flight', async () => {
  const shards = 3;
  const channels = Array.from({ length: shards }, () => new MessageChannel());
  const counters = new Counters();
  const pub = createThreadPublisher(
    channels.map((c) => c.port1),
    counters,
    { batchSize: 16, maxInFlight: 2 },
  );
  const got: Exchange[][] = channels.map(() => []);
  const consumers = channels.map((c, i) =>
    consumeThreadShard(c.port2, async (batch) => {
      await new Promise((r) => setImmediate(r)); // a consumer slower than the producer
      got[i]?.push(...batch);
    }),
  );
  const sent: Exchange[] = [];
  for (let i = 0; i < 3000; i++) {
    await pub.ready();
    const e = ex(`h${i % 25}.example`, i);
    sent.push(e);
    assert.equal(pub.publish(e), true);
  }
  await pub.close();
  await Promise.all(consumers);
  assert.ok(counters.get('bus_buffered_peak') <= 2, `in flight per shard: ${counters.get('bus_buffered_peak')}`);
  for (let i = 0; i < shards; i++) {
    const mine = sent.filter((e) => shardOf(apiHost(e), shards) === i).map((e) => e.id);
    assert.deepEqual(
      got[i]?.map((e) => e.id),
      mine,
      `shard ${i}`,
    );
  }
  assert.equal(pub.publish(ex('late.example', 0)), false, 'closed publisher refuses and counts');
  assert.equal(counters.get('bus_dropped_closed'), 1);
});
