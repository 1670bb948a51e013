// The outputs other tools read, from a real replay of the bundled demo capture:
// - `--format ocsf`: one OCSF 1.5.0 event per finding per line, each valid for its class
//   (test/schemas/ocsf-1.5.0), also from the store (`apitap findings --format ocsf`);
// - `--postman`: a Postman Collection v2.1 valid against Postman's schema, one request per API endpoint;
// - Grafana: every panel's SQL of deploy/grafana/*.json runs against the embedded chDB store the
//   replay wrote (Grafana macros expanded as the ClickHouse data source expands them), and the
//   headline panels agree with the report; the provisioning files point the dashboards at that source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import { openChdbStore } from '../../engine/adapters/store/chdb.js';
import type { Store } from '../../engine/adapters/store/types.js';
import { apitap } from '../support/cli.js';
import { validateOcsf } from '../support/ocsf-schema.js';
import { repoRoot } from '../support/paths.js';
import { validatePostman } from '../support/postman-schema.js';

const tmp = mkdtempSync(join(tmpdir(), 'apitap-outputs-'));
const storeDir = join(tmp, 'store');
const SECRET = { APITAP_SECRET: 'outputs-test' };
const demo = join(repoRoot, 'deploy', 'demo', 'demo.pcap');
const spec = join(repoRoot, 'deploy', 'demo', 'openapi.yaml');
const grafanaDir = join(repoRoot, 'deploy', 'grafana');
let report: { endpoints: EndpointRecord[]; findings: Finding[] };
let ocsf: Record<string, unknown>[];
let postman: Record<string, unknown>;

