// Hostile-input properties: random and mutated byte streams never throw and always give valid
// exchange/v1 records; a decompression bomb is capped quickly with bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { Exchange } from '../../engine/contracts/exchange.js';
import type { Exchange as ExchangeT } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { COUNTERS } from '../../engine/contracts/catalogue.js';
import { createHttpConnection } from './connection.js';
import { DEFAULT_HTTP_OPTIONS } from './types.js';
import type { Direction } from './types.js';

const META = {
  flowId: 'f',
  vni: 7,
  tunnel: null,
  client: { ip: '10.0.0.1', port: 1 },
  server: { ip: '10.0.0.2', port: 80 },
  handshake: true,
};

const FRAGMENTS = [
  'GET / HTTP/1.1\r\n',
  'HTTP/1.1 200 OK\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HEAD /h HTTP/1.1\r\n',
  'CONNECT a:1 HTTP/1.1\r\n',
  'Content-Length: 5\r\n',
  'Content-Length: -3\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Encoding: gzip, br\r\n',
  'Upgrade: websocket\r\nConnection: upgrade\r\n',
  '\r\n',
  '5\r\nhello\r\n',
  '0\r\n\r\n',
  'ffffffffffff\r\n',
  ' folded\r\n',
  'X: \u0000\r\n',
  'HTTP/1.1 101 Switching\r\n\r\n',
  'abc',
  '\r',
  '\n',
];

const eventArb = fc.oneof(
  fc.record({
    k: fc.constant('data' as const),
    dir: fc.constantFrom<Direction>(0, 1),
    bytes: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({
    k: fc.constant('frag' as const),
    dir: fc.constantFrom<Direction>(0, 1),
    parts: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 8 }),
  }),
  fc.record({
    k: fc.constant('gap' as const),
    dir: fc.constantFrom<Direction>(0, 1),
    len: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({ k: fc.constant('trunc' as const), dir: fc.constantFrom<Direction>(0, 1) }),
);

test('random and mutated streams never throw and give valid exchanges', () => {
  fc.assert(
    fc.property(
      fc.array(eventArb, { maxLength: 40 }),
      fc.boolean(),
      fc.constantFrom('fin', 'rst', 'idle', 'eof'),
      (events, handshake, reason) => {
        const counters = new Counters();
        const out: ExchangeT[] = [];
        const opts = { ...DEFAULT_HTTP_OPTIONS, maxHeaderBytes: 256, maxHeaderCount: 8, maxPendingRequests: 3 };
        const conn = createHttpConnection({ ...META, handshake }, opts, (e) => out.push(e), counters);
        let ts = 1000;
        for (const e of events) {
          ts += 10;
          if (e.k === 'data') conn.onData(e.dir, Buffer.from(e.bytes), ts);
          else if (e.k === 'frag') conn.onData(e.dir, Buffer.from(e.parts.join(''), 'latin1'), ts);
          else if (e.k === 'gap') conn.onGap(e.dir, e.len, ts);
          else conn.onTruncated(e.dir);
        }
        conn.onEnd(ts + 1, reason, false);
        conn.onData(0, Buffer.from('GET / HTTP/1.1\r\n\r\n'), ts + 2); // after the end: ignored
        assert.equal(counters.get('http_internal_error'), 0);
        const seqs = new Set<number>();
        for (const ex of out) {
          Exchange.parse(ex);
          assert.ok(!seqs.has(ex.seq), 'seq unique');
          seqs.add(ex.seq);
          for (const a of ex.anomalies) assert.equal(COUNTERS[a as keyof typeof COUNTERS]?.kind, 'anomaly', a);
        }
      },
    ),
    { numRuns: 400, seed: 7 },
  );
});

test('a decompression bomb (1 GiB of zeros, gzip) is capped fast with bounded memory', () => {
  // 64 gzip members of 16 MiB zeros each: a valid gzip stream of 1 GiB decoded, ~1 MB encoded.
  const member = zlib.gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
  const counters = new Counters();
  const out: ExchangeT[] = [];
  const conn = createHttpConnection(META, DEFAULT_HTTP_OPTIONS, (e) => out.push(e), counters);
  conn.onData(0, Buffer.from('GET /bomb HTTP/1.1\r\n\r\n'), 1);
  const before = process.memoryUsage().rss;
  const t0 = process.hrtime.bigint();
  conn.onData(1, Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`), 2);
  for (let o = 0; o < bomb.length; o += 65536) conn.onData(1, bomb.subarray(o, o + 65536), 3);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const grown = process.memoryUsage().rss - before;
  conn.onEnd(4, 'fin', false);
  assert.equal(out.length, 1);
  const ex = Exchange.parse(out[0]);
  assert.deepEqual(ex.anomalies, ['http_decompression_capped']);
  assert.equal(ex.response?.body.size, bomb.length);
  assert.equal(ex.response?.body.decodedSize, null);
  assert.equal(ex.response?.body.truncated, true);
  assert.equal(ex.response?.body.data.length, DEFAULT_HTTP_OPTIONS.bodyCaptureBytes);
  assert.ok(ms < 3000, `took ${ms} ms`);
  assert.ok(grown < 256 << 20, `rss grew ${grown >> 20} MiB`);
});

test('exchange ids are deterministic and JSON is byte-identical across runs', () => {
  const run = (): string => {
    const out: ExchangeT[] = [];
    const conn = createHttpConnection(META, DEFAULT_HTTP_OPTIONS, (e) => out.push(e), new Counters());
    conn.onData(0, Buffer.from('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n'), 5);
    conn.onData(1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 9);
    conn.onEnd(10, 'fin', false);
    return JSON.stringify(out);
  };
  const a = run();
  assert.equal(a, run());
  const parsed = JSON.parse(a) as ExchangeT[];
  // HTTP/1.x records leave out `protocol`, `streamId` and `websocket` (exchange/v1 defaults: 'http', null, null).
  const optional = new Set(['protocol', 'streamId', 'websocket']);
  assert.deepEqual(
    Object.keys(parsed[0] as object),
    Object.keys(Exchange.shape).filter((k) => !optional.has(k)),
  );
  assert.equal(Exchange.parse(parsed[0]).protocol, 'http');
  assert.match((parsed[0] as ExchangeT).id, /^[0-9a-f]{16}$/);
});
