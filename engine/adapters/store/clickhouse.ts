// Server backend: a ClickHouse server over HTTP(S) with @clickhouse/client, the same SQL layer as
// the embedded store (sql.ts). Modelled on Vector's ClickHouse sink: JSONEachRow inserts in
// batches, gzip both ways, retries with backoff and jitter on transient failures only.
//
// Errors: every failure is a StoreError. Transient ones (connection refused/reset, timeouts, a
// non-ClickHouse 5xx from a proxy, overload codes such as TOO_MANY_PARTS) are retried
// `retry.attempts` times and then surface as 'store_unavailable' (retryable: the caller keeps its
// Kafka offsets and tries later). A request the server refuses surfaces at once as
// 'store_rejected'; bad credentials or grants as 'store_config'. Retrying an INSERT whose first
// attempt did land is harmless: the tables fold equal keys (ReplacingMergeTree, FINAL reads).
//
// Credentials come only from options (the CLI reads APITAP_CLICKHOUSE_USER/PASSWORD); a URL with
// user:password@ is refused so secrets never sit in a command line or a log. The client's own
// logger is off: it would print query parameters on request errors.
import { ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseClientConfigOptions, ClickHouseSettings } from '@clickhouse/client';
import { z } from 'zod';
import type { CounterName } from '../../contracts/catalogue.js';
import type { Counters } from '../../contracts/counters.js';
import { codeForClickHouse, StoreError, STORE_ERROR_CODES } from './errors.js';
import type { StoreErrorCode } from './errors.js';

/** The catalogue counter of each store error code. */
const ERROR_COUNTER: Record<StoreErrorCode, CounterName> = {
  store_unavailable: 'store_errors_unavailable',
  store_rejected: 'store_errors_rejected',
  store_config: 'store_errors_config',
  store_closed: 'store_errors_closed',
};
import { createSqlStore } from './sql.js';
import type { Params, Row, SqlBackend } from './sql.js';
import type { Store } from './types.js';

const Pem = z.union([z.string(), z.instanceof(Buffer)]);

