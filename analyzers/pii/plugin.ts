// The PII analyzer as a plug-in: scans each exchange (scanner.ts decides what is worth scanning),
// aggregates hits per field of the provisional endpoint (aggregate.ts), and at snapshot time gives an
// endpoint the PII fields of every provisional key that folded into it, plus those restored from the
// store. Without a scanner (tests) only restored fields are reported.
import type { PiiKind } from '../../engine/contracts/inventory.js';
import type { EndpointAggregate } from '../endpoints/aggregate.js';
import { endpointPii, renamePathField } from '../endpoints/aggregate.js';
import type { AnalyzerPlugin, Observed } from '../plugin.js';
import type { PiiFieldAggregator, PiiFieldResult, PiiScanner } from './types.js';

/** Kinds that are credentials or infrastructure, not personal data received (pii_harvest). */
const CREDENTIAL_KINDS: ReadonlySet<PiiKind> = new Set(['password', 'jwt', 'api_key', 'session_token', 'ip_address']);

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function createPiiAnalyzer(pii: { scanner: PiiScanner; aggregator: PiiFieldAggregator } | null): AnalyzerPlugin {
  return {
    name: 'pii',
    observe(o: Observed) {
      if (pii === null) return;
      const key = o.key;
      const hits = pii.scanner
        .scanExchange(o.ex, key, o.bodies)
        .map((h) => ({ ...h, field: renamePathField(h.field, o.tpl) }));
      pii.aggregator.add(key, hits);
      for (const h of hits) {
        if (h.location.startsWith('response.') && h.validated && h.hash !== '' && !CREDENTIAL_KINDS.has(h.kind))
          o.piiReceived.push(h.hash);
      }
      o.leaf.coarseKeys.add(key);
    },
    contribute(ag: EndpointAggregate) {
      const s = ag.stats;
      if (pii === null && s.restoredPii.length === 0) return;
      const best = new Map<string, PiiFieldResult>();
      const offer = (r: PiiFieldResult): void => {
        const field = renamePathField(r.field, ag.tpl);
        const id = `${r.location}\u0000${field}\u0000${r.kind}`;
        const prev = best.get(id);
        if (!prev || r.confidence > prev.confidence || (r.confidence === prev.confidence && r.hash < prev.hash)) {
          best.set(id, { ...r, field, distinct: Math.max(r.distinct, prev?.distinct ?? 0) });
        } else if (r.distinct > prev.distinct) {
          prev.distinct = r.distinct;
        }
      };
      if (pii !== null) for (const k of s.coarseKeys.values()) for (const r of pii.aggregator.results(k)) offer(r);
      for (const r of s.restoredPii) offer(r);
      ag.pii = [...best.keys()].sort(cmp).map((k) => best.get(k) as PiiFieldResult);
      ag.record.pii = endpointPii(ag.pii);
    },
  };
}
