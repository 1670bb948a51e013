// The replay's memory mechanism (engine/app/pipelines/replay-threads.ts): the collector thread runs
// under a V8 heap limit and a thread that reaches it ends the replay with a clear error (never a
// partial report); the embedded store is opened only after the threads are done, its rows waiting in
// spill files that are removed afterwards; a bad --store still fails before the capture is read.
// That the spilled rows reach the store exactly as the single-thread replay writes them is
// test/integration/workers.test.ts ("store rows are identical for 0 and 3 analysis threads").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apitap } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { writeHalfOpenFlood } from '../../collectors/flow/testing.js';
import { collectorHeapLimitMb } from '../../engine/app/pipelines/replay-threads.js';
import { DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';

const tmp = mkdtempSync(join(tmpdir(), 'apitap-replay-memory-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ENV = { APITAP_SECRET: 'replay-memory-test' };
const MiB = 1024 * 1024;

test('the collector heap limit follows the flow state budget', () => {
  const at = (bytes: number): number =>
    collectorHeapLimitMb({
      ...DEFAULT_COLLECTOR_OPTIONS,
      flow: { ...DEFAULT_COLLECTOR_OPTIONS.flow, maxStateBytes: bytes },
    });
  assert.equal(at(48 * MiB), 64 + 3 * 48);
  assert.ok(at(256 * MiB) > at(48 * MiB));
  assert.equal(at(16 * MiB + 1), 64 + 3 * 17, 'a partial MiB counts as a whole one');
});

test('a collector thread that reaches its heap limit fails the replay with a clear error', () => {
  const flood = join(tmp, 'flood.pcap');
  writeHalfOpenFlood(flood, { connections: 40_000 });
  const config = join(tmp, 'tight.yaml');
  // Every connection is kept (no count or byte eviction), under a heap far below what they need.
  writeFileSync(
    config,
    'collector:\n  flow:\n    maxFlows: 1000000\n    maxStateBytes: 1073741824\npipeline:\n  workers: 1\n  collectorHeapMb: 12\n',
  );
  const r = apitap(['replay', flood, '--no-analyze', '--format', 'json', '--config', config], ENV, tmp);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /the collector thread reached its memory limit \(12 MB: raise pipeline\.collectorHeapMb/);
  assert.equal(r.stdout, '', 'no report from an incomplete replay');
});

test('the embedded store opens after the threads; spill files are removed; a bad --store fails first', () => {
  const store = join(tmp, 'store');
  const demo = join(repoRoot, 'deploy/demo/demo.pcap');
  const r = apitap(['replay', demo, '--format', 'json', '--workers', '1', '--store', store], ENV, tmp);
  assert.equal(r.code, 0, r.stderr);
  const exchanges = (JSON.parse(r.stdout) as { capture: { exchanges: number } }).capture.exchanges;
  assert.ok(exchanges > 0);
  assert.deepEqual(
    readdirSync(store).filter((f) => f.startsWith('.replay-spill-')),
    [],
    'no spill directory left in the store',
  );
  const q = apitap(
    ['query', '--store', store, '--format', 'json', 'SELECT count() AS n FROM exchanges FINAL'],
    ENV,
    tmp,
  );
  assert.equal(q.code, 0, q.stderr);
  const n = JSON.parse(q.stdout.split('\n')[0] ?? '') as { n: string | number };
  assert.equal(Number(n.n), exchanges);

  const notDir = join(tmp, 'a-file');
  writeFileSync(notDir, '');
  const bad = apitap(['replay', demo, '--workers', '1', '--store', notDir], ENV, tmp);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /chDB directory .*a-file is not usable/);
});
