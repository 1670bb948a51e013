// The GraphQL shadow/zombie mix (mix.ts) on a small seed: no false positive anywhere, every hidden or
// deprecated coordinate found except those below a hidden field (the stated blind spot), and every
// operation using a hidden coordinate flagged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSchema } from 'graphql';
import { publishedSdl, runMix } from './mix.js';

test('generated mix: precision 1, recall 1 where the published schema can type the selection', () => {
  buildSchema(publishedSdl());
  const s = runMix(3, 120);
  assert.ok(s.ops > 100);
  for (const r of s.rows) {
    assert.ok(r.truth > 5, `${r.what}: the mix exercises it`);
    assert.equal(r.fp, 0, r.what);
  }
  const by = new Map(s.rows.map((r) => [r.what.split(' (')[0] as string, r]));
  for (const k of [
    'shadow operations',
    'shadow coordinates, not below a hidden field',
    'zombie coordinates, not below a hidden field',
  ])
    assert.equal(by.get(k)?.recall, 1, k);
  assert.ok((by.get('zombie operations')?.recall ?? 0) >= 0.9);
});
