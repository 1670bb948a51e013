// `apitap replay --actions-webhook` through the real CLI on the bundled demo capture (its high and
// critical findings: cleartext credentials, unauthenticated endpoints, PII exposure), against a real
// HTTP receiver (test/support/webhook.ts) that checks every request's signature. The receiver fails
// the first attempts of every action (500, 503, a connection dropped after the body was read), or is
// down when the replay ends and comes back later; every action must arrive, each under its finding
// id with the same body on every attempt, and none below the severity threshold.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Action } from '../../engine/app/actions/action.js';
import { SEVERITY_RANK, type Finding, type Severity } from '../../engine/contracts/inventory.js';
import type { Report } from '../../engine/app/pipelines/report.js';
import { repoRoot } from '../support/paths.js';
import { startApitap, type Proc } from '../support/procs.js';
import { waitFor } from '../support/wait.js';
import { startReceiver, type Answer, type Receiver } from '../support/webhook.js';

const demo = join(repoRoot, 'deploy', 'demo', 'demo.pcap');
const spec = join(repoRoot, 'deploy', 'demo', 'openapi.yaml');
const secret = 'a9c-webhook-secret';
const work = mkdtempSync(join(tmpdir(), 'a9c-actions-'));
// Fast retries for the test; the grace period is long enough for the receiver to come back.
const config = join(work, 'config.yaml');
after(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(
  config,
  'actions:\n  webhook:\n    retryBaseMs: 10\n    retryMaxMs: 100\n    timeoutMs: 5000\n    graceMs: 60000\n',
);

async function replayTo(rx: Receiver, extra: string[], whileRunning?: (p: Proc) => Promise<void>): Promise<Report> {
  const p = startApitap(
    [
      'replay',
      demo,
      '--spec',
      spec,
      '--no-store',
      '--format',
      'json',
      '--config',
      config,
      '--actions-webhook',
      rx.url,
      ...extra,
    ],
    { APITAP_WEBHOOK_SECRET: secret },
  );
  if (whileRunning !== undefined) await whileRunning(p);
  const code = await p.exited;
  assert.equal(code, 0, p.stderr());
  return JSON.parse(p.stdout()) as Report;
}

/** Every request verified and well-formed, every attempt of an id identical; returns the ids acknowledged. */
function checkRequests(rx: Receiver, findings: readonly Finding[], min: Severity): Set<string> {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const first = new Map<string, string>();
  for (const r of rx.requests) {
    assert.deepEqual(r.verified, { ok: true }, `signature of ${r.id} attempt ${r.nth}`);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['idempotency-key'], r.id);
    const a = Action.parse(JSON.parse(r.body));
    assert.equal(a.id, r.id);
    const f = byId.get(a.id);
    assert.ok(f !== undefined, `action ${a.id} names a finding of the report`);
    assert.ok(SEVERITY_RANK[f.severity] >= SEVERITY_RANK[min], `${a.id} is ${f.severity}, below ${min}`);
    assert.deepEqual(
      [a.kind, a.severity, a.endpoint],
      [f.kind, f.severity, { host: f.host, method: f.method, path: f.path }],
    );
    const seen = first.get(a.id);
    if (seen === undefined) first.set(a.id, r.body);
    else assert.equal(r.body, seen, `attempt ${r.nth} of ${a.id} carries the first attempt's body`);
  }
  const want = findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK[min]).map((f) => f.id);
  const acked = rx.acked();
  assert.deepEqual([...acked].sort(), [...want].sort(), 'every finding at or above the threshold acknowledged');
  return acked;
}

