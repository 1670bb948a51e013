// The analysis side of a pipeline: exchanges in, inventory + findings out, written to a store.
//
// Used by `replay` (single process) and by `analyze` (Kafka consumer). Exchange metadata rows are
// written in batches while the capture is read; endpoints and findings are computed from the whole
// observation window at finish() (templating needs the accumulated path tree) and written then.
import { createHash } from 'node:crypto';
import { createAnalysis, type Analysis } from '../../../analyzers/analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../../../analyzers/pii/index.js';
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import type { LoadedGraphqlSchema } from '../../../analyzers/graphql/index.js';
import type { Overrides } from '../../../analyzers/endpoints/index.js';
import { apiHost, exchangeProtocol, type Exchange } from '../../contracts/exchange.js';
import type { EndpointRecord, Finding } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import type { ExchangeRow, PathMapRow, Store } from '../../adapters/store/types.js';
import type { TlsEndpoint, TlsHandshake } from '../../contracts/tls.js';
import { DEFAULT_QUIET_US, drift } from '../../../analyzers/drift/index.js';
import type { CaptureReport } from './report.js';
import { sortFindings } from '../../../analyzers/risks/findings.js';
import type { ActorRecord } from '../../contracts/inventory.js';
import { ActorSettings, type BodySettings } from '../config/index.js';
import type { BodyGateOptions } from '../../../analyzers/shared/gate.js';
import { foldBehaviourDrops, reportActors, runBehaviour } from './behaviour.js';
import { Counters as CounterSet } from '../../contracts/counters.js';
import type { CounterName } from '../../contracts/catalogue.js';

export interface AnalysisConfig {
  specs: LoadedSpec[];
  previousSpecs: LoadedSpec[];
  /** GraphQL SDL schemas (`--graphql-schema`), empty or absent for none. */
  graphqlSchemas?: LoadedGraphqlSchema[];
  overrides: Overrides | null;
  /** Per-installation secret for keyed hashes of sensitive values. */
  secret: Buffer;
  store: Store | null;
  /** Exchange metadata rows per store write. */
  batchRows?: number;
  /** certificate_expiring threshold in days (analyzers/tls; default 30). */
  certificateExpiringDays?: number;
  /**
   * Drift against the store's earlier windows (api_change, api_gone_quiet; analyzers/drift): on by
   * default when there is a store; quietUs is the silence after which an endpoint has gone quiet.
   */
  drift?: { quietUs: number } | false;
  /** Actors and behaviour thresholds (config analysis.actors; defaults when absent). */
  actors?: ActorSettings;
  /** Body gate (config analysis.bodies; defaults when absent; rate 0 walks every body). */
  bodies?: BodySettings;
  /**
   * Keep per-exchange actor events and run the behaviour detectors at finish (replay: default
   * true). The analyzer group sets false: its behaviour job reads the events back from the store.
   */
  behaviour?: boolean;
}

export interface AnalysisSession {
  /** Fold one exchange in; returns its metadata row (buffered for the store when the session has one). */
  observe(ex: Exchange): ExchangeRow;
  /** Fold one tls/v1 record in (the inventory of encrypted hosts; written to the store at finish). */
  observeTls(rec: TlsHandshake): void;
  /** Write buffered exchange rows when a batch is full (call between input chunks). */
  drain(): Promise<void>;
  finish(
    capture: CaptureReport,
    files: readonly string[],
  ): Promise<{ endpoints: EndpointRecord[]; findings: Finding[]; tls: TlsEndpoint[]; actors: ActorRecord[] | null }>;
  readonly analysis: Analysis;
  /** Packet time of the first and last request (or response) observed, -1 before any. */
  span(): { firstUs: number; lastUs: number };
}

export interface AnalysisResults {
  endpoints: readonly EndpointRecord[];
  findings: readonly Finding[];
  /** Provisional exchange paths → endpoints (analysis.pathMap()). */
  pathMap: readonly PathMapRow[];
  capture: CaptureReport;
  files: readonly string[];
  firstUs: number;
  lastUs: number;
}

