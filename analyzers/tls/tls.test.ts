import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Finding } from '../../engine/contracts/inventory.js';
import type { TlsCertificate, TlsHandshake } from '../../engine/contracts/tls.js';
import { TlsEndpoint } from '../../engine/contracts/tls.js';
import { createCleartextTracker, credentialKinds, isLoopback } from './cleartext.js';
import { createTlsInventory } from './inventory.js';
import { certificateCovers, matchesDnsId } from './names.js';
import { suiteName, versionName, WEAK_SUITES } from './suites.js';

const T0 = Date.parse('2026-06-01T00:00:00Z') * 1000;

function cert(over: Partial<TlsCertificate> = {}): TlsCertificate {
  return {
    subject: 'CN=api.example.test',
    issuer: 'CN=CA',
    sans: ['DNS:api.example.test', 'DNS:*.svc.example.test'],
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2027-01-01T00:00:00Z',
    keyType: 'rsa',
    keyBits: 2048,
    curve: null,
    signatureAlgorithm: 'sha256WithRSAEncryption',
    serial: '01',
    sha256: 'AA:01',
    ca: false,
    ...over,
  };
}

function rec(over: Partial<TlsHandshake> = {}): TlsHandshake {
  return {
    schema: 'tls/v1',
    id: 'x',
    flowId: 'f',
    vni: null,
    client: { ip: '10.0.0.2', port: 40000 },
    server: { ip: '10.0.0.1', port: 443 },
    timeUs: T0,
    sni: 'api.example.test',
    versionsOffered: [0x0304, 0x0303],
    version: 0x0303,
    alpnOffered: ['h2'],
    alpn: 'h2',
    ciphersOffered: [0xc02f],
    cipher: 0xc02f,
    helloRetry: false,
    certificates: [cert()],
    anomalies: [],
    complete: true,
    ...over,
  };
}

const kinds = (fs: readonly Finding[]): string[] => fs.map((f) => f.kind).sort();

describe('RFC 9525 name matching', () => {
  it('wildcards cover exactly one left-most label', () => {
    assert.equal(matchesDnsId('a.svc.example.test', '*.svc.example.test'), true);
    assert.equal(matchesDnsId('A.SVC.example.test.', '*.svc.example.test'), true);
    assert.equal(matchesDnsId('svc.example.test', '*.svc.example.test'), false);
    assert.equal(matchesDnsId('a.b.svc.example.test', '*.svc.example.test'), false);
    assert.equal(matchesDnsId('foo.test', '*.test'), false); // at least two labels after the wildcard
    assert.equal(matchesDnsId('fa.example.test', 'f*.example.test'), false); // partial wildcard
    assert.equal(matchesDnsId('a.b.example.test', 'a.*.example.test'), false);
    assert.equal(matchesDnsId('api.example.test', 'api.example.test'), true);
  });
  it('CN only when there is no DNS SAN', () => {
    assert.equal(certificateCovers('old.test', [], 'CN=old.test, O=X'), true);
    assert.equal(certificateCovers('old.test', ['DNS:new.test'], 'CN=old.test'), false);
    assert.equal(certificateCovers('1.2.3.4', ['IP Address:1.2.3.4'], 'CN=x'), false);
  });
});

describe('suites', () => {
  it('names and weak reasons by code point', () => {
    assert.equal(suiteName(0x1301), 'TLS_AES_128_GCM_SHA256');
    assert.equal(suiteName(0xfefe), '0xFEFE');
    assert.equal(versionName(0x0301), 'TLS 1.0');
    assert.deepEqual(WEAK_SUITES.get(0x0003), ['export', 'rc4']);
    assert.deepEqual(WEAK_SUITES.get(0x000a), ['3des']);
    assert.deepEqual(WEAK_SUITES.get(0x00a6), ['anonymous']);
    assert.deepEqual(WEAK_SUITES.get(0xc010), ['null']);
    assert.equal(WEAK_SUITES.has(0xc02f), false);
    for (const id of WEAK_SUITES.keys()) assert.doesNotMatch(suiteName(id), /^0x/, `weak suite ${id} has a name`);
  });
});

