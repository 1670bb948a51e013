import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { FINDING_KINDS, SEVERITIES, type Finding } from '../../contracts/inventory.js';
import { Action, ACTION_PREFERENCES, EVIDENCE_MAX_CHARS, suggest, toAction } from './action.js';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    id: 'f00dfeedf00dfeed',
    kind: 'enumeration',
    severity: 'high',
    host: 'api.example',
    method: 'GET',
    path: '/users/{userId}',
    confidence: 0.9,
    evidence: '60 distinct userId values in 5 min, 40 % answered 404',
    details: { distinct: 60, notFoundShare: 0.4, parameter: 'userId', sample: '****1234' },
    firstSeen: '2026-11-23T06:28:21.434043Z',
    lastSeen: '2026-11-23T06:33:21.434043Z',
    ...over,
  };
}

const ipActor = { id: 'a1', ip: '203.0.113.7', principal: null, principalKind: null };
const userActor = { id: 'a2', ip: '198.51.100.4', principal: 'eyJ***.sub=u***7', principalKind: 'jwt_sub' };
const hashedActor = { id: 'a3', ip: 'hmac:00ff', principal: null, principalKind: null };

test('the mapping follows what the actor carries', () => {
  assert.deepEqual(suggest(finding({ kind: 'auth_bruteforce', actor: ipActor })), {
    action: 'block_ip',
    target: { type: 'ip', ip: '203.0.113.7' },
    reason: 'auth_bruteforce: actor with a raw IP address',
  });
  // A hashed IP cannot be blocked: brute force falls back to investigating the endpoint.
  assert.equal(suggest(finding({ kind: 'auth_bruteforce', actor: hashedActor })).action, 'investigate');
  assert.equal(suggest(finding({ kind: 'bola_suspect', actor: userActor })).action, 'revoke_credential');
  assert.deepEqual(suggest(finding({ kind: 'bola_suspect', actor: userActor })).target, {
    type: 'principal',
    actorId: 'a2',
    principal: userActor.principal,
    principalKind: 'jwt_sub',
  });
  assert.equal(suggest(finding({ kind: 'enumeration', actor: ipActor })).action, 'block_ip');
  assert.equal(suggest(finding({ kind: 'pii_harvest', actor: hashedActor })).action, 'investigate');
  assert.deepEqual(suggest(finding({ kind: 'excessive_usage', actor: userActor })).target.type, 'principal');
  assert.deepEqual(suggest(finding({ kind: 'excessive_usage', actor: ipActor })), {
    action: 'throttle',
    target: { type: 'ip', ip: '203.0.113.7' },
    reason: 'excessive_usage: actor throttled by IP address',
  });
  // Findings about an endpoint, with or without an actor kind's preferences.
  assert.deepEqual(suggest(finding({ kind: 'shadow_api' })).target, {
    type: 'endpoint',
    host: 'api.example',
    method: 'GET',
    path: '/users/{userId}',
  });
  assert.equal(suggest(finding({ kind: 'cleartext_credentials' })).action, 'investigate');
  assert.equal(suggest(finding({ kind: 'cleartext_credentials', actor: userActor })).action, 'revoke_credential');
});

test('an action carries counts, never the finding’s other details, and a capped summary', () => {
  const a = toAction(finding({ evidence: 'x'.repeat(2000) }));
  assert.deepEqual(a.evidence.counts, { distinct: 60, notFoundShare: 0.4 });
  assert.equal(a.evidence.summary.length, EVIDENCE_MAX_CHARS + 1);
  assert.ok(!JSON.stringify(a).includes('****1234'));
  assert.equal(a.id, 'f00dfeedf00dfeed');
  assert.deepEqual(a.window, { start: '2026-11-23T06:28:21.434043Z', end: '2026-11-23T06:33:21.434043Z' });
});

test('a finding without a span of its own (an orphan) carries the observation window of its details', () => {
  const a = toAction(
    finding({
      kind: 'orphan_api',
      firstSeen: null,
      lastSeen: null,
      details: { window: { first: '2026-11-23T06:28:21.434043Z', last: '2026-11-23T06:28:21.681726Z' } },
    }),
  );
  assert.deepEqual(a.window, { start: '2026-11-23T06:28:21.434043Z', end: '2026-11-23T06:28:21.681726Z' });
  assert.deepEqual(toAction(finding({ firstSeen: null, lastSeen: null, details: {} })).window, {
    start: null,
    end: null,
  });
});

const arbActor = fc.record({
  id: fc.stringMatching(/^[0-9a-f]{8,16}$/),
  ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.stringMatching(/^hmac:[0-9a-f]{1,16}$/)),
  principal: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: null }),
  principalKind: fc.option(fc.constantFrom('jwt_sub', 'api_key', 'basic_user', 'session'), { nil: null }),
});

test('every finding of every kind yields a valid action whose target meets its action’s requirement', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...FINDING_KINDS),
      fc.constantFrom(...SEVERITIES),
      fc.option(arbActor, { nil: undefined }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.double(), fc.string(), fc.integer())),
      (kind, severity, actor, details) => {
        const f = finding({ kind, severity, details, ...(actor !== undefined ? { actor } : {}) });
        const a = toAction(f);
        Action.parse(a);
        assert.equal(JSON.stringify(toAction(f)), JSON.stringify(a), 'deterministic');
        for (const v of Object.values(a.evidence.counts)) assert.equal(typeof v, 'number');
        const prefs = ACTION_PREFERENCES[kind] ?? ['investigate'];
        assert.ok(prefs.includes(a.suggestedAction), `${kind}: ${a.suggestedAction} is in its list`);
        if (a.suggestedAction === 'block_ip') assert.ok(a.target.type === 'ip' && isIP(a.target.ip) !== 0);
        if (a.suggestedAction === 'revoke_credential') assert.equal(a.target.type, 'principal');
        if (a.suggestedAction === 'investigate') assert.equal(a.target.type, 'endpoint');
        // The first usable preference wins: nothing earlier in the list was possible.
        const earlier = prefs.slice(0, prefs.indexOf(a.suggestedAction));
        const ip = actor !== undefined && isIP(actor.ip) !== 0;
        const principal = actor !== undefined && actor.principal !== null;
        for (const p of earlier) {
          if (p === 'block_ip') assert.ok(!ip);
          if (p === 'revoke_credential') assert.ok(!principal);
          if (p === 'throttle') assert.ok(!ip && !principal);
        }
      },
    ),
  );
});
