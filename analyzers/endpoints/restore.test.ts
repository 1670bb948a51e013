// Durable state: Analysis.restore / forget / hosts / per-host endpoints and findings.
// The central property: A sees every exchange; B sees part 1 and its endpoints()/findings() go through
// JSON (the store); C restores them and sees part 2 → C's inventory equals A's on every field but
// latency (approximate by design) and explain (distinct counts become upper bounds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Exchange } from '../../engine/contracts/exchange.js';
import type { EndpointRecord, Finding } from '../../engine/contracts/inventory.js';
import { isoFromUs } from '../../engine/contracts/inventory.js';
import type { Analysis, AnalysisOptions } from '../analysis.js';
import { CONFORMANCE_KINDS } from '../conformance/plugin.js';
import { createAnalysis } from '../analysis.js';
import type { PiiFieldAggregator, PiiFieldResult, PiiHit, PiiScanner } from '../pii/types.js';
import { parseSpec } from '../spec/load.js';
import type { LoadedSpec } from '../spec/types.js';
import { ex } from '../testing.js';
import { syntheticLatency, usFromIso } from './restore.js';
import { percentileMs, newLeafStats } from './stats.js';

const SPEC = parseSpec(
  JSON.stringify({
    swagger: '2.0',
    info: { title: 'pets', version: '1' },
    host: 'api.example.com',
    basePath: '/v1',
    paths: {
      '/pets': { get: {} },
      '/pets/{id}': { get: {}, delete: { security: [{ key: [] }] } },
      '/stores/{storeId}/orders': { post: {} },
      '/never': { get: {} },
    },
    securityDefinitions: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } },
  }),
  'pets.json',
);

/** Strong email hits for a response body `email` key and for an email-looking path segment 1. */
function fakePii(): { scanner: PiiScanner; aggregator: PiiFieldAggregator } {
  const hit = (p: Partial<PiiHit>): PiiHit => ({
    kind: 'email',
    location: 'response.body',
    field: '$.email',
    confidence: 0.9,
    strength: 'strong',
    validated: true,
    keyHint: true,
    example: false,
    masked: 'j***@e******.com',
    shape: 'a@a.a',
    hash: 'h'.repeat(32),
    detector: 'email',
    details: null,
    ...p,
  });
  const scanner: PiiScanner = {
    scanExchange(x) {
      const out: PiiHit[] = [];
      if (x.response?.body.data.includes('"email"')) out.push(hit({}));
      const seg = (x.request?.target ?? '').split('?')[0]?.split('/')[2] ?? '';
      if (seg.includes('@')) out.push(hit({ location: 'request.path', field: 'path[1]', confidence: 0.95 }));
      return out;
    },
  };
  const seen = new Map<string, Map<string, PiiFieldResult>>();
  const aggregator: PiiFieldAggregator = {
    add(key, hits) {
      let m = seen.get(key);
      if (!m) seen.set(key, (m = new Map()));
      for (const h of hits) {
        m.set(`${h.location} ${h.field} ${h.kind}`, {
          kind: h.kind,
          location: h.location,
          field: h.field,
          confidence: h.confidence,
          distinct: 1,
          example: h.example,
          masked: h.masked,
          hash: h.hash,
        });
      }
    },
    results: (key) =>
      [...(seen.get(key)?.values() ?? [])].sort((a, b) =>
        `${a.location} ${a.field}` < `${b.location} ${b.field}` ? -1 : 1,
      ),
  };
  return { scanner, aggregator };
}

const make = (specs: LoadedSpec[] = [SPEC], pii = true): Analysis =>
  createAnalysis({ specs, previousSpecs: [], overrides: null, pii: pii ? fakePii() : null } satisfies AnalysisOptions);

const KEY: [string, string] = ['X-Key', 'k'];
const TEAMS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];

