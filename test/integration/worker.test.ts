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
import { createMemoryBus } from '../../engine/bus/memory.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { createAnalyzerWorker } from '../../engine/pipeline/worker.js';
import { openChdbStore } from '../../engine/store/chdb.js';
import { Counters } from '../../engine/telemetry/counters.js';

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

test('worker: orphans are resolved once called; redelivery and restart count nothing twice', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apitap-worker-'));
  const store = await openChdbStore(join(dir, 'store'));
  try {
    const spec = parseSpec(SPEC, 'shop.yaml');
    const host = 'api.shop.test';
    const mk = (target: string, i: number): Exchange => ex('GET', target, { host, id: `w-${target}-${i}`, us: 1_700_000_000_000_000 + i * 1_000_000 });

    const run = async (batches: Exchange[][]): Promise<Counters> => {
      const counters = new Counters();
      const bus = createMemoryBus({ maxBatch: 1000 }, counters);
      const worker = createAnalyzerWorker({ analysis: { specs: [spec], previousSpecs: [], overrides: null, secret: Buffer.from('k') }, store, consumer: bus.consumer, counters });
      await worker.start();
      for (const b of batches) {
        for (const e of b) assert.ok(bus.publisher.publish(e));
        await bus.publisher.flush();
      }
      await worker.stop();
      await bus.publisher.close();
      return counters;
    };
    const orphans = async (): Promise<string[]> => (await store.findings()).filter((f) => f.kind === 'orphan_api').map((f) => f.path).sort();

    // 1. Only GET /orders is called: GET /orders/{orderId} is an orphan.
    await run([[mk('/orders', 1), mk('/orders', 2)]]);
    assert.deepEqual(await orphans(), ['/orders/{orderId}']);

    // 2. A new worker (a restart) sees the detail route called: the orphan is resolved, not left standing.
    const c2 = await run([[mk('/orders/17', 3), mk('/orders/18', 4)]]);
    assert.deepEqual(await orphans(), []);
    assert.equal(c2.get('analyzer_findings_resolved'), 1);

    // 3. The first batch delivered again (at-least-once after a crash): nothing is counted twice.
    const c3 = await run([[mk('/orders', 1), mk('/orders', 2)]]);
    assert.equal(c3.get('analyzer_skipped_persisted'), 2);
    const eps = await store.endpoints();
    assert.deepEqual(eps.map((e) => `${e.method} ${e.path} ${e.hits}`).sort(), ['GET /orders 2', 'GET /orders/{orderId} 2']);
    const rows = await store.query('SELECT count() AS c FROM exchanges FINAL');
    assert.equal(Number(rows[0]?.['c']), 4);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
