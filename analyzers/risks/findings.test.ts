// shadow / zombie / orphan and the auth and PII findings, on synthetic traffic against corpus specs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Finding } from '../../engine/contracts/inventory.js';
import { corpus, needsCorpus } from '../../test/support/paths.js';
import { createAnalysis } from '../analysis.js';
import type { AnalysisOptions } from '../analysis.js';
import type { PiiFieldAggregator, PiiFieldResult, PiiHit, PiiScanner } from '../pii/types.js';
import { loadSpec, parseSpec } from '../spec/load.js';
import { ex } from '../testing.js';
import { findingId, mergeShardFindings } from './findings.js';
import { apiHost as hostOf } from '../../engine/contracts/exchange.js';

const run = (xs: Exchange[], o: Partial<AnalysisOptions> = {}) => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null, ...o });
  for (const x of xs) a.observe(x);
  // These tests pin the spec and auth findings; cleartext_credentials (the test exchanges carry
  // credentials between non-loopback addresses) is pinned in analyzers/tls/tls.test.ts.
  return { endpoints: a.endpoints(), findings: a.findings().filter((f) => f.kind !== 'cleartext_credentials') };
};
const kinds = (fs: Finding[]) =>
  fs.map((f) => `${f.kind} ${f.method} ${f.path}${f.details['reason'] ? ` ${String(f.details['reason'])}` : ''}`);

test(
  'Adyen: deprecated operation called → zombie; unknown operation → shadow; the rest → orphans with the window',
  needsCorpus,
  async () => {
    const spec = await loadSpec(corpus('specs', 'adyen/RecurringService-v68.yaml'));
    const host = 'pal-test.adyen.com';
    const auth: [string, string][] = [['X-API-Key', 'k']];
    const base = '/pal/servlet/Recurring/v68';
    const xs = [
      ex('POST', `${base}/createPermit`, { host, headers: auth, us: 1_700_000_000_000_000 }),
      ex('POST', `${base}/disable`, { host, headers: auth }),
      ex('POST', `${base}/debugDump`, { host, headers: auth, us: 1_700_000_005_000_000 }),
    ];
    const { endpoints, findings } = run(xs, { specs: [spec] });
    assert.deepEqual(
      endpoints.map((e) => [e.path, e.documented, e.deprecated]),
      [
        [`${base}/createPermit`, true, true],
        [`${base}/debugDump`, false, false],
        [`${base}/disable`, true, false],
      ],
    );
    const fs = findings.filter((f) => f.kind !== 'orphan_api');
    assert.deepEqual(kinds(fs), [
      `zombie_api POST ${base}/createPermit deprecated_operation`,
      `shadow_api POST ${base}/debugDump`,
    ]);
    const orphans = findings.filter((f) => f.kind === 'orphan_api');
    assert.deepEqual(
      orphans.map((f) => f.path).sort(),
      ['disablePermit', 'listRecurringDetails', 'notifyShopper', 'scheduleAccountUpdater'].map((p) => `${base}/${p}`),
    );
    assert.deepEqual(orphans[0]?.details['window'], {
      first: '2023-11-14T22:13:20.000000Z',
      last: '2023-11-14T22:13:25.002020Z',
    });
    for (const f of findings) Finding.parse(f);
  },
);

test('Adyen TfmAPI: every operation deprecated → each call is a zombie', needsCorpus, async () => {
  const spec = await loadSpec(corpus('specs', 'adyen/TfmAPIService-v1.yaml'));
  const host = 'postfmapi-test.adyen.com';
  const { findings } = run(
    [ex('POST', '/postfmapi/terminal/v1/findTerminal', { host, headers: [['Authorization', 'Basic dTpw']] })],
    { specs: [spec] },
  );
  assert.deepEqual(kinds(findings.filter((f) => f.kind === 'zombie_api')), [
    'zombie_api POST /postfmapi/terminal/v1/findTerminal deprecated_operation',
  ]);
  assert.equal(findings.filter((f) => f.kind === 'orphan_api').length, 4);
});