/** A fixed traffic universe over two hosts: spec, value-class, cardinality, reserved, versionless, PII, auth mixes. */
function universe(): Exchange[] {
  const xs: Exchange[] = [];
  let seq = 0;
  const add = (m: string, t: string, o: Parameters<typeof ex>[2] = {}): void => {
    xs.push(ex(m, t, { seq: seq++, ...o }));
  };
  for (let i = 1; i <= 6; i++) {
    add('GET', `/v1/pets/${i * 7}`, { resJson: { id: i, name: 'x', email: 'a@b.example' }, latencyUs: 1000 * i });
    add('DELETE', `/v1/pets/${i}`, { headers: i % 2 ? [KEY] : [], status: i % 3 ? 204 : 401 });
    add('GET', `/users/${i}`, { resJson: { id: i, tags: ['a'] }, vni: i % 2 ? 7 : null });
    add('GET', `/users/${i}/orders/${100 + i}`, { status: i === 3 ? 500 : 200 });
  }
  add('GET', '/v1/pets?limit=5&offset=0', { resJson: [{ id: 1 }] });
  add('GET', '/pets/42', { resJson: { id: 42 } }); // versionless: documented once /v1 was served
  add('POST', '/v1/stores/downtown/orders', { reqJson: { qty: 1 }, status: 201 });
  add('POST', '/v1/stores/uptown/orders', { reqJson: { qty: 2, note: 'n' }, status: 201 });
  add('GET', '/users/me', { headers: [['Authorization', 'Bearer abc.def.ghi']] });
  add('GET', '/health', { status: 200 });
  add('GET', '/v1/never/more', { status: 404 }); // shadow under a documented prefix
  for (const t of TEAMS) add('GET', `/teams/${t}`, { resJson: { name: t } });
  add('GET', '/people/jane@example.org/profile', {});
  add('GET', '/people/jon@example.org/profile', {});
  for (let i = 0; i < 4; i++) {
    add('GET', `/items/123e4567-e89b-12d3-a456-42661417400${i}`, {
      host: 'other.example.com',
      headers: i % 2 ? [KEY] : [],
    });
    add('PUT', `/items/123e4567-e89b-12d3-a456-42661417400${i}?token=s3cret`, {
      host: 'other.example.com',
      reqJson: { a: [1, 2] },
    });
  }
  add('GET', '/legacy', {
    host: 'other.example.com',
    resHeaders: [
      ['Deprecation', 'true'],
      ['Sunset', 'Wed, 11 Nov 2026 11:11:11 GMT'],
    ],
  });
  return xs;
}

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Everything but latency percentiles and explain (see the file comment). */
function comparable(r: EndpointRecord): Omit<EndpointRecord, 'latencyP50Ms' | 'latencyP95Ms' | 'explain'> {
  const { latencyP50Ms: _a, latencyP95Ms: _b, explain: _c, ...rest } = r;
  return rest;
}

function run(part1: Exchange[], part2: Exchange[], withFindings = true): { a: Analysis; c: Analysis } {
  const a = make();
  for (const x of [...part1, ...part2]) a.observe(x);
  const b = make();
  for (const x of part1) b.observe(x);
  const stored = roundTrip({ endpoints: b.endpoints(), findings: b.findings() });
  const c = make();
  c.restore(stored.endpoints, withFindings ? stored.findings : []);
  for (const x of part2) c.observe(x);
  return { a, c };
}

test('usFromIso inverts isoFromUs', () => {
  for (const us of [0, 1, 999_999, 1_700_000_000_000_123, 1_700_000_000_123_456])
    assert.equal(usFromIso(isoFromUs(us)), us);
  assert.equal(usFromIso('yesterday'), null);
});

