import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { TlsHandshake } from '../../engine/contracts/tls.js';
import { TlsHandshake as TlsHandshakeSchema } from '../../engine/contracts/tls.js';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../http/connection.js';
import type { ConnectionMeta, Direction } from '../http/types.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';
import { createTlsBudget, DEFAULT_TLS_OPTIONS, startsTls, type TlsOptions } from './connection.js';
import { withTls } from './tap.js';
import {
  alpnExt,
  appData,
  ccs,
  certificateMsg,
  clientHello,
  HRR_RANDOM,
  keyShareExt,
  records,
  serverHello,
  serverHelloDone,
  sniExt,
  versionsExtClient,
  versionsExtServer,
} from './testing.js';

const META: ConnectionMeta = {
  flowId: 'f1',
  vni: null,
  tunnel: null,
  client: { ip: '10.0.0.2', port: 50000 },
  server: { ip: '10.0.0.1', port: 443 },
  handshake: true,
};

type Flight = [Direction, Buffer];

/** Feeds the flights in order, each cut at `cuts` (relative positions in [0,1)), through the real HTTP+TLS tap; one packet time per flight. */
function run(
  flights: readonly Flight[],
  cuts: readonly number[] = [],
  opts: TlsOptions = DEFAULT_TLS_OPTIONS,
): { recs: TlsHandshake[]; counters: Counters; exchanges: number } {
  const counters = new Counters();
  const recs: TlsHandshake[] = [];
  let exchanges = 0;
  const conn = withTls(
    META,
    createHttpConnection(META, DEFAULT_HTTP_OPTIONS, () => exchanges++, counters),
    opts,
    (r) => recs.push(r),
    counters,
  );
  let t = 1_000_000;
  for (const [dir, bytes] of flights) {
    const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))]
      .filter((p) => p > 0)
      .sort((a, b) => a - b);
    let prev = 0;
    for (const p of [...points, bytes.length]) {
      if (p > prev) conn.onData(dir, bytes.subarray(prev, p), t);
      prev = p;
    }
    t += 1000; // one packet time per flight: the records must not depend on how a flight was segmented
  }
  conn.onEnd(t, 'fin', false);
  return { recs, counters, exchanges };
}

