// The sampling guarantee of sampling.ts, as detection delays: what a settled field must still find, and
// how soon. Exchanges are built by hand (the scanner sees only exchange/v1 records).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Exchange, HeaderPair } from '../../engine/contracts/exchange.js';
import { createAnalysis } from '../analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from './index.js';
import type { PiiHit, PiiScanner } from './index.js';
import { decide, DECISION, newFieldState, recordOutcome, SAMPLING, shapeCode } from './sampling.js';
import type { SamplingStats } from './sampling.js';

function exchange(i: number, res: unknown, reqHeaders: HeaderPair[] = [], status = 200): Exchange {
  const data = JSON.stringify(res);
  const body = (
    d: string,
  ): Exchange['response'] extends infer R ? (R extends { body: infer B } ? B : never) : never => ({
    size: d.length,
    decodedSize: null,
    contentType: d === '' ? null : 'application/json',
    contentEncoding: [],
    encoding: 'utf8',
    data: d,
    truncated: false,
    complete: true,
  });
  return {
    schema: 'exchange/v1',
    id: `e${i}`,
    flowId: 'f',
    seq: i,
    vni: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method: 'GET',
      target: `/api/v1/records/${1000 + i}`,
      version: '1.1',
      headers: [['Host', 'api.test.nl'], ...reqHeaders],
      trailers: [],
      body: body(''),
      startUs: i * 1000,
      endUs: i * 1000 + 1,
    },
    response: {
      status,
      reason: 'OK',
      version: '1.1',
      headers: [['Content-Type', 'application/json']],
      trailers: [],
      body: body(data),
      startUs: i * 1000 + 2,
      endUs: i * 1000 + 3,
    },
    latencyUs: 2,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
  } as unknown as Exchange;
}

/** Deterministic pseudo-random lower-case letters. */
function letters(seed: number, n: number): string {
  let s = '';
  let h = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) + i;
    s += String.fromCharCode(97 + ((h >>> 0) % 26));
  }
  return s;
}

const has = (hits: readonly PiiHit[], kind: string, field: string): boolean =>
  hits.some((h) => h.kind === kind && h.field === field);

/** `clean` exchanges of a settled endpoint, then `changed` ones; the index (from 0) of the first change found. */
function delay(
  sc: PiiScanner,
  key: string,
  clean: (i: number) => unknown,
  changed: (i: number) => unknown,
  found: (hits: readonly PiiHit[]) => boolean,
  n = 10_000,
): number {
  for (let i = 0; i < n; i++) assert.equal(found(sc.scanExchange(exchange(i, clean(i)), key)), false);
  for (let j = 0; j < 10 * SAMPLING.rate; j++)
    if (found(sc.scanExchange(exchange(n + j, changed(n + j)), key))) return j;
  return Number.POSITIVE_INFINITY;
}

test('a new field path in a settled endpoint is scanned at once', () => {
  const sc = createPiiScanner({ secret: 's' });
  const d = delay(
    sc,
    'h GET /records/{}',
    (i) => ({ id: i, name: `item ${i}`, status: 'ok' }),
    (i) => ({ id: i, name: `item ${i}`, status: 'ok', contact: { mail: `${letters(i, 8)}@bedrijf.nl` } }),
    (h) => has(h, 'email', '$.contact.mail'),
  );
  assert.equal(d, 0);
  assert.ok((sc.stats?.().valuesSampledOut ?? 0) > 10_000, 'the settled fields were sampled');
});

test('a settled field that starts carrying emails after 10,000 clean samples: found at once (new shape)', () => {
  const sc = createPiiScanner({ secret: 's' });
  const d = delay(
    sc,
    'h GET /records/{}',
    (i) => ({ id: i, note: `${letters(i, 6)} ${letters(i + 7, 5)}` }),
    (i) => ({ id: i, note: `${letters(i, 6)}@bedrijf.nl` }),
    (h) => has(h, 'email', '$.note'),
  );
  assert.equal(d, 0);
});