test('split in two: restored + part 2 equals one analysis of everything', () => {
  const xs = universe();
  const half = Math.floor(xs.length / 2);
  const { a, c } = run(xs.slice(0, half), xs.slice(half));
  assert.deepEqual(c.endpoints().map(comparable), a.endpoints().map(comparable));
  assert.deepEqual(c.findings(), a.findings());
  assert.deepEqual(c.hosts(), ['api.example.com', 'other.example.com']);
  // The inventory is non-trivial: templates from every rule, PII, versionless, shadow.
  const paths = a
    .endpoints()
    .map((e) => `${e.method} ${e.path}${e.documented ? ' doc' : ''}${e.pii.length ? ' pii' : ''}`);
  for (const p of [
    'GET /teams/{teamId}',
    'GET /pets/{id} doc',
    'GET /v1/pets/{id} doc pii',
    'GET /users/{userId}/orders/{orderId}',
    'GET /users/me',
    'GET /people/{personId}/profile pii',
    'GET /v1/never/more',
  ]) {
    assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  }
});

test('property: any split (and any order inside each part) gives the same inventory and findings', () => {
  const xs = universe();
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: xs.length, maxLength: xs.length }),
      fc.infiniteStream(fc.nat()),
      (side, rnd) => {
        const p1 = xs.filter((_, i) => side[i]);
        const p2 = xs.filter((_, i) => !side[i]);
        const shuffle = (l: Exchange[]): Exchange[] =>
          l
            .map((x) => [rnd.next().value as number, x] as const)
            .sort((p, q) => p[0] - q[0])
            .map((p) => p[1]);
        const { a, c } = run(shuffle(p1), shuffle(p2));
        assert.deepEqual(c.endpoints().map(comparable), a.endpoints().map(comparable));
        assert.deepEqual(
          c.findings().map((f) => `${f.id} ${f.severity}`),
          a.findings().map((f) => `${f.id} ${f.severity}`),
        );
      },
    ),
    { numRuns: 60 },
  );
});

test('property: a chain of restarts (store → restore → more traffic, k times) converges to the same inventory', () => {
  const xs = universe();
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 3 }), { minLength: xs.length, maxLength: xs.length }), (part) => {
      const a = make();
      for (const x of xs) a.observe(x);
      let stored: { endpoints: EndpointRecord[]; findings: Finding[] } = { endpoints: [], findings: [] };
      for (let k = 0; k <= 3; k++) {
        const w = make();
        w.restore(stored.endpoints, stored.findings);
        for (const x of xs.filter((_, i) => part[i] === k)) w.observe(x);
        stored = roundTrip({ endpoints: w.endpoints(), findings: w.findings() });
      }
      assert.deepEqual(stored.endpoints.map(comparable), a.endpoints().map(comparable));
      assert.deepEqual(
        stored.findings.map((f) => f.id),
        a.findings().map((f) => f.id),
      );
    }),
    { numRuns: 40 },
  );
});

test('restore without findings: counters, sets, templates and PII labels still exact; only header-based findings lost', () => {
  const xs = universe();
  const { a, c } = run(
    xs.filter((_, i) => i % 3 === 0),
    xs.filter((_, i) => i % 3 !== 0),
    false,
  );
  const pick = (e: EndpointRecord): unknown => [
    e.host,
    e.method,
    e.path,
    e.hits,
    e.firstSeen,
    e.lastSeen,
    e.statusClasses,
    e.fields,
    e.auth,
    e.pii,
    e.documented,
  ];
  assert.deepEqual(c.endpoints().map(pick), a.endpoints().map(pick));
  // Lost without findings: only what no record field implies (here the Deprecation/Sunset zombie,
  // and conformance findings, which come from message contents and are restored from findings only).
  const got = new Set(c.findings().map((f) => f.id));
  const missing = a
    .findings()
    .filter((f) => !got.has(f.id) && !CONFORMANCE_KINDS.has(f.kind))
    .map((f) => `${f.kind} ${f.details['reason'] ?? ''} ${f.path}`);
  assert.deepEqual(missing, ['zombie_api deprecation_header /legacy']);
  const want = new Set(a.findings().map((f) => f.id));
  assert.deepEqual(
    c.findings().filter((f) => !want.has(f.id)),
    [],
  );
});

