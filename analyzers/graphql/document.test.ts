import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dealias, DocumentCache, LIMITS, nestingDepth, parseDocument, selectOperation } from './document.js';

test('operations: type, name, signature; anonymous shorthand is a query', () => {
  const d = parseDocument(`
    query GetUser($id: ID!) { user(id: $id) { ...U } }
    mutation { deleteUser(id: "7") }
    fragment U on User { id email }
    fragment Unused on User { name }`);
  assert.equal(d.status, 'ok');
  assert.deepEqual(
    d.operations.map((o) => [o.type, o.name]),
    [
      ['query', 'GetUser'],
      ['mutation', null],
    ],
  );
  const q = d.operations[0];
  assert.ok(q !== undefined);
  assert.match(q.signature, /fragment U on User/);
  assert.doesNotMatch(q.signature, /Unused/, 'only the fragments the operation uses');
  assert.deepEqual(q.rootFields, ['user']);
  assert.equal(parseDocument('{ me { id } }').operations[0]?.type, 'query');
});

test('normalisation: whitespace, comments, aliases and literal values do not change the signature', () => {
  const a = parseDocument('{ user(id: 5, name: "ann") { id email } }').operations[0];
  const b = parseDocument('# hi\n{\n  u: user(id: 6, name: "bob") {\n id\n email }\n}').operations[0];
  const c = parseDocument('{ user(id: 5) { id email } }').operations[0];
  assert.ok(a && b && c);
  assert.equal(a.signature, b.signature);
  assert.equal(a.signatureHash, b.signatureHash);
  assert.match(a.signatureHash, /^[0-9a-f]{12}$/);
  assert.notEqual(a.signatureHash, c.signatureHash, 'another argument set is another document');
  assert.equal(b.aliases, 1);
});

test('literal arguments are kept by field name for the PII scan, variables left out', () => {
  const op = parseDocument(`query F($id: ID) {
    u: user(email: "eve@example.org", id: $id) { orders(first: 2, filter: { note: "x", by: $id }) { id } ...P }
    ping
  }
  fragment P on User { address(kind: HOME) { city } }`).operations[0];
  assert.deepEqual(op?.literalArgs, {
    user: { email: 'eve@example.org', orders: { first: 2 }, address: { kind: 'HOME' } },
  });
  const batch = parseDocument('{ a0: login(password: "p0") a1: login(password: "p1") }').operations[0];
  assert.deepEqual(batch?.literalArgs, { login: { password: 'p0' }, a1: { password: 'p1' } });
  assert.equal(parseDocument('query { user(id: $x) { id } }').operations[0]?.literalArgs, null);
});

test('dealias: response keys back to field names, through fragments and lists', () => {
  const op = parseDocument(
    'query Q { u: user(id: 1) { mail: email friends { ...F } } v: user(id: 2) { email } } fragment F on User { n: name }',
  ).operations[0];
  assert.ok(op?.aliasTree);
  const data = { u: { mail: 'a', friends: [{ n: 'x' }, { n: 'y' }] }, v: { email: 'b' } };
  assert.deepEqual(dealias(data, op.aliasTree), {
    user: { email: 'a', friends: [{ name: 'x' }, { name: 'y' }] },
    v: { email: 'b' },
  });
  assert.equal(parseDocument('{ user { id } }').operations[0]?.aliasTree, null, 'no aliases, no rewrite');
  assert.equal(dealias(null, op.aliasTree), null);
});

test('selectOperation follows GraphQL over HTTP: operationName, or the only operation', () => {
  const d = parseDocument('query A { a } query B { b }');
  assert.equal(selectOperation(d, 'B'), d.operations[1]);
  assert.equal(selectOperation(d, null), 'ambiguous');
  assert.equal(selectOperation(d, 'C'), 'not_found');
  const one = parseDocument('query A { a }');
  assert.equal(selectOperation(one, null), one.operations[0]);
});

test('bounds: size, nesting, tokens, syntax and documents without an operation are statuses', () => {
  assert.equal(parseDocument('{ a }'.padEnd(LIMITS.maxDocumentChars + 1, ' ')).status, 'too_large');
  const deep = '{ a '.repeat(LIMITS.maxDepth + 1) + '}'.repeat(LIMITS.maxDepth + 1);
  assert.equal(parseDocument(deep).status, 'too_deep');
  // Nesting inside strings and comments does not count.
  assert.equal(nestingDepth('{ a(s: "{{{{{{") # {{{{{{{\n }', 64), 2);
  assert.equal(nestingDepth('{ a(s: """ {{{{ \\""" {{{ """) }', 64), 2);
  const wide = '{ ' + Array.from({ length: LIMITS.maxTokens }, (_, i) => `f${i}`).join(' ') + ' }';
  assert.equal(parseDocument(wide).status, 'too_many_tokens');
  assert.equal(parseDocument('query { a').status, 'syntax');
  assert.equal(parseDocument('red shoes').status, 'syntax');
  assert.equal(parseDocument('type Query { a: Int }').status, 'no_operation');
  assert.equal(parseDocument('fragment F on T { a }').status, 'no_operation');
});

test('alias batching is counted on the operation', () => {
  const doc = '{ ' + Array.from({ length: 300 }, (_, i) => `a${i}: login(password: "${i}")`).join(' ') + ' }';
  const op = parseDocument(doc).operations[0];
  assert.ok(op !== undefined);
  assert.equal(op.aliases, 300);
  assert.ok(op.aliases > LIMITS.maxAliases);
});

test('property: random and hostile documents never throw', () => {
  const pieces = fc.constantFrom(
    '{',
    '}',
    '(',
    ')',
    '[',
    ']',
    'query',
    'mutation',
    'fragment F on T',
    '...F',
    '... on T',
    'a',
    'b: c',
    '$v',
    ':',
    '"',
    '"""',
    '#',
    '\n',
    '@include(if: true)',
    '1.5e3',
    '"\\u00"',
    ' ',
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(pieces, { maxLength: 120 }).map((a) => a.join('')),
      ),
      (s) => {
        const d = parseDocument(s);
        assert.ok(['ok', 'syntax', 'no_operation', 'too_deep', 'too_many_tokens', 'too_large'].includes(d.status));
        for (const o of d.operations) assert.match(o.signatureHash, /^[0-9a-f]{12}$/);
      },
    ),
    { numRuns: 500 },
  );
  // Deep nesting far beyond the bound, and a fragment cycle, are refused or parsed without recursion trouble.
  assert.equal(parseDocument('{a'.repeat(50_000)).status, 'too_large');
  assert.equal(parseDocument('['.repeat(60_000)).status, 'too_deep');
  assert.equal(parseDocument('query { ...A } fragment A on Q { ...B } fragment B on Q { ...A }').status, 'ok');
});

test('DocumentCache parses each distinct document once and stays bounded', () => {
  const c = new DocumentCache(2, 1000);
  c.get('{ a }');
  c.get('{ a }');
  c.get('{ b }');
  c.get('{ c }');
  assert.equal(c.misses, 3);
  assert.equal(c.hits, 1);
  assert.equal(c.size, 2);
  assert.equal(c.get('{ a }').status, 'ok', 'an evicted document parses again, same result');
});
