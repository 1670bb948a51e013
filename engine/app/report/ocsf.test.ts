import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FINDING_KINDS, SEVERITIES, type Finding } from '../../contracts/inventory.js';
import { validateOcsf } from '../../../test/support/ocsf-schema.js';
import { FINDING_GUIDE } from './guidance.js';
import { OCSF_VERSION, ocsfLines, toOcsf } from './ocsf.js';

function finding(kind: string, i: number, extra: Partial<Finding> = {}): Finding {
  return {
    id: `id-${kind}-${i}`,
    kind: kind as Finding['kind'],
    severity: SEVERITIES[i % SEVERITIES.length] as Finding['severity'],
    host: 'api.example.test',
    method: 'GET',
    path: '/users/{id}',
    confidence: (i % 10) / 10,
    evidence: `evidence for ${kind}`,
    details: kind === 'pii_exposure' ? { location: 'response.body', kinds: ['email', 'iban'] } : { n: i },
    firstSeen: '2026-11-23T06:28:21.447193Z',
    lastSeen: '2026-11-23T06:28:21.610566Z',
    ...extra,
  };
}

test('every finding kind maps to a valid OCSF 1.5.0 event of its family class', () => {
  const expected: Record<string, number> = { data: 2006, inventory: 2007, auth: 2007, behaviour: 2004 };
  FINDING_KINDS.forEach((k, i) => {
    const ev = toOcsf(finding(k, i), '0.1.0');
    assert.deepEqual(validateOcsf(ev), [], k);
    assert.equal(ev['class_uid'], expected[FINDING_GUIDE[k].family], k);
    assert.equal(ev['type_uid'], (ev['class_uid'] as number) * 100 + 1);
    assert.equal((ev['metadata'] as { version: string }).version, OCSF_VERSION);
    assert.equal(ev['time'], Date.parse('2026-11-23T06:28:21.610Z'));
  });
});

test('a kind this build does not know becomes a Detection Finding; orphans take the window end as time', () => {
  const unknown = toOcsf(finding('api_change', 3), '0.1.0');
  assert.equal(unknown['class_uid'], 2004);
  assert.deepEqual(validateOcsf(unknown), []);
  const orphan = toOcsf(
    finding('orphan_api', 1, {
      firstSeen: null,
      lastSeen: null,
      details: { window: { first: '2026-11-23T06:00:00.000000Z', last: '2026-11-23T07:00:00.000000Z' } },
    }),
    '0.1.0',
  );
  assert.deepEqual(validateOcsf(orphan), []);
  assert.equal(orphan['time'], Date.parse('2026-11-23T07:00:00Z'));
  assert.equal(orphan['start_time'], undefined);
});

test('the schema rejects broken events (the validator can fail)', () => {
  const ev = toOcsf(finding('shadow_api', 2), '0.1.0');
  assert.deepEqual(validateOcsf(ev), []);
  const noUid = structuredClone(ev);
  delete (noUid['finding_info'] as Record<string, unknown>)['uid'];
  assert.notDeepEqual(validateOcsf(noUid), []);
  assert.notDeepEqual(validateOcsf({ ...ev, type_uid: 200401 }), []);
  assert.notDeepEqual(validateOcsf({ ...ev, severity_id: 7 }), []);
  assert.notDeepEqual(validateOcsf({ ...ev, remediation: undefined, compliance: undefined }), []);
  assert.notDeepEqual(validateOcsf({ ...ev, finding: {} }), []);
});

test('ocsfLines: one event per finding per line, same bytes for the same findings', () => {
  const fs = FINDING_KINDS.map((k, i) => finding(k, i));
  const out = ocsfLines(fs, '0.1.0');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, fs.length);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { finding_info: { uid: string } }).finding_info.uid),
    fs.map((f) => f.id),
  );
  assert.equal(ocsfLines(fs, '0.1.0'), out);
  assert.equal(ocsfLines([], '0.1.0'), '');
});
