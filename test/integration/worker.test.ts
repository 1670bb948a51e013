// The analyzer worker (what `apitap analyze` runs) over the in-process bus and the embedded ClickHouse
// engine: findings follow the traffic (a finding that stops applying is resolved, not left standing),
// a redelivered batch counts nothing twice, and a new worker on the same store continues from the
// stored state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex } from '../../analyzers/testing.js';
import { parseSpec } from '../../analyzers/spec/index.js';
import { createMemoryBus } from '../../engine/adapters/bus/memory.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { createAnalyzerWorker } from '../../engine/app/pipelines/worker.js';
import { openChdbStore } from '../../engine/adapters/store/chdb.js';
import type { Store } from '../../engine/adapters/store/types.js';
import { Counters } from '../../engine/contracts/counters.js';

const SPEC = `
openapi: 3.0.3
info: { title: shop, version: '1' }
servers: [{ url: 'http://api.shop.test' }]
paths:
  /orders:
    get: { responses: { '200': { description: ok } } }
  /orders/{orderId}:
    get:
      parameters: [{ name: orderId, in: path, required: true, schema: { type: integer } }]
      responses: { '200': { description: ok } }
`;

test(
  'worker: findings follow traffic; redelivery, duplicate publishes and a crash before the inventory write count each exchange once',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-worker-'));
    const store = await openChdbStore(join(dir, 'store'));
    try {
      const spec = parseSpec(SPEC, 'shop.yaml');
      const host = 'api.shop.test';
      const mk = (target: string, i: number): Exchange =>
        ex('GET', target, { host, id: `w-${target}-${i}`, us: 1_700_000_000_000_000 + i * 1_000_000 });

      /** One worker lifetime on a memory-bus "topic" (offsets restart at 0 per topic, like a Kafka topic). */
      const run = async (topic: string, batch: Exchange[], target: Store = store): Promise<Counters> => {
        const counters = new Counters();
        const bus = createMemoryBus(
          { maxBatch: 1000, topic, retryBaseMs: 10, retryMaxMs: 20, flushTimeoutMs: 2_000 },
          counters,
        );
        const worker = createAnalyzerWorker({
          analysis: { specs: [spec], previousSpecs: [], overrides: null, secret: Buffer.from('k') },
          store: target,
          consumer: bus.consumer,
          counters,
        });
        await worker.start();
        for (const e of batch) assert.ok(bus.publisher.publish(e));
        await bus.publisher.flush(target === store ? 20_000 : 2_000).catch(() => undefined); // a failing store never drains: the caller checks
        await worker.stop();
        await bus.publisher.close();
        return counters;
      };
      const orphans = async (): Promise<string[]> =>
        (await store.findings())
          .filter((f) => f.kind === 'orphan_api')
          .map((f) => f.path)
          .sort();
      const hits = async (): Promise<string[]> =>
        (await store.endpoints()).map((e) => `${e.method} ${e.path} ${e.hits}`).sort();
      const rows = async (): Promise<number> =>
        Number((await store.query('SELECT count() AS c FROM exchanges FINAL'))[0]?.['c'] ?? 0);

      // 1. Only GET /orders is called: GET /orders/{orderId} is an orphan.
      await run('t1', [mk('/orders', 1), mk('/orders', 2)]);
      assert.deepEqual(await orphans(), ['/orders/{orderId}']);

      // 2. A restarted worker sees the detail route called: the orphan is resolved, not left standing.
      const c2 = await run('t2', [mk('/orders/17', 3), mk('/orders/18', 4)]);
      assert.deepEqual(await orphans(), []);
      assert.equal(c2.get('analyzer_findings_resolved'), 1);
      assert.deepEqual(await hits(), ['GET /orders 2', 'GET /orders/{orderId} 2']);

      // 3. Batch 1 delivered again at the same offsets (an uncommitted batch after a crash), and the
      //    same exchanges published again at new offsets (a capture collected twice): nothing counts twice.
      const c3 = await run('t1', [mk('/orders', 1), mk('/orders', 2)]);
      const c4 = await run('t4', [mk('/orders', 1), mk('/orders', 2)]);
      assert.equal(c3.get('analyzer_skipped_counted'), 2);
      assert.equal(c4.get('analyzer_skipped_counted'), 2);
      assert.deepEqual(await hits(), ['GET /orders 2', 'GET /orders/{orderId} 2']);

      // 4. A crash after the exchange rows were written but before the inventory: the rows are stored,
      //    the counts are not. The next worker re-reads the batch and counts it exactly once.
      const crashing: Store = {
        ...store,
        writeEndpoints: () => Promise.reject(Object.assign(new Error('crash'), { retryable: true })),
        close: () => Promise.resolve(),
      };
      const c5 = await run('t5', [mk('/orders/19', 5), mk('/orders/20', 6)], crashing);
      assert.ok(c5.get('bus_handler_errors') >= 1);
      assert.equal(await rows(), 6, 'rows of the crashed batch are in the store');
      assert.deepEqual(await hits(), ['GET /orders 2', 'GET /orders/{orderId} 2'], 'but not counted');
      await run('t5', [mk('/orders/19', 5), mk('/orders/20', 6)]);
      assert.deepEqual(await hits(), ['GET /orders 2', 'GET /orders/{orderId} 4']);
      await run('t5', [mk('/orders/19', 5), mk('/orders/20', 6)]);
      assert.deepEqual(await hits(), ['GET /orders 2', 'GET /orders/{orderId} 4']);
      assert.equal(await rows(), 6);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'worker: drift per batch (baseline hour, api_change that stays, api_gone_quiet that resolves)',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-worker-drift-'));
    const store = await openChdbStore(join(dir, 'store'));
    try {
      const spec = parseSpec(SPEC, 'shop.yaml');
      const host = 'api.shop.test';
      const DAY = 86_400 * 1_000_000;
      const T0 = 1_700_000_000_000_000;
      const mk = (target: string, at: number, resJson?: unknown): Exchange =>
        ex('GET', target, { host, id: `d-${target}-${at}`, us: T0 + at, resJson: resJson ?? { id: 1 } });
      const run = async (topic: string, batch: Exchange[]): Promise<void> => {
        const counters = new Counters();
        const bus = createMemoryBus(
          { maxBatch: 1000, topic, retryBaseMs: 10, retryMaxMs: 20, flushTimeoutMs: 2_000 },
          counters,
        );
        const worker = createAnalyzerWorker({
          analysis: { specs: [spec], previousSpecs: [], overrides: null, secret: Buffer.from('k') },
          store,
          consumer: bus.consumer,
          counters,
        });
        await worker.start();
        for (const e of batch) assert.ok(bus.publisher.publish(e));
        await bus.publisher.flush(20_000);
        await worker.stop();
        await bus.publisher.close();
      };
      const drifts = async (): Promise<string[]> =>
        (await store.findings())
          .filter((f) => f.kind === 'api_change' || f.kind === 'api_gone_quiet')
          .map(
            (f) =>
              `${f.kind} ${f.path} ${String(f.details['change'] ?? f.details['silentDays'])} ${String(f.details['value'] ?? '')}`,
          )
          .sort();

      // Day 1: the first batch is the baseline; a second batch within the baseline hour adds an
      // endpoint without it being a change (the stream is still being learnt).
      await run('d1', [mk('/orders', 0), mk('/orders/1', 1_000_000)]);
      await run('d1b', [mk('/orders/2', 10 * 60 * 1_000_000), mk('/health-report', 20 * 60 * 1_000_000)]);
      assert.deepEqual(await drifts(), []);
      // Day 2: a new endpoint and a new response field carrying an e-mail address.
      const emails = ['ann@example.org', 'bo@example.net', 'cy@example.com', 'di@example.org', 'ed@example.net'];
      await run('d2', [
        mk('/customers', DAY),
        ...emails.map((e, i) => mk(`/orders/${i + 3}`, DAY + (i + 1) * 1_000_000, { id: i + 3, contact: e })),
      ]);
      const day2 = await drifts();
      assert.ok(day2.includes('api_change /customers new_endpoint '), day2.join('\n'));
      assert.ok(
        day2.some((x) => x.startsWith('api_change /orders/{orderId} new_field response.body $.contact:string')),
        day2.join('\n'),
      );
      // Day 12, only /orders called: the day-2 changes stay; /customers went quiet.
      await run('d12', [mk('/orders', 12 * DAY)]);
      const day12 = await drifts();
      for (const x of day2) assert.ok(day12.includes(x), `${x} stays`);
      assert.ok(
        day12.some((x) => x.startsWith('api_gone_quiet /customers 11')),
        day12.join('\n'),
      );
      // Called again: no longer quiet (resolved), the changes still stand.
      await run('d13', [mk('/customers', 13 * DAY)]);
      const day13 = await drifts();
      assert.ok(!day13.some((x) => x.startsWith('api_gone_quiet /customers')), day13.join('\n'));
      for (const x of day2) assert.ok(day13.includes(x), `${x} stays`);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
