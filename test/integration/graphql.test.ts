// GraphQL operations from real software: a graphql-js server over node:http and node:http2 (h2c) in a
// network namespace, driven by node's fetch, a node:http2 client and curl (test/support/gqllab),
// captured with tcpdump and replayed through the CLI. The oracle is the server's own log of every
// request element: each operation it received is one hit of the operation's endpoint (named ones by
// name, anonymous ones grouped by graphql-js's canonical print, hash-only persisted requests by the
// document the server stored under that hash), with its GraphQL errors. Against the published SDL,
// the unpublished fields the traffic used are shadow findings and the @deprecated ones zombie findings.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildSchema } from 'graphql';
import type { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import { labUnavailableReason } from '../support/netns/lab.js';
import { apitap } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import { PUBLISHED_SDL, type ServerLogEntry } from '../support/gqllab/server.js';
import { GQL_PORTS as PORTS } from '../support/gqllab/traffic.js';

const run = promisify(execFile);
const NS = `a10a-gql-${process.pid.toString(36)}`;
const ENV = { APITAP_SECRET: 'graphql-test' };

function has(cmd: string): boolean {
  // `command -v` through sh: tcpdump lives in /usr/sbin, outside some PATHs.
  return spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
}

function skipReason(): string | null {
  const lab = labUnavailableReason();
  if (lab !== null) return lab;
  for (const t of ['tcpdump', 'curl']) if (!has(t)) return `${t} missing: run deploy/dev/install-test-deps.sh`;
  return null;
}

interface Report {
  endpoints: EndpointRecord[];
  findings: Finding[];
  capture: { anomalies: Record<string, number> };
}

const reason = skipReason();

describe(
  'GraphQL: a graphql-js server over HTTP/1.1 and h2c, captured in a namespace',
  { skip: reason ?? false },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-graphql-'));
    const pcap = join(dir, 'graphql.pcap');
    const schemaFile = join(dir, 'published.graphql');
    const sdlOut = join(dir, 'seen.graphql');
    let log: ServerLogEntry[];
    let report: Report;
    let reportText: string;
    let dumpLog = '';
    let dump: ChildProcess | null = null;

    before(async () => {
      writeFileSync(schemaFile, PUBLISHED_SDL);
      await run('ip', ['netns', 'add', NS]);
      await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
      const d = spawn(
        'ip',
        ['netns', 'exec', NS, 'tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-w', pcap, 'tcp'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      dump = d;
      d.stderr?.on('data', (b: Buffer) => (dumpLog += b.toString()));
      await waitFor(() => dumpLog.includes('listening on'), { timeoutMs: 10_000, what: 'tcpdump listening' });
      const logPath = join(dir, 'server.json');
      const traffic = join(repoRoot, 'test', 'support', 'gqllab', 'traffic.ts');
      await run('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', traffic, logPath], {
        cwd: repoRoot,
        timeout: 60_000,
      });
      log = JSON.parse(readFileSync(logPath, 'utf8')) as ServerLogEntry[];
      // tcpdump (--immediate-mode, -U) has written every packet once the file stops growing.
      let size = -1;
      await waitFor(
        () => {
          const s = statSync(pcap).size;
          const stable = s === size;
          size = s;
          return stable;
        },
        { timeoutMs: 10_000, what: 'the capture file to stop growing', everyMs: 150 },
      );
      await new Promise<void>((res) => {
        d.once('exit', () => res());
        d.kill('SIGINT');
      });
      const r = apitap(
        ['replay', pcap, '--no-store', '--format', 'json', '--graphql-schema', schemaFile, '--graphql-sdl', sdlOut],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      reportText = r.stdout;
      report = JSON.parse(r.stdout) as Report;
    });

    after(async () => {
      if (dump !== null && dump.exitCode === null && dump.signalCode === null) dump.kill('SIGKILL');
      await run('ip', ['netns', 'del', NS]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('every operation the server logged is one hit of its operation endpoint, over both transports', () => {
      assert.match(dumpLog, /\b0 packets dropped by kernel/, dumpLog);
      assert.equal(report.capture.anomalies['tcp_gap'] ?? 0, 0);
      const host = (t: ServerLogEntry['transport']): string => `127.0.0.1:${t === 'http1' ? PORTS.http1 : PORTS.h2c}`;
      // Persisted hashes → the operation the server stored under them.
      const byHash = new Map<string, string>();
      for (const e of log)
        if (e.persistedHash !== null && e.type !== null) byHash.set(e.persistedHash, `${e.type}/${e.name ?? ''}`);
      // Anonymous operations: one endpoint per canonical document.
      const anonEndpoints = report.endpoints.filter((e) => /\/anonymous-[0-9a-f]{12}$/.test(e.path));
      const expected = new Map<string, number>();
      const anonGroups = new Map<string, number>();
      // Documents nested beyond the bound stay plain HTTP exchanges, counted, never a crash.
      const deep = log.filter((e) => e.name === 'Deep');
      assert.equal(deep.length, 1);
      assert.equal(report.capture.anomalies['graphql_document_too_deep'], deep.length);
      assert.equal(report.capture.anomalies['graphql_alias_abuse'], 1);
      for (const e of log) {
        if (e.name === 'Deep') {
          const k = `${host(e.transport)} ${e.method} /graphql`;
          expected.set(k, (expected.get(k) ?? 0) + 1);
          continue;
        }
        let op: string;
        if (e.type !== null) op = `${e.type}/${e.name ?? ''}`;
        else {
          assert.ok(e.persistedHash !== null, `a refused request that is no persisted query: ${JSON.stringify(e)}`);
          op = byHash.get(e.persistedHash) ?? `persisted/${e.persistedHash.slice(0, 16)}`;
        }
        if (op.endsWith('/')) {
          const canonical =
            log.find((x) => x.persistedHash === e.persistedHash && x.canonical !== null)?.canonical ?? e.canonical;
          const k = `${host(e.transport)} ${e.method} ${op}${canonical ?? ''}`;
          anonGroups.set(k, (anonGroups.get(k) ?? 0) + 1);
          continue;
        }
        const k = `${host(e.transport)} ${e.method} /graphql/${op}`;
        expected.set(k, (expected.get(k) ?? 0) + 1);
      }
      const got = new Map(
        report.endpoints
          .filter((e) => !/\/anonymous-/.test(e.path))
          .map((e) => [`${e.host} ${e.method} ${e.path}`, e.hits]),
      );
      assert.deepEqual(
        [...got].sort(),
        [...expected].sort(),
        'named operations: the same endpoints with the same hits (plain POST /graphql: the refused document only)',
      );
      assert.deepEqual(
        anonEndpoints.map((e) => e.hits).sort(),
        [...anonGroups.values()].sort(),
        'anonymous operations: one endpoint per document, whitespace and comments aside',
      );
      const total = report.endpoints.reduce((n, e) => n + e.hits, 0);
      assert.equal(total, log.length, 'every request element once, batches counted per operation');
      for (const e of report.endpoints) {
        if (e.path === '/graphql') continue;
        assert.equal(e.protocol, 'graphql');
        assert.match(e.operation ?? '', /^(query|mutation|subscription|persisted) \S+$/);
      }
      assert.ok(
        log.some((e) => e.transport === 'h2c') && got.has(`127.0.0.1:${PORTS.h2c} POST /graphql/query/GetUser`),
      );
    });

    it('GraphQL errors are counted per operation; PII in variables and data is found with its path', () => {
      const errs = new Map<string, number>();
      for (const e of log)
        if (e.errors && e.name !== null) {
          const k = `${e.type ?? ''}/${e.name}`;
          errs.set(k, (errs.get(k) ?? 0) + 1);
        }
      const ep = (h: number, method: string, path: string): EndpointRecord | undefined =>
        report.endpoints.find((e) => e.host === `127.0.0.1:${h}` && e.method === method && e.path === path);
      const broken =
        (ep(PORTS.http1, 'POST', '/graphql/query/Broken')?.graphqlErrors ?? 0) +
        (ep(PORTS.h2c, 'POST', '/graphql/query/Broken')?.graphqlErrors ?? 0);
      assert.equal(broken, errs.get('query/Broken'));
      assert.equal(ep(PORTS.http1, 'POST', '/graphql/query/GetUser')?.graphqlErrors, 0);
      // The not-found persisted attempt is an error of the operation it resolves to.
      assert.equal(ep(PORTS.http1, 'POST', '/graphql/query/Prices')?.graphqlErrors, 1);
      const update = ep(PORTS.http1, 'POST', '/graphql/mutation/UpdateEmail');
      assert.ok(
        update?.pii.some((p) => p.kind === 'email' && p.location === 'request.body' && p.field === '$.variables.email'),
      );
      assert.ok(
        update?.pii.some(
          (p) => p.kind === 'email' && p.location === 'response.body' && p.field === '$.data.updateEmail.email',
        ),
      );
      const getUser = ep(PORTS.h2c, 'POST', '/graphql/query/GetUser');
      assert.ok(
        getUser?.pii.some((p) => p.kind === 'email' && p.field === '$.data.user.email'),
        JSON.stringify(getUser?.pii),
      );
      assert.ok(
        report.findings.some((f) => f.kind === 'pii_exposure' && f.path === '/graphql/mutation/UpdateEmail'),
        'PII findings per operation',
      );
      assert.ok(!reportText.includes('bob.jones@mail.example.net'), 'no raw personal value in the report');
    });

    it('against the published SDL: unpublished fields are shadow, @deprecated ones zombie, the rest documented', () => {
      const shadow = report.findings.filter((f) => f.kind === 'shadow_api').map((f) => [f.path, f.details['unknown']]);
      assert.deepEqual(shadow.sort(), [
        ['/graphql/mutation/Reset', ['Mutation.debugReset']],
        ['/graphql/query/Admin', ['Query.adminUsers', 'User.ssn']],
      ]);
      const zombie = report.findings
        .filter((f) => f.kind === 'zombie_api')
        .map((f) => [f.path, f.details['deprecated']]);
      assert.deepEqual(zombie, [['/graphql/query/Legacy', ['Query.legacyFeed', 'User.legacyName']]]);
      for (const e of report.endpoints) {
        if (e.operation === undefined || e.operation.startsWith('persisted ')) continue;
        const bad = /Admin|Reset/.test(e.path);
        assert.equal(e.documented, !bad, `${e.method} ${e.path}`);
      }
    });

    it('--graphql-sdl writes a schema of the fields seen', () => {
      const sdl = readFileSync(sdlOut, 'utf8');
      const s = buildSchema(sdl);
      // Response keys are what traffic shows: the alias-batching operation's a0..a299 are keys too.
      const keys = Object.keys(s.getQueryType()?.getFields() ?? {});
      assert.ok(keys.some((k) => /^a\d+$/.test(k)));
      assert.deepEqual(keys.filter((k) => !/^a\d+$/.test(k)).sort(), [
        'adminUsers',
        'boom',
        'legacyFeed',
        'me',
        'ping',
        'user',
        'users',
      ]);
      assert.deepEqual(Object.keys(s.getMutationType()?.getFields() ?? {}).sort(), ['debugReset', 'updateEmail']);
      assert.match(sdl, /# {3}mutation UpdateEmail\(\$email: String, \$id: String\): POST 127\.0\.0\.1:4000\/graphql/);
    });

    it('byte-identical with analysis threads', () => {
      const r = apitap(
        ['replay', pcap, '--no-store', '--format', 'json', '--graphql-schema', schemaFile, '--workers', '2'],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, reportText);
    });
  },
);
