// The CLI end to end, as a user runs it: `apitap replay` over real corpus captures into the embedded
// chDB store, the read commands, output formats, exit codes and the errors a user meets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Validator } from '@seriousme/openapi-schema-validator';
import { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import { Exchange } from '../../engine/contracts/exchange.js';
import { apitap } from '../support/cli.js';
import { corpus, needsCorpus } from '../support/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'apitap-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const SECRET = { APITAP_SECRET: 'test-secret' };

const docker = corpus('pcaps/zeek/http/docker-http-upgrade.pcap');
const dockerSpec = corpus('specs/docker-engine/v1.41.yaml');

test('replay --format json prints report/v1 with capture counts, endpoints and findings', needsCorpus, () => {
  const r = apitap(['replay', docker, '--spec', dockerSpec, '--store', join(tmp, 's1'), '--format', 'json'], SECRET);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as {
    schema: string;
    capture: Record<string, unknown>;
    endpoints: unknown[];
    findings: unknown[];
  };
  assert.equal(rep.schema, 'report/v1');
  assert.deepEqual(Object.keys(rep.capture), [
    'files',
    'packets',
    'bytes',
    'flows',
    'requests',
    'responses',
    'exchanges',
    'anomalies',
    'notAnalysed',
    'seconds',
  ]);
  assert.equal(rep.capture['packets'], 200);
  assert.equal(rep.capture['requests'], 6);
  assert.equal(rep.capture['exchanges'], 6);
  for (const e of rep.endpoints) EndpointRecord.parse(e);
  for (const f of rep.findings) Finding.parse(f);
  assert.ok(rep.endpoints.length >= 5);
});

test('the same capture gives byte-identical exchanges, inventory and findings', needsCorpus, () => {
  const a = apitap(
    [
      'replay',
      docker,
      '--spec',
      dockerSpec,
      '--store',
      join(tmp, 'd1'),
      '--format',
      'json',
      '--exchanges',
      join(tmp, 'a.jsonl'),
    ],
    SECRET,
  );
  const b = apitap(
    [
      'replay',
      docker,
      '--spec',
      dockerSpec,
      '--store',
      join(tmp, 'd2'),
      '--format',
      'json',
      '--exchanges',
      join(tmp, 'b.jsonl'),
    ],
    SECRET,
  );
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const ja = readFileSync(join(tmp, 'a.jsonl'), 'utf8');
  assert.equal(ja, readFileSync(join(tmp, 'b.jsonl'), 'utf8'));
  const lines = ja.trim().split('\n');
  assert.equal(lines.length, 6);
  for (const l of lines) Exchange.parse(JSON.parse(l));
});

test('replaying the same capture into the same store twice changes nothing', needsCorpus, () => {
  const store = join(tmp, 'idem');
  const q = (sql: string): string => apitap(['query', sql, '--store', store, '--format', 'json']).stdout;
  assert.equal(apitap(['replay', docker, '--spec', dockerSpec, '--store', store], SECRET).code, 0);
  const before = [
    q('SELECT count() c FROM exchanges'),
    q('SELECT count() c FROM findings'),
    apitap(['endpoints', '--store', store, '--format', 'json']).stdout,
    apitap(['findings', '--store', store, '--format', 'json']).stdout,
  ];
  assert.equal(apitap(['replay', docker, '--spec', dockerSpec, '--store', store], SECRET).code, 0);
  const after = [
    q('SELECT count() c FROM exchanges'),
    q('SELECT count() c FROM findings'),
    apitap(['endpoints', '--store', store, '--format', 'json']).stdout,
    apitap(['findings', '--store', store, '--format', 'json']).stdout,
  ];
  assert.deepEqual(after, before);
  assert.match(before[0] as string, /"c":"?6"?/);
});

test('endpoints/findings --format json print the report arrays from the store', needsCorpus, () => {
  const store = join(tmp, 'read');
  const rep = JSON.parse(
    apitap(['replay', docker, '--spec', dockerSpec, '--store', store, '--format', 'json'], SECRET).stdout,
  ) as { endpoints: unknown[]; findings: unknown[] };
  const eps = JSON.parse(apitap(['endpoints', '--store', store, '--format', 'json']).stdout) as unknown[];
  const fs = JSON.parse(apitap(['findings', '--store', store, '--format', 'json']).stdout) as Array<{ id: string }>;
  assert.deepEqual(eps, rep.endpoints);
  assert.deepEqual(new Set(fs.map((f) => f.id)), new Set((rep.findings as Array<{ id: string }>).map((f) => f.id)));
});

// Queries the store the first replay test wrote from the corpus.
test('query binds nothing from the user into other statements and reports SQL errors clearly', needsCorpus, () => {
  const store = join(tmp, 's1');
  const ok = apitap([
    'query',
    'SELECT method, path FROM endpoints ORDER BY path LIMIT 2',
    '--store',
    store,
    '--format',
    'json',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').length, 2);
  const bad = apitap(['query', 'SELEKT nonsense', '--store', store]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^apitap: /);
  const write = apitap(['query', 'DROP TABLE findings', '--store', store]);
  assert.notEqual(write.code, 0);
  assert.equal(apitap(['query', 'SELECT count() FROM findings', '--store', store]).code, 0);
});

test('--fail-on exits 1 when a finding reaches the severity, 0 otherwise', needsCorpus, () => {
  const hi = apitap(['replay', docker, '--spec', dockerSpec, '--store', join(tmp, 'f1'), '--fail-on', 'low'], SECRET);
  assert.equal(hi.code, 1, hi.stderr);
  assert.match(hi.stderr, /finding\(s\) at or above low/);
  const none = apitap(
    ['replay', corpus('pcaps/zeek/tunnels/vxlan.pcap'), '--store', join(tmp, 'f2'), '--fail-on', 'low'],
    SECRET,
  );
  assert.equal(none.code, 0, none.stderr);
});

test('--format sarif prints SARIF 2.1.0 with one result per finding', needsCorpus, () => {
  const r = apitap(['replay', docker, '--spec', dockerSpec, '--store', join(tmp, 'sa'), '--format', 'sarif'], SECRET);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as {
    version: string;
    runs: Array<{ results: Array<{ ruleId: string; partialFingerprints: Record<string, string> }> }>;
  };
  assert.equal(s.version, '2.1.0');
  const results = s.runs[0]?.results ?? [];
  assert.ok(results.length > 0);
  assert.ok(results.every((x) => typeof x.partialFingerprints['apitapFindingId'] === 'string'));
});

test('--openapi writes an OpenAPI 3.1 document that validates', needsCorpus, async () => {
  const out = join(tmp, 'rebuilt.yaml');
  const r = apitap(['replay', docker, '--store', join(tmp, 'oa'), '--openapi', out], SECRET);
  assert.equal(r.code, 0, r.stderr);
  const doc = parseYaml(readFileSync(out, 'utf8')) as { openapi: string; paths: Record<string, unknown> };
  assert.match(doc.openapi, /^3\.1\./);
  assert.ok(Object.keys(doc.paths).some((p) => p.includes('{')));
  const v = new Validator();
  const res = await v.validate(doc as unknown as Parameters<Validator['validate']>[0]);
  assert.equal(res.valid, true, JSON.stringify(res.errors));
});

test('a directory argument replays every capture file in it', needsCorpus, () => {
  const r = apitap(['replay', corpus('pcaps/arkime'), '--no-analyze', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { capture: { files: number; requests: number } };
  assert.equal(rep.capture.files, 6);
  assert.ok(rep.capture.requests >= 8);
});

test('a missing file is one clear line and exit 2', () => {
  const r = apitap(['replay', join(tmp, 'nope.pcap'), '--no-analyze']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /nope\.pcap: no such file/);
});

test('a bad setting is one clear line naming the flag, exit 2, before any capture is read', () => {
  for (const [args, re] of [
    [['--body-cap', 'abc'], /^apitap: --body-cap: expected a whole number, got "abc"$/],
    [['--vxlan-port', '0'], /^apitap: --vxlan-port: .*>=1/],
    [['--max-flows', '-5'], /^apitap: --max-flows: /],
  ] as const) {
    const r = apitap(['replay', join(tmp, 'nope.pcap'), '--no-analyze', ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr.trim(), re);
  }
});

test('a file that is not a capture is one clear line and exit 2', () => {
  const p = join(tmp, 'notes.pcap');
  writeFileSync(p, 'this is not a packet capture\n'.repeat(10));
  const r = apitap(['replay', p, '--no-analyze']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a pcap or pcapng file/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('an unsupported link type is named in a clear error, exit 2', () => {
  const p = join(tmp, 'usb.pcap');
  const h = Buffer.alloc(24 + 16 + 4);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(189, 20); // LINKTYPE_USB_LINUX_MMAPPED
  h.writeUInt32LE(4, 24 + 8);
  h.writeUInt32LE(4, 24 + 12);
  writeFileSync(p, h);
  const r = apitap(['replay', p, '--no-analyze']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unsupported link type 189/);
});

test('a truncated capture is processed up to the truncation and reported', needsCorpus, () => {
  const whole = readFileSync(corpus('pcaps/zeek/http/get.pcap'));
  const p = join(tmp, 'cut.pcap');
  writeFileSync(p, whole.subarray(0, whole.length - 700));
  const r = apitap(['replay', p, '--no-analyze', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as {
    capture: { packets: number; requests: number; anomalies: Record<string, number> };
  };
  assert.equal(rep.capture.anomalies['capture_truncated'], 1);
  assert.ok(rep.capture.packets > 0 && rep.capture.packets < 14);
  assert.equal(rep.capture.requests, 1);
});

test('a sloppy spec loads with warnings (report specs[], stderr with the table); a non-API file is refused in one line', () => {
  const sloppy = join(tmp, 'sloppy.yaml');
  writeFileSync(
    sloppy,
    'swagger: 2.0\ninfo: {title: sloppy, version: 1}\nhost: null\nbasePath: /v1.41\npaths:\n  /_ping:\n    get: {parameters: null, responses: {200: {description: ok}}}\n',
  );
  const j = apitap(['replay', docker, '--spec', sloppy, '--store', join(tmp, 'sl1'), '--format', 'json'], SECRET);
  assert.equal(j.code, 0, j.stderr);
  const rep = JSON.parse(j.stdout) as { specs: { file: string; operations: number; warnings: string[] }[] };
  assert.equal(rep.specs.length, 1);
  assert.equal(rep.specs[0]?.file, sloppy);
  assert.equal(rep.specs[0]?.operations, 1);
  assert.ok(rep.specs[0]?.warnings.includes('#/host: host is null, expected a string: ignored'), j.stdout);
  const t = apitap(['replay', docker, '--spec', sloppy, '--store', join(tmp, 'sl2')], SECRET);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /sloppy\.yaml: loaded 1 operations with 4 warning\(s\)\n {2}#\/swagger: swagger is a number/);
  const notApi = join(tmp, 'notes.yaml');
  writeFileSync(notApi, 'shopping: [milk, eggs]\n');
  const r = apitap(['replay', docker, '--spec', notApi, '--store', join(tmp, 'sl3')], SECRET);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /notes\.yaml: not an API description/);
});
