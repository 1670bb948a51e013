// What TLS reveals out of band, on real software: openssl s_server (TLS 1.0, 1.2, 1.3, anonymous
// DH) with certificates made here by openssl (RSA expiring in 10 days, EC expired with its CA in
// the chain, a certificate for the wrong name, a healthy EC one), curl and openssl s_client with SNI
// and ALPN, a plain-HTTP node server receiving credentials from another namespace and over loopback;
// tcpdump captures in the server namespace. Checks: every handshake is one tls/v1 record, its values
// equal tshark's dissection and the servers' configuration, the report/store/CLI `tls` section, and
// the findings. One shared setup; needs root, ip netns, openssl, tcpdump, tshark, curl (skips
// otherwise; bash deploy/dev/install-test-deps.sh installs them).
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import type { Finding } from '../../engine/contracts/inventory.js';
import { TlsEndpoint, TlsHandshake } from '../../engine/contracts/tls.js';
import { Counters } from '../../engine/contracts/counters.js';
import { tlsTable } from '../../engine/app/cli/output.js';
import { apitap, cliCommand } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';

const run = promisify(execFile);

function unavailable(): string | false {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux (ip netns)';
  for (const [cmd, args] of [
    ['ip', ['netns', 'list']],
    ['openssl', ['version']],
    ['tcpdump', ['--version']],
    ['tshark', ['--version']],
    ['curl', ['--version']],
  ] as const) {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      return `${cmd} is not available (bash deploy/dev/install-test-deps.sh)`;
    }
  }
  return false;
}

const ID = (process.pid % 46656).toString(36);
const NS_S = `t14s${ID}`;
const NS_C = `t14c${ID}`;
const NET = 10 + (process.pid % 200);
const SRV = `10.214.${NET}.1`;
const CLI = `10.214.${NET}.2`;

interface Server {
  port: number;
  args: string[];
}

interface Ctx {
  dir: string;
  procs: ChildProcess[];
  /** Per client port: the tls/v1 record of that connection (collector library over the capture). */
  recs: Map<number, TlsHandshake>;
  counters: Counters;
  tsharkCh: Map<number, string[]>;
  tsharkSh: Map<number, string[]>;
  report: { tls: TlsEndpoint[]; findings: Finding[]; capture: { anomalies: Record<string, number> } };
  storeTls: TlsEndpoint[];
  tlsTable: string;
  fingerprints: Record<string, string>;
  /** Per s_client case: the protocol and cipher it reported. */
  negotiated: Record<string, { protocol: string; cipher: string }>;
  /** The replay with --expiring-days 5. */
  strict: Ctx['report'];
  /** Client connections made (TLS). */
  connections: number;
}

const ctx = {} as Ctx;
const skip = unavailable();

const sh = (args: string[]): string => execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
const nsExec = (ns: string, argv: string[], input = ''): Promise<{ stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const p = execFile('ip', ['netns', 'exec', ns, ...argv], { timeout: 10_000 }, (_e, stdout, stderr) =>
      resolve({ stdout: String(stdout), stderr: String(stderr) }),
    );
    p.stdin?.on('error', () => {}); // EPIPE when the command exits before reading stdin
    p.stdin?.end(input);
  });

function spawnIn(ns: string, argv: string[]): ChildProcess {
  const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'ignore', 'pipe'] });
  ctx.procs.push(p);
  return p;
}

/** tcpdump in the server namespace; resolves once it listens. */
function tcpdump(iface: string, file: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawnIn(NS_S, ['tcpdump', '-i', iface, '-s', '0', '-U', '--immediate-mode', '-n', '-w', file, 'tcp']);
    let err = '';
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    p.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes('listening on')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
  });
}

