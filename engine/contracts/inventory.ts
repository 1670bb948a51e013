// inventory/v1 and finding/v1: what analyzers produce and the store keeps.
//
// The report's `endpoints` and `findings` arrays, `apitap endpoints --format json` and
// `apitap findings --format json` all print exactly these objects. Times are packet time as ISO-8601
// strings with microseconds (UTC). Nothing here holds a raw personal value: evidence is masked and
// hashed by the PII layer before it reaches a Finding.
import { z } from 'zod';

export const PII_KINDS = [
  'email',
  'phone',
  'person_name',
  'street_address',
  'postcode',
  'date_of_birth',
  'ip_address',
  'geolocation',
  'payment_card',
  'iban',
  'bsn',
  'national_id',
  'passport',
  'us_ssn',
  'password',
  'jwt',
  'api_key',
  'session_token',
] as const;
export const PiiKind = z.enum(PII_KINDS);
export type PiiKind = z.infer<typeof PiiKind>;

/** Where a value was found: request/response side and the part of the message. */
export const PII_LOCATIONS = [
  'request.path',
  'request.query',
  'request.header',
  'request.cookie',
  'request.body',
  'response.header',
  'response.cookie',
  'response.body',
] as const;
export const PiiLocation = z.enum(PII_LOCATIONS);
export type PiiLocation = z.infer<typeof PiiLocation>;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const FINDING_KINDS = [
  'shadow_api',
  'zombie_api',
  'orphan_api',
  'pii_exposure',
  'unauthenticated_endpoint',
  'mixed_auth',
  'sensitive_in_url',
  'weak_tls',
  'certificate_expired',
  'certificate_expiring',
  'certificate_name_mismatch',
  'cleartext_credentials',
  'api_change',
  'api_gone_quiet',
  'enumeration',
  'bola_suspect',
  'excessive_usage',
  'auth_bruteforce',
  'pii_harvest',
  'undocumented_parameter',
  'undocumented_field',
  'undocumented_status',
  'schema_mismatch',
] as const;
export const FindingKind = z.enum(FINDING_KINDS);
export type FindingKind = z.infer<typeof FindingKind>;

export const EndpointPii = z.object({
  kind: PiiKind,
  location: PiiLocation,
  /** Normalised field: JSON path ($.customer.email), parameter or header name. */
  field: z.string(),
});
export type EndpointPii = z.infer<typeof EndpointPii>;

export const EndpointRecord = z.object({
  host: z.string(),
  method: z.string(),
  /** Path template, e.g. /users/{userId}. */
  path: z.string(),
  hits: z.number().int().nonnegative(),
  documented: z.boolean(),
  deprecated: z.boolean(),
  /** Auth schemes seen on requests: basic, bearer, jwt, api_key_header, api_key_query, cookie, none. */
  auth: z.array(z.string()),
  pii: z.array(EndpointPii),
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** Counts per status class ("2xx", "4xx", "none" for unanswered). */
  statusClasses: z.record(z.string(), z.number().int()),
  latencyP50Ms: z.number().nullable(),
  latencyP95Ms: z.number().nullable(),
  contentTypes: z.array(z.string()),
  queryParams: z.array(z.string()),
  /** JSON field paths with their types, e.g. "response.body $.items[*].id:integer". */
  fields: z.array(z.string()),
  /** "api" unless the endpoint is a static asset, health check or CORS preflight. */
  category: z.enum(['api', 'static', 'health', 'preflight']),
  /** How the template was decided (rule names, distinct values seen, value classes). */
  explain: z.array(z.string()),
  /** VXLAN network identifiers the traffic came from (empty when not tunnelled). */
  vnis: z.array(z.number().int()),
  /**
   * The protocol its exchanges were carried in (exchange/v1 `protocol`): 'http' (HTTP/1.x), 'h2c',
   * 'grpc'; the most frequent one when several. Records from before the field: 'http'.
   */
  protocol: z.string().default('http'),
});
export type EndpointRecord = z.infer<typeof EndpointRecord>;

/**
 * Who a behaviour finding is about. `ip` is the TCP peer (raw, or `hmac:<hex>` with --actor-ip hash);
 * `principal` is the masked form of the credential's identity (JWT sub, API key, Basic user, session),
 * never the raw value; `id` is deterministic: a keyed hash of the principal's HMAC when there is one,
 * else of the IP.
 */
export const ActorRef = z.object({
  id: z.string(),
  ip: z.string(),
  principal: z.string().nullable(),
  /** 'jwt_sub', 'jwt_client', 'api_key', 'basic_user', 'session', or null without credentials. */
  principalKind: z.string().nullable(),
});
export type ActorRef = z.infer<typeof ActorRef>;

/**
 * report/v1 `actors`: one actor's traffic in numbers (principal and IP as in ActorRef). `endpoints`
 * counts distinct (host, method, template); `errors` the 4xx and 5xx responses it received.
 */
export const ActorRecord = z.object({
  id: z.string(),
  ip: z.string(),
  principal: z.string().nullable(),
  principalKind: z.string().nullable(),
  requests: z.number().int().nonnegative(),
  endpoints: z.number().int().nonnegative(),
  errors: z.object({ '4xx': z.number().int().nonnegative(), '5xx': z.number().int().nonnegative() }),
  firstSeen: z.string(),
  lastSeen: z.string(),
});
export type ActorRecord = z.infer<typeof ActorRecord>;

export const Finding = z.object({
  /** Deterministic: hash of kind, host, method, path and the finding's discriminating detail. */
  id: z.string(),
  kind: FindingKind,
  severity: Severity,
  host: z.string(),
  method: z.string(),
  path: z.string(),
  /** 0..1; includes capture quality (gaps, truncation, one-sided flows, unpaired messages). */
  confidence: z.number().min(0).max(1),
  /** Human-readable and redacted: never a raw personal value or secret. */
  evidence: z.string(),
  /** Structured, redacted detail (window for orphans, PII kind and field, masked sample, hash...). */
  details: z.record(z.string(), z.unknown()),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  /** Behaviour findings (enumeration, bola_suspect, ...): the actor they are about; absent otherwise. */
  actor: ActorRef.optional(),
});
export type Finding = z.infer<typeof Finding>;

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Packet-time microseconds to ISO-8601 with microsecond precision (UTC). */
export function isoFromUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = String(((us % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac + 'Z';
}
