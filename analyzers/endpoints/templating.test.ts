// Templating rules, pinned through the public Analysis facade.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAnalysis } from '../analysis.js';
import { parseSpec } from '../spec/load.js';
import { ex } from '../testing.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { parseOverrides } from './overrides.js';

const paths = (xs: Exchange[], opts: Partial<Parameters<typeof createAnalysis>[0]> = {}): string[] => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null, ...opts });
  for (const x of xs) a.observe(x);
  return a.endpoints().map((e) => `${e.method} ${e.path}`);
};

test('integers, uuids, hashes, dates become named parameters; versions and the first segment do not', () => {
  const xs = [
    ex('GET', '/v1/users/1'),
    ex('GET', '/v1/users/2?expand=x'),
    ex('DELETE', '/v1/users/3'),
    ex('GET', '/v2.1/orders/123e4567-e89b-12d3-a456-426614174000/items/507f1f77bcf86cd799439011'),
    ex('GET', '/files/d41d8cd98f00b204e9800998ecf8427e'),
    ex('GET', '/2010-04-01/Accounts'),
    ex('GET', '/42/things'),
    ex('GET', '/reports/2024-01-31'),
  ];
  assert.deepEqual(paths(xs), [
    'GET /2010-04-01/Accounts',
    'GET /42/things',
    'GET /files/{fileId}',
    'GET /reports/{reportId}',
    'DELETE /v1/users/{userId}',
    'GET /v1/users/{userId}',
    'GET /v2.1/orders/{orderId}/items/{itemId}',
  ]);
});

test('/users/me is not swallowed by /users/{userId}', () => {
  const xs = [
    ex('GET', '/users/me'),
    ...[1, 2, 3, 4, 5, 6].map((i) => ex('GET', `/users/${i}`)),
    ex('GET', '/users/search'),
  ];
  assert.deepEqual(paths(xs), ['GET /users/me', 'GET /users/search', 'GET /users/{userId}']);
});

test('cardinality: >= 5 siblings with the same subtree shape merge; a sibling behaving differently stays', () => {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const xs = [...names.map((n) => ex('GET', `/teams/${n}/members`)), ex('GET', '/teams/archive/export')];
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  for (const x of xs) a.observe(x);
  const eps = a.endpoints();
  assert.deepEqual(
    eps.map((e) => e.path),
    ['/teams/archive/export', '/teams/{teamId}/members'],
  );
  const merged = eps.find((e) => e.path === '/teams/{teamId}/members');
  assert.ok(
    merged?.explain.some((l) => l.includes('rule=cardinality') && l.includes('distinct=5')),
    merged?.explain.join('\n'),
  );
  // Four are not enough.
  assert.deepEqual(paths(names.slice(0, 4).map((n) => ex('GET', `/teams/${n}/members`))).length, 4);
});

test('merged positions are decided together one level down', () => {
  const xs: Exchange[] = [];
  for (const u of [1, 2, 3])
    for (const o of ['a1b2c3d4e5', 'f6a7b8c9d0']) xs.push(ex('GET', `/api/users/${u}/orders/${o}`));
  assert.deepEqual(paths(xs), ['GET /api/users/{userId}/orders/{orderId}']);
});

test('fallback names: {id}, then {param2}', () => {
  assert.deepEqual(paths([ex('GET', '/things/v2/5/7')]), ['GET /things/v2/{id}/{param2}']);
  // The first resource segment is never templated, even when numeric.
  assert.deepEqual(paths([ex('GET', '/v1/7/9')]), ['GET /v1/7/{id}']);
});

const spec = parseSpec(
  `openapi: 3.0.3
info: { title: t, version: '1' }
servers: [{ url: 'https://api.example.com/base' }]
paths:
  /users/{user_ref}:
    get: { responses: { '200': { description: ok } } }
  /users/export:
    get: { responses: { '200': { description: ok } } }
  /users/{user_ref}/avatar:
    put: { responses: { '200': { description: ok } } }
`,
  'test.yaml',
);

test('spec paths seed the tree: spec names, static beats parameter, base path kept in the template', () => {
  const xs = [
    ex('GET', '/base/users/alice'),
    ex('GET', '/base/users/export'),
    ex('PUT', '/base/users/bob/avatar'),
    ex('GET', '/base/users/me'),
  ];
  const a = createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
  const at = xs.map((x) => a.observe(x).path);
  assert.deepEqual(at, [
    '/base/users/{user_ref}',
    '/base/users/export',
    '/base/users/{user_ref}/avatar',
    '/base/users/me',
  ]);
  const eps = a.endpoints();
  assert.deepEqual(
    eps.map((e) => [e.method, e.path, e.documented]),
    [
      ['GET', '/base/users/export', true],
      ['GET', '/base/users/me', true], // reserved word kept literal; still routed by /users/{user_ref} (OpenAPI matching)
      ['GET', '/base/users/{user_ref}', true],
      ['PUT', '/base/users/{user_ref}/avatar', true],
    ],
  );
  assert.ok(eps[2]?.explain.some((l) => l.includes('rule=spec_param') && l.includes('spec=test.yaml')));
  // The spec applies only to its host.
  assert.deepEqual(paths([ex('GET', '/base/users/alice', { host: 'other.example.com' })], { specs: [spec] }), [
    'GET /base/users/alice',
  ]);
});

