// Endpoint state from the store: EndpointRecords (and, when given, their Findings) back into the
// per-leaf accumulators, for Analysis.restore() (a partition moved, a worker restarted).
//
// What comes back exactly: hits, first/last seen, status classes, the bounded sets (content types,
// query parameters, fields: each stored set is the N smallest values, and the N smallest of a union
// are the N smallest of the per-part N smallest), auth schemes, VNIs, sunset date. PII labels come
// back as already labelled (no re-aggregation needed); with the endpoint's pii_exposure finding they
// keep confidence, masked sample and hash, without it they get RESTORED_PII_CONFIDENCE and no sample.
//
// What comes back approximately (the record does not carry it; a stored finding does when present):
// - latency: the record keeps only p50/p95. The leaf gets synthetic samples that reproduce them,
//   hashed as the expected order statistics of `n` uniform hashes, so the bottom-k sample of restored
//   and new exchanges keeps roughly the share each part had. Merged percentiles are therefore
//   approximate; the synthetic shape is half the mass at p50, p50→p95 linear up to the 95th
//   percentile, the rest at p95 (the tails beyond are lost). The test pins merged p50/p95 within 10 %
//   of a one-pass analysis on a uniform distribution.
// - category: the stored category with weight `hits` (the majority vote of both parts).
// - auth posture counters (authed/unauthed/2xx splits): exact for single-posture endpoints (auth is
//   ['none'] or lacks 'none'), from the unauthenticated_endpoint / mixed_auth findings otherwise.
// - deprecation/sunset counts and credentials-in-URL counts: from the zombie / sensitive_in_url
//   findings (credential query parameters also by name from queryParams, count 1); impaired exchanges from the shadow finding (else 0: restored evidence counts as clean).
// Proposal (contract owner): carry these counters in the stored endpoint row so none of this is lossy.
import type { EndpointRecord, Finding, PiiKind, PiiLocation } from '../../engine/contracts/inventory.js';
import { PII_KINDS, PII_LOCATIONS } from '../../engine/contracts/inventory.js';
import { credentialQueryPart } from '../auth/classify.js';
import type { PiiFieldResult } from '../pii/types.js';
import type { LeafStats } from './stats.js';
import { LIMITS, newLeafStats, trimLatency } from './stats.js';

/** Confidence given to a PII label restored without its finding. */
export const RESTORED_PII_CONFIDENCE = 0.5;

/** Inverse of isoFromUs for the ISO strings it writes (µs precision, UTC); null when unparsable. */
export function usFromIso(iso: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m) return null;
  const sec = Date.parse(`${m[1] ?? ''}Z`);
  if (!Number.isFinite(sec)) return null;
  return sec * 1000 + Number((m[2] ?? '').padEnd(6, '0'));
}

const num = (d: Record<string, unknown>, k: string): number | null => {
  const v = d[k];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
};
const str = (d: Record<string, unknown>, k: string): string | null => {
  const v = d[k];
  return typeof v === 'string' ? v : null;
};
const rec = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

const GOLDEN = 0.6180339887498949;

/**
 * Synthetic latency samples reproducing p50/p95 (ms) of `n` exchanges. The i-th gets the hash an
 * i-th smallest of n uniform 32-bit hashes is expected to have (so merged with new samples it keeps
 * its share of the bottom-k sample). Values are assigned by rank, the ranks spread over the hash order
 * by a low-discrepancy sequence (any hash prefix covers the distribution): rank j of m gets p50 up to
 * ceil(m/2), p95 from ceil(0.95 m), linear in between — so alone they give back p50/p95 exactly.
 */
export function syntheticLatency(n: number, p50Ms: number | null, p95Ms: number | null): [number, number][] {
  if (n <= 0 || p50Ms === null) return [];
  const p50 = Math.round(p50Ms * 1000);
  const p95 = Math.round((p95Ms ?? p50Ms) * 1000);
  const m = Math.min(n, LIMITS.latencySample);
  const r50 = Math.ceil(0.5 * m);
  const r95 = Math.ceil(0.95 * m);
  const order = Array.from({ length: m }, (_, i) => i).sort(
    (a, b) => (((a + 1) * GOLDEN) % 1) - (((b + 1) * GOLDEN) % 1),
  );
  const out: [number, number][] = new Array<[number, number]>(m);
  order.forEach((i, k) => {
    const rank = k + 1;
    const v = rank <= r50 ? p50 : rank >= r95 ? p95 : Math.round(p50 + ((p95 - p50) * (rank - r50)) / (r95 - r50));
    out[i] = [Math.floor(((i + 1) * 0x1_0000_0000) / (n + 1)), v];
  });
  trimLatency(out);
  return out;
}

