import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createAnalysis, type Analysis } from '../analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../pii/index.js';
import { ex } from '../testing.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import type { EndpointRecord } from '../../engine/contracts/inventory.js';
import type { LoadedGraphqlSchema } from './schema.js';

const SDL: LoadedGraphqlSchema = {
  name: 'schema.graphql',
  sdl: `
    type Query { user(id: ID!): User  users(first: Int): [User!]!  legacyFeed: [String] @deprecated(reason: "use feed") }
    type Mutation { updateEmail(id: ID!, email: String!): User }
    type User { id: ID!  email: String  name: String  oldName: String @deprecated }
  `,
};

function analysis(schemas: LoadedGraphqlSchema[] = []): Analysis {
  return createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner: createPiiScanner({ secret: Buffer.from('t') }), aggregator: createPiiFieldAggregator() },
    graphqlSchemas: schemas,
  });
}

const post = (body: unknown, res: unknown, path = '/graphql'): Exchange =>
  ex('POST', path, { reqJson: body, resJson: res });
const byPath = (eps: EndpointRecord[]): Map<string, EndpointRecord> =>
  new Map(eps.map((e) => [`${e.method} ${e.path}`, e]));

test('named, anonymous, batched, GET and application/graphql requests become operation endpoints', () => {
  const a = analysis();
  a.observe(
    post(
      {
        query: 'query GetUser($id: ID!) { user(id: $id) { email } }',
        operationName: 'GetUser',
        variables: { id: '1' },
      },
      { data: { user: { email: 'ann.smith@example.org' } } },
    ),
  );
  a.observe(post({ query: '{ users(first: 5) { id } }' }, { data: { users: [] } }));
  a.observe(post({ query: '{  users(first: 9) { id } }' }, { data: { users: [] } }));
  const at = a.observe(
    post(
      [
        { query: 'query GetUser($id: ID!) { user(id: $id) { email } }', variables: { id: '2' } },
        {
          query: 'mutation M($e: String!) { updateEmail(id: "1", email: $e) { id } }',
          variables: { e: 'bob.jones@example.org' },
        },
      ],
      [{ data: { user: null } }, { data: null, errors: [{ message: 'nope' }] }],
    ),
  );
  assert.equal(at.path, '/graphql/query/GetUser', 'a batch exchange is attributed to its first operation');
  a.observe(ex('GET', '/graphql?query=' + encodeURIComponent('query Feed { legacyFeed }') + '&operationName=Feed'));
  const raw = ex('POST', '/api/gql');
  (raw.request as NonNullable<Exchange['request']>).body = {
    size: 12,
    decodedSize: null,
    contentType: 'application/graphql',
    contentEncoding: [],
    encoding: 'utf8',
    data: 'query Me { user(id: 1) { name } }',
    truncated: false,
    complete: true,
  };
  a.observe(raw);
  const eps = byPath(a.endpoints());
  const anon = [...eps.keys()].find((k) => k.startsWith('POST /graphql/query/anonymous-'));
  assert.ok(anon !== undefined, [...eps.keys()].join(', '));
  assert.deepEqual(
    [...eps.keys()].sort(),
    [
      anon,
      'GET /graphql/query/Feed',
      'POST /api/gql/query/Me',
      'POST /graphql/mutation/M',
      'POST /graphql/query/GetUser',
    ].sort(),
    'no plain POST /graphql endpoint left',
  );
  const get = eps.get('POST /graphql/query/GetUser');
  assert.equal(get?.hits, 2);
  assert.equal(get?.protocol, 'graphql');
  assert.equal(get?.operation, 'query GetUser');
  assert.equal(get?.graphqlErrors, 0);
  assert.equal(eps.get(anon)?.hits, 2, 'the anonymous query with other whitespace and literals is one operation');
  const m = eps.get('POST /graphql/mutation/M');
  assert.equal(m?.graphqlErrors, 1);
  assert.ok(m?.fields.includes('request.body $.variables.e:string'), m?.fields.join(' '));
  assert.ok(m?.fields.includes('response.body $.errors[*].message:string'));
  assert.ok(get?.fields.includes('response.body $.data.user.email:string'), get?.fields.join(' '));
  assert.deepEqual(
    get?.pii.filter((p) => p.kind === 'email'),
    [{ kind: 'email', location: 'response.body', field: '$.data.user.email' }],
  );
  assert.deepEqual(
    m?.pii.filter((p) => p.kind === 'email'),
    [{ kind: 'email', location: 'request.body', field: '$.variables.e' }],
  );
  assert.deepEqual(eps.get('GET /graphql/query/Feed')?.queryParams, [], 'GraphQL parameters are not parameters');
  const total = a.endpoints().reduce((n, e) => n + e.hits, 0);
  assert.equal(total, 7, 'every operation counted once (a batch of 2 counts 2)');
  assert.equal(a.stats().graphql_batches, 1);
  const map = a.pathMap().filter((r) => r.rawPath.startsWith('/graphql/query/GetUser'));
  assert.deepEqual(map, [
    { host: 'api.example.com', method: 'POST', rawPath: '/graphql/query/GetUser', path: '/graphql/query/GetUser' },
  ]);
});

