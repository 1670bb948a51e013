import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../../engine/contracts/inventory.js';
import { createAnalysis } from '../analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../pii/index.js';
import { parseSpec } from '../spec/load.js';
import { ex, resetExchangeCounter } from '../testing.js';
import { CONFORMANCE_SAMPLING, pickResponse, shapeOf } from './plugin.js';

const SPEC = parseSpec(
  JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'users', version: '1' },
    servers: [{ url: 'http://api.example.com/v1' }],
    components: {
      securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
      schemas: {
        User: {
          type: 'object',
          required: ['id', 'name', 'role'],
          properties: {
            id: { type: 'integer', readOnly: true },
            name: { type: 'string' },
            role: { type: 'string', enum: ['admin', 'user'] },
            manager: { nullable: true, allOf: [{ $ref: '#/components/schemas/Ref' }] },
            password: { type: 'string', writeOnly: true },
          },
        },
        Ref: { type: 'object', properties: { id: { type: 'integer' } } },
        Error: { type: 'object', properties: { message: { type: 'string' } } },
      },
    },
    paths: {
      '/users/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        get: {
          parameters: [{ name: 'fields', in: 'query', schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } },
            },
            '4XX': {
              description: 'no',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          },
        },
        put: {
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } },
            },
            default: { description: 'err' },
          },
        },
      },
    },
  }),
  'users.json',
);

const user = (i: number): Record<string, unknown> => ({ id: i, name: `n${i}`, role: 'user', manager: null });

function analyse(exchanges: ReturnType<typeof ex>[], withPii = false): Finding[] {
  const a = createAnalysis({
    specs: [SPEC],
    previousSpecs: [],
    overrides: null,
    pii: withPii ? { scanner: createPiiScanner({ secret: 's' }), aggregator: createPiiFieldAggregator() } : null,
  });
  for (const e of exchanges) a.observe(e);
  return a
    .findings()
    .filter((f) =>
      ['undocumented_parameter', 'undocumented_field', 'undocumented_status', 'schema_mismatch'].includes(f.kind),
    );
}
const brief = (fs: readonly Finding[]): string[] =>
  fs
    .map((f) => `${f.kind} ${f.method} ${String(f.details['location'])} ${String(f.details['name'])} ${f.severity}`)
    .sort();

test('a conformant exchange yields no finding', () => {
  resetExchangeCounter();
  const fs = analyse([
    ex('GET', '/v1/users/1?fields=name', {
      headers: [
        ['X-Api-Key', 'k'],
        ['User-Agent', 'x'],
        ['traceparent', 't'],
      ],
      resJson: user(1),
    }),
    ex('GET', '/v1/users/2', { status: 404, resJson: { message: 'no' } }),
    ex('PUT', '/v1/users/3', { reqJson: { name: 'a', role: 'admin', password: 'p' }, resJson: user(3) }),
    ex('PUT', '/v1/users/3', { status: 500 }),
  ]);
  assert.deepEqual(brief(fs), []);
});

test('undocumented parameters, fields and statuses; schema mismatches with pointers; default status honoured', () => {
  resetExchangeCounter();
  const fs = analyse([
    ex('GET', '/v1/users/1?debug=1&fields=x', {
      headers: [['X-Internal', '1']],
      resJson: { ...user(1), internal: { notes: 'x' } },
    }),
    ex('GET', '/v1/users/2', { status: 503, resJson: { message: 'down' } }),
    ex('GET', '/v1/users/3', { resJson: { id: '3', name: 'n', role: 'root', manager: { id: 'x' } } }),
    ex('GET', '/v1/users/4', { resJson: { id: 4, name: 'n', manager: null, password: 'secret' } }),
    ex('PUT', '/v1/users/5', { reqJson: { id: 5, name: 'a', role: 'user', isAdmin: true }, status: 418 }),
  ]);
  assert.deepEqual(brief(fs), [
    'schema_mismatch GET response.body /id medium',
    'schema_mismatch GET response.body /manager/id medium',
    'schema_mismatch GET response.body /password medium',
    'schema_mismatch GET response.body /role medium',
    'schema_mismatch PUT request.body /id low',
    'undocumented_field GET response.body /internal low',
    'undocumented_parameter GET request.header x-internal low',
    'undocumented_parameter GET request.query debug low',
    'undocumented_parameter PUT request.body /isAdmin medium',
    'undocumented_status GET response.status 503 medium',
  ]);
  const role = fs.find((f) => f.details['name'] === '/role');
  assert.deepEqual([role?.details['count'], role?.details['keywords']], [2, { enum: 1, required: 1 }]);
  const ro = fs.find((f) => f.method === 'PUT' && f.kind === 'schema_mismatch');
  assert.deepEqual(ro?.details['keywords'], { readOnly: 1 });
  const wo = fs.find((f) => f.details['name'] === '/password');
  assert.deepEqual(wo?.details['keywords'], { writeOnly: 1 });
  // Evidence holds counts and pointers, never a value.
  for (const f of fs)
    for (const v of ['secret', 'root', 'down', '"x"']) assert.ok(!JSON.stringify(f).includes(v), f.evidence);
  // Deterministic ids: same input, same findings.
  resetExchangeCounter();
  const again = analyse([
    ex('GET', '/v1/users/1?debug=1&fields=x', {
      headers: [['X-Internal', '1']],
      resJson: { ...user(1), internal: { notes: 'x' } },
    }),
  ]);
  assert.ok(again.every((f) => fs.some((g) => g.id === f.id)));
});

