// TEST ONLY. A small ClickHouse HTTP interface (https://clickhouse.com/docs/interfaces/http) over a
// chDB data directory, so @clickhouse/client runs unchanged against the real ClickHouse engine
// without a server. What it implements is what @clickhouse/client 1.x sends (read from
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
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { drainPending, Session, version as chdbVersion } from 'chdb';

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

/** URL parameters the HTTP layer consumes itself; every other one is a setting. */
const HTTP_ONLY = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'enable_http_compression',
  'http_zlib_compression_level',
  'wait_end_of_query',
  'buffer_size',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'compress',
  'decompress',
  'quota_key',
  'stacktrace',
  'role',
  'session_timeout',
  'session_check',
]);

/** The server's exception code -> HTTP status mapping (src/Server/HTTPHandler.cpp), the codes that matter here. */
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401],
  ...[192, 193, 516, 497].map((c) => [c, 403] as [number, number]),
  ...[6, 26, 27, 36, 38, 41, 53, 62, 72, 117, 456, 457].map((c) => [c, 400] as [number, number]),
  ...[46, 47, 50, 60, 73, 81, 115].map((c) => [c, 404] as [number, number]),
  [48, 501],
]);

const NAME_RE = /^[A-Za-z0-9_]+$/;

class FrontError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A SQL string literal whose value is exactly `s` (for SET param_x = '...'). */
function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

function decodeBody(raw: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case undefined:
    case '':
    case 'identity':
      return raw;
    case 'gzip':
      return zlib.gunzipSync(raw);
    case 'deflate':
      return zlib.inflateSync(raw);
    case 'br':
      return zlib.brotliDecompressSync(raw);
    default:
      throw new FrontError(48, 'NOT_IMPLEMENTED', `Unknown Content-Encoding: ${encoding}`);
  }
}

function credentials(req: IncomingMessage, url: URL): { user: string; password: string } {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Basic ')) {
    const text = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i < 0 ? { user: text, password: '' } : { user: text.slice(0, i), password: text.slice(i + 1) };
  }
  const hUser = req.headers['x-clickhouse-user'];
  if (typeof hUser === 'string') {
    const key = req.headers['x-clickhouse-key'];
    return { user: hUser, password: typeof key === 'string' ? key : '' };
  }
  return { user: url.searchParams.get('user') ?? 'default', password: url.searchParams.get('password') ?? '' };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function contentType(format: string): string {
  if (format === 'JSONEachRow' || format.startsWith('JSONCompactEachRow') || format.startsWith('JSONStringsEachRow')) {
    return 'application/x-ndjson; charset=UTF-8';
  }
  if (format.startsWith('JSON')) return 'application/json; charset=UTF-8';
  if (format.startsWith('TabSeparated') || format.startsWith('TSV')) return 'text/tab-separated-values; charset=UTF-8';
  if (format.startsWith('CSV')) return 'text/csv; charset=UTF-8';
  return 'text/plain; charset=UTF-8';
}