test(
  'Twilio chat v1 as previous, v2 as current: removed operation → zombie (not shadow); v3 → shadow',
  needsCorpus,
  async () => {
    const v1 = await loadSpec(corpus('specs', 'twilio/twilio_chat_v1.json'));
    const v2 = await loadSpec(corpus('specs', 'twilio/twilio_chat_v2.json'));
    const host = 'chat.twilio.com';
    const sid = (p: string, i: number) => p + createHash('md5').update(String(i)).digest('hex');
    const auth: [string, string][] = [['Authorization', 'Basic QUM6dG9rZW4=']];
    const xs = [
      ex('GET', `/v1/Services/${sid('IS', 1)}/Channels`, { host, headers: auth }),
      ex('GET', `/v2/Services/${sid('IS', 2)}/Channels`, { host, headers: auth }),
      ex('GET', `/v3/Services/${sid('IS', 3)}/Channels/${sid('CH', 3)}`, { host, headers: auth }),
    ];
    const { endpoints, findings } = run(xs, { specs: [v2], previousSpecs: [v1] });
    assert.deepEqual(
      endpoints.map((e) => `${e.path} ${e.documented}`),
      [
        '/v1/Services/{ServiceSid}/Channels false',
        '/v2/Services/{ServiceSid}/Channels true',
        '/v3/Services/{serviceId}/Channels/{channelId} false', // no spec knows v3: names from the parents
      ],
    );
    assert.deepEqual(kinds(findings.filter((f) => f.kind !== 'orphan_api')), [
      'zombie_api GET /v1/Services/{ServiceSid}/Channels removed_operation',
      'shadow_api GET /v3/Services/{serviceId}/Channels/{channelId}',
    ]);
    assert.equal(findings.find((f) => f.kind === 'zombie_api')?.details['previousSpec'], 'twilio_chat_v1.json');
    assert.equal(findings.filter((f) => f.kind === 'orphan_api').length, 53); // 54 operations, one seen
  },
);

test('docker v1.41 (no host): applies to any host; base path stripped for matching', needsCorpus, async () => {
  const spec = await loadSpec(corpus('specs', 'docker-engine/v1.41.yaml'));
  const { endpoints, findings } = run(
    [
      ex('GET', '/v1.41/containers/json?all=1', { host: 'docker' }),
      ex('POST', '/v1.41/containers/4fa6e0f0c678/attach?stream=1', { host: 'docker' }),
      ex('GET', '/v1.41/secret/debug', { host: 'docker' }),
    ],
    { specs: [spec] },
  );
  assert.deepEqual(
    endpoints.map((e) => `${e.method} ${e.path} ${e.documented}`),
    ['GET /v1.41/containers/json true', 'POST /v1.41/containers/{id}/attach true', 'GET /v1.41/secret/debug false'],
  );
  assert.ok(findings.some((f) => f.kind === 'shadow_api' && f.path === '/v1.41/secret/debug'));
  const orphan = findings.find((f) => f.kind === 'orphan_api');
  assert.equal(orphan?.host, '*');
});

test(
  'no shadow when the specs describe other hosts only; Deprecation/Sunset headers → zombie',
  needsCorpus,
  async () => {
    const spec = await loadSpec(corpus('specs', 'oai-examples/petstore.yaml'));
    const { findings } = run(
      [
        ex('GET', '/v1/old', {
          host: 'api.example.com',
          headers: [['Authorization', 'Bearer x']],
          resHeaders: [
            ['Deprecation', '@1688169599'],
            ['Sunset', 'Wed, 11 Nov 2026 11:11:11 GMT'],
          ],
        }),
      ],
      { specs: [spec] },
    );
    const own = findings.filter((f) => f.host === 'api.example.com');
    assert.deepEqual(kinds(own), ['zombie_api GET /v1/old deprecation_header']);
    assert.equal(own[0]?.details['sunset'], '2026-11-11T11:11:11.000Z');
  },
);

