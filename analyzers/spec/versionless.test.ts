// Optional version base (load.ts): a base path made only of version segments is optional for
// matching, on a host that has served the versioned form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAnalysis } from '../analysis.js';
import { ex } from '../testing.js';
import { isVersionOnlyBase, parseSpec } from './load.js';

const swagger = (basePath: string, host?: string): string =>
  JSON.stringify({
    swagger: '2.0',
    info: { title: 't', version: '1' },
    basePath,
    ...(host ? { host } : {}),
    paths: { '/things/{thingId}': { get: {} }, '/{tenant}/x': { get: {} }, '/': { get: {} } },
  });

test('which base paths are version-only', () => {
  for (const b of ['/v1', '/v1.41', '/V3beta', '/2.0', '/v1/v2']) assert.equal(isVersionOnlyBase(b), true, b);
  for (const b of ['', '/api/v3', '/2010-04-01', '/pal/servlet/Recurring/v68', '/api'])
    assert.equal(isVersionOnlyBase(b), false, b);
  const s = parseSpec(swagger('/v2'), 's.json');
  const by = new Map(s.operations.map((o) => [o.path, o]));
  assert.deepEqual(by.get('/things/{thingId}')?.versionlessPaths, ['/things/{thingId}']);
  assert.deepEqual(by.get('/{tenant}/x')?.versionlessPaths, [], 'a root parameter would swallow the host');
  assert.deepEqual(by.get('/')?.versionlessPaths, [], 'the root stays versioned');
  assert.deepEqual(parseSpec(swagger('/api/v3'), 's.json').operations[0]?.versionlessPaths, []);
});

const inventory = (base: string, targets: [string, string][]): string[] => {
  const a = createAnalysis({
    specs: [parseSpec(swagger(base), 's.json')],
    previousSpecs: [],
    overrides: null,
    pii: null,
  });
  for (const [host, t] of targets) a.observe(ex('GET', t, { host }));
  const shadows = new Set(
    a
      .findings()
      .filter((f) => f.kind === 'shadow_api')
      .map((f) => `${f.host} ${f.path}`),
  );
  return a
    .endpoints()
    .map(
      (e) =>
        `${e.host} ${e.path} ${e.documented ? 'documented' : 'undocumented'}${shadows.has(`${e.host} ${e.path}`) ? ' shadow' : ''}`,
    );
};

test('unversioned calls are documented once the host served the versioned base (any order)', () => {
  assert.deepEqual(
    inventory('/v2', [
      ['d', '/things/abc'],
      ['d', '/v2/things/7'],
    ]),
    [
      'd /things/{thingId} documented', // spec name from the versionless seed, though 'abc' has no value class
      'd /v2/things/{thingId} documented',
    ],
  );
});

test('without versioned traffic on that host the base stays required (host-less specs do not leak)', () => {
  assert.deepEqual(
    inventory('/v2', [
      ['d', '/v2/things/7'],
      ['other', '/things/7'],
    ]),
    ['d /v2/things/{thingId} documented', 'other /things/{thingId} undocumented shadow'],
  );
  assert.deepEqual(
    inventory('/api/v3', [
      ['d', '/api/v3/things/7'],
      ['d', '/things/7'],
    ]),
    ['d /api/v3/things/{thingId} documented', 'd /things/{thingId} undocumented shadow'],
  );
});

test('the explain line names the rule and its risk', () => {
  const a = createAnalysis({
    specs: [parseSpec(swagger('/v2'), 's.json')],
    previousSpecs: [],
    overrides: null,
    pii: null,
  });
  a.observe(ex('GET', '/v2/things/1'));
  a.observe(ex('GET', '/things/2'));
  const e = a.endpoints().find((x) => x.path === '/things/{thingId}');
  assert.ok(
    e?.explain.some((l) => l.startsWith('optional version base: s.json declares base /v2') && l.includes('risk')),
    e?.explain.join('\n'),
  );
});
