// Endpoints that a later template decision merged away. A continuous pipeline writes a host's
// endpoints at every snapshot; when /products/SKU-1 … /products/SKU-4 (kept literal: too few values)
// later become /products/{productId}, the literal rows would stay in the ReplacingMergeTree (its key
// is the path) and count their hits twice. Each such row is rewritten as a tombstone: hits 0, same
// version (last_seen), inserted later, so it wins; its explain is ENDPOINT_TOMBSTONE, and
// Store.endpoints() skips it. Raw SQL over `endpoints` sees it with hits 0 (sums stay right).
import type { EndpointRecord } from '../../contracts/inventory.js';
import { ENDPOINT_TOMBSTONE } from '../../adapters/store/sql.js';
import { usFromIso } from '../../../analyzers/endpoints/restore.js';

const key = (e: EndpointRecord): string => `${e.method} ${e.path}`;

/**
 * The version of a continuous writer's next endpoint write: above the previous one (so each write
 * supersedes every earlier row of its keys, tombstones included, whatever their lastSeen), and at
 * least the rows' latest lastSeen in µs (so it also stays above rows a replay wrote for older
 * traffic). `previous` starts at Store.maxEndpointVersion().
 */
export function nextVersion(previous: number, rows: readonly EndpointRecord[]): number {
  let v = previous + 1;
  for (const r of rows) {
    const us = usFromIso(r.lastSeen);
    if (us !== null && us > v) v = us;
  }
  return v;
}

export class EndpointLedger {
  /** host → "METHOD path" → the row last written (or restored). */
  private readonly written = new Map<string, Map<string, EndpointRecord>>();

  /** Rows already in the store (restore). */
  seed(rows: readonly EndpointRecord[]): void {
    for (const r of rows) this.hostMap(r.host).set(key(r), r);
  }

  /**
   * The rows to write for `hosts` whose current endpoints are `current`: the current rows, then a
   * tombstone for every earlier row of those hosts that is no longer current. Call after the write
   * succeeded: commit(current, hosts).
   */
  rows(hosts: readonly string[], current: readonly EndpointRecord[]): EndpointRecord[] {
    const now = new Set(current.map((e) => `${e.host} ${key(e)}`));
    const out = [...current];
    for (const h of hosts) {
      for (const [k, old] of this.written.get(h) ?? []) {
        if (!now.has(`${h} ${k}`) && !old.explain.includes(ENDPOINT_TOMBSTONE))
          out.push({ ...old, hits: 0, statusClasses: {}, pii: [], explain: [ENDPOINT_TOMBSTONE] });
      }
    }
    return out;
  }

  commit(hosts: readonly string[], current: readonly EndpointRecord[]): void {
    for (const h of hosts) this.written.set(h, new Map());
    for (const e of current) this.hostMap(e.host).set(key(e), e);
  }

  private hostMap(host: string): Map<string, EndpointRecord> {
    let m = this.written.get(host);
    if (m === undefined) this.written.set(host, (m = new Map()));
    return m;
  }
}
