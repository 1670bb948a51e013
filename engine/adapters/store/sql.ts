// The one SQL layer both backends share: table and column names, row (de)serialisation between the
// contracts (EndpointRecord, Finding, ExchangeRow, CaptureStatsRow) and ClickHouse JSONEachRow rows,
// the read statements, batching and counters. A backend (chdb.ts, clickhouse.ts) only transports
// SQL text, query parameters and JSONEachRow rows (SqlBackend below), so the two cannot drift.
//
// Column lists here must match deploy/clickhouse/*.sql; test/integration/store.test.ts compares them
// with system.columns on both backends.
//
// Time columns are DateTime64(6, 'UTC'). The contracts carry ISO-8601 strings with microseconds
// (isoFromUs: 2024-01-02T03:04:05.123456Z); that exact shape reads back byte-identical. A shorter or
// longer fraction is accepted on write and reads back padded/truncated to 6 digits.
import { EndpointRecord, Finding, isoFromUs } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import { FACT_KINDS, type ApiFact, type FactKind } from '../../contracts/drift.js';
import { StoreError, STORE_ERROR_CODES } from './errors.js';
import { runMigrations } from './migrate.js';
import type { ActorEventRow, ActorRow, CaptureStatsRow, ExchangeRow, Store } from './types.js';
import { selectTls, tlsFromRow, tlsToRow } from './tls.js';

export type Row = Record<string, unknown>;
export type Params = Record<string, unknown>;

/** What a backend provides. Every user value travels as a query parameter ({name:Type}). */
export interface SqlBackend {
  /** Human-readable target for messages (directory or URL without credentials). */
  readonly target: string;
  /** A statement without a result set (DDL, OPTIMIZE). */
  exec(sql: string, params?: Params): Promise<void>;
  /**
   * A SELECT without a FORMAT clause; the backend appends `FORMAT JSONEachRow` (as
   * @clickhouse/client does, see withJsonEachRow). `readonly` runs it so the engine refuses writes.
   */
  select(sql: string, params?: Params, opts?: { readonly?: boolean }): Promise<Row[]>;
  /** INSERT INTO table (columns) FORMAT JSONEachRow; rows are already in ClickHouse shape. */
  insert(table: string, columns: readonly string[], rows: readonly Row[]): Promise<void>;
  /** Creates the target database if the backend names one that may not exist yet (before migrations). */
  ensureDatabase?(): Promise<void>;
  close(): Promise<void>;
}

export const TABLES = {
  migrations: 'schema_migrations',
  endpoints: 'endpoints',
  findings: 'findings',
  exchanges: 'exchanges',
  captureStats: 'capture_stats',
  tls: 'tls',
  apiFacts: 'api_facts',
  endpointPaths: 'endpoint_paths',
  actors: 'actors',
} as const;

/** endpoint_paths (migration 009): provisional exchange path → inventory endpoint. */
const ENDPOINT_PATHS_COLUMNS = ['host', 'method', 'raw_path', 'path'] as const;

/** Insert column lists, in table order. */
export const COLUMNS = {
  endpoints: [
    'host',
    'method',
    'path',
    'hits',
    'documented',
    'deprecated',
    'auth',
    'pii',
    'first_seen',
    'last_seen',
    'status_classes',
    'latency_p50_ms',
    'latency_p95_ms',
    'content_types',
    'query_params',
    'fields',
    'category',
    'explain',
    'vnis',
    'version',
    'applied',
    'protocol',
  ],
  findings: [
    'id',
    'kind',
    'severity',
    'host',
    'method',
    'path',
    'confidence',
    'evidence',
    'details',
    'first_seen',
    'last_seen',
    'version',
    'resolved',
    'actor',
  ],
  exchanges: [
    'id',
    'flow_id',
    'seq',
    'vni',
    'host',
    'method',
    'path',
    'status',
    'request_time',
    'latency_us',
    'request_bytes',
    'response_bytes',
    'anomalies',
    'complete',
    'source',
    'actor_id',
    'client_ip',
    'forwarded_for',
    'principal',
    'principal_kind',
    'principal_hash',
    'id_values',
    'login_hash',
    'created_hash',
    'pii_received',
  ],
  actors: [
    'id',
    'ip',
    'principal',
    'principal_kind',
    'principal_hash',
    'first_seen',
    'last_seen',
    'requests',
    'endpoints',
    'errors_4xx',
    'errors_5xx',
    'pii_values',
    'version',
  ],
  captureStats: ['id', 'source', 'first_time', 'last_time', 'stats'],
  tls: [
    'server',
    'port',
    'sni',
    'versions',
    'alpn',
    'cipher',
    'certificate',
    'connections',
    'first_seen',
    'last_seen',
    'version',
  ],
  apiFacts: ['host', 'method', 'path', 'kind', 'value', 'first_seen', 'last_seen', 'version'],
} as const;