describe('TLS inventory and findings', () => {
  it('aggregates per (server, port, sni), independent of record order', () => {
    const recs = [
      rec(),
      rec({ timeUs: T0 + 5, version: 0x0304, cipher: 0x1301, alpn: null, certificates: null }),
      rec({ sni: null, certificates: null }),
      rec({ server: { ip: '10.0.0.9', port: 8443 }, timeUs: T0 - 7 }),
    ];
    const a = createTlsInventory();
    const b = createTlsInventory();
    for (const r of recs) a.observe(r);
    for (const r of [...recs].reverse()) b.observe(r);
    assert.deepEqual(a.entries(), b.entries());
    assert.deepEqual(a.findings(), b.findings());
    const es = a.entries();
    for (const e of es) TlsEndpoint.parse(e);
    assert.deepEqual(
      es.map((e) => [e.server, e.port, e.sni, e.connections]),
      [
        ['10.0.0.1', 443, null, 1],
        ['10.0.0.1', 443, 'api.example.test', 2],
        ['10.0.0.9', 8443, 'api.example.test', 1],
      ],
    );
    const e = es[1] as (typeof es)[number];
    assert.deepEqual(e.versions, ['TLS 1.2', 'TLS 1.3']);
    assert.deepEqual(e.cipher, ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']);
    assert.deepEqual(e.alpn, ['h2']);
    assert.equal(e.certificate?.sha256, 'AA:01');
    assert.deepEqual(e.certificate?.chain, ['CN=api.example.test']);
    assert.deepEqual(a.findings(), []);
  });

  it('weak_tls for TLS 1.0/1.1 and weak suites; severity by the worst', () => {
    const inv = createTlsInventory();
    inv.observe(rec({ version: 0x0301, cipher: 0x002f }));
    inv.observe(rec({ sni: 'b.example.test', version: 0x0303, cipher: 0x000a }));
    inv.observe(rec({ sni: 'c.example.test', version: 0x0303, cipher: 0x00a6, certificates: null }));
    const fs = inv.findings().filter((f) => f.kind === 'weak_tls');
    assert.deepEqual(
      fs.map((f) => [f.host, f.severity]),
      [
        ['api.example.test', 'medium'],
        ['b.example.test', 'medium'],
        ['c.example.test', 'high'],
      ],
    );
    for (const f of fs) Finding.parse(f);
    assert.match(fs[2]?.evidence ?? '', /TLS_DH_anon_WITH_AES_128_GCM_SHA256 \(anonymous\)/);
  });

  it('certificate expired / expiring (configurable) judged at packet time; name mismatch', () => {
    const inv = createTlsInventory({ expiringDays: 30 });
    const at = (iso: string): number => Date.parse(iso) * 1000;
    inv.observe(
      rec({
        sni: 'old.example.test',
        certificates: [cert({ sha256: 'E1', validTo: '2026-05-01T00:00:00Z', sans: ['DNS:old.example.test'] })],
      }),
    );
    inv.observe(
      rec({
        sni: 'soon.example.test',
        certificates: [cert({ sha256: 'E2', validTo: '2026-06-11T00:00:00Z', sans: ['DNS:soon.example.test'] })],
      }),
    );
    inv.observe(rec({ sni: 'wrong.example.test', certificates: [cert({ sha256: 'E3' })] }));
    inv.observe(rec({ sni: 'x.svc.example.test', certificates: [cert({ sha256: 'E4' })] }));
    const fs = inv.findings();
    assert.deepEqual(
      fs.map((f) => [f.host, f.kind]),
      [
        ['old.example.test', 'certificate_expired'],
        ['soon.example.test', 'certificate_expiring'],
        ['wrong.example.test', 'certificate_name_mismatch'],
      ],
    );
    assert.equal(fs[1]?.details['daysLeft'], 10);
    assert.equal(fs[1]?.severity, 'low');
    // With a 5-day threshold the 10-day certificate is fine.
    const strict = createTlsInventory({ expiringDays: 5 });
    strict.observe(
      rec({
        sni: 'soon.example.test',
        certificates: [cert({ validTo: '2026-06-11T00:00:00Z', sans: ['DNS:soon.example.test'] })],
      }),
    );
    assert.deepEqual(strict.findings(), []);
    // Same capture later in packet time: the expiring certificate has expired.
    const later = createTlsInventory();
    later.observe(
      rec({
        timeUs: at('2026-07-01T00:00:00Z'),
        sni: 'soon.example.test',
        certificates: [cert({ validTo: '2026-06-11T00:00:00Z', sans: ['DNS:soon.example.test'] })],
      }),
    );
    assert.deepEqual(kinds(later.findings()), ['certificate_expired']);
  });

  it('records without any hello (not TLS after all) are counted, not listed', () => {
    const inv = createTlsInventory();
    inv.observe(
      rec({
        sni: null,
        versionsOffered: [],
        version: null,
        cipher: null,
        alpn: null,
        certificates: null,
        complete: false,
      }),
    );
    assert.deepEqual(inv.entries(), []);
    assert.equal(inv.stats()['tls_records_without_hello'], 1);
  });

  it('finding ids are deterministic and distinct per server', () => {
    const mk = (): Finding[] => {
      const inv = createTlsInventory();
      inv.observe(rec({ version: 0x0302 }));
      inv.observe(rec({ version: 0x0302, server: { ip: '10.0.0.3', port: 443 } }));
      return inv.findings();
    };
    const a = mk();
    assert.deepEqual(a, mk());
    assert.equal(new Set(a.map((f) => f.id)).size, 2);
  });
});

function ex(over: {
  client?: string;
  server?: string;
  headers?: [string, string][];
  target?: string;
  body?: string;
  ct?: string;
}): Exchange {
  const body = over.body ?? '';
  return {
    schema: 'exchange/v1',
    id: 'e',
    flowId: 'f',
    seq: 0,
    vni: null,
    client: { ip: over.client ?? '10.0.0.2', port: 40000 },
    server: { ip: over.server ?? '10.0.0.1', port: 80 },
    request: {
      method: 'POST',
      target: over.target ?? '/login',
      version: 'HTTP/1.1',
      headers: [['Host', 'api.example.test'], ...(over.headers ?? [])],
      trailers: [],
      body: {
        size: body.length,
        decodedSize: body.length,
        contentType: over.ct ?? null,
        contentEncoding: [],
        encoding: 'utf8',
        data: body,
        truncated: false,
        complete: true,
      },
      startUs: T0,
      endUs: T0 + 1,
    },
    response: null,
    latencyUs: null,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
    complete: false,
  };
}

describe('cleartext_credentials', () => {
  it('classifies credential kinds without keeping values', () => {
    assert.deepEqual(credentialKinds(ex({ headers: [['Authorization', 'Basic dXNlcjpwYXNz']] })), ['basic']);
    assert.deepEqual(credentialKinds(ex({ headers: [['X-API-Key', 'k']] })), ['api_key']);
    assert.deepEqual(credentialKinds(ex({ headers: [['Cookie', 'sessionid=abc; theme=dark']] })), ['session_cookie']);
    assert.deepEqual(
      credentialKinds(ex({ body: 'user=a&password=hunter2', ct: 'application/x-www-form-urlencoded' })),
      ['password'],
    );
    assert.deepEqual(credentialKinds(ex({ body: '{"user":{"name":"a","pwd":"x"}}', ct: 'application/json' })), [
      'password',
    ]);
    assert.deepEqual(credentialKinds(ex({ body: '{"password":""}', ct: 'application/json' })), []);
    assert.deepEqual(credentialKinds(ex({ headers: [['Cookie', 'theme=dark']] })), []);
  });

  it('loopback never, non-loopback always; severity by kind; nothing secret in the finding', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('::ffff:127.0.0.5'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    const t = createCleartextTracker();
    t.observe(
      ex({ client: '127.0.0.1', server: '127.0.0.1', headers: [['Authorization', 'Basic dXNlcjpwYXNz']] }),
      'h',
      'POST',
      '/login',
    );
    assert.deepEqual(t.findings(), []);
    t.observe(ex({ headers: [['Authorization', 'Basic dXNlcjpwYXNz']] }), 'h', 'POST', '/login');
    t.observe(ex({ headers: [['Authorization', 'Bearer abc.def']] }), 'h', 'GET', '/me');
    t.observe(ex({ headers: [['Authorization', 'Digest username="a"']] }), 'h', 'GET', '/d');
    const fs = t.findings();
    assert.deepEqual(
      fs.map((f) => [f.path, f.details['credential'], f.severity]),
      [
        ['/d', 'digest', 'low'],
        ['/login', 'basic', 'critical'],
        ['/me', 'bearer', 'high'],
      ],
    );
    for (const f of fs) {
      Finding.parse(f);
      assert.doesNotMatch(JSON.stringify(f), /dXNlcjpwYXNz|abc\.def/);
    }
    const again = createCleartextTracker();
    again.restore(fs);
    assert.deepEqual(again.findings(), fs, 'restore from stored findings gives them back exactly');
    t.forget(['h']);
    assert.deepEqual(t.findings(), []);
  });
});
