import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointRecord } from '../../contracts/inventory.js';
import { syntheticReport } from '../../../test/support/synthetic-report.js';
import { validatePostman } from '../../../test/support/postman-schema.js';
import { POSTMAN_SCHEMA, requestSkeleton, toPostman } from './postman.js';

function ep(over: Partial<EndpointRecord>): EndpointRecord {
  return {
    host: 'api.example.test',
    method: 'GET',
    path: '/users/{userId}',
    hits: 3,
    documented: true,
    deprecated: false,
    auth: ['bearer'],
    pii: [],
    firstSeen: '2026-11-23T06:28:21.447193Z',
    lastSeen: '2026-11-23T06:28:21.610566Z',
    statusClasses: { '2xx': 3 },
    latencyP50Ms: 1,
    latencyP95Ms: 2,
    contentTypes: ['response application/json'],
    queryParams: [],
    fields: [],
    category: 'api',
    explain: [],
    vnis: [],
    protocol: 'http',
    ...over,
  };
}

interface Item {
  name: string;
  item?: Item[];
  request?: {
    method: string;
    url: { raw: string; path: string[]; query?: { key: string }[]; variable?: { key: string }[] };
    auth: { type: string };
    header: { key: string; value: string }[];
    body?: { raw: string };
  };
}

test('the collection is valid Postman v2.1 and maps paths, query, auth and bodies', () => {
  const c = toPostman([
    ep({}),
    ep({
      method: 'POST',
      path: '/orders',
      auth: ['none'],
      contentTypes: ['request application/json', 'response application/json'],
      fields: [
        'request.body $.items[*].sku:string',
        'request.body $.items[*].qty:integer',
        'request.body $.note:null',
        'request.body $.note:string',
        'response.body $.id:integer',
      ],
      queryParams: ['dryRun'],
    }),
    ep({ host: 'b.example.test', path: '/keys', auth: ['api_key_query', 'none'] }),
    ep({ path: '/health', category: 'health' }),
  ]);
  assert.deepEqual(validatePostman(c), []);
  assert.equal((c['info'] as { schema: string }).schema, POSTMAN_SCHEMA);
  const folders = c['item'] as unknown as Item[];
  assert.deepEqual(
    folders.map((f) => [f.name, (f.item ?? []).map((i) => i.name)]),
    [
      ['api.example.test', ['POST /orders', 'GET /users/{userId}']],
      ['b.example.test', ['GET /keys']],
    ],
  );
  const [orders, user] = folders[0]?.item ?? [];
  assert.equal(user?.request?.url.raw, '{{baseUrl_api_example_test}}/users/:userId');
  assert.deepEqual(user?.request?.url.variable, [{ key: 'userId', value: '' }]);
  assert.equal(user?.request?.auth.type, 'bearer');
  assert.equal(orders?.request?.url.raw, '{{baseUrl_api_example_test}}/orders?dryRun=');
  assert.equal(orders?.request?.auth.type, 'noauth');
  assert.deepEqual(JSON.parse(orders?.request?.body?.raw ?? 'null'), { items: [{ qty: 0, sku: '' }], note: '' });
  assert.equal(folders[1]?.item?.[0]?.request?.auth.type, 'apikey');
  assert.deepEqual(c['variable'], [
    { key: 'baseUrl_api_example_test', value: 'https://api.example.test', type: 'string' },
    { key: 'baseUrl_b_example_test', value: 'https://b.example.test', type: 'string' },
  ]);
});

test('deterministic and valid for a large generated inventory; broken collections are refused', () => {
  const eps = syntheticReport(500).endpoints ?? [];
  const a = toPostman(eps);
  assert.deepEqual(validatePostman(a), []);
  assert.equal(JSON.stringify(toPostman(eps)), JSON.stringify(a));
  assert.notDeepEqual(validatePostman({ ...a, info: { name: 'x' } }), []);
  assert.notDeepEqual(validatePostman({ ...a, item: [{ request: { url: 5 } }] }), []);
});

test('request skeletons carry types, never values', () => {
  assert.equal(requestSkeleton(['response.body $.a:string']), null);
  assert.deepEqual(requestSkeleton(['request.body $.a.b:integer', 'request.body $.c[*]:boolean']), {
    a: { b: 0 },
    c: [false],
  });
});
