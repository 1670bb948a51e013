// The analyzer plug-in interface: what every analyzer beside the inventory core implements.
//
// The inventory core (analysis.ts with endpoints/ and spec/) attributes each exchange to an endpoint
// of a per-host path tree; plug-ins build on that attribution. Call order, per analysis:
//   observe(o)*           once per exchange with a request, in capture order, after the core
//   contribute(ag)*       at snapshot time, once per endpoint in inventory order: add this plug-in's
//                         fields to the record (assign existing keys: the record's key order is fixed)
//   findings(snapshot)    at snapshot time, after every contribute; the facade sorts the union
//   forget(hosts)         the hosts' partitions moved away (analyzer group): drop their state
//   restore(findings)     the stored findings of hosts being restored (after forget of those hosts)
//   stats()               counters named in engine/contracts/catalogue.ts, folded into the report
// State is per API host, so a host's traffic analysed alone gives the same contribution and the
// same findings for that host (the replay's threads and the analyzer group shard by host). The one
// cross-host finding, orphan_api, is merged by risks/findings.ts (mergeShardFindings).
// Deterministic: packet time only, no randomness, sorted output. Listed by hand in registry.ts.
import type { CounterName } from '../engine/contracts/catalogue.js';
import type { Exchange } from '../engine/contracts/exchange.js';
import type { Finding } from '../engine/contracts/inventory.js';
import type { AuthResult } from './auth/classify.js';
import type { EndpointAggregate } from './endpoints/aggregate.js';
import type { LeafStats } from './endpoints/stats.js';
import type { TemplateSeg } from './endpoints/tree.js';
import type { SpecIndex } from './spec/match.js';

/** One exchange as the inventory core attributed it. Valid only during observe(). */
export interface Observed {
  readonly ex: Exchange;
  readonly host: string;
  /** Upper-case request method. */
  readonly method: string;
  /** Provisional template (spec, value-class and override rules, no cardinality yet). */
  readonly path: string;
  readonly tpl: readonly TemplateSeg[];
  /** The exchange's leaf in the host's path tree; it follows the leaf into its final endpoint. */
  readonly leaf: LeafStats;
  /** The request's credentials (auth/classify.ts). */
  readonly auth: AuthResult;
  /** Bumped when the host was forgotten: keys of earlier state must not be reused. */
  readonly generation: number;
  /** "host[#generation] METHOD path": the key per-endpoint state is kept under (one string per route). */
  readonly key: string;
  /**
   * Which bodies plug-ins walk (bit 1 request, bit 2 response): the body gate (shared/gate.ts) leaves
   * out bodies of settled streams. A plug-in that walks bodies must not walk one whose bit is clear
   * (it may still take its own bounded sample, as conformance does, or run a fixed cheap check).
   */
  readonly bodies: number;
  /**
   * Keyed hashes of the personal-data values the response carried (the PII plug-in appends them;
   * the actor tracker reads them after every plug-in observed: pii_harvest).
   */
  readonly piiReceived: string[];
}

/** Everything a snapshot knows, for findings. */
export interface Snapshot {
  readonly aggregates: readonly EndpointAggregate[];
  readonly current: SpecIndex;
  readonly previous: SpecIndex;
  /** Packet-time window of the whole observation, null when nothing was observed. */
  readonly window: { firstUs: number; lastUs: number } | null;
  /** API hosts that had traffic, sorted. */
  readonly hostsSeen: readonly string[];
}

export interface AnalyzerPlugin {
  /** Stable name (logs, tests). */
  readonly name: string;
  observe?(o: Observed): void;
  contribute?(ag: EndpointAggregate): void;
  findings?(s: Snapshot): Finding[];
  forget?(hosts: readonly string[]): void;
  /** Seed from stored findings of hosts whose state is being restored (analyzer group). */
  restore?(findings: readonly Finding[]): void;
  stats?(): Partial<Record<CounterName, number>>;
}
