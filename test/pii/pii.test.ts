// Unit, hard-negative, extraction, aggregation, ReDoS and never-throws tests for analyzers/pii.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Exchange } from '../../engine/contracts/exchange.js';
import {
  createPiiFieldAggregator,
  createPiiScanner,
  detectText,
  detectValue,
  identifierShape,
  keyEvidence,
  SECRET_RULES,
  tokenizeKey,
  VALUE_DETECTORS,
  validators as v,
} from '../../analyzers/pii/index.js';
import type { PiiHit } from '../../analyzers/pii/index.js';

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (h: unknown, c: unknown): string => `${b64url(h)}.${b64url(c)}.c2lnbmF0dXJlX2J5dGVz`;

function body(data: string, contentType: string | null = 'application/json') {
  return {
    size: data.length,
    decodedSize: null,
    contentType,
    contentEncoding: [],
    encoding: 'utf8' as const,
    data,
    truncated: false,
    complete: true,
  };
}
function ex(p: {
  target?: string;
  reqHeaders?: [string, string][];
  reqBody?: string;
  reqType?: string | null;
  resHeaders?: [string, string][];
  resBody?: string;
  resType?: string | null;
}): Exchange {
  return {
    schema: 'exchange/v1',
    id: 'x',
    flowId: 'f',
    seq: 0,
    vni: null,
    tunnel: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method: 'POST',
      target: p.target ?? '/',
      version: '1.1',
      headers: p.reqHeaders ?? [],
      trailers: [],
      body: body(p.reqBody ?? '', p.reqType ?? 'application/json'),
      startUs: 0,
      endUs: 1,
    },
    response: {
      status: 200,
      reason: 'OK',
      version: '1.1',
      headers: p.resHeaders ?? [],
      trailers: [],
      body: body(p.resBody ?? '', p.resType ?? 'application/json'),
      interim: [],
      startUs: 2,
      endUs: 3,
    },
    latencyUs: 1,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
    complete: true,
  };
}
const scanner = createPiiScanner({ secret: 'test-secret', defaultCountry: 'NL' });
const kinds = (hits: readonly PiiHit[]): string[] =>
  [...new Set(hits.map((h) => `${h.kind}@${h.location}:${h.field}`))].sort();

test('validators: known valid and invalid numbers', () => {
  assert.equal(v.luhn('4111111111111111'), true);
  assert.equal(v.luhn('4111111111111112'), false);
  assert.equal(v.validateCard('4012-8888-8888-1881'), 'valid');
  assert.equal(v.validateCard('4012-8888-8888-1882'), 'invalid');
  assert.equal(v.validateIban('NL91ABNA0417164300'), 'valid');
  assert.equal(v.validateIban('NL91ABNA0417164301'), 'invalid');
  assert.equal(v.validateBsn('123456782'), 'valid');
  assert.equal(v.validateBsn('123456789'), 'invalid');
  assert.equal(v.validateBsn('40645678'), 'valid');
  assert.equal(v.validateNhs('401 023 2137'), 'valid');
  assert.equal(v.validateNhs('401 023 2138'), 'invalid');
  assert.equal(v.validateSsn('078-05-1123'), 'valid');
  for (const bad of ['000-12-3456', '666-12-3456', '912-12-3456', '123-00-4567', '123-45-0000', '078051120'])
    assert.equal(v.validateSsn(bad), 'invalid', bad);
  assert.equal(v.validateSsn('693-09.4444'), 'n/a');
  assert.equal(v.validateNationalId('36574261809'), 'valid'); // DE Steuer-ID
  assert.equal(v.validateNationalId('RCCMNL83S18D969H'), 'valid'); // IT codice fiscale
  assert.equal(v.validateNationalId('2 95 10 99 126 111 93'), 'valid'); // FR NIR
  assert.equal(v.validateNationalId('54362315-K'), 'valid'); // ES DNI
  assert.equal(v.validateNationalId('HH012345D'), 'valid'); // UK NINO
  assert.equal(v.validateNationalId('44051401458', ['pl_pesel']), 'valid');
  assert.equal(v.validateNationalId('44051401459', ['pl_pesel']), 'invalid');
  assert.equal(v.validateEmail('jan@bedrijf.nl'), 'valid');
  assert.equal(v.validateEmail('a@co.uk'), 'invalid');
  // Documentation and test domains are still mailboxes (marked as examples by the detector).
  for (const e of [
    'a@example.com',
    'a@foo.test',
    'a@x.invalid',
    'a@host.localhost',
    'a@example.org',
    'a@example.co.uk',
  ]) {
    assert.equal(v.validateEmail(e), 'valid', e);
    assert.equal(v.isDocumentationEmail(e), true, e);
  }
  assert.equal(v.isDocumentationEmail('jan@bedrijf.nl'), false);
  assert.equal(v.isDocumentationEmail('jan@examples.com'), false);
  assert.equal(v.validatePhone('+31 6 12345678'), 'valid');
  assert.equal(v.validatePhone('0612345678'), 'n/a');
  assert.equal(v.validatePhone('0612345678', 'NL'), 'valid');
  assert.equal(v.validateIp('8.8.8.8'), 'valid');
  for (const ip of [
    '10.1.2.3',
    '192.168.0.1',
    '127.0.0.1',
    '172.16.5.4',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fd00::1',
    '2001:db8::1',
  ])
    assert.equal(v.validateIp(ip), 'invalid', ip);
  assert.equal(v.validateIp('2a00:1450:4001:80b::200e'), 'valid');
  assert.equal(v.validateNlPostcode('1234 AB'), 'valid');
  assert.equal(v.validateNlPostcode('1234 SS'), 'invalid');
  assert.equal(v.validateLatLong(52.3676, 4.9041, '52.3676', '4.9041'), 'valid');
  assert.equal(v.validateLatLong(52.37, 4.9, '52.37', '4.9'), 'n/a');
});

