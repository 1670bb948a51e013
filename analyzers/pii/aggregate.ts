// Per-field aggregation (pii.md "Score and aggregate per field"). Keyed by
// (endpointKey, location, field, kind). A field earns its label when:
// - any hit was strong (a unique prefix, mod-97, a JWT...) — one value suffices; or
// - any hit carried a positive key hint; or
// - weak evidence only: at least MIN_DISTINCT[kind] distinct values (by hash), every one validated:
//   `failed` counts the rejections the scanner reports (hits with validated false: a value of the
//   kind's shape whose checksum failed, e.g. a 9-digit number failing the elfproef). About 1 in 11
//   random 9-digit numbers passes the elfproef, so a field of random ids shows ~10 rejections per
//   passing value and is never labelled from values; a field of real BSNs shows none.
// Distinct hashes are kept bounded (MAX_HASHES per field); the count saturates there.
// Results are sorted by location, field, kind, so output is deterministic.
import type { PiiKind, PiiLocation } from '../../engine/contracts/inventory.js';
import type { PiiFieldAggregator, PiiFieldResult, PiiHit } from './types.js';

/** Distinct validated values needed to label a field from weak evidence alone (measured chance of a
 * random number passing: Luhn 1/10, elfproef ≈ 1/11; IBAN mod-97 with country length ≈ 1/97). */
export const MIN_DISTINCT: Readonly<Partial<Record<PiiKind, number>>> = {
  payment_card: 4,
  bsn: 4,
  national_id: 4,
  us_ssn: 4,
  phone: 3,
  iban: 2,
  passport: 4,
  postcode: 4,
};
const DEFAULT_MIN = 4;
export const MAX_HASHES = 64;
const MAX_FIELDS_PER_ENDPOINT = 2048;
const MAX_ENDPOINTS = 100_000;

interface FieldState {
  kind: PiiKind;
  location: PiiLocation;
  field: string;
  strong: boolean;
  keyHint: boolean;
  failed: number;
  hashes: Set<string>;
  confidence: number;
  exampleOnly: boolean;
  masked: string;
  hash: string;
}

export function createPiiFieldAggregator(): PiiFieldAggregator {
  const endpoints = new Map<string, Map<string, FieldState>>();
  return {
    add(endpointKey: string, hits: readonly PiiHit[]): void {
      let fields = endpoints.get(endpointKey);
      if (fields === undefined) {
        if (endpoints.size >= MAX_ENDPOINTS) return;
        fields = new Map();
        endpoints.set(endpointKey, fields);
      }
      for (const h of hits) {
        const k = `${h.location}\u0000${h.field}\u0000${h.kind}`;
        let st = fields.get(k);
        if (st === undefined) {
          if (fields.size >= MAX_FIELDS_PER_ENDPOINT) continue;
          st = {
            kind: h.kind,
            location: h.location,
            field: h.field,
            strong: false,
            keyHint: false,
            failed: 0,
            hashes: new Set(),
            confidence: 0,
            exampleOnly: true,
            masked: h.masked,
            hash: h.hash,
          };
          fields.set(k, st);
        }
        // A rejection (scanner.ts reject(): shape matched, checksum failed) carries no value: count it only.
        if (!h.validated && h.strength === 'weak') {
          st.failed++;
          continue;
        }
        if (h.strength === 'strong') st.strong = true;
        if (h.keyHint) st.keyHint = true;
        if (st.hashes.size < MAX_HASHES) st.hashes.add(h.hash);
        if (!h.example) st.exampleOnly = false;
        // Keep the highest-confidence sample; ties keep the smallest hash so the sample is deterministic.
        if (h.confidence > st.confidence || (h.confidence === st.confidence && h.hash < st.hash)) {
          st.confidence = h.confidence;
          st.masked = h.masked;
          st.hash = h.hash;
        }
      }
    },

    results(endpointKey: string): PiiFieldResult[] {
      const fields = endpoints.get(endpointKey);
      if (fields === undefined) return [];
      const out: PiiFieldResult[] = [];
      for (const st of fields.values()) {
        const need = MIN_DISTINCT[st.kind] ?? DEFAULT_MIN;
        const byValues = st.failed === 0 && st.hashes.size >= need;
        if (!(st.strong || st.keyHint || byValues)) continue;
        let confidence = st.confidence;
        if (!st.strong && !st.keyHint) confidence = Math.min(0.95, 0.5 + 0.1 * st.hashes.size);
        out.push({
          kind: st.kind,
          location: st.location,
          field: st.field,
          confidence: Math.round(confidence * 100) / 100,
          distinct: st.hashes.size,
          example: st.exampleOnly,
          masked: st.masked,
          hash: st.hash,
        });
      }
      out.sort((a, b) => cmp(a.location, b.location) || cmp(a.field, b.field) || cmp(a.kind, b.kind));
      return out;
    },
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
