// Opening the store the CLI flags name: a ClickHouse server (--clickhouse URL, credentials from the
// environment only) or the embedded chDB store in a directory (--store DIR, the default).
import { openChdbStore } from '../store/chdb.js';
import { openClickHouseStore } from '../store/clickhouse.js';
import type { Store } from '../store/types.js';

export interface StoreFlags {
  store?: string | false;
  clickhouse?: string;
}

export async function openStoreFromFlags(flags: StoreFlags): Promise<Store> {
  let store: Store;
  if (flags.clickhouse !== undefined) {
    const user = process.env['APITAP_CLICKHOUSE_USER'];
    const password = process.env['APITAP_CLICKHOUSE_PASSWORD'];
    store = await openClickHouseStore({
      url: flags.clickhouse,
      ...(user !== undefined ? { username: user } : {}),
      ...(password !== undefined ? { password } : {}),
    });
  } else {
    store = await openChdbStore(typeof flags.store === 'string' ? flags.store : '.apitap');
  }
  await store.migrate();
  return store;
}
