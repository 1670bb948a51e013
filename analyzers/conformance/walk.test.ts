import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../spec/load.js';
import { bundleSchema } from './schema.js';
import type { Side } from './schema.js';
import type { WalkHit } from './walk.js';
import { pointerToField, walkBody } from './walk.js';

const spec = parseSpec(
  JSON.stringify({
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    paths: {
      '/x': {
        get: {
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Root' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Root: {
          type: 'object',
          properties: {
            user: { $ref: '#/components/schemas/User' },
            list: { type: 'array', items: { $ref: '#/components/schemas/User' } },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            meta: { type: 'object' },
            ext: { type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '^x-': {} } },
            pet: { $ref: '#/components/schemas/Pet' },
            choice: { oneOf: [{ $ref: '#/components/schemas/A' }, { $ref: '#/components/schemas/B' }] },
            remote: { $ref: 'https://example.com/schemas/x.json' },
            maybe: { nullable: true, allOf: [{ $ref: '#/components/schemas/A' }] },
          },
        },
        User: {
          allOf: [
            { type: 'object', properties: { id: { type: 'integer', readOnly: true } } },
            { type: 'object', properties: { name: { type: 'string' }, secret: { type: 'string', writeOnly: true } } },
          ],
        },
        Pet: { type: 'object', discriminator: { propertyName: 'kind' }, properties: { kind: { type: 'string' } } },
        A: { type: 'object', properties: { a: { type: 'string' } } },
        B: { type: 'object', properties: { b: { type: 'string' } } },
      },
    },
  }),
  's.json',
);
const ref = spec.operations[0]?.contract.responses?.[0]?.media[0]?.schema ?? '';

function walk(value: unknown, side: Side = 'response'): string[] {
  const hits: WalkHit[] = [];
  walkBody(bundleSchema(spec, ref, side).schema, value, side, hits);
  return hits.map((h) => `${h.kind} ${h.pointer}`);
}

test('undocumented fields: allOf unions, arrays, maps, free-form objects, patterns, oneOf branches, nullable', () => {
  assert.deepEqual(
    walk({
      user: { id: 1, name: 'n' },
      list: [{ id: 1 }, { name: 'x', ssn: 'y' }],
      labels: { anything: 'v' },
      meta: { whatever: { deep: 1 } },
      ext: { a: 'x', 'x-trace': 1 },
      choice: { a: '1', b: '2' },
      maybe: { a: 'x' },
    }),
    ['undocumented /list/*/ssn'],
  );
  // Reported once at the top-most unknown key, nothing below it.
  assert.deepEqual(walk({ user: { extra: { a: 1, b: { c: 2 } } }, top: [1] }), [
    'undocumented /user/extra',
    'undocumented /top',
  ]);
  assert.deepEqual(walk({ choice: { c: 1 }, maybe: { z: 1 } }), ['undocumented /choice/c', 'undocumented /maybe/z']);
});

test('unresolvable references and discriminator polymorphism do not produce undocumented fields', () => {
  assert.deepEqual(walk({ remote: { anything: 1 }, pet: { kind: 'cat', meow: true } }), []);
});

test('readOnly sent in a request and writeOnly returned in a response are reported', () => {
  assert.deepEqual(walk({ user: { id: 1, secret: 's' } }, 'request'), ['readOnly /user/id']);
  assert.deepEqual(walk({ user: { id: 1, secret: 's' } }, 'response'), ['writeOnly /user/secret']);
});

test('pointerToField gives the PII analyzer field form', () => {
  assert.equal(pointerToField(''), '$');
  assert.equal(pointerToField('/items/*/email'), '$.items[*].email');
  assert.equal(pointerToField('/a~1b/c d'), '$.["a/b"].["c d"]');
});
