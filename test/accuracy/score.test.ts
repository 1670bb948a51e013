// Self-tests of the accuracy harness: the scorer against hand-built reports, the planted values against
// independent validators, and one small end-to-end run of server + client on loopback.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidIBAN } from 'ibantools';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { stdnum } from 'stdnum';
import { corpus, needsCorpus } from '../support/paths.js';
import { runClient } from './client.js';
import type { Report } from './score.js';
import { perfectReport, score, toMarkdown } from './score.js';
import { startServer } from './server.js';
import type { Truth } from './truth.js';
import { emptyTruth, mergeTruths, NEGATIVE_CLASSES, PII_KINDS } from './truth.js';
import * as v from './values.js';

function handTruth(): Truth {
  const t = emptyTruth('merged', 1);
  const H = 'petstore3.swagger.io';
  t.apis.push({ host: H, prefix: '/api/v3', specs: ['petstore.yaml'], previous: [] });
  t.requests = 40;
  t.called.push(
    { host: H, method: 'GET', template: '/pet/{petId}', calls: 10, origin: 'documented' },
    { host: H, method: 'GET', template: '/user/{username}', calls: 10, origin: 'documented' },
    { host: H, method: 'POST', template: '/store/order', calls: 10, origin: 'documented' },
    { host: H, method: 'GET', template: '/pet/{petId}/vaccinations', calls: 5, origin: 'shadow' },
    { host: H, method: 'DELETE', template: '/store/inventory', calls: 5, origin: 'shadow' },
  );
  t.shadow.push(
    { host: H, method: 'GET', template: '/pet/{petId}/vaccinations' },
    { host: H, method: 'DELETE', template: '/store/inventory' },
  );
  t.zombie.push({ host: H, method: 'GET', template: '/pet/{petId}', reason: 'deprecation_header' });
  t.orphan.push(
    { host: H, method: 'DELETE', template: '/pet/{petId}' },
    { host: H, method: 'GET', template: '/store/inventory' },
  );
  t.pii.push(
    {
      host: H,
      method: 'GET',
      template: '/user/{username}',
      location: 'response.body',
      field: '$.email',
      kind: 'email',
    },
    {
      host: H,
      method: 'GET',
      template: '/user/{username}',
      location: 'response.body',
      field: '$.phone',
      kind: 'phone',
    },
    {
      host: H,
      method: 'GET',
      template: '/pet/{petId}/vaccinations',
      location: 'response.body',
      field: '$[*].vetEmail',
      kind: 'email',
    },
  );
  t.hardNegatives.push({
    host: H,
    method: 'POST',
    template: '/store/order',
    location: 'request.body',
    field: '$.orderNumber',
    class: 'luhn_order_number',
  });
  return t;
}

const metric = (
  r: ReturnType<typeof score>,
  prefix: string,
): NonNullable<ReturnType<typeof score>['metrics'][number]> => {
  const m = r.metrics.find((x) => x.name.startsWith(prefix));
  assert.ok(m, `metric ${prefix}`);
  return m;
};

describe('accuracy scorer', () => {
  it('scores a perfect report 1.0 everywhere and passes', () => {
    const t = handTruth();
    const s = score(t, perfectReport(t));
    for (const m of s.metrics) {
      assert.equal(m.precision, 1, m.name);
      assert.equal(m.recall, 1, m.name);
      assert.equal(m.f1, 1, m.name);
    }
    assert.equal(s.pass, true);
    assert.equal(s.hardNegatives.reported.length, 0);
    assert.match(toMarkdown(s, t), /all targets met/);
  });

  it('fails shadow recall when one shadow API is missed', () => {
    const t = handTruth();
    const r = perfectReport(t);
    const i = r.findings.findIndex((f) => f.kind === 'shadow_api' && f.path.endsWith('/store/inventory'));
    assert.ok(i >= 0);
    r.findings.splice(i, 1);
    const s = score(t, r);
    const m = metric(s, 'shadow_api');
    assert.equal(m.recall, 0.5);
    assert.equal(m.precision, 1);
    assert.equal(m.pass, false);
    assert.deepEqual(m.falseNegatives, ['petstore3.swagger.io DELETE /store/inventory']);
    assert.equal(s.pass, false);
    assert.match(toMarkdown(s, t), /\*\*FAIL\*\*/);
  });

  it('lowers PII precision for one extra PII field, and counts a reported hard negative', () => {
    const t = handTruth();
    const r = perfectReport(t);
    const order = r.endpoints.find((e) => e.path === '/api/v3/store/order');
    assert.ok(order);
    order.pii = [{ kind: 'payment_card', location: 'request.body', field: '$.orderNumber' }];
    const s = score(t, r);
    const m = metric(s, 'PII');
    assert.equal(m.tp, 3);
    assert.equal(m.fp, 1);
    assert.ok(m.precision < 1);
    assert.equal(m.recall, 1);
    assert.equal(m.pass, false); // 3/4 < 0.95
    assert.equal(s.hardNegatives.reported.length, 1);
  });

  it('compares template shapes, not parameter names or prefixes, and normalises fields and hosts', () => {
    const t = handTruth();
    const H = 'petstore3.swagger.io:80';
    const report: Report = {
      endpoints: [
        { host: H, method: 'get', path: '/api/v3/pet/{id}', hits: 10 },
        {
          host: H,
          method: 'GET',
          path: '/user/{user}',
          hits: 10,
          pii: [
            { kind: 'email', location: 'response.body', field: 'email' },
            { kind: 'phone', location: 'response.body', field: '$.phone' },
            { kind: 'session_token', location: 'request.header', field: 'authorization' },
          ],
        },
        { host: H, method: 'POST', path: '/api/v3/store/order/', hits: 10 },
        {
          host: H,
          method: 'GET',
          path: '/api/v3/pet/{param1}/vaccinations',
          hits: 5,
          pii: [{ kind: 'email', location: 'response.body', field: '$[0].vetEmail' }],
        },
        { host: H, method: 'DELETE', path: '/api/v3/store/inventory', hits: 5 },
        { host: H, method: 'DELETE', path: '/api/v3/pet/{petId}', hits: 0 }, // an orphan listed with no hits is not a templating claim
      ],
      findings: [
        { kind: 'shadow_api', host: H, method: 'GET', path: '/pet/{x}/vaccinations' },
        { kind: 'shadow_api', host: H, method: 'DELETE', path: '/store/inventory' },
        { kind: 'zombie_api', host: H, method: 'GET', path: '/api/v3/pet/{petId}' },
        { kind: 'orphan_api', host: H, method: 'DELETE', path: '/pet/{petId}' },
        { kind: 'orphan_api', host: H, method: 'GET', path: '/store/inventory' },
        { kind: 'pii_exposure', host: H, method: 'GET', path: '/user/{username}' },
      ],
    };
    const s = score(t, report);
    for (const m of s.metrics)
      assert.equal(m.f1, 1, `${m.name}: ${JSON.stringify({ fp: m.falsePositives, fn: m.falseNegatives })}`);
    assert.equal(s.ignoredPii, 1);
  });

  it('counts a wrongly templated endpoint as one false positive and one false negative', () => {
    const t = handTruth();
    const r = perfectReport(t);
    const pet = r.endpoints.find((e) => e.path === '/api/v3/pet/{petId}');
    assert.ok(pet);
    pet.path = '/api/v3/pet/123';
    const m = metric(score(t, r), 'templating');
    assert.equal(m.tp, 4);
    assert.equal(m.fp, 1);
    assert.equal(m.fn, 1);
    assert.ok(Math.abs(m.f1 - 0.8) < 1e-9);
    assert.equal(m.pass, false);
  });
});

