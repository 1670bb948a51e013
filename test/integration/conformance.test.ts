// Conformance end to end, small: the conformance harness's server and client (test/accuracy/conformance)
// at a quarter of their calls, over loopback inside one network namespace, captured by tcpdump, replayed
// by the apitap CLI against shop.yaml. Every planted deviation must be found, nothing else, and the
// conformant host must get no conformance finding. The full-size run (README "Conformance") is
// test/accuracy/conformance/run.sh.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Finding } from '../../engine/contracts/inventory.js';
import { markdown, score } from '../accuracy/conformance/score.js';
import { SPEC_FILE } from '../accuracy/conformance/scenario.js';
import { apitap } from '../support/cli.js';
import { labUnavailableReason } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const tool = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const skip =
  labUnavailableReason() ??
  (!tool('tcpdump') ? 'tcpdump is not installed' : !tool('tshark') ? 'tshark is not installed' : false);

const ns = `${process.env['APITAP_NS_PREFIX'] ?? 'apitap-conf'}-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'apitap-conformance-'));
const here = join(repoRoot, 'test', 'accuracy', 'conformance');
const procs: ReturnType<typeof spawn>[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

test(
  'conformance: planted deviations are found, the conformant host yields nothing',
  { skip, timeout: 240_000 },
  async () => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const pcap = join(dir, 'capture.pcap');
    const dumpLog = join(dir, 'tcpdump.log');
    const dump = spawn('sh', [
      '-c',
      `exec ip netns exec ${ns} tcpdump -i lo -s 0 -U -n -w ${pcap} tcp port 80 2>${dumpLog}`,
    ]);
    procs.push(dump);
    await waitFor(() => existsSync(dumpLog) && readFileSync(dumpLog, 'utf8').includes('listening on'), {
      timeoutMs: 20_000,
      what: 'tcpdump listening',
    });
    const ready = join(dir, 'server.ready');
    const serverTruth = join(dir, 'server-truth.json');
    const clientTruth = join(dir, 'client-truth.json');
    const server = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'node',
        '--import',
        'tsx',
        join(here, 'server.ts'),
        '--listen',
        '127.0.0.1:80',
        '--scale',
        '0.25',
        '--truth-out',
        serverTruth,
        '--ready-file',
        ready,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    procs.push(server);
    await waitFor(() => existsSync(ready), { timeoutMs: 60_000, what: 'harness server ready' });
    execFileSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'node',
        '--import',
        'tsx',
        join(here, 'client.ts'),
        '--target',
        'http://127.0.0.1:80',
        '--scale',
        '0.25',
        '--truth-out',
        clientTruth,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 },
    );
    // The client closed its connection: wait until the capture holds both FINs.
    await waitFor(
      () => {
        const r = spawnSync('tshark', ['-r', pcap, '-n', '-Y', 'tcp.flags.fin == 1 || tcp.flags.reset == 1'], {
          encoding: 'utf8',
        });
        return r.stdout.split('\n').filter((l) => l.trim() !== '').length >= 2;
      },
      { timeoutMs: 30_000, what: 'the end of the connection in the capture' },
    );
    const serverExit = new Promise<number | null>((res) => server.on('exit', (c) => res(c)));
    server.kill('SIGTERM');
    assert.equal(await serverExit, 0, 'the server answered every request');
    dump.kill('SIGINT');
    await new Promise((res) => dump.on('exit', res));

    const r = apitap(['replay', pcap, '--spec', SPEC_FILE, '--format', 'json', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const findings = (JSON.parse(r.stdout) as { findings: unknown[] }).findings.map((f) => Finding.parse(f));
    const planted = [serverTruth, clientTruth].flatMap(
      (f) => (JSON.parse(readFileSync(f, 'utf8')) as { planted: Parameters<typeof score>[1] }).planted,
    );
    assert.ok(planted.length >= 20, `planted ${planted.length}`);
    const sc = score(findings, planted);
    assert.ok(sc.pass, markdown(sc, []));
    // Evidence is counts and pointers: no planted value reaches a finding.
    const conf = findings.filter((f) => f.kind.startsWith('undocumented_') || f.kind === 'schema_mismatch');
    for (const f of conf) assert.doesNotMatch(JSON.stringify(f), /@|JPY|lost|SKU-/, f.evidence);
  },
);
