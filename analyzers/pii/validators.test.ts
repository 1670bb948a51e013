import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import creditCardType from 'credit-card-type';
import { validateCard } from './validators.js';

test('card brand results are cached by (first 8 digits, length): no brand pattern is longer than 8 digits', () => {
  const require = createRequire(import.meta.url);
  const types = require('credit-card-type/dist/lib/card-types.js') as Record<string, { patterns: unknown[] }>;
  let longest = 0;
  for (const t of Object.values(types))
    for (const m of JSON.stringify(t.patterns).match(/\d+/g) ?? []) longest = Math.max(longest, m.length);
  assert.ok(longest > 0 && longest <= 8, `longest brand pattern: ${longest} digits`);
  // Same answers with a warm cache as the library gives directly.
  for (const n of ['4111111111111111', '5500005555555559', '378282246310005', '6011000990139424', '3530111333300000']) {
    const lib = creditCardType(n).some((b) => b.lengths.includes(n.length));
    assert.equal(validateCard(n), lib ? 'valid' : 'invalid', n);
    assert.equal(validateCard(n), lib ? 'valid' : 'invalid', `${n} (cached)`);
  }
});
