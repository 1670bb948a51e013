// Issue 4 end to end, on real parts: curl → nginx → JSON API in network namespaces, both directions
// of the server's interface mirrored by the Linux kernel the way AWS Traffic Mirroring does it
// (tc clsact + u32 match-all + `mirred egress mirror` → kernel VXLAN device → UDP 4789), received by
// `apitap collect --vxlan`, published to a real Kafka broker (KRaft, deploy/kafka/broker.sh),
// consumed by `apitap analyze` and written through @clickhouse/client to the ClickHouse engine
// (chDB behind ClickHouse's HTTP interface, test/support/clickhouse-cluster.front.ts).
// Asserts the inventory and findings expected from what the client sent, and that every request
// nginx logged is accounted for (requests in = exchange rows out). Runs three mirrors: standard
// MTU, jumbo frames (MTU 9001), and a mirror that truncates packets (AWS "packet length").
// Needs root and `ip netns` (skipped otherwise, with the reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openClickHouseStore } from '../../engine/adapters/store/clickhouse.js';
import type { Store } from '../../engine/adapters/store/types.js';
import { useCluster } from '../support/cluster.js';
import { groupLag, uniqueName } from '../support/kafka.js';
import { waitFor } from '../support/wait.js';
import { createLab, labUnavailableReason, type Lab } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { startApitap, until, type Proc } from '../support/procs.js';

const unavailable = labUnavailableReason();
const spec = join(repoRoot, 'test', 'support', 'jsonapi', 'openapi.yaml');

const cluster = useCluster('apitap-mirror-', unavailable === null);
const work = cluster.work;

interface Scenario {
  name: string;
  jumbo?: boolean;
  truncate?: number;
}

/** The client's traffic: one keep-alive connection per curl, JSON API routes, PII, a login, a deprecated and an undocumented route. */
async function drive(lab: Lab): Promise<void> {
  const fixtures = execFileSync('node', [join(repoRoot, 'test', 'support', 'jsonapi', 'server.mjs'), '--fixtures'], {
    encoding: 'utf8',
  });
  const { orderIds } = JSON.parse(fixtures) as { orderIds: string[] };
  const u = (p: string): string => `${lab.apiUrl}${p}`;
  const gets = [
    '/api/v1/users/1',
    '/api/v1/users/42',
    '/api/v1/users/999',
    '/api/v1/users/5000',
    '/api/v1/users/77',
    '/api/v1/users/123',
    '/api/v1/users/me',
    `/api/v1/orders/${orderIds[0] ?? ''}/items`,
    `/api/v1/orders/${orderIds[1] ?? ''}/items`,
    `/api/v1/orders/${orderIds[2] ?? ''}/items`,
    '/api/v2/products?page=1',
    '/api/v2/products?page=2',
    '/api/v1/accounts/3',
    '/api/v1/accounts/4',
    '/internal/debug',
    '/api/v1/users?limit=40',
    '/health',
  ];
  const argv = ['curl', '-sS', '--compressed', '--max-time', '30'];
  for (const p of gets) argv.push('-o', '/dev/null', u(p));
  argv.push(
    '--next',
    '-sS',
    '-o',
    '/dev/null',
    '-H',
    'Content-Type: application/json',
    '--data',
    '{"username":"alice","password":"correct horse battery"}',
    u('/api/v1/login'),
  );
  await lab.exec('cli', argv, { timeoutMs: 60_000 });
  // A second connection in parallel-free sequence: more ids for templating.
  const more = ['curl', '-sS', '--max-time', '30'];
  for (const id of [2, 3, 4, 5, 6, 7, 8]) more.push('-o', '/dev/null', u(`/api/v1/users/${id}`));
  await lab.exec('cli', more, { timeoutMs: 60_000 });
}