describe('planted values', () => {
  it('pass their checksums (checked with independent libraries), hard negatives are what they claim', () => {
    const r = new v.Rng(42);
    for (let i = 0; i < 200; i++) {
      const b = v.bsn(r);
      assert.equal(stdnum.NL?.bsn?.validate(b).isValid, true, b);
      const n = v.nineDigitNonBsn(r);
      assert.equal(stdnum.NL?.bsn?.validate(n).isValid, false, n);
      assert.match(n, /^\d{9}$/);
      assert.equal(isValidIBAN(v.iban(r)), true);
      assert.equal(isValidPhoneNumber(v.phone(r)), true);
      const c = v.card(r);
      assert.equal(v.luhnValid(c), true);
      assert.match(c, /^(4\d|5[1-5])\d{14}$/);
      const o = v.luhnOrderNumber(r);
      assert.equal(v.luhnValid(o), true);
      assert.match(v.twilioSid(r, 'CH'), /^CH[0-9a-f]{32}$/);
    }
    assert.equal(v.luhnValid('4111111111111111'), true);
    assert.equal(v.luhnValid('4111111111111112'), false);
    assert.equal(v.elfproefValid('123456782'), true);
    assert.equal(v.elfproefValid('123456789'), false);
  });
});

describe('harness end to end on loopback', needsCorpus, () => {
  it('server and client agree on the truth, which covers every kind and zombie reason', async () => {
    const S = (p: string): string => corpus('specs', p);
    const specs = [
      S('swagger-petstore/openapi.yaml'),
      S('adyen/RecurringService-v68.yaml'),
      S('redocly-museum/openapi.yaml'),
      S('twilio/twilio_chat_v2.json'),
      S('docker-engine/v1.41.yaml'),
    ];
    const previous = [S('twilio/twilio_chat_v1.json')];
    const srv = await startServer({ host: '127.0.0.1', port: 0, specs, previous, seed: 3 });
    try {
      const { recorder, failures } = await runClient({
        target: `http://127.0.0.1:${srv.port}`,
        specs,
        previous,
        seed: 3,
        scale: 0.2,
      });
      assert.equal(failures, 0);
      assert.equal(srv.unmatched(), 0);
      const { truth, disagreements } = mergeTruths([recorder.truth, srv.recorder.truth]);
      assert.deepEqual(disagreements, []);
      assert.equal(srv.recorder.truth.requests, recorder.truth.requests);
      assert.deepEqual(new Set(truth.pii.map((p) => p.kind)), new Set(PII_KINDS));
      assert.deepEqual(
        new Set(truth.zombie.map((z) => z.reason)),
        new Set(['deprecated', 'removed', 'deprecation_header']),
      );
      assert.ok(truth.shadow.length >= 10);
      assert.ok(truth.orphan.some((o) => o.host === 'petstore3.swagger.io'));
      assert.deepEqual(new Set(truth.hardNegatives.map((n) => n.class)), new Set(NEGATIVE_CLASSES));
      // no route is both called and orphaned, and shadow routes are not documented
      const called = new Set(truth.called.map((c) => `${c.host} ${c.method} ${c.template}`));
      for (const o of truth.orphan) assert.ok(!called.has(`${o.host} ${o.method} ${o.template}`));
      assert.ok(score(truth, perfectReport(truth)).pass);
    } finally {
      await srv.close();
    }
  });
});
