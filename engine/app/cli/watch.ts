// `apitap watch`: live on one machine. A VXLAN mirror (or a tcpdump pipe, or capture files) into
// collectors, analyzers and the embedded store in one process; the store is readable meanwhile through
// the ClickHouse HTTP interface (`apitap query --store DIR` finds it via DIR/serve.json).
//
// SIGTERM/SIGINT: stop reading, analyse what is queued, write the final snapshot, exit 0. A finite
// source (files, a pipe that ends) does the same at its end.
import type { Server } from 'node:http';
import { healthServer } from '../telemetry/health.js';
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import pino from 'pino';
import { loadOverrides } from '../../../analyzers/endpoints/index.js';
import { Counters } from '../../contracts/counters.js';
import type { Store } from '../../adapters/store/types.js';
import { startWatch, type WatchSource } from '../pipelines/watch.js';
import { parseHttpAddress, serveStore, type StoreServer } from '../serve/owner.js';
import { collectorFlagOptions, configFromFlags, type CollectorFlags } from './config-flags.js';
import { openStoreFromFlags } from './store.js';
import type { CliHelpers } from './distributed.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface WatchFlags extends CollectorFlags {
  vxlan?: string;
  pcap?: string[];
  store: string;
  spec: string[];
  specPrevious: string[];
  graphqlSchema: string[];
  overrides?: string;
  snapshotEvery: string;
  http: string;
  healthPort: string;
}

/**
 * Standard input as a stream on a new descriptor, with fd 0 pointed at /dev/null: the embedded
 * ClickHouse engine takes a non-terminal fd 0 as external INSERT data ("Processing async inserts with
 * both inlined and external data (from stdin ...) is not supported", Code 48), so the capture pipe
 * must not stay there. Linux (/proc/self/fd); a pipe or a file (a socket cannot be reopened: ENXIO).
 */
export function detachStdin(): Readable {
  const fd = openSync('/proc/self/fd/0', 'r');
  closeSync(0);
  const devNull = openSync('/dev/null', 'r'); // the lowest free descriptor: 0
  if (devNull !== 0) closeSync(devNull);
  // A pipe is read through the event loop (epoll), so destroy() ends a read that waits for data; a
  // file stream's read would sit in a libuv pool thread until the writer writes or closes.
  if (fstatSync(fd).isFIFO()) return new Socket({ fd, readable: true, writable: false });
  return createReadStream('', { fd, highWaterMark: 1 << 20 });
}

