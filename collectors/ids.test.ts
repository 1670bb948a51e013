import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { shortId } from './ids.js';

const reference = (s: string): string => hash('sha256', s, 'hex').slice(0, 16);

test('shortId is the first 16 hex digits of SHA-256 for every length around the block boundaries', () => {
  // 0..200 covers one, two and three blocks and every padding position (55/56, 119/120 bytes).
  for (let n = 0; n <= 200; n++) {
    const s = 'a1:|.'.repeat(41).slice(0, n);
    assert.equal(shortId(s), reference(s), `length ${n}`);
  }
  assert.equal(shortId('abc'), 'ba7816bf8f01cfea'); // FIPS 180-4 example
});

test('shortId agrees with node:crypto on random text, non-ASCII included (hashed as UTF-8)', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 80 })), (s) => {
      assert.equal(shortId(s), reference(s));
    }),
    { numRuns: 2000 },
  );
});

test('flow and exchange id texts', () => {
  for (const s of [
    '|10.0.0.1|40000|10.0.0.2|80|1700000000000000',
    '7|vxlan:9|fe80::1|1|fe80::2|443|1',
    'abcdef0123456789:12',
  ]) {
    assert.equal(shortId(s), reference(s));
  }
});
