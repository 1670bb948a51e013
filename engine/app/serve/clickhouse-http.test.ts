// The ClickHouse HTTP interface over an embedded store: formats, parameters, errors with ClickHouse's
// codes, read-only enforcement, credentials, and discovery through <store>/serve.json. The store is
// filled by a real replay of deploy/demo/demo.pcap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openChdbStore } from '../../adapters/store/chdb.js';
import type { Store } from '../../adapters/store/types.js';
import { Counters } from '../../contracts/counters.js';
import { createAnalysisSession } from '../pipelines/analyze.js';
import { replay } from '../pipelines/replay.js';
import { openStoreFromFlags } from '../cli/store.js';
import { repoRoot } from '../../../test/support/paths.js';
import { readServeFile, SERVE_FILE } from './discovery.js';
import { serveStore, ServeConfigError, type StoreServer } from './owner.js';
import { createChdbRawRunner } from '../../adapters/store/chdb-raw.js';
import { serveClickHouseHttp } from './clickhouse-http.js';

const dir = mkdtempSync(join(tmpdir(), 'apitap-serve-'));
let store: Store;
let server: StoreServer;
let url: string;
const counters = new Counters();

before(async () => {
  store = await openChdbStore(dir);
  await store.migrate();
  const session = createAnalysisSession(
    { specs: [], previousSpecs: [], overrides: null, secret: Buffer.alloc(32, 7), store },
    new Counters(),
  );
  await replay({ inputs: [join(repoRoot, 'deploy', 'demo', 'demo.pcap')], analysis: session });
  server = await serveStore(dir, { host: '127.0.0.1', port: 0 }, counters, {});
  url = server.http.url;
});

