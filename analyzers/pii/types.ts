// The PII layer's contract with the rest of the analyzers.
//
// scanExchange() finds candidate values in one exchange (per value: validators, key hints, score).
// A field is only *labelled* with a kind after per-field aggregation across exchanges
// (PiiFieldAggregator): weak evidence (a 9-digit number passing the elfproef) needs several distinct
// values or a key hint (see ../shared/design/pii.md, "Score and aggregate per field").
// Privacy: a PiiHit never holds the raw value; only `masked`, `shape` and a keyed `hash`.
import type { Exchange } from '../../engine/contracts/exchange.js';
import type { PiiKind, PiiLocation } from '../../engine/contracts/inventory.js';

export interface PiiHit {
  kind: PiiKind;
  location: PiiLocation;
  /**
   * Normalised field: a JSON path for bodies ($.customer.addresses[*].postcode), the parameter name
   * for query/form values, the header or cookie name (lower-case), or `path[i]` for the i-th path
   * segment (0-based, after the leading slash) which the endpoint layer renames to its template
   * parameter.
   */
  field: string;
  /** 0..1 for this one value, after validation and key hints. */
  confidence: number;
  /** 'strong': report from this value alone; 'weak': only through field aggregation or a key hint. */
  strength: 'strong' | 'weak';
  /**
   * A validator (checksum, structure, libphonenumber...) accepted the value. False only on a
   * rejection (detector "checksum-rejected", strength weak, confidence 0, masked/shape/hash empty):
   * the value had the shape of a weak checksum kind (payment_card, bsn) and failed its checksum. It is
   * evidence *against* labelling the field from values alone (PiiFieldAggregator), never a finding.
   */
  validated: boolean;
  /** A positive key hint supported it. */
  keyHint: boolean;
  /** A well-known documentation/test value (e.g. 4111 1111 1111 1111). */
  example: boolean;
  /** Masked value, safe to store and show (e.g. "j***@e******.com", "**** **** **** 1111"). */
  masked: string;
  /** Character-class shape, e.g. "AA99 AAAA 9999 9999 99". */
  shape: string;
  /** HMAC-SHA-256 (per-installation secret) of the normalised value, hex, first 32 chars. */
  hash: string;
  /** Detector id that produced the hit (e.g. "iban", "github-pat", "jwt"), for explanations and allowlists. */
  detector: string;
  /** Redacted facts about the value (JWT alg, alg_none, no_exp...), or null. Never raw values. */
  details: Record<string, string | boolean> | null;
}

export interface PiiScanner {
  /**
   * Candidates in one exchange (request and response: path, query, headers, cookies, bodies).
   * `endpointKey` (the key later given to PiiFieldAggregator.add, e.g. "host METHOD /template")
   * enables per-field sampling (sampling.ts states what is always scanned and the detection bound for
   * a settled field); the decisions follow the order of that endpoint's exchanges. Without it every
   * value is fully scanned. Path segments are keyed `path[i]`, so the key must name the
   * template the exchange was matched to. `bodies` says which bodies to scan (bit 1 request, bit 2
   * response; default both): the analysis's body gate (shared/gate.ts) leaves settled ones out.
   */
  scanExchange(ex: Exchange, endpointKey?: string, bodies?: number): PiiHit[];
  /** Sampling counters, for telemetry (absent in test doubles). */
  stats?(): PiiScanStats;
}

export interface PiiScanStats {
  /** (endpoint, location, field) entries with a sampling state. */
  fieldsTracked: number;
  /** Fields (or endpoints) met after the state table was full: always fully scanned. */
  fieldsUntracked: number;
  /** Values of settled fields not picked for a full scan (secret rules only). */
  valuesSampledOut: number;
  /** Full scans of settled fields because the value's shape was new for the field (sampling.ts). */
  novelShapeScans: number;
  /** Values whose shape was not remembered: the field had MAX_SHAPES shapes already. */
  shapesOverflow: number;
  /** Full scans whose outcome differed from the settled field's (the field was scanned fully again). */
  outcomeChanges: number;
}

/** The labels an endpoint field earns once enough evidence is in. */
export interface PiiFieldResult {
  kind: PiiKind;
  location: PiiLocation;
  field: string;
  confidence: number;
  /** Distinct value hashes seen (bounded). */
  distinct: number;
  example: boolean;
  /** One masked sample and its hash, for evidence. */
  masked: string;
  hash: string;
}

export interface PiiFieldAggregator {
  /** Add one exchange's hits for an endpoint key (e.g. "host METHOD /template"). */
  add(endpointKey: string, hits: readonly PiiHit[]): void;
  /** The fields that passed aggregation for that endpoint, sorted deterministically. */
  results(endpointKey: string): PiiFieldResult[];
}
