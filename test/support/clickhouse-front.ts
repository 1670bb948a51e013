// TEST ONLY. A writable ClickHouse HTTP interface (https://clickhouse.com/docs/interfaces/http) over a
// chDB data directory, so @clickhouse/client runs unchanged against the real ClickHouse engine
// without a server: the product's handler (engine/app/serve/clickhouse-http.ts) over a writable runner
// (engine/adapters/store/chdb-raw.ts), with fault injection and request statistics around it.
// What it implements is what @clickhouse/client 1.x sends (read from
// node_modules/@clickhouse/client{,-common}/dist: node_base_connection.js, socket_pool.js, url.js):
// - POST / with the query in the body (query/command) or in ?query= with the data in the body
//   (insert: "INSERT INTO t (cols) FORMAT JSONEachRow" + rows); the body is appended to the URL
//   query after a newline, as the server does. GET / with ?query= runs with readonly=2.
// - ?database=, ?default_format=, ?query_id=, ?param_<name>= (text in the "escaped" form the client
//   writes, bound by the engine: never spliced into SQL), any other ?<setting>=<value>.
// - Content-Encoding gzip/deflate/br request bodies (compression.request); response compression when
//   enable_http_compression=1 and Accept-Encoding allows it (compression.response).
// - Basic auth, X-ClickHouse-User/X-ClickHouse-Key, or ?user=&password=, checked against the
//   configured credentials (516 AUTHENTICATION_FAILED, HTTP 403).
// - Errors as "Code: N. DB::Exception: ... (NAME) (version ...)" with X-ClickHouse-Exception-Code and
//   the server's status mapping (400 bad query/data, 403 auth, 404 unknown object, 500 otherwise).
// - X-ClickHouse-Summary / -Format / -Query-Id / -Timezone headers, GET /ping -> "Ok.\n".
// Not implemented: HTTP sessions (session_id -> 501), multipart parameters, progress headers.
//
// Fault injection: stop() closes the listener and drops every connection (clients see
// ECONNREFUSED/ECONNRESET), start() listens again on the same port, pause() answers every request
// with 503 and a non-ClickHouse body (like a load balancer without a healthy backend).
//
// chDB binds one data directory per process. spawnClickHouseFront() runs the front in a child
// process (this file is its entry), so a test can use its own chDB store beside it;
// startClickHouseFront() runs it in the calling process. Requests are executed one at a time, each
// on its own chDB Session (a connection of the same directory), so settings and parameters of one
// request never leak into another.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drainPending, Session, version as chdbVersion } from 'chdb';
import { createChdbRawRunner } from '../../engine/adapters/store/chdb-raw.js';
import { createClickHouseHandler } from '../../engine/app/serve/clickhouse-http.js';
import { Counters } from '../../engine/contracts/counters.js';

export interface FrontOptions {
  /** chDB data directory (created if missing). */
  dir: string;
  /** Accepted credentials (default user "default" with an empty password). */
  user?: string;
  password?: string;
  /** Port on 127.0.0.1 (default 0: a random free port, kept across stop()/start()). */
  port?: number;
}

export interface FrontStats {
  requests: number;
  /** Requests whose body arrived compressed (Content-Encoding). */
  compressedRequests: number;
  /** Responses sent compressed. */
  compressedResponses: number;
  /** Requests that carried param_* values. */
  parameterisedRequests: number;
  errors: number;
}

export interface ClickHouseFront {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Closes the listener and destroys open connections; the data stays. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Every request gets 503 until resume(). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stats(): Promise<FrontStats>;
  /** Stops and releases the engine (and ends the child process). */
  close(): Promise<void>;
}