test('key tokeniser: token-wise, never substrings', () => {
  assert.deepEqual(tokenizeKey('customerEmailAddress'), ['customer', 'email', 'address']);
  assert.deepEqual(tokenizeKey('IPAddress'), ['ip', 'address']);
  assert.deepEqual(tokenizeKey('zip_code'), ['zip', 'code']);
  assert.deepEqual(tokenizeKey('x-api-key'), ['x', 'api', 'key']);
  assert.deepEqual(tokenizeKey('Straße'), ['strasse']);
  assert.equal(keyEvidence(['spinner']).positive.password, undefined);
  assert.equal(keyEvidence(['protein']).positive.national_id, undefined);
  assert.equal(keyEvidence(['pin']).positive.password, 1);
  assert.equal(keyEvidence(['zipCode']).positive.postcode, 1);
  assert.equal(keyEvidence(['ZIPCODE']).positive.postcode, 1);
  assert.equal(keyEvidence(['geboortedatum']).positive.date_of_birth, 1);
  assert.equal(keyEvidence(['customer', 'name']).positive.person_name, 1);
  assert.equal(keyEvidence(['product', 'name']).positive.person_name, undefined);
  assert.equal(keyEvidence(['passport', 'number']).positive.passport, 0.5);
  assert.equal(keyEvidence(['orderId']).negative, true);
  assert.equal(keyEvidence(['nationalId']).positive.national_id, 1);
});

test('hard negatives: ids, hashes, timestamps, Luhn-valid order numbers', () => {
  const reported = (val: string, key: string[]) =>
    detectValue(val, key).filter((c) => c.strength === 'strong' || c.keyHint);
  assert.deepEqual(reported('4539148803436467', ['orderId']), []);
  assert.equal(detectValue('4539148803436467', ['orderId']).length, 0, 'negative key drops weak card');
  assert.deepEqual(reported('123456789', ['id']), []); // fails elfproef anyway
  assert.deepEqual(
    detectValue('123456789', []).filter((c) => c.kind === 'bsn'),
    [],
  );
  assert.deepEqual(reported('550e8400-e29b-41d4-a716-446655440000', ['uuid']), []);
  assert.deepEqual(reported('d41d8cd98f00b204e9800998ecf8427e', ['hash']), []);
  assert.deepEqual(reported('1700000000', ['createdAt']), []);
  assert.deepEqual(reported('2024-01-01T10:00:00Z', ['timestamp']), []);
  assert.deepEqual(
    reported('1.2.3.4', ['version']).filter((c) => c.kind === 'ip_address'),
    [],
  );
  assert.deepEqual(reported('1000 MB', ['size']), []);
  assert.deepEqual(reported('Widget Pro', ['product', 'name']), []);
  assert.deepEqual(reported('********', ['password']), []);
  // weak without key: a bare elfproef-valid number is a weak candidate, not reported
  const bsn = detectValue('111222333', []);
  assert.ok(bsn.some((c) => c.kind === 'bsn' && c.strength === 'weak' && !c.keyHint));
  assert.ok(detectValue('111222333', ['bsn']).some((c) => c.kind === 'bsn' && c.keyHint));
});