export const ClickHouseStoreOptions = z.object({
  /** http(s)://host:port[/database]; no credentials, no query string. */
  url: z.string(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Overrides the database in the URL path; default "default". Created by migrate() if missing. */
  database: z.string().optional(),
  /** Trust anchors (and client certificate for mutual TLS) in PEM. */
  tls: z.object({ caCert: Pem, cert: Pem.optional(), key: Pem.optional() }).optional(),
  /** Per-request socket timeout. */
  requestTimeoutMs: z.number().int().positive().default(30_000),
  retry: z
    .object({
      /** Tries per request, the first included. */
      attempts: z.number().int().min(1).default(5),
      /** Backoff before retry n is drawn from [d/2, d] with d = min(maxDelayMs, baseDelayMs * 2^(n-1)). */
      baseDelayMs: z.number().int().nonnegative().default(200),
      maxDelayMs: z.number().int().nonnegative().default(5_000),
    })
    .prefault({}),
  /** Rows per INSERT request. */
  batchRows: z.number().int().positive().optional(),
  /** Directory of NNN_*.sql migrations (default deploy/clickhouse). */
  migrationsDir: z.string().optional(),
});
export type ClickHouseStoreOptions = z.input<typeof ClickHouseStoreOptions>;

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_MESSAGE = 600;
/** Node socket errors that mean "not reachable right now". */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
/** Client-side refusals that arrive as plain Errors but are not transport failures. */
const CLIENT_REJECTIONS = [/^Unsupported value in query parameters/, /^Cannot encode/, /^Unsupported data format/];

function configError(message: string, cause?: unknown): StoreError {
  return new StoreError(STORE_ERROR_CODES.config, message, { cause });
}

/** Classifies whatever @clickhouse/client threw. */
export function mapClientError(err: unknown, what: string, target: string): StoreError {
  if (err instanceof StoreError) return err;
  const prefix = `${what} on ClickHouse ${target}`;
  if (err instanceof ClickHouseError) {
    const chCode = Number(err.code);
    return new StoreError(codeForClickHouse(chCode), `${prefix}: ${err.message.slice(0, MAX_MESSAGE)} (${err.type})`, {
      cause: err,
      clickhouseCode: chCode,
    });
  }
  const e = err as { code?: unknown; message?: unknown };
  const message = String(e.message ?? err).slice(0, MAX_MESSAGE);
  if (typeof e.code === 'string' && TRANSIENT_SOCKET_CODES.has(e.code)) {
    return new StoreError(STORE_ERROR_CODES.unavailable, `${prefix}: ${e.code}`, { cause: err });
  }
  if (CLIENT_REJECTIONS.some((re) => re.test(message))) {
    return new StoreError(STORE_ERROR_CODES.rejected, `${prefix}: ${message}`, { cause: err });
  }
  // Timeouts, "socket hang up", and error bodies that are not ClickHouse's own (a proxy's 502/503
  // page): the HTTP status is not exposed by the client, so these count as transient.
  return new StoreError(STORE_ERROR_CODES.unavailable, `${prefix}: ${message}`, { cause: err });
}

interface Target {
  origin: string;
  database: string;
  /** origin/database, without credentials: safe for messages. */
  display: string;
}

function parseTarget(url: string, database: string | undefined): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw configError('ClickHouse URL is malformed (expected http[s]://host:port[/database])', cause);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw configError(`ClickHouse URL must be http or https, got ${u.protocol}`);
  if (u.username !== '' || u.password !== '') {
    throw configError(
      'ClickHouse URL must not carry credentials; set APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD',
    );
  }
  if (u.search !== '' || u.hash !== '') throw configError('ClickHouse URL must not have a query string or fragment');
  const segments = u.pathname.split('/').filter((s) => s !== '');
  if (segments.length > 1) throw configError('ClickHouse URL path may only name the database');
  const db = database ?? (segments[0] !== undefined ? decodeURIComponent(segments[0]) : 'default');
  if (!IDENT_RE.test(db)) throw configError('ClickHouse database name must match [A-Za-z_][A-Za-z0-9_]*');
  return { origin: u.origin, database: db, display: `${u.origin}/${db}` };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Connects to a ClickHouse server, checks reachability and credentials (SELECT 1, with retries),
 * and returns the Store. Call migrate() before writing: it creates the database if missing.
 */
export async function openClickHouseStore(options: ClickHouseStoreOptions, counters?: Counters): Promise<Store> {
  const parsed = ClickHouseStoreOptions.safeParse(options);
  if (!parsed.success) throw configError(`invalid ClickHouse store options: ${z.prettifyError(parsed.error)}`);
  const opts = parsed.data;
  const target = parseTarget(opts.url, opts.database);

  const base: ClickHouseClientConfigOptions = {
    url: target.origin,
    username: opts.username ?? 'default',
    password: opts.password ?? '',
    application: 'apitap',
    request_timeout: opts.requestTimeoutMs,
    compression: { request: true, response: true },
    log: { level: ClickHouseLogLevel.OFF },
  };
  if (opts.tls !== undefined) {
    const pem = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);
    base.tls =
      opts.tls.cert !== undefined && opts.tls.key !== undefined
        ? { ca_cert: pem(opts.tls.caCert), cert: pem(opts.tls.cert), key: pem(opts.tls.key) }
        : { ca_cert: pem(opts.tls.caCert) };
  }
  const client: ClickHouseClient = createClient({ ...base, database: target.database });
  const { attempts, baseDelayMs, maxDelayMs } = opts.retry;

  async function withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const e = mapClientError(err, what, target.display);
        if (!e.retryable || attempt >= attempts) {
          counters?.inc(ERROR_COUNTER[e.code]);
          throw e;
        }
        counters?.inc('store_retries');
        const d = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        await sleep(d / 2 + (Math.random() * d) / 2);
      }
    }
  }

  const noParams = (p?: Params): boolean => p === undefined || Object.keys(p).length === 0;
  /** Store.query: the engine refuses writes (readonly=2 still lets the client set its HTTP settings) and reads deduplicated rows. */
  const readonlySettings = { readonly: '2', final: 1 } as ClickHouseSettings;

  const backend: SqlBackend = {
    target: target.display,
    async exec(sql, params) {
      await withRetry('statement', () =>
        client.command({ query: sql, ...(noParams(params) ? {} : { query_params: params as Params }) }),
      );
    },
    async select(sql, params, o) {
      return withRetry('query', async () => {
        const rs = await client.query({
          query: sql,
          format: 'JSONEachRow',
          ...(noParams(params) ? {} : { query_params: params as Params }),
          ...(o?.readonly === true ? { clickhouse_settings: readonlySettings } : {}),
        });
        return rs.json<Row>();
      });
    },
    async insert(table, columns, rows) {
      if (rows.length === 0) return;
      await withRetry(`insert into ${table}`, () =>
        client.insert({
          table,
          columns: columns as [string, ...string[]],
          values: rows as Row[],
          format: 'JSONEachRow',
        }),
      );
    },
    async ensureDatabase() {
      if (target.database === 'default') return;
      // The client above names the database on every request, which fails until it exists.
      const admin = createClient(base);
      try {
        const rows = await withRetry('database check', async () =>
          (
            await admin.query({
              query: 'SELECT name FROM system.databases WHERE name = {db:String}',
              format: 'JSONEachRow',
              query_params: { db: target.database },
            })
          ).json<Row>(),
        );
        if (rows.length > 0) return;
        try {
          await withRetry('create database', () =>
            admin.command({
              query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}',
              query_params: { db: target.database },
            }),
          );
        } catch (err) {
          if (!(err instanceof StoreError && err.clickhouseCode === 82)) throw err; // a concurrent runner made it
        }
      } finally {
        await admin.close();
      }
    },
    async close() {
      await client.close();
    },
  };

  // Fail fast on an unreachable server or wrong credentials (/ping would not check them).
  try {
    await withRetry('connect', async () => {
      const admin = createClient(base);
      try {
        await (await admin.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
      } finally {
        await admin.close();
      }
    });
  } catch (err) {
    await client.close();
    throw err;
  }
  return createSqlStore(backend, { counters, batchRows: opts.batchRows, migrationsDir: opts.migrationsDir });
}
