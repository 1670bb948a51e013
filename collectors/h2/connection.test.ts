// The HTTP/2 layer on real bytes (node:http2 and grpc-js through a recording relay, testing.ts) and
// on hostile ones: random bytes never throw; the same bytes split at random points, or with gaps,
// give identical exchanges.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { runGrpcClient, startGrpcServer } from '../../test/support/h2lab/grpc.js';
import type { GrpcCall } from '../../test/support/h2lab/grpc.js';
import { counterInfo } from '../../engine/contracts/catalogue.js';
import { createH2Connection } from './connection.js';
import { PREFACE } from './frames.js';
import { META, replay, startRelay } from './testing.js';
import type { Recorded } from './testing.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';
import type { Direction } from '../http/types.js';

/** Re-splits each direction's bytes at the given cut fractions, keeping the interleaving of chunks. */
function resplit(chunks: readonly Recorded[], cuts: readonly number[]): Recorded[] {
  const out: Recorded[] = [];
  for (const [i, c] of chunks.entries()) {
    const f = cuts[i % cuts.length] ?? 0.5;
    const at = Math.floor(c.data.length * f);
    if (at > 0 && at < c.data.length) {
      out.push({ dir: c.dir, data: c.data.subarray(0, at), tsUs: c.tsUs });
      out.push({ dir: c.dir, data: c.data.subarray(at), tsUs: c.tsUs });
    } else {
      out.push(c);
    }
  }
  return out;
}

/** One byte per chunk: the worst split. */
function bytewise(chunks: readonly Recorded[]): Recorded[] {
  const out: Recorded[] = [];
  for (const c of chunks)
    for (let i = 0; i < c.data.length; i++) out.push({ dir: c.dir, data: c.data.subarray(i, i + 1), tsUs: c.tsUs });
  return out;
}

const json = (exs: readonly unknown[]): string => JSON.stringify(exs);