/** Starts the front in this process (which must not have another chDB directory open). */
export async function startClickHouseFront(opts: FrontOptions): Promise<ClickHouseFront> {
  const dir = resolve(opts.dir);
  const user = opts.user ?? 'default';
  const password = opts.password ?? '';
  const engineVersion = chdbVersion().libchdb;
  // Held for the front's lifetime: per-request Sessions come and go beside it.
  const main = new Session(dir);
  const stats: FrontStats = {
    requests: 0,
    compressedRequests: 0,
    compressedResponses: 0,
    parameterisedRequests: 0,
    errors: 0,
  };
  const sockets = new Set<Socket>();
  let paused = false;
  let port = opts.port ?? 0;
  let server: Server | null = null;
  let lane: Promise<unknown> = Promise.resolve();

  function sendError(res: ServerResponse, queryId: string, err: unknown): void {
    stats.errors++;
    let code: number;
    let body: string;
    if (err instanceof FrontError) {
      code = err.code;
      body = `Code: ${code}. DB::Exception: ${err.message}. (${err.type})`;
    } else {
      const e = err as { clickhouseCode?: unknown; message?: unknown };
      const msg = String(e.message ?? err);
      code = typeof e.clickhouseCode === 'number' ? e.clickhouseCode : 1001;
      body = msg.startsWith('Code: ') ? msg : `Code: ${code}. DB::Exception: ${msg}. (STD_EXCEPTION)`;
    }
    res.writeHead(STATUS_BY_CODE.get(code) ?? 500, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(code),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Server-Display-Name': 'apitap-front',
    });
    res.end(`${body} (version ${engineVersion})\n`);
  }

  /** One request on its own Session: settings and parameters die with it. */
  async function execute(
    sql: string,
    database: string | null,
    settings: [string, string][],
    params: [string, string][],
    format: string,
  ) {
    const s = new Session(dir);
    try {
      if (database !== null && database !== 'default') {
        if (!NAME_RE.test(database))
          throw new FrontError(81, 'UNKNOWN_DATABASE', `Database ${database} does not exist`);
        await s.queryAsync(`USE \`${database}\``);
      }
      let readonly: string | null = null;
      for (const [k, v] of settings) {
        if (!NAME_RE.test(k)) throw new FrontError(115, 'UNKNOWN_SETTING', `Unknown setting ${k}`);
        if (k === 'readonly') readonly = v;
        else await s.queryAsync(`SET ${k} = ${sqlString(v)}`);
      }
      // The engine parses each value with the declared type's escaped-text rules, as the server does.
      for (const [k, v] of params) {
        if (!NAME_RE.test(k)) throw new FrontError(457, 'BAD_QUERY_PARAMETER', `Bad query parameter name ${k}`);
        await s.queryAsync(`SET param_${k} = ${sqlString(v)}`);
      }
      if (readonly !== null) await s.queryAsync(`SET readonly = ${sqlString(readonly)}`);
      return await s.queryAsync(sql, { format });
    } finally {
      s.close();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://front');
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    if (paused) {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('Service Unavailable (apitap test front paused)\n');
      return;
    }
    if (url.pathname === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return;
    }
    try {
      if (url.pathname !== '/') throw new FrontError(48, 'NOT_IMPLEMENTED', `There is no handle ${url.pathname}`);
      if (req.method !== 'GET' && req.method !== 'POST')
        throw new FrontError(48, 'NOT_IMPLEMENTED', `HTTP method ${req.method ?? ''}`);
      const cred = credentials(req, url);
      if (!same(cred.user, user) || !same(cred.password, password)) {
        throw new FrontError(
          516,
          'AUTHENTICATION_FAILED',
          `${cred.user}: Authentication failed: password is incorrect, or there is no user with such name`,
        );
      }
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') stats.compressedRequests++;
      const body = decodeBody(raw, encoding);
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
        throw new FrontError(48, 'NOT_IMPLEMENTED', 'multipart query parameters are not supported by the test front');
      }
      if (url.searchParams.has('session_id'))
        throw new FrontError(48, 'NOT_IMPLEMENTED', 'HTTP sessions are not supported by the test front');
      const urlQuery = url.searchParams.get('query');
      const sql =
        urlQuery === null
          ? body.toString('utf8')
          : body.length > 0
            ? `${urlQuery}\n${body.toString('utf8')}`
            : urlQuery;
      if (sql.trim() === '') throw new FrontError(62, 'SYNTAX_ERROR', 'Empty query');

      const settings: [string, string][] = [];
      const params: [string, string][] = [];
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) params.push([k.slice(6), v]);
        else if (!HTTP_ONLY.has(k)) settings.push([k, v]);
      }
      if (params.length > 0) stats.parameterisedRequests++;
      if (req.method === 'GET' && !settings.some(([k]) => k === 'readonly')) settings.push(['readonly', '2']);
      const defaultFormat = url.searchParams.get('default_format') ?? 'TabSeparated';
      const isInsert = /^\s*INSERT\b/i.test(sql);
      const format = isInsert
        ? defaultFormat
        : (/\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql)?.[1] ?? defaultFormat);

      const run = lane.then(() => execute(sql, url.searchParams.get('database'), settings, params, defaultFormat));
      lane = run.catch(() => undefined);
      const result = await run;

      const out = Buffer.from(result.bytes());
      const writtenRows =
        isInsert && body.length > 0
          ? body
              .toString('utf8')
              .split('\n')
              .filter((l) => l.trim() !== '').length
          : 0;
      const headers: Record<string, string> = {
        'Content-Type': contentType(format),
        'X-ClickHouse-Format': format,
        'X-ClickHouse-Query-Id': queryId,
        'X-ClickHouse-Timezone': 'UTC',
        'X-ClickHouse-Server-Display-Name': 'apitap-front',
        'X-ClickHouse-Summary': JSON.stringify({
          read_rows: String(result.rowsRead),
          read_bytes: String(result.bytesRead),
          written_rows: String(writtenRows),
          written_bytes: String(isInsert ? body.length : 0),
          total_rows_to_read: '0',
          result_rows: String(isInsert ? 0 : result.rowsRead),
          result_bytes: String(out.length),
          elapsed_ns: String(Math.round(result.elapsed * 1e9)),
        }),
        'Keep-Alive': 'timeout=10',
      };
      let payload = out;
      const accept = String(req.headers['accept-encoding'] ?? '');
      if (url.searchParams.get('enable_http_compression') === '1') {
        const codec = ['gzip', 'br', 'deflate'].find((c) => accept.includes(c));
        if (codec !== undefined) {
          payload =
            codec === 'gzip'
              ? zlib.gzipSync(out)
              : codec === 'br'
                ? zlib.brotliCompressSync(out)
                : zlib.deflateSync(out);
          headers['Content-Encoding'] = codec;
          stats.compressedResponses++;
        }
      }
      res.writeHead(200, headers);
      res.end(payload);
    } catch (err) {
      sendError(res, queryId, err);
    }
  }

  async function start(): Promise<void> {
    if (server !== null) return;
    const s = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
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
    stats: async () => ({ ...stats }),
    close: async () => {
      await stop();
      await lane;
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
