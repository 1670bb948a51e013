// Issue 12 on real traffic: curl → nginx → JSON API in the netns lab (one lab, set up once), the
// server's traffic captured three ways at the same time while the client talks:
//  1. tcpdump on the server's Ethernet interface (plain frames);
//  2. NFLOG: an nftables `log group N` rule on port 80 in the server's namespace, read by
//     `tcpdump -i nflog:N` (LINKTYPE_NFLOG, captured by the kernel);
//  3. a pipe: `tcpdump -w -` into `apitap replay -` (standard input), ended by tcpdump's EOF; and a
//     second pipe ended by SIGINT to apitap itself, which must still print its report.
// Then every tunnel / link encapsulation of test/support/encap.ts is applied to the real frames of (1)
// (this kernel has no geneve/gre/ipip/sit/ip6tnl/erspan drivers: `ip link add type gre` answers
// "Unknown device type"; the test says so when it finds them missing) and each resulting capture is
// checked: apitap's requests/responses equal tshark's on the same file, every request nginx logged is
// an exchange, every exchange carries the expected tunnel identity, and packets reconcile (no silent
// drop). Needs root, `ip netns`, tcpdump, tshark, nft (skipped otherwise, with the reason).
import { isCounterName } from '../../engine/contracts/catalogue.js';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { NOT_ANALYSED } from '../../collectors/decode/reasons.js';
import { readCapture } from '../../collectors/source/capture.js';
import { pcapFile, type TestRecord } from '../../collectors/source/testing.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { cliCommand } from '../support/cli.js';
import { ENCAPSULATIONS } from '../support/encap.js';
import { createLab, labUnavailableReason, type Lab } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';

const run = promisify(execFile);
const NFLOG_GROUP = 12;

function toolsMissing(): string | null {
  const lab = labUnavailableReason();
  if (lab !== null) return lab;
  for (const t of ['tcpdump', 'tshark', 'nft', 'nginx', 'curl'])
    if (spawnSync('sh', ['-c', `command -v ${t} || test -x /usr/sbin/${t}`], { stdio: 'ignore' }).status !== 0)
      return `'${t}' missing (bash deploy/dev/install-test-deps.sh)`;
  return null;
}
const unavailable = toolsMissing();

/** tcpdump inside a namespace; resolves once it listens. `stdout: 'pipe'` for `-w -`. */
function tcpdump(ns: string, args: readonly string[], pipeOut = false): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-s', '0', '-U', '-n', ...args], {
      stdio: ['ignore', pipeOut ? 'pipe' : 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`tcpdump did not start: ${err}`));
    }, 10_000);
    p.on('error', (e) => reject(e));
    p.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
}
const exitOf = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null || p.signalCode !== null
    ? Promise.resolve(p.exitCode)
    : new Promise((ok) => p.once('close', (code) => ok(code)));
async function stop(p: ChildProcess, sig: NodeJS.Signals = 'SIGINT'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill(sig);
  await exitOf(p);
}

