import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSchema, GraphQLObjectType, GraphQLList } from 'graphql';
import { createAnalysis } from '../analysis.js';
import { toOpenApi } from '../openapi/index.js';
import { ex } from '../testing.js';
import { toGraphqlSdl } from './sdl.js';

test('the SDL of observed operations is a valid schema of the fields seen; OpenAPI leaves them out', () => {
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  const post = (query: string, variables: unknown, data: unknown): void => {
    a.observe(ex('POST', '/graphql', { reqJson: { query, variables }, resJson: { data } }));
  };
  post(
    'query GetUser($id: ID!) { user(id: $id) { id name address { city } } }',
    { id: '1' },
    {
      user: { id: '1', name: 'n', address: { city: 'c' } },
    },
  );
  post('{ users { id score tags } }', null, {
    users: [
      { id: 2, score: 1.5, tags: ['a'] },
      { id: 3, score: 2, tags: [] },
    ],
  });
  post(
    'mutation Rename($id: ID!, $name: String!) { rename(id: $id, name: $name) { id } }',
    { id: '1', name: 'x' },
    {
      rename: null,
    },
  );
  a.observe(ex('GET', '/orders', { resJson: { ok: true } }));
  const eps = a.endpoints();
  const sdl = toGraphqlSdl(eps);
  const schema = buildSchema(sdl);
  const q = schema.getQueryType();
  assert.ok(q);
  assert.deepEqual(Object.keys(q.getFields()).sort(), ['user', 'users']);
  const user = schema.getType('User');
  assert.ok(user instanceof GraphQLObjectType);
  assert.deepEqual(
    Object.keys(user.getFields()).sort(),
    ['address', 'id', 'name', 'score', 'tags'],
    'User and users[*] merge',
  );
  assert.equal(String(user.getFields()['score']?.type), 'Float', 'integer and number → Float');
  assert.ok(user.getFields()['tags']?.type instanceof GraphQLList);
  assert.equal(String(schema.getMutationType()?.getFields()['rename']?.type), 'JSON', 'only null seen');
  assert.match(sdl, /# {3}mutation Rename\(\$id: String, \$name: String\): POST api\.example\.com\/graphql, 1 calls/);
  const oa = toOpenApi(eps) as { paths: Record<string, unknown> };
  assert.deepEqual(Object.keys(oa.paths), ['/orders']);
  assert.equal(toGraphqlSdl(eps.filter((e) => e.operation === undefined)), '');
});