/** Starts the front in this process (which must not have another chDB directory open). */
export async function startClickHouseFront(opts: FrontOptions): Promise<ClickHouseFront> {
  const dir = resolve(opts.dir);
  // Held for the front's lifetime: per-request Sessions come and go beside it.
  const main = new Session(dir);
  const counters = new Counters();
  const handle = createClickHouseHandler({
    runner: createChdbRawRunner(dir, 'writable'),
    writable: true,
    version: chdbVersion().libchdb,
    counters,
    ...(opts.user === undefined ? {} : { user: opts.user }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
  });
  const stats = { requests: 0, compressedRequests: 0, compressedResponses: 0, parameterisedRequests: 0 };
  const sockets = new Set<Socket>();
  let paused = false;
  let port = opts.port ?? 0;
  let server: Server | null = null;

  async function front(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    if (paused) {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('Service Unavailable (apitap test front paused)\n');
      return;
    }
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') stats.compressedRequests++;
    if ((req.url ?? '').includes('param_')) stats.parameterisedRequests++;
    const writeHead = res.writeHead.bind(res) as (status: number, headers?: Record<string, string>) => ServerResponse;
    res.writeHead = ((status: number, headers?: Record<string, string>) => {
      if (headers?.['Content-Encoding'] !== undefined) stats.compressedResponses++;
      return writeHead(status, headers);
    }) as typeof res.writeHead;
    await handle(req, res);
  }

  async function start(): Promise<void> {
    if (server !== null) return;
    const s = createServer((req, res) => {
      front(req, res).catch(() => res.destroy());
    });
    s.keepAliveTimeout = 10_000;
    s.on('connection', (sock: Socket) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    await new Promise<void>((ok, fail) => {
      s.once('error', fail);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', fail);
        ok();
      });
    });
    port = (s.address() as { port: number }).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (s === null) return;
    server = null;
    const closed = new Promise<void>((ok) => s.close(() => ok()));
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    await closed;
  }

  await start();
  return {
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    stop,
    start,
    pause: async () => {
      paused = true;
    },
    resume: async () => {
      paused = false;
    },
    stats: async () => ({ ...stats, errors: counters.get('serve_http_errors') }),
    close: async () => {
      await stop();
      main.close();
      await drainPending();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Child-process mode

type Op = 'stop' | 'start' | 'pause' | 'resume' | 'stats' | 'close';
interface Reply {
  id?: number;
  ready?: boolean;
  port?: number;
  ok?: boolean;
  value?: unknown;
  error?: string;
}

const THIS_FILE = fileURLToPath(import.meta.url);
const CHILD_ENV = 'APITAP_CLICKHOUSE_FRONT';

/**
 * Runs the front in a child process with its own chDB engine (the caller may have a chDB store
 * open on another directory). The child exits when close() is called or the parent goes away.
 */
export async function spawnClickHouseFront(opts: FrontOptions): Promise<ClickHouseFront> {
  const child = fork(THIS_FILE, [], {
    // From source (tsx) the child needs the same loader; compiled (dist/*.js) it does not.
    execArgv: THIS_FILE.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(opts) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  let early: ((code: number | null) => void) | undefined;
  const port = await new Promise<number>((ok, fail) => {
    child.once('error', fail);
    early = (code) => fail(new Error(`clickhouse front child exited with ${code} before it was ready`));
    child.once('exit', early);
    child.on('message', (m: Reply) => {
      if (m.ready === true && m.port !== undefined) ok(m.port);
      else if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok === true) p?.ok(m.value);
        else p?.fail(new Error(m.error ?? 'clickhouse front operation failed'));
      }
    });
  });
  if (early !== undefined) child.off('exit', early);
  child.on('exit', () => {
    for (const p of pending.values()) p.fail(new Error('clickhouse front child exited'));
    pending.clear();
  });
  const rpc = (op: Op): Promise<unknown> =>
    new Promise((ok, fail) => {
      if (!child.connected) {
        fail(new Error('clickhouse front child is gone'));
        return;
      }
      const id = nextId++;
      pending.set(id, { ok, fail });
      child.send({ id, op });
    });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => void (await rpc('stop')),
    start: async () => void (await rpc('start')),
    pause: async () => void (await rpc('pause')),
    resume: async () => void (await rpc('resume')),
    stats: async () => (await rpc('stats')) as FrontStats,
    close: async () => {
      if (child.connected) await rpc('close').catch(() => undefined);
      await exited;
    },
  };
}

async function childMain(): Promise<void> {
  const opts = JSON.parse(process.env[CHILD_ENV] ?? '{}') as FrontOptions;
  const front = await startClickHouseFront(opts);
  const send = (m: Reply): void => {
    process.send?.(m);
  };
  process.on('disconnect', () => {
    void front.close().finally(() => process.exit(0));
  });
  process.on('message', (m: { id: number; op: Op }) => {
    const ops: Record<Op, () => Promise<unknown>> = {
      stop: front.stop,
      start: front.start,
      pause: front.pause,
      resume: front.resume,
      stats: front.stats,
      close: front.close,
    };
    ops[m.op]().then(
      (value) => {
        send({ id: m.id, ok: true, value });
        if (m.op === 'close') process.disconnect();
      },
      (err: unknown) => send({ id: m.id, ok: false, error: String((err as Error).message ?? err) }),
    );
  });
  send({ ready: true, port: front.port });
}

if (
  process.env[CHILD_ENV] !== undefined &&
  process.send !== undefined &&
  process.argv[1] !== undefined &&
  resolve(process.argv[1]) === THIS_FILE
) {
  childMain().catch((err: unknown) => {
    process.stderr.write(`clickhouse front failed to start: ${String((err as Error).message ?? err)}\n`);
    process.exit(1);
  });
}
