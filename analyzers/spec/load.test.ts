import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpus, needsCorpus } from '../../test/support/paths.js';
import { loadSpec, parseSpec } from './load.js';
import { createSpecIndex } from './match.js';

// [file, format, paths, operations, deprecated, hosts, basePaths] — counts as in MANIFEST.md §3.
const CORPUS: [string, string, number, number, number, string[], string[]][] = [
  ['oai-examples/petstore.yaml', 'openapi-3.0', 2, 3, 0, ['petstore.swagger.io'], ['/v1']],
  ['oai-examples/petstore-expanded.yaml', 'openapi-3.0', 2, 4, 0, ['petstore.swagger.io'], ['/v2']],
  ['oai-examples/api-with-examples.yaml', 'openapi-3.0', 2, 2, 0, [], ['']],
  ['oai-examples/uspto.yaml', 'openapi-3.0', 3, 3, 0, ['developer.uspto.gov'], ['/ds-api']],
  ['oai-examples/link-example.yaml', 'openapi-3.0', 6, 6, 0, [], ['']],
  ['swagger-petstore/openapi.yaml', 'openapi-3.0', 13, 19, 0, ['petstore3.swagger.io'], ['/api/v3']],
  ['redocly-museum/openapi.yaml', 'openapi-3.1', 5, 8, 0, ['redocly.com'], ['/_mock/docs/openapi/museum-api']],
  ['twilio/twilio_chat_v1.json', 'openapi-3.0', 17, 40, 0, ['chat.twilio.com'], ['']],
  ['twilio/twilio_chat_v2.json', 'openapi-3.0', 24, 54, 0, ['chat.twilio.com'], ['']],
  // 2 path items, 1 operation: /v3/Services/{ServiceSid}/Channels declares no operation.
  ['twilio/twilio_chat_v3.json', 'openapi-3.0', 2, 1, 0, ['chat.twilio.com'], ['']],
  ['twilio/twilio_verify_v2.json', 'openapi-3.0', 33, 57, 0, ['verify.twilio.com'], ['']],
  // Swagger 2.0 without host: applies to any host; 97 path items hold 106 operations (several paths carry 2+ methods).
  ['docker-engine/v1.41.yaml', 'swagger-2.0', 97, 106, 0, [], ['/v1.41']],
  ['docker-engine/swagger.yaml', 'swagger-2.0', 98, 108, 0, [], ['/v1.56']],
  ['adyen/RecurringService-v68.yaml', 'openapi-3.1', 6, 6, 2, ['pal-test.adyen.com'], ['/pal/servlet/Recurring/v68']],
  ['adyen/TfmAPIService-v1.yaml', 'openapi-3.1', 5, 5, 5, ['postfmapi-test.adyen.com'], ['/postfmapi/terminal/v1']],
];

test('every corpus spec loads with the MANIFEST counts', needsCorpus, async () => {
  for (const [file, format, paths, ops, dep, hosts, bases] of CORPUS) {
    const s = await loadSpec(corpus('specs', file));
    assert.equal(s.format, format, file);
    assert.equal(s.pathCount, paths, `${file} paths`);
    assert.equal(s.operations.length, ops, `${file} operations`);
    assert.equal(s.operations.filter((o) => o.deprecated).length, dep, `${file} deprecated`);
    assert.deepEqual(s.hosts, hosts, `${file} hosts`);
    assert.deepEqual(s.basePaths, bases, `${file} basePaths`);
  }
});

test('operation details: parameters via $ref, base paths, security, deprecated', needsCorpus, async () => {
  const docker = await loadSpec(corpus('specs', 'docker-engine/v1.41.yaml'));
  const inspect = docker.operations.find((o) => o.method === 'GET' && o.path === '/containers/{id}/json');
  assert.ok(inspect);
  assert.deepEqual(inspect.fullPaths, ['/v1.41/containers/{id}/json']);
  assert.deepEqual(inspect.pathParams, ['id']);
  assert.deepEqual(inspect.queryParams, ['size']);
  const adyen = await loadSpec(corpus('specs', 'adyen/RecurringService-v68.yaml'));
  const permit = adyen.operations.find((o) => o.path === '/createPermit');
  assert.equal(permit?.deprecated, true);
  assert.deepEqual(permit?.fullPaths, ['/pal/servlet/Recurring/v68/createPermit']);
  assert.deepEqual(permit?.security, [['BasicAuth'], ['ApiKeyAuth']]); // alternatives in document order
  const twilio = await loadSpec(corpus('specs', 'twilio/twilio_chat_v2.json'));
  assert.deepEqual(twilio.securitySchemes['accountSid_authToken'], {
    type: 'http',
    scheme: 'basic',
    in: null,
    name: null,
  });
  const uspto = await loadSpec(corpus('specs', 'oai-examples/uspto.yaml'));
  // {scheme}://developer.uspto.gov/ds-api: the variable takes its default, the host and base path stay.
  assert.deepEqual(
    uspto.operations.map((o) => `${o.method} ${o.fullPaths.join(',')}`),
    ['GET /ds-api', 'GET /ds-api/{dataset}/{version}/fields', 'POST /ds-api/{dataset}/{version}/records'],
  );
});

test('spec index: host scoping, static precedence, HEAD via GET', needsCorpus, async () => {
  const docker = await loadSpec(corpus('specs', 'docker-engine/v1.41.yaml'));
  const petstore = await loadSpec(corpus('specs', 'oai-examples/petstore.yaml'));
  const idx = createSpecIndex([docker, petstore]);
  assert.ok(idx.covers('anything:2375')); // docker has no host
  const m = idx.match('localhost', 'GET', ['v1.41', 'containers', null, 'json']);
  assert.equal(m?.entry.op.path, '/containers/{id}/json');
  const head = idx.match('localhost', 'HEAD', ['v1.41', 'containers', null, 'archive']);
  assert.equal(head?.viaGet, false); // docker documents HEAD /containers/{id}/archive itself
  assert.equal(idx.match('petstore.swagger.io', 'GET', ['v1', 'pets', null])?.entry.op.path, '/pets/{petId}');
  assert.equal(idx.match('elsewhere.example.com', 'GET', ['v1', 'pets', null]), null);
  assert.equal(idx.match('petstore.swagger.io:443', 'HEAD', ['v1', 'pets'])?.viaGet, true);
});

test('$ref resolution is local, bounded and cycle-safe', () => {
  const s = parseSpec(
    JSON.stringify({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      components: {
        parameters: {
          A: { $ref: '#/components/parameters/B' },
          B: { $ref: '#/components/parameters/A' },
          Q: { name: 'q', in: 'query' },
        },
      },
      paths: {
        '/x': {
          get: {
            parameters: [
              { $ref: '#/components/parameters/A' },
              { $ref: '#/components/parameters/Q' },
              { $ref: 'other.yaml#/P' },
            ],
          },
        },
        '/y': { $ref: '#/paths/~1x' },
      },
    }),
    'refs.json',
  );
  assert.deepEqual(
    s.operations.map((o) => [o.path, o.queryParams]),
    [
      ['/x', ['q']],
      ['/y', ['q']],
    ],
  );
});