function piiFromRecord(r: EndpointRecord, findings: readonly Finding[]): PiiFieldResult[] {
  const detail = new Map<string, PiiFieldResult>();
  for (const f of findings) {
    if (f.kind !== 'pii_exposure') continue;
    const loc = str(f.details, 'location');
    const fields = f.details['fields'];
    if (loc === null || !Array.isArray(fields)) continue;
    for (const x of fields) {
      const d = rec(x);
      if (d === null) continue;
      const kind = str(d, 'kind');
      const field = str(d, 'field');
      if (kind === null || field === null) continue;
      detail.set(`${loc}\u0000${field}\u0000${kind}`, {
        kind: kind as PiiKind,
        location: loc as PiiLocation,
        field,
        confidence: Math.min(1, num(d, 'confidence') ?? RESTORED_PII_CONFIDENCE),
        distinct: num(d, 'distinct') ?? 1,
        example: d['example'] === true,
        masked: str(d, 'masked') ?? '',
        hash: str(d, 'hash') ?? '',
      });
    }
  }
  const out: PiiFieldResult[] = [];
  for (const p of r.pii) {
    if (
      !(PII_KINDS as readonly string[]).includes(p.kind) ||
      !(PII_LOCATIONS as readonly string[]).includes(p.location)
    )
      continue;
    out.push(
      detail.get(`${p.location}\u0000${p.field}\u0000${p.kind}`) ?? {
        kind: p.kind,
        location: p.location,
        field: p.field,
        confidence: RESTORED_PII_CONFIDENCE,
        distinct: 1,
        example: false,
        masked: '',
        hash: '',
      },
    );
  }
  return out;
}

/**
 * The accumulators of one stored endpoint. `findings`: the stored findings of the same (host,
 * method, path), any order, possibly none.
 */
export function leafFromRecord(r: EndpointRecord, findings: readonly Finding[]): LeafStats {
  const s = newLeafStats();
  s.hits = r.hits;
  const first = usFromIso(r.firstSeen);
  const last = usFromIso(r.lastSeen);
  if (r.hits > 0 && first !== null) s.firstUs = first;
  if (r.hits > 0 && last !== null) s.lastUs = Math.max(last, s.firstUs);
  for (const [k, v] of Object.entries(r.statusClasses)) if (v > 0) s.statusClasses.set(k, v);
  s.latency = syntheticLatency(r.hits - (r.statusClasses['none'] ?? 0), r.latencyP50Ms, r.latencyP95Ms);
  for (const x of r.contentTypes) s.contentTypes.add(x);
  for (const x of r.queryParams) s.queryParams.add(x);
  for (const x of r.fields) s.fields.add(x);
  for (const x of r.auth) s.auth.add(x);
  for (const x of r.vnis) if (s.vnis.size < LIMITS.vnis) s.vnis.add(x);
  if (r.hits > 0) s.categories.set(r.category, r.hits);
  if (r.hits > 0) s.protocols.set(r.protocol, r.hits);
  s.restoredPii = piiFromRecord(r, findings);
  // Credentials in query parameters by name (count unknown: 1; the sensitive_in_url finding, when
  // given, replaces these with its counts; userinfo credentials come back only from it).
  for (const q of r.queryParams) {
    const part = credentialQueryPart(q);
    if (part !== null) s.credentialsInUrl.set(part, 1);
  }

  // Auth posture: exact when every request had the same posture, else from the findings.
  const ok2 = r.statusClasses['2xx'] ?? 0;
  const anon = r.auth.includes('none');
  if (anon && r.auth.length === 1) {
    s.unauthed = r.hits;
    s.unauth2xx = ok2;
  } else if (!anon) {
    s.authed = r.hits;
    s.authed2xx = ok2;
  }
  for (const f of findings) {
    const d = f.details;
    switch (f.kind) {
      case 'mixed_auth': {
        s.authed = num(d, 'authenticated') ?? s.authed;
        s.unauthed = num(d, 'unauthenticated') ?? s.unauthed;
        s.unauth2xx = num(d, 'unauthenticated2xx') ?? s.unauth2xx;
        s.authed2xx = Math.max(0, ok2 - s.unauth2xx);
        break;
      }
      case 'unauthenticated_endpoint': {
        s.unauth2xx = num(d, 'unauthenticated2xx') ?? s.unauth2xx;
        s.authed = num(d, 'authenticatedRequests') ?? s.authed;
        s.unauthed = num(d, 'unauthenticatedRequests') ?? s.unauthed;
        if (anon && r.auth.length > 1 && s.unauthed === 0) s.unauthed = Math.max(s.unauth2xx, r.hits - s.authed);
        s.authed2xx = Math.max(0, ok2 - s.unauth2xx);
        break;
      }
      case 'zombie_api': {
        // Header counts ride on deprecation_header, or on deprecated_operation when the spec also
        // marks the operation deprecated (findings.ts folds them into one finding).
        const reason = str(d, 'reason');
        if (reason !== 'deprecation_header' && reason !== 'deprecated_operation') break;
        if (reason === 'deprecated_operation' && num(d, 'deprecationResponses') === null) break;
        s.deprecationHeader = num(d, 'deprecationResponses') ?? 0;
        s.sunsetHeader = num(d, 'sunsetResponses') ?? 0;
        s.sunsetIso = str(d, 'sunset');
        break;
      }
      case 'sensitive_in_url': {
        const counts = rec(d['counts']);
        if (counts === null) break;
        s.credentialsInUrl.clear();
        for (const [k, v] of Object.entries(counts)) if (typeof v === 'number' && v > 0) s.credentialsInUrl.set(k, v);
        break;
      }
      case 'shadow_api': {
        s.impaired = Math.min(r.hits, num(d, 'impairedExchanges') ?? 0);
        break;
      }
      default:
        break;
    }
  }
  return s;
}
