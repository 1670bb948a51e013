// The store contract, run as ONE suite against both backends:
// - chdb:       openChdbStore() on a temporary directory in this process;
// - clickhouse: openClickHouseStore() (@clickhouse/client, unchanged) against
//               test/support/clickhouse-front.ts, a ClickHouse HTTP front over chDB that runs in a
//               child process on another temporary directory (chDB binds one directory per process).
//
// Real server: set CLICKHOUSE_URL (e.g. http://localhost:8123) and, if needed,
// APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD. The clickhouse suite then runs against that
// server in a fresh database apitap_test_<random> (dropped at the end) instead of the front, and the
// fault-injection tests (stop/restart, 503) run against a front started only for them.
//
// Run: node --import tsx --test test/integration/store.test.ts
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@clickhouse/client';
import { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import type { EndpointPii } from '../../engine/contracts/inventory.js';
import { Counters } from '../../engine/contracts/counters.js';
import { openChdbStore } from '../../engine/adapters/store/chdb.js';
import { openClickHouseStore } from '../../engine/adapters/store/clickhouse.js';
import { StoreError } from '../../engine/adapters/store/errors.js';
import { COLUMNS, TABLES } from '../../engine/adapters/store/sql.js';
import type { CaptureStatsRow, ExchangeRow, Store } from '../../engine/adapters/store/types.js';
import type { TlsEndpoint } from '../../engine/contracts/tls.js';
import { spawnClickHouseFront } from '../support/clickhouse-front.js';
import type { ClickHouseFront } from '../support/clickhouse-front.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

// Budget ~0.3-0.6 s: enough to ride over the front restarting, short enough for the "down" tests.
const FAST_RETRY = { attempts: 6, baseDelayMs: 25, maxDelayMs: 250 };

// ---------------------------------------------------------------------------------------------
// Data

function endpoint(host: string, path: string, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return EndpointRecord.parse({
    host,
    method: 'GET',
    path,
    hits: 3,
    documented: true,
    deprecated: false,
    auth: ['bearer'],
    pii: [] as EndpointPii[],
    firstSeen: '2024-03-01T10:00:00.000001Z',
    lastSeen: '2024-03-01T10:05:00.123456Z',
    statusClasses: { '2xx': 3 },
    latencyP50Ms: 12.25,
    latencyP95Ms: 80.125,
    contentTypes: ['application/json'],
    queryParams: [],
    fields: [],
    category: 'api',
    explain: [],
    vnis: [],
    ...over,
  });
}

/** The numbered migrations in deploy/clickhouse, in order: every one must be applied once. */
const MIGRATION_FILES = readdirSync(join(repoRoot, 'deploy', 'clickhouse'))
  .filter((f) => /^\d{3}_.*\.sql$/.test(f))
  .sort();

function finding(id: string, host: string, over: Partial<Finding> = {}): Finding {
  return Finding.parse({
    id,
    kind: 'shadow_api',
    severity: 'medium',
    host,
    method: 'GET',
    path: '/x',
    confidence: 0.9,
    evidence: 'seen 3 times, absent from spec',
    details: {},
    firstSeen: '2024-03-01T10:00:00.000001Z',
    lastSeen: '2024-03-01T10:05:00.123456Z',
    ...over,
  });
}

function exchange(id: string, host: string, over: Partial<ExchangeRow> = {}): ExchangeRow {
  return {
    id,
    flowId: 'f1',
    seq: 0,
    vni: null,
    host,
    method: 'GET',
    path: '/x',
    status: 200,
    requestUs: 1_709_287_200_000_001,
    latencyUs: 1234,
    requestBytes: 321,
    responseBytes: 4567,
    anomalies: [],
    complete: true,
    ...over,
  };
}

/** Rows of one test, told apart from other tests' rows by the host suffix. */
const mine = <T extends { host: string }>(rows: T[], suffix: string): T[] =>
  rows.filter((r) => r.host.endsWith(suffix));

// ---------------------------------------------------------------------------------------------
// Backends

interface Backend {
  name: string;
  open(counters?: Counters): Promise<Store>;
  /** The front for fault injection (clickhouse backend only). */
  front?: () => ClickHouseFront;
  /** Opens a store on another, new database of the same server (clickhouse backend only). */
  openDatabase?: (database: string) => Promise<Store>;
  cleanup(): Promise<void>;
}

function chdbBackend(): Backend {
  const dir = tempDir('apitap-store-chdb-');
  return {
    name: 'chdb',
    open: (counters) => openChdbStore(dir, counters, { batchRows: 1000 }),
    cleanup: async () => undefined,
  };
}

function clickhouseBackend(): Backend {
  const real = process.env['CLICKHOUSE_URL'];
  let front: ClickHouseFront | undefined;
  const creds = real
    ? {
        username: process.env['APITAP_CLICKHOUSE_USER'] ?? 'default',
        password: process.env['APITAP_CLICKHOUSE_PASSWORD'] ?? '',
      }
    : { username: 'apitap', password: `pw-${randomBytes(6).toString('hex')}` };
  const database = `apitap_test_${randomBytes(4).toString('hex')}`;
  const extraDatabases: string[] = [];
  const ensureFront = async (): Promise<ClickHouseFront> => {
    front ??= await spawnClickHouseFront({
      dir: tempDir('apitap-store-front-'),
      user: creds.username,
      password: creds.password,
    });
    return front;
  };
  return {
    name: real ? `clickhouse (${real})` : 'clickhouse (front over chDB)',
    async open(counters) {
      const base = real ?? (await ensureFront()).url;
      return openClickHouseStore(
        { url: `${base}/${database}`, ...creds, retry: FAST_RETRY, batchRows: 1000 },
        counters,
      );
    },
    ...(real ? {} : { front: () => front as ClickHouseFront }),
    async openDatabase(db) {
      const base = real ?? (await ensureFront()).url;
      extraDatabases.push(db);
      return openClickHouseStore({ url: `${base}/${db}`, ...creds, retry: FAST_RETRY });
    },
    async cleanup() {
      if (real) {
        const c = createClient({ url: real, ...creds });
        for (const db of [database, ...extraDatabases]) {
          await c.command({ query: 'DROP DATABASE IF EXISTS {db:Identifier}', query_params: { db } });
        }
        await c.close();
      }
      await front?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The suite

for (const make of [chdbBackend, clickhouseBackend]) {
  const backend = make();
  describe(`store on ${backend.name}`, () => {
    let store: Store;
    const counters = new Counters();

    before(async () => {
      store = await backend.open(counters);
      await store.migrate();
    });
    after(async () => {
      await store?.close();
      await backend.cleanup();
    });

    it('migrations are idempotent and the tables match the SQL layer', async () => {
      await store.migrate();
      const again = await backend.open();
      await again.migrate();
      await again.close();
      const applied = await store.query(`SELECT name FROM ${TABLES.migrations} ORDER BY version`);
      assert.deepEqual(
        applied.map((r) => r['name']),
        MIGRATION_FILES,
      );
      for (const [key, table] of [
        ['endpoints', TABLES.endpoints],
        ['findings', TABLES.findings],
        ['exchanges', TABLES.exchanges],
        ['captureStats', TABLES.captureStats],
        ['tls', TABLES.tls],
        ['apiFacts', TABLES.apiFacts],
      ] as const) {
        const cols = await store.query(
          'SELECT name, comment FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
          { t: table },
        );
        assert.deepEqual(
          cols.map((c) => c['name']),
          [...COLUMNS[key]],
          `columns of ${table}`,
        );
        for (const c of cols) assert.notEqual(c['comment'], '', `${table}.${String(c['name'])} has a COMMENT`);
      }
    });

    if (backend.openDatabase !== undefined) {
      const openDatabase = backend.openDatabase;
      it('two stores migrate a new database concurrently', async () => {
        const db = `${'apitap_test_'}${randomBytes(4).toString('hex')}_c`;
        const [a, b] = await Promise.all([openDatabase(db), openDatabase(db)]);
        await Promise.all([a.migrate(), b.migrate()]);
        const n = await a.query(`SELECT count() AS c FROM ${TABLES.migrations}`);
        assert.equal(Number(n[0]?.['c']), MIGRATION_FILES.length);
        await Promise.all([a.close(), b.close()]);
      });
    }

    it('endpoints round-trip exactly (unicode, empty arrays, nulls, maps, tuples)', async () => {
      const s = '.rt.test';
      const rows = [
        endpoint(`api${s}`, '/users/{userId}', {
          auth: ['bearer', 'cookie'],
          pii: [
            { kind: 'email', location: 'response.body', field: '$.customer.email' },
            { kind: 'phone', location: 'request.query', field: 'tel' },
          ],
          statusClasses: { '2xx': 10, '4xx': 2, none: 1 },
          queryParams: ['page', 'ünïcode', '名前'],
          fields: ['response.body $.items[*].id:integer', 'request.body $["a\\"b"]:string'],
          explain: ['integer segment: 17 distinct values', 'emoji 🚀 and a tab\tand newline\n'],
          vnis: [0, 4095, 16_777_215],
          contentTypes: [],
          hits: 2 ** 40,
        }),
        endpoint(`api${s}`, '/static/app.js', {
          category: 'static',
          auth: [],
          statusClasses: {},
          latencyP50Ms: null,
          latencyP95Ms: null,
          documented: false,
          deprecated: true,
          hits: 0,
        }),
        endpoint(`ÿ-ünicode${s}`, "/it's/a \\ path/{id}", { method: 'DELETE' }),
      ];
      await store.writeEndpoints(rows);
      const back = mine(await store.endpoints(), s);
      for (const r of back) assert.deepEqual(EndpointRecord.parse(r), r);
      const expected = [...rows].sort((a, b) =>
        a.host === b.host ? (a.path < b.path ? -1 : 1) : a.host < b.host ? -1 : 1,
      );
      assert.deepEqual(back, expected);
    });

    it('findings round-trip exactly (nested details, nulls)', async () => {
      const s = '.frt.test';
      const rows = [
        finding('f-nested', `api${s}`, {
          kind: 'pii_exposure',
          severity: 'high',
          evidence: 'email in response body: j***@e***.com',
          details: {
            kind: 'email',
            field: '$.customer.email',
            sample: { masked: 'j***@e***.com', hmac: 'ab12' },
            counts: [1, 2, 3],
            nothing: null,
            flag: false,
            ratio: 0.125,
            deep: { a: { b: { c: ['ü', '🚀', ''] } } },
          },
        }),
        finding('f-nulls', `api${s}`, {
          firstSeen: null,
          lastSeen: null,
          details: {},
          confidence: 0,
          kind: 'orphan_api',
          severity: 'low',
        }),
        finding('f-one', `api${s}`, { confidence: 1, severity: 'critical', kind: 'sensitive_in_url' }),
      ];
      await store.writeFindings(rows);
      const back = mine(await store.findings(), s);
      for (const r of back) assert.deepEqual(Finding.parse(r), r);
      assert.deepEqual(
        back.map((f) => f.id),
        ['f-one', 'f-nested', 'f-nulls'],
      );
      assert.deepEqual(back, [rows[2], rows[0], rows[1]]);
    });

    it('resolved findings disappear from findings() and come back only with newer evidence', async () => {
      const host = `resolve-${backend.name}.example`;
      const a = finding('res-a', host, { lastSeen: '2024-01-01T00:00:00.000001Z' });
      const b = finding('res-b', host, { lastSeen: '2024-01-01T00:00:00.000002Z' });
      await store.writeFindings([a, b]);
      assert.deepEqual(await store.activeFindingIds([host]), ['res-a', 'res-b']);
      await store.resolveFindings(['res-a']);
      await store.resolveFindings(['res-a']); // idempotent
      assert.deepEqual(await store.activeFindingIds([host]), ['res-b']);
      assert.deepEqual(
        (await store.findings()).filter((f) => f.host === host).map((f) => f.id),
        ['res-b'],
      );
      // The same state again does not revive it; newer traffic (a later last_seen) does.
      await store.writeFindings([a]);
      assert.deepEqual(await store.activeFindingIds([host]), ['res-b']);
      await store.writeFindings([{ ...a, lastSeen: '2024-01-01T00:00:01.000000Z' }]);
      assert.deepEqual(await store.activeFindingIds([host]), ['res-a', 'res-b']);
      assert.deepEqual(await store.activeFindingIds([]), []);
    });

    it('exchanges and capture statistics round-trip', async () => {
      const s = '.xrt.test';
      const xs = [
        exchange('x-1', `api${s}`, { anomalies: ['tcp_gap', 'http_bad_chunk'], complete: false, vni: 4789, seq: 7 }),
        exchange('x-2', `api${s}`, { status: null, latencyUs: null, requestUs: null, responseBytes: 0 }),
      ];
      await store.writeExchanges(xs);
      assert.deepEqual(mine(await store.exchanges(), s), xs);
      const cs: CaptureStatsRow = {
        id: `cap-${backend.name.length}`,
        source: 'capture ü.pcapng',
        firstUs: 1_709_287_200_000_001,
        lastUs: 1_709_287_260_999_999,
        stats: JSON.stringify({ packets: 10, anomalies: { tcp_gap: 1 } }),
      };
      const empty: CaptureStatsRow = { id: 'cap-empty', source: '', firstUs: null, lastUs: null, stats: '{}' };
      await store.writeCaptureStats(cs);
      await store.writeCaptureStats(empty);
      const back = await store.captureStats();
      assert.deepEqual(
        back.find((r) => r.id === cs.id),
        cs,
      );
      assert.deepEqual(
        back.find((r) => r.id === empty.id),
        empty,
      );
    });

    it('actor columns, actor events, findings with an actor and actors round-trip (migration 013)', async () => {
      const s = '.act.test';
      const actor = {
        actorId: 'a1b2c3d4e5f60718',
        clientIp: '192.0.2.7',
        forwardedFor: '203.0.113.9',
        principal: 'al****',
        principalKind: 'jwt_sub',
        principalHash: '0123456789abcdef0123456789abcdef',
        idValues: ['p0:1111111111111111', 'q:orderid:2222222222222222'],
        loginHash: '3333333333333333',
        createdHash: '',
        piiReceived: ['4444444444444444', '5555555555555555'],
      };
      await store.writeExchanges([
        exchange('xa-1', `api${s}`, { actor, path: '/orders/{orderId}', status: 404 }),
        exchange('xa-2', `api${s}`, { actor: null }),
      ]);
      const events = (await store.actorEvents()).filter((e) => e.host.endsWith(s));
      assert.deepEqual(events, [
        {
          x: 'xa-1',
          t: 1_709_287_200_000_001,
          host: `api${s}`,
          method: 'GET',
          path: '/orders/{orderId}',
          status: 404,
          ...actor,
        },
      ]);
      const f = finding('fa-1', `api${s}`, {
        kind: 'enumeration',
        actor: { id: actor.actorId, ip: actor.clientIp, principal: actor.principal, principalKind: 'jwt_sub' },
      });
      const plain = finding('fa-2', `api${s}`);
      await store.writeFindings([f, plain]);
      const back = mine(await store.findings(), s);
      assert.deepEqual(
        back.find((x) => x.id === 'fa-1'),
        f,
      );
      assert.equal(
        JSON.stringify(back.find((x) => x.id === 'fa-2')),
        JSON.stringify(plain),
        'no actor key without an actor',
      );
      const row = {
        id: `act-${backend.name}`,
        ip: 'hmac:00112233445566778899aabbccddeeff',
        principal: null,
        principalKind: null,
        principalHash: '',
        requests: 12,
        endpoints: 3,
        errors4xx: 2,
        errors5xx: 1,
        piiValues: 40,
        firstUs: 1_709_287_200_000_001,
        lastUs: 1_709_287_260_999_999,
      };
      await store.writeActors([{ ...row, requests: 5, lastUs: row.lastUs - 1 }]);
      await store.writeActors([row]);
      assert.deepEqual(
        (await store.actors()).find((a) => a.id === row.id),
        row,
        'the latest summary wins',
      );
    });

    it('TLS hosts round-trip and replace by (server, port, sni)', async () => {
      const cert = {
        subject: 'CN=api.tls.test, O=Ünïcode',
        issuer: 'CN=CA',
        sans: ['DNS:api.tls.test', 'IP Address:10.0.0.1'],
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2027-01-01T00:00:00Z',
        keyType: 'ec',
        keyBits: 256,
        curve: 'prime256v1',
        signatureAlgorithm: 'ecdsa-with-SHA256',
        serial: '1000',
        sha256: 'AB:CD',
        ca: false,
        chain: ['CN=api.tls.test, O=Ünïcode', 'CN=CA'],
      };
      const rows: TlsEndpoint[] = [
        {
          server: '10.77.0.1',
          port: 443,
          sni: 'api.tls.test',
          versions: ['TLS 1.2', 'TLS 1.3'],
          alpn: ['h2'],
          cipher: ['TLS_AES_128_GCM_SHA256'],
          certificate: cert,
          connections: 3,
          firstSeen: '2026-03-01T10:00:00.000001Z',
          lastSeen: '2026-03-01T10:00:05.999999Z',
        },
        {
          server: '10.77.0.1',
          port: 443,
          sni: null,
          versions: [],
          alpn: [],
          cipher: [],
          certificate: null,
          connections: 1,
          firstSeen: '2026-03-01T10:00:00.000001Z',
          lastSeen: '2026-03-01T10:00:00.000001Z',
        },
      ];
      await store.writeTls(rows);
      await store.writeTls(rows);
      const back = (await store.tls()).filter((r) => r.server === '10.77.0.1');
      assert.deepEqual(back, [rows[1], rows[0]]);
    });

    it('writing the same rows twice changes nothing a query can see', async () => {
      const s = '.twice.test';
      const eps = [
        endpoint(`a${s}`, '/a'),
        endpoint(`b${s}`, '/b', { pii: [{ kind: 'iban', location: 'request.body', field: '$.iban' }] }),
      ];
      const fs = [finding('tw-1', `a${s}`), finding('tw-2', `b${s}`, { details: { x: [1] } })];
      const xs = [exchange('tw-x1', `a${s}`), exchange('tw-x2', `b${s}`)];
      const snapshot = async () => ({
        endpoints: mine(await store.endpoints(), s),
        findings: mine(await store.findings(), s),
        exchanges: mine(await store.exchanges(), s),
        counts: await store.query(
          'SELECT (SELECT count() FROM endpoints WHERE endsWith(host, {s:String})) AS e, ' +
            '(SELECT count() FROM findings WHERE endsWith(host, {s:String})) AS f, ' +
            '(SELECT count() FROM exchanges WHERE endsWith(host, {s:String})) AS x',
          { s },
        ),
      });
      await store.writeEndpoints(eps);
      await store.writeFindings(fs);
      await store.writeExchanges(xs);
      const once = await snapshot();
      await store.writeEndpoints(eps);
      await store.writeFindings(fs);
      await store.writeExchanges(xs);
      const twice = await snapshot();
      assert.deepEqual(twice, once);
      // 64-bit counts are numbers or strings depending on output_format_json_quote_64bit_integers.
      assert.deepEqual(Object.values(once.counts[0] ?? {}).map(Number), [2, 2, 2]);
      await store.optimize();
      assert.deepEqual(await snapshot(), once);
    });

    it('the latest state of an endpoint wins, whatever the write order', async () => {
      const s = '.latest.test';
      const older = endpoint(`api${s}`, '/v', { hits: 5, lastSeen: '2024-03-01T10:05:00.000000Z' });
      const newer = endpoint(`api${s}`, '/v', {
        hits: 9,
        lastSeen: '2024-03-01T11:00:00.000000Z',
        statusClasses: { '2xx': 8, '5xx': 1 },
      });
      await store.writeEndpoints([newer]);
      await store.writeEndpoints([older]); // a late replay of an older state
      assert.deepEqual(mine(await store.endpoints(), s), [newer]);
    });

    it('query binds parameters; an injection attempt stays a value; user SQL cannot write', async () => {
      const s = '.param.test';
      const tricky = `o'brien\\"; DROP TABLE endpoints; --${s}`;
      await store.writeEndpoints([endpoint(tricky, '/p'), endpoint(`plain${s}`, '/p')]);
      const hit = await store.query(
        'SELECT host, path FROM endpoints WHERE host = {h:String} AND method = {m:String}',
        { h: tricky, m: 'GET' },
      );
      assert.deepEqual(hit, [{ host: tricky, path: '/p' }]);
      const miss = await store.query('SELECT count() AS c FROM endpoints WHERE host = {h:String}', {
        h: `x' OR 1=1 --${s}`,
      });
      assert.equal(Number(miss[0]?.['c']), 0);
      const arr = await store.query('SELECT count() AS c FROM endpoints WHERE has({hosts:Array(String)}, host)', {
        hosts: [tricky, `plain${s}`],
      });
      assert.equal(Number(arr[0]?.['c']), 2);
      assert.equal(mine(await store.endpoints(), s).length, 2, 'endpoints table still there');
      for (const sql of [
        'DROP TABLE endpoints',
        "INSERT INTO endpoints (host) VALUES ('x')",
        'CREATE TABLE t (a UInt8) ENGINE = Memory',
      ]) {
        await assert.rejects(
          store.query(sql),
          (e: unknown) => e instanceof StoreError && e.code === 'store_rejected' && !e.retryable,
          sql,
        );
      }
      await assert.rejects(
        store.query('SELEC 1'),
        (e: unknown) => e instanceof StoreError && e.code === 'store_rejected' && e.clickhouseCode === 62,
      );
    });

    it('sorts endpoints by (host, method, path) and findings by severity desc, kind, host, method, path, id', async () => {
      const s = '.sort.test';
      await store.writeEndpoints([
        endpoint(`b${s}`, '/a'),
        endpoint(`a${s}`, '/z', { method: 'POST' }),
        endpoint(`a${s}`, '/b'),
        endpoint(`a${s}`, '/a', { method: 'POST' }),
      ]);
      assert.deepEqual(
        mine(await store.endpoints(), s).map((e) => `${e.host} ${e.method} ${e.path}`),
        [`a${s} GET /b`, `a${s} POST /a`, `a${s} POST /z`, `b${s} GET /a`],
      );
      await store.writeFindings([
        finding('s-4', `a${s}`, { severity: 'info' }),
        finding('s-3', `b${s}`, { severity: 'high', kind: 'zombie_api' }),
        finding('s-2', `a${s}`, { severity: 'high', kind: 'zombie_api' }),
        finding('s-1', `z${s}`, { severity: 'high', kind: 'mixed_auth' }),
        finding('s-0', `a${s}`, { severity: 'critical' }),
        finding('s-5', `a${s}`, { severity: 'high', kind: 'zombie_api' }),
      ]);
      assert.deepEqual(
        mine(await store.findings(), s).map((f) => f.id),
        ['s-0', 's-1', 's-2', 's-5', 's-3', 's-4'],
      );
    });

    it('writes 10k exchanges in batches and counts them', async (t) => {
      const s = '.bulk.test';
      const xs: ExchangeRow[] = [];
      for (let i = 0; i < 10_000; i++) {
        xs.push(
          exchange(`bulk-${String(i).padStart(5, '0')}`, `api${s}`, {
            seq: i,
            requestUs: 1_709_287_200_000_000 + i * 1000,
          }),
        );
      }
      const before = counters.get('store_insert_batches');
      let t0 = performance.now();
      await store.writeExchanges(xs);
      const insertMs = performance.now() - t0;
      assert.equal(counters.get('store_insert_batches') - before, 10);
      t0 = performance.now();
      await store.writeExchanges(xs);
      const replayMs = performance.now() - t0;
      t0 = performance.now();
      await store.optimize();
      const optimizeMs = performance.now() - t0;
      const n = await store.query('SELECT count() AS c FROM exchanges WHERE endsWith(host, {s:String})', { s });
      assert.equal(Number(n[0]?.['c']), 10_000);
      t.diagnostic(
        `10k exchanges: insert ${insertMs.toFixed(0)} ms, replay ${replayMs.toFixed(0)} ms, optimize ${optimizeMs.toFixed(0)} ms`,
      );
    });

    it('rejects rows that break the contract with store_rejected', async () => {
      await assert.rejects(
        store.writeEndpoints([endpoint('bad.test', '/t', { lastSeen: 'yesterday' })]),
        (e: unknown) => e instanceof StoreError && e.code === 'store_rejected',
      );
      await assert.rejects(
        store.writeExchanges([exchange('bad-x', 'bad.test', { requestUs: 1.5 })]),
        (e: unknown) => e instanceof StoreError && e.code === 'store_rejected',
      );
    });

    if (backend.front !== undefined) {
      const front = backend.front;
      it('front down -> retryable store_unavailable; back up -> works', async () => {
        const s = '.fault.test';
        await front().stop();
        try {
          await assert.rejects(
            store.writeEndpoints([endpoint(`api${s}`, '/down')]),
            (e: unknown) => e instanceof StoreError && e.code === 'store_unavailable' && e.retryable,
          );
          await assert.rejects(store.endpoints(), (e: unknown) => e instanceof StoreError && e.retryable);
        } finally {
          await front().start();
        }
        await store.writeEndpoints([endpoint(`api${s}`, '/up')]);
        assert.deepEqual(
          mine(await store.endpoints(), s).map((e) => e.path),
          ['/up'],
        );
        assert.ok(counters.get('store_retries') > 0, 'retries were counted');
      });

      it('503 from a paused front -> store_unavailable; resumed -> works', async () => {
        const s = '.pause.test';
        await front().pause();
        try {
          await assert.rejects(
            store.writeFindings([finding('p-1', `api${s}`)]),
            (e: unknown) => e instanceof StoreError && e.code === 'store_unavailable' && e.retryable,
          );
        } finally {
          await front().resume();
        }
        await store.writeFindings([finding('p-1', `api${s}`)]);
        assert.equal(mine(await store.findings(), s).length, 1);
      });

      it('a write that fails once while the front restarts succeeds on retry', async () => {
        const s = '.restart.test';
        await front().stop();
        const retries = counters.get('store_retries');
        const pending = store.writeEndpoints([endpoint(`api${s}`, '/r')]);
        await waitFor(() => counters.get('store_retries') > retries, {
          timeoutMs: 10_000,
          what: 'the write failing once against the stopped front',
        });
        await front().start();
        await pending;
        assert.equal(mine(await store.endpoints(), s).length, 1);
      });

      it('sends compressed requests and reads compressed responses', async () => {
        const st = await front().stats();
        assert.ok(
          st.compressedRequests > 0 && st.compressedResponses > 0 && st.parameterisedRequests > 0,
          JSON.stringify(st),
        );
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Opening and closing

describe('store open/close errors', () => {
  it('chdb: unusable directory -> store_config', async () => {
    const file = join(tempDir('apitap-store-bad-'), 'a-file');
    writeFileSync(file, 'x');
    await assert.rejects(
      openChdbStore(file),
      (e: unknown) => e instanceof StoreError && e.code === 'store_config' && /not usable/.test(e.message),
    );
    const ro = tempDir('apitap-store-ro-');
    chmodSync(ro, 0o500);
    if (process.getuid?.() !== 0) {
      await assert.rejects(
        openChdbStore(join(ro, 'sub')),
        (e: unknown) => e instanceof StoreError && e.code === 'store_config',
      );
    }
    chmodSync(ro, 0o700);
  });

  it('chdb: a second directory while one is open -> store_config; after close it opens', async () => {
    const a = await openChdbStore(tempDir('apitap-store-a-'));
    const b = tempDir('apitap-store-b-');
    await assert.rejects(
      openChdbStore(b),
      (e: unknown) => e instanceof StoreError && e.code === 'store_config' && /one data directory/.test(e.message),
    );
    await a.close();
    const sb = await openChdbStore(b);
    await sb.migrate();
    await sb.close();
  });

  it('chdb: two stores on one new directory migrate concurrently', async () => {
    const dir = tempDir('apitap-store-conc-');
    const [a, b] = await Promise.all([openChdbStore(dir), openChdbStore(dir)]);
    await Promise.all([a.migrate(), b.migrate()]);
    const n = await b.query(`SELECT count() AS c FROM ${TABLES.migrations}`);
    assert.equal(Number(n[0]?.['c']), MIGRATION_FILES.length);
    await a.close();
    assert.equal((await b.endpoints()).length, 0, 'the other store on the directory stays usable');
    await b.close();
  });

  it('a closed store -> store_closed', async () => {
    const st = await openChdbStore(tempDir('apitap-store-c-'));
    await st.close();
    await st.close();
    await assert.rejects(st.endpoints(), (e: unknown) => e instanceof StoreError && e.code === 'store_closed');
  });

  it('clickhouse: bad URL, credentials in the URL, unreachable server', async () => {
    await assert.rejects(
      openClickHouseStore({ url: 'not a url' }),
      (e: unknown) => e instanceof StoreError && e.code === 'store_config',
    );
    await assert.rejects(
      openClickHouseStore({ url: 'http://user:secret@127.0.0.1:1/db' }),
      (e: unknown) => e instanceof StoreError && e.code === 'store_config' && !e.message.includes('secret'),
    );
    await assert.rejects(
      openClickHouseStore({ url: 'http://127.0.0.1:1/db', retry: { attempts: 2, baseDelayMs: 1 } }),
      (e: unknown) => e instanceof StoreError && e.code === 'store_unavailable' && e.retryable,
    );
  });
});
