// `apitap collect` and `apitap analyze`: the distributed mode (collectors → Kafka → analyzer group).
//
// Credentials come from the environment only (APITAP_KAFKA_*, APITAP_CLICKHOUSE_*), never from
// arguments, and are never printed. SIGTERM/SIGINT: stop receiving, flush, exit cleanly.
import type { LoadedGraphqlSchema } from '../../../analyzers/graphql/index.js';
import { healthServer } from '../telemetry/health.js';
import { Option, type Command } from 'commander';
import pino from 'pino';
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import { loadOverrides } from '../../../analyzers/endpoints/index.js';
import { createKafkaConsumer, createKafkaPublisher } from '../../adapters/bus/kafka/index.js';
import { Counters } from '../../contracts/counters.js';
import { collectFiles, collectVxlan } from '../pipelines/collect.js';
import { createAnalyzerWorker } from '../pipelines/worker.js';
import { openStoreFromFlags, type StoreFlags } from './store.js';
import { parseHttpAddress, serveStore, type StoreServer } from '../serve/owner.js';
import { collectorFlagOptions, configFromFlags, type CollectorFlags } from './config-flags.js';
import { actionFlagOptions, actionsFromFlags, type ActionFlags } from './actions.js';

export interface CliHelpers {
  fail(code: number, message: string): never;
  installationSecret(dir: string): Buffer;
  loadSpecs(paths: readonly string[]): Promise<LoadedSpec[]>;
  /** GraphQL SDL files (`--graphql-schema`), checked at start (exit 2 on a broken one). */
  loadGraphqlSchemas(paths: readonly string[]): LoadedGraphqlSchema[];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function brokers(list: string, h: CliHelpers): string[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (out.length === 0 || out.some((b) => !/^[^:\s]+:\d+$/.test(b)))
    h.fail(2, `--kafka wants host:port[,host:port...], got ${JSON.stringify(list)}`);
  return out;
}

function hostPort(spec: string, h: CliHelpers): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) h.fail(2, `--vxlan wants address:port, got ${JSON.stringify(spec)}`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(3),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

export function registerDistributed(program: Command, h: CliHelpers): void {
  const log = pino({ name: 'apitap' }, pino.destination(2));

  collectorFlagOptions(program.command('collect'))
    .description('collect exchanges from a VXLAN traffic mirror (or capture files) and publish them to Kafka')
    .option('--vxlan <addr:port>', 'receive AWS VPC Traffic Mirroring (VXLAN over UDP) here, e.g. 0.0.0.0:4789')
    .option('--pcap <files...>', "replay capture files (or directories; '-' = standard input) into the cluster instead")
    .requiredOption('--kafka <brokers>', 'bootstrap brokers host:port[,host:port]')
    .option('--topic <topic>', 'Kafka topic of exchange/v1 records', 'apitap.exchanges')
    .option('--health-port <port>', 'HTTP health/metrics port for load-balancer checks (0 = none)', '0')
    .option('--stats-interval <seconds>', 'log counters every N seconds (0 = never)', '30')
    .action(
      async (
        flags: {
          vxlan?: string;
          pcap?: string[];
          kafka: string;
          topic: string;
          healthPort: string;
          statsInterval: string;
        } & CollectorFlags,
      ) => {
        const pcaps = flags.pcap ?? [];
        if ((flags.vxlan === undefined) === (pcaps.length === 0))
          h.fail(2, 'collect needs exactly one of --vxlan or --pcap');
        const counters = new Counters();
        const publisher = createKafkaPublisher(
          { brokers: brokers(flags.kafka, h), topic: flags.topic },
          { counters, logger: log },
        );
        const copts = configFromFlags(flags, h.fail).collector;
        let live: Awaited<ReturnType<typeof collectVxlan>> | null = null;
        // Kernel drops (socket receive buffer overflows) as a counter, refreshed when read.
        const refresh = (): void => {
          const d = live?.receiver.kernelDrops() ?? -1;
          if (d >= 0) counters.max('vxlan_kernel_drops', d);
        };
        const health = Number(flags.healthPort) > 0 ? healthServer(Number(flags.healthPort), counters, refresh) : null;
        if (pcaps.length > 0) {
          // A live pipe (--pcap -) ends on SIGINT/SIGTERM like end of input: flows flushed, counters printed.
          const stop = new AbortController();
          for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => stop.abort());
          try {
            await collectFiles(pcaps, publisher, counters, copts, { signal: stop.signal });
            await publisher.close();
          } catch (e) {
            await publisher.close();
            h.fail((e as { code?: string }).code?.startsWith('capture_') === true ? 2 : 3, (e as Error).message);
          } finally {
            health?.close();
          }
          process.stdout.write(JSON.stringify({ schema: 'collect/v1', counters: counters.snapshot() }) + '\n');
          return;
        }
        const { host, port } = hostPort(flags.vxlan ?? '', h);
        const running = await collectVxlan(host, port, publisher, counters, copts);
        live = running;
        log.info({ address: running.receiver.address() }, 'collector receiving VXLAN');
        const every = Number(flags.statsInterval);
        const timer =
          every > 0
            ? setInterval(
                () => (refresh(), log.info({ counters: counters.snapshot() }, 'collector stats')),
                every * 1000,
              )
            : null;
        onSignals(async () => {
          if (timer) clearInterval(timer);
          refresh();
          await running.stop();
          health?.close();
          log.info({ counters: counters.snapshot() }, 'collector stopped');
          process.stdout.write(JSON.stringify({ schema: 'collect/v1', counters: counters.snapshot() }) + '\n');
        });
      },
    );

  const analyze = program
    .command('analyze')
    .description(
      'consume exchanges from Kafka as a member of the analyzer group and write inventory and findings to the store',
    )
    .requiredOption('--kafka <brokers>', 'bootstrap brokers host:port[,host:port]')
    .option('--topic <topic>', 'Kafka topic of exchange/v1 records', 'apitap.exchanges')
    .option('--group <id>', 'consumer group id', 'apitap-analyzers')
    .option('--spec <file>', 'OpenAPI spec (repeatable)', collect, [])
    .option('--spec-previous <file>', 'older spec version (repeatable)', collect, [])
    .option('--graphql-schema <file>', 'GraphQL schema (SDL) of the APIs (repeatable)', collect, [])
    .option('--overrides <file>', 'YAML overrides of path templates')
    .option('--actor-ip <mode>', 'actors: client IPs kept raw (default, for remediation) or hash (keyed HMAC)')
    .option('--store <dir>', 'embedded chDB store directory', '.apitap')
    .option(
      '--clickhouse <url>',
      'ClickHouse server URL (credentials from APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD)',
    )
    .option('--health-port <port>', 'HTTP health/metrics port (0 = none)', '0')
    .option(
      '--session-timeout <seconds>',
      "consumer group session timeout: a crashed member's partitions move to the others after this long (the broker bounds it: 6 to 1800 s by default)",
      '30',
    )
    .option(
      '--fetch-max-bytes <bytes>',
      'fetch size bound per partition (one batch is about this many bytes)',
      '1048576',
    )
    .option(
      '--http <addr:port>',
      'with the embedded store: serve it over the ClickHouse HTTP interface (read-only; none = off)',
      '127.0.0.1:0',
    );
  analyze.addOption(
    new Option('--from <where>', 'where a new group starts').choices(['beginning', 'latest']).default('beginning'),
  );
  actionFlagOptions(analyze)
    .option(
      '--actions-kafka [topic]',
      'publish action/v1 records (key = finding id) to this topic (default actions.kafkaTopic: apitap.actions); on with --actions-webhook',
    )
    .option(
      '--config <file>',
      'YAML/JSON settings (keys as printed by `apitap config`; analyze reads `analysis.actors` and `actions`)',
    );
  analyze.action(
    async (
      flags: StoreFlags & {
        kafka: string;
        topic: string;
        group: string;
        spec: string[];
        specPrevious: string[];
        graphqlSchema: string[];
        overrides?: string;
        store: string;
        healthPort: string;
        from: string;
        http: string;
        config?: string;
        actorIp?: string;
        actionsKafka?: boolean | string;
        sessionTimeout: string;
        fetchMaxBytes: string;
      } & ActionFlags,
    ) => {
      const sessionMs = Math.round(Number(flags.sessionTimeout) * 1000);
      if (!(sessionMs >= 1000 && sessionMs <= 3_600_000))
        h.fail(2, '--session-timeout wants seconds between 1 and 3600');
      const fetchBytes = Number(flags.fetchMaxBytes);
      if (!Number.isSafeInteger(fetchBytes) || fetchBytes < 1024)
        h.fail(2, '--fetch-max-bytes wants an integer of at least 1024');
      const counters = new Counters();
      const config = configFromFlags(
        {
          ...(flags.config !== undefined ? { config: flags.config } : {}),
          ...(flags.actorIp !== undefined ? { actorIp: flags.actorIp } : {}),
        },
        h.fail,
      );
      const brokerList = brokers(flags.kafka, h);
      // In the distributed mode actions always go to Kafka too: the topic is their durable record.
      const topicFlag = typeof flags.actionsKafka === 'string' ? flags.actionsKafka : undefined;
      if (topicFlag !== undefined && !/^[a-zA-Z0-9._-]{1,249}$/.test(topicFlag))
        h.fail(2, `--actions-kafka: not a Kafka topic name: ${JSON.stringify(topicFlag)}`);
      const actions = actionsFromFlags(flags, {
        config: { ...config.actions, ...(topicFlag !== undefined ? { kafkaTopic: topicFlag } : {}) },
        fail: h.fail,
        ledgerDir: flags.store,
        counters,
        log: (msg, fields) => log.info(fields ?? {}, msg),
        ...(flags.actionsKafka !== undefined || flags.actionsWebhook !== undefined
          ? { kafka: { brokers: brokerList, logger: log } }
          : {}),
      });
      const specs = await h.loadSpecs(flags.spec);
      const previousSpecs = await h.loadSpecs(flags.specPrevious);
      const graphqlSchemas = h.loadGraphqlSchemas(flags.graphqlSchema);
      const overrides = flags.overrides !== undefined ? loadOverrides(flags.overrides) : null;
      const health = Number(flags.healthPort) > 0 ? healthServer(Number(flags.healthPort), counters) : null;
      const store = await openStoreWithRetry(flags, log);
      const consumer = createKafkaConsumer(
        {
          brokers: brokerList,
          topic: flags.topic,
          groupId: flags.group,
          fromBeginning: flags.from === 'beginning',
          sessionTimeoutMs: sessionMs,
          maxBytesPerPartition: fetchBytes,
          // Kafka's advice: at most a third of the session timeout.
          heartbeatIntervalMs: Math.min(3_000, Math.floor(sessionMs / 3)),
        },
        { counters, logger: log },
      );
      const actors = config.analysis.actors;
      const worker = createAnalyzerWorker({
        analysis: {
          specs,
          previousSpecs,
          graphqlSchemas,
          overrides,
          secret: h.installationSecret(flags.store),
          actors,
          bodies: config.analysis.bodies,
        },
        behaviour: { settings: actors, intervalMs: actors.intervalSeconds * 1000 },
        store,
        consumer,
        counters,
        log: (msg, fields) => log.info(fields ?? {}, msg),
        ...(actions !== null ? { actions } : {}),
      });
      await retrying(() => worker.start(), log, 'analyzer start');
      log.info({ topic: flags.topic, group: flags.group }, 'analyzer running');
      // The embedded store is readable meanwhile (apitap query --store finds it via serve.json).
      let served: StoreServer | null = null;
      if (flags.clickhouse === undefined) {
        try {
          const addr = parseHttpAddress(flags.http);
          if (addr !== null) served = await serveStore(flags.store, addr, counters);
        } catch (e) {
          h.fail(2, (e as Error).message);
        }
        if (served !== null) log.info({ url: served.http.url }, 'store served over the ClickHouse HTTP interface');
      }
      onSignals(async () => {
        await served?.close();
        await worker.stop();
        const sent = await actions?.close();
        if (sent !== undefined) log.info({ actions: sent }, 'actions closed');
        await store.close();
        health?.close();
        log.info({ counters: counters.snapshot() }, 'analyzer stopped');
      });
    },
  );
}

/** The store may come up after the analyzer (compose, k8s): retry retryable failures with backoff instead of dying. */
async function retrying<T>(fn: () => Promise<T>, log: pino.Logger, what: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = e as Error & { retryable?: boolean };
      if (err.retryable !== true) throw e;
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      log.warn({ attempt, delayMs: delay, error: err.message }, `${what}: store unavailable; retrying`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function openStoreWithRetry(
  flags: StoreFlags,
  log: pino.Logger,
): Promise<Awaited<ReturnType<typeof openStoreFromFlags>>> {
  return retrying(() => openStoreFromFlags(flags), log, 'store open');
}
