// The webhook sink and the dispatcher against a real HTTP receiver (test/support/webhook.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counters } from '../../contracts/counters.js';
import type { Finding } from '../../contracts/inventory.js';
import { startReceiver, type Answer } from '../../../test/support/webhook.js';
import { waitFor } from '../../../test/support/wait.js';
import { Action, ActionsConfig, createActions, createWebhookSink, LEDGER_FILE, WebhookSettings } from './index.js';

const secret = 'test-secret';
const fast = (over: Partial<WebhookSettings> = {}): WebhookSettings =>
  WebhookSettings.parse({ retryBaseMs: 5, retryMaxMs: 20, timeoutMs: 2_000, graceMs: 5_000, ...over });

function finding(id: string, severity: Finding['severity']): Finding {
  return {
    id,
    kind: 'auth_bruteforce',
    severity,
    host: 'api.example',
    method: 'POST',
    path: '/login',
    confidence: 0.9,
    evidence: `${id}: 300 failed logins from one address`,
    details: { failures: 300 },
    firstSeen: '2026-11-23T06:28:21.000000Z',
    lastSeen: '2026-11-23T06:29:21.000000Z',
    actor: { id: `actor-${id}`, ip: '192.0.2.9', principal: null, principalKind: null },
  };
}

test('failed attempts (500, 503, a dropped connection) are retried with the same body and key until acknowledged', async () => {
  const script = (_id: string, nth: number): Answer => ([500, 503, 'drop'] as const)[nth - 1] ?? 200;
  const rx = await startReceiver({ secret, script });
  const counters = new Counters();
  const sink = createWebhookSink(rx.url, Buffer.from(secret), fast(), { counters });
  try {
    const bodies = ['a', 'b', 'c'].map((id) => ({ id, body: JSON.stringify({ id, n: id.charCodeAt(0) }) }));
    for (const b of bodies) assert.equal(sink.offer(b.id, b.body), true);
    await waitFor(() => rx.acked().size === 3, { timeoutMs: 10_000, what: 'three actions acknowledged' });
    await sink.close();
    for (const b of bodies) {
      const got = rx.requests.filter((r) => r.id === b.id);
      assert.deepEqual(
        got.map((r) => r.nth),
        [1, 2, 3, 4],
      );
      for (const r of got) {
        assert.equal(r.body, b.body, 'every attempt carries the same body');
        assert.equal(r.headers['idempotency-key'], b.id);
        assert.deepEqual(r.verified, { ok: true });
      }
      assert.deepEqual(
        got.map((r) => r.headers['x-apitap-attempt']),
        ['1', '2', '3', '4'],
      );
    }
    assert.deepEqual(counters.snapshot('actions_'), {
      queue_peak: 3,
      retried: 9,
      retry_network: 3,
      retry_status: 6,
      sent: 3,
    });
  } finally {
    await sink.close();
    await rx.close();
  }
});

test('a 4xx answer is final; 429 is retried; maxAttempts gives up', async () => {
  const script = (id: string, nth: number): Answer =>
    id === 'bad' ? 400 : id === 'slow' ? (nth === 1 ? 429 : 200) : 503;
  const rx = await startReceiver({ secret, script });
  const counters = new Counters();
  const settled: string[] = [];
  const sink = createWebhookSink(rx.url, Buffer.from(secret), fast({ maxAttempts: 3 }), {
    counters,
    settled: (id) => settled.push(id),
  });
  try {
    for (const id of ['bad', 'slow', 'down']) sink.offer(id, `{"id":"${id}"}`);
    await waitFor(() => sink.pending() === 0, { timeoutMs: 10_000, what: 'every action settled' });
    await sink.close();
    assert.equal(rx.requests.filter((r) => r.id === 'bad').length, 1);
    assert.equal(rx.requests.filter((r) => r.id === 'down').length, 3);
    assert.deepEqual(
      settled.sort(),
      ['bad', 'slow'],
      'a refusal settles (no resend after a restart); giving up does not',
    );
    const c = counters.snapshot('actions_');
    assert.equal(c['failed_rejected'], 1);
    assert.equal(c['failed_exhausted'], 1);
    assert.equal(c['sent'], 1);
  } finally {
    await rx.close();
  }
});

