// The store owner's side of "query while it runs": serve the ClickHouse HTTP interface over the
// embedded store and advertise it in the store directory (discovery.ts).
import type { Counters } from '../../contracts/counters.js';
import { createChdbRawRunner } from '../../adapters/store/chdb-raw.js';
import { isLoopback, serveClickHouseHttp, type ClickHouseHttp } from './clickhouse-http.js';
import { removeServeFile, writeServeFile } from './discovery.js';

export class ServeConfigError extends Error {
  readonly code = 'serve_config';
}

/** "ADDR:PORT" (IPv6 in brackets) → host and port; 'none' → null. */
export function parseHttpAddress(spec: string): { host: string; port: number } | null {
  if (spec === 'none') return null;
  const m = /^(.*):(\d+)$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new ServeConfigError(`--http wants address:port or none, got ${JSON.stringify(spec)}`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

export interface StoreServer {
  readonly http: ClickHouseHttp;
  close(): Promise<void>;
}

/**
 * Serves the store in `dir` on `host:port`. Credentials come from APITAP_HTTP_USER /
 * APITAP_HTTP_PASSWORD; off loopback they are required (a ServeConfigError otherwise).
 */
export async function serveStore(
  dir: string,
  addr: { host: string; port: number },
  counters: Counters,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoreServer> {
  const user = env['APITAP_HTTP_USER'];
  const password = env['APITAP_HTTP_PASSWORD'];
  const hasCreds = user !== undefined && user !== '' && password !== undefined && password !== '';
  if (!isLoopback(addr.host) && !hasCreds) {
    throw new ServeConfigError(
      `--http ${addr.host}:${addr.port} is not loopback: set APITAP_HTTP_USER and APITAP_HTTP_PASSWORD`,
    );
  }
  const http = await serveClickHouseHttp({
    runner: createChdbRawRunner(dir),
    host: addr.host,
    port: addr.port,
    counters,
    ...(user !== undefined && user !== '' ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  });
  // Clients on this machine reach a wildcard bind through loopback.
  const url =
    http.host === '0.0.0.0'
      ? `http://127.0.0.1:${http.port}`
      : http.host === '::'
        ? `http://[::1]:${http.port}`
        : http.url;
  writeServeFile(dir, url);
  return {
    http,
    async close() {
      removeServeFile(dir);
      await http.close();
    },
  };
}