async function runScenario(s: Scenario): Promise<void> {
  const topic = uniqueName(`mirror-${s.name}`);
  const db = `mirror_${s.name}_${process.pid}`;
  const vni = 6000 + (process.pid % 500) + (s.jumbo ? 1 : 0) + (s.truncate ? 2 : 0);
  const lab = await createLab({
    vni,
    ...(s.jumbo ? { jumbo: true } : {}),
    ...(s.truncate ? { truncate: s.truncate } : {}),
  });
  let collector: Proc | null = null;
  let analyzer: Proc | null = null;
  let store: Store | null = null;
  try {
    const healthPort = 18000 + (process.pid % 1000) + (s.truncate ? 2 : s.jumbo ? 1 : 0);
    collector = startApitap([
      'collect',
      '--vxlan',
      `${lab.collectorIp}:4789`,
      '--kafka',
      cluster.broker.bootstrap,
      '--topic',
      topic,
      '--health-port',
      String(healthPort),
      '--stats-interval',
      '0',
    ]);
    analyzer = startApitap([
      'analyze',
      '--kafka',
      cluster.broker.bootstrap,
      '--topic',
      topic,
      '--group',
      `${topic}-g`,
      '--clickhouse',
      `${cluster.front.url}/${db}`,
      '--spec',
      spec,
      '--store',
      join(work, `secret-${s.name}`),
    ]);
    // The collector is up when its health endpoint answers (the NLB check goes there, never to 4789).
    await until(
      async () => (await fetch(`http://127.0.0.1:${healthPort}/`)).status,
      (st) => st === 200,
      30_000,
      'collector health endpoint',
    );
    store = await openClickHouseStore({ url: `${cluster.front.url}/${db}` });
    await store.migrate();

    await drive(lab);
    const logged = readFileSync(lab.accessLog, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    assert.ok(logged.length >= 25, `nginx logged ${logged.length}`);

    const st = store;
    const rows = await until(
      async () => Number((await st.query('SELECT count() AS c FROM exchanges FINAL'))[0]?.['c'] ?? 0),
      (n) => n >= logged.length,
      90_000,
      `${logged.length} exchange rows in ClickHouse (collector: ${collector.stderr().slice(-400)}; analyzer: ${analyzer.stderr().slice(-400)})`,
    );
    // Stop the collector (SIGTERM: flush) and let the analyzer drain, then count once more: nothing extra.
    assert.equal(await collector.stop(), 0, collector.stderr().slice(-2000));
    const final = JSON.parse(collector.stdout().trim().split('\n').pop() ?? '{}') as {
      counters?: Record<string, number>;
    };
    const c = final.counters ?? {};
    await waitFor(async () => (await groupLag(cluster.broker.bootstrap, `${topic}-g`, topic)) === 0, {
      timeoutMs: 60_000,
      what: `the analyzer group committing every record of ${topic} (analyzer: ${analyzer.stderr().slice(-400)})`,
    });
    const after = Number((await st.query('SELECT count() AS c FROM exchanges FINAL'))[0]?.['c'] ?? 0);
    assert.equal(after, rows, 'rows stable after the collector flushed');

    // Requests in = rows out: every logged request is one exchange row with a request, each exactly once.
    const withReq = Number(
      (await st.query("SELECT count() AS c FROM exchanges FINAL WHERE method != ''"))[0]?.['c'] ?? 0,
    );
    assert.equal(
      withReq,
      logged.length,
      `requests logged by nginx ${logged.length}, exchange rows with a request ${withReq}`,
    );
    assert.equal(
      c['bus_published'],
      after,
      `collector published ${c['bus_published']} exchanges, store holds ${after}`,
    );
    assert.equal(c['bus_dropped_buffer_full'] ?? 0, 0);
    assert.ok((c['vxlan_datagrams_received'] ?? 0) > 0);

    // Inventory and findings expected from what the client sent.
    const eps = await st.endpoints();
    const key = (m: string, p: string): boolean => eps.some((e) => e.method === m && e.path === p);
    assert.ok(
      key('GET', '/api/v1/users/{id}') ||
        eps.some((e) => e.method === 'GET' && /^\/api\/v1\/users\/\{[^}]+\}$/.test(e.path)),
      `users template: ${eps.map((e) => `${e.method} ${e.path}`).join(', ')}`,
    );
    assert.ok(key('GET', '/api/v1/users/me'), '/users/me kept apart from /users/{id}');
    assert.ok(key('GET', '/internal/debug'));
    for (const e of eps) assert.deepEqual(e.vnis, [vni], `VNI on ${e.method} ${e.path}`);
    const fs = await st.findings();
    assert.ok(
      fs.some((f) => f.kind === 'shadow_api' && f.path === '/internal/debug'),
      'undocumented route is a shadow API',
    );
    assert.ok(
      fs.some((f) => f.kind === 'zombie_api' && f.path.startsWith('/api/v1/accounts/')),
      'deprecated route is a zombie',
    );
    if (!s.truncate) {
      // Bodies are whole: the login password and response PII are seen.
      assert.ok(
        fs.some((f) => f.kind === 'pii_exposure'),
        `pii findings: ${fs.map((f) => f.kind).join(',')}`,
      );
      assert.equal(c['tcp_truncated_segment'] ?? 0, 0);
    } else {
      assert.ok((c['tcp_truncated_segment'] ?? 0) > 0, `truncated mirror counted: ${JSON.stringify(c)}`);
      const trunc = Number(
        (
          await st.query(
            "SELECT count() AS c FROM exchanges FINAL WHERE has(anomalies, 'http_body_gap') OR NOT complete",
          )
        )[0]?.['c'] ?? 0,
      );
      assert.ok(trunc > 0, 'exchanges cut by the mirror are marked incomplete');
    }
    if (s.jumbo)
      assert.ok(
        (c['vxlan_datagram_max_bytes'] ?? 0) > 1600,
        `jumbo datagrams arrive whole: max ${c['vxlan_datagram_max_bytes']}`,
      );
    else assert.ok((c['vxlan_datagram_max_bytes'] ?? 0) <= 1600);
  } finally {
    await collector?.stop().catch(() => null);
    await analyzer?.stop().catch(() => null);
    await store?.close().catch(() => undefined);
    await lab.down();
  }
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.ok(!ns.includes(lab.srvNs) && !ns.includes(lab.cliNs), `namespaces left behind:\n${ns}`);
}

for (const s of [{ name: 'std' }, { name: 'jumbo', jumbo: true }, { name: 'trunc', truncate: 200 }] as Scenario[]) {
  test(
    `AWS-style VXLAN mirror → collect → Kafka → analyze → ClickHouse (${s.name})`,
    { skip: unavailable ?? false, timeout: 240_000 },
    () => runScenario(s),
  );
}
