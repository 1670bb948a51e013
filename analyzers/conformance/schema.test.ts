import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, parseSpec } from '../spec/load.js';
import type { LoadedSpec } from '../spec/types.js';
import { BundleError, bundleSchema, MAX_NODES, OPAQUE } from './schema.js';
import { createValidatorCache, violationsOf } from './validate.js';
import type { Violation } from './validate.js';
import type { Side } from './schema.js';

/** Validate `value` against the 200 response (or request) schema of the spec's only operation. */
function check(spec: LoadedSpec, value: unknown, side: Side = 'response', status = '200'): Violation[] {
  const c = spec.operations[0]?.contract;
  const media = side === 'request' ? c?.requestBody?.[0] : c?.responses?.find((r) => r.status === status)?.media[0];
  assert.ok(media?.schema, 'the operation has a schema');
  const ref = media.schema;
  const v = createValidatorCache().get('k', () => bundleSchema(spec, ref, side));
  assert.ok(v.ok, 'compiles');
  v.fn(value);
  return violationsOf(v.fn.errors, false);
}

const oas30 = (schemas: string, response: string, extra = ''): LoadedSpec =>
  parseSpec(
    [
      'openapi: 3.0.3',
      'info: {title: t, version: "1"}',
      'paths:',
      '  /u:',
      '    post:',
      extra,
      '      responses:',
      '        "200":',
      '          description: ok',
      '          content:',
      '            application/json:',
      `              schema: ${response}`,
      'components:',
      '  schemas:',
      schemas,
    ]
      .filter((l) => l !== '')
      .join('\n'),
    's.yaml',
  );

test('contracts: parameters, request bodies and responses per status from 3.0, 3.1 and 2.0', () => {
  const s3 = oas30('    X: {type: string}', '{$ref: "#/components/schemas/X"}');
  assert.deepEqual(s3.operations[0]?.contract.responses, [
    {
      status: '200',
      media: [
        { mediaType: 'application/json', schema: '#/paths/~1u/post/responses/200/content/application~1json/schema' },
      ],
    },
  ]);
  const s2 = parseSpec(
    JSON.stringify({
      swagger: '2.0',
      info: { title: 't', version: '1' },
      produces: ['application/json'],
      paths: {
        '/u': {
          parameters: [{ name: 'q', in: 'query', type: 'string' }],
          post: {
            parameters: [{ name: 'b', in: 'body', schema: { $ref: '#/definitions/U' } }],
            responses: {
              '201': { description: 'x', schema: { $ref: '#/definitions/U' } },
              default: { description: 'e' },
            },
          },
        },
      },
      definitions: { U: { type: 'object', properties: { a: { type: 'string' } } } },
    }),
    's2.json',
  );
  const c = s2.operations[0]?.contract;
  assert.deepEqual(c?.parameters, [
    { name: 'b', in: 'body' },
    { name: 'q', in: 'query' },
  ]);
  assert.deepEqual(c?.requestBody, [{ mediaType: 'application/json', schema: '#/paths/~1u/post/parameters/0/schema' }]);
  assert.deepEqual(
    c?.responses?.map((r) => [r.status, r.media.length]),
    [
      ['201', 1],
      ['default', 0],
    ],
  );
  assert.deepEqual(check(s2, { a: 1 }, 'response', '201'), [{ pointer: '/a', keyword: 'type' }]);
  // An operation without responses has nothing to compare with.
  const none = parseSpec('openapi: 3.0.0\ninfo: {title: t, version: "1"}\npaths: {/a: {get: {}}}', 'n.yaml');
  assert.equal(none.operations[0]?.contract.responses, null);
});