before(() => {
  const json = apitap(['replay', demo, '--spec', spec, '--store', storeDir, '--format', 'json'], SECRET);
  assert.equal(json.code, 0, json.stderr);
  report = JSON.parse(json.stdout) as typeof report;
  const pm = join(tmp, 'demo.postman.json');
  // The same capture again into the same store (idempotent), this time printing OCSF and writing Postman.
  const r = apitap(['replay', demo, '--spec', spec, '--store', storeDir, '--format', 'ocsf', '--postman', pm], SECRET);
  assert.equal(r.code, 0, r.stderr);
  ocsf = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  postman = JSON.parse(readFileSync(pm, 'utf8')) as Record<string, unknown>;
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('--format ocsf: one valid OCSF event per finding, class by finding family', () => {
  assert.equal(ocsf.length, report.findings.length);
  const uids = ocsf.map((e) => (e['finding_info'] as { uid: string }).uid);
  assert.deepEqual(
    uids,
    report.findings.map((f) => f.id),
  );
  const classOf = new Map<string, Set<number>>();
  for (const e of ocsf) {
    assert.deepEqual(validateOcsf(e), [], JSON.stringify(e).slice(0, 200));
    const kind = (e['unmapped'] as { apitap: { kind: string } }).apitap.kind;
    classOf.set(kind, (classOf.get(kind) ?? new Set()).add(e['class_uid'] as number));
  }
  assert.deepEqual([...(classOf.get('pii_exposure') ?? [])], [2006]);
  assert.deepEqual([...(classOf.get('shadow_api') ?? [])], [2007]);
  assert.deepEqual([...(classOf.get('unauthenticated_endpoint') ?? [])], [2007]);
  const stored = apitap(['findings', '--store', storeDir, '--format', 'ocsf'], SECRET);
  assert.equal(stored.code, 0, stored.stderr);
  const fromStore = stored.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const e of fromStore) assert.deepEqual(validateOcsf(e), []);
  assert.deepEqual(fromStore.map((e) => (e['finding_info'] as { uid: string }).uid).sort(), [...uids].sort());
});

test('--postman: a valid Collection v2.1 with one request per API endpoint and no observed values', () => {
  assert.deepEqual(validatePostman(postman), []);
  const folders = postman['item'] as { name: string; item: { name: string; request: { url: { raw: string } } }[] }[];
  const names = folders.flatMap((f) => f.item.map((i) => `${f.name} ${i.name}`)).sort();
  const api = report.endpoints.filter((e) => e.category === 'api').map((e) => `${e.host} ${e.method} ${e.path}`);
  assert.deepEqual(names, api.sort());
  const text = JSON.stringify(postman);
  // Masked samples and hashes of the findings' evidence never reach the collection.
  for (const f of report.findings)
    for (const fld of (f.details['fields'] as { masked?: string; hash?: string }[] | undefined) ?? []) {
      if (fld.hash !== undefined) assert.ok(!text.includes(fld.hash));
    }
  assert.match(text, /:userId/);
});

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; rawSql: string; format: number; datasource: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

/**
 * Grafana ClickHouse data source macros, expanded as the plugin does for a dashboard range covering all
 * packet times ($__timeFilter(c): c within [from, to]; $__timeInterval(c): c rounded to the interval).
 */
function expandMacros(sql: string): string {
  return sql
    .replace(
      /\$__timeFilter\(([^()]*(?:\([^()]*\))?[^()]*)\)/g,
      "$1 >= toDateTime(0) AND $1 <= toDateTime('2100-01-01 00:00:00')",
    )
    .replace(
      /\$__timeInterval\(([^()]*(?:\([^()]*\))?[^()]*)\)/g,
      'toStartOfInterval(toDateTime($1), INTERVAL 60 second)',
    )
    .replace(/\$__interval_s/g, '60');
}

test('Grafana: every panel of every dashboard runs against the store; headline numbers match the report', async () => {
  const files = readdirSync(grafanaDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(files, ['apitap-findings.json', 'apitap-inventory.json', 'apitap-traffic.json']);
  const ds = parseYaml(
    readFileSync(join(grafanaDir, 'provisioning', 'datasources', 'apitap-clickhouse.yaml'), 'utf8'),
  ) as {
    datasources: { uid: string; type: string }[];
  };
  const source = ds.datasources[0];
  assert.equal(source?.type, 'grafana-clickhouse-datasource');
  const store: Store = await openChdbStore(storeDir);
  const results = new Map<string, Record<string, unknown>[]>();
  try {
    const uids = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(grafanaDir, f), 'utf8')) as Dashboard;
      assert.ok(!uids.has(d.uid), `duplicate uid ${d.uid}`);
      uids.add(d.uid);
      const ids = new Set<number>();
      for (const p of d.panels) {
        assert.ok(!ids.has(p.id), `${f}: duplicate panel id ${p.id}`);
        assert.ok(!results.has(`${d.uid}/${p.title}`), `${f}: duplicate panel title ${p.title}`);
        ids.add(p.id);
        assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${f} ${p.title}: wider than the grid`);
        assert.equal(p.datasource.uid, source?.uid, `${f} ${p.title}: data source`);
        assert.ok(p.targets.length > 0, `${f} ${p.title}: no query`);
        for (const t of p.targets) {
          assert.equal(t.datasource.uid, source?.uid);
          const sql = expandMacros(t.rawSql);
          assert.doesNotMatch(sql, /\$__|\$\{/, `${f} ${p.title}: unexpanded macro`);
          let rows: Record<string, unknown>[];
          try {
            rows = await store.query(sql);
          } catch (e) {
            throw new Error(`${f} "${p.title}": ${(e as Error).message}\n${sql}`, { cause: e });
          }
          // Time series need a time column first; the demo's traffic is inside the range.
          if (t.format === 0) {
            assert.ok(rows.length > 0, `${f} "${p.title}": no rows`);
            assert.equal(Object.keys(rows[0] ?? {})[0], 'time', `${f} "${p.title}": first column must be time`);
          }
          results.set(`${d.uid}/${p.title}`, rows);
        }
      }
    }
  } finally {
    await store.close();
  }
  const one = (key: string): number => Number(Object.values(results.get(key)?.[0] ?? {})[0]);
  assert.equal(one('apitap-inventory/Endpoints'), report.endpoints.length);
  assert.equal(one('apitap-inventory/Hosts'), new Set(report.endpoints.map((e) => e.host)).size);
  const api = report.endpoints.filter((e) => e.category === 'api');
  assert.equal(one('apitap-inventory/Shadow endpoints'), api.filter((e) => !e.documented).length);
  assert.equal(
    one('apitap-inventory/Orphan operations'),
    report.findings.filter((f) => f.kind === 'orphan_api').length,
  );
  assert.equal(one('apitap-findings/Critical'), report.findings.filter((f) => f.severity === 'critical').length);
  assert.equal(results.get('apitap-inventory/Endpoint inventory')?.length, report.endpoints.length);
  assert.equal(results.get('apitap-findings/Findings')?.length, report.findings.length);
  const exchanges = (results.get('apitap-traffic/Exchanges') ?? []).reduce((n, r) => n + Number(r['exchanges']), 0);
  assert.ok(exchanges >= 19, `demo has 19 exchanges, panel saw ${exchanges}`);
});