test('documentation values are kept but marked example', () => {
  const c = detectValue('4111111111111111', ['cardNumber']).find((x) => x.kind === 'payment_card');
  assert.equal(c?.example, true);
  assert.equal(detectValue('NL91ABNA0417164300', []).find((x) => x.kind === 'iban')?.example, true);
  assert.equal(detectValue('AKIAIOSFODNN7EXAMPLE', []).find((x) => x.kind === 'api_key')?.example, true);
  // Emails at documentation domains: reported, as examples, at lower confidence than a real domain's.
  const doc = detectValue('jane.doe@example.com', ['email']).find((x) => x.kind === 'email');
  const real = detectValue('jane.doe@bedrijf.nl', ['email']).find((x) => x.kind === 'email');
  assert.equal(doc?.example, true);
  assert.equal(real?.example, false);
  assert.ok(doc !== undefined && real !== undefined && doc.confidence < real.confidence);
  assert.equal(detectValue('ops@staging.test', []).find((x) => x.kind === 'email')?.example, true);
});

test('JWT: header validated, alg none / no exp flagged, claims scanned', () => {
  const t = jwt({ alg: 'none', typ: 'JWT' }, { sub: '42', email: 'jan.jansen@bedrijf.nl' });
  const c = detectValue(t, ['token']);
  const j = c.find((x) => x.kind === 'jwt');
  assert.ok(j);
  assert.equal(j.validated, true);
  assert.deepEqual(j.details, { alg_none: true, no_exp: true, alg: 'none' });
  assert.ok(c.some((x) => x.kind === 'email' && x.via === '$.email'));
  const hits = scanner.scanExchange(ex({ reqHeaders: [['Authorization', `Bearer ${t}`]] }));
  assert.deepEqual(kinds(hits), ['email@request.header:authorization#jwt$.email', 'jwt@request.header:authorization']);
});

