// The body gate's guarantee (gate.ts), unit by unit and through the analysis with the real PII scanner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAnalysis } from '../analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../pii/index.js';
import { ex, resetExchangeCounter } from '../testing.js';
import { BODY_GATE, BodyGate, envelopeOf, jsonText, MAX_KEY_SCAN } from './gate.js';
import type { BodyStream } from './gate.js';

const ENV = 12345;

/** Feeds `n` bodies with nothing new; returns the walk decisions. */
function run(g: BodyGate, st: BodyStream | null, n: number, text = '{"a":1}'): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const w = g.decide(st, ENV, text);
    if (w) g.settle(st, false);
    out.push(w);
  }
  return out;
}

test('the first `saturation` bodies are walked, then at least one in `rate`, decaying towards it', () => {
  const g = new BodyGate();
  const st = g.stream('h\u0000k');
  const w = run(g, st, 5000);
  assert.ok(w.slice(0, BODY_GATE.saturation).every((x) => x));
  let gap = 0;
  let maxGap = 0;
  for (const x of w.slice(BODY_GATE.saturation)) {
    gap = x ? 0 : gap + 1;
    maxGap = Math.max(maxGap, gap);
  }
  assert.ok(maxGap < BODY_GATE.rate, `longest run of skipped bodies ${maxGap}`);
  const tail = w.slice(2000).filter((x) => x).length / 3000;
  assert.ok(tail > 1 / (BODY_GATE.rate + 1) && tail < 3 / BODY_GATE.rate, `walk rate at steady state ${tail}`);
  assert.equal(g.stats.walked + g.stats.skipped, 5000);
});

test('something new after a walk unsettles the stream: the next `saturation` bodies are walked', () => {
  const g = new BodyGate();
  const st = g.stream('h\u0000k');
  run(g, st, 1000);
  // Walk until the next walked body, and report it brought something new.
  let guard = 0;
  while (!g.decide(st, ENV, '{"a":1}') && guard++ < BODY_GATE.rate);
  g.settle(st, true);
  assert.ok(run(g, st, BODY_GATE.saturation).every((x) => x));
});

test('a new object key is walked at its first occurrence, even once; a new envelope too', () => {
  const g = new BodyGate();
  const st = g.stream('h\u0000k');
  run(g, st, 1000, '{"id":1,"name":"x"}');
  assert.equal(g.decide(st, ENV, '{"id":1,"name":"x","ssn":"z"}'), true);
  assert.equal(g.stats.novelKeys, 1);
  g.settle(st, false); // the walk found nothing the stream's fields lacked: stays settled
  // Escaped quotes inside values do not hide or fake keys.
  const before = g.stats.novelKeys;
  g.decide(st, ENV, '{"id":1,"name":"a \\"fake\\": x"}');
  assert.equal(g.stats.novelKeys, before);
  assert.equal(g.decide(st, ENV + 1, '{"id":1,"name":"x"}'), true, 'new envelope');
  assert.equal(g.stats.novelEnvelopes, 1);
});

test('keys found by the gate are exactly the object keys JSON.parse sees (within the scan bound)', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      const text = JSON.stringify(v);
      fc.pre(text.length < MAX_KEY_SCAN);
      const want = new Set<string>();
      const visit = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(visit);
        else if (x !== null && typeof x === 'object')
          for (const [k, y] of Object.entries(x)) {
            want.add(JSON.stringify(k).slice(1, -1));
            visit(y);
          }
      };
      visit(v);
      const g = new BodyGate();
      const st = g.stream('h\u0000k') as BodyStream;
      g.decide(st, ENV, text);
      assert.equal(st.keys.size, want.size);
      // Every key again: nothing new.
      const seen = st.keys.size;
      g.decide(st, ENV, text);
      assert.equal(st.keys.size, seen);
    }),
    { numRuns: 300 },
  );
});

test('bounded: streams beyond maxStreams are always walked and counted; forget drops a host', () => {
  const g = new BodyGate({ ...BODY_GATE, maxStreams: 2 });
  assert.ok(g.stream('a\u0000x') !== null && g.stream('b\u0000x') !== null);
  const st = g.stream('c\u0000x');
  assert.equal(st, null);
  assert.ok(run(g, st, 500).every((x) => x));
  assert.equal(g.stats.untracked, 500);
  g.forget(['a']);
  assert.equal(g.size, 1);
});

