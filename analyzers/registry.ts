// The analyzers beside the inventory core, listed by hand (no registration by side effect). Order
// matters only for contribute(): a plug-in may read fields an earlier one contributed.
import type { ConformanceSpecs } from './conformance/plugin.js';
import { createConformanceAnalyzer } from './conformance/plugin.js';
import type { AnalyzerPlugin } from './plugin.js';
import type { GraphqlInventory } from './graphql/inventory.js';
import { createGraphqlAnalyzer, type RestoredFacts } from './graphql/plugin.js';
import { createPiiAnalyzer } from './pii/plugin.js';
import type { PiiFieldAggregator, PiiScanner } from './pii/types.js';
import { createRiskAnalyzer } from './risks/plugin.js';
import type { TlsInventory } from './tls/inventory.js';
import { createCleartextAnalyzer, createTlsAnalyzer } from './tls/plugin.js';

export interface RegistryOptions {
  pii: { scanner: PiiScanner; aggregator: PiiFieldAggregator } | null;
  /** The inventory of encrypted hosts the facade feeds with tls/v1 records. */
  tls: TlsInventory;
  /** The GraphQL operation endpoints the facade feeds, and facts restored from stored findings. */
  graphql: { inventory: GraphqlInventory; restored: RestoredFacts };
  /** The current specs as the inventory core matches them, for conformance. */
  conformance: ConformanceSpecs;
}

export function createAnalyzers(opts: RegistryOptions): AnalyzerPlugin[] {
  return [
    createPiiAnalyzer(opts.pii),
    createRiskAnalyzer(),
    createCleartextAnalyzer(),
    createTlsAnalyzer(opts.tls),
    createGraphqlAnalyzer(opts.graphql.inventory, opts.graphql.restored),
    // After pii: its findings read the PII fields pii contributed (undocumented_field severity).
    createConformanceAnalyzer(opts.conformance),
  ];
}