test('replay → webhook: signed, retried through 500/503/dropped connections, one action per finding id', async () => {
  const script = (_id: string, nth: number): Answer => ([500, 503, 'drop'] as const)[nth - 1] ?? 200;
  const rx = await startReceiver({ secret, script });
  try {
    const report = await replayTo(rx, []);
    const findings = report.findings ?? [];
    const acked = checkRequests(rx, findings, 'high');
    assert.ok(acked.size >= 10, `the demo has high findings: ${acked.size}`);
    assert.ok(
      findings.some((f) => SEVERITY_RANK[f.severity] < SEVERITY_RANK.high),
      'the demo also has findings below high (none sent)',
    );
    // Every action: 500, 503, dropped, acknowledged. The dropped attempt reached the receiver: the
    // retry after it is a duplicate the receiver recognises by id.
    for (const id of acked) {
      assert.deepEqual(
        rx.requests.filter((r) => r.id === id).map((r) => r.answer),
        [500, 503, 'drop', 200],
      );
    }
    const a = report.actions;
    assert.ok(a !== undefined);
    assert.deepEqual(
      { new: a.new, delivered: a.delivered, retried: a.retried, undelivered: a.undelivered },
      { new: acked.size, delivered: acked.size, retried: 3 * acked.size, undelivered: 0 },
    );
    assert.equal(a.counters['actions_retry_status'], 2 * acked.size);
    assert.equal(a.counters['actions_retry_network'], acked.size);
    assert.equal(a.counters['actions_below_threshold'], findings.length - acked.size);
  } finally {
    await rx.close();
  }
});

test('replay → webhook down when the replay ends, back a while later: nothing lost; --actions-min-severity filters', async () => {
  const rx = await startReceiver({ secret, startDown: true });
  try {
    const report = await replayTo(rx, ['--workers', '0', '--actions-min-severity', 'critical'], async (p) => {
      const failing = (): boolean => p.stderr().includes('actions webhook delivery failing');
      await waitFor(() => failing() || p.child.exitCode !== null, {
        timeoutMs: 120_000,
        what: 'the replay reporting the receiver down',
      });
      assert.ok(failing(), `the replay reported the receiver down before it ended: ${p.stderr().slice(-500)}`);
      await rx.up();
    });
    const acked = checkRequests(rx, report.findings ?? [], 'critical');
    assert.ok(acked.size >= 5, `critical findings delivered: ${acked.size}`);
    const a = report.actions;
    assert.ok(a !== undefined);
    assert.equal(a.minSeverity, 'critical');
    assert.equal(a.undelivered, 0);
    assert.equal(a.delivered, acked.size);
    assert.ok((a.counters['actions_retry_network'] ?? 0) >= 1, 'attempts met the receiver down and were retried');
  } finally {
    await rx.close();
  }
});

test('replay → webhook down for good: the replay still ends after the grace period and counts what it could not deliver', async () => {
  const rx = await startReceiver({ secret, startDown: true });
  const short = join(work, 'short-grace.yaml');
  writeFileSync(short, 'actions:\n  webhook:\n    retryBaseMs: 10\n    retryMaxMs: 50\n    graceMs: 300\n');
  try {
    const p = startApitap(
      [
        'replay',
        demo,
        '--spec',
        spec,
        '--no-store',
        '--format',
        'json',
        '--config',
        short,
        '--actions-min-severity',
        'critical',
        '--actions-webhook',
        rx.url,
      ],
      { APITAP_WEBHOOK_SECRET: secret },
    );
    assert.equal(await p.exited, 0, p.stderr());
    const report = JSON.parse(p.stdout()) as Report;
    const critical = (report.findings ?? []).filter((f) => f.severity === 'critical').length;
    assert.ok(critical >= 5);
    const a = report.actions;
    assert.ok(a !== undefined);
    assert.deepEqual(
      { new: a.new, delivered: a.delivered, undelivered: a.undelivered },
      { new: critical, delivered: 0, undelivered: critical },
    );
    assert.equal(a.counters['actions_dropped_on_close'], critical);
    assert.match(p.stderr(), /actions webhook closed with undelivered actions/);
  } finally {
    await rx.close();
  }
});

test('--actions-webhook without APITAP_WEBHOOK_SECRET is a usage error', async () => {
  const p = startApitap(['replay', demo, '--no-store', '--actions-webhook', 'http://127.0.0.1:9/x'], {
    APITAP_WEBHOOK_SECRET: '',
  });
  assert.equal(await p.exited, 2);
  assert.match(p.stderr(), /APITAP_WEBHOOK_SECRET/);
});
