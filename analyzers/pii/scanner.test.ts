// The scanner's result caches (scanner.ts, ResultCache): a scanner that has seen the same path
// segments, header values and cookies before reports exactly what a fresh scanner reports, with the
// key (previous segment, header name, cookie header kind) part of what is cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import { ex } from '../testing.js';
import { createPiiScanner } from './scanner.js';

const jwt =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZW1haWwiOiJqYW5lQGV4YW1wbGUuY29tIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU';

const cases: [string, HeaderPair[], HeaderPair[]][] = [
  ['/users/jane.doe@example.com/orders', [['X-User-Email', 'jane.doe@example.com']], []],
  ['/password/Tr0ub4dor-and-3', [['X-Note', 'Tr0ub4dor-and-3']], []],
  ['/notes/Tr0ub4dor-and-3', [['X-Password', 'Tr0ub4dor-and-3']], []],
  ['/bsn/111222333', [['Cookie', 'sessionid=9f8e7d6c5b4a39281706f5e4d3c2b1a0; theme=dark']], []],
  ['/ids/111222333', [['Cookie', 'theme=dark; sessionid=9f8e7d6c5b4a39281706f5e4d3c2b1a0']], []],
  [
    '/cards/4111111111111111',
    [['Authorization', `Bearer ${jwt}`]],
    [['Set-Cookie', 'sid=Zx8Kq2Lm9Np4Rt7Vw1Yb3Cd6; Path=/']],
  ],
  ['/cards/4111111111111112', [['X-Api-Key', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc']], [['X-Contact', '+31 6 12345678']]],
  ['/users/jane.doe@example.com/orders', [['X-Note', 'jane.doe@example.com']], [['X-Contact', '+31 6 12345678']]],
  // The same header text as Cookie and as Set-Cookie: cookie-shape scores them apart.
  ['/c', [['Cookie', 'pref=Zx8Kq2Lm9Np4Rt7Vw1Yb3Cd6']], [['Set-Cookie', 'pref=Zx8Kq2Lm9Np4Rt7Vw1Yb3Cd6']]],
];

test('cached path, header and cookie results equal those of a scanner without caches, key by key', () => {
  for (const sampling of [false, undefined] as const) {
    const shared = createPiiScanner({ secret: 's', ...(sampling === false ? { sampling } : {}) });
    for (let round = 0; round < 3; round++) {
      for (const [target, headers, resHeaders] of cases) {
        const e = ex('GET', target, { headers, resHeaders });
        const fresh = createPiiScanner({ secret: 's', sampling: false, cache: false }).scanExchange(e);
        if (sampling === false) assert.deepEqual(shared.scanExchange(e), fresh, `${target} round ${round}`);
        else if (round === 0) assert.deepEqual(shared.scanExchange(e, 'k'), fresh, `${target} first sight`);
      }
    }
  }
});

test('the same value under another key or header is judged again', () => {
  const s = createPiiScanner({ secret: 's', sampling: false });
  const kinds = (target: string, headers: HeaderPair[] = []): string[] =>
    s
      .scanExchange(ex('GET', target, { headers }))
      .map((h) => `${h.location} ${h.field} ${h.kind}`)
      .sort();
  const a = kinds('/password/Tr0ub4dor-and-3');
  const b = kinds('/notes/Tr0ub4dor-and-3');
  assert.notDeepEqual(a, b, 'the previous segment names the value');
  assert.deepEqual(kinds('/password/Tr0ub4dor-and-3'), a);
  assert.deepEqual(kinds('/notes/Tr0ub4dor-and-3'), b);
  const h1 = kinds('/x', [['X-Password', 'Tr0ub4dor-and-3']]);
  const h2 = kinds('/x', [['X-Note', 'Tr0ub4dor-and-3']]);
  assert.notDeepEqual(h1, h2, 'the header name names the value');
});