test('an undocumented field carrying personal data is high severity', () => {
  resetExchangeCounter();
  const emails = ['ada@example.org', 'bob@example.net', 'cy@example.com', 'dee@example.org', 'eve@example.net'];
  const fs = analyse(
    emails.map((e, i) =>
      ex('GET', `/v1/users/${i + 1}`, { resJson: { ...user(i + 1), contact: { email: e }, shoeSize: 40 + i } }),
    ),
    true,
  );
  const f = fs.filter((x) => x.kind === 'undocumented_field');
  assert.deepEqual(f.map((x) => [x.details['name'], x.severity, x.details['pii'] ?? null, x.details['count']]).sort(), [
    ['/contact', 'high', ['email'], 5],
    ['/shoeSize', 'low', null, 5],
  ]);
});

test('pickResponse: exact, range, default; shapes differ by field and type, not by value', () => {
  const rs = [
    { status: '200', media: [] },
    { status: '4XX', media: [] },
    { status: 'default', media: [] },
  ];
  assert.equal(pickResponse(rs, 200)?.status, '200');
  assert.equal(pickResponse(rs, 404)?.status, '4XX');
  assert.equal(pickResponse(rs, 503)?.status, 'default');
  assert.equal(pickResponse(rs.slice(0, 2), 503), null);
  assert.equal(shapeOf({ a: 1, b: 'x' }), shapeOf({ b: 'y', a: 2 }));
  assert.notEqual(shapeOf({ a: 1 }), shapeOf({ a: '1' }));
  assert.notEqual(shapeOf({ a: 1 }), shapeOf({ a: 1, c: 1 }));
});

test('sampling: settled streams are validated at a decaying, never-zero rate; a new shape is validated at once', () => {
  resetExchangeCounter();
  const n = 2000;
  const xs = [];
  for (let i = 0; i < n; i++) xs.push(ex('GET', `/v1/users/${i}`, { resJson: user(i) }));
  // A bad enum value keeps the shape: caught within `rate` bodies of its start.
  for (let i = 0; i < CONFORMANCE_SAMPLING.rate; i++)
    xs.push(ex('GET', `/v1/users/${i}`, { resJson: { ...user(i), role: 'root' } }));
  // A new field changes the shape: caught at its first occurrence.
  xs.push(ex('GET', '/v1/users/9', { resJson: { ...user(9), leak: 1 } }));
  const a = createAnalysis({ specs: [SPEC], previousSpecs: [], overrides: null, pii: null });
  for (const e of xs) a.observe(e);
  const fs = a.findings();
  const st = a.stats();
  assert.ok((st.conformance_bodies_validated ?? 0) < n / 4, `validated ${st.conformance_bodies_validated}`);
  assert.ok((st.conformance_bodies_sampled_out ?? 0) > n / 2);
  assert.ok(fs.some((f) => f.kind === 'schema_mismatch' && f.details['name'] === '/role'));
  assert.ok(
    fs.some((f) => f.kind === 'undocumented_field' && f.details['name'] === '/leak' && f.details['count'] === 1),
  );
});

test('restore: counts of stored findings carry over; forget drops a host', () => {
  resetExchangeCounter();
  const first = analyse([ex('GET', '/v1/users/1?debug=1', { resJson: user(1) })]);
  const a = createAnalysis({ specs: [SPEC], previousSpecs: [], overrides: null, pii: null });
  a.observe(ex('GET', '/v1/users/1?debug=1', { resJson: user(1) }));
  const eps = a.endpoints();
  const b = createAnalysis({ specs: [SPEC], previousSpecs: [], overrides: null, pii: null });
  b.restore(eps, first);
  b.observe(ex('GET', '/v1/users/2?debug=1', { resJson: user(2) }));
  const f = b.findings().find((x) => x.kind === 'undocumented_parameter');
  assert.equal(f?.details['count'], 2);
  b.forget(['api.example.com']);
  assert.deepEqual(b.findings(), []);
});

test('a large YAML spec pruned at load is parsed whole once traffic reaches it', () => {
  resetExchangeCounter();
  const text = [
    'openapi: 3.0.3',
    'info:',
    '  title: big',
    "  version: '1'",
    'paths:',
    '  /users/{id}:',
    '    get:',
    '      responses:',
    "        '200':",
    '          description: ok',
    '          content:',
    '            application/json:',
    '              schema:',
    '                type: object',
    '                properties:',
    '                  name:',
    '                    type: string',
    'x-padding: |',
    ...Array.from({ length: 20_000 }, (_, i) => `  padding line ${i} ${'x'.repeat(40)}`),
  ].join('\n');
  const big = parseSpec(text, 'big.yaml');
  assert.equal(big.schemasPruned, true);
  assert.equal(big.operations[0]?.contract.responses, null, 'pruned: no responses at load');
  const a = createAnalysis({ specs: [big], previousSpecs: [], overrides: null, pii: null });
  for (let i = 0; i < 3; i++) a.observe(ex('GET', `/users/${i + 1}`, { resJson: { name: 7, extra: true } }));
  assert.deepEqual(
    a
      .findings()
      .map((f) => `${f.kind} ${String(f.details['name'])}`)
      .filter((x) => /^(undocumented_|schema_mismatch)/.test(x))
      .sort(),
    ['schema_mismatch /name', 'undocumented_field /extra'],
  );
  assert.equal(a.stats().conformance_specs_parsed_whole, 1);
});
