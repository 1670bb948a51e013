// Errors of the Kafka bus say what the caller does next (kafkajs keeps retriable and non-retriable
// errors apart; the OpenTelemetry Collector drops-and-counts permanent ones, backs off on the rest):
//   KafkaRetriableError  the cluster is not reachable or not ready right now: back off and retry the
//                        same request (the publisher and consumer loops do this themselves).
//   KafkaPermanentError  the same request fails again until something changes outside the process:
//                        the configuration (bad value, bad credentials, missing ACL), the record, or
//                        how the API is called. Fix, do not retry blindly.
// Messages never carry credentials, record keys, values or headers: only the operation and the
// client's own error text.

export const KAFKA_ERROR_CODES = {
  /** Broker down, leader moving, coordinator loading, request timed out: retry with backoff. */
  unavailable: 'BUS_KAFKA_UNAVAILABLE',
  /** The cluster refused this request for good (authorization, record too large, unsupported API). */
  rejected: 'BUS_KAFKA_REJECTED',
  /** A setting cannot work (zod bounds, SASL/SSL environment). Raised at start, before any I/O. */
  config: 'BUS_KAFKA_CONFIG',
  /** The module was called against its contract (e.g. run() twice). */
  usage: 'BUS_KAFKA_USAGE',
} as const;
export type KafkaPermanentCode = Exclude<
  (typeof KAFKA_ERROR_CODES)[keyof typeof KAFKA_ERROR_CODES],
  'BUS_KAFKA_UNAVAILABLE'
>;

/** Retryable: the same request may succeed later. `cause` is the client's error. */
export class KafkaRetriableError extends Error {
  override readonly name = 'KafkaRetriableError';
  readonly code = KAFKA_ERROR_CODES.unavailable;
  readonly retryable = true as const;
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}

/** Permanent: the same request fails again until the configuration, the record or the call changes. */
export class KafkaPermanentError extends Error {
  override readonly name = 'KafkaPermanentError';
  readonly retryable = false as const;
  constructor(
    readonly code: KafkaPermanentCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}

/**
 * kafkajs errors it marks non-retriable although the condition passes by itself: its own retry
 * budget or lock wait ran out, or the group coordinator is still being elected. Our loops retry
 * these forever, so they are classified as retriable.
 */
const TRANSIENT_KAFKAJS_ERRORS: ReadonlySet<string> = new Set([
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * Whether a failure from kafkajs (or around it) may pass by retrying. kafkajs wraps the last error
 * of an exhausted retry budget in KafkaJSNumberOfRetriesExceeded (non-retriable by its own flag);
 * the wrapped error decides. Otherwise kafkajs' `retriable` flag decides (a protocol error carries
 * the broker's error code's flag: MESSAGE_TOO_LARGE, *_AUTHORIZATION_FAILED are false). Errors
 * without a flag (socket errors, our own) count as retriable.
 */
export function isRetriableKafkaError(e: unknown): boolean {
  let err = e;
  for (let depth = 0; depth < 4 && err instanceof Error && err.name === 'KafkaJSNumberOfRetriesExceeded'; depth++) {
    if (err.cause === undefined || err.cause === err) break;
    err = err.cause;
  }
  if (!(err instanceof Error)) return true;
  if (TRANSIENT_KAFKAJS_ERRORS.has(err.name)) return true;
  const errors = (err as { errors?: unknown }).errors;
  if (err.name === 'KafkaJSAggregateError' && Array.isArray(errors)) return errors.every(isRetriableKafkaError);
  return (err as { retriable?: unknown }).retriable !== false;
}

/** Wraps any failure of a Kafka operation into one of the two classes (the original as `cause`). */
export function classifyKafkaError(e: unknown, what: string): KafkaRetriableError | KafkaPermanentError {
  if (e instanceof KafkaRetriableError || e instanceof KafkaPermanentError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return isRetriableKafkaError(e)
    ? new KafkaRetriableError(`${what}: ${text}`, { cause: e })
    : new KafkaPermanentError(KAFKA_ERROR_CODES.rejected, `${what}: ${text}`, { cause: e });
}
