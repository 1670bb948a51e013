import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointRecord } from '../../engine/contracts/inventory.js';
import { drift, factsOf, type ApiFact } from './index.js';

const DAY = 86_400_000_000;
const T0 = Date.UTC(2026, 10, 23, 6) * 1000;
const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString().replace('Z', '000Z');

function ep(path: string, day: number, over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    host: 'api.example.test',
    method: 'GET',
    path,
    hits: 2,
    documented: true,
    deprecated: false,
    auth: ['bearer'],
    pii: [],
    firstSeen: iso(T0 + day * DAY),
    lastSeen: iso(T0 + day * DAY + 60_000_000),
    statusClasses: { '2xx': 2 },
    latencyP50Ms: 1,
    latencyP95Ms: 2,
    contentTypes: ['response application/json'],
    queryParams: [],
    fields: ['response.body $.id:integer', 'response.body $.name:string'],
    category: 'api',
    explain: [],
    vnis: [],
    protocol: 'http',
    ...over,
  };
}

/** Runs windows in order against one baseline; returns each window's findings. */
function windows(...ws: EndpointRecord[][]): ReturnType<typeof drift>['findings'][] {
  let stored: ApiFact[] = [];
  const out: ReturnType<typeof drift>['findings'][] = [];
  for (const w of ws) {
    const r = drift(stored, w, { quietUs: 7 * DAY });
    const byKey = new Map(stored.map((f) => [`${f.host} ${f.method} ${f.path} ${f.kind} ${f.value}`, f]));
    for (const f of r.facts) byKey.set(`${f.host} ${f.method} ${f.path} ${f.kind} ${f.value}`, f);
    stored = [...byKey.values()];
    out.push(r.findings);
  }
  return out;
}
const changes = (fs: ReturnType<typeof drift>['findings']): string[] =>
  fs
    .map(
      (f) =>
        `${f.kind} ${f.severity} ${f.method} ${f.path} ${String(f.details['change'] ?? '')} ${String(f.details['value'] ?? '')}`,
    )
    .sort();

test('the first window of a host is the baseline; the same window again changes nothing', () => {
  const w = [ep('/users/{id}', 0), ep('/orders', 0)];
  const [first, again] = windows(w, w);
  assert.deepEqual(first, []);
  assert.deepEqual(again, []);
  const r = drift(factsOf(w), w);
  assert.deepEqual(r.facts, [], 'nothing moved, nothing to write');
});

test('exactly the changes: new endpoint (one change), new field with PII, credentials dropped', () => {
  const day1 = [ep('/users/{id}', 0), ep('/orders/{id}', 0)];
  const day2 = [
    ep('/users/{id}', 1, { auth: ['bearer', 'none'] }),
    ep('/orders/{id}', 1, {
      fields: ['response.body $.id:integer', 'response.body $.name:string', 'response.body $.contact.email:string'],
      pii: [{ kind: 'email', location: 'response.body', field: '$.contact.email' }],
    }),
    ep('/internal/debug', 1, {
      documented: false,
      fields: ['response.body $.env:object'],
      statusClasses: { '5xx': 1 },
    }),
  ];
  const [, d2] = windows(day1, day2);
  assert.deepEqual(changes(d2 ?? []), [
    'api_change high GET /orders/{id} new_field response.body $.contact.email:string',
    'api_change high GET /users/{id} new_auth_scheme none',
    'api_change medium GET /internal/debug new_endpoint ',
  ]);
  const field = (d2 ?? []).find((f) => f.details['change'] === 'new_field');
  assert.deepEqual(field?.details['pii'], ['email']);
  // Input order does not matter.
  const [, rev] = windows([...day1].reverse(), [...day2].reverse());
  assert.deepEqual(rev, d2);
});

test('PII appearing in a known field, a new query parameter and a new status class', () => {
  const day1 = [ep('/users/{id}', 0)];
  const day2 = [
    ep('/users/{id}', 1, {
      pii: [{ kind: 'person_name', location: 'response.body', field: '$.name' }],
      queryParams: ['expand'],
      statusClasses: { '2xx': 1, '5xx': 1 },
    }),
  ];
  const [, d2] = windows(day1, day2);
  assert.deepEqual(changes(d2 ?? []), [
    'api_change high GET /users/{id} new_pii person_name response.body $.name',
    'api_change low GET /users/{id} new_query_param expand',
    'api_change medium GET /users/{id} new_status_class 5xx',
  ]);
});

test('gone quiet: silent longer than the threshold before the window end, same host only', () => {
  const day1 = [ep('/a', 0), ep('/b', 0), ep('/c', 0, { host: 'other.example.test' })];
  const [, d3, d10] = windows(day1, [ep('/a', 3)], [ep('/a', 10)]);
  assert.deepEqual(d3, [], '3 days of silence is below the 7-day threshold');
  assert.deepEqual(changes(d10 ?? []), ['api_gone_quiet low GET /b  ']);
  assert.match((d10 ?? [])[0]?.evidence ?? '', /no traffic since .* \(10 days before/);
});

test('facts are names and shapes, never values; static assets are not drift', () => {
  const fs = factsOf([
    ep('/users/{id}', 0, { pii: [{ kind: 'email', location: 'response.body', field: '$.email' }] }),
    ep('/app.js', 0, { category: 'static' }),
  ]);
  assert.ok(fs.every((f) => f.path === '/users/{id}'));
  assert.deepEqual(
    fs.map((f) => `${f.kind}:${f.value}`),
    [
      'auth:bearer',
      'endpoint:',
      'field:response.body $.id:integer',
      'field:response.body $.name:string',
      'pii:email response.body $.email',
      'status:2xx',
    ],
  );
});

test('continuous windows: a learning period per host, then changes; quiet by the host’s own packet time', () => {
  const HOUR = 3_600_000_000;
  const cont = { quietUs: 7 * DAY, continuous: { baselineUs: HOUR } };
  const at = (path: string, us: number, over: Partial<EndpointRecord> = {}): EndpointRecord =>
    ep(path, 0, { firstSeen: iso(T0), lastSeen: iso(T0 + us), ...over });
  // Batch 1 is the baseline; batch 2, within the hour, still learns.
  const b1 = drift([], [at('/a', 0)], cont);
  assert.deepEqual(b1.findings, []);
  const b2 = drift(b1.facts, [at('/a', 10 * 60_000_000), at('/b', 20 * 60_000_000)], cont);
  assert.deepEqual(b2.findings, []);
  const stored = [...b1.facts.filter((f) => f.path !== '/a'), ...b2.facts];
  // After the hour: a new endpoint is a change; restored endpoints (whole inventory) are not.
  const b3 = drift(stored, [at('/a', 2 * HOUR), at('/b', 20 * 60_000_000), at('/c', 2 * HOUR)], cont);
  assert.deepEqual(
    b3.findings.map((f) => `${f.kind} ${f.path} ${String(f.details['change'])}`),
    ['api_change /c new_endpoint'],
  );
  // Eight days later only /a is called: /b and /c (in the inventory, silent) have gone quiet.
  const b4 = drift(stored, [at('/a', 8 * DAY + 3 * HOUR), at('/b', 20 * 60_000_000), at('/c', 2 * HOUR)], cont);
  assert.deepEqual(
    b4.findings
      .filter((f) => f.kind === 'api_gone_quiet')
      .map((f) => f.path)
      .sort(),
    ['/b', '/c'],
  );
});