test('WebSocket handshake: the Sec-WebSocket-Key nonce is not a key; a token in Sec-WebSocket-Protocol is scanned', () => {
  const t = jwt({ alg: 'HS256', typ: 'JWT' }, { sub: '42', exp: 2000000000 });
  const hits = scanner.scanExchange(
    ex({
      reqHeaders: [
        ['Sec-WebSocket-Key', 'x3JJHMbDL1EzLkh9GBhXDw=='],
        ['Sec-WebSocket-Protocol', `graphql-ws, ${t}`],
      ],
      resHeaders: [['Sec-WebSocket-Accept', 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=']],
    }),
  );
  assert.ok(
    !kinds(hits).some((k) => k.includes('sec-websocket-key') || k.includes('sec-websocket-accept')),
    kinds(hits).join(),
  );
  assert.ok(
    kinds(hits).some((k) => k.startsWith('jwt@request.header:sec-websocket-protocol')),
    kinds(hits).join(),
  );
});

test('Basic auth: password and email user, never raw', () => {
  const cred = Buffer.from('jan@bedrijf.nl:Zomer2024!').toString('base64');
  const hits = scanner.scanExchange(ex({ reqHeaders: [['Authorization', `Basic ${cred}`]] }));
  assert.deepEqual(kinds(hits), ['email@request.header:authorization', 'password@request.header:authorization']);
  const json = JSON.stringify(hits);
  assert.ok(!json.includes('Zomer2024') && !json.includes('jan@bedrijf.nl'));
  for (const h of hits) assert.match(h.hash, /^[0-9a-f]{32}$/);
});

test('scanExchange: locations and normalised fields', () => {
  const hits = scanner.scanExchange(
    ex({
      target: '/users/jan%40bedrijf.nl/orders?iban=NL02ABNA0123456789&page=2',
      reqHeaders: [
        ['Cookie', 'sessionid=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c; theme=dark'],
        ['X-Forwarded-For', '8.8.4.4'],
      ],
      reqBody: JSON.stringify({
        customer: {
          name: 'Jan Jansen',
          bsn: '111222333',
          addresses: [{ postcode: '1234 AB', street: 'Dorpsstraat 1' }],
        },
        password: 'hunter2!',
        location: { lat: 52.37403, lng: 4.88969 },
      }),
      resHeaders: [['Set-Cookie', 'sid=Yk3Jm9Qx2Lp7Vr4Ts8Wn1Zc6; HttpOnly']],
      resBody: JSON.stringify({
        items: [{ phone: '+31 6 12345678', note: 'bel mij op +31 20 794 0911 of mail piet@voorbeeldbedrijf.nl' }],
        token: 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
      }),
    }),
  );
  const got = kinds(hits);
  for (const want of [
    'email@request.path:path[1]',
    'iban@request.query:iban',
    'session_token@request.cookie:sessionid',
    'ip_address@request.header:x-forwarded-for',
    'person_name@request.body:$.customer.name',
    'bsn@request.body:$.customer.bsn',
    'postcode@request.body:$.customer.addresses[*].postcode',
    'street_address@request.body:$.customer.addresses[*].street',
    'password@request.body:$.password',
    'geolocation@request.body:$.location',
    'session_token@response.cookie:sid',
    'phone@response.body:$.items[*].phone',
    'phone@response.body:$.items[*].note',
    'email@response.body:$.items[*].note',
    'api_key@response.body:$.token',
  ])
    assert.ok(got.includes(want), `missing ${want} in ${got.join(' ')}`);
  assert.ok(!got.some((g) => g.includes(':page')));
  assert.ok(!JSON.stringify(hits).includes('111222333'));
});

test('scanExchange: form bodies, text bodies, JSON in strings, base64 JSON', () => {
  const inner = Buffer.from(JSON.stringify({ email: 'kees@bedrijfsnaam.nl' })).toString('base64');
  const hits = scanner.scanExchange(
    ex({
      reqBody: 'username=kees&password=Geheim123%21&iban=DE89370400440532013000',
      reqType: 'application/x-www-form-urlencoded',
      resBody: JSON.stringify({ payload: JSON.stringify({ ssn: '078-05-1123' }), blob: inner }),
    }),
  );
  const got = kinds(hits);
  for (const want of [
    'password@request.body:password',
    'iban@request.body:iban',
    'us_ssn@response.body:$.payload.ssn',
    'email@response.body:$.blob#base64.email',
  ])
    assert.ok(got.includes(want), `missing ${want} in ${got.join(' ')}`);
  const t = scanner.scanExchange(
    ex({ resBody: 'contact: kees@bedrijfsnaam.nl, order 4539148803436467', resType: 'text/plain' }),
  );
  assert.deepEqual(kinds(t), ['email@response.body:$']);
});

test('aggregation: strong from one value, weak needs distinct validated values or a key hint', () => {
  const agg = createPiiFieldAggregator();
  const sc = createPiiScanner({ secret: 's' });
  const bsns = ['111222333', '123456782', '012345672', '100000009'];
  for (const [i, b] of bsns.entries()) {
    agg.add('h POST /a', sc.scanExchange(ex({ reqBody: JSON.stringify({ ref2: b }) })));
    if (i < 3)
      assert.deepEqual(
        agg.results('h POST /a').filter((r) => r.kind === 'bsn'),
        [],
        `labelled after ${i + 1}`,
      );
  }
  const r = agg.results('h POST /a').filter((x) => x.kind === 'bsn');
  assert.equal(r.length, 1);
  assert.equal(r[0]?.distinct, 4);
  agg.add(
    'h POST /b',
    sc.scanExchange(ex({ reqBody: JSON.stringify({ contact: 'jan@bedrijf.nl', bsn: '111222333' }) })),
  );
  assert.deepEqual(
    agg.results('h POST /b').map((x) => `${x.kind}:${x.field}`),
    ['bsn:$.bsn', 'email:$.contact'],
  );
  // negative key suppresses Luhn-valid order ids however many there are
  for (const o of ['4539148803436467', '4916338506082832', '4024007198964305', '4485275742308327', '4716461583322103'])
    agg.add('h GET /o', sc.scanExchange(ex({ resBody: JSON.stringify({ orderId: o }) })));
  assert.deepEqual(agg.results('h GET /o'), []);
  assert.deepEqual(agg.results('nope'), []);
  // pii.md: "all validate". Random 9-digit ids pass the elfproef about 1 in 11 times; the ones that fail
  // are reported as rejections, so the field is never labelled from values, however many pass.
  const ids = Array.from({ length: 120 }, (_, i) => String(100_000_000 + ((i * 7_919_773) % 899_999_999)));
  const passing = ids.filter((x) => v.validateBsn(x) === 'valid').length;
  assert.ok(passing >= 4, `${passing}`);
  for (const id of ids) agg.add('h GET /c', sc.scanExchange(ex({ resBody: JSON.stringify({ clientNumber: id }) })));
  assert.deepEqual(agg.results('h GET /c'), []);
  const rej = sc.scanExchange(ex({ resBody: JSON.stringify({ clientNumber: '123456789' }) }));
  assert.deepEqual(
    rej.map((h) => [h.kind, h.validated, h.detector, h.masked, h.hash]),
    [['bsn', false, 'checksum-rejected', '', '']],
  );
});

test('redos: every pattern stays fast on 100 KB adversarial input', () => {
  const inputs = [
    'a'.repeat(100_000),
    '1'.repeat(100_000),
    '1 '.repeat(50_000),
    'a@'.repeat(50_000),
    'a.'.repeat(50_000),
    ':'.repeat(100_000),
    '0:'.repeat(50_000),
    'eyJ'.repeat(33_000),
    'key='.repeat(25_000),
    'AB12 '.repeat(20_000),
    'x://a:'.repeat(16_000),
    '-----BEGIN PRIVATE KEY-----' + 'A'.repeat(99_000),
    'aaaa-'.repeat(20_000),
  ];
  const pats: RegExp[] = [
    ...SECRET_RULES.map((r) => r.pattern),
    ...VALUE_DETECTORS.flatMap((d) => (d.text ? [d.pattern, d.text] : [d.pattern])),
  ];
  for (const re of pats) {
    for (const s of inputs) {
      const t0 = performance.now();
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
      let n = 0;
      while (g.exec(s) !== null && n++ < 1000) if (g.lastIndex === 0) break;
      const ms = performance.now() - t0;
      assert.ok(ms < 1500, `${re.source.slice(0, 60)} took ${ms.toFixed(0)} ms on ${JSON.stringify(s.slice(0, 12))}`);
    }
  }
  const t0 = performance.now();
  for (const s of inputs) detectText(s);
  assert.ok(performance.now() - t0 < 10_000);
});

test('property: scanExchange never throws and never leaks the raw value', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string(), fc.string(), (j, s, h) => {
      const hits = scanner.scanExchange(
        ex({
          target: '/' + s,
          reqHeaders: [
            ['Authorization', h],
            ['Cookie', s],
          ],
          reqBody: JSON.stringify(j) ?? '',
          resBody: s,
          resType: null,
        }),
      );
      // Rejections (checksum failed) carry no value data at all.
      for (const x of hits) assert.match(x.hash, x.validated ? /^[0-9a-f]{32}$/ : /^$/);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      detectText(s);
      detectValue(s, ['password']);
    }),
    { numRuns: 500 },
  );
});

