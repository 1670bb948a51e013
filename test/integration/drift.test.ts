// Drift over time on real traffic: the exchanges of the bundled demo capture (nginx + the lab JSON API,
// reconstructed by `apitap replay --exchanges`) as three windows written into one embedded store:
//   day 1  the demo without GET /internal/debug;
//   day 2  one day later: the whole demo, with a new response field carrying an e-mail address on
//          GET /api/v1/orders/{orderId} and the Authorization header removed from GET /api/v1/users/me;
//   day 12 ten days after that: only the /api/v2 routes.
// `apitap diff --since <day 2>` must list exactly the three day-2 changes; day 12 adds the day-2
// endpoints gone quiet, and nothing else.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from '../../engine/contracts/exchange.js';
import type { Finding } from '../../engine/contracts/inventory.js';
import { createAnalysisSession } from '../../engine/app/pipelines/analyze.js';
import { captureReport } from '../../engine/app/pipelines/report.js';
import { openChdbStore } from '../../engine/adapters/store/chdb.js';
import { Counters } from '../../engine/contracts/counters.js';
import { loadSpec } from '../../analyzers/spec/index.js';
import { apitap } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';

const DAY_US = 86_400_000_000;
const tmp = mkdtempSync(join(tmpdir(), 'apitap-drift-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function shift(ex: Exchange, days: number, tag: string): Exchange {
  const d = days * DAY_US;
  const c = structuredClone(ex);
  c.id = `${ex.id}-${tag}`;
  c.flowId = `${ex.flowId}-${tag}`;
  if (c.request !== null) {
    c.request.startUs += d;
    c.request.endUs += d;
  }
  if (c.response !== null) {
    c.response.startUs += d;
    c.response.endUs += d;
  }
  return c;
}
const target = (ex: Exchange): string => `${ex.request?.method ?? ''} ${ex.request?.target.split('?')[0] ?? ''}`;

test('two windows a day apart report exactly the new endpoint, the new PII field and the dropped credentials', async () => {
  const jsonl = join(tmp, 'demo.jsonl');
  const r = apitap(['replay', join(repoRoot, 'deploy', 'demo', 'demo.pcap'), '--exchanges', jsonl, '--no-analyze']);
  assert.equal(r.code, 0, r.stderr);
  const demo = readFileSync(jsonl, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Exchange);
  assert.equal(demo.length, 19);

  const day1 = demo.filter((ex) => target(ex) !== 'GET /internal/debug').map((ex) => shift(ex, 0, 'd1'));
  const day2 = demo.map((ex) => {
    const c = shift(ex, 1, 'd2');
    if (c.request !== null && target(c) === 'GET /api/v1/users/me')
      c.request.headers = c.request.headers.filter(([k]) => k.toLowerCase() !== 'authorization');
    if (c.response !== null && /^GET \/api\/v1\/orders\/[0-9a-f-]{36}$/.test(target(c))) {
      const body = JSON.parse(c.response.body.data) as { contact: Record<string, unknown> };
      body.contact['backup_email'] = 'jana.novak@gmx.net';
      c.response.body.data = JSON.stringify(body);
      c.response.body.size = Buffer.byteLength(c.response.body.data);
      c.response.body.decodedSize = c.response.body.size;
      c.response.body.contentEncoding = [];
    }
    return c;
  });
  assert.ok(
    day2.some((ex) => ex.response?.body.data.includes('backup_email')),
    'the orders route is in the demo',
  );
  const day12 = demo.filter((ex) => target(ex).startsWith('GET /api/v2/')).map((ex) => shift(ex, 12, 'd12'));

  const spec = await loadSpec(join(repoRoot, 'deploy', 'demo', 'openapi.yaml'));
  const storeDir = join(tmp, 'store');
  const windowFindings: Finding[][] = [];
  for (const w of [day1, day2, day12]) {
    const store = await openChdbStore(storeDir);
    await store.migrate();
    try {
      const counters = new Counters();
      const s = createAnalysisSession(
        { specs: [spec], previousSpecs: [], overrides: null, secret: Buffer.from('drift-test'), store },
        counters,
      );
      for (const ex of w) s.observe(ex);
      const out = await s.finish(captureReport(counters, 1, -1, -1), ['window.pcap']);
      windowFindings.push(out.findings.filter((f) => f.kind === 'api_change' || f.kind === 'api_gone_quiet'));
    } finally {
      await store.close();
    }
  }
  const describe = (fs: readonly Finding[]): string[] =>
    fs
      .map(
        (f) =>
          `${f.kind} ${f.method} ${f.path} ${String(f.details['change'] ?? '')} ${String(f.details['value'] ?? '')}`,
      )
      .sort();
  assert.deepEqual(describe(windowFindings[0] ?? []), [], 'day 1 is the baseline');
  assert.deepEqual(describe(windowFindings[1] ?? []), [
    'api_change GET /api/v1/orders/{orderId} new_field response.body $.contact.backup_email:string',
    'api_change GET /api/v1/users/me new_auth_scheme none',
    'api_change GET /internal/debug new_endpoint ',
  ]);
  const field = windowFindings[1]?.find((f) => f.details['change'] === 'new_field');
  assert.deepEqual(field?.details['pii'], ['email']);
  assert.equal(field?.severity, 'high');
  assert.doesNotMatch(JSON.stringify(windowFindings), /jana\.novak/, 'no observed value in a finding');
  // Day 12: every API endpoint of day 2 outside /api/v2 has gone quiet (11 days > 7), nothing changed.
  const quiet = describe(windowFindings[2] ?? []);
  assert.ok(quiet.length > 5);
  assert.ok(
    quiet.every((q) => q.startsWith('api_gone_quiet ') && !q.includes('/api/v2/')),
    quiet.join('\n'),
  );
  assert.ok(quiet.includes('api_gone_quiet GET /internal/debug  '));

  // The CLI lists the changes since day 2 began (packet time) from the store.
  const day2Start = new Date(Math.floor(Math.min(...day2.map((ex) => ex.request?.startUs ?? Infinity)) / 1000));
  const diff = apitap(['diff', '--store', storeDir, '--since', day2Start.toISOString(), '--format', 'json']);
  assert.equal(diff.code, 0, diff.stderr);
  const listed = JSON.parse(diff.stdout) as Finding[];
  assert.deepEqual(describe(listed), [...describe(windowFindings[1] ?? []), ...quiet].sort());
  const since12 = new Date(Math.floor(Math.min(...day12.map((ex) => ex.request?.startUs ?? Infinity)) / 1000));
  const only12 = apitap(['diff', '--store', storeDir, '--since', since12.toISOString(), '--format', 'json']);
  assert.deepEqual(describe(JSON.parse(only12.stdout) as Finding[]), quiet);
  const text = apitap(['diff', '--store', storeDir, '--since', day2Start.toISOString()]);
  assert.match(text.stdout, /new_endpoint +medium +api\.shop\.example +GET +\/internal\/debug/);
  assert.equal(apitap(['diff', '--store', storeDir, '--since', 'yesterday']).code, 2);
});