after(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(q: string, extra: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  const u = new URL(url);
  u.searchParams.set('query', q);
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  return fetch(u, init);
}

test('formats: TabSeparated by default, JSONEachRow, JSON, default_format', async () => {
  const n = (await store.query('SELECT count() AS c FROM exchanges'))[0]?.['c'];
  assert.ok(Number(n) > 0);
  const tsv = await get('SELECT count() FROM exchanges');
  assert.equal(tsv.status, 200);
  assert.equal(await tsv.text(), `${n}\n`);
  assert.match(tsv.headers.get('content-type') ?? '', /tab-separated/);

  const jer = await get('SELECT host, count() AS c FROM exchanges GROUP BY host ORDER BY host FORMAT JSONEachRow');
  const rows = (await jer.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { host: string; c: string });
  assert.equal(
    rows.reduce((s, r) => s + Number(r.c), 0),
    Number(n),
  );
  assert.equal(jer.headers.get('x-clickhouse-format'), 'JSONEachRow');

  const json = (await (await get('SELECT count() AS c FROM endpoints FORMAT JSON')).json()) as {
    data: { c: string }[];
    rows: number;
  };
  assert.equal(json.rows, 1);
  assert.equal(Number(json.data[0]?.c), (await store.endpoints()).length);

  const dflt = await get('SELECT 1 AS one', { default_format: 'JSONEachRow' });
  assert.deepEqual(JSON.parse(await dflt.text()), { one: 1 });
});

test('query parameters are bound by the engine, never spliced', async () => {
  const eps = await store.endpoints();
  const host = eps[0]?.host ?? '';
  const want = eps.filter((e) => e.host === host).length;
  const r = await get('SELECT count() FROM endpoints WHERE host = {h:String}', { param_h: host });
  assert.equal(await r.text(), `${want}\n`);
  const evil = await get('SELECT count() FROM endpoints WHERE host = {h:String}', { param_h: "x' OR 1=1 --" });
  assert.equal(await evil.text(), '0\n');
  // POST with the query in the body, parameters in the URL (what @clickhouse/client sends).
  const u = new URL(url);
  u.searchParams.set('param_h', host);
  const post = await fetch(u, { method: 'POST', body: 'SELECT count() FROM endpoints WHERE host = {h:String}' });
  assert.equal(await post.text(), `${want}\n`);
});

test('errors carry ClickHouse codes and statuses', async () => {
  const syntax = await get('SELEC 1');
  assert.equal(syntax.status, 400);
  assert.equal(syntax.headers.get('x-clickhouse-exception-code'), '62');
  assert.match(await syntax.text(), /^Code: 62\. DB::Exception: .*SYNTAX_ERROR/s);
  const missing = await get('SELECT * FROM no_such_table');
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-clickhouse-exception-code'), '60');
  const empty = await fetch(`${url}/`, { method: 'POST', body: '' });
  assert.equal(empty.headers.get('x-clickhouse-exception-code'), '62');
  const badSetting = await get('SELECT 1', { 'bad-name': '1' });
  assert.equal(badSetting.headers.get('x-clickhouse-exception-code'), '115');
  const session = await get('SELECT 1', { session_id: 'x' });
  assert.equal(session.status, 501);
  const ping = await fetch(`${url}/ping`);
  assert.equal(await ping.text(), 'Ok.\n');
});

test('read-only: INSERT, ALTER, DROP, CREATE and lowering readonly are refused (Code 164)', async () => {
  const before = (await store.query('SELECT count() AS c FROM exchanges'))[0]?.['c'];
  const statements = [
    "INSERT INTO exchanges (id) VALUES ('x')",
    'ALTER TABLE exchanges DELETE WHERE 1',
    'DROP TABLE exchanges',
    'TRUNCATE TABLE exchanges',
    'CREATE TABLE evil (x UInt8) ENGINE = Memory',
    "SET readonly = '0'",
  ];
  for (const sql of statements) {
    const r = await fetch(`${url}/`, { method: 'POST', body: sql });
    assert.equal(r.status, 403, sql);
    assert.equal(r.headers.get('x-clickhouse-exception-code'), '164', sql);
  }
  const lowered = await get('SELECT 1', { readonly: '0' });
  assert.equal(lowered.headers.get('x-clickhouse-exception-code'), '164');
  // INSERT with the data in the body, as a client's insert() sends it.
  const u = new URL(url);
  u.searchParams.set('query', 'INSERT INTO exchanges (id) FORMAT JSONEachRow');
  const ins = await fetch(u, { method: 'POST', body: '{"id":"y"}\n' });
  assert.equal(ins.headers.get('x-clickhouse-exception-code'), '164');
  assert.equal((await store.query('SELECT count() AS c FROM exchanges'))[0]?.['c'], before);
  assert.deepEqual(await store.query("SELECT name FROM system.tables WHERE name = 'evil'"), []);
});

test("writable mode (the tests' stand-in server): INSERT rows from the body, GET stays read-only", async () => {
  const w = await serveClickHouseHttp({
    runner: createChdbRawRunner(dir, 'writable'),
    writable: true,
    host: '127.0.0.1',
    port: 0,
  });
  try {
    const post = (q: string, body = ''): Promise<Response> => {
      const u = new URL(w.url);
      u.searchParams.set('query', q);
      return fetch(u, { method: 'POST', body });
    };
    const made = await post('CREATE TABLE IF NOT EXISTS scratch (a UInt8) ENGINE = MergeTree ORDER BY a');
    assert.equal(made.status, 200, await made.text());
    const ins = await post('INSERT INTO scratch FORMAT JSONEachRow', '{"a":1}\n{"a":2}\n');
    assert.equal(ins.status, 200, await ins.text());
    assert.equal(JSON.parse(ins.headers.get('x-clickhouse-summary') ?? '{}').written_rows, '2');
    const viaGet = await fetch(`${w.url}/?query=${encodeURIComponent('INSERT INTO scratch VALUES (3)')}`);
    assert.equal(viaGet.status, 403);
    assert.equal(viaGet.headers.get('x-clickhouse-exception-code'), '164');
    const sum = await post('SELECT sum(a) FROM scratch');
    assert.equal(await sum.text(), '3\n');
    // The product's read-only server over the same directory still refuses the write.
    const ro = await get('INSERT INTO scratch VALUES (4)', {}, { method: 'POST' });
    assert.equal(ro.headers.get('x-clickhouse-exception-code'), '164');
  } finally {
    await w.close();
  }
});

test('credentials: required off loopback, checked when set', async () => {
  await assert.rejects(
    serveStore(dir, { host: '0.0.0.0', port: 0 }, counters, {}),
    (e: unknown) => e instanceof ServeConfigError && /APITAP_HTTP_USER/.test(e.message),
  );
  const guarded = await serveStore(dir, { host: '127.0.0.1', port: 0 }, counters, {
    APITAP_HTTP_USER: 'reader',
    APITAP_HTTP_PASSWORD: 's3cret',
  });
  try {
    const anon = await fetch(`${guarded.http.url}/?query=SELECT%201`);
    assert.equal(anon.status, 403);
    assert.equal(anon.headers.get('x-clickhouse-exception-code'), '516');
    const wrong = await fetch(`${guarded.http.url}/?query=SELECT%201`, {
      headers: { authorization: `Basic ${Buffer.from('reader:nope').toString('base64')}` },
    });
    assert.equal(wrong.headers.get('x-clickhouse-exception-code'), '516');
    const ok = await fetch(`${guarded.http.url}/?query=SELECT%201`, {
      headers: { 'x-clickhouse-user': 'reader', 'x-clickhouse-key': 's3cret' },
    });
    assert.equal(await ok.text(), '1\n');
  } finally {
    await guarded.close();
  }
  // The guarded server was the last to write serve.json; put the open one back for the next test.
  await server.close();
  server = await serveStore(dir, { host: '127.0.0.1', port: 0 }, counters, {});
  url = server.http.url;
});

test('serve.json: readers go through the running owner, writers get a clear error', async () => {
  assert.ok(existsSync(join(dir, SERVE_FILE)));
  assert.equal(readServeFile(dir)?.url, url);
  const viaHttp = await openStoreFromFlags({ store: dir }, 'read');
  try {
    assert.deepEqual(await viaHttp.endpoints(), await store.endpoints());
    assert.deepEqual(await viaHttp.findings(), await store.findings());
    const n = await viaHttp.query('SELECT count() AS c FROM exchanges WHERE host = {h:String}', {
      h: (await store.endpoints())[0]?.host ?? '',
    });
    assert.ok(Number(n[0]?.['c']) > 0);
  } finally {
    await viaHttp.close();
  }
  await assert.rejects(openStoreFromFlags({ store: dir }, 'write'), /owned by a running apitap/);
  assert.ok(counters.get('serve_http_queries') > 0 && counters.get('serve_http_errors') > 0);
});

test('exchange rows join the inventory through endpoint_paths, none unmatched', async () => {
  const rows = await store.query(
    `SELECT countIf(ep.path = '') AS unmatched, count() AS total
     FROM exchanges AS e
     LEFT JOIN endpoint_paths AS m ON e.host = m.host AND e.method = m.method AND e.path = m.raw_path
     LEFT JOIN endpoints AS ep ON e.host = ep.host AND e.method = ep.method AND m.path = ep.path
     WHERE e.method != ''`,
  );
  assert.ok(Number(rows[0]?.['total']) > 0);
  assert.equal(Number(rows[0]?.['unmatched']), 0);
});
