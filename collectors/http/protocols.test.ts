// Connections that are not HTTP/1.x at all (HTTPS, SSH) are recognised from their first bytes per
// direction, counted as statistics, and neither parsed nor scanned for start lines; an HTTP server's
// answer to a TLS client is still parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from './connection.js';
import { DEFAULT_HTTP_OPTIONS } from './types.js';

function conn(): { c: ReturnType<typeof createHttpConnection>; out: Exchange[]; counters: Counters } {
  const out: Exchange[] = [];
  const counters = new Counters();
  const c = createHttpConnection(
    {
      flowId: 'f',
      vni: null,
      tunnel: null,
      client: { ip: '10.0.0.1', port: 50000 },
      server: { ip: '10.0.0.2', port: 443 },
      handshake: true,
    },
    DEFAULT_HTTP_OPTIONS,
    (e) => out.push(e),
    counters,
  );
  return { c, out, counters };
}

const tlsRecord = (type: number, len: number, fill: number): Buffer =>
  Buffer.concat([Buffer.from([type, 0x03, 0x03, len >> 8, len & 0xff]), Buffer.alloc(len, fill)]);

test('a TLS connection is counted as not HTTP, with no HTTP anomaly and no exchange', () => {
  const { c, out, counters } = conn();
  c.onData(0, tlsRecord(0x16, 200, 0x41), 1);
  c.onData(1, tlsRecord(0x16, 120, 0x47), 2);
  for (let i = 0; i < 20; i++) c.onData(i % 2 === 0 ? 0 : 1, tlsRecord(0x17, 300, 0x48 + i), 3 + i); // "GET " bytes inside are never scanned
  c.onGap(1, 500, 30);
  c.onEnd(40, 'fin', false);
  assert.equal(out.length, 0);
  assert.deepEqual(counters.snapshot(), { tcp_flows_not_http: 1, tcp_flows_tls: 1 });
});

test('an SSH connection is counted as not HTTP', () => {
  const { c, out, counters } = conn();
  c.onData(1, Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 1);
  c.onData(0, Buffer.from('SSH-2.0-libssh\r\n'), 2);
  c.onEnd(3, 'fin', false);
  assert.equal(out.length, 0);
  assert.equal(counters.get('tcp_flows_ssh'), 1);
});

test("a TLS client talking to an HTTP server: the server's 400 is still parsed", () => {
  const { c, out, counters } = conn();
  c.onData(0, tlsRecord(0x16, 200, 0x41), 1);
  c.onData(1, Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), 2);
  c.onEnd(3, 'fin', false);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.response?.status, 400);
  assert.equal(out[0]?.request, null);
  assert.equal(counters.get('tcp_flows_tls'), 1);
});

test('an HTTP request whose bytes merely start with a token is not mistaken for TLS', () => {
  const { c, out, counters } = conn();
  c.onData(0, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 1);
  c.onData(1, Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'), 2);
  c.onEnd(3, 'fin', false);
  assert.equal(out.length, 1);
  assert.equal(counters.get('tcp_flows_not_http'), 0);
});

test('an HTTP/2 connection with prior knowledge (h2c, gRPC) goes to the HTTP/2 layer in both directions', () => {
  const { c, out, counters } = conn();
  c.onData(
    0,
    Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
    1,
  );
  c.onData(1, Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]), 2); // SETTINGS frame
  c.onData(0, Buffer.from([0, 0, 8, 1, 5, 0, 0, 0, 1, 0x82, 0x86, 0x84, 0x41, 0x8a, 0x08, 0x9d, 0x5c]), 3); // HEADERS
  c.onEnd(4, 'fin', false);
  // The HEADERS (GET http://www.example.com/, RFC 7541 C.4.1) opens stream 1, never answered.
  assert.equal(out.length, 1);
  assert.equal(out[0]?.request?.target, '/');
  assert.equal(out[0]?.protocol, 'h2c');
  assert.equal(out[0]?.response, null);
  assert.equal(counters.get('tcp_flows_h2'), 1);
  assert.equal(counters.get('tcp_flows_not_http'), 0);
  assert.equal(counters.get('http_requests'), 0);
});
