// Store errors say what the caller does next (OpenTelemetry Collector / kafkajs style):
// retry later, drop the request, fix the configuration, or stop using a closed store.
//
// Messages never contain credentials, row values or query parameter values: only the operation,
// the table and the engine's own error text (which for a rejected INSERT can quote the offending
// column name, not a personal value, because the store only holds masked data).

export const STORE_ERROR_CODES = {
  /** The store cannot be reached right now (connection refused/reset, timeout, 5xx, overload). */
  unavailable: 'store_unavailable',
  /** The store refused this request (bad SQL, bad row, permission); the same request fails again. */
  rejected: 'store_rejected',
  /** The store cannot be opened as configured (directory, URL, credentials, one chDB dir per process). */
  config: 'store_config',
  /** The Store object was closed. */
  closed: 'store_closed',
} as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[keyof typeof STORE_ERROR_CODES];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** True only for store_unavailable: the same request may succeed later (back off first). */
  readonly retryable: boolean;
  /** ClickHouse error code (e.g. 62 SYNTAX_ERROR) when the engine reported one. */
  readonly clickhouseCode: number | undefined;

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    opts: { cause?: unknown; clickhouseCode?: number | undefined } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.retryable = code === STORE_ERROR_CODES.unavailable;
    this.clickhouseCode = opts.clickhouseCode;
  }
}

/**
 * ClickHouse error codes that describe a transient state of the server rather than the request
 * (src/Common/ErrorCodes.cpp). Everything else the engine reports is permanent for that request.
 */
export const RETRYABLE_CLICKHOUSE_CODES: ReadonlySet<number> = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY (replica lost its keeper session)
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  999, // KEEPER_EXCEPTION
]);

/** Authentication/authorization failures: the configuration (credentials, grants) must change. */
export const CONFIG_CLICKHOUSE_CODES: ReadonlySet<number> = new Set([
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  497, // ACCESS_DENIED
  516, // AUTHENTICATION_FAILED
]);

/** Maps an engine-reported ClickHouse error code to the store error code. */
export function codeForClickHouse(code: number): StoreErrorCode {
  if (RETRYABLE_CLICKHOUSE_CODES.has(code)) return STORE_ERROR_CODES.unavailable;
  if (CONFIG_CLICKHOUSE_CODES.has(code)) return STORE_ERROR_CODES.config;
  return STORE_ERROR_CODES.rejected;
}