test('the queue is bounded and exit waits only the grace period, counting what was not delivered', async () => {
  const rx = await startReceiver({ secret, startDown: true });
  const counters = new Counters();
  const sink = createWebhookSink(rx.url, Buffer.from(secret), fast({ queueMax: 2, graceMs: 100 }), { counters });
  for (const id of ['1', '2', '3', '4', '5']) sink.offer(id, '{}');
  await waitFor(() => counters.get('actions_retry_network') >= 2, { timeoutMs: 5_000, what: 'refused attempts' });
  const t0 = Date.now();
  await sink.close();
  const waited = Date.now() - t0;
  assert.ok(waited >= 90 && waited < 2_000, `close waited ${waited} ms for a 100 ms grace`);
  assert.equal(counters.get('actions_dropped_queue_full'), 3);
  assert.equal(counters.get('actions_dropped_on_close'), 2);
  assert.equal(counters.get('actions_sent'), 0);
  assert.equal(sink.offer('6', '{}'), false, 'closed: refused and counted');
  assert.equal(counters.get('actions_dropped_on_close'), 3);
});

test('the dispatcher sends each finding id once at or above the threshold; the ledger stops a second run resending', async () => {
  const rx = await startReceiver({ secret });
  const dir = mkdtempSync(join(tmpdir(), 'a9c-ledger-'));
  const config = ActionsConfig.parse({ webhook: fast() });
  const findings = [finding('f1', 'critical'), finding('f2', 'high'), finding('f3', 'medium')];
  const run = async (): Promise<Awaited<ReturnType<ReturnType<typeof createActions>['close']>>> => {
    const d = createActions({
      config,
      webhook: { url: rx.url, secret: Buffer.from(secret) },
      ledgerDir: dir,
      counters: new Counters(),
    });
    d.offer(findings);
    d.offer(findings); // re-derived (the analyzer's next batch): nothing new
    return d.close();
  };
  try {
    const first = await run();
    assert.equal(first.new, 2);
    assert.equal(first.delivered, 2);
    assert.equal(first.counters['actions_below_threshold'], 1);
    assert.deepEqual([...rx.acked()].sort(), ['f1', 'f2']);
    for (const r of rx.requests) {
      const a = Action.parse(JSON.parse(r.body));
      assert.equal(a.id, r.id);
      assert.equal(a.suggestedAction, 'block_ip');
      assert.deepEqual(a.target, { type: 'ip', ip: '192.0.2.9' });
    }
    assert.deepEqual(readFileSync(join(dir, LEDGER_FILE), 'utf8').trim().split('\n').sort(), [
      'webhook f1',
      'webhook f2',
    ]);
    const second = await run();
    assert.equal(second.new, 0);
    assert.equal(second.counters['actions_repeated'], 2);
    assert.equal(rx.requests.length, 2, 'nothing sent again');
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an action not acknowledged before the exit is sent again by the next run (at-least-once)', async () => {
  const rx = await startReceiver({ secret, startDown: true });
  const dir = mkdtempSync(join(tmpdir(), 'a9c-ledger-'));
  const config = ActionsConfig.parse({ webhook: fast({ graceMs: 50 }) });
  try {
    const d1 = createActions({
      config,
      webhook: { url: rx.url, secret: Buffer.from(secret) },
      ledgerDir: dir,
      counters: new Counters(),
    });
    d1.offer([finding('f9', 'high')]);
    const r1 = await d1.close();
    assert.equal(r1.undelivered, 1);
    await rx.up();
    const d2 = createActions({
      config,
      webhook: { url: rx.url, secret: Buffer.from(secret) },
      ledgerDir: dir,
      counters: new Counters(),
    });
    d2.offer([finding('f9', 'high')]);
    const r2 = await d2.close();
    assert.equal(r2.delivered, 1);
    assert.deepEqual([...rx.acked()], ['f9']);
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