/** Default rows per INSERT. One INSERT makes one part; 10k rows of endpoints is ~3 MB of JSON. */
export const DEFAULT_BATCH_ROWS = 10_000;

// ---------------------------------------------------------------------------------------------
// Values

const ISO_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;
const CH_TIME_RE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{6})$/;

function rejected(message: string): StoreError {
  return new StoreError(STORE_ERROR_CODES.rejected, message);
}

/** ISO-8601 UTC (contract form) to DateTime64(6) text 'YYYY-MM-DD hh:mm:ss.ffffff'. */
export function chTimeFromIso(iso: string, field: string): string {
  const m = ISO_RE.exec(iso);
  if (m === null) throw rejected(`${field} is not an ISO-8601 UTC time with a Z suffix`);
  return `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

/** Packet-time microseconds to DateTime64(6) text. */
export function chTimeFromUs(us: number, field: string): string {
  if (!Number.isSafeInteger(us)) throw rejected(`${field} is not an integer number of microseconds`);
  const iso = isoFromUs(us);
  return `${iso.slice(0, 10)} ${iso.slice(11, -1)}`;
}

/** DateTime64(6, 'UTC') as JSONEachRow prints it, back to the contract's ISO-8601 form. */
export function isoFromChTime(text: unknown, field: string): string {
  const m = typeof text === 'string' ? CH_TIME_RE.exec(text) : null;
  if (m === null) throw rejected(`${field}: unexpected DateTime64 text from the engine`);
  return `${m[1]}T${m[2]}Z`;
}

/** Microseconds since the epoch of an ISO-8601 UTC time (for version columns). */
export function usFromIso(iso: string, field: string): number {
  const m = ISO_RE.exec(iso);
  if (m === null) throw rejected(`${field} is not an ISO-8601 UTC time with a Z suffix`);
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return ms * 1000 + Number((m[3] ?? '').padEnd(6, '0').slice(0, 6));
}

/** 64-bit integers come back as numbers or, with output_format_json_quote_64bit_integers=1, strings. */
function num(v: unknown): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}
function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? (v as string[]) : [];
}

// ---------------------------------------------------------------------------------------------
// Endpoints

export function endpointToRow(e: EndpointRecord, applied: Readonly<Record<string, string>> = {}): Row {
  return {
    host: e.host,
    method: e.method,
    path: e.path,
    hits: e.hits,
    documented: e.documented,
    deprecated: e.deprecated,
    auth: e.auth,
    // Named tuple: JSONEachRow takes and prints it as an object (input/output_format_json_named_tuples_as_objects).
    pii: e.pii.map((p) => ({ kind: p.kind, location: p.location, field: p.field })),
    first_seen: chTimeFromIso(e.firstSeen, 'endpoint.firstSeen'),
    last_seen: chTimeFromIso(e.lastSeen, 'endpoint.lastSeen'),
    status_classes: e.statusClasses,
    latency_p50_ms: e.latencyP50Ms,
    latency_p95_ms: e.latencyP95Ms,
    content_types: e.contentTypes,
    query_params: e.queryParams,
    fields: e.fields,
    category: e.category,
    explain: e.explain,
    vnis: e.vnis,
    version: usFromIso(e.lastSeen, 'endpoint.lastSeen'),
    applied,
    protocol: e.protocol,
  };
}

/**
 * The explain line of an endpoint row that a later template decision merged away (hits 0, written
 * by continuous pipelines: engine/app/pipelines/tombstones.ts). Store.endpoints() skips such rows.
 */
export const ENDPOINT_TOMBSTONE = 'tombstone: merged into another endpoint by a later template decision';

export const SELECT_ENDPOINTS =
  `SELECT ${COLUMNS.endpoints.filter((c) => c !== 'version' && c !== 'applied').join(', ')} ` +
  `FROM ${TABLES.endpoints} FINAL WHERE NOT (hits = 0 AND has(explain, '${ENDPOINT_TOMBSTONE}')) ORDER BY host, method, path`;

/** Per host, the highest watermark of its rows (migration 007). */
export const SELECT_EXCHANGE_SOURCES = `SELECT id, source FROM ${TABLES.exchanges} FINAL WHERE id IN {ids:Array(String)}`;
export const SELECT_WATERMARKS = `SELECT host, applied FROM ${TABLES.endpoints} FINAL WHERE length(mapKeys(applied)) > 0 ORDER BY host`;

/** A row of SELECT_ENDPOINTS back to an EndpointRecord (keys in contract order, zod-checked). */
export function endpointFromRow(r: Row): EndpointRecord {
  const sc: Record<string, number> = {};
  for (const [k, v] of Object.entries((r['status_classes'] ?? {}) as Record<string, unknown>)) sc[k] = num(v);
  return EndpointRecord.parse({
    host: r['host'],
    method: r['method'],
    path: r['path'],
    hits: num(r['hits']),
    documented: r['documented'],
    deprecated: r['deprecated'],
    auth: strings(r['auth']),
    pii: r['pii'],
    firstSeen: isoFromChTime(r['first_seen'], 'endpoints.first_seen'),
    lastSeen: isoFromChTime(r['last_seen'], 'endpoints.last_seen'),
    statusClasses: sc,
    latencyP50Ms: numOrNull(r['latency_p50_ms']),
    latencyP95Ms: numOrNull(r['latency_p95_ms']),
    contentTypes: strings(r['content_types']),
    queryParams: strings(r['query_params']),
    fields: strings(r['fields']),
    category: r['category'],
    explain: strings(r['explain']),
    vnis: (Array.isArray(r['vnis']) ? (r['vnis'] as unknown[]) : []).map(num),
    protocol: typeof r['protocol'] === 'string' && r['protocol'] !== '' ? r['protocol'] : 'http',
  });
}

// ---------------------------------------------------------------------------------------------
// Findings

export function findingToRow(f: Finding): Row {
  return {
    id: f.id,
    kind: f.kind,
    severity: f.severity,
    host: f.host,
    method: f.method,
    path: f.path,
    confidence: f.confidence,
    evidence: f.evidence,
    // JSON text rather than the JSON column type: reads back exactly (ints stay ints, nested
    // objects and arrays keep their shape, nulls stay null). Keys whose value is undefined are
    // dropped, as JSON.stringify does everywhere else in the report.
    details: JSON.stringify(f.details),
    first_seen: f.firstSeen === null ? null : chTimeFromIso(f.firstSeen, 'finding.firstSeen'),
    last_seen: f.lastSeen === null ? null : chTimeFromIso(f.lastSeen, 'finding.lastSeen'),
    version: f.lastSeen === null ? 0 : usFromIso(f.lastSeen, 'finding.lastSeen'),
    resolved: 0,
    actor: f.actor === undefined ? '' : JSON.stringify(f.actor),
  };
}

export const SELECT_FINDINGS =
  `SELECT ${COLUMNS.findings.filter((c) => c !== 'version' && c !== 'resolved').join(', ')} ` +
  `FROM ${TABLES.findings} FINAL WHERE resolved = 0 ORDER BY severity DESC, kind, host, method, path, id`;

/** Tombstones for active findings by id (migration 006): same row, resolved = 1, version + 1. */
export const RESOLVE_FINDINGS =
  `INSERT INTO ${TABLES.findings} (${COLUMNS.findings.join(', ')}) ` +
  `SELECT ${COLUMNS.findings.map((c) => (c === 'version' ? 'version + 1' : c === 'resolved' ? 'toUInt8(1)' : c)).join(', ')} ` +
  `FROM ${TABLES.findings} FINAL WHERE resolved = 0 AND id IN {ids:Array(String)}`;

/**
 * Ids of active findings of some hosts, behaviour findings (those with an actor) left out: the
 * analyzer's per-host state never derives them (the behaviour job over all hosts does), so they are
 * not the analyzer's to resolve.
 */
export const SELECT_ACTIVE_FINDING_IDS = `SELECT id FROM ${TABLES.findings} FINAL WHERE resolved = 0 AND actor = '' AND host IN {hosts:Array(String)} ORDER BY id`;

export function findingFromRow(r: Row): Finding {
  let details: unknown;
  try {
    details = JSON.parse(String(r['details']));
  } catch (cause) {
    throw new StoreError(STORE_ERROR_CODES.rejected, 'findings.details is not JSON', { cause });
  }
  let actor: unknown;
  if (typeof r['actor'] === 'string' && r['actor'] !== '') {
    try {
      actor = JSON.parse(r['actor']);
    } catch (cause) {
      throw new StoreError(STORE_ERROR_CODES.rejected, 'findings.actor is not JSON', { cause });
    }
  }
  return Finding.parse({
    id: r['id'],
    kind: r['kind'],
    severity: r['severity'],
    host: r['host'],
    method: r['method'],
    path: r['path'],
    confidence: num(r['confidence']),
    evidence: r['evidence'],
    details,
    firstSeen: r['first_seen'] === null ? null : isoFromChTime(r['first_seen'], 'findings.first_seen'),
    lastSeen: r['last_seen'] === null ? null : isoFromChTime(r['last_seen'], 'findings.last_seen'),
    ...(actor !== undefined ? { actor } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Exchanges and capture statistics

export function exchangeToRow(x: ExchangeRow): Row {
  return {
    id: x.id,
    flow_id: x.flowId,
    seq: x.seq,
    vni: x.vni,
    host: x.host,
    method: x.method,
    path: x.path,
    status: x.status,
    request_time: x.requestUs === null ? null : chTimeFromUs(x.requestUs, 'exchange.requestUs'),
    latency_us: x.latencyUs,
    request_bytes: x.requestBytes,
    response_bytes: x.responseBytes,
    anomalies: x.anomalies,
    complete: x.complete,
    source: x.source ?? '',
    actor_id: x.actor?.actorId ?? '',
    client_ip: x.actor?.clientIp ?? '',
    forwarded_for: x.actor?.forwardedFor ?? '',
    principal: x.actor?.principal ?? '',
    principal_kind: x.actor?.principalKind ?? '',
    principal_hash: x.actor?.principalHash ?? '',
    id_values: x.actor?.idValues ?? [],
    login_hash: x.actor?.loginHash ?? '',
    created_hash: x.actor?.createdHash ?? '',
    pii_received: x.actor?.piiReceived ?? [],
  };
}

/** Detector input (ActorEventRow): exchanges with an actor and a request time. */
export const SELECT_ACTOR_EVENTS =
  'SELECT id, toUnixTimestamp64Micro(request_time) AS t, host, method, path, status, actor_id, client_ip, ' +
  'forwarded_for, principal, principal_kind, principal_hash, id_values, login_hash, created_hash, pii_received ' +
  `FROM ${TABLES.exchanges} FINAL WHERE actor_id != '' AND request_time IS NOT NULL`;

export function actorEventFromRow(r: Row): ActorEventRow {
  return {
    x: String(r['id']),
    t: num(r['t']),
    host: String(r['host']),
    method: String(r['method']),
    path: String(r['path']),
    status: numOrNull(r['status']),
    actorId: String(r['actor_id']),
    clientIp: String(r['client_ip']),
    forwardedFor: String(r['forwarded_for']),
    principal: String(r['principal']),
    principalKind: String(r['principal_kind']),
    principalHash: String(r['principal_hash']),
    idValues: strings(r['id_values']),
    loginHash: String(r['login_hash']),
    createdHash: String(r['created_hash']),
    piiReceived: strings(r['pii_received']),
  };
}

export const SELECT_PATH_MAP = `SELECT host, method, raw_path, path FROM ${TABLES.endpointPaths} FINAL ORDER BY host, method, raw_path`;

export function actorToRow(a: ActorRow): Row {
  return {
    id: a.id,
    ip: a.ip,
    principal: a.principal ?? '',
    principal_kind: a.principalKind ?? '',
    principal_hash: a.principalHash,
    first_seen: chTimeFromUs(a.firstUs, 'actor.firstUs'),
    last_seen: chTimeFromUs(a.lastUs, 'actor.lastUs'),
    requests: a.requests,
    endpoints: a.endpoints,
    errors_4xx: a.errors4xx,
    errors_5xx: a.errors5xx,
    pii_values: a.piiValues,
    version: a.lastUs,
  };
}

export const SELECT_ACTORS =
  'SELECT id, ip, principal, principal_kind, principal_hash, toUnixTimestamp64Micro(first_seen) AS first_us, ' +
  'toUnixTimestamp64Micro(last_seen) AS last_us, requests, endpoints, errors_4xx, errors_5xx, pii_values ' +
  `FROM ${TABLES.actors} FINAL ORDER BY requests DESC, id`;

export function actorFromRow(r: Row): ActorRow {
  const p = String(r['principal']);
  const k = String(r['principal_kind']);
  return {
    id: String(r['id']),
    ip: String(r['ip']),
    principal: p === '' ? null : p,
    principalKind: k === '' ? null : k,
    principalHash: String(r['principal_hash']),
    requests: num(r['requests']),
    endpoints: num(r['endpoints']),
    errors4xx: num(r['errors_4xx']),
    errors5xx: num(r['errors_5xx']),
    piiValues: num(r['pii_values']),
    firstUs: num(r['first_us']),
    lastUs: num(r['last_us']),
  };
}

export const SELECT_EXCHANGES =
  'SELECT id, flow_id, seq, vni, host, method, path, status, toUnixTimestamp64Micro(request_time) AS request_us, ' +
  `latency_us, request_bytes, response_bytes, anomalies, complete FROM ${TABLES.exchanges} FINAL ORDER BY id`;

export function exchangeFromRow(r: Row): ExchangeRow {
  return {
    id: String(r['id']),
    flowId: String(r['flow_id']),
    seq: num(r['seq']),
    vni: numOrNull(r['vni']),
    host: String(r['host']),
    method: String(r['method']),
    path: String(r['path']),
    status: numOrNull(r['status']),
    requestUs: numOrNull(r['request_us']),
    latencyUs: numOrNull(r['latency_us']),
    requestBytes: num(r['request_bytes']),
    responseBytes: num(r['response_bytes']),
    anomalies: strings(r['anomalies']),
    complete: r['complete'] === true,
  };
}

export function captureStatsToRow(c: CaptureStatsRow): Row {
  return {
    id: c.id,
    source: c.source,
    first_time: c.firstUs === null ? null : chTimeFromUs(c.firstUs, 'capture.firstUs'),
    last_time: c.lastUs === null ? null : chTimeFromUs(c.lastUs, 'capture.lastUs'),
    stats: c.stats,
  };
}

export const SELECT_CAPTURE_STATS =
  'SELECT id, source, toUnixTimestamp64Micro(first_time) AS first_us, toUnixTimestamp64Micro(last_time) AS last_us, ' +
  `stats FROM ${TABLES.captureStats} FINAL ORDER BY id`;

export function captureStatsFromRow(r: Row): CaptureStatsRow {
  return {
    id: String(r['id']),
    source: String(r['source']),
    firstUs: numOrNull(r['first_us']),
    lastUs: numOrNull(r['last_us']),
    stats: String(r['stats']),
  };
}

// ---------------------------------------------------------------------------------------------
// SQL text helpers

/**
 * What @clickhouse/client does to a SELECT (client-common formatQuery): trim, drop trailing
 * semicolons, append " \nFORMAT JSONEachRow". chDB applies the same, so a user query behaves the
 * same on both backends (a FORMAT clause of its own is a syntax error on both).
 */
export function withJsonEachRow(sql: string): string {
  return `${sql.trim().replace(/;+$/, '')} \nFORMAT JSONEachRow`;
}

/** Rows as JSONEachRow text: one JSON object per line, newline-terminated. */
export function toJsonEachRow(rows: readonly Row[]): string {
  let out = '';
  for (const r of rows) out += JSON.stringify(r) + '\n';
  return out;
}

/** Parses JSONEachRow text (one object per line; blank lines ignored). */
export function parseJsonEachRow(text: string): Row[] {
  const rows: Row[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as Row);
    start = end + 1;
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The Store over a backend

// ---------------------------------------------------------------------------------------------
// Drift facts (migration 009)

export function factToRow(f: ApiFact): Row {
  return {
    host: f.host,
    method: f.method,
    path: f.path,
    kind: f.kind,
    value: f.value,
    first_seen: chTimeFromIso(f.firstSeen, 'fact.firstSeen'),
    last_seen: chTimeFromIso(f.lastSeen, 'fact.lastSeen'),
    version: usFromIso(f.lastSeen, 'fact.lastSeen'),
  };
}

export const SELECT_FACTS = `SELECT host, method, path, kind, value, first_seen, last_seen FROM ${TABLES.apiFacts} FINAL ORDER BY host, method, path, kind, value`;

export function factFromRow(r: Row): ApiFact {
  const kind = String(r['kind']);
  if (!(FACT_KINDS as readonly string[]).includes(kind)) throw rejected(`api_facts: unknown kind ${kind}`);
  return {
    host: String(r['host']),
    method: String(r['method']),
    path: String(r['path']),
    kind: kind as FactKind,
    value: String(r['value']),
    firstSeen: isoFromChTime(r['first_seen'], 'api_facts.first_seen'),
    lastSeen: isoFromChTime(r['last_seen'], 'api_facts.last_seen'),
  };
}

export interface SqlStoreOptions {
  counters?: Counters | undefined;
  /** Rows per INSERT (default DEFAULT_BATCH_ROWS). */
  batchRows?: number | undefined;
  /** Directory of NNN_*.sql files (default: deploy/clickhouse of this repository). */
  migrationsDir?: string | undefined;
}

/**
 * The Store both backends return. Writes map rows through the functions above and insert them in
 * batches of `batchRows`; a write call resolves after every batch was accepted. Writes are
 * idempotent (deterministic keys + ReplacingMergeTree + FINAL reads), so a caller that retries a
 * failed write, or replays a capture, changes nothing a query can see.
 *
 * Counters: store_rows_written_<table>, store_insert_batches, store_write_errors.
 */
export function createSqlStore(backend: SqlBackend, opts: SqlStoreOptions = {}): Store {
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new StoreError(STORE_ERROR_CODES.config, 'batchRows must be a positive integer');
  }
  const counters = opts.counters;
  let closed = false;

  const open = (): void => {
    if (closed) throw new StoreError(STORE_ERROR_CODES.closed, `store ${backend.target} is closed`);
  };

  async function write<T>(
    table: (typeof TABLES)[Exclude<keyof typeof TABLES, 'migrations'>],
    columns: readonly string[],
    items: readonly T[],
    toRow: (item: T) => Row,
  ): Promise<void> {
    open();
    for (let i = 0; i < items.length; i += batchRows) {
      const end = Math.min(items.length, i + batchRows);
      const rows: Row[] = new Array<Row>(end - i);
      for (let j = i; j < end; j++) rows[j - i] = toRow(items[j] as T);
      try {
        await backend.insert(table, columns, rows);
      } catch (err) {
        counters?.inc('store_write_errors');
        throw err;
      }
      counters?.inc('store_insert_batches');
      counters?.inc(`store_rows_written_${table}`, rows.length);
    }
  }

  return {
    async migrate() {
      open();
      await backend.ensureDatabase?.();
      await runMigrations(backend, opts.migrationsDir);
    },
    writeEndpoints: (rows, applied) =>
      write(TABLES.endpoints, COLUMNS.endpoints, rows, (e) => endpointToRow(e, applied?.[e.host] ?? {})),
    async watermarks() {
      open();
      const out = new Map<string, Map<string, bigint>>();
      for (const r of await backend.select(SELECT_WATERMARKS)) {
        const host = String(r['host']);
        let m = out.get(host);
        if (m === undefined) out.set(host, (m = new Map()));
        for (const [k, v] of Object.entries((r['applied'] ?? {}) as Record<string, unknown>)) {
          const off = BigInt(String(v));
          const prev = m.get(k);
          if (prev === undefined || off > prev) m.set(k, off);
        }
      }
      return out;
    },
    writeFindings: (rows) => write(TABLES.findings, COLUMNS.findings, rows, findingToRow),
    writeExchanges: (rows) => write(TABLES.exchanges, COLUMNS.exchanges, rows, exchangeToRow),
    writeCaptureStats: (row) => write(TABLES.captureStats, COLUMNS.captureStats, [row], captureStatsToRow),
    writeTls: (rows) => write(TABLES.tls, COLUMNS.tls, rows, tlsToRow),
    async tls() {
      open();
      return (await backend.select(selectTls())).map(tlsFromRow);
    },
    writeFacts: (rows) => write(TABLES.apiFacts, COLUMNS.apiFacts, rows, factToRow),
    async facts() {
      open();
      return (await backend.select(SELECT_FACTS)).map(factFromRow);
    },
    writePathMap: (rows) =>
      write(TABLES.endpointPaths, ENDPOINT_PATHS_COLUMNS, rows, (m) => ({
        host: m.host,
        method: m.method,
        raw_path: m.rawPath,
        path: m.path,
      })),
    async endpoints() {
      open();
      return (await backend.select(SELECT_ENDPOINTS)).map(endpointFromRow);
    },
    writeActors: (rows) => write(TABLES.actors, COLUMNS.actors, rows, actorToRow),
    async actors() {
      open();
      return (await backend.select(SELECT_ACTORS)).map(actorFromRow);
    },
    async actorEvents() {
      open();
      return (await backend.select(SELECT_ACTOR_EVENTS)).map(actorEventFromRow);
    },
    async pathMap() {
      open();
      return (await backend.select(SELECT_PATH_MAP)).map((r) => ({
        host: String(r['host']),
        method: String(r['method']),
        rawPath: String(r['raw_path']),
        path: String(r['path']),
      }));
    },
    async findings() {
      open();
      return (await backend.select(SELECT_FINDINGS)).map(findingFromRow);
    },
    async activeFindingIds(hosts) {
      open();
      if (hosts.length === 0) return [];
      return (await backend.select(SELECT_ACTIVE_FINDING_IDS, { hosts: [...hosts] })).map((r) => String(r['id']));
    },
    async resolveFindings(ids) {
      open();
      for (let i = 0; i < ids.length; i += batchRows) {
        await backend.exec(RESOLVE_FINDINGS, { ids: ids.slice(i, i + batchRows) });
      }
      counters?.inc('store_findings_resolved', ids.length);
    },
    async exchanges() {
      open();
      return (await backend.select(SELECT_EXCHANGES)).map(exchangeFromRow);
    },
    async exchangeSources(ids) {
      open();
      const out = new Map<string, string>();
      for (let i = 0; i < ids.length; i += batchRows) {
        const rows = await backend.select(SELECT_EXCHANGE_SOURCES, { ids: ids.slice(i, i + batchRows) });
        for (const r of rows) out.set(String(r['id']), String(r['source']));
      }
      return out;
    },
    async captureStats() {
      open();
      return (await backend.select(SELECT_CAPTURE_STATS)).map(captureStatsFromRow);
    },
    async query(sql, params) {
      open();
      return backend.select(sql, params, { readonly: true });
    },
    async optimize() {
      open();
      const tables = [
        TABLES.endpoints,
        TABLES.findings,
        TABLES.exchanges,
        TABLES.captureStats,
        TABLES.tls,
        TABLES.apiFacts,
        TABLES.endpointPaths,
        TABLES.actors,
      ];
      for (const t of tables) {
        await backend.exec(`OPTIMIZE TABLE ${t} FINAL`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await backend.close();
    },
  };
}
