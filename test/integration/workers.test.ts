// Determinism across thread counts: `replay --workers N` shards the analysis by API host over N threads
// beside a collector thread; the report, the exchange JSONL and the store rows must be byte-identical
// to the single-thread replay (--workers 0) for any N. The input spans every corpus capture plus the
// demo (over a hundred hosts, so every shard gets hosts) with a spec, so orphan findings, the one
// cross-host finding, are merged across shards; and, where tcpdump can record on loopback, the actors
// capture (test/support/actors-capture.ts), whose abusers' traffic spans two API hosts: behaviour
// findings need all of an actor's traffic, so they are computed once over every shard's actor events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apitap } from '../support/cli.js';
import { corpus, needsCorpus, repoRoot } from '../support/paths.js';
import { actorsCaptureUnavailable, recordActorsCapture } from '../support/actors-capture.js';

const tmp = mkdtempSync(join(tmpdir(), 'apitap-workers-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ENV = { APITAP_SECRET: 'workers-test' };
const inputs = [corpus('pcaps'), join(repoRoot, 'deploy/demo/demo.pcap')];
const withActors = actorsCaptureUnavailable() === null;
test.before(async () => {
  if (withActors) inputs.push(await recordActorsCapture(tmp));
});
const spec = join(repoRoot, 'deploy/demo/openapi.yaml');

function run(workers: number, store: boolean): { report: string; jsonl: string; rows: string[] } {
  const dir = join(tmp, `w${workers}${store ? 's' : ''}`);
  const jsonl = `${dir}.jsonl`;
  const r = apitap(
    [
      'replay',
      ...inputs,
      '--spec',
      spec,
      '--format',
      'json',
      '--workers',
      String(workers),
      '--exchanges',
      jsonl,
      ...(store ? ['--store', dir] : ['--no-store']),
    ],
    ENV,
  );
  assert.equal(r.code, 0, r.stderr);
  const rows: string[] = [];
  if (store) {
    for (const sql of [
      'SELECT * FROM exchanges FINAL ORDER BY id',
      'SELECT * EXCEPT (version) FROM endpoints FINAL ORDER BY host, method, path',
      'SELECT * EXCEPT (version) FROM findings FINAL ORDER BY id',
      'SELECT * EXCEPT (version) FROM capture_stats FINAL ORDER BY id',
      'SELECT * EXCEPT (version) FROM actors FINAL ORDER BY id',
    ]) {
      const q = apitap(['query', '--store', dir, '--format', 'json', sql], ENV);
      assert.equal(q.code, 0, q.stderr);
      rows.push(q.stdout);
    }
  }
  return { report: r.stdout, jsonl: readFileSync(jsonl, 'utf8'), rows };
}

test('report, exchanges and findings are byte-identical for 0, 1, 2 and 4 analysis threads', needsCorpus, () => {
  const base = run(0, false);
  const rep = JSON.parse(base.report) as { endpoints: { host: string }[]; findings: { kind: string }[] };
  assert.ok(new Set(rep.endpoints.map((e) => e.host)).size > 50, 'many hosts, so every shard has some');
  assert.ok(
    rep.findings.some((f) => f.kind === 'orphan_api'),
    'an orphan finding is merged across shards',
  );
  if (withActors) {
    const behaviour = rep.findings.filter((f) => 'actor' in f).map((f) => f.kind);
    assert.deepEqual(behaviour.sort(), ['auth_bruteforce', 'bola_suspect', 'enumeration', 'pii_harvest']);
  }
  for (const n of [1, 2, 4]) {
    const r = run(n, false);
    assert.equal(r.report, base.report, `report with --workers ${n}`);
    assert.equal(r.jsonl, base.jsonl, `exchanges with --workers ${n}`);
  }
});

test('store rows are identical for 0 and 3 analysis threads', needsCorpus, () => {
  const a = run(0, true);
  const b = run(3, true);
  assert.equal(b.report, a.report);
  assert.ok((a.rows[0] as string).split('\n').length > 100, 'exchange rows written (JSON lines)');
  assert.deepEqual(b.rows, a.rows);
});