test('PII in literal arguments; refusals by extensions.code count as 401/403', () => {
  const a = analysis();
  a.observe(post({ query: 'query Find { user(email: "eve.adams@example.org") { id } }' }, { data: { user: null } }));
  a.observe(
    post(
      { query: 'query Secret { me { id } }' },
      { data: null, errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] },
    ),
  );
  a.observe(
    post(
      { query: 'query Aliased { me: user(id: 1) { mail: email } }' },
      { data: { me: { mail: 'zoe.hart@example.org' } } },
    ),
  );
  const eps = byPath(a.endpoints());
  assert.deepEqual(
    eps.get('POST /graphql/query/Find')?.pii.filter((p) => p.kind === 'email'),
    [{ kind: 'email', location: 'request.body', field: '$.arguments.user.email' }],
  );
  assert.deepEqual(eps.get('POST /graphql/query/Secret')?.statusClasses, { '4xx': 1 });
  const aliased = eps.get('POST /graphql/query/Aliased');
  assert.deepEqual(
    aliased?.pii.map((p) => p.field),
    ['$.data.user.email'],
    'paths by field name, not alias',
  );
  assert.ok(aliased?.fields.includes('response.body $.data.user.email:string'));
  assert.ok(!a.findings().some((f) => f.kind === 'unauthenticated_endpoint' && f.path === '/graphql/query/Secret'));
});

test('persisted queries: hash-only requests fold into the operation a request with the document named', () => {
  const doc = 'query Prices { users { id } }';
  const hash = createHash('sha256').update(doc).digest('hex');
  const ext = { persistedQuery: { version: 1, sha256Hash: hash } };
  const other = 'b'.repeat(64);
  for (const order of ['hash-first', 'doc-first']) {
    const a = analysis();
    const hashOnly = (): void => {
      a.observe(post({ extensions: ext }, { errors: [{ message: 'PersistedQueryNotFound' }] }));
      a.observe(ex('GET', `/graphql?extensions=${encodeURIComponent(JSON.stringify(ext))}`));
    };
    if (order === 'hash-first') hashOnly();
    a.observe(post({ query: doc, extensions: ext }, { data: { users: [] } }));
    if (order === 'doc-first') hashOnly();
    a.observe(post({ extensions: { persistedQuery: { version: 1, sha256Hash: other } } }, { data: {} }));
    a.observe(post({ query: '{ users { id } }', extensions: { persistedQuery: { sha256Hash: other } } }, { data: {} }));
    const eps = byPath(a.endpoints());
    assert.equal(eps.get('POST /graphql/query/Prices')?.hits, 2, order);
    assert.equal(eps.get('POST /graphql/query/Prices')?.graphqlErrors, 1);
    assert.equal(eps.get('GET /graphql/query/Prices')?.hits, 1, 'resolved across methods');
    assert.equal(eps.get(`POST /graphql/persisted/${'b'.repeat(16)}`)?.operation, `persisted ${'b'.repeat(16)}`);
    assert.equal(a.stats().graphql_persisted_hash_mismatch, 1, 'a hash that is not the document’s is not learned');
    assert.ok(
      a
        .pathMap()
        .some((r) => r.rawPath === `/graphql/persisted/${hash.slice(0, 16)}` && r.path === '/graphql/query/Prices'),
    );
  }
});