test('envelope: media type, encoding, size class and status; jsonText only for JSON text', () => {
  const b = { contentType: 'application/json', contentEncoding: [], size: 1000, truncated: false };
  assert.equal(envelopeOf(b, 200), envelopeOf({ ...b, size: 1020 }, 200));
  assert.notEqual(envelopeOf(b, 200), envelopeOf({ ...b, size: 5000 }, 200));
  assert.notEqual(envelopeOf(b, 200), envelopeOf(b, 404));
  assert.notEqual(envelopeOf(b, 200), envelopeOf({ ...b, contentEncoding: ['gzip'] }, 200));
  assert.notEqual(envelopeOf(b, 200), envelopeOf({ ...b, truncated: true }, 200));
  assert.equal(jsonText({ encoding: 'utf8', data: ' [1]' }), ' [1]');
  assert.equal(jsonText({ encoding: 'utf8', data: 'hello' }), null);
  assert.equal(jsonText({ encoding: 'base64', data: 'e30=' }), null);
});

const user = (i: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: i,
  name: ['Ann Lee', 'Bob Marley Jr', 'Cy Twombly'][i % 3],
  city: 'Utrecht',
  // Bodies of 150–220 characters: one size class, so a new field does not also bring a new envelope.
  bio: 'b'.repeat(100),
  ...extra,
});

function analyse(xs: ReturnType<typeof ex>[]): ReturnType<typeof createAnalysis> {
  const a = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner: createPiiScanner({ secret: 's' }), aggregator: createPiiFieldAggregator() },
  });
  for (const x of xs) a.observe(x);
  return a;
}

test('through the analysis: a one-off new field with personal data is found; most settled bodies are not walked', () => {
  resetExchangeCounter();
  const xs = [];
  for (let i = 0; i < 3000; i++) xs.push(ex('GET', `/v1/users/${i}`, { resJson: user(i) }));
  xs.push(ex('GET', '/v1/users/7', { resJson: user(7, { email: 'jan.jansen@example.nl' }) }));
  for (let i = 0; i < 100; i++) xs.push(ex('GET', `/v1/users/${i}`, { resJson: user(i) }));
  const a = analyse(xs);
  const st = a.stats();
  assert.ok((st.analysis_bodies_gated ?? 0) > 2000, `gated ${st.analysis_bodies_gated}`);
  const ep = a.endpoints().find((e) => e.path === '/v1/users/{userId}');
  assert.ok(ep, JSON.stringify(a.endpoints().map((e) => e.path)));
  assert.ok(ep.fields.includes('response.body $.email:string'), ep.fields.join(' '));
});

test('through the analysis: emails that start in a settled field of names are found within `rate` bodies', () => {
  resetExchangeCounter();
  const xs = [];
  for (let i = 0; i < 3000; i++) xs.push(ex('GET', `/v1/users/${i}`, { resJson: user(i) }));
  // From here on, `name` carries an email: same key, new value shape.
  for (let i = 0; i < BODY_GATE.rate + 20; i++)
    xs.push(ex('GET', `/v1/users/${i}`, { resJson: { ...user(i), name: `user${i}@example.org` } }));
  const a = analyse(xs);
  const ep = a.endpoints().find((e) => e.path === '/v1/users/{userId}');
  assert.ok(
    ep?.pii.some((p) => p.kind === 'email'),
    JSON.stringify(ep?.pii),
  );
  // Without the persistent change there is no email: the finding comes from the change.
  const b = analyse(xs.slice(0, 3000));
  const eb = b.endpoints().find((e) => e.path === '/v1/users/{userId}');
  assert.ok(!eb?.pii.some((p) => p.kind === 'email'));
});

test('deterministic: the same exchanges give the same inventory; gate off gives the same fields here', () => {
  resetExchangeCounter();
  const xs = [];
  for (let i = 0; i < 1500; i++)
    xs.push(ex('GET', `/v1/users/${i}`, { resJson: user(i, i % 500 === 0 ? { note: 'x' } : {}) }));
  const one = JSON.stringify(analyse(xs).endpoints());
  assert.equal(JSON.stringify(analyse(xs).endpoints()), one);
  const off = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null, bodyGate: false });
  for (const x of xs) off.observe(x);
  const on = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
  for (const x of xs) on.observe(x);
  assert.deepEqual(
    on.endpoints().map((e) => e.fields),
    off.endpoints().map((e) => e.fields),
  );
  assert.equal(off.stats().analysis_bodies_gated, undefined);
});
