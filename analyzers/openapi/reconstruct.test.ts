import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createAnalysis } from '../analysis.js';
import { ex, resetExchangeCounter } from '../testing.js';
import { toOpenApi } from './reconstruct.js';

function inventory() {
  resetExchangeCounter();
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  for (let i = 1; i <= 6; i++) {
    a.observe(
      ex('GET', `/api/v1/users/${i}?expand=orders`, {
        headers: [['Authorization', 'Bearer t']],
        resJson: { id: i, name: 'n', score: i / 2, tags: ['a'], address: { city: 'c', zip: null }, 'odd key': true },
      }),
    );
  }
  a.observe(ex('GET', '/api/v1/users/2', { status: 404 }));
  a.observe(
    ex('POST', '/api/v1/users', {
      headers: [['X-API-Key', 'k']],
      reqJson: { name: 'n', items: [{ sku: 'x', qty: 1 }] },
      status: 201,
      resJson: { id: 9 },
    }),
  );
  a.observe(ex('GET', '/api/v1/orders/123e4567-e89b-12d3-a456-426614174000', { status: null }));
  a.observe(ex('GET', '/static/app.js'));
  return a.endpoints();
}

test('reconstructed document is valid OpenAPI 3.1 with parameters, schemas and security schemes', async () => {
  const doc = toOpenApi(inventory(), { title: 'test' });
  const v = new Validator();
  const res = await v.validate(doc);
  assert.equal(v.version, '3.1');
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
  const paths = doc['paths'] as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(paths), ['/api/v1/orders/{orderId}', '/api/v1/users', '/api/v1/users/{userId}']); // static asset left out
  const get = paths['/api/v1/users/{userId}']?.['get'] as Record<string, unknown>;
  assert.deepEqual(get['parameters'], [
    { name: 'userId', in: 'path', required: true, schema: { type: 'integer' } },
    { name: 'expand', in: 'query', required: false, schema: { type: 'string' } },
  ]);
  const ok = (get['responses'] as Record<string, Record<string, unknown>>)['2XX'];
  const schema = (ok?.['content'] as Record<string, { schema: Record<string, unknown> }>)['application/json']?.schema;
  assert.deepEqual(schema, {
    type: 'object',
    properties: {
      address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'null' } } },
      id: { type: 'integer' },
      name: { type: 'string' },
      'odd key': { type: 'boolean' },
      score: { type: 'number' },
      tags: { type: 'array', items: { type: 'string' } },
    },
  });
  const orders = paths['/api/v1/orders/{orderId}']?.['get'] as Record<string, unknown>;
  assert.deepEqual((orders['parameters'] as unknown[])[0], {
    name: 'orderId',
    in: 'path',
    required: true,
    schema: { type: 'string', format: 'uuid' },
  });
  assert.deepEqual(
    Object.keys((doc['components'] as Record<string, Record<string, unknown>>)['securitySchemes'] ?? {}),
    ['apiKeyHeader', 'bearerAuth'],
  );
  assert.equal(JSON.stringify(toOpenApi(inventory(), { title: 'test' })), JSON.stringify(doc));
});

test('an empty inventory still gives a valid document', async () => {
  const res = await new Validator().validate(toOpenApi([]));
  assert.equal(res.valid, true, JSON.stringify(res.errors));
});

test('a WebSocket endpoint is its upgrade (GET, 101); message shapes go to x-apitap-websocket, not a GET body', async () => {
  resetExchangeCounter();
  const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  const ws = (dir: 'client' | 'server' | null, json: unknown): ReturnType<typeof ex> => {
    const e = ex('GET', '/ws/chat', {
      status: 101,
      ...(dir === 'client' ? { reqJson: json } : dir === 'server' ? { resJson: json } : {}),
    });
    e.protocol = 'websocket';
    if (dir !== null) e.websocket = { direction: dir, type: 'text', frames: 1, compressed: false };
    return e;
  };
  a.observe(ws(null, null));
  a.observe(ws('client', { subscribe: 'prices' }));
  a.observe(ws('server', { price: 1.5 }));
  const doc = toOpenApi(a.endpoints(), { title: 'ws' });
  const v = new Validator();
  const res = await v.validate(doc);
  assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1));
  const get = (doc['paths'] as Record<string, Record<string, Record<string, unknown>>>)['/ws/chat']?.['get'];
  assert.equal(get?.['requestBody'], undefined);
  assert.deepEqual(Object.keys(get?.['responses'] as object), ['1XX']);
  assert.deepEqual(get?.['x-apitap-websocket'], {
    clientMessages: { type: 'object', properties: { subscribe: { type: 'string' } } },
    serverMessages: { type: 'object', properties: { price: { type: 'number' } } },
  });
});
