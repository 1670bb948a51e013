// Real traffic through the netns lab: curl → nginx → JSON API, mirrored the AWS way (tc mirred →
// kernel VXLAN → UDP 4789) to the root namespace, captured there with tcpdump and dissected by tshark.
// Pins the lab itself: the mirror holds VXLAN-encapsulated HTTP with our VNI, and every request nginx
// logged is in it exactly once. Needs root and `ip netns` (skipped otherwise); tcpdump and tshark
// come from deploy/dev/install-test-deps.sh.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createLab, labUnavailableReason } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

/** Distinct TCP endpoints (ip:port) that sent a FIN, in the mirrored frames written so far. The file
 * is still being written, so its last record may be cut short (tshark then exits non-zero). */
async function mirroredFinSenders(pcap: string): Promise<number> {
  const args = [
    '-r',
    pcap,
    '-n',
    '-Y',
    'vxlan && tcp.flags.fin == 1',
    '-T',
    'fields',
    '-e',
    'ip.src',
    '-e',
    'tcp.srcport',
  ];
  const out = await run('tshark', args, { maxBuffer: 16 << 20 }).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '',
  );
  return new Set(out.split('\n').filter((l) => l.length > 0)).size;
}
const unavailable = labUnavailableReason();

/** Starts tcpdump and resolves once it is listening (it says so on stderr). */
function startTcpdump(iface: string, file: string): Promise<{ stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const p = spawn('tcpdump', ['-i', iface, '-s', '0', '-U', '--immediate-mode', '-n', '-w', file, 'udp port 4789'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`tcpdump did not start: ${err}`));
    }, 10_000);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump: ${e.message} (bash deploy/dev/install-test-deps.sh)`));
    });
    p.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (!err.includes('listening on')) return;
      clearTimeout(timer);
      resolve({
        stop: () =>
          new Promise<void>((done) => {
            if (p.exitCode !== null) return done();
            p.once('close', () => done());
            p.kill('SIGINT');
          }),
      });
    });
  });
}

test(
  'netns lab: VXLAN mirror carries every HTTP exchange nginx served',
  { skip: unavailable ?? false, timeout: 60_000 },
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'apitap-smoke-'));
    const vni = 5000 + (process.pid % 1000);
    const lab = await createLab({ vni });
    try {
      const pcap = join(work, 'mirror.pcap');
      const dump = await startTcpdump(lab.rootIf, pcap);
      const u = (p: string): string => `${lab.apiUrl}${p}`;
      const fixtures = execFileSync(
        'node',
        [join(repoRoot, 'test', 'support', 'jsonapi', 'server.mjs'), '--fixtures'],
        { encoding: 'utf8' },
      );
      const { orderIds } = JSON.parse(fixtures) as { orderIds: string[] };
      const gets = [
        '/health',
        '/api/v1/users/1',
        '/api/v1/users/42',
        '/api/v1/users/999',
        '/api/v1/users/5000',
        '/api/v1/users?limit=40',
        `/api/v1/orders/${orderIds[0] ?? ''}`,
        `/api/v1/orders/${orderIds[1] ?? ''}/items`,
        '/api/v2/products?page=1',
        '/api/v2/products?page=2&per_page=50',
        '/api/v2/products/17',
        '/api/v1/accounts/3',
        '/api/v2/accounts/3',
        '/api/v1/search?q=chair',
        '/internal/debug',
        '/api/v1/users/me',
        '/api/v1/nope',
      ];
      // One curl process: one keep-alive connection for all 20 requests; gzip asked for on all of them.
      const argv = ['curl', '-sS', '--compressed', '--max-time', '20'];
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
      argv.push(
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        'Content-Type: application/json',
        '--data',
        '{"items":[{"sku":"SKU-1","qty":2}]}',
        u('/api/v1/orders'),
      );
      argv.push(
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        'Authorization: Bearer not-a-real-token',
        u('/api/v1/users/me'),
      );
      await lab.exec('cli', argv);
      // curl has exited: the mirror is complete once it holds the FIN of both ends of the connection
      // (each direction is mirrored in order, so everything each end sent came before its FIN).
      await waitFor(async () => (await mirroredFinSenders(pcap)) >= 2, {
        timeoutMs: 15_000,
        what: 'the FIN of client and server in the mirror',
        everyMs: 100,
      });
      await dump.stop();
      assert.ok(statSync(pcap).size > 24, 'tcpdump wrote no packets');

      const logged = readFileSync(lab.accessLog, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      assert.equal(logged.length, 20, `nginx access log:\n${logged.join('\n')}`);

      const { stdout } = await run(
        'tshark',
        [
          '-r',
          pcap,
          '-n',
          '-Y',
          'vxlan && http.request',
          '-T',
          'fields',
          '-E',
          'separator=|',
          '-e',
          'vxlan.vni',
          '-e',
          'http.request.method',
          '-e',
          'http.request.uri',
        ],
        { maxBuffer: 16 << 20 },
      );
      const requests = stdout.split('\n').filter((l) => l.length > 0);
      for (const r of requests) assert.equal(r.split('|')[0], String(vni), `request outside VNI ${vni}: ${r}`);
      assert.equal(
        requests.length,
        logged.length,
        `tshark saw ${requests.length} requests, nginx logged ${logged.length}`,
      );
      const uris = requests.map((r) => r.split('|')[2] ?? '');
      assert.ok(
        uris.includes('/internal/debug') && uris.includes('/api/v1/login'),
        'undocumented route and login are in the mirror',
      );

      const resp = await run(
        'tshark',
        ['-r', pcap, '-n', '-Y', 'vxlan && http.response', '-T', 'fields', '-e', 'http.response.code'],
        { maxBuffer: 16 << 20 },
      );
      const codes = resp.stdout.split('\n').filter((l) => l.length > 0);
      assert.equal(codes.length, 20, 'one response per request in the mirror');
      assert.ok(
        codes.includes('404') && codes.includes('401') && codes.includes('201'),
        `status mix: ${codes.join(',')}`,
      );
    } finally {
      await lab.down();
      rmSync(work, { recursive: true, force: true });
    }
    const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.ok(!ns.includes(lab.srvNs) && !ns.includes(lab.cliNs), `namespaces left behind:\n${ns}`);
    const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    assert.ok(
      !links.includes(`${lab.rootIf}:`) && !links.includes(`${lab.rootIf}@`),
      `root-side veth left behind: ${lab.rootIf}`,
    );
  },
);
