// HTTP/2 cleartext and gRPC layer throughput: real node:http2 (nghttp2) and grpc-js bytes, recorded
// once through a TCP relay (collectors/h2/testing.ts), then replayed through createHttpConnection in
// 1448-byte segments as TCP delivers them, the same way http.bench.ts measures HTTP/1.x.
//   node --import tsx test/bench/h2.bench.ts
//
// Workload: one h2c connection with 400 requests, in rounds of GET /api/v1/users/{id} -> JSON (~600 B),
// POST /api/v1/orders with JSON -> 201, GET /api/v1/items?page=n -> gzip JSON (~8 KiB decoded);
// one gRPC connection with 300 unary calls and 30 server streams of 5 messages (lab.proto).
//
// Measured 2026-12-03, Node 20.20, 2 cores at load average ~16 (other engineers' jobs; compare only
// with a run of http.bench.ts at the same moment): h2c 4.9 MB/s, 8,270 exchanges/s; gRPC 1.2 MB/s,
// 6,090 exchanges/s; http.bench.ts (HTTP/1.1, 8,000 exchanges) right after: 7.6 MB/s, 4,720
// exchanges/s. HTTP/2 moves fewer bytes per exchange (HPACK), so per exchange it is on par with
// HTTP/1.1. Profile: zlib, protobuf decoding and JSON of gRPC bodies, Huffman, exchange ids; no
// single hot spot above 3%.
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../../collectors/http/connection.js';
import { DEFAULT_HTTP_OPTIONS } from '../../collectors/http/types.js';
import { startRelay } from '../../collectors/h2/testing.js';
import type { Recorded } from '../../collectors/h2/testing.js';
import { customer, startGrpcServer } from '../support/h2lab/grpc.js';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';

function json(n: number, seed: number): string {
  const items = [];
  for (let i = 0; i < n; i++)
    items.push({ id: seed * 1000 + i, name: `item-${i}`, price: (i * 3.7).toFixed(2), active: i % 2 === 0 });
  return JSON.stringify({ items, total: n });
}

async function recordH2(): Promise<Recorded[]> {
  const srv = http2.createServer();
  srv.on('stream', (s, h) => {
    s.on('error', () => undefined);
    const path = String(h[':path']);
    s.resume();
    s.on('end', () => {
      if (path.startsWith('/api/v1/items')) {
        s.respond({ ':status': 200, 'content-type': 'application/json', 'content-encoding': 'gzip' });
        s.end(gzipSync(json(80, 3)));
      } else {
        s.respond({ ':status': h[':method'] === 'POST' ? 201 : 200, 'content-type': 'application/json' });
        s.end(json(6, 1));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const relay = await startRelay((srv.address() as { port: number }).port);
  const c = http2.connect(`http://127.0.0.1:${relay.port}`);
  const req = (h: http2.OutgoingHttpHeaders, body?: string): Promise<void> =>
    new Promise((res) => {
      const r = c.request(h);
      r.resume();
      r.on('end', () => res());
      r.end(body);
    });
  const auth = {
    authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x',
    'x-request-id': '7f1c2a',
    accept: 'application/json',
  };
  for (let k = 0; k < 400 / 4; k++) {
    await Promise.all([
      req({ ':path': `/api/v1/users/${k}`, ...auth }),
      req({ ':method': 'POST', ':path': '/api/v1/orders', 'content-type': 'application/json', ...auth }, json(3, k)),
      req({ ':path': `/api/v1/items?page=${k}`, 'accept-encoding': 'gzip', ...auth }),
      req({ ':path': `/api/v1/users/${k + 1}`, ...auth }),
    ]);
  }
  await new Promise<void>((r) => c.close(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  await relay.close();
  srv.close();
  return relay.connections[0] ?? [];
}

async function recordGrpc(): Promise<Recorded[]> {
  const g = await startGrpcServer(0, []);
  const relay = await startRelay(g.port);
  const def = protoLoader.loadSync(join(repoRoot, 'test', 'support', 'h2lab', 'lab.proto'), { longs: Number });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    apitap: { lab: { v1: { Customers: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } } };
  };
  const client = new pkg.apitap.lab.v1.Customers(
    `127.0.0.1:${relay.port}`,
    grpc.credentials.createInsecure(),
  ) as grpc.Client & {
    GetCustomer(r: { id: number }, cb: (e: unknown) => void): void;
    ListCustomers(r: { count: number }): NodeJS.ReadableStream;
  };
  for (let i = 0; i < 300; i++) await new Promise<void>((res) => client.GetCustomer({ id: i }, () => res()));
  for (let i = 0; i < 30; i++) {
    await new Promise<void>((res) => {
      const s = client.ListCustomers({ count: 5 });
      s.on('data', () => undefined);
      s.on('end', () => res());
    });
  }
  void customer;
  client.close();
  await new Promise((r) => setTimeout(r, 50));
  await relay.close();
  await g.stop();
  return relay.connections[0] ?? [];
}

const MSS = 1448;

function run(conns: readonly Recorded[][], copies: number): { ms: number; bytes: number; exchanges: number } {
  let n = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < copies; k++) {
    for (const chunks of conns) {
      const meta = {
        flowId: `b${k}`,
        vni: null,
        tunnel: null,
        client: { ip: '10.0.0.1', port: 40000 },
        server: { ip: '10.0.0.2', port: 80 },
        handshake: true,
      };
      const conn = createHttpConnection(meta, DEFAULT_HTTP_OPTIONS, () => n++, new Counters());
      for (const c of chunks) {
        for (let o = 0; o < c.data.length; o += MSS) conn.onData(c.dir, c.data.subarray(o, o + MSS), c.tsUs);
        bytes += c.data.length;
      }
      conn.onEnd(1_800_000_000_000_000, 'fin', false);
    }
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes, exchanges: n };
}

const h2 = await recordH2();
const g = await recordGrpc();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const [name, conns, copies] of [
  ['h2c', [h2], 20],
  ['grpc', [g], 20],
] as const) {
  run(conns, 2); // warm-up
  const rs = Array.from({ length: 5 }, () => run(conns, copies));
  const ex = rs[0]?.exchanges ?? 0;
  console.log(
    `${name}: ${ex} exchanges/run, ${((rs[0]?.bytes ?? 0) / 1e6).toFixed(1)} MB/run, median of 5: ` +
      `${median(rs.map((r) => r.bytes / 1e6 / (r.ms / 1000))).toFixed(1)} MB/s, ` +
      `${Math.round(median(rs.map((r) => r.exchanges / (r.ms / 1000))))} exchanges/s`,
  );
}
