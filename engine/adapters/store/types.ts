// The store: one SQL layer over two backends (embedded chDB, ClickHouse server over HTTP).
//
// Contract: writes are idempotent. Rows carry deterministic ids/keys, tables are ReplacingMergeTree,
// and reads use FINAL, so replaying the same capture into the same store twice changes nothing that a
// query can see. Every user-supplied value in SQL goes through query parameters ({name:Type}).
// Failures are StoreError (errors.ts): 'store_unavailable' (retryable), 'store_rejected',
// 'store_config', 'store_closed'.
import type { ActorEvent, ActorFields, ActorSummary } from '../../contracts/actors.js';
import type { EndpointRecord, Finding } from '../../contracts/inventory.js';
import type { TlsEndpoint } from '../../contracts/tls.js';
import type { ApiFact } from '../../contracts/drift.js';

/** Exchange rows' actor columns (migration 013): the actor fields of engine/contracts/actors.ts. */
export type ExchangeActorColumns = ActorFields;
/** An exchange row as the behaviour detectors read it back. */
export type ActorEventRow = ActorEvent;
/** One row of the actors table (migration 013). */
export type ActorRow = ActorSummary;

/** Per-exchange metadata (never bodies, never header values). */
export interface ExchangeRow {
  id: string;
  flowId: string;
  seq: number;
  vni: number | null;
  host: string;
  method: string;
  /** Endpoint template the exchange was attributed to. */
  path: string;
  status: number | null;
  requestUs: number | null;
  latencyUs: number | null;
  requestBytes: number;
  responseBytes: number;
  anomalies: string[];
  complete: boolean;
  /** Analyzer group only: Kafka "<topic>:<partition>:<offset>" of the record (migration 008). */
  source?: string;
  /** Who sent it (migration 013); absent for exchanges without a request. */
  actor?: ExchangeActorColumns | null;
  /** exchange/v1 `protocol` (migration 016); 'http' when absent. */
  protocol?: string;
  /** WebSocket message records: 'client' or 'server' (exchange/v1 `websocket.direction`, migration 016); '' otherwise. */
  wsDirection?: string;
}

/** One row of endpoint_paths: exchanges stored with (host, method, rawPath) count in endpoint `path`. */
export interface PathMapRow {
  host: string;
  method: string;
  rawPath: string;
  path: string;
}

export interface CaptureStatsRow {
  /** Deterministic id of the capture run (hash of the inputs' names, sizes and first packet time). */
  id: string;
  source: string;
  firstUs: number | null;
  lastUs: number | null;
  /** The report/v1 `capture` object as JSON. */
  stats: string;
}

/** What continuous pipelines (analyzer group, watch) write beside their endpoint rows. */
export interface EndpointWriteExtra {
  /** Per host, the findings the rows were derived with (restore input, migration 017). */
  findings?: Readonly<Record<string, readonly Finding[]>>;
  /**
   * The version of every row of this write (default: each row's lastSeen in µs). A continuous writer
   * passes a clock that grows with every write: an endpoint's lastSeen can go DOWN between two
   * snapshots (a template split moves its latest exchanges to a new literal endpoint), and a row
   * versioned by lastSeen would then lose to its own stale predecessor and count those exchanges
   * twice.
   */
  version?: number;
}