test('auth posture: unauthenticated 2xx, mixed auth, credentials in the URL; static and health excluded', () => {
  const xs = [
    ex('GET', '/api/orders/1', { headers: [['Authorization', 'Bearer t']] }),
    ex('GET', '/api/orders/2'),
    ex('GET', '/api/orders/3', { status: 401 }),
    ex('POST', '/api/export?api_key=abc'),
    ex('GET', '/static/logo.png'),
    ex('GET', '/healthz'),
  ];
  const { findings } = run(xs);
  // One finding for the endpoint: the mix is part of the unauthenticated finding, not a second one.
  assert.deepEqual(kinds(findings), [
    'sensitive_in_url POST /api/export',
    'unauthenticated_endpoint GET /api/orders/{orderId}',
  ]);
  const unauth = findings.find((f) => f.kind === 'unauthenticated_endpoint');
  assert.equal(unauth?.severity, 'high'); // the same endpoint also serves authenticated callers
  assert.deepEqual([unauth?.details['authenticatedRequests'], unauth?.details['unauthenticatedRequests']], [1, 2]);
  // A mix whose unauthenticated requests were all refused stays a mixed_auth finding (info).
  const refused = run([
    ex('GET', '/api/carts/1', { headers: [['Authorization', 'Bearer t']] }),
    ex('GET', '/api/carts/2', { status: 401 }),
  ]).findings;
  assert.deepEqual(
    refused.map((f) => `${f.kind} ${f.severity}`),
    ['mixed_auth info'],
  );
  assert.ok(!JSON.stringify(findings).includes('abc'));
});

test('capture quality lowers confidence', () => {
  const clean = run([1, 2, 3, 4, 5].map((i) => ex('GET', `/api/items/${i}`)));
  const gappy = run(
    [1, 2, 3, 4, 5].map((i) => ex('GET', `/api/items/${i}`, { quality: { gapBytes: 100, midstream: true } })),
  );
  const c = clean.findings.find((f) => f.kind === 'unauthenticated_endpoint')?.confidence ?? 0;
  const g = gappy.findings.find((f) => f.kind === 'unauthenticated_endpoint')?.confidence ?? 1;
  assert.ok(g < c, `${g} < ${c}`);
});

/** A hand-built scanner: emails in the path and `$.email` in JSON response bodies; everything passes aggregation. */
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
      const segs =
        (x.request?.target ?? '')
          .split('?')[0]
          ?.split('/')
          .filter((s) => s !== '') ?? [];
      segs.forEach((s, i) => {
        if (s.includes('@')) out.push(hit({ location: 'request.path', field: `path[${i}]` }));
      });
      if (x.response?.body.data.includes('"email"')) out.push(hit({}));
      if (x.response?.body.data.includes('"card"'))
        out.push(hit({ kind: 'payment_card', field: '$.card', masked: '**** 1111', example: true }));
      return out;
    },
  };
  const store = new Map<string, Map<string, PiiFieldResult>>();
  const aggregator: PiiFieldAggregator = {
    add(key, hits) {
      const m = store.get(key) ?? new Map<string, PiiFieldResult>();
      store.set(key, m);
      for (const h of hits) {
        const id = `${h.location} ${h.field} ${h.kind}`;
        const prev = m.get(id);
        m.set(id, {
          kind: h.kind,
          location: h.location,
          field: h.field,
          confidence: h.confidence,
          distinct: (prev?.distinct ?? 0) + 1,
          example: h.example,
          masked: h.masked,
          hash: h.hash,
        });
      }
    },
    results: (key) => [...(store.get(key)?.values() ?? [])].sort((a, b) => (a.field < b.field ? -1 : 1)),
  };
  return { scanner, aggregator };
}

test('PII: per endpoint and location, path fields renamed to the template parameter, no raw values', () => {
  const xs = [
    ex('GET', '/api/people/jane.doe@example.com', {
      headers: [['Authorization', 'Bearer t']],
      resJson: { email: 'jane.doe@example.com', card: '4111111111111111' },
    }),
    ex('GET', '/api/people/john@example.com', {
      headers: [['Authorization', 'Bearer t']],
      resJson: { email: 'john@example.com' },
    }),
  ];
  const { endpoints, findings } = run(xs, { pii: fakePii() });
  assert.deepEqual(endpoints[0]?.pii, [
    { kind: 'email', location: 'request.path', field: '{personId}' },
    { kind: 'payment_card', location: 'response.body', field: '$.card' },
    { kind: 'email', location: 'response.body', field: '$.email' },
  ]);
  const pii = findings.filter((f) => f.kind === 'pii_exposure');
  assert.deepEqual(
    pii.map((f) => [f.details['location'], f.severity]),
    [
      ['request.path', 'high'],
      ['response.body', 'high'],
    ],
  );
  assert.ok(findings.some((f) => f.kind === 'sensitive_in_url' && f.details['fields'] !== undefined));
  const json = JSON.stringify({ endpoints, findings });
  assert.ok(!json.includes('jane.doe') && !json.includes('4111111111111111'));
});

