// startWatch over capture files and a byte stream, into a real chDB store: the inventory equals a
// replay's, a restart over the same traffic counts nothing twice, and a stream stopped mid-way ends
// its connections and writes the final snapshot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { openChdbStore } from '../../adapters/store/chdb.js';
import { Counters } from '../../contracts/counters.js';
import { repoRoot } from '../../../test/support/paths.js';
import { replay } from './replay.js';
import { createAnalysisSession } from './analyze.js';
import { startWatch } from './watch.js';
import type { Finding } from '../../contracts/inventory.js';
import { actorsCaptureUnavailable, recordActorsCapture } from '../../../test/support/actors-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'apitap-watch-unit-'));
const demo = join(repoRoot, 'deploy', 'demo', 'demo.pcap');
const analysis = { specs: [], previousSpecs: [], overrides: null, secret: Buffer.alloc(32, 3) };
const store = await openChdbStore(dir);
await store.migrate();

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const hitsOf = (eps: { method: string; path: string; hits: number }[]): string[] =>
  eps.map((e) => `${e.method} ${e.path} ${e.hits}`).sort();

test('files: inventory equals replay; a restart over the same capture counts nothing twice', async () => {
  const { report } = await replay({
    inputs: [demo],
    analysis: createAnalysisSession({ ...analysis, store: null }, new Counters()),
  });
  const want = hitsOf(report.endpoints ?? []);
  for (let run = 0; run < 2; run++) {
    const counters = new Counters();
    const w = await startWatch({
      source: { kind: 'files', inputs: [demo] },
      analysis,
      store,
      counters,
      snapshotEveryUs: 1e6,
    });
    await w.ended;
    await w.stop();
    assert.deepEqual(hitsOf(await store.endpoints()), want, `run ${run + 1}`);
    if (run === 1) assert.equal(counters.get('watch_skipped_counted'), report.capture.exchanges);
  }
  const n = await store.query("SELECT count() AS c FROM exchanges WHERE method != ''");
  assert.equal(
    Number(n[0]?.['c']),
    want.reduce((s, l) => s + Number(l.split(' ').pop()), 0),
  );
});

test('stream: stop() while the writer keeps the stream open ends the connections and snapshots', async () => {
  const bytes = readFileSync(demo);
  const stream = new PassThrough();
  const counters = new Counters();
  const w = await startWatch({
    source: { kind: 'stream', name: 'test-stream', stream },
    analysis,
    store,
    counters,
    snapshotEveryUs: 1e6,
  });
  stream.write(bytes); // never ended: like a live tcpdump pipe
  const t0 = Date.now();
  await w.stop();
  assert.ok(Date.now() - t0 < 10_000);
  // Same traffic as the files test: every exchange is already stored and counted.
  assert.equal(counters.get('exchanges_emitted'), counters.get('watch_skipped_counted'));
  assert.ok(counters.get('exchanges_emitted') > 0);
});

test(
  'actors: behaviour findings and actors of the store equal a replay of the same traffic',
  { skip: actorsCaptureUnavailable() ?? false },
  async () => {
    const pcap = await recordActorsCapture(dir);
    const replayed = await replay({
      inputs: [pcap],
      analysis: createAnalysisSession({ ...analysis, store: null }, new Counters()),
    });
    const want = (replayed.report.findings ?? []).filter((f) => f.actor !== undefined);
    assert.ok(want.length >= 3, 'the capture has its planted abusers (test/integration/actors.test.ts checks each)');
    // Twice: the second run over the same traffic counts nothing again and still runs the detectors
    // once over the stored rows (at stop: a crash before the first run's detection is repaired), with
    // the same result (idempotent).
    const counters = new Counters();
    for (let run = 0; run < 2; run++) {
      const w = await startWatch({
        source: { kind: 'files', inputs: [pcap] },
        analysis,
        store,
        counters,
        snapshotEveryUs: 1e6,
      });
      await w.ended;
      await w.stop();
    }
    assert.equal(counters.get('actors_behaviour_runs'), 2);
    const key = (f: Finding): string => JSON.stringify(f);
    const got = (await store.findings()).filter((f) => f.actor !== undefined);
    for (const f of want)
      assert.ok(
        got.some((g) => key(g) === key(f)),
        `stored as the replay found it: ${f.kind} ${f.path}`,
      );
    // Each planted abuser once (an earlier snapshot's finding on another template may remain).
    assert.deepEqual(
      [...new Set(got.map((f) => `${f.kind} ${f.actor?.id}`))].sort(),
      [...new Set(want.map((f) => `${f.kind} ${f.actor?.id}`))].sort(),
    );
    const actors = await store.actors();
    assert.deepEqual(
      actors
        .map((a) => [a.id, a.requests, a.endpoints])
        .filter(([id]) => (replayed.report.actors ?? []).some((r) => r.id === id)),
      (replayed.report.actors ?? []).map((a) => [a.id, a.requests, a.endpoints]),
    );
  },
);