export interface Store {
  /** Runs deploy/clickhouse/*.sql in order (idempotent: CREATE ... IF NOT EXISTS, tracked in a migrations table). */
  migrate(): Promise<void>;
  writeExchanges(rows: readonly ExchangeRow[]): Promise<void>;
  /**
   * `applied` (analyzer only): per host, the watermark written with that host's rows in the same
   * INSERT — "<topic>:<partition>" → last offset (decimal string) whose exchanges the rows count.
   */
  writeEndpoints(
    rows: readonly EndpointRecord[],
    applied?: Readonly<Record<string, Readonly<Record<string, string>>>>,
    extra?: EndpointWriteExtra,
  ): Promise<void>;
  /** Highest `version` of any endpoint row (0 for none): where a continuous writer's clock starts. */
  maxEndpointVersion(): Promise<number>;
  /**
   * `extra.findings` (continuous pipelines): per host, the findings the rows were derived with; stored on
   * the host's first row of the same INSERT as the rows and their watermark (migration 017), so the
   * restore input is exactly as recent as the watermark. The input of Analysis.restore beside
   * endpoints(): for each host written with `findings`, the findings stored with its rows; for
   * other hosts (replays, earlier versions) the current findings of the findings table.
   */
  restoreFindings(): Promise<Finding[]>;
  /** Per host, "<topic>:<partition>" → the highest watermark stored with its rows. */
  watermarks(): Promise<Map<string, Map<string, bigint>>>;
  writeFindings(rows: readonly Finding[]): Promise<void>;
  /** Ids of the active (not resolved) findings of these hosts without an actor (not behaviour findings), sorted. */
  activeFindingIds(hosts: readonly string[]): Promise<string[]>;
  /**
   * Marks findings as no longer applying (a tombstone that wins by version; migration 006). Used by
   * the continuous analyzer when a host's re-derived findings no longer include them. Idempotent.
   */
  resolveFindings(ids: readonly string[]): Promise<void>;
  writeCaptureStats(row: CaptureStatsRow): Promise<void>;
  /** Encrypted hosts (migration 009), keyed by (server, port, sni). */
  writeTls(rows: readonly TlsEndpoint[]): Promise<void>;
  /** Deduplicated current rows, sorted (server, port, sni). */
  tls(): Promise<TlsEndpoint[]>;
  /** Drift baseline rows (migration 009), merged by the caller (first seen kept, last seen advanced). */
  writeFacts(rows: readonly ApiFact[]): Promise<void>;
  /** Deduplicated current drift facts (of these hosts only, when given), sorted (host, method, path, kind, value). */
  facts(hosts?: readonly string[]): Promise<ApiFact[]>;
  /**
   * Provisional exchange paths → decided endpoints (migration 009; the last written row of a
   * (host, method, raw_path) wins). Exchange rows keep the path observe() gave them; queries join
   * `exchanges` to the inventory through this table.
   */
  writePathMap(rows: readonly PathMapRow[]): Promise<void>;
  /** Actor summaries (migration 013), keyed by id; the row with the latest last_seen wins. */
  writeActors(rows: readonly ActorRow[]): Promise<void>;
  /** Deduplicated current actors, sorted by requests (desc), then id. */
  actors(): Promise<ActorRow[]>;
  /**
   * Every stored exchange with an actor, as detector input (deduplicated by id, unsorted: the
   * detectors sort by packet time and id). Exchanges without a request time are left out.
   */
  actorEvents(): Promise<ActorEventRow[]>;
  /** Deduplicated endpoint_paths rows (provisional exchange path → endpoint template). */
  pathMap(): Promise<PathMapRow[]>;
  /** Deduplicated current rows, sorted (host, method, path). */
  endpoints(): Promise<EndpointRecord[]>;
  /** Deduplicated current rows, sorted (severity desc, kind, host, method, path, id). */
  findings(): Promise<Finding[]>;
  /** Deduplicated current rows, sorted by id. */
  exchanges(): Promise<ExchangeRow[]>;
  /**
   * For the stored exchanges among `ids`: id → the record position it was counted from
   * ("<topic>:<partition>:<offset>", '' for replays). The analyzer's exactly-once check.
   */
  exchangeSources(ids: readonly string[]): Promise<Map<string, string>>;
  /** Deduplicated current rows, sorted by id. */
  captureStats(): Promise<CaptureStatsRow[]>;
  /**
   * Any read-only SQL without a FORMAT clause; rows as JSON objects (ClickHouse JSONEachRow
   * values). `params` bind {name:Type} placeholders. The engine refuses writes and DDL (readonly=2).
   */
  query(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  /**
   * Physically merges duplicate rows (OPTIMIZE TABLE ... FINAL on every table). Never needed for
   * correct reads (they use FINAL); it keeps FINAL cheap after large replays. Cost grows with the
   * table size, so callers run it once at the end of a replay, not after each write.
   */
  optimize(): Promise<void>;
  /** Idempotent. Every other method then fails with StoreError 'store_closed'. */
  close(): Promise<void>;
}