test('overrides force and forbid templates', () => {
  const ov = parseOverrides(`
force:
  - method: GET
    path: /docs/{slug}
forbid:
  - { path: "/teams/{teamId}" }
`);
  const xs = [
    ex('GET', '/docs/intro'),
    ex('GET', '/docs/setup'),
    ...[1, 2].map((i) => ex('GET', `/teams/${i}`)),
    ex('GET', '/users/5'),
  ];
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: ov, pii: null });
  for (const x of xs) a.observe(x);
  const eps = a.endpoints();
  assert.deepEqual(
    eps.map((e) => e.path),
    ['/docs/{slug}', '/teams/1', '/teams/2', '/users/{userId}'],
  );
  assert.ok(eps[0]?.explain.includes('override force /docs/{slug}'));
  assert.ok(eps[1]?.explain.includes('override forbid /teams/{teamId}'));
  assert.throws(() => parseOverrides('force: [{ path: "no-slash" }]'), /force\.0\.path/);
  assert.throws(() => parseOverrides('forbid: [{ path: /a, colour: red }]'), /forbid\.0/);
});

test('absolute-form targets use their own host', () => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  const at = a.observe(ex('GET', 'http://proxy-target.example.com:8080/v1/items/5?q=1', { host: 'wrong.example.com' }));
  assert.deepEqual(at, {
    host: 'proxy-target.example.com:8080',
    method: 'GET',
    path: '/v1/items/{itemId}',
    actor: null,
  });
});

test('inventory fields: status classes, latency percentiles, content types, query names, vnis, categories', () => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  for (let i = 1; i <= 20; i++)
    a.observe(
      ex('GET', `/api/items/${i}?page=${i}&sort=asc`, {
        latencyUs: i * 1000,
        vni: i % 2 ? 7 : 9,
        status: i === 20 ? 500 : 200,
        resJson: { id: i },
      }),
    );
  a.observe(ex('GET', '/api/items/21', { status: null }));
  a.observe(ex('GET', '/static/app.js'));
  a.observe(ex('OPTIONS', '/api/items/1', { headers: [['Access-Control-Request-Method', 'GET']] }));
  const eps = a.endpoints();
  const items = eps.find((e) => e.method === 'GET' && e.path === '/api/items/{itemId}');
  assert.ok(items);
  assert.equal(items.hits, 21);
  assert.deepEqual(items.statusClasses, { '2xx': 19, '5xx': 1, none: 1 });
  assert.equal(items.latencyP50Ms, 10);
  assert.equal(items.latencyP95Ms, 19);
  assert.deepEqual(items.queryParams, ['page', 'sort']);
  assert.deepEqual(items.contentTypes, ['response application/json']);
  assert.deepEqual(items.vnis, [7, 9]);
  assert.deepEqual(items.fields, ['response.body $.id:integer', 'response.body $:object']);
  assert.equal(items.firstSeen, '2023-11-14T22:13:20.000000Z'.replace('20.000000', items.firstSeen.slice(17, 26)));
  assert.equal(eps.find((e) => e.path === '/static/app.js')?.category, 'static');
  assert.equal(eps.find((e) => e.method === 'OPTIONS')?.category, 'preflight');
});

test('property: arrival order does not change endpoints()', () => {
  const pool: Exchange[] = [];
  let t = 0;
  const add = (m: string, p: string): void => {
    pool.push(
      ex(m, p, { us: 1_700_000_000_000_000 + t * 997, seq: 10_000 + t, latencyUs: 1000 + ((t * 7919) % 5000) }),
    );
    t++;
  };
  for (const n of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) add('GET', `/teams/${n}/members`);
  add('GET', '/teams/archive/export');
  for (let i = 0; i < 6; i++) add('GET', `/v1/users/${i * 13}`);
  add('GET', '/v1/users/me');
  add('POST', '/v1/users');
  for (const o of ['ab12cd34ef', '0123456789abcdef', 'ffeeddcc11']) add('GET', `/v1/users/3/orders/${o}`);
  add('GET', '/v1/users/me/orders/ab12cd34ef');
  const baseline = JSON.stringify(run(pool));
  fc.assert(
    fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), (order) => {
      assert.equal(JSON.stringify(run(order)), baseline);
    }),
    { numRuns: 60, seed: 42 },
  );
  function run(xs: Exchange[]): unknown {
    const a = createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
    for (const x of xs) a.observe(x);
    return [a.endpoints(), a.findings()];
  }
});

