// What the replay's threads say to each other. Plain, structured-cloneable data only.
//
//   main ──workerData──► collector thread ──thread bus (one MessagePort per shard)──► analysis thread i
//   main ◄──CollectorMsg── collector thread        main ◄──AnalysisMsg── analysis thread i
//
// The collector thread reads the captures and shards exchanges by API host; each analysis thread owns
// the hosts of its shard. Main writes the store (chDB lives in one thread) and merges the results.
import type { LoadedGraphqlSchema } from '../../../analyzers/graphql/index.js';
import type { MessagePort } from 'node:worker_threads';
import type { CollectorOptions } from '../../../collectors/collector.js';
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import type { Overrides } from '../../../analyzers/endpoints/index.js';
import type { CounterName } from '../../contracts/catalogue.js';
import type { EndpointRecord, Finding } from '../../contracts/inventory.js';
import type { ExchangeRow, PathMapRow } from '../../adapters/store/types.js';
import type { TlsHandshake } from '../../contracts/tls.js';
import type { TrafficSeries } from '../report/traffic.js';
import type { ActorEvent } from '../../../analyzers/actors/event.js';
import type { ActorSettings, BodySettings } from '../config/index.js';

export interface CollectorWorkerData {
  files: string[];
  collector: CollectorOptions;
  /** One port per analysis shard (empty with --no-analyze: exchanges are only counted). */
  ports: MessagePort[];
  /** Write exchange/v1 JSONL here, in capture order. */
  exchangesPath: string | null;
  progress: boolean;
  /** Parse TLS handshakes and send their records to main. */
  tls: boolean;
}

export type CollectorMsg =
  | { t: 'progress'; done: number; total: number; file: string }
  /** tls/v1 records in capture order, in batches (main keeps the inventory of encrypted hosts). */
  | { t: 'tls'; recs: TlsHandshake[] }
  | {
      t: 'done';
      counters: Partial<Record<CounterName, number>>;
      firstUs: number;
      lastUs: number;
      /** Exchanges per packet-time bucket (report/v1 traffic), from every exchange in capture order. */
      traffic: TrafficSeries;
    }
  | { t: 'error'; code: string | null; message: string };

export interface AnalysisWorkerData {
  port: MessagePort;
  specs: LoadedSpec[];
  previousSpecs: LoadedSpec[];
  /** GraphQL SDL schemas (plain data: name and SDL text; each thread builds them once). */
  graphqlSchemas: LoadedGraphqlSchema[];
  overrides: Overrides | null;
  secret: Uint8Array;
  certificateExpiringDays: number;
  actors: ActorSettings;
  bodies: BodySettings;
  /** Send exchange rows to main (it has an open store). */
  rows: boolean;
  /**
   * Append exchange rows here instead, one JSON ExchangeRow per line (main inserts them once the
   * threads are done and its embedded store is open; replay-threads.ts). null: no spill.
   */
  spillPath: string | null;
}

export type AnalysisMsg =
  | { t: 'rows'; rows: ExchangeRow[] }
  | {
      t: 'done';
      endpoints: EndpointRecord[];
      findings: Finding[];
      pathMap: PathMapRow[];
      window: { firstUs: number; lastUs: number } | null;
      stats: Partial<Record<CounterName, number>>;
      firstUs: number;
      lastUs: number;
      /** The shard's actor events (behaviour detection runs in main over all shards' events). */
      events: ActorEvent[];
    }
  | { t: 'error'; message: string };