/** Writes a finished analysis: endpoints, findings and the capture's statistics row (id from its content). */
export async function writeResults(store: Store, r: AnalysisResults): Promise<void> {
  await store.writeEndpoints(r.endpoints);
  await store.writeFindings(r.findings);
  await store.writePathMap(r.pathMap);
  const id = createHash('sha256')
    .update(
      JSON.stringify({
        files: r.files.length,
        packets: r.capture.packets,
        bytes: r.capture.bytes,
        firstUs: r.firstUs,
        lastUs: r.lastUs,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  await store.writeCaptureStats({
    id,
    source: r.files.map((f) => f.split('/').pop() ?? f).join(','),
    firstUs: r.firstUs >= 0 ? r.firstUs : null,
    lastUs: r.lastUs >= 0 ? r.lastUs : null,
    stats: JSON.stringify(r.capture),
  });
}

/** The analysis's body gate from config analysis.bodies (rate 0: every body walked). */
export function bodyGateOf(b: BodySettings | undefined): Partial<BodyGateOptions> | false {
  if (b === undefined) return {};
  return b.rate === 0 ? false : { rate: b.rate, saturation: b.saturation };
}

export function createAnalysisSession(cfg: AnalysisConfig, counters: Counters): AnalysisSession {
  const actorSettings = cfg.actors ?? ActorSettings.parse({});
  const behaviour = cfg.behaviour ?? true;
  const analysis = createAnalysis({
    specs: cfg.specs,
    previousSpecs: cfg.previousSpecs,
    overrides: cfg.overrides,
    pii: { scanner: createPiiScanner({ secret: cfg.secret }), aggregator: createPiiFieldAggregator() },
    ...(cfg.certificateExpiringDays !== undefined ? { tls: { expiringDays: cfg.certificateExpiringDays } } : {}),
    actors: { secret: cfg.secret, ipMode: actorSettings.ip, keepEvents: behaviour, maxEvents: actorSettings.maxEvents },
    graphqlSchemas: cfg.graphqlSchemas ?? [],
    bodyGate: bodyGateOf(cfg.bodies),
  });
  const batchRows = cfg.batchRows ?? 5000;
  let rows: ExchangeRow[] = [];
  let firstUs = -1;
  let lastUs = -1;

  async function flushRows(): Promise<void> {
    if (cfg.store === null || rows.length === 0) {
      rows = [];
      return;
    }
    const batch = rows;
    rows = [];
    await cfg.store.writeExchanges(batch);
    counters.inc('store_exchange_rows', batch.length);
  }

  return {
    analysis,
    observe(ex: Exchange): ExchangeRow {
      const at = analysis.observe(ex);
      const t = ex.request?.startUs ?? ex.response?.startUs ?? -1;
      if (t >= 0) {
        if (firstUs < 0 || t < firstUs) firstUs = t;
        if (t > lastUs) lastUs = t;
      }
      const row: ExchangeRow = {
        id: ex.id,
        flowId: ex.flowId,
        seq: ex.seq,
        vni: ex.vni,
        host: at.host ?? apiHost(ex),
        method: at.method,
        path: at.path,
        status: ex.response?.status ?? null,
        requestUs: ex.request?.startUs ?? null,
        latencyUs: ex.latencyUs,
        requestBytes: ex.request?.body.size ?? 0,
        responseBytes: ex.response?.body.size ?? 0,
        anomalies: ex.anomalies,
        complete: ex.complete,
        actor: at.actor,
        protocol: exchangeProtocol(ex),
        wsDirection: ex.websocket?.direction ?? '',
      };
      if (cfg.store !== null) rows.push(row);
      return row;
    },
    observeTls(rec: TlsHandshake): void {
      analysis.observeTls(rec);
      if (firstUs < 0 || rec.timeUs < firstUs) firstUs = rec.timeUs;
      if (rec.timeUs > lastUs) lastUs = rec.timeUs;
    },
    async drain(): Promise<void> {
      if (rows.length >= batchRows) await flushRows();
    },
    async finish(capture, files) {
      await flushRows();
      const endpoints = analysis.endpoints();
      let findings = analysis.findings();
      let actors: ActorRecord[] | null = null;
      if (behaviour) {
        const own = new CounterSet();
        const b = runBehaviour(analysis.actorEvents(), analysis.pathMap(), actorSettings, own);
        findings = sortFindings([...findings, ...b.findings]);
        actors = reportActors(b.actors, actorSettings.reportTop, own);
        foldBehaviourDrops(capture, own);
        for (const [k, v] of Object.entries(own.snapshot())) counters.inc(k as CounterName, v);
        if (cfg.store !== null) await cfg.store.writeActors(b.actors);
      }
      if (cfg.store !== null && cfg.drift !== false)
        findings = await applyDrift(cfg.store, endpoints, findings, cfg.drift?.quietUs ?? DEFAULT_QUIET_US);
      const tls = analysis.tls();
      if (cfg.store !== null) {
        const pathMap = analysis.pathMap();
        await writeResults(cfg.store, { endpoints, findings, pathMap, capture, files, firstUs, lastUs });
        await cfg.store.writeTls(tls);
      }
      return { endpoints, findings, tls, actors };
    },
    span: () => ({ firstUs, lastUs }),
  };
}

/**
 * Drift against the store's earlier windows (analyzers/drift): reads the stored facts, writes this
 * window's new or moved facts, and returns `findings` plus the window's api_change / api_gone_quiet
 * findings. Call once per finished window, before its endpoints are written.
 */
export async function applyDrift(
  store: Store,
  endpoints: readonly EndpointRecord[],
  findings: Finding[],
  quietUs: number,
): Promise<Finding[]> {
  const d = drift(await store.facts(), endpoints, { quietUs });
  await store.writeFacts(d.facts);
  return d.findings.length > 0 ? [...findings, ...d.findings] : findings;
}
