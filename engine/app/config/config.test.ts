import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_COLLECTOR_OPTIONS } from '../../../collectors/collector.js';
import { AppConfig, buildConfig, COLLECTOR_FLAGS, ConfigError, describeDefaults, readConfigFile } from './index.js';
import { bodyGateOf } from '../pipelines/analyze.js';

test('the defaults are the collector defaults the packet loop has always used', () => {
  assert.deepEqual(AppConfig.parse({}).collector, DEFAULT_COLLECTOR_OPTIONS);
  assert.deepEqual(buildConfig(undefined, {}, COLLECTOR_FLAGS), AppConfig.parse({}));
});

test('flags override the file, the file overrides the defaults', () => {
  const file = { collector: { http: { bodyCaptureBytes: 10 }, flow: { maxFlows: 5 } } };
  const c = buildConfig(file, { bodyCap: '20', vxlanPort: ['4789', '6081'], idleTimeout: '1.5' }, COLLECTOR_FLAGS);
  assert.equal(c.collector.http.bodyCaptureBytes, 20);
  assert.equal(c.collector.flow.maxFlows, 5);
  assert.deepEqual(c.collector.vxlanPorts, [4789, 6081]);
  assert.equal(c.collector.flow.idleTimeoutUs, 1_500_000);
  assert.equal(c.collector.http.maxHeaderCount, DEFAULT_COLLECTOR_OPTIONS.http.maxHeaderCount);
});

test('a bad value fails with one line naming the flag or the key', () => {
  const msg = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.ok(!e.message.includes('\n'), e.message);
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(
    msg(() => buildConfig(undefined, { bodyCap: 'abc' }, COLLECTOR_FLAGS)),
    '--body-cap: expected a whole number, got "abc"',
  );
  assert.equal(
    msg(() => buildConfig(undefined, { bodyCap: '1e3' }, COLLECTOR_FLAGS)),
    '--body-cap: expected a whole number, got "1e3"',
  );
  assert.match(
    msg(() => buildConfig(undefined, { bodyCap: '-1' }, COLLECTOR_FLAGS)),
    /^--body-cap: .*>=0.*"-1"/,
  );
  assert.match(
    msg(() => buildConfig(undefined, { vxlanPort: ['70000'] }, COLLECTOR_FLAGS)),
    /^--vxlan-port: .*65535/,
  );
  assert.match(
    msg(() => buildConfig(undefined, { maxFlows: '0' }, COLLECTOR_FLAGS)),
    /^--max-flows: /,
  );
  assert.match(
    msg(() => buildConfig({ collector: { flow: { maxFlow: 3 } } }, {}, COLLECTOR_FLAGS, 'c.yaml')),
    /^c\.yaml collector\.flow: .*maxFlow/,
  );
  assert.match(
    msg(() => buildConfig([1, 2], {}, COLLECTOR_FLAGS, 'c.yaml')),
    /^c\.yaml: expected a mapping/,
  );
});

test('config files are YAML or JSON; unreadable ones are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apitap-config-'));
  writeFileSync(join(dir, 'a.yaml'), 'collector:\n  vxlanPorts: [4789, 6081]\n');
  assert.deepEqual(
    buildConfig(readConfigFile(join(dir, 'a.yaml')), {}, COLLECTOR_FLAGS).collector.vxlanPorts,
    [4789, 6081],
  );
  writeFileSync(join(dir, 'b.yaml'), 'collector: [\n');
  assert.throws(() => readConfigFile(join(dir, 'b.yaml')), /b\.yaml: not YAML\/JSON/);
  assert.throws(() => readConfigFile(join(dir, 'missing.yaml')), /missing\.yaml: ENOENT/);
});

test('apitap config documents every setting', () => {
  const rows = describeDefaults();
  assert.ok(rows.length >= 13);
  for (const r of rows) assert.ok(r.meaning.length > 10, `${r.key} has a meaning`);
  assert.ok(rows.some((r) => r.key === 'collector.http.bodyCaptureBytes' && r.default === 65536));
});

test('actor settings: documented defaults, --actor-ip, bad values named', () => {
  const keys = new Map(describeDefaults().map((r) => [r.key, r]));
  for (const k of [
    'analysis.actors.ip',
    'analysis.actors.enumeration.distinctValues',
    'analysis.actors.enumeration.windowSeconds',
    'analysis.actors.bola.minObjects',
    'analysis.actors.excessive.k',
    'analysis.actors.bruteforce.failures',
    'analysis.actors.harvest.minDistinct',
    'analysis.actors.intervalSeconds',
  ]) {
    const r = keys.get(k);
    assert.ok(r !== undefined && r.meaning !== '', `${k} is listed with a meaning`);
  }
  assert.equal(keys.get('analysis.actors.enumeration.distinctValues')?.default, 50);
  assert.equal(keys.get('analysis.actors.bola.minObjects')?.default, 3);
  assert.equal(buildConfig(undefined, { actorIp: 'hash' }, COLLECTOR_FLAGS).analysis.actors.ip, 'hash');
  const file = { analysis: { actors: { enumeration: { distinctValues: 20 } } } };
  const c = buildConfig(file, {}, COLLECTOR_FLAGS);
  assert.equal(c.analysis.actors.enumeration.distinctValues, 20);
  assert.equal(c.analysis.actors.enumeration.windowSeconds, 300);
  assert.throws(
    () => buildConfig(undefined, { actorIp: 'plain' }, COLLECTOR_FLAGS),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError && e.message.startsWith('--actor-ip:'), String(e));
      return true;
    },
  );
});

test('body gate settings: documented defaults, --body-rate 0 walks every body, bad values named', () => {
  const keys = new Map(describeDefaults().map((r) => [r.key, r]));
  assert.equal(keys.get('analysis.bodies.rate')?.default, 32);
  assert.equal(keys.get('analysis.bodies.saturation')?.default, 64);
  const c = buildConfig(undefined, { bodyRate: '0' }, COLLECTOR_FLAGS);
  assert.equal(c.analysis.bodies.rate, 0);
  assert.equal(bodyGateOf(c.analysis.bodies), false);
  assert.deepEqual(bodyGateOf(buildConfig(undefined, {}, COLLECTOR_FLAGS).analysis.bodies), {
    rate: 32,
    saturation: 64,
  });
  assert.throws(() => buildConfig(undefined, { bodyRate: '-1' }, COLLECTOR_FLAGS), ConfigError);
});
