// ClickHouse's HTTP interface (https://clickhouse.com/docs/interfaces/http), read-only, over the
// embedded store of a running `apitap watch` / `apitap analyze --store`: chDB binds a directory to one
// process, so the owner answers everyone else's queries (`apitap query --store`, @clickhouse/client,
// Grafana's ClickHouse data source).
//
// What it implements is what @clickhouse/client 1.x and curl send:
// - GET or POST / with the query in ?query= and/or the body (the body follows the URL query after a
//   newline, as the server does); FORMAT clause or ?default_format= (TabSeparated when neither).
// - ?param_<name>= values bound by the engine to {name:Type} placeholders (never spliced into SQL);
//   ?database=, ?query_id=; every other ?<setting>= is a setting (name checked).
// - READ-ONLY in the product (readonly=2 semantics, enforced by the engine: chdb-raw.ts): INSERT,
//   ALTER, DROP, CREATE and SET readonly fail with Code 164 READONLY (HTTP 403). `writable` (a
//   writable runner, the tests' stand-in server) accepts INSERT … FORMAT with the rows in the body, and
//   runs GET requests with readonly=2 as the server does.
// - Credentials: Basic auth, X-ClickHouse-User/-Key, or ?user=&password=; 516 AUTHENTICATION_FAILED.
// - Errors as "Code: N. DB::Exception: ... (NAME)" with X-ClickHouse-Exception-Code and the server's
//   status mapping; GET /ping → "Ok.\n"; gzip/deflate/br request bodies, compressed responses with
//   enable_http_compression=1.
// Not implemented (Code 48, HTTP 501): HTTP sessions, multipart parameters.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import type { Counters } from '../../contracts/counters.js';
import type { RawQueryRunner } from '../../adapters/store/chdb-raw.js';

export interface ClickHouseHandlerOptions {
  runner: RawQueryRunner;
  /** Accepted credentials; default user "default" with an empty password. */
  user?: string;
  password?: string;
  counters?: Counters;
  /** Engine version for error texts. */
  version?: string;
  /** Accept writes (the runner must be writable too). Default false. */
  writable?: boolean;
}

export interface ClickHouseHttpOptions extends ClickHouseHandlerOptions {
  /** Address to bind; loopback unless the operator says otherwise (the CLI then requires credentials). */
  host: string;
  /** 0 = a free port. */
  port: number;
}

export interface ClickHouseHttp {
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
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

/** The server's exception code → HTTP status (src/Server/HTTPHandler.cpp), for the codes that occur here. */
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401],
  ...[164, 192, 193, 516, 497].map((c) => [c, 403] as [number, number]),
  ...[6, 26, 27, 36, 38, 41, 53, 62, 72, 117, 456, 457].map((c) => [c, 400] as [number, number]),
  ...[46, 47, 50, 60, 73, 81, 115].map((c) => [c, 404] as [number, number]),
  [48, 501],
]);

const NAME_RE = /^[A-Za-z0-9_]+$/;
/** Request bodies larger than this are refused (a read-only query never needs more). */
const MAX_QUERY_BODY = 1 << 20;
/** The same for a writable handler (INSERT rows in the body). */
const MAX_INSERT_BODY = 256 << 20;

export class HttpQueryError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= max) chunks.push(c);
    });
    req.on('end', () =>
      n > max
        ? fail(new HttpQueryError(307, 'TOO_MANY_BYTES', `request body over ${max} bytes`))
        : ok(Buffer.concat(chunks)),
    );
    req.on('error', fail);
  });
}

