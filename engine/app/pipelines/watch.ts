// `apitap watch`: collectors, analyzers and the embedded store in one process, fed by a VXLAN mirror
// socket, a pcap/pcapng byte stream (a tcpdump pipe) or capture files.
//
// One thread. The collector emits exchanges into a bounded queue; one pump observes them and writes
// the store. chDB runs its statements on the libuv pool (engine/adapters/store/chdb.ts), so a store
// write does not stall the socket, and one mirror session is well within one core's collector rate
// (test/bench). The replay's threads would add a snapshot round trip to every analysis thread and a
// second copy of the restore path for nothing on this scale; Kafka remains the way to scale out.
//
// Snapshots: the inventory and findings of the hosts that saw traffic are written every
// `snapshotEveryUs` of PACKET time (boundaries at multiples of the period, so the same capture gives
// the same snapshots) and at stop(). Exchange rows are buffered and written with each snapshot.
//
// Actors: exchange rows carry their actor columns; after each snapshot the behaviour detectors run
// over every stored row with an actor and the endpoint_paths mapping (as the analyzer group's job,
// pipelines/worker.ts), so behaviour findings and the actors table follow the whole store, restarts
// included. Its cost grows with the stored rows (one read per snapshot).
//
// Exactly once across restarts, with the analyzer group's mechanism (pipelines/worker.ts): every
// snapshot has a sequence number; exchange rows are written with source "watch:0:<seq>", then the
// endpoints with the watermark "watch:0" → seq of their host in the same INSERT. On start the state is
// restored from the store; an exchange whose id is already stored is skipped when its stored seq is at
// or below its host's watermark (counted), and counted again otherwise (its snapshot never completed).
import {
  createCollector,
  DEFAULT_COLLECTOR_OPTIONS,
  type Collector,
  type CollectorOptions,
} from '../../../collectors/collector.js';
import { readCaptureStream } from '../../../collectors/source/capture.js';
import { parseTarget } from '../../../analyzers/analysis.js';
import type { Exchange } from '../../contracts/exchange.js';
import type { Counters } from '../../contracts/counters.js';
import type { CounterName } from '../../contracts/catalogue.js';
import type { ExchangePublisher } from '../../adapters/bus/types.js';
import type { ExchangeRow, Store } from '../../adapters/store/types.js';
import { createAnalysisSession, type AnalysisConfig, type AnalysisSession } from './analyze.js';
import { collectFiles, collectVxlan, type LiveCollector } from './collect.js';
import { ReplayError } from './errors.js';
import { EndpointLedger, nextVersion } from './tombstones.js';
import { faultPoint } from './faults.js';
import type { Finding } from '../../contracts/inventory.js';
import { sortFindings } from '../../../analyzers/risks/findings.js';
import { ActorSettings } from '../config/index.js';
import { runBehaviour } from './behaviour.js';

export type WatchSource =
  | { kind: 'vxlan'; host: string; port: number; recvBufferBytes?: number }
  | { kind: 'files'; inputs: string[] }
  /** A pcap/pcapng byte stream; destroy() (when present) is called on stop to wake a waiting read. */
  | { kind: 'stream'; name: string; stream: AsyncIterable<Buffer> & { destroy?: () => void } };

