// The latency sample of a leaf (stats.ts): the LIMITS.latencySample exchanges with the smallest id
// hashes, whatever the order, the merges and the pairs addLatency dropped past its cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ex } from '../testing.js';
import type { LeafStats } from './stats.js';
import { addExchange, fnv1a, LIMITS, mergeStats, newLeafStats, percentileMs } from './stats.js';

const NONE = { schemes: ['none' as const], inUrl: [] };

test('the sample is the bottom-k by id hash in any order, merged or not', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0x7fffffff }),
      fc.integer({ min: 100, max: 4000 }),
      fc.integer({ min: 0, max: 3 }),
      (seed, n, split) => {
        // Few ids, so equal hashes with other latencies meet the cut; a small LCG for the order.
        let x = seed;
        const next = (m: number): number => {
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          return x % m;
        };
        const items = Array.from({ length: n }, () => [next(300), 1 + next(2_000_000)] as const);
        // Reference: every (hash, latency) pair, sorted, the first k.
        const pairs = items.map(([id, us]) => [fnv1a(`x${id}`), us] as [number, number]);
        const want = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]).slice(0, LIMITS.latencySample);
        const leaves: LeafStats[] = Array.from({ length: split + 1 }, () => newLeafStats());
        items.forEach(([id, us], i) =>
          addExchange(
            leaves[i % leaves.length] as LeafStats,
            ex('GET', '/a', { id: `x${id}`, latencyUs: us }),
            [],
            NONE,
            'api',
          ),
        );
        const all = leaves[0] as LeafStats;
        for (const l of leaves.slice(1)) mergeStats(all, l);
        for (const p of [50, 95, 99]) {
          const v = want.map((x) => x[1]).sort((x, y) => x - y);
          const idx = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
          assert.equal(percentileMs(all, p), Math.round(((v[idx] ?? 0) / 1000) * 1000) / 1000);
        }
        assert.deepEqual(all.latency, want);
      },
    ),
    { numRuns: 60 },
  );
});

test('pairs of one hash are kept by latency past the cut', () => {
  const s = newLeafStats();
  const us = Array.from({ length: 2000 }, (_, i) => 1 + ((i * 7919) % 2000));
  for (const u of us) addExchange(s, ex('GET', '/a', { id: 'same', latencyUs: u }), [], NONE, 'api');
  mergeStats(s, newLeafStats());
  assert.deepEqual(
    s.latency.map((p) => p[1]),
    [...us].sort((a, b) => a - b).slice(0, LIMITS.latencySample),
  );
});
