// Field shapes of JSON bodies: the walk over a body's tape (shared/skim.ts, used when paths are
// interned) and the walk over the parsed body must record the same fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { addExchange, FieldPaths, newLeafStats } from './stats.js';

function exchange(data: string, truncated: boolean): Exchange {
  const body = (d: string) => ({
    size: d.length,
    decodedSize: null,
    contentType: 'application/json',
    contentEncoding: [],
    encoding: 'utf8',
    data: d,
    truncated,
    complete: !truncated,
  });
  return {
    schema: 'exchange/v1',
    id: 'e',
    flowId: 'f',
    seq: 0,
    vni: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method: 'POST',
      target: '/x',
      version: '1.1',
      headers: [],
      trailers: [],
      body: body(data),
      startUs: 0,
      endUs: 1,
    },
    response: {
      status: 200,
      reason: 'OK',
      version: '1.1',
      headers: [],
      trailers: [],
      body: body(data),
      startUs: 2,
      endUs: 3,
    },
    latencyUs: 2,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
  } as unknown as Exchange;
}

test('tape walk and object walk record the same body fields (depth, 20 items, budget, cuts)', () => {
  const key = fc.constantFrom('a', 'b', 'items', 'x y', '0', '__proto__', 'long');
  const doc = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 4 }),
      fc.constantFrom(1, 1.5, 100000.0, 1e21, Number('12345678901234567890'), -0, true, false, null),
      fc.array(tie('v'), { maxLength: 25 }),
      fc.dictionary(key, tie('v'), { maxKeys: 4 }),
    ),
  })).v;
  fc.assert(
    fc.property(fc.array(fc.tuple(doc, fc.nat(), fc.nat(10)), { minLength: 1, maxLength: 6 }), (docs) => {
      const tape = newLeafStats();
      const object = newLeafStats();
      const paths = new FieldPaths();
      for (const [v, cutAt, nest] of docs) {
        let d: unknown = v;
        for (let i = 0; i < nest; i++) d = [d]; // deeper than LIMITS.jsonDepth
        const text = JSON.stringify(d);
        const cut = cutAt % 4 === 0;
        const data = cut ? text.slice(0, cutAt % (text.length + 1)) : text;
        const auth = { schemes: ['none' as const], inUrl: [] };
        addExchange(tape, exchange(data, cut), [], auth, 'read', paths);
        addExchange(object, exchange(data, cut), [], auth, 'read', null);
      }
      assert.deepEqual(tape.fields.values(), object.fields.values());
    }),
    { numRuns: 500 },
  );
});

test('a large list: the budget of 2000 nodes and the first 20 items hold on the tape as on the object', () => {
  const items = Array.from({ length: 900 }, (_, i) => ({ id: i, tags: ['x', 'y'], [`k${i % 30}`]: { n: i } }));
  const text = JSON.stringify({ items });
  const auth = { schemes: ['none' as const], inUrl: [] };
  const tape = newLeafStats();
  const object = newLeafStats();
  addExchange(tape, exchange(text, false), [], auth, 'read', new FieldPaths());
  addExchange(object, exchange(text, false), [], auth, 'read', null);
  assert.deepEqual(tape.fields.values(), object.fields.values());
  assert.ok(tape.fields.values().includes('response.body $.items[*].k19.n:integer'));
  assert.ok(!tape.fields.values().includes('response.body $.items[*].k20.n:integer'));
});
