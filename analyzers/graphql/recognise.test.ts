import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { ex } from '../testing.js';
import { recogniseRequest, responseResults } from './recognise.js';

function withBody(e: Exchange, side: 'request' | 'response', data: string, contentType: string | null): Exchange {
  const m = e[side];
  if (m === null) return e;
  m.body = { ...m.body, data, size: data.length, contentType };
  return e;
}

test('GraphQL over HTTP forms: POST JSON, batch, application/graphql, GET, persisted hash', () => {
  const one = recogniseRequest(ex('POST', '/api', { reqJson: { query: '{ a }' } }));
  assert.deepEqual(one?.elements, [{ query: '{ a }', operationName: null, variables: null, persistedHash: null }]);
  assert.equal(one?.strong, false, 'a bare `query` member on another path is a weak signal');
  const batch = recogniseRequest(
    ex('POST', '/graphql', { reqJson: [{ query: '{ a }' }, { query: '{ b }', variables: { x: 1 } }] }),
  );
  assert.equal(batch?.batch, true);
  assert.deepEqual(batch?.elements[1]?.variables, { x: 1 });
  assert.equal(recogniseRequest(ex('POST', '/graphql', { reqJson: [{ query: '{ a }' }, { id: 1 }] })), null);
  const gql = withBody(
    ex('POST', '/gql?operationName=B&variables=%7B%22id%22%3A3%7D'),
    'request',
    'query B { b }',
    'application/graphql; charset=utf-8',
  );
  assert.deepEqual(recogniseRequest(gql)?.elements, [
    { query: 'query B { b }', operationName: 'B', variables: { id: 3 }, persistedHash: null },
  ]);
  const plain = withBody(ex('POST', '/graphql'), 'request', '{"query":"{ a }"}', 'text/plain;charset=UTF-8');
  assert.equal(recogniseRequest(plain)?.elements[0]?.query, '{ a }', 'CORS-simple requests send JSON as text/plain');
  const hash = 'A'.repeat(64);
  const get = recogniseRequest(
    ex(
      'GET',
      `/graphql?operationName=Q&extensions=${encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: hash } }))}`,
    ),
  );
  assert.deepEqual(get?.elements, [
    { query: null, operationName: 'Q', variables: null, persistedHash: 'a'.repeat(64) },
  ]);
  assert.equal(get?.via, 'get');
  assert.equal(recogniseRequest(ex('GET', '/search?q=shoes')), null);
  assert.equal(recogniseRequest(ex('POST', '/x', { reqJson: { query: { match: {} } } })), null);
  assert.equal(
    recogniseRequest(ex('POST', '/x', { reqJson: { extensions: { persistedQuery: { sha256Hash: 'short' } } } })),
    null,
  );
  assert.equal(recogniseRequest(ex('PUT', '/graphql', { reqJson: { query: '{ a }' } })), null);
});

test('results align with the request elements', () => {
  const e = ex('POST', '/graphql', {
    reqJson: [{ query: '{ a }' }, { query: '{ b }' }],
    resJson: [{ data: { a: 1 } }, { errors: [{ message: 'x' }] }],
  });
  assert.deepEqual(responseResults(e, 2, true), [
    { data: { a: 1 }, errors: null },
    { data: null, errors: [{ message: 'x' }] },
  ]);
  assert.deepEqual(responseResults(e, 3, true), [null, null, null], 'an answer of another length pairs nothing');
  const single = ex('POST', '/graphql', { reqJson: { query: '{ a }' }, resJson: { data: { a: 1 } } });
  assert.deepEqual(responseResults(single, 1, false), [{ data: { a: 1 }, errors: null }]);
  assert.deepEqual(responseResults(withBody(single, 'response', 'event: next', 'text/event-stream'), 1, false), [null]);
});

test('property: any body or target is recognised or not, never a throw', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('GET', 'POST'),
      fc.string({ maxLength: 80 }),
      fc.jsonValue({ maxDepth: 4 }),
      fc.string({ maxLength: 200 }),
      (method, target, json, raw) => {
        const a = ex(method, `/graphql?${target}`, { reqJson: json, resJson: json });
        recogniseRequest(a);
        responseResults(a, 2, true);
        const b = withBody(ex(method, `/${target}`), 'request', raw, 'application/json');
        recogniseRequest(b);
      },
    ),
    { numRuns: 300 },
  );
});