function decodeBody(raw: Buffer, encoding: string | undefined, max: number): Buffer {
  switch (encoding) {
    case undefined:
    case '':
    case 'identity':
      return raw;
    case 'gzip':
      return zlib.gunzipSync(raw, { maxOutputLength: max });
    case 'deflate':
      return zlib.inflateSync(raw, { maxOutputLength: max });
    case 'br':
      return zlib.brotliDecompressSync(raw, { maxOutputLength: max });
    default:
      throw new HttpQueryError(48, 'NOT_IMPLEMENTED', `Unknown Content-Encoding: ${encoding}`);
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

export function contentType(format: string): string {
  if (format === 'JSONEachRow' || format.startsWith('JSONCompactEachRow') || format.startsWith('JSONStringsEachRow')) {
    return 'application/x-ndjson; charset=UTF-8';
  }
  if (format.startsWith('JSON')) return 'application/json; charset=UTF-8';
  if (format.startsWith('TabSeparated') || format.startsWith('TSV')) return 'text/tab-separated-values; charset=UTF-8';
  if (format.startsWith('CSV')) return 'text/csv; charset=UTF-8';
  return 'text/plain; charset=UTF-8';
}

/** The request handler alone, for a caller that owns the listener (see serveClickHouseHttp). */
export function createClickHouseHandler(
  opts: ClickHouseHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const user = opts.user ?? 'default';
  const password = opts.password ?? '';
  const version = opts.version ?? 'apitap';
  const counters = opts.counters;
  const writable = opts.writable === true;
  const maxBody = writable ? MAX_INSERT_BODY : MAX_QUERY_BODY;

  function sendError(res: ServerResponse, queryId: string, err: unknown): void {
    counters?.inc('serve_http_errors');
    let code: number;
    let body: string;
    if (err instanceof HttpQueryError) {
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
      'X-ClickHouse-Server-Display-Name': 'apitap',
    });
    res.end(`${body.trimEnd()} (version ${version})\n`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apitap');
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    if (url.pathname === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return;
    }
    try {
      const raw = await readBody(req, maxBody);
      if (url.pathname !== '/') throw new HttpQueryError(48, 'NOT_IMPLEMENTED', `There is no handle ${url.pathname}`);
      if (req.method !== 'GET' && req.method !== 'POST')
        throw new HttpQueryError(48, 'NOT_IMPLEMENTED', `HTTP method ${req.method ?? ''}`);
      const cred = credentials(req, url);
      if (!same(cred.user, user) || !same(cred.password, password)) {
        throw new HttpQueryError(
          516,
          'AUTHENTICATION_FAILED',
          `${cred.user}: Authentication failed: password is incorrect, or there is no user with such name`,
        );
      }
      const body = decodeBody(raw, req.headers['content-encoding'], maxBody);
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/form-data'))
        throw new HttpQueryError(48, 'NOT_IMPLEMENTED', 'multipart query parameters are not supported');
      if (url.searchParams.has('session_id'))
        throw new HttpQueryError(48, 'NOT_IMPLEMENTED', 'HTTP sessions are not supported');
      const urlQuery = url.searchParams.get('query');
      const text = body.toString('utf8');
      const sql = urlQuery === null ? text : body.length > 0 ? `${urlQuery}\n${text}` : urlQuery;
      if (sql.trim() === '') throw new HttpQueryError(62, 'SYNTAX_ERROR', 'Empty query');

      const settings: [string, string][] = [];
      const params: [string, string][] = [];
      for (const [k, v] of url.searchParams) {
        if (k.startsWith('param_')) {
          const name = k.slice(6);
          if (!NAME_RE.test(name))
            throw new HttpQueryError(457, 'BAD_QUERY_PARAMETER', `Bad query parameter name ${name}`);
          params.push([name, v]);
        } else if (!HTTP_ONLY.has(k)) {
          if (!NAME_RE.test(k)) throw new HttpQueryError(115, 'UNKNOWN_SETTING', `Unknown setting ${k}`);
          settings.push([k, v]);
        }
      }
      if (writable && req.method === 'GET' && !settings.some(([k]) => k === 'readonly'))
        settings.push(['readonly', '2']);
      const defaultFormat = url.searchParams.get('default_format') ?? 'TabSeparated';
      if (!NAME_RE.test(defaultFormat))
        throw new HttpQueryError(73, 'UNKNOWN_FORMAT', `Unknown format ${defaultFormat}`);
      // An INSERT's FORMAT names its input; the (empty) output is in the default format.
      const insert = writable && /^\s*INSERT\b/i.test(sql);
      const format = insert ? defaultFormat : (/\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql)?.[1] ?? defaultFormat);
      const insertRows = insert && urlQuery !== null ? text.split('\n').filter((l) => l.trim() !== '').length : 0;
      const database = url.searchParams.get('database');
      const result = await opts.runner({ sql, database, settings, params, format: defaultFormat });
      counters?.inc('serve_http_queries');
      const headers: Record<string, string> = {
        'Content-Type': contentType(format),
        'X-ClickHouse-Format': format,
        'X-ClickHouse-Query-Id': queryId,
        'X-ClickHouse-Timezone': 'UTC',
        'X-ClickHouse-Server-Display-Name': 'apitap',
        'X-ClickHouse-Summary': JSON.stringify({
          read_rows: String(result.rowsRead),
          read_bytes: String(result.bytesRead),
          written_rows: String(insertRows),
          written_bytes: String(insert ? body.length : 0),
          total_rows_to_read: '0',
          result_rows: String(insert ? 0 : result.rowsRead),
          result_bytes: String(result.bytes.length),
          elapsed_ns: String(Math.round(result.elapsedSeconds * 1e9)),
        }),
      };
      let payload = result.bytes;
      const accept = String(req.headers['accept-encoding'] ?? '');
      if (url.searchParams.get('enable_http_compression') === '1') {
        const codec = ['gzip', 'br', 'deflate'].find((c) => accept.includes(c));
        if (codec !== undefined) {
          payload =
            codec === 'gzip'
              ? zlib.gzipSync(payload)
              : codec === 'br'
                ? zlib.brotliCompressSync(payload)
                : zlib.deflateSync(payload);
          headers['Content-Encoding'] = codec;
        }
      }
      res.writeHead(200, headers);
      res.end(payload);
    } catch (err) {
      sendError(res, queryId, err);
    }
  }
  return handle;
}

export async function serveClickHouseHttp(opts: ClickHouseHttpOptions): Promise<ClickHouseHttp> {
  const handle = createClickHouseHandler(opts);
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 10_000;
  server.on('connection', (sock: Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address() as { address: string; port: number };
  const hostText = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return {
    host: addr.address,
    port: addr.port,
    url: `http://${hostText}:${addr.port}`,
    async close() {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** Loopback addresses (the default bind; anything else needs credentials). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
