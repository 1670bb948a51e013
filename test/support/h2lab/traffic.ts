// The HTTP/2 lab's traffic, run inside a network namespace (test/integration/h2.test.ts):
// - node:http2 (nghttp2) h2c server on :8080, logging every stream it receives;
// - node:http2 client with prior knowledge: GETs with a bearer token, a JSON POST, a gzip response
//   over several DATA frames, a 24 KiB cookie (HEADERS + CONTINUATION), a stream the client resets;
// - curl --http2-prior-knowledge against :8080 (two connections);
// - curl --http2 (HTTP/1.1 Upgrade: h2c) against nghttpx on :8082, which proxies to :8080 over h2c;
// - nghttp against nghttpd on :8081, which pushes /style.css with /index.html (PUSH_PROMISE);
// - gRPC (grpc-js) on :50051: grpc.ts.
// Usage: node --import tsx traffic.ts OUT.json. Writes what the servers logged and what the clients
// got. Servers on the namespace's loopback only.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { runGrpcClient, startGrpcServer } from './grpc.js';
import type { GrpcCall } from './grpc.js';

const run = promisify(execFile);

export const PORTS = { h2: 8080, nghttpd: 8081, nghttpx: 8082, grpc: 50051 } as const;

export interface LabLog {
  /** Streams the node:http2 server received: "METHOD path". */
  h2Server: string[];
  grpcServer: GrpcCall[];
  /** curl -w output per URL: "code version". */
  curlPrior: string[];
  curlUpgrade: string[];
  /** nghttp's per-response lines (pushed responses included): "code path". */
  nghttp: string[];
}

async function main(out: string): Promise<void> {
  const log: LabLog = { h2Server: [], grpcServer: [], curlPrior: [], curlUpgrade: [], nghttp: [] };
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const method = String(headers[':method']);
    const path = String(headers[':path']);
    log.h2Server.push(`${method} ${path}`);
    stream.on('error', () => undefined);
    if (path === '/api/v1/slow') return; // never answered: the client resets it
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      if (stream.destroyed) return;
      if (method === 'POST') {
        stream.respond({ ':status': 201, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ id: 'ord-1', received: Buffer.concat(chunks).length }));
      } else if (path === '/api/v1/report') {
        const rows = Array.from({ length: 8000 }, (_, i) => ({ row: i, owner: `owner${i}@corp.example.com` }));
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-encoding': 'gzip' });
        stream.end(zlib.gzipSync(JSON.stringify(rows), { level: 1 }));
      } else {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ path, contact: 'jane.doe@mail.example.net' }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(PORTS.h2, '127.0.0.1', r));
  const grpcServer = await startGrpcServer(PORTS.grpc, log.grpcServer);

  // node:http2 client, prior knowledge, one connection.
  const c = http2.connect(`http://127.0.0.1:${PORTS.h2}`);
  const req = (h: http2.OutgoingHttpHeaders, body?: string): Promise<void> =>
    new Promise((res, rej) => {
      const r = c.request(h);
      r.on('error', rej);
      r.resume();
      r.on('end', () => res());
      r.end(body);
    });
  for (const id of [1, 2, 3]) {
    await req({ ':path': `/api/v1/users/${id}`, authorization: 'Bearer tok-abcdef0123456789' });
  }
  await req(
    { ':method': 'POST', ':path': '/api/v1/orders', 'content-type': 'application/json' },
    JSON.stringify({ email: 'buyer@shop.example.com', items: [1, 2] }),
  );
  await req({ ':path': '/api/v1/report', 'accept-encoding': 'gzip' });
  await req({ ':path': '/api/v1/big', cookie: `session=${'c'.repeat(24 * 1024)}` });
  await new Promise<void>((res) => {
    const r = c.request({ ':path': '/api/v1/slow' });
    r.on('error', () => undefined);
    r.end();
    setTimeout(() => {
      r.close(http2.constants.NGHTTP2_CANCEL);
      res();
    }, 50);
  });
  await new Promise<void>((r) => c.close(() => r()));

  const w = ['-s', '-o', '/dev/null', '-w', '%{http_code} %{http_version}\\n'];
  // One connection per curl: curl 7.88 does not reuse a prior-knowledge connection for a second URL.
  for (const id of [1, 2]) {
    const prior = await run('curl', [
      '--http2-prior-knowledge',
      ...w,
      `http://127.0.0.1:${PORTS.h2}/api/v1/items/${id}`,
    ]);
    log.curlPrior.push(prior.stdout.trim());
  }
  const up = await run('curl', [
    '--http2',
    ...w,
    `http://127.0.0.1:${PORTS.nghttpx}/api/v1/upgraded/1`,
    ...w,
    `http://127.0.0.1:${PORTS.nghttpx}/api/v1/upgraded/2`,
  ]);
  log.curlUpgrade = up.stdout.trim().split('\n');
  const ng = await run('nghttp', ['-ns', `http://127.0.0.1:${PORTS.nghttpd}/index.html`]);
  log.nghttp = ng.stdout
    .split('\n')
    .map((l) => /^\s*\d+\s+\S+(?:\s+\*)?\s+\S+\s+\S+\s+(\d{3})\s+\S+\s+(\S+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);

  await runGrpcClient(PORTS.grpc);
  await grpcServer.stop();
  // nghttpx keeps its backend connection to :8080 open: the process exits without waiting for it.
  server.close();
  writeFileSync(out, JSON.stringify(log, null, 1));
}

const out = process.argv[2];
if (out !== undefined) {
  main(out).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