export interface WatchOptions {
  source: WatchSource;
  collector?: Partial<CollectorOptions>;
  analysis: Omit<AnalysisConfig, 'store'>;
  store: Store;
  counters: Counters;
  /** Snapshot period in packet-time microseconds (> 0). */
  snapshotEveryUs: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface Watch {
  /** Resolves when a finite source (files, stream) has been read whole; never for a socket. */
  readonly ended: Promise<void>;
  /** The bound mirror socket (vxlan source), else null. */
  address(): { address: string; port: number } | null;
  /** Kernel drops of the mirror socket (-1 when unknown or not a socket). */
  kernelDrops(): number;
  /** Stop reading, end open connections, analyse what is queued, write the final snapshot. Idempotent. */
  stop(): Promise<void>;
  readonly session: AnalysisSession;
}

/** Exchanges waiting for the pump; above it a live source drops (counted), a file source waits. */
const MAX_QUEUE = 50_000;
const PART = 'watch:0';
/** On stop, a stream is read until no bytes came for this long (at most STREAM_DRAIN_MAX_MS). */
const STREAM_QUIET_MS = 400;
const STREAM_DRAIN_MAX_MS = 3000;

export async function startWatch(opts: WatchOptions): Promise<Watch> {
  const { store, counters } = opts;
  const every = Math.max(1, Math.floor(opts.snapshotEveryUs));
  const session = createAnalysisSession({ ...opts.analysis, store: null, behaviour: false }, counters);
  const actorSettings = opts.analysis.actors ?? ActorSettings.parse({});

  // Restore: inventory, findings and the snapshot watermarks of the previous run(s).
  const storedEndpoints = await store.endpoints();
  session.analysis.restore(storedEndpoints, await store.restoreFindings());
  const ledger = new EndpointLedger();
  ledger.seed(storedEndpoints);
  /** Version of the last endpoint write (EndpointWriteExtra.version): every write supersedes the last. */
  let clock = await store.maxEndpointVersion();
  const marks = new Map<string, bigint>();
  let seq = 0n;
  for (const [host, m] of await store.watermarks()) {
    const v = m.get(PART);
    if (v === undefined) continue;
    marks.set(host, v);
    if (v > seq) seq = v;
  }
  seq += 1n;
  opts.log?.('watch state restored from store', { endpoints: storedEndpoints.length, snapshot: Number(seq) });

  let queue: Exchange[] = [];
  let rows: ExchangeRow[] = [];
  const touched = new Set<string>();
  let nextUs = -1;
  let pumping: Promise<void> | null = null;
  let failure: Error | null = null;
  let waiters: (() => void)[] = [];

  const counted = (host: string, source: string): boolean => {
    if (!source.startsWith(`${PART}:`)) return source === '';
    const mark = marks.get(host);
    return mark !== undefined && BigInt(source.slice(PART.length + 1)) <= mark;
  };

  async function handle(batch: Exchange[]): Promise<void> {
    const stored = await store.exchangeSources(batch.map((e) => e.id));
    let maxUs = -1;
    const src = `${PART}:${seq}`;
    for (const ex of batch) {
      const copy = stored.get(ex.id);
      if (copy !== undefined && counted(parseTarget(ex).host, copy)) {
        counters.inc('watch_skipped_counted');
        continue;
      }
      const row = session.observe(ex);
      rows.push({ ...row, source: src });
      touched.add(row.host);
      const t = ex.request?.startUs ?? ex.response?.startUs ?? -1;
      if (t > maxUs) maxUs = t;
    }
    if (maxUs < 0) return;
    if (nextUs < 0) nextUs = (Math.floor(maxUs / every) + 1) * every;
    else if (maxUs >= nextUs) {
      await snapshot();
      nextUs = (Math.floor(maxUs / every) + 1) * every;
    }
  }

  /** Behaviour runs in this process: stop() runs one when no snapshot did (a crash before it is repaired). */
  let behaviourRuns = 0;
  /** Behaviour findings and actors over every stored row: idempotent (deterministic ids, same rows). */
  async function behaviour(): Promise<void> {
    const b = runBehaviour(await store.actorEvents(), await store.pathMap(), actorSettings, counters);
    await store.writeFindings(sortFindings(b.findings));
    await store.writeActors(b.actors);
    behaviourRuns++;
  }

  /** Exchange rows, findings (stale ones resolved), endpoints with the watermark: in that order. */
  async function snapshot(): Promise<void> {
    const hosts = [...touched].sort();
    if (hosts.length === 0 && rows.length === 0) return;
    const cur = seq;
    await store.writeExchanges(rows);
    counters.inc('store_exchange_rows', rows.length);
    rows = [];
    const a = session.analysis;
    const findings = hosts.flatMap((h) => a.findings(h));
    await store.writeFindings(findings);
    const current = new Set(findings.map((f) => f.id));
    const stale = (await store.activeFindingIds(hosts)).filter((id) => !current.has(id));
    if (stale.length > 0) {
      await store.resolveFindings(stale);
      counters.inc('analyzer_findings_resolved', stale.length);
    }
    const applied: Record<string, Record<string, string>> = {};
    for (const h of hosts) applied[h] = { [PART]: cur.toString() };
    const endpoints = hosts.flatMap((h) => a.endpoints(h));
    const byHost: Record<string, Finding[]> = {};
    for (const h of hosts) byHost[h] = [];
    for (const f of findings) byHost[f.host]?.push(f);
    faultPoint('watch.snapshot_exchanges');
    const written = ledger.rows(hosts, endpoints);
    clock = nextVersion(clock, written);
    await store.writeEndpoints(written, applied, { findings: byHost, version: clock });
    ledger.commit(hosts, endpoints);
    faultPoint('watch.snapshot_endpoints');
    await store.writePathMap(hosts.flatMap((h) => a.pathMap(h)));
    for (const h of hosts) marks.set(h, cur);
    touched.clear();
    seq = cur + 1n;
    await behaviour();
    counters.inc('watch_snapshots');
  }

  async function pump(): Promise<void> {
    while (queue.length > 0 && failure === null) {
      const batch = queue;
      queue = [];
      const w = waiters;
      waiters = [];
      for (const f of w) f();
      await handle(batch);
    }
  }

  function kick(): void {
    if (pumping !== null || failure !== null) return;
    pumping = pump()
      .catch((e: unknown) => {
        failure = e as Error;
        opts.log?.('watch analysis failed', { error: failure.message });
      })
      .finally(() => {
        pumping = null;
        if (queue.length > 0) kick();
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      });
  }

  const idle = async (): Promise<void> => {
    while (pumping !== null) await pumping;
    if (failure !== null) throw failure;
  };

  const publisher: ExchangePublisher = {
    publish(ex: Exchange) {
      if (failure !== null) return false;
      if (opts.source.kind === 'vxlan' && queue.length >= MAX_QUEUE) {
        counters.inc('watch_dropped_queue_full');
        return false;
      }
      queue.push(ex);
      kick();
      return true;
    },
    ready: () =>
      queue.length < MAX_QUEUE || failure !== null ? Promise.resolve() : new Promise((ok) => waiters.push(ok)),
    buffered: () => queue.length,
    flush: idle,
    close: idle,
  };

  const copts: CollectorOptions = { ...DEFAULT_COLLECTOR_OPTIONS, ...opts.collector };
  const abort = new AbortController();
  let live: LiveCollector | null = null;
  let ended: Promise<void>;
  let reader: { done: Promise<void>; end(): Promise<void> } | null = null;
  const src = opts.source;
  /** Wall clock of the last bytes read from a stream: only decides when stop() stops reading, never data. */
  let lastBytesAt = Date.now();
  if (src.kind === 'vxlan') {
    live = await collectVxlan(src.host, src.port, publisher, counters, copts, src.recvBufferBytes);
    ended = new Promise<void>(() => undefined);
  } else if (src.kind === 'files') {
    ended = collectFiles(src.inputs, publisher, counters, copts, { signal: abort.signal }).then(() => idle());
  } else {
    const counted = (async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of src.stream) {
        lastBytesAt = Date.now();
        yield chunk;
      }
    })();
    reader = streamReader(src.name, counted, publisher, counters, copts, abort.signal);
    ended = reader.done.then(() => idle());
  }
  ended.catch(() => undefined);

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    if (live !== null) await live.stop();
    else {
      if (src.kind === 'stream') {
        // What the pipe already holds is read first: until it is quiet for STREAM_QUIET_MS (bounded).
        const until = Date.now() + STREAM_DRAIN_MAX_MS;
        while (Date.now() < until && Date.now() - lastBytesAt < STREAM_QUIET_MS) {
          await new Promise((r) => setTimeout(r, STREAM_QUIET_MS / 4));
        }
      }
      abort.abort();
      if (src.kind === 'stream') src.stream.destroy?.();
      // A source cut short by the signal ends with capture_aborted; anything else is a real failure.
      const settled = ended.catch((e: unknown) => {
        if ((e as { code?: string }).code !== 'capture_aborted') throw e;
      });
      if (reader === null) await settled;
      else {
        // A read blocked on a pipe whose writer is alive does not return: end the connections anyway.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, STREAM_DRAIN_MAX_MS)))]);
        clearTimeout(timer);
        await reader.end();
      }
    }
    await idle();
    await snapshot();
    if (behaviourRuns === 0) await behaviour();
    for (const [k, v] of Object.entries(session.analysis.stats())) counters.inc(k as CounterName, v);
  }

  return {
    ended,
    address: () => live?.receiver.address() ?? null,
    kernelDrops: () => live?.receiver.kernelDrops() ?? -1,
    stop: () => (stopping ??= stop()),
    session,
  };
}

