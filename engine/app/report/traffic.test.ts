import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_BUCKETS, TrafficAccumulator, WIDTHS_S, widthFor } from './traffic.js';

const T0 = Date.UTC(2026, 10, 23) * 1000;

test('the series does not depend on arrival order and counts every exchange once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 * 86400 }), fc.constantFrom(200, 404, 503, null)), {
        minLength: 1,
        maxLength: 300,
      }),
      fc.integer({ min: 1, max: 1_000_000 }),
      (items, scale) => {
        const a = new TrafficAccumulator();
        const b = new TrafficAccumulator();
        const times = items.map(([s, st]) => [T0 + Math.floor((s * 1e6) / scale) * scale, st] as const);
        for (const [us, st] of times) a.add(us, st);
        for (const [us, st] of [...times].reverse()) b.add(us, st);
        const sa = a.series();
        assert.deepEqual(b.series(), sa);
        assert.equal(
          sa.buckets.reduce((n, x) => n + x.exchanges, 0),
          items.length,
        );
        assert.equal(
          sa.buckets.reduce((n, x) => n + x.serverErrors, 0),
          items.filter(([, st]) => st === 503).length,
        );
        const us = times.map(([t]) => t);
        assert.equal(sa.bucketSeconds, widthFor(Math.max(...us) - Math.min(...us)));
        assert.ok(sa.buckets.length <= MAX_BUCKETS + 1);
      },
    ),
  );
});

test('width: the narrowest rung that fits the span; one minute for a few hours', () => {
  assert.equal(widthFor(0), 1);
  assert.equal(widthFor(5 * 60e6), 1);
  assert.equal(widthFor(3 * 3600e6), 60);
  assert.equal(widthFor(10 * 365 * 86400e6), WIDTHS_S[WIDTHS_S.length - 1]);
});

test('buckets are aligned to the width and pre-aggregated counts add like single exchanges', () => {
  const a = new TrafficAccumulator();
  a.add(T0 + 61_500_000, 200);
  a.add(T0 + 3 * 3600e6, 500);
  a.addCounts(T0 + 3 * 3600e6 + 10, 5, 1, 1, 1);
  const s = a.series();
  assert.equal(s.bucketSeconds, 60);
  assert.deepEqual(
    s.buckets.map((b) => [b.start, b.exchanges, b.clientErrors, b.serverErrors, b.unanswered]),
    [
      ['2026-11-23T00:01:00.000000Z', 1, 0, 0, 0],
      ['2026-11-23T03:00:00.000000Z', 6, 1, 2, 1],
    ],
  );
  assert.equal(s.folded, 0);
  a.add(-1, 200); // unknown packet time: ignored
  assert.deepEqual(a.series(), s);
});