test(
  'determinism: same input → byte-identical JSON; ids are sha256(kind|host|method|path|detail)[0:16]',
  needsCorpus,
  async () => {
    const spec = await loadSpec(corpus('specs', 'swagger-petstore/openapi.yaml'));
    const mk = () => [
      ex('GET', '/api/v3/pet/10', { host: 'petstore3.swagger.io', seq: 1 }),
      ex('GET', '/api/v3/pet/findByStatus?status=sold', { host: 'petstore3.swagger.io', seq: 2 }),
      ex('DELETE', '/api/v3/store/order/7', { host: 'petstore3.swagger.io', seq: 3 }),
      ex('GET', '/api/v3/admin/users', { host: 'petstore3.swagger.io', seq: 4 }),
    ];
    const a = JSON.stringify(run(mk(), { specs: [spec], pii: fakePii() }));
    const b = JSON.stringify(run(mk(), { specs: [spec], pii: fakePii() }));
    assert.equal(a, b);
    const { findings } = JSON.parse(a) as { findings: Finding[] };
    const shadow = findings.find((f) => f.kind === 'shadow_api');
    assert.equal(shadow?.path, '/api/v3/admin/users');
    assert.equal(
      shadow?.id,
      findingId('shadow_api', 'petstore3.swagger.io', 'GET', '/api/v3/admin/users', 'undocumented'),
    );
    assert.equal(
      shadow?.id,
      createHash('sha256')
        .update('shadow_api|petstore3.swagger.io|GET|/api/v3/admin/users|undocumented')
        .digest('hex')
        .slice(0, 16),
    );
  },
);

test(
  'findings of host shards merge to the single analysis (orphans: no shard saw the operation)',
  needsCorpus,
  async () => {
    const spec = await loadSpec(corpus('specs', 'adyen/RecurringService-v68.yaml'));
    const base = '/pal/servlet/Recurring/v68';
    const hosts = ['pal-test.adyen.com', 'a.example', 'b.example', 'c.example', 'd.example'];
    const xs: Exchange[] = [];
    let us = 1_700_000_000_000_000;
    for (let i = 0; i < 40; i++) {
      const host = hosts[i % hosts.length] as string;
      const target =
        i % 3 === 0 ? `${base}/disable` : i % 3 === 1 ? `/internal/${i % 4}` : `${base}/listRecurringDetails`;
      xs.push(ex('POST', target, { host, us: (us += 1000), headers: [['X-API-Key', 'k']] }));
    }
    const single = createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null });
    for (const x of xs) single.observe(x);
    const whole = single.findings();
    assert.ok(whole.some((f) => f.kind === 'orphan_api'));
    for (const n of [2, 3, 5]) {
      const shards = Array.from({ length: n }, () =>
        createAnalysis({ specs: [spec], previousSpecs: [], overrides: null, pii: null }),
      );
      for (const x of xs) shards[hosts.indexOf(hostOf(x)) % n]?.observe(x); // any partition of the hosts
      const merged = mergeShardFindings(shards.map((a) => ({ findings: a.findings(), window: a.window() })));
      assert.deepEqual(merged, whole, `${n} shards`);
    }
  },
);