test('$ref: local, chained, recursive, and across files; unresolvable ones are opaque', async () => {
  const s = oas30(
    [
      '    Node: {type: object, required: [id], properties: {id: {type: integer}, children: {type: array, items: {$ref: "#/components/schemas/Node"}}}}',
      '    Alias: {$ref: "#/components/schemas/Node"}',
    ].join('\n'),
    '{$ref: "#/components/schemas/Alias"}',
  );
  assert.deepEqual(check(s, { id: 1, children: [{ id: 2, children: [{ id: 'x' }] }] }), [
    { pointer: '/children/*/children/*/id', keyword: 'type' },
  ]);
  assert.deepEqual(check(s, { children: [{}] }), [
    { pointer: '/id', keyword: 'required' },
    { pointer: '/children/*/id', keyword: 'required' },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'a11-conf-'));
  try {
    writeFileSync(
      join(dir, 'common.yaml'),
      'Pet: {type: object, properties: {tag: {$ref: "#/Tag"}}}\nTag: {type: string, enum: [a, b]}\n',
    );
    writeFileSync(
      join(dir, 'api.yaml'),
      [
        'openapi: 3.0.3',
        'info: {title: t, version: "1"}',
        'paths:',
        '  /p:',
        '    get:',
        '      responses:',
        '        "200": {description: ok, content: {application/json: {schema: {$ref: "common.yaml#/Pet"}}}}',
        '        "404": {description: no, content: {application/json: {schema: {$ref: "https://example.com/x.json"}}}}',
      ].join('\n'),
    );
    const spec = await loadSpec(join(dir, 'api.yaml'));
    assert.ok('common.yaml' in spec.documents, 'files referenced from schemas are read');
    assert.deepEqual(check(spec, { tag: 'c' }), [{ pointer: '/tag', keyword: 'enum' }]);
    const remote = bundleSchema(spec, spec.operations[0]?.contract.responses?.[1]?.media[0]?.schema ?? '', 'response');
    assert.equal(remote.unresolved, 1);
    assert.deepEqual(remote.schema, { [OPAQUE]: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('allOf, oneOf, anyOf: branch errors collapse into the combinator', () => {
  const s = oas30(
    [
      '    Base: {type: object, required: [id], properties: {id: {type: integer}}}',
      '    Cat: {type: object, required: [meow], properties: {meow: {type: boolean}}}',
      '    Dog: {type: object, required: [bark], properties: {bark: {type: boolean}}}',
      '    Pet: {allOf: [{$ref: "#/components/schemas/Base"}, {oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]}]}',
    ].join('\n'),
    '{$ref: "#/components/schemas/Pet"}',
  );
  assert.deepEqual(check(s, { id: 1, meow: true }), []);
  assert.deepEqual(check(s, { meow: true }), [{ pointer: '/id', keyword: 'required' }]);
  assert.deepEqual(check(s, { id: 1, meow: 'yes' }), [{ pointer: '', keyword: 'oneOf' }]);
});

test('nullable (3.0), x-nullable (2.0) and type lists (3.1); boolean exclusiveMinimum converted', () => {
  const s = oas30(
    '    N: {type: object, properties: {a: {type: string, nullable: true}, e: {type: string, enum: [x], nullable: true}, r: {nullable: true, allOf: [{type: integer}]}, m: {type: number, minimum: 0, exclusiveMinimum: true}}}',
    '{$ref: "#/components/schemas/N"}',
  );
  assert.deepEqual(check(s, { a: null, e: null, r: null, m: 1 }), []);
  assert.deepEqual(
    check(s, { a: 1, e: 'y', r: 'z', m: 0 }).map((v) => `${v.pointer} ${v.keyword}`),
    ['/a type', '/e enum', '/r type', '/m exclusiveMinimum'],
  );
  // A null the schema does not admit is named apart from other type errors.
  assert.deepEqual(check(s, { m: null }), [{ pointer: '/m', keyword: 'nullable' }]);
  const s2 = parseSpec(
    JSON.stringify({
      swagger: '2.0',
      info: { title: 't', version: '1' },
      paths: {
        '/u': {
          get: {
            responses: {
              '200': {
                description: 'ok',
                schema: { type: 'object', properties: { a: { type: 'string', 'x-nullable': true } } },
              },
            },
          },
        },
      },
    }),
    's2.json',
  );
  assert.deepEqual(check(s2, { a: null }), []);
  assert.deepEqual(check(s2, { a: 1 }), [{ pointer: '/a', keyword: 'type' }]);
  const s31 = parseSpec(
    JSON.stringify({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/u': {
          get: {
            responses: {
              '200': {
                description: 'ok',
                content: {
                  'application/json': {
                    schema: { type: 'object', properties: { a: { type: ['string', 'null'] }, c: { const: 3 } } },
                  },
                },
              },
            },
          },
        },
      },
    }),
    's31.json',
  );
  assert.deepEqual(check(s31, { a: null, c: 3 }), []);
  assert.deepEqual(check(s31, { a: 2, c: 4 }), [
    { pointer: '/a', keyword: 'type' },
    { pointer: '/c', keyword: 'const' },
  ]);
});

test('formats come from ajv-formats (date-time, email, uuid; OpenAPI int32)', () => {
  const s = oas30(
    '    F: {type: object, properties: {t: {type: string, format: date-time}, e: {type: string, format: email}, u: {type: string, format: uuid}, i: {type: integer, format: int32}, x: {type: string, format: made-up}}}',
    '{$ref: "#/components/schemas/F"}',
  );
  assert.deepEqual(
    check(s, { t: '2024-01-01T00:00:00Z', e: 'a@b.example', u: '6f1c4c1e-8a1e-4b7a-9a55-0d3c2b0e9f11', i: 5, x: '?' }),
    [],
  );
  assert.deepEqual(
    check(s, { t: 'yesterday', e: 'nope', u: '42', i: 2 ** 40 }).map((v) => v.pointer),
    ['/t', '/e', '/u', '/i'],
  );
});

test('readOnly is not required in requests, writeOnly not in responses', () => {
  const s = oas30(
    '    U: {type: object, required: [id, password], properties: {id: {type: integer, readOnly: true}, password: {type: string, writeOnly: true}}}',
    '{$ref: "#/components/schemas/U"}',
    '      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/U"}}}}',
  );
  assert.deepEqual(check(s, { password: 'x' }, 'request'), []);
  assert.deepEqual(check(s, { id: 1 }, 'response'), []);
  assert.deepEqual(check(s, {}, 'request'), [{ pointer: '/password', keyword: 'required' }]);
  assert.deepEqual(check(s, {}, 'response'), [{ pointer: '/id', keyword: 'required' }]);
});

test('bounds and bad schemas: too large and uncompilable schemas fail, they never throw past the cache', () => {
  const big: Record<string, unknown> = {};
  for (let i = 0; i < MAX_NODES; i++) big[`p${i}`] = { type: 'string' };
  const spec = oas30('    B: {type: object}', '{$ref: "#/components/schemas/B"}');
  const docs = spec.documents as { '': { components: { schemas: { B: unknown } } } };
  docs[''].components.schemas.B = { type: 'object', properties: big };
  const ref = spec.operations[0]?.contract.responses?.[0]?.media[0]?.schema ?? '';
  assert.throws(() => bundleSchema(spec, ref, 'response'), BundleError);
  const cache = createValidatorCache();
  assert.equal(cache.get('big', () => bundleSchema(spec, ref, 'response')).ok, false);
  const bad = oas30('    P: {type: string, pattern: "(?<"}', '{$ref: "#/components/schemas/P"}');
  const bref = bad.operations[0]?.contract.responses?.[0]?.media[0]?.schema ?? '';
  assert.equal(cache.get('bad', () => bundleSchema(bad, bref, 'response')).ok, false);
  assert.equal(cache.stats().failed, 2);
});

test('validator cache is bounded: evicted validators compile again with the same verdict', () => {
  const s = oas30('    X: {type: integer}', '{$ref: "#/components/schemas/X"}');
  const ref = s.operations[0]?.contract.responses?.[0]?.media[0]?.schema ?? '';
  const cache = createValidatorCache(2);
  for (const k of ['a', 'b', 'c', 'a']) {
    const v = cache.get(k, () => bundleSchema(s, ref, 'response'));
    assert.ok(v.ok);
    assert.equal(v.fn('x'), false);
  }
  assert.deepEqual(cache.stats(), { compiled: 4, failed: 0, evicted: 2 });
});
