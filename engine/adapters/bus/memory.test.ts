import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Exchange } from '../../contracts/exchange.js';
import { Counters } from '../../contracts/counters.js';
import { waitFor } from '../../../test/support/wait.js';
import { createMemoryBus } from './memory.js';
import { BUS_COUNTERS, BusClosedError, BusTimeoutError, backoffMs } from './types.js';

/** Only `id` matters to the memory bus (records are kept by reference). */
const ex = (id: string): Exchange => ({ id }) as unknown as Exchange;

describe('memory bus', () => {
  test('bounded: publish refuses when full and counts the drop', () => {
    const counters = new Counters();
    const { publisher } = createMemoryBus({ maxMessages: 3 }, counters);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((i) => publisher.publish(ex(`e${i}`))),
      [true, true, true, false, false],
    );
    assert.equal(publisher.buffered(), 3);
    assert.equal(counters.get(BUS_COUNTERS.published), 3);
    assert.equal(counters.get(BUS_COUNTERS.droppedBufferFull), 2);
    assert.equal(counters.get(BUS_COUNTERS.bufferedPeak), 3);
  });

  test('delivers in order, in batches of at most maxBatch, and ready() resolves at the low-water mark', async () => {
    const counters = new Counters();
    const { publisher, consumer } = createMemoryBus({ maxMessages: 10, maxBatch: 4 }, counters);
    const got: string[] = [];
    const sizes: number[] = [];
    let release: () => void = () => undefined;
    let gate = new Promise<void>((r) => (release = r));
    await consumer.run(async (batch, info) => {
      assert.equal(info.partition, 0);
      sizes.push(batch.length);
      await gate; // a slow analyzer
      for (const e of batch) got.push(e.id);
    });
    for (let i = 0; i < 10; i++) assert.equal(publisher.publish(ex(`e${i}`)), true);
    assert.equal(publisher.publish(ex('x')), false);

    let ready = false;
    const r = publisher.ready().then(() => (ready = true));
    await waitFor(() => sizes.length === 1, { timeoutMs: 5_000, what: 'the first batch handed to the handler' });
    assert.equal(ready, false, 'full queue: ready() waits');
    const next = (): void => {
      release();
      gate = new Promise<void>((res) => (release = res));
    };
    next(); // first batch (4) handled: 6 left, above low water (5)
    await waitFor(() => sizes.length === 2, { timeoutMs: 5_000, what: 'the second batch handed to the handler' });
    assert.equal(ready, false);
    next(); // second batch handled: 2 left
    await r;
    assert.equal(ready, true);
    next();
    await publisher.flush(1_000);
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `e${i}`),
    );
    assert.deepEqual(sizes, [4, 4, 2]);
    assert.equal(counters.get(BUS_COUNTERS.consumed), 10);
    await consumer.stop();
  });

  test('a rejected batch is retried (same records, not dropped) until the handler succeeds', async () => {
    const counters = new Counters();
    const { publisher, consumer } = createMemoryBus({ maxMessages: 10, retryBaseMs: 1, retryMaxMs: 5 }, counters);
    const calls: string[][] = [];
    let fails = 3;
    await consumer.run(async (batch) => {
      calls.push(batch.map((e) => e.id));
      if (fails-- > 0) throw new Error('store down');
    });
    publisher.publish(ex('a'));
    publisher.publish(ex('b'));
    await publisher.flush(2_000);
    assert.equal(calls.length, 4);
    for (const c of calls) assert.deepEqual(c, ['a', 'b']);
    assert.equal(counters.get(BUS_COUNTERS.handlerErrors), 3);
    assert.equal(counters.get(BUS_COUNTERS.consumed), 2);
    assert.equal(publisher.buffered(), 0);
    await consumer.stop();
  });

  test('flush times out with a retryable error; close refuses new records and counts what it abandons', async () => {
    const counters = new Counters();
    const { publisher } = createMemoryBus({ maxMessages: 5, flushTimeoutMs: 20 }, counters);
    publisher.publish(ex('a'));
    await assert.rejects(publisher.flush(10), (e: unknown) => e instanceof BusTimeoutError && e.retryable);
    const waiting = (async () => {
      for (let i = 0; i < 4; i++) publisher.publish(ex(`f${i}`));
      return publisher.ready();
    })();
    const rejected = assert.rejects(waiting, (e: unknown) => e instanceof BusClosedError);
    await publisher.close(); // no consumer: the flush inside close times out
    await rejected;
    assert.equal(publisher.publish(ex('late')), false);
    assert.equal(counters.get(BUS_COUNTERS.droppedClosed), 1);
    assert.equal(counters.get(BUS_COUNTERS.droppedOnClose), 5);
  });

  test('hooks: onAssign before the first batch, onRevoke on stop', async () => {
    const events: string[] = [];
    const { publisher, consumer } = createMemoryBus({ maxMessages: 4 }, new Counters());
    await consumer.run(
      async (batch) => {
        events.push(`batch:${batch.length}`);
      },
      {
        onAssign: (ps) => void events.push(`assign:${ps.map((p) => p.partition).join()}`),
        onRevoke: () => void events.push('revoke'),
      },
    );
    publisher.publish(ex('a'));
    await publisher.flush(1_000);
    await consumer.stop();
    assert.deepEqual(events, ['assign:0', 'batch:1', 'revoke']);
  });
});

test('backoffMs: full jitter between base/2 and the capped exponential', () => {
  assert.equal(
    backoffMs(0, 100, 5_000, () => 0),
    50,
  );
  assert.equal(
    backoffMs(0, 100, 5_000, () => 1),
    100,
  );
  assert.equal(
    backoffMs(3, 100, 5_000, () => 1),
    800,
  );
  assert.equal(
    backoffMs(40, 100, 5_000, () => 1),
    5_000,
  );
  assert.equal(
    backoffMs(40, 100, 5_000, () => 0),
    50,
  );
});
