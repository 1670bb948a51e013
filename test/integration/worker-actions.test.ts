// The analyzer worker's actions across a crash: a worker stores a finding but its action never
// reaches the receiver (down until the process ends); the next worker on the same store sends it at
// start, under the same id and body; a third one, whose ledger says it was delivered, sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex } from '../../analyzers/testing.js';
import { parseSpec } from '../../analyzers/spec/index.js';
import { createMemoryBus } from '../../engine/adapters/bus/memory.js';
import { openChdbStore } from '../../engine/adapters/store/chdb.js';
import { Action, ActionsConfig, createActions, type ActionsReport } from '../../engine/app/actions/index.js';
import { createAnalyzerWorker } from '../../engine/app/pipelines/worker.js';
import { Counters } from '../../engine/contracts/counters.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { startReceiver } from '../support/webhook.js';

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
  'worker: an action lost with its process is sent by the next worker on the same store, once',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a9c-worker-actions-'));
    const secret = 'k-actions';
    const rx = await startReceiver({ secret, startDown: true });
    const store = await openChdbStore(join(dir, 'store'));
    const spec = parseSpec(SPEC, 'shop.yaml');
    // info: the orphan finding (GET /orders/{orderId} never called) is enough to act on.
    const config = ActionsConfig.parse({
      minSeverity: 'info',
      webhook: { retryBaseMs: 5, retryMaxMs: 20, graceMs: 200 },
    });
    const mk = (target: string, i: number): Exchange =>
      ex('GET', target, { host: 'api.shop.test', id: `wa-${i}`, us: 1_700_000_000_000_000 + i * 1_000_000 });

    const lifetime = async (topic: string, batch: Exchange[]): Promise<ActionsReport> => {
      const counters = new Counters();
      const actions = createActions({
        config,
        webhook: { url: rx.url, secret: Buffer.from(secret) },
        ledgerDir: dir,
        counters,
      });
      const bus = createMemoryBus(
        { maxBatch: 100, topic, retryBaseMs: 10, retryMaxMs: 20, flushTimeoutMs: 5_000 },
        counters,
      );
      const worker = createAnalyzerWorker({
        analysis: { specs: [spec], previousSpecs: [], overrides: null, secret: Buffer.from('k') },
        store,
        consumer: bus.consumer,
        counters,
        actions,
      });
      await worker.start();
      for (const e of batch) assert.ok(bus.publisher.publish(e));
      await bus.publisher.flush();
      await worker.stop();
      await bus.publisher.close();
      return actions.close();
    };
    try {
      const first = await lifetime('t1', [mk('/orders', 1), mk('/orders', 2)]);
      const ids = (await store.findings()).map((f) => f.id).sort();
      assert.ok(ids.length >= 1, 'the orphan at least');
      assert.equal(first.new, ids.length);
      assert.equal(first.undelivered, ids.length, 'the receiver was down for the whole lifetime');
      assert.equal(rx.requests.length, 0);

      await rx.up();
      const second = await lifetime('t2', []);
      assert.equal(second.new, ids.length, 'offered again from the store at start');
      assert.equal(second.delivered, ids.length);
      assert.deepEqual([...rx.acked()].sort(), ids);
      for (const r of rx.requests) {
        assert.deepEqual(r.verified, { ok: true });
        assert.equal(Action.parse(JSON.parse(r.body)).id, r.id);
      }
      const orphan = rx.requests.map((r) => Action.parse(JSON.parse(r.body))).find((a) => a.kind === 'orphan_api');
      assert.deepEqual([orphan?.suggestedAction, orphan?.endpoint.path], ['investigate', '/orders/{orderId}']);

      const third = await lifetime('t3', [mk('/orders', 3)]);
      const now = (await store.findings()).map((f) => f.id);
      assert.equal(third.counters['actions_repeated'], ids.filter((id) => now.includes(id)).length);
      assert.equal(third.new, now.filter((id) => !ids.includes(id)).length, 'only findings the new traffic made');
      assert.equal(
        rx.requests.filter((r) => ids.includes(r.id ?? '')).length,
        ids.length,
        'nothing delivered was sent twice',
      );
    } finally {
      await store.close();
      await rx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
