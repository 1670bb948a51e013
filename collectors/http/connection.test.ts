// Table-driven tests: every case in testdata/*.json replayed whole, at fixed chunk sizes and at
// random split points must give the expected and identical exchanges, each valid exchange/v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Exchange } from '../../engine/contracts/exchange.js';
import { COUNTERS, isCounterName } from '../../engine/contracts/catalogue.js';
import { fixedSplit, loadCases, matchSubset, replay, whole } from './testdata/support.js';

const cases = loadCases();
const KNOWN = new Set<string>(
  Object.entries(COUNTERS)
    .filter(([, c]) => c.kind === 'anomaly' && (c.layer === 'http' || c.layer === 'flow'))
    .map(([k]) => k),
);

for (const { file, c } of cases) {
  test(`${file}: ${c.name}`, () => {
    const ref = replay(c, whole);
    for (const ex of ref.exchanges) {
      Exchange.parse(ex);
      for (const a of ex.anomalies) assert.ok(KNOWN.has(a), `anomaly ${a} an http/flow anomaly of the catalogue`);
    }
    matchSubset(ref.exchanges, c.expect);
    for (const [k, v] of Object.entries(c.counters ?? {})) {
      assert.ok(isCounterName(k), `counter ${k} is in the catalogue`);
      assert.equal(ref.counters.get(k), v, `counter ${k}`);
    }
    const golden = JSON.stringify(ref.exchanges);
    for (const size of [1, 2, 3, 7, 64]) {
      const r = replay(c, fixedSplit(size));
      assert.equal(JSON.stringify(r.exchanges), golden, `chunk size ${size}`);
      assert.deepEqual(r.counters.snapshot(), ref.counters.snapshot(), `counters at chunk size ${size}`);
    }
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        let k = 0;
        const r = replay(c, (len) => {
          const out: number[] = [];
          for (let o = 0; o < len;) {
            const n = Math.min(sizes[k++ % sizes.length] as number, len - o);
            out.push(n);
            o += n;
          }
          return out;
        });
        assert.equal(JSON.stringify(r.exchanges), golden);
      }),
      { numRuns: 25, seed: 42 },
    );
  });
}
