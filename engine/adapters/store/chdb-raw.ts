// Raw-format, read-only queries on the embedded store's directory, for the ClickHouse HTTP interface
// (engine/app/serve/clickhouse-http.ts): the engine formats the result (TabSeparated, JSON, ...) and
// the bytes go to the client unchanged.
//
// Each query runs on its own chDB Session (a connection to the same directory, beside the store's
// own; chdb.ts), so settings and parameters of one request never leak into another. Read-only runners
// (the product's) set the session to readonly=2 before any user setting: the engine refuses INSERT,
// ALTER, DROP, CREATE and any attempt to lower readonly (Code 164), while SELECT settings stay
// adjustable; final=1 by default, so reads see deduplicated rows like Store.query. A writable runner
// behaves like a ClickHouse server (no final, a `readonly` setting from the request applied last): the
// tests' stand-in server for @clickhouse/client (test/support/clickhouse-front.ts).
import { resolve } from 'node:path';
import type * as ChdbModule from 'chdb';

/**
 * chDB's native library is loaded on the first query, not when this module is imported: the CLI
 * imports the HTTP interface for `watch` and `collect`, and loading the library maps ~140 MB of RSS
 * (measured: an empty `replay --no-store` 321 → 175 MB peak RSS) that a run without a store never uses.
 */
let chdb: Promise<typeof ChdbModule> | null = null;
const loadChdb = (): Promise<typeof ChdbModule> => (chdb ??= import('chdb'));

export interface RawQuery {
  sql: string;
  /** Database to USE first (validated name), null for the default. */
  database: string | null;
  /** Settings from the request, applied after readonly=2 (names validated by the caller). */
  settings: readonly (readonly [string, string])[];
  /** {name:Type} parameter values in ClickHouse's escaped text form. */
  params: readonly (readonly [string, string])[];
  /** Output format when the SQL has no FORMAT clause. */
  format: string;
}

export interface RawResult {
  bytes: Buffer;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

export type RawQueryRunner = (q: RawQuery) => Promise<RawResult>;

/** A SQL string literal whose value is exactly `s`. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const NAME = /^[A-Za-z0-9_]+$/;

/** Queries run one at a time (one engine per process; the store's writes go on beside them). */
export function createChdbRawRunner(dir: string, mode: 'readonly' | 'writable' = 'readonly'): RawQueryRunner {
  const path = resolve(dir);
  const writable = mode === 'writable';
  let lane: Promise<unknown> = Promise.resolve();
  async function run(q: RawQuery): Promise<RawResult> {
    const { Session } = await loadChdb();
    const s = new Session(path);
    try {
      if (!writable) {
        await s.queryAsync('SET final = 1');
        await s.queryAsync('SET readonly = 2');
      }
      if (q.database !== null && q.database !== 'default') {
        if (!NAME.test(q.database))
          throw Object.assign(new Error(`Database ${q.database} does not exist`), { clickhouseCode: 81 });
        await s.queryAsync(`USE \`${q.database}\``);
      }
      // readonly last: it would refuse the SETs after it.
      let readonly: string | null = null;
      for (const [k, v] of q.settings) {
        if (k === 'readonly' && writable) readonly = v;
        else await s.queryAsync(`SET ${k} = ${sqlString(v)}`);
      }
      for (const [k, v] of q.params) await s.queryAsync(`SET param_${k} = ${sqlString(v)}`);
      if (readonly !== null) await s.queryAsync(`SET readonly = ${sqlString(readonly)}`);
      const r = await s.queryAsync(q.sql, { format: q.format });
      return { bytes: Buffer.from(r.bytes()), rowsRead: r.rowsRead, bytesRead: r.bytesRead, elapsedSeconds: r.elapsed };
    } finally {
      s.close();
    }
  }
  return (q) => {
    const p = lane.then(() => run(q));
    lane = p.catch(() => undefined);
    return p;
  };
}