/** `apitap replay - --no-analyze --format json --exchanges FILE` fed by tcpdump's stdout. */
function pipeToApitap(dump: ChildProcess, exchanges: string): { proc: ChildProcess; out: () => string } {
  const [cmd, ...pre] = cliCommand();
  const proc = spawn(
    cmd as string,
    [...pre, 'replay', '-', '--no-analyze', '--format', 'json', '--exchanges', exchanges],
    { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stdin?.on('error', () => undefined);
  dump.stdout?.pipe(proc.stdin!);
  return { proc, out: () => out };
}

async function analyse(file: string): Promise<{ exchanges: Exchange[]; counters: Counters }> {
  const counters = new Counters();
  const exchanges: Exchange[] = [];
  const col = createCollector(DEFAULT_COLLECTOR_OPTIONS, (e) => exchanges.push(e), counters);
  const res = await readCapture(file, col, { counters });
  col.finish();
  assert.deepEqual(
    res.problems.map((p) => p.code),
    [],
    `${file}: ${res.problems.map((p) => p.message).join('; ')}`,
  );
  return { exchanges, counters };
}

interface Counts {
  requests: number;
  responses: number;
}
/** tshark's HTTP request and response counts (default dissectors and ports), one pass; key 0. */
async function tsharkCounts(file: string): Promise<Map<number, Counts>> {
  const fields = ['-T', 'fields', '-e', 'frame.time_epoch', '-e', 'http.request', '-e', 'http.response'];
  const { stdout } = await run('tshark', ['-n', '-r', file, '-Y', 'http.request || http.response', ...fields], {
    maxBuffer: 64 << 20,
  });
  const out = new Map<number, Counts>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [t = '0', rq = '', rs = ''] = line.split('\t');
    const k = Number(t) >= 0 ? 0 : -1;
    const c = out.get(k) ?? { requests: 0, responses: 0 };
    c.requests += rq === '' ? 0 : rq.split(',').length;
    c.responses += rs === '' ? 0 : rs.split(',').length;
    out.set(k, c);
  }
  return out;
}

function assertReconciled(c: Counters, what: string): void {
  let reasons = 0;
  for (const k of NOT_ANALYSED) if (isCounterName(k)) reasons += c.get(k);
  assert.ok(NOT_ANALYSED.size >= 10, 'the reasons are listed');
  assert.equal(c.get('tcp_segments_tracked') + reasons, c.get('packets'), `${what}: packets reconcile`);
}

/** Requests nginx logged, as "METHOD target". */
function logged(lab: Lab): string[] {
  return readFileSync(lab.accessLog, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => /"(\S+) (\S+) HTTP\/[\d.]+"/.exec(l))
    .map((m) => (m === null ? '?' : `${m[1]} ${m[2]}`))
    .sort();
}
const requestsOf = (exs: readonly Exchange[]): string[] =>
  exs
    .filter((e) => e.request !== null)
    .map((e) => `${e.request?.method} ${e.request?.target}`)
    .sort();

describe('encapsulations and link types on real traffic', { skip: unavailable ?? false, timeout: 240_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'apitap-e12-'));
  const plainPcap = join(work, 'eth0.pcap');
  const nflogPcap = join(work, 'nflog.pcap');
  const pipedJsonl = join(work, 'piped.jsonl');
  let lab: Lab | null = null;
  let served: string[] = [];
  let piped: { code: number | null; out: string } = { code: null, out: '' };

  before(async () => {
    lab = await createLab({ id: `e12${(process.pid % 46656).toString(36)}`, mirror: false });
    const l = lab;
    await l.exec('srv', [
      'nft',
      `add table inet e12 { chain i { type filter hook input priority 0; tcp dport 80 log group ${NFLOG_GROUP}; }; ` +
        `chain o { type filter hook output priority 0; tcp sport 80 log group ${NFLOG_GROUP}; }; }`,
    ]);
    const eth = await tcpdump(l.srvNs, ['-i', 'eth0', '-w', plainPcap, 'tcp port 80']);
    const nfl = await tcpdump(l.srvNs, ['-i', `nflog:${NFLOG_GROUP}`, '-w', nflogPcap]);
    const pipeDump = await tcpdump(l.srvNs, ['-i', 'eth0', '-w', '-', 'tcp port 80'], true);
    const pipe = pipeToApitap(pipeDump, pipedJsonl);
    try {
      const u = (p: string): string => `${l.apiUrl}${p}`;
      const a = ['curl', '-sS', '--compressed', '--max-time', '20'];
      for (const p of [
        '/api/v1/users/1',
        '/api/v1/users/42',
        '/api/v2/products?page=1',
        '/api/v1/users?limit=40',
        '/health',
      ])
        a.push('-o', '/dev/null', u(p));
      a.push(
        '--next',
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        'Content-Type: application/json',
        '--data',
        '{"username":"e12","password":"x y z"}',
        u('/api/v1/login'),
      );
      await l.exec('cli', a, { timeoutMs: 30_000 });
      const b = ['curl', '-sS', '--max-time', '20'];
      for (const id of [3, 4, 5]) b.push('-o', '/dev/null', u(`/api/v1/users/${id}`));
      await l.exec('cli', b, { timeoutMs: 30_000 });
      // The last ACK/FIN reach the captures shortly after curl returns; NFLOG batches in the kernel and
      // flushes within a second (nfnetlink_log's default flush timeout).
      await new Promise((r) => setTimeout(r, 1200));
    } finally {
      await Promise.all([stop(eth), stop(nfl), stop(pipeDump)]);
    }
    const code = await Promise.race([exitOf(pipe.proc), new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    piped = { code, out: pipe.out() };
    served = logged(l);
  });

  after(async () => {
    await lab?.down();
    if (process.env['E12_KEEP'] === undefined) rmSync(work, { recursive: true, force: true });
  });

  it('nginx served the traffic', () => assert.ok(served.length >= 9, `nginx logged ${served.length}`));

  it('the plain capture: apitap = tshark = nginx', async () => {
    const { exchanges, counters } = await analyse(plainPcap);
    assert.deepEqual(requestsOf(exchanges), served);
    const t = (await tsharkCounts(plainPcap)).get(0);
    assert.deepEqual(t, { requests: served.length, responses: served.length });
    assert.equal(exchanges.filter((e) => e.response !== null).length, t.responses);
    assert.ok(exchanges.every((e) => e.tunnel === null && e.vni === null));
    assertReconciled(counters, 'plain');
  });

  it('NFLOG (nftables log group, tcpdump -i nflog:N): apitap = tshark = nginx', async () => {
    const head = readFileSync(nflogPcap).readUInt32LE(20);
    assert.equal(head & 0xffff, 239, 'the capture is LINKTYPE_NFLOG');
    const { exchanges, counters } = await analyse(nflogPcap);
    const t = (await tsharkCounts(nflogPcap)).get(0);
    assert.deepEqual(requestsOf(exchanges), served);
    assert.equal(t?.requests, served.length);
    assert.equal(exchanges.filter((e) => e.response !== null).length, t.responses);
    assertReconciled(counters, 'nflog');
  });

  it('tcpdump -w - | apitap replay -: every logged request is an exchange, report on EOF', () => {
    assert.equal(piped.code, 0, piped.out.slice(-2000));
    const report = JSON.parse(piped.out.trim().split('\n').pop() ?? '{}') as {
      capture?: { requests: number; responses: number; packets: number };
    };
    assert.equal(report.capture?.requests, served.length);
    assert.equal(report.capture?.responses, served.length);
    const exs = readFileSync(pipedJsonl, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Exchange);
    assert.deepEqual(requestsOf(exs), served);
  });

  it('SIGINT to apitap reading a live pipe ends it cleanly with its report', async () => {
    const l = lab!;
    const dump = await tcpdump(l.srvNs, ['-i', 'eth0', '-w', '-', 'tcp port 80'], true);
    const p = pipeToApitap(dump, join(work, 'sigint.jsonl'));
    try {
      await l.exec('cli', ['curl', '-sS', '-o', '/dev/null', '--max-time', '10', `${l.apiUrl}/health`]);
      // apitap handles SIGINT once it says it reads standard input.
      for (let i = 0; i < 300 && !p.out().includes('reading a capture from standard input'); i++)
        await new Promise((r) => setTimeout(r, 100));
      p.proc.kill('SIGINT');
      const code = await exitOf(p.proc);
      assert.equal(code, 0, p.out().slice(-2000));
      const rep = JSON.parse(p.out().trim().split('\n').pop() ?? '{}') as { schema?: string };
      assert.equal(rep.schema, 'report/v1');
    } finally {
      await stop(dump);
    }
  });

  it('the kernel tunnel drivers this machine has (reported, not required)', (t) => {
    const ns = `e12probe${process.pid % 10000}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const kinds = [
        'geneve id 1 remote 192.0.2.1',
        'gretap remote 192.0.2.1',
        'ipip remote 192.0.2.1',
        'erspan remote 192.0.2.1 seq erspan_ver 1 erspan 1',
      ];
      const have = kinds.filter(
        (k) =>
          spawnSync('ip', ['-n', ns, 'link', 'add', 'e12t', 'type', ...k.split(' ')]).status === 0 &&
          spawnSync('ip', ['-n', ns, 'link', 'del', 'e12t']).status === 0,
      );
      t.diagnostic(
        `kernel tunnel drivers available: ${have.map((k) => k.split(' ')[0]).join(', ') || 'none'} (captures below are re-encapsulated real frames)`,
      );
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });

  // Every encapsulation of the real frames, one capture each. tshark reads each file on its own: in one
  // merged file it would join the copies into one conversation by their identical inner 4-tuples.
  const encFiles = new Map<string, string>();
  const tsharkByEnc = new Map<number, Counts>();
  it('re-encapsulated captures are written and dissected by tshark', async () => {
    for (const enc of ENCAPSULATIONS) {
      const records: TestRecord[] = [];
      let i = 0;
      await readCapture(plainPcap, {
        onFrame(frame, _lt, tsUs) {
          for (const f of enc.wrap(Buffer.from(frame), i)) records.push({ tsUs, data: f });
          i++;
        },
      });
      const file = join(work, `${enc.name}.pcap`);
      writeFileSync(file, pcapFile(records, { snaplen: 262144 }));
      encFiles.set(enc.name, file);
    }
    // Two tshark processes at a time (the machine's cores).
    const queue = [...ENCAPSULATIONS.keys()];
    const worker = async (): Promise<void> => {
      for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
        const c = (await tsharkCounts(encFiles.get(ENCAPSULATIONS[k]!.name)!)).get(0);
        if (c !== undefined) tsharkByEnc.set(k, c);
      }
    };
    await Promise.all([worker(), worker()]);
  });

  for (const [k, enc] of ENCAPSULATIONS.entries()) {
    it(`${enc.name}: apitap = tshark = nginx, tunnel ${JSON.stringify(enc.tunnel)}`, async () => {
      const file = encFiles.get(enc.name);
      assert.ok(file !== undefined, 'capture written');
      const { exchanges, counters } = await analyse(file);
      const t = tsharkByEnc.get(k);
      assert.deepEqual(requestsOf(exchanges), served, enc.name);
      assert.deepEqual(t, { requests: served.length, responses: served.length }, `tshark on ${enc.name}`);
      assert.equal(exchanges.filter((e) => e.response !== null).length, t.responses);
      for (const e of exchanges) assert.deepEqual(e.tunnel, enc.tunnel);
      assertReconciled(counters, enc.name);
      assert.equal(
        counters.get('decode_malformed') + counters.get('decode_truncated'),
        0,
        JSON.stringify(counters.snapshot('decode_')),
      );
    });
  }
});
