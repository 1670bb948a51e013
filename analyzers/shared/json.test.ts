import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJsonPrefix, repairCut } from './json.js';

test('complete documents parse as JSON.parse does', () => {
  assert.deepEqual(parseJsonPrefix('{"a":[1,2,{"b":"x"}]}'), { a: [1, 2, { b: 'x' }] });
  assert.equal(parseJsonPrefix('not json'), undefined);
});

test('a cut list keeps its complete items with their nesting', () => {
  const doc = JSON.stringify({
    items: [
      { email: 'a@b.nl', n: 1 },
      { email: 'c@d.nl', n: 2 },
      { email: 'e@f.nl', n: 3 },
    ],
  });
  const cut = doc.slice(0, doc.indexOf('e@f') + 2);
  assert.deepEqual(parseJsonPrefix(cut), {
    items: [
      { email: 'a@b.nl', n: 1 },
      { email: 'c@d.nl', n: 2 },
    ],
  });
});

test('commas and brackets inside strings do not fool the cut', () => {
  const cut = '[{"s":"a, b ] }"},{"s":"\\"x,';
  assert.deepEqual(parseJsonPrefix(cut), [{ s: 'a, b ] }' }]);
});

test('nothing complete before the cut gives undefined', () => {
  assert.equal(parseJsonPrefix('{"a": "unfinished'), undefined);
  assert.equal(repairCut('"just a string'), null);
});

test('property: every prefix of a JSON document parses to a value or undefined, never throws, and is a prefix-subset', () => {
  fc.assert(
    fc.property(fc.json({ maxDepth: 4 }), fc.nat(), (doc, cutRaw) => {
      const cut = doc.slice(0, cutRaw % (doc.length + 1));
      const v = parseJsonPrefix(cut);
      if (cut === doc) assert.deepEqual(v, JSON.parse(doc));
      else if (v !== undefined) assert.ok(JSON.stringify(v).length <= doc.length + 8);
    }),
    { numRuns: 500 },
  );
});