const stop = (p: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> =>
  new Promise((done) => {
    if (p.exitCode !== null || p.signalCode !== null) return done();
    p.once('close', () => done());
    p.kill(sig);
  });

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await nsExec(NS_S, ['ss', '-ltnH', `sport = :${port}`]);
    if (stdout.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never listened`);
}

function makeCerts(d: string): void {
  const o = (...a: string[]): void => void execFileSync('openssl', a, { cwd: d, stdio: 'ignore' });
  writeFileSync(
    join(d, 'ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\n' +
      'copy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n',
  );
  writeFileSync(join(d, 'index.txt'), '');
  writeFileSync(join(d, 'serial'), '1000\n');
  o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'ca.key');
  o('req', '-x509', '-key', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=t14 test CA', '-days', '3650');
  // RSA, valid 10 days: certificate_expiring.
  o(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'rsa10.key',
    '-out',
    'rsa10.pem',
    '-days',
    '10',
    '-subj',
    '/CN=api.t14.test',
    '-addext',
    'subjectAltName=DNS:api.t14.test,DNS:*.svc.t14.test',
  );
  // EC, expired (2024 → 2025), issued by the CA and served with it: certificate_expired, chain of 2.
  o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'old.key');
  o(
    'req',
    '-new',
    '-key',
    'old.key',
    '-subj',
    '/CN=old.t14.test',
    '-addext',
    'subjectAltName=DNS:old.t14.test',
    '-out',
    'old.csr',
  );
  o(
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-in',
    'old.csr',
    '-out',
    'old.pem',
    '-startdate',
    '20240101000000Z',
    '-enddate',
    '20250101000000Z',
  );
  // RSA for another name: certificate_name_mismatch.
  o(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '365',
    '-subj',
    '/CN=other.t14.test',
    '-addext',
    'subjectAltName=DNS:other.t14.test',
  );
  // EC, healthy (served over TLS 1.3 only, so never seen in clear).
  o('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp384r1', '-out', 'good.key');
  o(
    'req',
    '-x509',
    '-key',
    'good.key',
    '-out',
    'good.pem',
    '-days',
    '365',
    '-subj',
    '/CN=good.t14.test',
    '-addext',
    'subjectAltName=DNS:good.t14.test',
  );
}

const SERVERS: Server[] = [
  { port: 4431, args: ['-cert', 'rsa10.pem', '-key', 'rsa10.key', '-tls1_2', '-alpn', 'http/1.1'] },
  { port: 4432, args: ['-cert', 'old.pem', '-key', 'old.key', '-cert_chain', 'ca.pem', '-tls1_2'] },
  { port: 4433, args: ['-cert', 'other.pem', '-key', 'other.key', '-tls1_2'] },
  { port: 4434, args: ['-cert', 'good.pem', '-key', 'good.key', '-tls1_3', '-alpn', 'http/1.1'] },
  { port: 4435, args: ['-cert', 'rsa10.pem', '-key', 'rsa10.key', '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'] },
  { port: 4436, args: ['-nocert', '-tls1_2', '-cipher', 'ADH-AES128-GCM-SHA256:@SECLEVEL=0'] },
];

const HTTP_SERVER = `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end('ok'))}).listen(8080,'0.0.0.0')`;

describe('TLS out of band: real servers and clients in network namespaces', { skip, timeout: 60_000 }, () => {
  before(async () => {
    ctx.procs = [];
    ctx.dir = mkdtempSync(join(tmpdir(), 't14-tls-'));
    const d = ctx.dir;
    makeCerts(d);
    ctx.fingerprints = {};
    for (const c of ['rsa10', 'old', 'other', 'good', 'ca'])
      ctx.fingerprints[c] = new X509Certificate(readFileSync(join(d, `${c}.pem`))).fingerprint256;

    sh(['ip', 'netns', 'add', NS_S]);
    sh(['ip', 'netns', 'add', NS_C]);
    sh(['ip', 'link', 'add', `t14a${ID}`, 'type', 'veth', 'peer', 'name', `t14b${ID}`]);
    sh(['ip', 'link', 'set', `t14a${ID}`, 'netns', NS_S]);
    sh(['ip', 'link', 'set', `t14b${ID}`, 'netns', NS_C]);
    sh(['ip', '-n', NS_S, 'addr', 'add', `${SRV}/24`, 'dev', `t14a${ID}`]);
    sh(['ip', '-n', NS_C, 'addr', 'add', `${CLI}/24`, 'dev', `t14b${ID}`]);
    for (const [ns, dev] of [
      [NS_S, `t14a${ID}`],
      [NS_C, `t14b${ID}`],
      [NS_S, 'lo'],
      [NS_C, 'lo'],
    ] as const)
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);

    const veth = join(d, 'veth.pcap');
    const lo = join(d, 'lo.pcap');
    const dumps = [await tcpdump(`t14a${ID}`, veth), await tcpdump('lo', lo)];
    for (const s of SERVERS) {
      const p = spawn(
        'ip',
        ['netns', 'exec', NS_S, 'openssl', 's_server', '-www', '-accept', String(s.port), ...s.args],
        {
          cwd: d,
          stdio: ['pipe', 'ignore', 'ignore'],
        },
      );
      ctx.procs.push(p);
    }
    spawnIn(NS_S, [process.execPath, '-e', HTTP_SERVER]);
    for (const p of [...SERVERS.map((s) => s.port), 8080]) await waitPort(p);

    const sclient = async (name: string, port: number, sni: string, extra: string[]): Promise<void> => {
      const { stdout } = await nsExec(NS_C, [
        'openssl',
        's_client',
        '-connect',
        `${SRV}:${port}`,
        '-servername',
        sni,
        ...extra,
      ]);
      const protocol = /Protocol\s*:\s*(\S+)/.exec(stdout)?.[1] ?? '';
      const cipher = /Cipher\s*:\s*(\S+)/.exec(stdout)?.[1] ?? '';
      ctx.negotiated[name] = { protocol, cipher };
    };
    ctx.negotiated = {};
    const curl = (args: string[]): Promise<{ stdout: string; stderr: string }> =>
      nsExec(NS_C, ['curl', '-sk', '--max-time', '5', '-o', '/dev/null', ...args]);
    await curl(['--http1.1', '--resolve', `api.t14.test:4431:${SRV}`, 'https://api.t14.test:4431/']);
    await sclient('wildcard', 4431, 'x.svc.t14.test', ['-alpn', 'h2,http/1.1']);
    await sclient('expired', 4432, 'old.t14.test', ['-tls1_2', '-alpn', 'h2,http/1.1']);
    await sclient('wrongname', 4433, 'api-wrong.t14.test', []);
    await curl(['--http1.1', '--tlsv1.3', '--resolve', `good.t14.test:4434:${SRV}`, 'https://good.t14.test:4434/']);
    await sclient('tls10', 4435, 'api.t14.test', ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    await sclient('anon', 4436, 'anon.t14.test', ['-tls1_2', '-cipher', 'ADH-AES128-GCM-SHA256:@SECLEVEL=0']);
    ctx.connections = 7;
    // Plain HTTP with credentials: namespace to namespace (a finding) and over loopback (none).
    await curl(['-u', 'alice:s3cret', `http://${SRV}:8080/login`]);
    await curl(['-H', 'X-API-Key: k-0123456789abcdef', `http://${SRV}:8080/items`]);
    await curl(['-d', 'user=alice&password=s3cret', `http://${SRV}:8080/session`]);
    await nsExec(NS_S, ['curl', '-s', '-o', '/dev/null', '-u', 'bob:pw', 'http://127.0.0.1:8080/local']);
    await new Promise((r) => setTimeout(r, 300));
    for (const p of dumps) await stop(p, 'SIGINT');

    // The collector library over the capture: one record per connection, by client port.
    ctx.counters = new Counters();
    ctx.recs = new Map();
    const col = createCollector(
      DEFAULT_COLLECTOR_OPTIONS,
      () => {},
      ctx.counters,
      (r) => ctx.recs.set(r.client.port, TlsHandshake.parse(r)),
    );
    await readCapture(veth, col, { counters: ctx.counters });
    col.finish();

    // tshark's dissection, by client port.
    const fields = async (filter: string, portField: string, f: string[]): Promise<Map<number, string[]>> => {
      const args = ['-r', veth, '-d', 'tcp.port==4431-4436,tls', '-Y', filter, '-T', 'fields', '-E', 'occurrence=a'];
      const { stdout } = await run('tshark', [...args, '-e', portField, ...f.flatMap((x) => ['-e', x])]);
      const m = new Map<number, string[]>();
      for (const line of stdout.split('\n').filter((l) => l !== '')) {
        const [port, ...rest] = line.split('\t');
        m.set(Number(port), rest);
      }
      return m;
    };
    ctx.tsharkCh = await fields('tls.handshake.type == 1', 'tcp.srcport', [
      'tls.handshake.extensions_server_name',
      'tls.handshake.extensions_alpn_str',
      'tls.handshake.ciphersuite',
      'tls.handshake.extensions.supported_version',
      'tls.handshake.version',
    ]);
    ctx.tsharkSh = await fields('tls.handshake.type == 2', 'tcp.dstport', [
      'tls.handshake.ciphersuite',
      'tls.handshake.extensions.supported_version',
      'tls.handshake.version',
      'tls.handshake.extensions_alpn_str',
    ]);

    // The CLI: replay into an embedded store, then `apitap tls` from it.
    const store = join(d, 'store');
    // Two replays at once (2 cores): into the store, and without a store at a 5-day expiry threshold.
    const [cmd, ...pre] = cliCommand();
    const cli = (args: string[]): Promise<{ stdout: string }> =>
      run(cmd as string, [...pre, ...args], { cwd: repoRoot, maxBuffer: 64 << 20, timeout: 60_000 });
    const [rep, strict] = await Promise.all([
      cli(['replay', veth, lo, '--format', 'json', '--store', store, '--no-progress']),
      cli(['replay', veth, '--no-store', '--format', 'json', '--expiring-days', '5']),
    ]);
    ctx.strict = JSON.parse(strict.stdout) as Ctx['report'];
    ctx.report = JSON.parse(rep.stdout) as Ctx['report'];
    const tls = apitap(['tls', '--store', store, '--format', 'json']);
    assert.equal(tls.code, 0, tls.stderr);
    ctx.storeTls = (JSON.parse(tls.stdout) as unknown[]).map((x) => TlsEndpoint.parse(x));
    ctx.tlsTable = tlsTable(ctx.storeTls);
  });

  after(async () => {
    for (const p of ctx.procs ?? []) await stop(p);
    for (const ns of [NS_S, NS_C]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* not created */
      }
    }
    if (ctx.dir !== undefined) rmSync(ctx.dir, { recursive: true, force: true });
  });

  it('every handshake is accounted for: one complete record per connection, no anomaly, no exchange', () => {
    assert.equal(ctx.tsharkCh.size, ctx.connections, 'tshark sees every ClientHello');
    assert.deepEqual([...ctx.recs.keys()].sort(), [...ctx.tsharkCh.keys()].sort());
    for (const r of ctx.recs.values()) {
      assert.equal(r.complete, true);
      assert.deepEqual(r.anomalies, []);
      assert.equal(r.server.ip, SRV);
      assert.equal(r.client.ip, CLI);
    }
    assert.equal(ctx.counters.get('tls_records_emitted'), ctx.connections);
    assert.equal(ctx.counters.get('http_exchanges'), 3, 'only the three plain-HTTP requests on the veth');
    const total = ctx.report.tls.reduce((n, t) => n + t.connections, 0);
    assert.equal(total, ctx.connections);
  });

  it('SNI, ALPN, versions and cipher suites equal tshark', () => {
    const hex = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
    const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(','));
    for (const [port, r] of ctx.recs) {
      const [sni, alpn, ciphers, versions, legacy] = ctx.tsharkCh.get(port) ?? [];
      assert.equal(r.sni, sni === '' ? null : sni, `sni ${port}`);
      assert.deepEqual(r.alpnOffered, list(alpn), `alpn offered ${port}`);
      assert.deepEqual(r.ciphersOffered.map(hex), list(ciphers), `ciphers offered ${port}`);
      assert.deepEqual(
        r.versionsOffered.map(hex),
        versions ? list(versions) : list(legacy),
        `versions offered ${port}`,
      );
      const [cipher, sv, shLegacy, shAlpn] = ctx.tsharkSh.get(port) ?? [];
      assert.equal(hex(r.cipher ?? -1), cipher, `cipher ${port}`);
      assert.equal(hex(r.version ?? -1), sv !== '' && sv !== undefined ? sv : shLegacy, `version ${port}`);
      assert.equal(r.alpn, shAlpn === '' || shAlpn === undefined ? null : shAlpn, `alpn ${port}`);
    }
  });

  it('values equal the servers configuration and what the clients negotiated', () => {
    const by = new Map<string, TlsHandshake[]>();
    for (const r of ctx.recs.values()) {
      const k = `${r.server.port} ${r.sni}`;
      by.set(k, [...(by.get(k) ?? []), r]);
    }
    const one = (k: string): TlsHandshake => {
      const l = by.get(k);
      assert.equal(l?.length, 1, k);
      return l?.[0] as TlsHandshake;
    };
    const curl12 = one('4431 api.t14.test');
    assert.equal(curl12.version, 0x0303);
    assert.equal(curl12.alpn, 'http/1.1');
    assert.equal(curl12.certificates?.[0]?.sha256, ctx.fingerprints['rsa10']);
    assert.equal(curl12.certificates?.[0]?.keyType, 'rsa');
    assert.equal(curl12.certificates?.[0]?.keyBits, 2048);
    assert.deepEqual(curl12.certificates?.[0]?.sans, ['DNS:api.t14.test', 'DNS:*.svc.t14.test']);
    const expired = one('4432 old.t14.test');
    assert.deepEqual(
      expired.certificates?.map((c) => c.sha256),
      [ctx.fingerprints['old'], ctx.fingerprints['ca']],
    );
    const leaf = expired.certificates?.[0];
    assert.equal(leaf?.validTo, '2025-01-01T00:00:00Z');
    assert.equal(leaf?.issuer, 'CN=t14 test CA');
    assert.equal(leaf?.keyType, 'ec');
    assert.equal(leaf?.curve, 'prime256v1');
    assert.equal(leaf?.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(leaf?.serial, '1000');
    assert.equal(one('4433 api-wrong.t14.test').certificates?.[0]?.sha256, ctx.fingerprints['other']);
    const t13 = one('4434 good.t14.test');
    assert.equal(t13.version, 0x0304);
    assert.equal(t13.certificates, null, 'TLS 1.3 certificates are encrypted');
    assert.equal(one('4431 x.svc.t14.test').alpn, 'http/1.1');
    const tls10 = one('4435 api.t14.test');
    assert.equal(ctx.negotiated['tls10']?.protocol, 'TLSv1');
    assert.equal(tls10.version, 0x0301);
    assert.equal(one('4436 anon.t14.test').certificates, null);
    assert.equal(ctx.negotiated['anon']?.cipher, 'ADH-AES128-GCM-SHA256');
    assert.equal(one('4436 anon.t14.test').cipher, 0x00a6);
  });

  it('report/v1 tls equals the store rows (apitap tls --format json); the table lists them', () => {
    assert.deepEqual(ctx.storeTls, ctx.report.tls);
    const keys = ctx.report.tls.map((t) => `${t.port} ${t.sni}`);
    assert.deepEqual(keys, [
      '4431 api.t14.test',
      '4431 x.svc.t14.test',
      '4432 old.t14.test',
      '4433 api-wrong.t14.test',
      '4434 good.t14.test',
      '4435 api.t14.test',
      '4436 anon.t14.test',
    ]);
    const old = ctx.report.tls.find((t) => t.sni === 'old.t14.test');
    assert.deepEqual(old?.certificate?.chain, ['CN=old.t14.test', 'CN=t14 test CA']);
    assert.deepEqual(old?.versions, ['TLS 1.2']);
    assert.match(ctx.tlsTable, /old\.t14\.test .*TLS 1\.2/);
  });

  it('findings: weak TLS, expired, expiring, wrong name, cleartext credentials (not over loopback)', () => {
    const got = ctx.report.findings
      .filter((f) =>
        [
          'weak_tls',
          'certificate_expired',
          'certificate_expiring',
          'certificate_name_mismatch',
          'cleartext_credentials',
        ].includes(f.kind),
      )
      .map(
        (f) =>
          `${f.kind} ${f.host} ${f.path} ${f.severity}${f.kind === 'cleartext_credentials' ? ` ${String(f.details['credential'])}` : f.kind === 'weak_tls' ? '' : ` :${String(f.details['port'])}`}`,
      )
      .sort();
    assert.deepEqual(got, [
      'certificate_expired old.t14.test  high :4432',
      'certificate_expiring api.t14.test  low :4431',
      'certificate_expiring api.t14.test  low :4435',
      'certificate_expiring x.svc.t14.test  low :4431',
      'certificate_name_mismatch api-wrong.t14.test  medium :4433',
      `cleartext_credentials ${SRV}:8080 /items high api_key`,
      `cleartext_credentials ${SRV}:8080 /login critical basic`,
      `cleartext_credentials ${SRV}:8080 /session critical password`,
      'weak_tls anon.t14.test  high',
      'weak_tls api.t14.test  medium',
    ]);
    assert.equal(new Set(ctx.report.findings.map((f) => f.id)).size, ctx.report.findings.length, 'ids are unique');
    assert.doesNotMatch(JSON.stringify(ctx.report), /s3cret|alice:|k-0123456789abcdef/);
  });

  it('--expiring-days moves the certificate_expiring threshold (10-day certificate, 5-day threshold)', () => {
    const kinds = new Set(ctx.strict.findings.map((f) => f.kind));
    assert.equal(kinds.has('certificate_expiring'), false);
    assert.equal(kinds.has('certificate_expired'), true);
  });
});
