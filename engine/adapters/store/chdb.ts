// Embedded backend: the ClickHouse engine in-process (npm chdb), data in a local directory.
//
// chDB binds ONE data directory per process (node_modules/chdb/README.md, "One data directory at a
// time"): a Session at a second path throws while the first is open, and moving to another path
// needs close() + drainPending(). The module-level registry below turns that into a clear
// 'store_config' error and does the drain on the last close. Several stores on the SAME directory
// coexist (each Session is its own connection with its own settings).
//
// Each store holds two Sessions: a writer, and a reader set to readonly=2 once at open, on which
// Store.query runs, so the engine itself refuses writes and DDL from user SQL (readonly cannot be
// lowered again on that connection). All calls use chDB's async API (work runs on the libuv pool,
// not the event loop); calls on one Session are queued so one connection never runs two at once.
import { resolve } from 'node:path';
import { drainPending, Session } from 'chdb';
import type { Counters } from '../../contracts/counters.js';
import { codeForClickHouse, StoreError, STORE_ERROR_CODES } from './errors.js';
import { checkStoreDirectory } from './directory.js';
import { createSqlStore, parseJsonEachRow, toJsonEachRow, withJsonEachRow } from './sql.js';
import type { Params, Row, SqlBackend, SqlStoreOptions } from './sql.js';
import type { Store } from './types.js';

export type ChdbStoreOptions = Omit<SqlStoreOptions, 'counters'>;

/** The directory this process's chDB engine is bound to, and how many stores use it. */
const registry: { path: string | null; refs: number } = { path: null, refs: 0 };

const MAX_MESSAGE = 600;

function mapChdbError(err: unknown, what: string, dir: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { message?: unknown; code?: unknown; clickhouseCode?: unknown };
  const text = String(e.message ?? err).slice(0, MAX_MESSAGE);
  const chCode = typeof e.clickhouseCode === 'number' ? e.clickhouseCode : undefined;
  let code: StoreError['code'];
  if (chCode !== undefined) code = codeForClickHouse(chCode);
  else if (e.code === 'CHDB_CLOSED' || e.code === 'CHDB_CONNECTION') code = STORE_ERROR_CODES.closed;
  else code = STORE_ERROR_CODES.rejected;
  return new StoreError(code, `${what} on chDB ${dir}: ${text}`, { cause: err, clickhouseCode: chCode });
}

/** Serialises calls on one Session (one in flight per native connection). */
class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }
  idle(): Promise<unknown> {
    return this.tail;
  }
}

/**
 * Opens (creating if needed) the embedded store in `dir`. Call migrate() before writing.
 * Fails with 'store_config' when the directory is unusable or another directory is open in this
 * process.
 */
export async function openChdbStore(dir: string, counters?: Counters, opts: ChdbStoreOptions = {}): Promise<Store> {
  const path = resolve(dir);
  checkStoreDirectory(path);
  if (registry.path !== null && registry.path !== path) {
    throw new StoreError(
      STORE_ERROR_CODES.config,
      `chDB allows one data directory per process: ${registry.path} is open, cannot open ${path}`,
    );
  }
  let writer: Session | undefined;
  let reader: Session | undefined;
  try {
    writer = new Session(path);
    reader = new Session(path);
    await reader.queryAsync('SET final = 1');
    await reader.queryAsync('SET readonly = 2');
  } catch (err) {
    writer?.close();
    reader?.close();
    const e = mapChdbError(err, 'open', path);
    throw new StoreError(STORE_ERROR_CODES.config, e.message, { cause: err, clickhouseCode: e.clickhouseCode });
  }
  registry.path = path;
  registry.refs++;

  const w = writer;
  const r = reader;
  const wLane = new Lane();
  const rLane = new Lane();
  let closed = false;

  const call = async <T>(lane: Lane, what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await lane.run(fn);
    } catch (err) {
      throw mapChdbError(err, what, path);
    }
  };

  const backend: SqlBackend = {
    target: path,
    async exec(sql: string, params?: Params): Promise<void> {
      await call(wLane, 'statement', () =>
        params !== undefined && Object.keys(params).length > 0 ? w.queryBindAsync(sql, params) : w.queryAsync(sql),
      );
    },
    async select(sql: string, params?: Params, o?: { readonly?: boolean }): Promise<Row[]> {
      const s = o?.readonly === true ? r : w;
      const full = withJsonEachRow(sql);
      const res = await call(o?.readonly === true ? rLane : wLane, 'query', () =>
        params !== undefined && Object.keys(params).length > 0
          ? s.queryBindAsync(full, params, { format: 'JSONEachRow' })
          : s.queryAsync(full, { format: 'JSONEachRow' }),
      );
      try {
        return parseJsonEachRow(res.text());
      } catch (cause) {
        throw new StoreError(STORE_ERROR_CODES.rejected, `query on chDB ${path}: result is not JSONEachRow`, { cause });
      }
    },
    async insert(table: string, columns: readonly string[], rows: readonly Row[]): Promise<void> {
      if (rows.length === 0) return;
      // Raw passthrough insert: the payload is handed to the engine's parser as bytes.
      const values = Buffer.from(toJsonEachRow(rows));
      await call(wLane, `insert into ${table}`, () => w.insert({ table, columns, format: 'JSONEachRow', values }));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([wLane.idle(), rLane.idle()]);
      w.close();
      r.close();
      registry.refs--;
      if (registry.refs === 0) {
        // close() can return before the native connection is gone; wait so that another
        // directory can be opened next in this process.
        await drainPending();
        registry.path = null;
      }
    },
  };
  return createSqlStore(backend, { ...opts, counters });
}