/**
 * A pcap/pcapng byte stream through one collector. end() may be called while a read is still blocked
 * (a live pipe whose writer keeps it open cannot be interrupted): it ends every open connection and
 * publishes what they held; the blocked read's late return then changes nothing.
 */
function streamReader(
  name: string,
  stream: AsyncIterable<Buffer>,
  publisher: ExchangePublisher,
  counters: Counters,
  copts: CollectorOptions,
  signal: AbortSignal,
): { done: Promise<void>; end(): Promise<void> } {
  const held: Exchange[] = [];
  let finished = false;
  const collector: Collector = createCollector(
    copts,
    (ex) => {
      counters.inc('exchanges_emitted');
      held.push(ex);
    },
    counters,
  );
  const drainHeld = async (): Promise<void> => {
    while (held.length > 0) {
      const ex = held.shift() as Exchange;
      await publisher.ready();
      publisher.publish(ex);
    }
  };
  const end = async (): Promise<void> => {
    if (!finished) {
      finished = true;
      collector.finish();
    }
    await drainHeld();
  };
  const done = (async () => {
    const res = await readCaptureStream(name, stream, collector, {
      counters,
      signal,
      onChunk: () => (finished ? Promise.resolve() : drainHeld()),
    });
    await end();
    for (const p of res.problems) {
      counters.inc(p.code);
      // A read cut by stop() (the stream destroyed) is the end of the capture, not a failure.
      if (p.fatal && !signal.aborted && p.code !== 'capture_truncated' && p.code !== 'capture_aborted')
        throw new ReplayError(p.code, p.message);
    }
  })();
  return { done, end };
}