test('a settled field that starts carrying emails of its old shape: found within SAMPLING.rate occurrences', () => {
  // Same character classes and length before and after: "abcdef@ghijkl.zz" (no such TLD: not an
  // email) becomes "abcdef@ghijkl.nl". Only the never-zero rate can find it; over many endpoint keys
  // (different hash salts) the worst delay stays within the bound, and sampling did skip values.
  const delays: number[] = [];
  for (let k = 0; k < 12; k++) {
    const sc = createPiiScanner({ secret: 's' });
    delays.push(
      delay(
        sc,
        `h GET /records/${k}`,
        (i) => ({ id: i, contact: `${letters(i, 6)}@${letters(i + 3, 6)}.zz` }),
        (i) => ({ id: i, contact: `${letters(i, 6)}@${letters(i + 3, 6)}.nl` }),
        (h) => has(h, 'email', '$.contact'),
      ),
    );
  }
  assert.ok(Math.max(...delays) < SAMPLING.rate, `delays ${delays.join(',')}`);
  assert.ok(Math.max(...delays) > 0, `sampling was active: delays ${delays.join(',')}`);
});

test('after the first new kind the field is fully scanned again, so aggregation gets its distinct values', () => {
  const sc = createPiiScanner({ secret: 's' });
  const agg = createPiiFieldAggregator();
  const key = 'h GET /records/{}';
  for (let i = 0; i < 10_000; i++)
    sc.scanExchange(exchange(i, { id: i, ref: `${letters(i, 6)}@${letters(i, 6)}.zz` }), key);
  let first = -1;
  for (let j = 0; j < 200; j++) {
    const hits = sc.scanExchange(exchange(10_000 + j, { id: j, ref: `${letters(j, 6)}@${letters(j, 6)}.nl` }), key);
    if (first < 0 && has(hits, 'email', '$.ref')) first = j;
    agg.add(key, hits);
    if (first >= 0 && j > first && j <= first + SAMPLING.saturation) assert.ok(has(hits, 'email', '$.ref'), `j=${j}`);
  }
  assert.ok(first >= 0 && first < SAMPLING.rate);
  const labels = agg.results(key).filter((r) => r.field === '$.ref');
  assert.equal(labels[0]?.kind, 'email');
  assert.ok((labels[0]?.distinct ?? 0) >= SAMPLING.saturation);
});

test('credential headers are never sampled: a new auth scheme and a password after 10,000 exchanges', () => {
  const sc = createPiiScanner({ secret: 's' });
  const key = 'h GET /records/{}';
  for (let i = 0; i < 10_000; i++)
    sc.scanExchange(exchange(i, { id: i }, [['Authorization', `Bearer tok${i}abcdefghijk`]]), key);
  const basic = Buffer.from('alice:S3cret-pass').toString('base64');
  const hits = sc.scanExchange(exchange(10_000, { id: 1 }, [['Authorization', `Basic ${basic}`]]), key);
  assert.ok(has(hits, 'password', 'authorization'));
});

test('new auth schemes and status classes reach the inventory whatever the sampling', () => {
  const scanner = createPiiScanner({ secret: 's' });
  const analysis = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner, aggregator: createPiiFieldAggregator() },
  });
  for (let i = 0; i < 10_000; i++) analysis.observe(exchange(i, { id: i, name: `n${i % 10}` }));
  analysis.observe(exchange(10_001, { id: 1 }, [['Authorization', 'Basic YWxpY2U6cHc=']], 503));
  const [e] = analysis.endpoints();
  assert.ok(e !== undefined);
  assert.ok(e.statusClasses['5xx'] === 1, JSON.stringify(e.statusClasses));
  assert.ok(e.auth.includes('basic'), JSON.stringify(e.auth));
});