test('a stored template acts like a seed: /users/{userId} and a cardinality {teamId} keep templating', () => {
  const base = {
    host: 'api.example.com',
    hits: 3,
    documented: false,
    deprecated: false,
    auth: ['none'],
    pii: [],
    firstSeen: isoFromUs(1e15),
    lastSeen: isoFromUs(1e15 + 5),
    statusClasses: { '2xx': 3 },
    latencyP50Ms: null,
    latencyP95Ms: null,
    contentTypes: [],
    queryParams: [],
    fields: [],
    category: 'api' as const,
    vnis: [],
    protocol: 'http',
  };
  const stored: EndpointRecord[] = [
    {
      ...base,
      method: 'GET',
      path: '/users/{userId}',
      explain: ['{userId} at segment 1: rule=value_class distinct=3 classes=integer:3'],
    },
    {
      ...base,
      method: 'GET',
      path: '/teams/{teamId}',
      explain: ['{teamId} at segment 1: rule=cardinality distinct=6 classes=word:6'],
    },
    { ...base, method: 'GET', path: '/spaces/{spaceId}', explain: [] },
  ];
  const c = make([], false);
  c.restore(stored);
  c.observe(ex('GET', '/users/42'));
  c.observe(ex('GET', '/teams/zulu')); // one new word: joins because the restored group had 6 values
  c.observe(ex('GET', '/spaces/lobby')); // no explain line: counts as one value, 'lobby' stays literal
  c.observe(ex('GET', '/users/me'));
  assert.deepEqual(
    c.endpoints().map((e) => `${e.path} ${e.hits}`),
    ['/spaces/lobby 1', '/spaces/{spaceId} 3', '/teams/{teamId} 4', '/users/me 1', '/users/{userId} 4'],
  );
  const teams = c.endpoints().find((e) => e.path === '/teams/{teamId}');
  assert.ok(
    teams?.explain.includes('{teamId} at segment 1: rule=cardinality distinct=7 classes=word:7'),
    teams?.explain.join('|'),
  );
});

test('restore replaces a host (idempotent), forget drops it, hosts/endpoints/findings filter per host', () => {
  const xs = universe();
  const b = make();
  for (const x of xs) b.observe(x);
  const stored = roundTrip({ endpoints: b.endpoints(), findings: b.findings() });
  const c = make();
  c.restore(stored.endpoints, stored.findings);
  c.restore(stored.endpoints, stored.findings);
  assert.deepEqual(c.endpoints().map(comparable), b.endpoints().map(comparable));
  assert.deepEqual(
    c.endpoints('other.example.com'),
    c.endpoints().filter((e) => e.host === 'other.example.com'),
  );
  assert.ok(c.endpoints('other.example.com').length > 0);
  assert.deepEqual(
    c.findings('api.example.com'),
    c.findings().filter((f) => f.host === 'api.example.com'),
  );
  assert.ok(
    c.findings('api.example.com').some((f) => f.kind === 'orphan_api'),
    'orphans carry their operation host',
  );
  c.forget(['other.example.com']);
  assert.deepEqual(c.hosts(), ['api.example.com']);
  assert.deepEqual(c.endpoints('other.example.com'), []);
  assert.deepEqual(
    c.findings().filter((f) => f.host === 'other.example.com'),
    [],
  );
  assert.deepEqual(c.endpoints(), b.endpoints('api.example.com'));
  assert.equal(c.stats()['analysis_forgotten_hosts'], 2 + 1); // the second restore replaced both hosts, then forget() one
});