export function registerWatch(program: Command, h: CliHelpers): void {
  collectorFlagOptions(program.command('watch'))
    .description(
      'collect, analyse and store in one process (VXLAN mirror, tcpdump pipe or files); query the store meanwhile',
    )
    .option('--vxlan <addr:port>', 'receive AWS VPC Traffic Mirroring (VXLAN over UDP) here, e.g. 0.0.0.0:4789')
    .option('--pcap <files...>', "capture files or directories; '-' reads a pcap/pcapng stream from standard input")
    .option('--store <dir>', 'embedded ClickHouse (chDB) store directory', '.apitap')
    .option('--spec <file>', 'OpenAPI spec (repeatable)', collect, [])
    .option('--spec-previous <file>', 'older spec version (repeatable)', collect, [])
    .option('--graphql-schema <file>', 'GraphQL schema (SDL) of the APIs (repeatable)', collect, [])
    .option('--overrides <file>', 'YAML overrides of path templates')
    .option('--snapshot-every <seconds>', 'write inventory and findings every N seconds of packet time', '10')
    .option(
      '--http <addr:port>',
      'serve the store over the ClickHouse HTTP interface here (read-only; not loopback: APITAP_HTTP_USER/PASSWORD required; none = off)',
      '127.0.0.1:0',
    )
    .option('--health-port <port>', 'HTTP health/metrics port (0 = none)', '0')
    .action(async (flags: WatchFlags) => {
      const log = pino({ name: 'apitap' }, pino.destination(2));
      const pcaps = flags.pcap ?? [];
      if ((flags.vxlan === undefined) === (pcaps.length === 0))
        h.fail(2, 'watch needs exactly one of --vxlan or --pcap');
      if (pcaps.includes('-') && pcaps.length > 1) h.fail(2, '--pcap -: standard input is the only source');
      const every = Number(flags.snapshotEvery);
      if (!(every > 0)) h.fail(2, `--snapshot-every wants a positive number of seconds, got ${flags.snapshotEvery}`);
      let httpAddr: { host: string; port: number } | null = null;
      try {
        httpAddr = parseHttpAddress(flags.http);
      } catch (e) {
        h.fail(2, (e as Error).message);
      }
      let source: WatchSource;
      if (flags.vxlan !== undefined) {
        const m = /^(.*):(\d+)$/.exec(flags.vxlan);
        const port = m ? Number(m[2]) : NaN;
        if (!m || !(port >= 0 && port <= 65535))
          h.fail(2, `--vxlan wants address:port, got ${JSON.stringify(flags.vxlan)}`);
        source = { kind: 'vxlan', host: (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port };
      } else if (pcaps[0] === '-') {
        let stream: Readable | null = null;
        try {
          stream = detachStdin();
        } catch (e) {
          h.fail(2, `--pcap -: standard input must be a pipe or a file (${(e as Error).message})`);
        }
        source = { kind: 'stream', name: 'stdin', stream };
      } else source = { kind: 'files', inputs: pcaps };

      const specs = await h.loadSpecs(flags.spec);
      const previousSpecs = await h.loadSpecs(flags.specPrevious);
      const graphqlSchemas = h.loadGraphqlSchemas(flags.graphqlSchema);
      let overrides = null;
      if (flags.overrides !== undefined) {
        try {
          overrides = loadOverrides(flags.overrides);
        } catch (e) {
          h.fail(2, `${flags.overrides}: ${(e as Error).message}`);
        }
      }
      const config = configFromFlags(flags, h.fail);
      const copts = config.collector;
      const counters = new Counters();
      let store: Store;
      try {
        store = await openStoreFromFlags({ store: flags.store }, 'write');
      } catch (e) {
        h.fail(3, (e as Error).message);
      }
      const secret = h.installationSecret(flags.store);
      let server: StoreServer | null = null;
      let health: Server | null = null;
      try {
        const watch = await startWatch({
          source,
          collector: copts,
          analysis: {
            specs,
            previousSpecs,
            graphqlSchemas,
            overrides,
            secret,
            actors: config.analysis.actors,
            bodies: config.analysis.bodies,
          },
          store,
          counters,
          snapshotEveryUs: every * 1e6,
          log: (msg, fields) => log.info(fields ?? {}, msg),
        });
        if (httpAddr !== null) {
          server = await serveStore(flags.store, httpAddr, counters);
          log.info({ url: server.http.url }, 'store served over the ClickHouse HTTP interface');
        }
        const refresh = (): void => {
          const d = watch.kernelDrops();
          if (d >= 0) counters.max('vxlan_kernel_drops', d);
        };
        if (Number(flags.healthPort) > 0) health = healthServer(Number(flags.healthPort), counters, refresh);
        const addr = watch.address();
        if (addr !== null) log.info({ address: addr }, 'watch receiving VXLAN');
        // Ready line for scripts: where the mirror and the query interface are.
        process.stdout.write(
          JSON.stringify({ schema: 'watch-ready/v1', vxlan: addr, http: server?.http.url ?? null }) + '\n',
        );
        const signalled = new Promise<void>((ok) => {
          process.once('SIGTERM', ok);
          process.once('SIGINT', ok);
        });
        await Promise.race([signalled, watch.ended]);
        await watch.stop();
        refresh();
        process.stdout.write(JSON.stringify({ schema: 'watch/v1', counters: counters.snapshot() }) + '\n');
      } catch (e) {
        const err = e as Error & { code?: string };
        h.fail(err.code !== undefined && /^(capture_|input_error|serve_config)/.test(err.code) ? 2 : 3, err.message);
      } finally {
        health?.close();
        await server?.close();
        await store.close();
      }
      // A read still blocked on a pipe whose writer lives on would keep the process: the work is done.
      process.exit(0);
    });
}