test('throughput: typical small JSON exchanges', () => {
  const e = ex({
    target: '/api/v1/users/12345?include=orders',
    reqHeaders: [
      ['Host', 'api.x.nl'],
      ['Authorization', 'Bearer ' + jwt({ alg: 'HS256' }, { sub: '1', exp: 1 })],
    ],
    resBody: JSON.stringify({
      id: 12345,
      name: 'Widget',
      price: 12.5,
      createdAt: '2024-01-01T00:00:00Z',
      tags: ['a', 'b'],
      owner: { email: 'jan@bedrijf.nl', id: 7 },
    }),
  });
  for (let i = 0; i < 200; i++) scanner.scanExchange(e);
  const n = 2000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) scanner.scanExchange(e);
  const perSec = n / ((performance.now() - t0) / 1000);
  console.log(`# throughput: ${Math.round(perSec)} exchanges/s`);
  assert.ok(perSec > 1000, `${Math.round(perSec)}/s`);
});

test('hits name their detector; details carry redacted facts only; token cache is transparent', () => {
  const t = jwt({ alg: 'none', typ: 'JWT' }, { sub: '42', email: 'jan.jansen@bedrijf.nl', iat: 1720000000 });
  const e = ex({
    reqHeaders: [['Authorization', `Bearer ${t}`]],
    resBody: JSON.stringify({ iban: 'DE89370400440532013000', token: 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' }),
  });
  const sc = createPiiScanner({ secret: 'k', defaultCountry: 'NL' });
  const first = sc.scanExchange(e);
  const byKind = new Map(first.map((h) => [h.kind, h]));
  assert.equal(byKind.get('jwt')?.detector, 'jwt');
  assert.deepEqual(byKind.get('jwt')?.details, { alg_none: true, no_exp: true, alg: 'none' });
  assert.equal(byKind.get('iban')?.detector, 'iban');
  assert.equal(byKind.get('iban')?.details, null);
  assert.equal(byKind.get('api_key')?.detector, 'github-pat');
  assert.equal(byKind.get('email')?.detector, 'email');
  for (const h of first) assert.equal(typeof h.detector, 'string');
  const json = JSON.stringify(first);
  for (const raw of [t, 'jan.jansen@bedrijf.nl', 'DE89370400440532013000', 'A1b2C3d4E5f6G7h8'])
    assert.ok(!json.includes(raw));
  // The second scan of the same bearer token is served from the HMAC-keyed cache: same hits.
  assert.deepEqual(sc.scanExchange(e), first);
  // A header alg that is not an algorithm name is not copied into details.
  const odd = jwt({ alg: 'jan@bedrijf.nl <x>' }, { sub: '1', scope: 'read write' });
  const h = sc.scanExchange(ex({ reqHeaders: [['Authorization', `Bearer ${odd}`]] })).find((x) => x.kind === 'jwt');
  assert.equal(h?.details?.['alg'], 'other');
});

test('identifiers: shapes are recognised, secrets and words are not', () => {
  const ids: [string, string][] = [
    ['CH' + 'a3f9c2e18b7d4f6a9e0c1b2d3e4f5a6b', 'prefixed-hex'],
    ['USR' + '0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'prefixed-hex'],
    ['cus_NffrFeUfNV2Hib', 'prefixed-object'],
    ['pi_3MtwBwLkdIwHu7ix28a3tqPa', 'prefixed-object'],
    ['seti_1Mm8s8LkdIwHu7ixYtGvmF3S', 'prefixed-object'],
    ['9b2f6c1e-3d4a-4f8b-a1c2-7e5d9f0a3b6c', 'uuid'],
    ['507f1f77bcf86cd799439011', 'hex'],
    ['d41d8cd98f00b204e9800998ecf8427e', 'hex'],
    ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'],
    ['sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'digest'],
    ['01ARZ3NDEKTSV4RRFFQ69G5FAV', 'ulid'],
    ['0ujtsYcgvSTl8PAuAdqWYSMnLOv', 'ksuid'],
  ];
  for (const [v, want] of ids) assert.equal(identifierShape(v), want, v);
  for (const v of [
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
    'npm_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
    'Yk3Jm9Qx2Lp7Vr4Ts8Wn1Zc6',
    'hello_world',
    'NL91ABNA0417164300',
  ])
    assert.equal(identifierShape(v), null, v);
});

test('identifiers: not api_key / session_token unless a prefix rule or a credential location says so', () => {
  const sid = 'CR' + '9f3a0c7be21d4a68b5f0e3c2a17d9b4e';
  const cred = (v: string, key: string[], where?: 'field' | 'credential' | 'path'): string[] =>
    detectValue(v, key, {}, where)
      .filter((c) => c.kind === 'api_key' || c.kind === 'session_token')
      .map((c) => `${c.kind}/${c.detector}`);
  // Resource ids under id keys, session-looking or credential-looking names, and as path parameters.
  for (const key of [
    ['account_sid'],
    ['sid'],
    ['RoleSid'],
    ['credential_sid'],
    ['credentials', 'sid'],
    ['tokenId'],
    ['session', 'userId'],
  ])
    assert.deepEqual(cred(sid, key), [], key.join('.'));
  assert.deepEqual(cred(sid, ['Credentials'], 'path'), []);
  assert.deepEqual(cred('9b2f6c1e-3d4a-4f8b-a1c2-7e5d9f0a3b6c', ['tokens'], 'path'), []);
  assert.deepEqual(cred('cus_NffrFeUfNV2Hib', ['credentials', 'customer']), []);
  assert.deepEqual(cred('credential_sid=' + sid, []), []);
  // A credential key that is not an id key keeps its value, whatever the shape (Heroku keys are UUIDs).
  assert.deepEqual(cred('9b2f6c1e-3d4a-4f8b-a1c2-7e5d9f0a3b6c', ['api_key']), ['api_key/generic-api-key']);
  assert.deepEqual(cred(sid, ['session']), ['session_token/session-key']);
  assert.deepEqual(cred('9b2f6c1e-3d4a-4f8b-a1c2-7e5d9f0a3b6c', ['sessionId']), ['session_token/session-key']);
  // Credential locations: cookies and Authorization.
  assert.deepEqual(cred(sid, ['sid'], 'credential'), ['session_token/session-key']);
  const hits = scanner.scanExchange(
    ex({
      reqHeaders: [
        ['Cookie', `sid=${sid}`],
        ['Authorization', `Bearer ${sid}`],
      ],
      resBody: JSON.stringify({ sid, account_sid: sid, credentials: [{ sid }] }),
    }),
  );
  assert.deepEqual(kinds(hits), ['session_token@request.cookie:sid', 'session_token@request.header:authorization']);
  // A prefixed secret rule wins over the id shape: Twilio API key SIDs (`SK` + 32 hex) are gitleaks' twilio-api-key.
  assert.deepEqual(cred('SK' + '9f3a0c7be21d4a68b5f0e3c2a17d9b4e', ['sid']), ['api_key/twilio-api-key']);
  // Non-identifier values under a bare `sid` (a session cookie name) stay session tokens.
  assert.deepEqual(cred('Yk3Jm9Qx2Lp7Vr4Ts8Wn1Zc6', ['sid']), ['session_token/session-key']);
});

test('sampling: settled fields are sampled deterministically, labels and leaked secrets survive', () => {
  const mk = (i: number, extra: Record<string, unknown> = {}): Exchange => {
    const e = ex({
      target: `/customers/${1000 + i}`,
      resBody: JSON.stringify({
        id: 1000 + i,
        status: 'ok',
        email: `klant${i}@bedrijf.nl`,
        note: `order ${i}`,
        ...extra,
      }),
    });
    return { ...e, id: `x${i}` };
  };
  const run = (keyed: boolean): { labels: string[]; hits: number; stats: unknown } => {
    const sc = createPiiScanner({ secret: 's', defaultCountry: 'NL', sampling: { saturation: 16, rate: 8 } });
    const agg = createPiiFieldAggregator();
    let hits = 0;
    for (let i = 0; i < 400; i++) {
      const h = keyed ? sc.scanExchange(mk(i), 'h GET /customers/{}') : sc.scanExchange(mk(i));
      hits += h.length;
      agg.add('k', h);
    }
    return { labels: agg.results('k').map((r) => `${r.kind}@${r.location}:${r.field}`), hits, stats: sc.stats?.() };
  };
  const full = run(false);
  const sampled = run(true);
  assert.deepEqual(sampled.labels, full.labels);
  assert.ok(sampled.hits < full.hits / 3, `${sampled.hits} vs ${full.hits}`);
  assert.deepEqual(run(true), sampled, 'deterministic');
  const st = sampled.stats as { valuesSampledOut: number; fieldsTracked: number };
  assert.ok(st.valuesSampledOut > 1000 && st.fieldsTracked >= 4, JSON.stringify(st));
  // A settled field: a value of a shape the field never had is scanned at once (a prefixed secret in a
  // field of short notes, a phone under a new key); a known shape is not (sampling.ts, rule 2).
  const sc = createPiiScanner({ secret: 's', sampling: { saturation: 4, rate: 1_000_000 } });
  for (let i = 10; i < 30; i++) sc.scanExchange(mk(i), 'k');
  const leak = sc.scanExchange(
    mk(31, { note: 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8', phone: '+31 6 12345678' }),
    'k',
  );
  assert.deepEqual(kinds(leak), ['api_key@response.body:$.note', 'phone@response.body:$.phone']);
  // Free text with a phone in a field of "order N" notes: a new shape, scanned at once.
  const e2 = sc.scanExchange(mk(32, { note: 'bel +31 20 794 0911' }), 'k');
  assert.deepEqual(kinds(e2), ['phone@response.body:$.note']);
  // Known shapes of settled fields are sampled at a decaying rate: most of these emails are not scanned.
  let scanned = 0;
  for (let i = 40; i < 440; i++) if (kinds(sc.scanExchange(mk(i), 'k')).length > 0) scanned++;
  assert.ok(scanned > 0 && scanned < 40, `${scanned} of 400 exchanges scanned`);
  // Without an endpoint key nothing is sampled.
  assert.ok(kinds(sc.scanExchange(mk(13))).includes('email@response.body:$.email'));
});
