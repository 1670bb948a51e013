// Opening the store the CLI flags name: a ClickHouse server (--clickhouse URL, credentials from the
// environment only) or the embedded chDB store in a directory (--store DIR, the default).
//
// chDB binds a directory to one process. When a running `apitap watch` / `analyze --store` owns DIR
// (DIR/serve.json names its live ClickHouse HTTP interface, engine/app/serve/discovery.ts), readers
// (query, endpoints, findings) go through that interface (credentials APITAP_HTTP_USER /
// APITAP_HTTP_PASSWORD); writers fail with a clear message instead of chDB's lock error.
import { resolve } from 'node:path';
import type { Store } from '../../adapters/store/types.js';
import { StoreError, STORE_ERROR_CODES } from '../../adapters/store/errors.js';
import { checkStoreDirectory } from '../../adapters/store/directory.js';
import { readServeFile } from '../serve/discovery.js';

// The backends are imported when used: loading chDB maps the whole ClickHouse engine (~240 MB RSS,
// measured with `--help`), which collectors-only runs and ClickHouse-server deployments never need.

export interface StoreFlags {
  store?: string | false;
  clickhouse?: string;
}

/**
 * What openStoreFromFlags(flags, 'write') would refuse for an embedded store, checked without loading
 * chDB: a directory owned by a running apitap, or one that cannot be created or written. A replay that
 * opens its store only at the end (replay-threads.ts) calls this first, so it still fails fast.
 */
export function checkEmbeddedStore(dir: string): void {
  const owner = readServeFile(dir);
  if (owner !== null) {
    throw new StoreError(
      STORE_ERROR_CODES.config,
      `store ${dir} is owned by a running apitap (pid ${owner.pid}, serving ${owner.url}); stop it or use another --store`,
    );
  }
  checkStoreDirectory(resolve(dir));
}

export async function openStoreFromFlags(flags: StoreFlags, mode: 'read' | 'write' = 'write'): Promise<Store> {
  let store: Store;
  if (flags.clickhouse !== undefined) {
    const user = process.env['APITAP_CLICKHOUSE_USER'];
    const password = process.env['APITAP_CLICKHOUSE_PASSWORD'];
    const { openClickHouseStore } = await import('../../adapters/store/clickhouse.js');
    store = await openClickHouseStore({
      url: flags.clickhouse,
      ...(user !== undefined ? { username: user } : {}),
      ...(password !== undefined ? { password } : {}),
    });
  } else {
    const dir = typeof flags.store === 'string' ? flags.store : '.apitap';
    const owner = readServeFile(dir);
    if (owner !== null) {
      if (mode === 'write') {
        throw new StoreError(
          STORE_ERROR_CODES.config,
          `store ${dir} is owned by a running apitap (pid ${owner.pid}, serving ${owner.url}); stop it or use another --store`,
        );
      }
      const user = process.env['APITAP_HTTP_USER'];
      const password = process.env['APITAP_HTTP_PASSWORD'];
      const { openClickHouseStore } = await import('../../adapters/store/clickhouse.js');
      // Read-only through the owner: no migrate (the owner ran it).
      return openClickHouseStore({
        url: owner.url,
        ...(user !== undefined ? { username: user } : {}),
        ...(password !== undefined ? { password } : {}),
      });
    }
    const { openChdbStore } = await import('../../adapters/store/chdb.js');
    store = await openChdbStore(dir);
  }
  await store.migrate();
  return store;
}