/** Real DER certificates made by openssl: an RSA leaf (SANs) signed by an EC CA; null without openssl. */
function opensslCerts(): { leaf: Buffer; ca: Buffer } | null {
  const d = mkdtempSync(join(tmpdir(), 't14-unit-'));
  try {
    const sh = (...args: string[]): void => void execFileSync('openssl', args, { cwd: d, stdio: 'ignore' });
    writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=DNS:api.unit.test,DNS:*.svc.unit.test\n');
    sh('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'ca.key');
    sh('req', '-x509', '-key', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Unit CA', '-days', '30');
    sh('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=api.unit.test');
    sh(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-days',
      '20',
      '-out',
      'leaf.pem',
      '-extfile',
      'ext.cnf',
    );
    const der = (f: string): Buffer =>
      Buffer.from(
        readFileSync(join(d, f), 'utf8')
          .replace(/-----[^-]+-----/g, '')
          .replace(/\s+/g, ''),
        'base64',
      );
    return { leaf: der('leaf.pem'), ca: der('ca.pem') };
  } catch {
    return null;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const CERTS = opensslCerts();
const NO_OPENSSL = CERTS === null ? 'openssl is not installed' : false;

const CH13 = clientHello({
  ciphers: [0x0a0a, 0x1301, 0x1302, 0xc02f],
  extensions: [
    sniExt('API.Example.test'),
    alpnExt(['h2', 'http/1.1']),
    versionsExtClient([0x1a1a, 0x0304, 0x0303]),
    keyShareExt(0x11ec, 1216), // X25519MLKEM768: a post-quantum hybrid share
  ],
});
const SH13 = serverHello({ cipher: 0x1301, extensions: [versionsExtServer(0x0304)] });

describe('TLS handshake parser', () => {
  it('TLS 1.3: SNI, ALPN offered, supported_versions, GREASE left out; encrypted records skipped', () => {
    const { recs, counters, exchanges } = run([
      [0, records(22, CH13)],
      [1, Buffer.concat([records(22, SH13), ccs(), appData(3000)])],
      [0, Buffer.concat([ccs(), appData(200)])],
      [1, appData(5000)],
    ]);
    assert.equal(exchanges, 0);
    assert.equal(recs.length, 1);
    const r = TlsHandshakeSchema.parse(recs[0]);
    assert.equal(r.sni, 'api.example.test');
    assert.deepEqual(r.versionsOffered, [0x0304, 0x0303]);
    assert.equal(r.version, 0x0304);
    assert.deepEqual(r.alpnOffered, ['h2', 'http/1.1']);
    assert.equal(r.alpn, null);
    assert.deepEqual(r.ciphersOffered, [0x1301, 0x1302, 0xc02f]);
    assert.equal(r.cipher, 0x1301);
    assert.equal(r.certificates, null);
    assert.deepEqual(r.anomalies, []);
    assert.equal(r.complete, true);
    assert.deepEqual(r.client, META.client);
    assert.equal(counters.get('tls_encrypted_bytes') > 8000, true);
  });

  it('HelloRetryRequest: CCS before the second ClientHello does not stop parsing', () => {
    const hrr = serverHello({ random: HRR_RANDOM, cipher: 0x1301, extensions: [versionsExtServer(0x0304)] });
    const { recs, counters } = run([
      [0, records(22, CH13)],
      [1, Buffer.concat([records(22, hrr), ccs()])],
      [0, Buffer.concat([ccs(), records(22, CH13)])],
      [1, Buffer.concat([records(22, SH13), appData(100)])],
    ]);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.helloRetry, true);
    assert.equal(recs[0]?.version, 0x0304);
    assert.equal(counters.get('tls_client_hellos'), 2);
    assert.equal(counters.get('tls_hello_retries'), 1);
  });

  it('server flight seen before the ClientHello direction: orientation comes from the hellos', () => {
    const { recs } = run([
      [1, records(22, CH13)],
      [0, records(22, SH13)],
    ]);
    assert.deepEqual(recs[0]?.client, META.server);
    assert.deepEqual(recs[0]?.server, META.client);
  });

  it('SSLv2-compatible ClientHello is counted and ignored', () => {
    // RFC 5246 E.2: msg_length with the top bit, msg_type 1, version 3.1, spec/session/challenge lengths.
    const v2 = Buffer.from(
      '802e0103010015000000100700c00500800300800100800600400400800200800a0b0c0d0e0f101112131415161718191a',
      'hex',
    );
    assert.equal(startsTls(v2), true);
    const { recs, counters } = run([
      [0, v2],
      [1, records(22, serverHello({ version: 0x0301, cipher: 0x0005 }))],
    ]);
    assert.equal(counters.get('tls_sslv2_client_hello'), 1);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.version, 0x0301);
    assert.deepEqual(recs[0]?.anomalies, ['tls_no_client_hello']);
  });

  it('bounded: a handshake over maxHandshakeBytes stops the direction and is counted', () => {
    const { recs, counters } = run([[0, records(22, CH13)]], [], { ...DEFAULT_TLS_OPTIONS, maxHandshakeBytes: 512 });
    assert.equal(counters.get('tls_handshake_overflow'), 1);
    assert.equal(recs[0]?.anomalies.includes('tls_handshake_overflow'), true);
    assert.equal(recs[0]?.sni, null);
  });

  it('bounded in total: incomplete messages of all connections share one budget, released at the end', () => {
    const counters = new Counters();
    const held = 2000 - CH13.length; // the start of the second ClientHello, after the first 2000-byte record
    const budget = createTlsBudget(held + 10);
    const recs: TlsHandshake[] = [];
    const conns = [1, 2].map((i) => {
      const meta = { ...META, flowId: `f${i}` };
      const http = createHttpConnection(meta, DEFAULT_HTTP_OPTIONS, () => {}, counters);
      return withTls(meta, http, DEFAULT_TLS_OPTIONS, (r) => recs.push(r), counters, budget);
    });
    // Two ClientHellos (~1.4 KiB each) in 2000-byte records: after the first record, the second message's start is held.
    const big = records(22, Buffer.concat([CH13, CH13]), 2000);
    for (const c of conns) c.onData(0, big.subarray(0, 2005), 1);
    assert.equal(counters.get('tls_budget_exceeded'), 1);
    assert.equal(budget.held, held);
    for (const c of conns) c.onEnd(2, 'fin', false);
    assert.equal(budget.held, 0);
    assert.deepEqual(
      recs.map((r) => r.anomalies.includes('tls_budget_exceeded')),
      [false, true],
    );
  });

  it('a gap before the handshake ended stops the direction (tls_gap)', () => {
    const counters = new Counters();
    const recs: TlsHandshake[] = [];
    const conn = withTls(
      META,
      createHttpConnection(META, DEFAULT_HTTP_OPTIONS, () => {}, counters),
      DEFAULT_TLS_OPTIONS,
      (r) => recs.push(r),
      counters,
    );
    const ch = records(22, CH13);
    conn.onData(0, ch.subarray(0, 100), 1);
    conn.onGap(0, 50, 2);
    conn.onData(0, ch.subarray(150), 3);
    conn.onEnd(4, 'fin', true);
    assert.deepEqual(recs[0]?.anomalies, ['tls_gap', 'tls_no_client_hello', 'tls_no_server_hello']);
  });

  it('TLS inside an HTTP CONNECT tunnel: the exchange and the handshake record', () => {
    const { recs, counters, exchanges } = run([
      [0, Buffer.from('CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n')],
      [1, Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n')],
      [0, records(22, CH13)],
      [1, Buffer.concat([records(22, SH13), ccs(), appData(500)])],
    ]);
    assert.equal(exchanges, 1);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.sni, 'api.example.test');
    assert.equal(recs[0]?.version, 0x0304);
    assert.equal(counters.get('tls_late_start'), 2);
  });

  it('STARTTLS: TLS after a plaintext exchange (SMTP, RFC 3207)', () => {
    const { recs } = run([
      [1, Buffer.from('220 mx.example.test ESMTP\r\n')],
      [0, Buffer.from('EHLO c\r\n')],
      [1, Buffer.from('250-mx.example.test\r\n250 STARTTLS\r\n')],
      [0, Buffer.from('STARTTLS\r\n')],
      [1, Buffer.from('220 Ready to start TLS\r\n')],
      [0, records(22, CH13)],
      [1, records(22, SH13)],
    ]);
    assert.equal(recs.length, 1);
    assert.equal(recs[0]?.complete, true);
    assert.deepEqual(recs[0]?.client, META.client);
  });

  it('plain HTTP connections get no TLS parser at all', () => {
    const { recs, counters, exchanges } = run([
      [0, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')],
      [1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
    ]);
    assert.equal(exchanges, 1);
    assert.equal(recs.length, 0);
    assert.equal(counters.get('tls_connections'), 0);
  });
});

describe('TLS <= 1.2 server flight layouts', { skip: NO_OPENSSL }, () => {
  const { leaf, ca } = CERTS ?? { leaf: Buffer.alloc(0), ca: Buffer.alloc(0) };
  const ch = clientHello({ ciphers: [0xc02f, 0x009c], extensions: [sniExt('x.svc.unit.test'), alpnExt(['http/1.1'])] });
  const sh = serverHello({ cipher: 0xc02f, extensions: [alpnExt(['http/1.1'])] });
  const msgs = Buffer.concat([sh, certificateMsg([leaf, ca]), serverHelloDone()]);
  const layouts: Record<string, Buffer> = {
    'one record per message': Buffer.concat([
      records(22, sh),
      records(22, certificateMsg([leaf, ca])),
      records(22, serverHelloDone()),
    ]),
    'several messages in one record': records(22, msgs),
    'messages split across 7-byte records': records(22, msgs, 7),
    'messages split across 300-byte records': records(22, msgs, 300),
  };
  const flights = (server: Buffer): Flight[] => [
    [0, records(22, ch)],
    [1, Buffer.concat([server, ccs(), records(22, Buffer.alloc(40, 9))])],
  ];
  const expected = run(flights(layouts['one record per message'] as Buffer)).recs;

  it('the chain is parsed with X509Certificate: subject, SANs, issuer, validity, key, signature, serial, sha256', () => {
    const r = expected[0];
    assert.ok(r !== undefined && r.certificates !== null);
    assert.equal(r.certificates.length, 2);
    const [c0, c1] = r.certificates;
    assert.equal(c0?.subject, 'CN=api.unit.test');
    assert.equal(c0?.issuer, 'CN=Unit CA');
    assert.deepEqual(c0?.sans, ['DNS:api.unit.test', 'DNS:*.svc.unit.test']);
    assert.equal(c0?.keyType, 'rsa');
    assert.equal(c0?.keyBits, 2048);
    assert.equal(c0?.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(c0?.ca, false);
    const x = new X509Certificate(leaf);
    assert.equal(c0?.sha256, x.fingerprint256);
    assert.equal(c0?.serial, x.serialNumber.toUpperCase());
    assert.equal(Date.parse(c0?.validTo ?? ''), Date.parse(x.validTo));
    assert.equal(c1?.keyType, 'ec');
    assert.equal(c1?.curve, 'prime256v1');
    assert.equal(c1?.keyBits, 256);
    assert.equal(r.alpn, 'http/1.1');
    assert.equal(r.version, 0x0303);
    assert.equal(r.cipher, 0xc02f);
  });

  for (const [name, bytes] of Object.entries(layouts)) {
    it(`${name}: the same record`, () => {
      assert.deepEqual(run(flights(bytes)).recs, expected);
    });
  }

  it('property: the same bytes at random split points give identical records', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(layouts)),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { maxLength: 40 }),
        (bytes, cuts) => {
          assert.deepEqual(run(flights(bytes), cuts).recs, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('TLS parser robustness', () => {
  it('property: random bytes after a TLS-looking start never throw and emit at most one valid record', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { maxLength: 10 }),
        (a, b, cuts) => {
          const { recs, counters } = run(
            [
              [0, Buffer.concat([Buffer.from([22, 3, 1]), Buffer.from(a)])],
              [1, Buffer.concat([Buffer.from([22, 3, 3]), Buffer.from(b)])],
            ],
            cuts,
          );
          assert.equal(recs.length, 1);
          TlsHandshakeSchema.parse(recs[0]);
          assert.equal(counters.get('tls_internal_error'), 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: mutated real handshakes never throw', () => {
    const base = Buffer.concat([records(22, CH13)]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (muts) => {
          const b = Buffer.from(base);
          for (const [i, v] of muts) b[i] = v;
          const { counters } = run([
            [0, b],
            [1, records(22, SH13)],
          ]);
          assert.equal(counters.get('tls_internal_error'), 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

it("the tap reports the HTTP layer's state bytes (the flow table's byte bound sees them)", () => {
  const counters = new Counters();
  const http = createHttpConnection(META, DEFAULT_HTTP_OPTIONS, () => {}, counters);
  const conn = withTls(META, http, DEFAULT_TLS_OPTIONS, () => {}, counters);
  conn.onData(0, Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 5000\r\n\r\n' + 'x'.repeat(3000)), 1);
  const bytes = http.stateBytes?.() ?? 0;
  assert.ok(bytes > 3000, `HTTP state ${bytes}`);
  assert.equal(conn.stateBytes?.(), bytes);
});
