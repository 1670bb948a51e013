// TLS layer cost per connection, through the real HTTP + TLS tap (collectors/tls/tap.ts).
//   node --import tsx test/bench/tls.bench.ts
//
// Workload per connection: a ClientHello (SNI, ALPN, supported_versions, a 1216-byte X25519MLKEM768
// key share), the server's cleartext flight, then 20 encrypted records of 1400 B alternating
// directions. Three scenarios: plain HTTP layer only (the TLS bytes are recognised and skipped),
// TLS 1.3 with the tap, TLS 1.2 with a 2048-bit RSA certificate (made by openssl here).
//
// Measured 2026-12-03, Node 20.20, 2 cores under load average 15-20 (other engineers' jobs):
//   HTTP layer only, TLS 1.3 flight: 10,900 connections/s; with the tap 7,300 connections/s;
//   TLS 1.2 + certificate: 526 connections/s before the certificate summary cache (X509Certificate
//   1.9 ms per certificate), 6,060 connections/s with it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../../collectors/http/connection.js';
import type { HttpConnection } from '../../collectors/http/types.js';
import { DEFAULT_HTTP_OPTIONS } from '../../collectors/http/types.js';
import { DEFAULT_TLS_OPTIONS } from '../../collectors/tls/connection.js';
import { withTls } from '../../collectors/tls/tap.js';
import {
  alpnExt,
  appData,
  ccs,
  certificateMsg,
  clientHello,
  keyShareExt,
  records,
  serverHello,
  serverHelloDone,
  sniExt,
  versionsExtClient,
  versionsExtServer,
} from '../../collectors/tls/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'apitap-tls-bench-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'k.pem',
    '-out',
    'c.pem',
    '-days',
    '30',
    '-subj',
    '/CN=bench.test',
  ],
  { cwd: dir, stdio: 'ignore' },
);
const der = Buffer.from(
  readFileSync(join(dir, 'c.pem'), 'utf8')
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, ''),
  'base64',
);
rmSync(dir, { recursive: true, force: true });

const ch = records(
  22,
  clientHello({
    extensions: [
      sniExt('api.bench.test'),
      alpnExt(['h2', 'http/1.1']),
      versionsExtClient([0x0304, 0x0303]),
      keyShareExt(0x11ec, 1216),
    ],
  }),
);
const sh13 = Buffer.concat([
  records(22, serverHello({ cipher: 0x1301, extensions: [versionsExtServer(0x0304)] })),
  ccs(),
  appData(2000),
]);
const sh12 = records(22, Buffer.concat([serverHello({ cipher: 0xc02f }), certificateMsg([der]), serverHelloDone()]));
const app = appData(1400);

function bench(name: string, server: Buffer, tap: boolean, n = 20_000): void {
  const counters = new Counters();
  let recs = 0;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const meta = {
      flowId: `f${i}`,
      vni: null,
      tunnel: null,
      client: { ip: '10.0.0.2', port: 40000 },
      server: { ip: '10.0.0.1', port: 443 },
      handshake: true,
    };
    const http = createHttpConnection(meta, DEFAULT_HTTP_OPTIONS, () => {}, counters);
    const c: HttpConnection = tap ? withTls(meta, http, DEFAULT_TLS_OPTIONS, () => recs++, counters) : http;
    c.onData(0, ch, 1);
    c.onData(1, server, 2);
    for (let k = 0; k < 20; k++) c.onData(k & 1 ? 1 : 0, app, 3 + k);
    c.onEnd(100, 'fin', false);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(
    `${name}: ${n} connections in ${ms.toFixed(0)} ms, ${((n / ms) * 1000).toFixed(0)} connections/s, ${recs} records`,
  );
}

bench('HTTP layer only, TLS 1.3 flight', sh13, false);
bench('TLS 1.3 with the tap', sh13, true);
bench('TLS 1.2 + RSA certificate with the tap', sh12, true);
