// observe()'s route cache (analysis.ts, Route): the answers for a raw path repeated are the answers
// for it seen first, the tree's drops are counted per exchange, and a spec seeded later (versionless
// paths enabled by traffic) changes the attribution of paths already cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Exchange } from '../engine/contracts/exchange.js';
import { createAnalysis, parseTarget } from './analysis.js';
import { parseSpec } from './spec/load.js';
import { ex } from './testing.js';

/** parseTarget's segments as first written (regexes and split), the reference for the char loops. */
function referenceSegs(target: string): string[] {
  let path = target;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target);
  if (abs) path = abs[1] ?? '';
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (!path.startsWith('/')) return path === '' ? [] : [path];
  return path.split('/').filter((s) => s !== '');
}

const targetOf = (target: string): Exchange =>
  ({ request: { target, headers: [['Host', 'h']] }, server: { ip: '10.0.0.1', port: 80 } }) as unknown as Exchange;

test('parseTarget segments equal the regex reference on any target', () => {
  const piece = fc.constantFrom('/', '//', '?', '#', 'a', 'B', '%2F', '.', ':', '@', 'http://', 'x:/', '*', ' ', '\n');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
      const t = parts.join('');
      assert.deepEqual(parseTarget(targetOf(t)).segs, referenceSegs(t), JSON.stringify(t));
    }),
    { numRuns: 3000 },
  );
});

const analysis = (specs = [] as ReturnType<typeof parseSpec>[]): ReturnType<typeof createAnalysis> =>
  createAnalysis({ specs, previousSpecs: [], overrides: null, pii: null });

test('tree drops are counted on every exchange, cached or not', () => {
  const a = analysis();
  const deep = '/' + Array.from({ length: 40 }, (_, i) => `s${i}`).join('/');
  for (let i = 0; i < 3; i++) a.observe(ex('GET', deep));
  for (let i = 0; i < 512; i++) a.observe(ex('GET', `/items/w${i}x`));
  for (let i = 0; i < 4; i++) a.observe(ex('GET', '/items/one-too-many'));
  const s = a.stats();
  assert.equal(s.analysis_tree_path_too_deep, 3);
  assert.equal(s.analysis_tree_children_overflow, 4);
});

test('a repeated raw path is attributed as the first time, whatever its query', () => {
  const a = analysis();
  const first = a.observe(ex('GET', '/api/v1/users/42/orders?page=1'));
  const again = a.observe(ex('GET', '/api/v1/users/42/orders?page=2#x'));
  const other = a.observe(ex('POST', '/api/v1/users/42/orders'));
  assert.equal(first.path, '/api/v1/users/{userId}/orders');
  assert.deepEqual(again, first);
  assert.equal(other.method, 'POST');
  assert.equal(a.endpoints().find((e) => e.method === 'GET')?.hits, 2);
});

const swagger = JSON.stringify({
  swagger: '2.0',
  info: { title: 't', version: '1' },
  basePath: '/v2',
  paths: { '/things/{thingId}': { get: {} } },
});

test('a spec seeded after a path was cached changes its attribution (tree epoch)', () => {
  const a = analysis([parseSpec(swagger, 's.json')]);
  assert.equal(a.observe(ex('GET', '/things/abc')).path, '/things/abc', 'versionless paths not enabled yet');
  assert.equal(a.observe(ex('GET', '/v2/things/7')).path, '/v2/things/{thingId}');
  // The versioned call enabled the spec's versionless paths on this host: the cached route is remade.
  assert.equal(a.observe(ex('GET', '/things/abc')).path, '/things/{thingId}');
  const b = analysis([parseSpec(swagger, 's.json')]);
  b.observe(ex('GET', '/v2/things/7'));
  assert.equal(b.observe(ex('GET', '/things/abc')).path, '/things/{thingId}', 'as without the earlier call');
});

test('forget() drops cached routes with the host tree', () => {
  const a = analysis();
  for (let i = 0; i < 6; i++) a.observe(ex('GET', `/shop/items/w${i}x/detail`));
  a.forget(['api.example.com']);
  a.observe(ex('GET', '/shop/items/w0x/detail'));
  const eps = a.endpoints();
  assert.deepEqual(
    eps.map((e) => [e.path, e.hits]),
    [['/shop/items/w0x/detail', 1]],
  );
});

test('past ROUTE_CACHE distinct paths the cache starts over with the same answers', () => {
  const a = analysis();
  const first = a.observe(ex('GET', '/a/b/1'));
  for (let i = 0; i < 8300; i++) a.observe(ex('GET', `/a/w${i}x/c`));
  assert.deepEqual(a.observe(ex('GET', '/a/b/1')), first);
  assert.equal(
    a.endpoints().reduce((n, e) => n + e.hits, 0),
    8302,
  );
});
