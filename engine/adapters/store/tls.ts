// The `tls` table (migration 009): TlsEndpoint rows to and from ClickHouse JSONEachRow rows.
// Kept beside sql.ts (which owns the table and column names, batching and transport); both backends
// share it. sql.ts and this module import each other, so only function declarations cross: nothing
// here reads sql.ts at module evaluation.
import { TlsEndpoint } from '../../contracts/tls.js';
import { StoreError, STORE_ERROR_CODES } from './errors.js';
import type { Row } from './sql.js';
import { chTimeFromIso, COLUMNS, isoFromChTime, TABLES, usFromIso } from './sql.js';

export function tlsToRow(t: TlsEndpoint): Row {
  return {
    server: t.server,
    port: t.port,
    // An SNI is never empty (RFC 6066 §3: HostName<1..2^16-1>), so '' stands for "none" in the key.
    sni: t.sni ?? '',
    versions: t.versions,
    alpn: t.alpn,
    cipher: t.cipher,
    certificate: t.certificate === null ? '' : JSON.stringify(t.certificate),
    connections: t.connections,
    first_seen: chTimeFromIso(t.firstSeen, 'tls.firstSeen'),
    last_seen: chTimeFromIso(t.lastSeen, 'tls.lastSeen'),
    version: usFromIso(t.lastSeen, 'tls.lastSeen'),
  };
}

export function selectTls(): string {
  return (
    `SELECT ${COLUMNS.tls.filter((c) => c !== 'version').join(', ')} ` +
    `FROM ${TABLES.tls} FINAL ORDER BY server, port, sni`
  );
}

const num = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number));

export function tlsFromRow(r: Row): TlsEndpoint {
  let certificate: unknown = null;
  const text = String(r['certificate'] ?? '');
  if (text !== '') {
    try {
      certificate = JSON.parse(text);
    } catch (cause) {
      throw new StoreError(STORE_ERROR_CODES.rejected, 'tls.certificate is not JSON', { cause });
    }
  }
  const sni = String(r['sni'] ?? '');
  return TlsEndpoint.parse({
    server: r['server'],
    port: num(r['port']),
    sni: sni === '' ? null : sni,
    versions: r['versions'],
    alpn: r['alpn'],
    cipher: r['cipher'],
    certificate,
    connections: num(r['connections']),
    firstSeen: isoFromChTime(r['first_seen'], 'tls.first_seen'),
    lastSeen: isoFromChTime(r['last_seen'], 'tls.last_seen'),
  });
}