test('decide(): first `saturation` scans full, then gaps that grow to `rate` and never exceed it', () => {
  const o = SAMPLING;
  const stats: SamplingStats = { sampledOut: 0, novelShapes: 0, shapesOverflow: 0, outcomeChanges: 0 };
  const st = newFieldState(12345);
  const shape = shapeCode('klant@bedrijf.nl');
  const full: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    if (decide(st, shape, o, stats) !== DECISION.sampled) {
      full.push(i);
      recordOutcome(st, 1, o);
    }
  }
  for (let i = 0; i <= o.saturation; i++) assert.equal(full[i], i, 'first occurrences fully scanned');
  const gaps = full.slice(1).map((x, i) => x - (full[i] as number));
  assert.ok(Math.max(...gaps) <= o.rate, `max gap ${Math.max(...gaps)}`);
  const early = gaps.slice(o.saturation, o.saturation + 32);
  const late = gaps.slice(-200);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(early) < 2 && mean(late) > o.rate / 4, `early ${mean(early)} late ${mean(late)}`);
  assert.ok(full.length < 200_000 / 16, `${full.length} full scans of 200,000`);
  // A new shape is scanned at once, whatever the countdown says.
  assert.equal(decide(st, shapeCode('+31 6 12345678'), o, stats), DECISION.fullNovel);
});

test('sampling is deterministic: the same exchanges give the same hits', () => {
  const run = (): string => {
    const sc = createPiiScanner({ secret: 's' });
    const out: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const hits = sc.scanExchange(exchange(i, { id: i, mail: `${letters(i, 7)}@bedrijf.nl` }), 'k');
      out.push(hits.map((h) => `${h.kind}:${h.field}:${h.hash}`).join(','));
    }
    return out.join('\n');
  };
  assert.equal(run(), run());
});

// Settled fields' bodies are walked over their tape (shared/skim.ts), not the parsed object: the walk
// must not change a single hit or sampling decision. Random bodies mix PII values, coordinates,
// numbers of every JSON spelling, JSON inside strings, escapes, duplicate and index keys (those take
// the parsed path), and cuts.
test('the tape walk and the object walk give the same hits and sampling decisions', async () => {
  const fc = (await import('fast-check')).default;
  const leaf = fc.oneof(
    fc.constantFrom(
      'jan.jansen@bedrijf.nl',
      'piet@example.com',
      '+31 6 12345678',
      '4111 1111 1111 1111',
      'NL91ABNA0417164300',
      '123456782',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      '{"email":"x@bedrijf.nl"}',
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      'caf\u00e9 "quoted"\n',
      'Jan Jansen',
    ),
    fc.constantFrom(123456789, 4111111111111111, 1e21, 100000.0, 52.379189, 4.899431, -0, 12),
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const key = fc.constantFrom(
    'email',
    'phone',
    'iban',
    'bsn',
    'name',
    'lat',
    'lng',
    'coordinates',
    'id',
    'note',
    '1',
    'x y',
  );
  const body = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.constantFrom(
        { lat: 52.379189, lng: 4.899431 },
        { latitude: null, lat: 52.379189, long: 4.899431, price: 12.5 },
        { coordinates: [4.899431, 52.379189] },
        { geo: { position: [[4.899431, 52.379189]] } },
        { lat: '52.379189', lon: 4.899431, amount: 19.99 },
      ),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(key, tie('v'), { maxKeys: 5 }),
    ),
  })).v;
  fc.assert(
    fc.property(fc.array(fc.tuple(body, fc.nat(), fc.boolean()), { minLength: 1, maxLength: 30 }), (docs) => {
      const opts = { secret: 's', sampling: { saturation: 2, rate: 4 } };
      const tape = createPiiScanner(opts);
      const object = createPiiScanner({ ...opts, skim: false });
      docs.forEach(([doc, cutAt, dup], i) => {
        let text = JSON.stringify({ items: [doc, doc] });
        if (dup) text = text.replace('{"items"', '{"items":0,"items"');
        const ex = exchange(i, null);
        const cut = cutAt % 3 === 0 && text.length > 2;
        const b = ex.response?.body as { data: string; truncated: boolean };
        b.data = cut ? text.slice(0, cutAt % text.length) : text;
        b.truncated = cut;
        assert.deepEqual(tape.scanExchange(ex, 'k'), object.scanExchange(ex, 'k'));
      });
      assert.deepEqual(tape.stats?.(), object.stats?.());
    }),
    { numRuns: 300 },
  );
});
