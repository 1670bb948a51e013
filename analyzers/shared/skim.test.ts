import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJsonPrefix } from './json.js';
import type { JsonTape } from './skim.js';
import { bodyTape, NUM, nextValue, shapeOfRange, skimJson, TOK, tokenNumber, tokenString } from './skim.js';

/** The value a tape stands for, rebuilt (for comparison with JSON.parse / parseJsonPrefix). */
function rebuild(tape: JsonTape, e = 0): unknown {
  const t = tape.t;
  switch (t[e * 4]) {
    case TOK.obj: {
      const o: Record<string, unknown> = {};
      let j = e + 1;
      let count = 0;
      while (t[j * 4] !== TOK.end) {
        const k = tape.text.slice(t[j * 4 + 1], t[j * 4 + 2]);
        Object.defineProperty(o, k, {
          value: rebuild(tape, j + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        j = nextValue(tape, j + 1);
        count++;
      }
      assert.equal(j, t[e * 4 + 1], 'object end index');
      assert.equal(count, t[e * 4 + 2], 'member count');
      return o;
    }
    case TOK.arr: {
      const a: unknown[] = [];
      let j = e + 1;
      while (t[j * 4] !== TOK.end) {
        a.push(rebuild(tape, j));
        j = nextValue(tape, j);
      }
      assert.equal(j, t[e * 4 + 1], 'array end index');
      assert.equal(a.length, t[e * 4 + 2], 'element count');
      return a;
    }
    case TOK.str: {
      const s = tokenString(tape, e);
      if (t[e * 4 + 3] !== -1) assert.equal(t[e * 4 + 3], shapeOfRange(s, 0, s.length), 'string shape');
      return s;
    }
    case TOK.num: {
      const x = tokenNumber(tape, e);
      const cls = t[e * 4 + 3];
      const raw = tape.text.slice(t[e * 4 + 1], t[e * 4 + 2]);
      if (cls === NUM.small) assert.ok(Number.isInteger(x) && Math.abs(x) < 1e5, raw);
      if (cls === NUM.big) assert.ok(Number.isInteger(x) && Math.abs(x) >= 1e5 && String(x) === raw, raw);
      if (cls === NUM.frac) assert.ok(!Number.isInteger(x), raw);
      return x;
    }
    case TOK.nul:
      return null;
    case TOK.tru:
      return true;
    case TOK.fal:
      return false;
    default:
      throw new Error(`bad token at ${e}`);
  }
}

const keyArb = fc.oneof(
  fc.constantFrom('a', 'email', 'lat', 'lng', 'long', 'latitude', 'name', '__proto__', 'x y'),
  fc.string({ maxLength: 6 }),
);
const jsonArb = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 12 }),
    fc.constantFrom('é', 'a"b', 'tab\there', '\u2028', 'x\\y'),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(123456, 1e21, 100000.0, -0, Number('12345678901234567890')),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(keyArb, tie('v'), { maxKeys: 5 }),
  ),
})).v;

test('a tape stands for exactly what parseJsonPrefix returns, whole or cut anywhere', () => {
  fc.assert(
    fc.property(jsonArb, fc.boolean(), fc.nat(), fc.boolean(), (v, pretty, cutAt, flag) => {
      const text = JSON.stringify(v, null, pretty ? 1 : 0);
      for (const [s, cut] of [
        [text, false],
        [text.slice(0, cutAt % (text.length + 1)), flag],
      ] as const) {
        const tape = skimJson(s, cut);
        if (tape === null) continue; // outside the contract: callers use bodyJson()
        assert.deepEqual(rebuild(tape), parseJsonPrefix(s, cut), s);
      }
    }),
    { numRuns: 3000 },
  );
});

test('what the tape refuses: invalid JSON, duplicate keys, index keys, escaped keys, cut scalars', () => {
  for (const s of [
    '{"a":1,"a":2}',
    '{"1":1}',
    '{"a\\u0062":1}',
    '[1,]',
    '{"a" 1}',
    '[01]',
    '["\u0001"]',
    '[1] x',
    '',
  ]) {
    assert.equal(skimJson(s), null, s);
  }
  assert.equal(skimJson('"abc"', true), null);
  assert.notEqual(skimJson('"abc"', false), null);
  assert.equal(skimJson('[1', true), null, 'no complete element before a comma');
  assert.deepEqual(rebuild(skimJson('{"a":[1,2],"b":{"c":"x","d":"y', true) as JsonTape), { a: [1, 2], b: { c: 'x' } });
});

test('bodyTape skims a body once and follows its text', () => {
  const body = { data: '{"a":[{"b":1},{"b":2}]}', truncated: false };
  const t1 = bodyTape(body);
  assert.equal(bodyTape(body), t1);
  assert.deepEqual(rebuild(t1 as JsonTape), { a: [{ b: 1 }, { b: 2 }] });
  body.data = '[true]';
  assert.deepEqual(rebuild(bodyTape(body) as JsonTape), [true]);
});

test('texts longer than MAX_SKIM_CHARS give no tape (bounded buffers)', async () => {
  const { MAX_SKIM_CHARS } = await import('./skim.js');
  const long = `[${'1,'.repeat(MAX_SKIM_CHARS / 2)}1]`;
  assert.equal(skimJson(long), null);
  assert.notEqual(skimJson('[1,2]'), null);
});
