import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointRecord } from '../../contracts/inventory.js';
import { COLUMNS, endpointFromRow, endpointToRow } from './sql.js';

const base: EndpointRecord = {
  host: 'api.example.com',
  method: 'POST',
  path: '/graphql/query/GetUser',
  hits: 3,
  documented: true,
  deprecated: false,
  auth: ['bearer'],
  pii: [{ kind: 'email', location: 'response.body', field: '$.data.user.email' }],
  firstSeen: '2024-01-02T03:04:05.123456Z',
  lastSeen: '2024-01-02T03:04:06.000001Z',
  statusClasses: { '2xx': 3 },
  latencyP50Ms: 1.5,
  latencyP95Ms: 2,
  contentTypes: ['request application/json'],
  queryParams: [],
  fields: ['response.body $.data.user.email:string'],
  category: 'api',
  explain: ['graphql operation query GetUser sent to POST /graphql'],
  vnis: [],
  protocol: 'graphql',
  operation: 'query GetUser',
  graphqlErrors: 1,
};

test('endpoint rows: GraphQL operation columns round-trip; other rows stay without them', () => {
  const row = endpointToRow(base);
  assert.deepEqual(Object.keys(row), [...COLUMNS.endpoints]);
  assert.equal(row['operation'], 'query GetUser');
  assert.equal(row['graphql_errors'], 1);
  assert.deepEqual(endpointFromRow(row), base);
  const { operation: _o, graphqlErrors: _g, ...rest } = base;
  const rest2: EndpointRecord = { ...rest, protocol: 'http', path: '/users' };
  const r2 = endpointToRow(rest2);
  assert.equal(r2['operation'], '');
  assert.deepEqual(endpointFromRow(r2), rest2);
  assert.ok(!('operation' in endpointFromRow(r2)), 'the key is absent, as the analyzer builds such records');
});
