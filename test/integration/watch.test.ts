// `apitap watch` live on one machine, on real parts: curl → nginx → JSON API in network namespaces,
// the server's interface mirrored by the kernel the AWS way (tc mirred → VXLAN → UDP 4789) into
// `apitap watch --vxlan`, and the same interface captured by tcpdump and piped into
// `apitap watch --pcap -`. While they run, the store is queried through the ClickHouse HTTP
// interface and through `apitap query --store` (which finds the running instance via serve.json):
// counts grow with packet-time snapshots. SIGTERM writes the final snapshot and exits 0; then every
// request nginx logged is one exchange row and one inventory hit in both stores, and every exchange
// row joins the inventory through endpoint_paths although its provisional path was a concrete SKU.
// Needs root and `ip netns` (skipped otherwise, with the reason).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apitap, cliCommand } from '../support/cli.js';
import { createLab, labUnavailableReason, type Lab } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const unavailable = labUnavailableReason();
const spec = join(repoRoot, 'test', 'support', 'jsonapi', 'openapi.yaml');

interface Running {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** The CLI; `stdinFd` (a FIFO tcpdump writes to) becomes its standard input. */
function run(args: readonly string[], stdinFd: number | 'ignore' = 'ignore'): Running {
  const argv = [...cliCommand(), ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: repoRoot, stdio: [stdinFd, 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, out: () => out, err: () => err.slice(-3000), exited };
}

async function readyUrl(r: Running): Promise<string> {
  let url = '';
  await waitFor(
    () => {
      const line = r
        .out()
        .split('\n')
        .find((l) => l.includes('"watch-ready/v1"'));
      if (line !== undefined) url = (JSON.parse(line) as { http: string }).http;
      return url !== '';
    },
    { timeoutMs: 40_000, what: () => `watch ready line (stderr: ${r.err()})` },
  );
  return url;
}

async function httpCount(url: string, sql: string): Promise<number> {
  const r = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200, await r.clone().text());
  return Number((await r.text()).trim());
}

/** One curl (one keep-alive connection) per round, then a late request that moves packet time past a snapshot. */
async function round(lab: Lab, paths: readonly string[]): Promise<void> {
  const argv = ['curl', '-sS', '--max-time', '30'];
  for (const p of paths) argv.push('-o', '/dev/null', `${lab.apiUrl}${p}`);
  await lab.exec('cli', argv, { timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 1200));
  await lab.exec('cli', ['curl', '-sS', '-o', '/dev/null', `${lab.apiUrl}/health`]);
}

const nginxRequests = (lab: Lab): number =>
  readFileSync(lab.accessLog, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0).length;

const SUMMARY = `SELECT
  (SELECT count() FROM exchanges WHERE method != '') AS requests,
  (SELECT sum(hits) FROM endpoints) AS hits,
  (SELECT countIf(ep.path = '') FROM exchanges AS e
     LEFT JOIN endpoint_paths AS m ON e.host = m.host AND e.method = m.method AND e.path = m.raw_path
     LEFT JOIN endpoints AS ep ON e.host = ep.host AND e.method = ep.method AND m.path = ep.path
     WHERE e.method != '') AS unmatched,
  (SELECT uniqExact(path) FROM exchanges WHERE path LIKE '%/SKU-%') AS sku_raw,
  (SELECT groupUniqArray(m.path) FROM exchanges AS e
     JOIN endpoint_paths AS m ON e.host = m.host AND e.method = m.method AND e.path = m.raw_path
     WHERE e.path LIKE '%/SKU-%') AS sku_endpoints,
  (SELECT arraySort(groupArray(concat(method, ' ', path, ' ', toString(status)))) FROM exchanges) AS seen`;

interface Summary {
  requests: string;
  hits: string;
  unmatched: string;
  sku_raw: string;
  sku_endpoints: string[];
  seen: string[];
}

test(
  'watch: kernel VXLAN mirror and a tcpdump pipe, queried while running, final snapshot on SIGTERM',
  {
    skip: unavailable ?? false,
    timeout: 90_000,
  },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'apitap-watch-'));
    const live = join(work, 'live');
    const piped = join(work, 'piped');
    const lab = await createLab({ id: `w16${(process.pid % 1000).toString(36)}`, vni: 7100 + (process.pid % 400) });
    let tcpdump: ChildProcess | null = null;
    const procs: Running[] = [];
    // Also when the test times out (its finally then never runs).
    after(async () => {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      tcpdump?.kill('SIGTERM');
      await lab.down();
      rmSync(work, { recursive: true, force: true });
    });
    try {
      // tcpdump writes into a FIFO that is the piped watch's standard input (a `tcpdump -w - |` pipe).
      const fifo = join(work, 'capture.fifo');
      execFileSync('mkfifo', [fifo]);
      const fifoFd = openSync(fifo, 'r+'); // read-write: opening does not wait for the writer
      const common = ['--spec', spec, '--snapshot-every', '1'];
      const vx = run(['watch', '--vxlan', `${lab.collectorIp}:4789`, '--store', live, ...common]);
      const pipe = run(['watch', '--pcap', '-', '--store', piped, ...common], fifoFd);
      closeSync(fifoFd);
      procs.push(vx, pipe);
      tcpdump = spawn(
        'ip',
        [
          'netns',
          'exec',
          lab.srvNs,
          'tcpdump',
          '-U',
          '--immediate-mode',
          '-n',
          '-s',
          '0',
          '-w',
          fifo,
          '-i',
          'eth0',
          'tcp port 80',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let tdErr = '';
      tcpdump.stderr?.on('data', (c: Buffer) => (tdErr += c.toString()));
      const [vxUrl, pipeUrl] = await Promise.all([readyUrl(vx), readyUrl(pipe)]);
      await waitFor(() => tdErr.includes('listening on'), { timeoutMs: 10_000, what: () => `tcpdump: ${tdErr}` });

      // The lab's readiness probe was logged before any watch listened.
      const before = nginxRequests(lab);
      // Round 1: users (numeric ids) and many concrete SKUs that only cardinality templates.
      const skus = Array.from(
        { length: 8 },
        (_, i) => `/api/v1/products/SKU-${(0x3f2a9c00 + i * 7919).toString(16).toUpperCase()}`,
      );
      await round(lab, ['/api/v1/users/1', '/api/v1/users/42', '/api/v1/users/me', ...skus, '/internal/debug']);
      const EX = "SELECT count() FROM exchanges WHERE method != ''";
      let c1 = 0;
      await waitFor(async () => (c1 = await httpCount(vxUrl, EX)) >= skus.length + 3, {
        timeoutMs: 20_000,
        what: () => `a mid-run snapshot in the live store (count ${c1}; ${vx.err()})`,
      });
      // Through the CLI: the store is locked by the running watch, the query goes to its HTTP interface.
      const q = apitap(['query', '--store', live, '--format', 'json', 'SELECT count() AS c FROM exchanges']);
      assert.equal(q.code, 0, q.stderr);
      assert.ok(Number((JSON.parse(q.stdout) as { c: string }).c) >= c1);

      // Round 2: the counts grow while the process runs.
      await round(lab, ['/api/v1/users/2', '/api/v1/users/3', '/api/v2/products?page=1', '/api/v1/accounts/3']);
      await waitFor(async () => (await httpCount(vxUrl, EX)) > c1, {
        timeoutMs: 20_000,
        what: () => `counts growing after round 2 (${vx.err()})`,
      });
      assert.ok((await httpCount(pipeUrl, EX)) > 0, 'the piped watch snapshots mid-run too');

      // SIGTERM: final snapshot, exit 0 (the pipe is still open: the signal ends it).
      vx.child.kill('SIGTERM');
      pipe.child.kill('SIGTERM');
      assert.equal(await vx.exited, 0, vx.err());
      assert.equal(await pipe.exited, 0, pipe.err());
      const final = JSON.parse(vx.out().trim().split('\n').pop() ?? '{}') as { counters: Record<string, number> };
      assert.ok((final.counters['watch_snapshots'] ?? 0) >= 3, JSON.stringify(final.counters));
      assert.equal(final.counters['watch_dropped_queue_full'] ?? 0, 0);

      const logged = nginxRequests(lab) - before;
      assert.equal(logged, skus.length + 4 + 1 + 4 + 1, 'every request the test sent reached nginx');
      for (const [name, dir] of [
        ['vxlan', live],
        ['pipe', piped],
      ] as const) {
        const r = apitap(['query', '--store', dir, '--format', 'json', SUMMARY]);
        assert.equal(r.code, 0, r.stderr);
        const s = JSON.parse(r.stdout) as Summary;
        assert.equal(Number(s.requests), logged, `${name}: one exchange per logged request: ${s.seen.join(', ')}`);
        assert.equal(Number(s.hits), logged, `${name}: one inventory hit per logged request`);
        assert.equal(Number(s.unmatched), 0, `${name}: every exchange row joins an endpoint`);
        assert.equal(Number(s.sku_raw), skus.length, `${name}: exchange rows keep their concrete SKU paths`);
        assert.equal(s.sku_endpoints.length, 1, `${name}: the SKUs are one endpoint: ${s.sku_endpoints.join(',')}`);
        assert.match(s.sku_endpoints[0] ?? '', /^\/api\/v1\/products\/\{[^}]+\}$/);
      }
    } finally {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      tcpdump?.kill('SIGTERM');
      await lab.down();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
