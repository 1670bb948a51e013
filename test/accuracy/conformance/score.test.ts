// The conformance scorer's self-test: a perfect report scores 1, a missed and an extra finding lower
// recall and precision, a finding on the conformant host or a PII field below high fails the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../../../engine/contracts/inventory.js';
import {
  CLIENT_DEVIATIONS,
  CONFORMANT_HOST,
  DEVIANT_HOST,
  loadScenario,
  PREFIX,
  SERVER_DEVIATIONS,
} from './scenario.js';
import { score } from './score.js';

const s = loadScenario();
const planted = [...SERVER_DEVIATIONS, ...CLIENT_DEVIATIONS].map((d) => ({
  kind: d.kind,
  op: d.op,
  location: d.location,
  name: d.name,
  ...(d.pii ? { pii: true } : {}),
  count: 1,
}));
const finding = (p: (typeof planted)[number], host = DEVIANT_HOST): Finding => {
  const op = s.ops.get(p.op);
  assert.ok(op);
  return {
    id: `${p.kind}${p.name}`,
    kind: p.kind,
    severity: p.pii === true ? 'high' : 'low',
    host,
    method: op.method,
    // The inventory's own parameter names differ from the spec's: only the shape counts.
    path: `${PREFIX}${op.path.replace(/\{[^}]+\}/g, '{x}')}`,
    confidence: 0.9,
    evidence: '',
    details: { location: p.location, name: p.name },
    firstSeen: null,
    lastSeen: null,
  };
};

test('a perfect report passes; misses, extras, conformant-host findings and low PII severity do not', () => {
  const perfect = planted.map((p) => finding(p));
  assert.equal(score(perfect, planted).pass, true);
  const missed = score(perfect.slice(1), planted);
  assert.equal(missed.pass, false);
  assert.ok(missed.kinds.some((k) => k.recall < 1));
  const extra = score(
    [
      ...perfect,
      { ...finding(planted[0] as (typeof planted)[number]), details: { location: 'response.body', name: '/nope' } },
    ],
    planted,
  );
  assert.ok(extra.kinds.some((k) => k.precision < 1));
  assert.equal(
    score([...perfect, finding(planted[0] as (typeof planted)[number], CONFORMANT_HOST)], planted).pass,
    false,
  );
  const lowPii = perfect.map((f) => ({ ...f, severity: 'low' as const }));
  assert.equal(score(lowPii, planted).piiHigh.high, 0);
  assert.equal(score(lowPii, planted).pass, false);
});
