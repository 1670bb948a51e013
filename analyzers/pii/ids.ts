// Resource identifiers: values whose shape says "a generated id or digest", not "a secret".
//
// APIs name their objects with ids that look random: Twilio SIDs (`CH` + 32 hex), Stripe object ids
// (`cus_NffrFeUfNV2Hib`), UUIDs, MongoDB ObjectIds, hex digests, Docker ids, ULIDs, KSUIDs. Their
// entropy passes any generic-secret floor, and their keys often contain a credential word
// (`credential_sid`, `tokenId`, `$.credentials[*].sid`) or a session word (`account_sid`: "sid").
// Knowing the id is not a credential: the secret is the auth token next to it. So an
// identifier-shaped value is reported as an api_key or session_token only when
//   (a) a prefixed secret rule (gitleaks: `ghp_`, `sk_live_`, `SK` + 32 hex, `AKIA`…) matches it —
//       those run before and independent of this module; or
//   (b) it sits in a credential location: the Authorization header, a cookie, or a leaf key that
//       names a credential (`token`, `api_key`, `client_secret`) and is not itself an id key
//       (`…Id`, `…Sid`, `id`; see keys.ts KeyEvidence.idKey).
// detect.ts applies the rule to the key-name detectors (generic-api-key, session-key) and secrets.ts
// to the generic `key = value` text rule.

/** Twilio-style type prefix (2-4 letters) + 32 hex: `AC…`, `CH…`, `IS…`, `USR…`. */
const PREFIXED_HEX = /^[A-Za-z]{2,4}[0-9a-fA-F]{32}$/;
/**
 * Stripe-style object ids: a lower-case type prefix (possibly with one inner `_`: `seti_`, `price_`,
 * `ba_`, `acct_`), `_`, then 8-32 base62 characters (Stripe's are 14-24). Secret tokens of the same
 * shape are longer (`ghp_` + 36, `npm_` + 36, `hf_` + 34) and are caught first by their prefixed
 * rules anyway; their prefixes, and Stripe's key prefixes (`sk_`, `rk_`, `pk_`, `whsec_`), are never
 * ids here.
 */
const PREFIXED_OBJECT =
  /^(?!(?:sk|rk|pk|whsec|gh[pousr]|github|npm|hf|glc|glsa|sgp|ntn|shp[a-z]{2}|api_org)_)[a-z]{2,10}(?:_[a-z]{2,10})?_[A-Za-z0-9]{8,32}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Bare hex: ObjectId (24), MD5/GUID without dashes (32), SHA-1 (40), SHA-256 / Docker ids (64), SHA-512 (128). */
const HEX =
  /^(?:[0-9a-f]{24}|[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}|[0-9A-F]{24}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}|[0-9A-F]{128})$/;
/** Digest with its algorithm (`sha256:…`, Docker image ids and OCI digests). */
const ALGO_DIGEST = /^(?:sha1|sha256|sha384|sha512|md5):[0-9a-f]{32,128}$/;
/** ULID: 26 Crockford base32 characters, first ≤ 7 (48-bit millisecond time). */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
/**
 * KSUID: 27 base62 characters; the first is 0-3 for any time before 2150 (32-bit seconds since 2014
 * in the high bytes), and both cases and digits occur.
 */
const KSUID = /^[0-3][0-9A-Za-z]{26}$/;

export type IdentifierShape = 'prefixed-hex' | 'prefixed-object' | 'uuid' | 'hex' | 'digest' | 'ulid' | 'ksuid';

/** The identifier class of a whole value, or null when its shape is not one of them. */
export function identifierShape(v: string): IdentifierShape | null {
  const n = v.length;
  if (n < 10 || n > 135) return null;
  if (n === 36 && UUID.test(v)) return 'uuid';
  if ((n === 34 || n === 35 || n === 36) && PREFIXED_HEX.test(v)) return 'prefixed-hex';
  if (HEX.test(v)) return 'hex';
  if (ALGO_DIGEST.test(v)) return 'digest';
  if (n === 26 && ULID.test(v)) return 'ulid';
  if (n === 27 && KSUID.test(v) && /[0-9]/.test(v.slice(1)) && /[a-z]/.test(v) && /[A-Z]/.test(v)) return 'ksuid';
  if (v.includes('_') && PREFIXED_OBJECT.test(v)) return 'prefixed-object';
  return null;
}