test('bounded tree: values past the per-node cap fall into an overflow parameter, counted', () => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  // Seen before the cap is reached, so it keeps its own node (past the cap, arrival order matters).
  a.observe(ex('GET', '/catalog/featured/list'));
  for (let i = 0; i < 600; i++) a.observe(ex('GET', `/catalog/item-${String.fromCharCode(97 + (i % 26))}${i}`));
  assert.deepEqual(
    a.endpoints().map((e) => [e.path, e.hits]),
    [
      ['/catalog/featured/list', 1],
      ['/catalog/{catalogId}', 600],
    ],
  );
  assert.equal(a.stats()['analysis_tree_children_overflow'], 89); // 601 distinct children, 512 kept
  assert.ok(a.endpoints()[1]?.explain.some((l) => l.includes('overflow(>=512)')));
});

const sid = (p: string, i: number): string =>
  `${p}${(0x1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6dn + BigInt(i * 7919)).toString(16)}`;

test('mixed spec segments: {Sid}.json, v{major}, {name}:cancel, most literal first', () => {
  const spec = parseSpec(
    [
      'openapi: 3.0.3',
      'info: {title: t, version: "1"}',
      'servers: [{url: "https://api.example.com/v{major}", variables: {major: {default: "1"}}}]',
      'paths:',
      '  /Accounts/{AccountSid}/Calls/{Sid}.json: {get: {responses: {"200": {description: ok}}}}',
      '  /Accounts/{AccountSid}/Calls.json: {get: {responses: {"200": {description: ok}}}}',
      '  /jobs/{name}:cancel: {post: {responses: {"200": {description: ok}}}}',
      '  /jobs/{name}: {get: {responses: {"200": {description: ok}}}}',
      '  /items:batchGet: {get: {responses: {"200": {description: ok}}}}',
    ].join('\n'),
    'mixed.yaml',
  );
  const acc = sid('AC', 0);
  const xs = [
    ...[1, 2, 3].map((i) => ex('GET', `/v1/Accounts/${acc}/Calls/${sid('CA', i)}.json`)),
    ex('GET', `/v2/Accounts/${acc}/Calls.json`),
    ex('POST', '/v1/jobs/nightly-build:cancel'),
    ex('POST', '/v1/jobs/nightly-build:pause'),
    ex('GET', '/v1/jobs/nightly-build'),
    ex('GET', '/v1/items:batchGet'),
  ];
  const a = createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
  for (const x of xs) a.observe(x);
  // The server variable without enum stays a template: /v1 and /v2 are the same operations.
  assert.deepEqual(
    a
      .endpoints()
      .map((e) => `${e.method} ${e.path} ${e.documented}`)
      .sort(),
    [
      'GET /v{major}/Accounts/{AccountSid}/Calls.json true',
      'GET /v{major}/Accounts/{AccountSid}/Calls/{Sid}.json true',
      'GET /v{major}/items:batchGet true',
      'GET /v{major}/jobs/{name} true',
      'POST /v{major}/jobs/{name}:cancel true',
      'POST /v{major}/jobs/{name}:pause false',
    ],
  );
  // An undocumented custom method is not hidden by the spec's whole {name} parameter.
  assert.deepEqual(
    a
      .findings()
      .filter((f) => f.kind === 'shadow_api')
      .map((f) => `${f.method} ${f.path}`),
    ['POST /v{major}/jobs/{name}:pause'],
  );
});

test('without a spec, parameters keep a format extension: /files/{fileId}.json beside /files/{fileId}', () => {
  const xs = [
    ...[1, 2, 3, 4, 5, 6].map((i) => ex('GET', `/2010-04-01/Accounts/${sid('AC', 1)}/Calls/${sid('CA', i)}.json`)),
    ...[11, 12].map((i) => ex('GET', `/files/${i}.json`)),
    ...[13, 14].map((i) => ex('GET', `/files/${i}`)),
    ...['alpha', 'bravo', 'charlie', 'delta', 'echo'].map((w) => ex('GET', `/reports/${w}.csv`)),
    ...['example.com', 'example.org', 'acme.io', 'globex.net', 'initech.dev'].map((d) =>
      ex('GET', `/domains/${d}/dns`),
    ),
  ];
  assert.deepEqual(paths(xs), [
    'GET /2010-04-01/Accounts/{accountId}/Calls/{callId}.json',
    'GET /domains/{domainId}/dns',
    'GET /files/{fileId}',
    'GET /files/{fileId}.json',
    'GET /reports/{reportId}.csv',
  ]);
});