test('credentials: no finding where they belong (bearer, cookies, login); a finding where they do not', async () => {
  const { createPiiFieldAggregator, createPiiScanner } = await import('../pii/index.js');
  const jwtOf = (sub: string): string =>
    [
      { alg: 'HS256', typ: 'JWT' },
      { sub, exp: 1_900_000_000 },
    ]
      .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url'))
      .join('.') + '.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
  const xs: Exchange[] = [];
  for (let i = 1; i <= 6; i++) {
    const tok = jwtOf(`user-${i}`);
    xs.push(
      ex('POST', '/api/v1/login', {
        reqJson: { username: `user${i}`, password: `Correct-Horse-${i}-Battery` },
        resJson: { access_token: tok, token_type: 'Bearer' },
        resHeaders: [['Set-Cookie', `session=${tok}; HttpOnly`]],
      }),
      ex('GET', `/api/v1/orders/${i}`, { headers: [['Authorization', `Bearer ${tok}`]], resJson: { id: i } }),
      // Misplaced: a token echoed in a response body of an ordinary call, and one in a tracing header.
      ex('GET', `/api/v1/profile/${i}`, {
        headers: [
          ['Authorization', `Bearer ${tok}`],
          ['X-Request-Trace', tok],
        ],
        resJson: { name: 'x', debug: { upstreamToken: tok } },
      }),
    );
  }
  const a = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner: createPiiScanner({ secret: Buffer.from('s') }), aggregator: createPiiFieldAggregator() },
  });
  for (const x of xs) a.observe(x);
  const pii = a
    .findings()
    .filter((f) => f.kind === 'pii_exposure')
    .map((f) => `${f.method} ${f.path} ${String(f.details['location'])} ${f.severity}`);
  assert.ok(!pii.some((l) => l.includes('/login')), pii.join('\n'));
  assert.ok(!pii.some((l) => l.startsWith('GET /api/v1/orders')), pii.join('\n'));
  assert.ok(pii.includes('GET /api/v1/profile/{profileId} response.body critical'), pii.join('\n'));
  assert.ok(pii.includes('GET /api/v1/profile/{profileId} request.header medium'), pii.join('\n'));
  // The credentials are still in the inventory: the endpoint's auth posture and PII fields.
  const orders = a.endpoints().find((e) => e.path === '/api/v1/orders/{orderId}');
  assert.deepEqual(orders?.auth, ['jwt']);
  // A login nobody authenticated to is public by design: no unauthenticated_endpoint finding.
  assert.ok(!a.findings().some((f) => f.kind === 'unauthenticated_endpoint' && f.path === '/api/v1/login'));
});

test('an operation the spec declares anonymous (security: []) answering without credentials is no finding', () => {
  const spec = parseSpec(
    [
      'openapi: 3.0.3',
      'info: {title: t, version: "1"}',
      'servers: [{url: "https://api.example.com"}]',
      'security: [{bearer: []}]',
      'components: {securitySchemes: {bearer: {type: http, scheme: bearer}}}',
      'paths:',
      '  /catalog: {get: {security: [], responses: {"200": {description: ok}}}}',
      '  /orders: {get: {responses: {"200": {description: ok}}}}',
    ].join('\n'),
    'anon.yaml',
  );
  assert.deepEqual(
    spec.operations.map((o) => [o.path, o.security]),
    [
      ['/catalog', [[]]],
      ['/orders', [['bearer']]],
    ],
  );
  const { findings } = run([ex('GET', '/catalog'), ex('GET', '/orders')], { specs: [spec] });
  assert.deepEqual(
    findings.filter((f) => f.kind === 'unauthenticated_endpoint').map((f) => f.path),
    ['/orders'],
  );
});

test('auth calls: which paths take credentials by design, which are public by design', async () => {
  const { isAuthCall, isPublicAuthCall } = await import('./findings.js');
  for (const p of ['/api/v1/login', '/oauth2/token', '/v1.41/auth', '/users/{id}/password', '/sign-in', '/apikeys'])
    assert.equal(isAuthCall(p), true, p);
  for (const p of ['/v1.41/networks/{id}/connect', '/keys/{keyId}', '/users/{userId}', '/tokens-report/{login}'])
    assert.equal(isAuthCall(p), false, p);
  assert.equal(isPublicAuthCall('/api/v1/login'), true);
  assert.equal(isPublicAuthCall('/apikeys'), false); // key management needs credentials
  assert.equal(isPublicAuthCall('/users/{id}/password'), false);
});
