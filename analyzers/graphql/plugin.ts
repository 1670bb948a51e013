// GraphQL findings against `--graphql-schema` SDL files (schema.ts), as a plug-in. The operation
// endpoints themselves come from inventory.ts through the facade.
//
// - shadow_api (reason graphql_unknown): an operation uses schema coordinates no schema has (a field,
//   argument, enum value, type or root operation type): API surface that is served (or probed) but not
//   documented. One finding per operation endpoint; details list the coordinates (field-level). When
//   every execution was answered with errors and no data, the server itself refused the operation
//   (probing of a field that does not exist): low severity and confidence.
// - zombie_api (reason graphql_deprecated): an operation uses @deprecated coordinates.
// Without a schema, nothing here fires (the generic shadow rule of risks/findings.ts leaves GraphQL
// operations to this plug-in: an OpenAPI spec says nothing about them).
import type { Finding, Severity } from '../../engine/contracts/inventory.js';
import type { AnalyzerPlugin } from '../plugin.js';
import { findingId, qualityFactor } from '../risks/findings.js';
import type { GraphqlInventory } from './inventory.js';

const round3 = (x: number): number => Math.round(Math.max(0, Math.min(1, x)) * 1000) / 1000;
const sampleFactor = (hits: number): number => Math.min(1, 0.8 + 0.04 * hits);

/** Facts from stored findings, per endpoint, for restore (keyed host \0 method \0 path). */
export type RestoredFacts = Map<string, { unknown: string[]; deprecated: string[] }>;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function createGraphqlAnalyzer(inv: GraphqlInventory, restored: RestoredFacts): AnalyzerPlugin {
  return {
    name: 'graphql',
    findings(s) {
      const out: Finding[] = [];
      if (inv.schemas.length === 0) return out;
      const schemaNames = inv.schemas.map((x) => x.name);
      for (const ag of s.aggregates) {
        const r = ag.record;
        if (r.operation === undefined) continue;
        const sum = inv.summary(r.host, r.method, r.path);
        if (sum === undefined) continue;
        const st = ag.stats;
        const q = qualityFactor(st.impaired, st.hits) * sampleFactor(st.hits);
        const ok2 = r.statusClasses['2xx'] ?? 0;
        const refused = sum.errors >= r.hits && r.hits > 0;
        if (sum.unknown.length > 0) {
          const write = sum.type === 'mutation';
          const sev: Severity = refused ? 'low' : write ? 'high' : 'medium';
          out.push({
            id: findingId('shadow_api', r.host, r.method, r.path, 'graphql_unknown'),
            kind: 'shadow_api',
            severity: sev,
            host: r.host,
            method: r.method,
            path: r.path,
            confidence: round3((refused ? 0.4 : ok2 > 0 ? 0.9 : 0.6) * q),
            evidence:
              `GraphQL ${r.operation} called ${r.hits} times uses ${sum.unknown.length} coordinate(s) not in ${schemaNames.join(', ')}: ` +
              `${sum.unknown.slice(0, 5).join(', ')}${sum.unknown.length > 5 ? ', ...' : ''}` +
              (refused ? ` (every response carried errors: the server refused it)` : ''),
            details: {
              reason: 'graphql_unknown',
              operation: r.operation,
              schemas: schemaNames,
              unknown: sum.unknown,
              hits: r.hits,
              graphqlErrors: sum.errors,
              statusClasses: r.statusClasses,
              impairedExchanges: st.impaired,
            },
            firstSeen: r.firstSeen,
            lastSeen: r.lastSeen,
          });
        }
        if (sum.deprecated.length > 0) {
          out.push({
            id: findingId('zombie_api', r.host, r.method, r.path, 'graphql_deprecated'),
            kind: 'zombie_api',
            severity: 'medium',
            host: r.host,
            method: r.method,
            path: r.path,
            confidence: round3(0.95 * q),
            evidence:
              `GraphQL ${r.operation} called ${r.hits} times uses @deprecated ${sum.deprecated.slice(0, 5).join(', ')}` +
              `${sum.deprecated.length > 5 ? ', ...' : ''} (${schemaNames.join(', ')})`,
            details: {
              reason: 'graphql_deprecated',
              operation: r.operation,
              schemas: schemaNames,
              deprecated: sum.deprecated,
              hits: r.hits,
              statusClasses: r.statusClasses,
            },
            firstSeen: r.firstSeen,
            lastSeen: r.lastSeen,
          });
        }
      }
      return out;
    },
    forget(hosts) {
      inv.forget(hosts);
      for (const k of [...restored.keys()]) if (hosts.some((h) => k.startsWith(`${h}\u0000`))) restored.delete(k);
    },
    restore(findings) {
      for (const f of findings) {
        const reason = f.details['reason'];
        if (reason !== 'graphql_unknown' && reason !== 'graphql_deprecated') continue;
        const k = `${f.host}\u0000${f.method}\u0000${f.path}`;
        let e = restored.get(k);
        if (e === undefined) restored.set(k, (e = { unknown: [], deprecated: [] }));
        if (reason === 'graphql_unknown') e.unknown = strings(f.details['unknown']);
        else e.deprecated = strings(f.details['deprecated']);
      }
    },
    stats: () => inv.stats(),
  };
}