test('orphan window includes the restored first/last seen', () => {
  const b = make();
  b.observe(ex('GET', '/v1/pets', { us: 1_600_000_000_000_000 }));
  const c = make();
  c.restore(roundTrip(b.endpoints()));
  c.observe(ex('GET', '/v1/pets', { us: 1_700_000_000_000_000 }));
  const orphan = c.findings().find((f) => f.kind === 'orphan_api' && f.path === '/v1/never');
  assert.deepEqual(orphan?.details['window'], {
    first: isoFromUs(1_600_000_000_000_000),
    last: isoFromUs(1_700_000_000_002_020),
  });
});

test('restored PII stays labelled without the PII layer; findings restore its sample', () => {
  const b = make();
  b.observe(ex('GET', '/v1/pets/1', { resJson: { email: 'a@b.example' } }));
  const stored = roundTrip({ endpoints: b.endpoints(), findings: b.findings() });
  const c = make([SPEC], false);
  c.restore(stored.endpoints, stored.findings);
  assert.deepEqual(c.endpoints()[0]?.pii, [{ kind: 'email', location: 'response.body', field: '$.email' }]);
  const f = c.findings().find((x) => x.kind === 'pii_exposure');
  assert.deepEqual(
    f,
    b.findings().find((x) => x.kind === 'pii_exposure'),
  );
});

test('latency: synthetic samples reproduce the stored percentiles; merged ones are approximate', () => {
  const s = newLeafStats();
  s.latency = syntheticLatency(1000, 12.5, 80);
  assert.equal(percentileMs(s, 50), 12.5);
  assert.ok(Math.abs((percentileMs(s, 95) ?? 0) - 80) <= 2, String(percentileMs(s, 95)));
  // Uniform latencies 1..400 ms split in two: merged p50/p95 within 10 % of the one-pass values.
  const xs = Array.from({ length: 400 }, (_, i) =>
    ex('GET', '/v1/pets', { seq: i, latencyUs: (((i * 37) % 400) + 1) * 1000 }),
  );
  const { a, c } = run(xs.slice(0, 250), xs.slice(250));
  const ea = a.endpoints()[0];
  const ec = c.endpoints()[0];
  assert.ok(ea && ec);
  for (const k of ['latencyP50Ms', 'latencyP95Ms'] as const) {
    const want = ea[k] ?? 0;
    assert.ok(Math.abs((ec[k] ?? 0) - want) <= 0.1 * want, `${k}: ${ec[k]} vs ${want}`);
  }
});

test('restored findings give back auth posture counters of mixed endpoints', () => {
  const b = make();
  for (let i = 0; i < 4; i++) b.observe(ex('DELETE', `/v1/pets/${i}`, { headers: i < 3 ? [] : [KEY] }));
  const stored = roundTrip({ endpoints: b.endpoints(), findings: b.findings() as Finding[] });
  const c = make();
  c.restore(stored.endpoints, stored.findings);
  assert.deepEqual(c.findings(), b.findings());
});

test('restore: Deprecation/Sunset counts folded into a deprecated_operation finding come back', () => {
  const spec = parseSpec(
    JSON.stringify({
      openapi: '3.0.3',
      info: { title: 'old', version: '1' },
      servers: [{ url: 'https://api.example.com' }],
      paths: { '/old': { get: { deprecated: true, responses: { '200': { description: 'ok' } } } } },
    }),
    'old.json',
  );
  const mk = (): Analysis => createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
  const a = mk();
  a.observe(ex('GET', '/old', { resHeaders: [['Deprecation', 'true']] }));
  const zombie = a.findings().filter((f) => f.kind === 'zombie_api');
  assert.deepEqual(
    zombie.map((f) => [f.details['reason'], f.details['deprecationResponses']]),
    [['deprecated_operation', 1]],
  );
  const b = mk();
  b.restore(a.endpoints(), a.findings());
  b.observe(ex('GET', '/old', { resHeaders: [['Deprecation', 'true']], seq: 99 }));
  const again = b.findings().find((f) => f.kind === 'zombie_api');
  assert.equal(again?.details['deprecationResponses'], 2);
});