test('not GraphQL: search bodies and broken documents stay plain HTTP; strong signals count anomalies', () => {
  const a = analysis();
  a.observe(post({ query: 'red shoes' }, { hits: [] }, '/search'));
  a.observe(post({ query: { match: { title: 'x' } } }, { hits: [] }, '/index/_search'));
  a.observe(post({ query: 'query { a', variables: {} }, { errors: [{ message: 'Syntax Error' }] }));
  a.observe(post({ query: '{ a } { b }', operationName: null, variables: {} }, {}));
  a.observe(post({ query: '{'.repeat(100) + '}'.repeat(100), variables: {} }, {}));
  const paths = a.endpoints().map((e) => `${e.method} ${e.path}`);
  assert.deepEqual(paths.sort(), ['POST /graphql', 'POST /index/_search', 'POST /search']);
  const s = a.stats();
  assert.equal(s.graphql_syntax_error, 1, 'only the request with GraphQL signals');
  assert.equal(s.graphql_operation_ambiguous, 1);
  assert.equal(s.graphql_document_too_deep, 1);
  assert.equal(s.graphql_exchanges, 0);
});

test('schema: unknown coordinates are shadow, @deprecated ones zombie, valid operations documented', () => {
  const a = analysis([SDL]);
  a.observe(
    post({ query: 'query GetUser { user(id: 1) { id email } }' }, { data: { user: { id: '1', email: null } } }),
  );
  a.observe(post({ query: 'query Admin { user(id: 1, debug: true) { id ssn } adminUsers { id } }' }, { data: {} }));
  a.observe(post({ query: 'query Old { legacyFeed user(id: 2) { oldName } }' }, { data: {} }));
  a.observe(post({ query: 'mutation Drop { dropAll }' }, { data: null, errors: [{ message: 'Cannot query field' }] }));
  const eps = byPath(a.endpoints());
  assert.equal(eps.get('POST /graphql/query/GetUser')?.documented, true);
  assert.equal(eps.get('POST /graphql/query/Admin')?.documented, false);
  assert.equal(eps.get('POST /graphql/query/Old')?.documented, true, 'deprecated is still in the schema');
  assert.equal(eps.get('POST /graphql/query/Old')?.deprecated, true);
  const f = a.findings();
  const shadow = f.filter((x) => x.kind === 'shadow_api');
  assert.deepEqual(
    shadow.map((x) => [x.path, x.details['unknown']]),
    [
      ['/graphql/mutation/Drop', ['Mutation.dropAll']],
      ['/graphql/query/Admin', ['Query.adminUsers', 'Query.user(debug:)', 'User.ssn']],
    ],
  );
  assert.equal(shadow[0]?.severity, 'low', 'the server refused it every time');
  const zombie = f.filter((x) => x.kind === 'zombie_api');
  assert.deepEqual(
    zombie.map((x) => [x.path, x.details['deprecated']]),
    [['/graphql/query/Old', ['Query.legacyFeed', 'User.oldName']]],
  );
});

test('restore: a stored operation endpoint comes back as the same record and keeps its findings', () => {
  const a = analysis([SDL]);
  a.observe(post({ query: 'query Admin { adminUsers { id } }' }, { data: {} }));
  a.observe(post({ query: 'query Old { legacyFeed }' }, { data: {} }));
  const eps = a.endpoints();
  const fs = a.findings();
  const b = analysis([SDL]);
  b.restore(eps, fs);
  assert.deepEqual(
    b.endpoints().map((e) => [e.path, e.hits, e.operation, e.documented]),
    eps.map((e) => [e.path, e.hits, e.operation, e.documented]),
  );
  assert.deepEqual(
    b.findings().map((x) => x.id),
    fs.map((x) => x.id),
  );
});

test('restore: a stored hash-only persisted operation still resolves when its document shows up', () => {
  const doc = 'query Late { ping }';
  const hash = createHash('sha256').update(doc).digest('hex');
  const ext = { persistedQuery: { version: 1, sha256Hash: hash } };
  const a = analysis();
  a.observe(post({ extensions: ext }, { errors: [{ message: 'PersistedQueryNotFound' }] }));
  const stored = a.endpoints();
  assert.deepEqual(
    stored.map((e) => e.path),
    [`/graphql/persisted/${hash.slice(0, 16)}`],
  );
  const b = analysis();
  b.restore(stored, a.findings());
  b.observe(post({ query: doc, extensions: ext }, { data: { ping: 'pong' } }));
  assert.deepEqual(
    b.endpoints().map((e) => [e.path, e.hits, e.graphqlErrors]),
    [['/graphql/query/Late', 2, 1]],
  );
});
