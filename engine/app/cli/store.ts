// Opening the store the CLI flags name: a ClickHouse server (--clickhouse URL, credentials from the
// environment only) or the embedded chDB store in a directory (--store DIR, the default).
import type { Store } from '../../adapters/store/types.js';

// The backends are imported when used: loading chDB maps the whole ClickHouse engine (~240 MB RSS,
// measured with `--help`), which collectors-only runs and ClickHouse-server deployments never need.

export interface StoreFlags {
  store?: string | false;
  clickhouse?: string;
}

export async function openStoreFromFlags(flags: StoreFlags): Promise<Store> {
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
    const { openChdbStore } = await import('../../adapters/store/chdb.js');
    store = await openChdbStore(typeof flags.store === 'string' ? flags.store : '.apitap');
  }
  await store.migrate();
  return store;
}