describe('HTTP/2 layer on recorded node:http2 and grpc-js traffic', () => {
  let h2conn: Recorded[] = [];
  let grpcConns: Recorded[][] = [];
  const grpcLog: GrpcCall[] = [];

  before(async () => {
    const srv = http2.createServer();
    srv.on('stream', (s, h) => {
      s.on('error', () => undefined);
      s.respond({ ':status': 200, 'content-type': 'application/json', 'x-trace': 'abc' });
      s.end(JSON.stringify({ path: h[':path'], email: 'ana@mail.example.com' }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const relay = await startRelay((srv.address() as { port: number }).port);
    const c = http2.connect(`http://127.0.0.1:${relay.port}`);
    for (const p of ['/v1/a', '/v1/b?q=1', '/v1/c', '/v1/a']) {
      await new Promise<void>((res) => {
        const r = c.request({ ':path': p, authorization: 'Bearer t0k3n', 'x-custom': p });
        r.resume();
        r.on('end', res);
        r.end();
      });
    }
    await new Promise<void>((r) => c.close(() => r()));
    await new Promise((r) => setTimeout(r, 50));
    await relay.close();
    await new Promise<void>((r) => srv.close(() => r()));
    h2conn = relay.connections[0] ?? [];

    const g = await startGrpcServer(0, grpcLog);
    const grelay = await startRelay(g.port);
    await runGrpcClient(grelay.port);
    await new Promise((r) => setTimeout(r, 50));
    await grelay.close();
    await g.stop();
    grpcConns = grelay.connections;
  });

  it('node:http2 bytes: four exchanges, identical at any split, byte by byte', () => {
    const base = replay(h2conn);
    assert.deepEqual(
      base.exchanges.map((e) => e.request?.target),
      ['/v1/a', '/v1/b?q=1', '/v1/c', '/v1/a'],
    );
    for (const e of base.exchanges) {
      Exchange.parse(e);
      assert.equal(e.complete, true);
      assert.deepEqual(e.anomalies, []);
      assert.deepEqual(
        e.response?.headers.find(([k]) => k === 'x-trace'),
        ['x-trace', 'abc'],
      );
    }
    const want = json(base.exchanges);
    assert.equal(json(replay(bytewise(h2conn)).exchanges), want);
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (cuts) => {
        assert.equal(json(replay(resplit(h2conn, cuts)).exchanges), want);
      }),
      { numRuns: 100, seed: 13 },
    );
  });

  it('joined mid-stream at any byte: what decodes is right, nothing is invented', () => {
    const base = replay(h2conn).exchanges;
    const byStream = new Map(base.map((e) => [e.streamId, e]));
    const total: [number, number] = [0, 0];
    for (const c of h2conn) total[c.dir] += c.data.length;
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (f0, f1) => {
        // Drop the first f * total bytes of each direction (a capture that starts late).
        const skip: [number, number] = [Math.floor(total[0] * f0), Math.floor(total[1] * f1)];
        const cut: Recorded[] = [];
        for (const c of h2conn) {
          const n = Math.min(skip[c.dir], c.data.length);
          skip[c.dir] -= n;
          if (n < c.data.length) cut.push({ ...c, data: c.data.subarray(n) });
        }
        const { exchanges } = replay(cut, { handshake: false });
        for (const e of exchanges) {
          Exchange.parse(e);
          const want = byStream.get(e.streamId ?? -1);
          assert.ok(want !== undefined, `stream ${e.streamId} exists`);
          if (e.request !== null) assert.equal(e.request.target, want.request?.target);
          if (e.response !== null) {
            assert.equal(e.response.status, 200);
            if (e.response.body.complete) assert.equal(e.response.body.data, want.response?.body.data);
          }
        }
      }),
      { numRuns: 200, seed: 13 },
    );
  });

  it('a gap inside a DATA frame marks only that stream; the next streams decode', () => {
    // Find the response chunk of the first stream carrying its DATA frame (type 0).
    const idx = h2conn.findIndex((c) => c.dir === 1 && c.data.includes('ana@mail'));
    assert.ok(idx > 0);
    const counters = new Counters();
    const out: Exchange[] = [];
    const conn = createH2Connection({ ...META }, DEFAULT_HTTP_OPTIONS, (e) => out.push(e), counters, {
      clientDir: 0,
      seqBase: 0,
      start: 'preface',
      swapped: false,
      upgrade: null,
    });
    let t = 1;
    for (const [i, c] of h2conn.entries()) {
      if (i !== idx) {
        conn.onData(c.dir, c.data, t++);
        continue;
      }
      const at = c.data.indexOf('ana@mail');
      conn.onData(1, c.data.subarray(0, at), t++);
      conn.onGap(1, 4, t++);
      conn.onData(1, c.data.subarray(at + 4), t++);
    }
    conn.onEnd(t, 'fin', false);
    assert.equal(out.length, 4);
    const hit = out.filter((e) => e.anomalies.includes('h2_body_gap'));
    assert.equal(hit.length, 1);
    assert.equal(hit[0]?.response?.body.complete, false);
    assert.equal(out.filter((e) => e.complete).length, 3);
  });

  it('random bytes never throw, in any start mode, and anomalies are declared', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.uint8Array({ maxLength: 200 }), fc.nat(50)), {
          maxLength: 30,
        }),
        fc.constantFrom('preface', 'midstream', 'upgrade'),
        fc.boolean(),
        (steps, start, withPreface) => {
          const out: Exchange[] = [];
          const conn = createH2Connection({ ...META }, DEFAULT_HTTP_OPTIONS, (e) => out.push(e), new Counters(), {
            clientDir: 0,
            seqBase: 0,
            start: start as 'preface' | 'midstream' | 'upgrade',
            swapped: false,
            upgrade: null,
          });
          if (withPreface) conn.onData(0, PREFACE, 0);
          let t = 1;
          for (const [dir, bytes, gap] of steps) {
            if (gap > 45) conn.onGap(dir as Direction, gap, t++);
            else conn.onData(dir as Direction, Buffer.from(bytes), t++);
          }
          conn.onEnd(t, 'eof', false);
          for (const e of out) {
            Exchange.parse(e);
            for (const a of e.anomalies) assert.equal(counterInfo(a)?.kind, 'anomaly', a);
          }
        },
      ),
      { numRuns: 500, seed: 13 },
    );
  });

  it('random frames with valid headers never throw (frame-level fuzz)', () => {
    const frame = fc
      .tuple(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ maxLength: 60 }),
      )
      .map(([type, flags, sid, payload]) => {
        const h = Buffer.alloc(9);
        h.writeUIntBE(payload.length, 0, 3);
        h[3] = type;
        h[4] = flags;
        h.writeUInt32BE(sid, 5);
        return Buffer.concat([h, Buffer.from(payload)]);
      });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), frame), { maxLength: 40 }), (frames) => {
        const out: Exchange[] = [];
        const conn = createH2Connection({ ...META }, DEFAULT_HTTP_OPTIONS, (e) => out.push(e), new Counters(), {
          clientDir: 0,
          seqBase: 0,
          start: 'preface',
          swapped: false,
          upgrade: null,
        });
        conn.onData(0, PREFACE, 0);
        let t = 1;
        for (const [dir, f] of frames) conn.onData(dir as Direction, f, t++);
        conn.onEnd(t, 'fin', false);
        for (const e of out) Exchange.parse(e);
      }),
      { numRuns: 500, seed: 13 },
    );
  });

  it('h2c with prior knowledge inside a CONNECT tunnel (preface before or after the 200)', () => {
    const connect: Recorded = {
      dir: 0,
      data: Buffer.from('CONNECT api.internal:8080 HTTP/1.1\r\nHost: api.internal:8080\r\n\r\n'),
      tsUs: 1_699_999_999_999_000,
    };
    const ok: Recorded = {
      dir: 1,
      data: Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n'),
      tsUs: 1_699_999_999_999_500,
    };
    const after200 = replay([connect, ok, ...h2conn]);
    const before200 = replay([connect, ...h2conn.slice(0, 1), ok, ...h2conn.slice(1)]);
    for (const r of [after200, before200]) {
      assert.deepEqual(
        r.exchanges.map((e) => `${e.seq} ${e.protocol ?? 'http'} ${e.request?.method} ${e.request?.target}`),
        [
          '0 http CONNECT api.internal:8080',
          '1 h2c GET /v1/a',
          '2 h2c GET /v1/b?q=1',
          '3 h2c GET /v1/c',
          '4 h2c GET /v1/a',
        ],
      );
    }
  });

  it('Upgrade: h2c: the upgrade request is stream 1, answered in HTTP/2 after the 101', () => {
    const frame = (type: number, flags: number, sid: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(payload.length, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(sid, 5);
      return Buffer.concat([h, payload]);
    };
    const settings = frame(4, 0, 0, Buffer.alloc(0));
    const t = 1_700_000_000_000_000;
    const chunks: Recorded[] = [
      {
        dir: 0,
        data: Buffer.from(
          'GET /up HTTP/1.1\r\nHost: svc:80\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
        ),
        tsUs: t,
      },
      // The 101 and the server's first frames in one segment: SETTINGS, HEADERS (:status 200 =
      // static index 8), DATA with END_STREAM.
      {
        dir: 1,
        data: Buffer.concat([
          Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n'),
          settings,
          frame(1, 4, 1, Buffer.from([0x88])),
          frame(0, 1, 1, Buffer.from('hello')),
        ]),
        tsUs: t + 100,
      },
      { dir: 0, data: Buffer.concat([PREFACE, settings]), tsUs: t + 200 },
    ];
    for (const cs of [
      chunks,
      chunks.flatMap((c) => [...c.data].map((_, i) => ({ ...c, data: c.data.subarray(i, i + 1) }))),
    ]) {
      const { exchanges, counters } = replay(cs);
      assert.equal(exchanges.length, 1);
      const e = exchanges[0] as Exchange;
      assert.equal(e.streamId, 1);
      assert.equal(e.protocol, 'h2c');
      assert.equal(e.request?.version, 'HTTP/1.1');
      assert.equal(e.request?.target, '/up');
      assert.equal(e.response?.status, 200);
      assert.deepEqual(e.response?.interim, [101]);
      assert.equal(e.response?.body.data, 'hello');
      assert.deepEqual(e.anomalies, ['h2_upgrade']);
      assert.equal(e.complete, true);
      assert.equal(counters.get('http_upgrade'), 0);
    }
  });

  it('grpc-js bytes: every logged call, messages per direction, identical at any split', () => {
    const all = grpcConns.flatMap((c) => replay(c).exchanges);
    assert.equal(all.length, grpcLog.length);
    const count = (d: string): number => (d === '' ? 0 : d.startsWith('[') ? (JSON.parse(d) as unknown[]).length : 1);
    assert.deepEqual(
      all
        .map((e) => `${e.request?.target} ${count(e.request?.body.data ?? '')}/${count(e.response?.body.data ?? '')}`)
        .sort(),
      grpcLog.map((c) => `${c.path} ${c.received}/${c.sent}`).sort(),
    );
    for (const conn of grpcConns) {
      const want = json(replay(conn).exchanges);
      assert.equal(json(replay(bytewise(conn)).exchanges), want);
      fc.assert(
        fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (cuts) => {
          assert.equal(json(replay(resplit(conn, cuts)).exchanges), want);
        }),
        { numRuns: 50, seed: 13 },
      );
    }
  });
});
