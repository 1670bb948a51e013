#!/usr/bin/env node
// apitap command line. The only place that prints to the terminal and calls process.exit.
//
// Exit codes: 0 success; 1 a finding at or above --fail-on; 2 bad usage or input (missing file, not a
// capture, unsupported link type, broken spec); 3 a runtime failure (store or broker unusable).
import { useAsStdin } from '../../../collectors/source/open.js';
import { detachStdin } from './watch.js';
import { Command, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadSpec, type LoadedSpec } from '../../../analyzers/spec/index.js';
import { loadOverrides } from '../../../analyzers/endpoints/index.js';
import { toOpenApi } from '../../../analyzers/openapi/index.js';
import { loadGraphqlSchema, toGraphqlSdl, type LoadedGraphqlSchema } from '../../../analyzers/graphql/index.js';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../../contracts/inventory.js';
import { createAnalysisSession } from '../pipelines/analyze.js';
import { replay } from '../pipelines/replay.js';
import { replayThreads } from '../pipelines/replay-threads.js';
import { Counters } from '../../contracts/counters.js';
import { specReports, specWarningLines } from './spec-warnings.js';
import { checkEmbeddedStore, openStoreFromFlags, type StoreFlags } from './store.js';
import type { Store } from '../../adapters/store/types.js';
import {
  actorJson,
  actorsTable,
  endpointsTable,
  findingsTable,
  reportTable,
  sarif,
  table,
  tlsTable,
} from './output.js';
import { registerDistributed } from './distributed.js';
import { registerWatch } from './watch.js';
import { collectorFlagOptions, configFromFlags, type CollectorFlags } from './config-flags.js';
import { describeDefaults } from '../config/index.js';
import { registerDiff, registerReport, writeHtmlReport } from '../report/cli.js';
import { ocsfLines } from '../report/ocsf.js';
import { toPostman } from '../report/postman.js';
import { actionFlagOptions, actionsFromFlags, type ActionFlags } from './actions.js';

const VERSION = '0.1.0';

function fail(code: number, message: string): never {
  process.stderr.write(`apitap: ${message}\n`);
  process.exit(code);
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The per-installation secret for keyed hashes (HMAC) of sensitive values: created once in the store dir. */
export function installationSecret(dir: string): Buffer {
  const env = process.env['APITAP_SECRET'];
  if (env !== undefined && env !== '') return Buffer.from(env, 'utf8');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'secret.key');
  if (!existsSync(p)) writeFileSync(p, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  return Buffer.from(readFileSync(p, 'utf8').trim(), 'hex');
}

async function loadSpecs(paths: readonly string[]): Promise<LoadedSpec[]> {
  const out: LoadedSpec[] = [];
  for (const p of paths) {
    try {
      out.push(await loadSpec(p));
    } catch (e) {
      fail(2, `${p}: ${(e as Error).message}`);
    }
  }
  return out;
}

function loadGraphqlSchemas(paths: readonly string[]): LoadedGraphqlSchema[] {
  return paths.map((p) => {
    try {
      return loadGraphqlSchema(p);
    } catch (e) {
      fail(2, `${p}: not a GraphQL schema (${(e as Error).message})`);
    }
  });
}

function progress(enabled: boolean): ((done: number, total: number, file: string) => void) | undefined {
  if (!enabled) return undefined;
  let last = 0;
  return (done, total, file) => {
    const now = Date.now(); // wall clock for the terminal display only, never in data
    if (now - last < 250 && done < total) return;
    last = now;
    const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
    process.stderr.write(`\r${file}: ${pct}% (${(done / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB)   `);
    if (done >= total) process.stderr.write('\n');
  };
}

interface ReplayFlags extends StoreFlags, CollectorFlags, ActionFlags {
  exchanges?: string;
  format: 'table' | 'json' | 'sarif' | 'ocsf';
  spec: string[];
  specPrevious: string[];
  graphqlSchema: string[];
  overrides?: string;
  failOn?: Severity;
  openapi?: string;
  graphqlSdl?: string;
  protoDescriptor?: string;
  html?: string;
  postman?: string;
  analyze: boolean;
  progress: boolean;
}

const program = new Command();
program
  .name('apitap')
  .description('Out-of-band API traffic analysis: endpoints, PII, shadow/zombie/orphan APIs from mirrored packets')
  .version(VERSION);

const storeOptions = (c: Command): Command =>
  c
    .option('--store <dir>', 'embedded ClickHouse (chDB) store directory', '.apitap')
    .option(
      '--clickhouse <url>',
      'ClickHouse server URL, e.g. http://host:8123/db (credentials from APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD)',
    );

storeOptions(
  actionFlagOptions(collectorFlagOptions(program.command('replay')))
    .description('read pcap/pcapng files (or directories of them) and report what they hold')
    .argument('<captures...>', "capture files or directories ('-' = pcap/pcapng on standard input)")
    .option('--exchanges <file>', 'write one exchange/v1 record per line (JSONL)')
    .addOption(
      new Option('--format <format>', 'output format (ocsf: one OCSF 1.5 finding event per line)')
        .choices(['table', 'json', 'sarif', 'ocsf'])
        .default('table'),
    )
    .option('--spec <file>', 'OpenAPI 3.x / Swagger 2.0 spec of an API (repeatable)', collect, [])
    .option(
      '--spec-previous <file>',
      'an older version of a spec, to find removed-but-called operations (repeatable)',
      collect,
      [],
    )
    .option(
      '--graphql-schema <file>',
      'GraphQL schema (SDL) of the APIs: unknown fields are shadow, @deprecated ones zombie (repeatable)',
      collect,
      [],
    )
    .option('--overrides <file>', 'YAML file forcing or forbidding path templates')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(
        SEVERITIES.filter((s) => s !== 'info'),
      ),
    )
    .option('--openapi <file>', 'write an OpenAPI 3.1 document reconstructed from the traffic')
    .option('--graphql-sdl <file>', 'write the GraphQL operations and fields seen as a schema (SDL)')
    .option('--proto-descriptor <file>', 'FileDescriptorSet (protoc --descriptor_set_out) naming gRPC message fields')
    .option('--html <file>', 'write a self-contained HTML report (no external requests) to this file')
    .option('--postman <file>', 'write a Postman Collection v2.1 of the API reconstructed from the traffic')
    .option('--no-analyze', 'collectors only: no endpoints, findings or store')
    .option('--no-store', 'do not write the store (still analyze)')
    .option('--no-progress', 'no progress line on a terminal'),
).action(async (captures: string[], flags: ReplayFlags & { store: string | false }) => {
  const specs = await loadSpecs(flags.spec);
  const previousSpecs = await loadSpecs(flags.specPrevious);
  const graphqlSchemas = loadGraphqlSchemas(flags.graphqlSchema);
  let overrides = null;
  if (flags.overrides !== undefined) {
    try {
      overrides = loadOverrides(flags.overrides);
    } catch (e) {
      fail(2, `${flags.overrides}: ${(e as Error).message}`);
    }
  }
  const config = configFromFlags(flags, fail);
  if (flags.protoDescriptor !== undefined) {
    const { loadDescriptorSet } = await import('../../../collectors/h2/descriptor.js');
    try {
      config.collector.http = {
        ...config.collector.http,
        grpcSchema: loadDescriptorSet(readFileSync(flags.protoDescriptor)),
      } as typeof config.collector.http;
    } catch (e) {
      fail(2, `${flags.protoDescriptor}: not a FileDescriptorSet (${(e as Error).message})`);
    }
  }
  // A live pipe ends on SIGINT/SIGTERM like end of input: flows flushed, report printed.
  const stop = new AbortController();
  if (captures.includes('-')) {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => stop.abort());
    process.stderr.write(
      'apitap: reading a capture from standard input; end of input or Ctrl-C ends it with the report\n',
    );
  }

  // The embedded store's engine reads a non-terminal fd 0 as INSERT data: move the capture pipe off
  // fd 0 before it opens. Only a pipe or a file can be reopened; a socket (spawned with stdio 'pipe')
  // stays where it is, which is fine whenever no embedded store is opened.
  const embedded = flags.analyze && flags.store !== false && flags.clickhouse === undefined;
  if (captures.includes('-') && embedded) {
    try {
      useAsStdin(detachStdin());
    } catch (e) {
      fail(2, `-: with the embedded store, standard input must be a pipe or a file (${(e as Error).message})`);
    }
  }
  const storeDir = typeof flags.store === 'string' ? flags.store : '.apitap';
  if (flags.actionsWebhook !== undefined && !flags.analyze)
    fail(2, '--actions-webhook needs the analysis (findings): drop --no-analyze');
  // The ledger of delivered actions lives beside the store it belongs to (none with --no-store).
  const actions = actionsFromFlags(flags, {
    config: config.actions,
    fail,
    ledgerDir: flags.store !== false && flags.clickhouse === undefined ? storeDir : null,
    counters: new Counters(),
    log: (msg, fields) => process.stderr.write(`apitap: ${msg}${fields ? ' ' + JSON.stringify(fields) : ''}\n`),
  });
  // A live pipe (`-`) stays on one thread: SIGINT ends it like end of input (replay's abort signal).
  // So does a descriptor-named gRPC decode (its schema object stays in this thread).
  const threaded = config.pipeline.workers > 0 && !captures.includes('-') && flags.protoDescriptor === undefined;
  // On threads, the embedded store is opened only once the analysis threads are done (its engine maps
  // ~200 MB: replay-threads.ts); its directory is checked now so that a bad --store still fails fast.
  const deferStore = threaded && embedded;
  if (deferStore) checkEmbeddedStore(storeDir);
  let store =
    flags.analyze && flags.store !== false && !deferStore
      ? await openStoreFromFlags({ ...flags, store: storeDir })
      : null;
  const secret = flags.analyze ? installationSecret(storeDir) : null;
  const onProgress = progress(flags.progress && process.stderr.isTTY === true && flags.format === 'table');
  const optional = {
    ...(flags.exchanges !== undefined ? { exchangesPath: flags.exchanges } : {}),
    ...(onProgress !== undefined ? { onProgress } : {}),
  };
  try {
    const { report } = threaded
      ? await replayThreads({
          inputs: captures,
          collector: config.collector,
          analysis:
            secret !== null
              ? {
                  specs,
                  previousSpecs,
                  graphqlSchemas,
                  overrides,
                  secret,
                  store,
                  ...(deferStore
                    ? {
                        deferredStore: {
                          open: async () => (store = await openStoreFromFlags({ ...flags, store: storeDir })),
                          spillDir: storeDir,
                        },
                      }
                    : {}),
                  certificateExpiringDays: config.analysis.certificateExpiringDays,
                  drift: { quietUs: config.analysis.quietAfterDays * 86_400_000_000 },
                  actors: config.analysis.actors,
                  bodies: config.analysis.bodies,
                }
              : null,
          workers: config.pipeline.workers,
          collectorHeapMb: config.pipeline.collectorHeapMb,
          ...(actions !== null ? { actions } : {}),
          ...optional,
        })
      : await replay({
          inputs: captures,
          collector: config.collector,
          analysis:
            secret !== null
              ? createAnalysisSession(
                  {
                    specs,
                    previousSpecs,
                    graphqlSchemas,
                    overrides,
                    secret,
                    store,
                    certificateExpiringDays: config.analysis.certificateExpiringDays,
                    drift: { quietUs: config.analysis.quietAfterDays * 86_400_000_000 },
                    actors: config.analysis.actors,
                    bodies: config.analysis.bodies,
                  },
                  new Counters(),
                )
              : null,
          signal: stop.signal,
          ...(actions !== null ? { actions } : {}),
          ...optional,
        });
    const specInfo = [
      ...specReports(flags.spec, specs, 'current'),
      ...specReports(flags.specPrevious, previousSpecs, 'previous'),
    ];
    if (specInfo.length > 0) report.specs = specInfo;
    if (flags.format === 'table') for (const l of specWarningLines(specInfo)) process.stderr.write(l + '\n');
    if (flags.openapi !== undefined && report.endpoints !== undefined) {
      writeFileSync(flags.openapi, toYaml(toOpenApi(report.endpoints)));
    }
    if (flags.graphqlSdl !== undefined && report.endpoints !== undefined)
      writeFileSync(flags.graphqlSdl, toGraphqlSdl(report.endpoints));
    if (flags.postman !== undefined && report.endpoints !== undefined)
      writeFileSync(flags.postman, JSON.stringify(toPostman(report.endpoints), null, 2) + '\n');
    if (flags.html !== undefined)
      writeHtmlReport(flags.html, report, { source: captures.map((p) => p.split('/').pop() ?? p).join(', ') });
    if (flags.format === 'json') process.stdout.write(JSON.stringify(report) + '\n');
    else if (flags.format === 'ocsf') process.stdout.write(ocsfLines(report.findings ?? [], VERSION));
    else if (flags.format === 'sarif')
      process.stdout.write(JSON.stringify(sarif(report.findings ?? [], VERSION), null, 2) + '\n');
    else process.stdout.write(reportTable(report));
    if (flags.failOn !== undefined && report.findings !== undefined) {
      const min = SEVERITY_RANK[flags.failOn];
      const hit = report.findings.filter((f) => SEVERITY_RANK[f.severity] >= min);
      if (hit.length > 0) {
        process.stderr.write(`apitap: ${hit.length} finding(s) at or above ${flags.failOn}\n`);
        process.exitCode = 1;
      }
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code !== undefined && /^(capture_|input_error)/.test(err.code)) fail(2, err.message);
    fail(3, err.message);
  } finally {
    await store?.close();
  }
});

/** A store command that lists rows, as a table or as JSON (read: goes through a running owner). */
function listCommand<T>(
  name: string,
  description: string,
  read: (store: Store) => Promise<T[]>,
  json: (rows: T[]) => unknown,
  table: (rows: T[]) => string,
): void {
  storeOptions(
    program
      .command(name)
      .description(description)
      .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
  ).action(async (flags: StoreFlags & { format: string }) => {
    const store = await openStoreFromFlags(flags, 'read');
    try {
      const rows = await read(store);
      process.stdout.write(flags.format === 'json' ? JSON.stringify(json(rows)) + '\n' : table(rows));
    } finally {
      await store.close();
    }
  });
}

listCommand(
  'endpoints',
  'list the endpoint inventory from the store',
  (s) => s.endpoints(),
  (rows) => rows,
  endpointsTable,
);

storeOptions(
  program
    .command('findings')
    .description('list findings from the store')
    .addOption(
      new Option('--format <format>', 'output format (ocsf: one OCSF 1.5 finding event per line)')
        .choices(['table', 'json', 'sarif', 'ocsf'])
        .default('table'),
    ),
).action(async (flags: StoreFlags & { format: string }) => {
  const store = await openStoreFromFlags(flags, 'read');
  try {
    const fs = await store.findings();
    if (flags.format === 'json') process.stdout.write(JSON.stringify(fs) + '\n');
    else if (flags.format === 'sarif') process.stdout.write(JSON.stringify(sarif(fs, VERSION), null, 2) + '\n');
    else if (flags.format === 'ocsf') process.stdout.write(ocsfLines(fs, VERSION));
    else process.stdout.write(findingsTable(fs));
  } finally {
    await store.close();
  }
});

listCommand(
  'actors',
  'list the actors (principal, else client IP) from the store: requests, endpoints, errors, personal-data values received',
  (s) => s.actors(),
  (rows) => rows.map(actorJson),
  actorsTable,
);

listCommand(
  'tls',
  'list the encrypted hosts (TLS handshakes: SNI, versions, ALPN, cipher, certificate) from the store',
  (s) => s.tls(),
  (rows) => rows,
  tlsTable,
);

storeOptions(
  program
    .command('query')
    .description(
      'run a read-only SQL query against the store (ClickHouse SQL; tables: endpoints, findings, exchanges, capture_stats, tls)',
    )
    .argument('<sql>', 'the query')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
).action(async (sql: string, flags: StoreFlags & { format: string }) => {
  const store = await openStoreFromFlags(flags, 'read');
  try {
    const rows = await store.query(sql);
    if (flags.format === 'json')
      process.stdout.write(rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : ''));
    else {
      const cols = rows.length > 0 ? Object.keys(rows[0] as object) : [];
      process.stdout.write(
        rows.length === 0
          ? '0 rows\n'
          : table(
              rows.map((r) => cols.map((c) => cell(r[c]))),
              cols,
            ),
      );
    }
  } catch (e) {
    fail(2, (e as Error).message);
  } finally {
    await store.close();
  }
});

program
  .command('config')
  .description('print every setting of --config with its default and meaning (YAML keys, dotted)')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .action((flags: { format: string }) => {
    const rows = describeDefaults();
    if (flags.format === 'json') process.stdout.write(JSON.stringify(rows) + '\n');
    else
      process.stdout.write(
        table(
          rows.map((r) => [r.key, JSON.stringify(r.default), r.meaning]),
          ['KEY', 'DEFAULT', 'MEANING'],
        ),
      );
  });

registerDistributed(program, { fail, installationSecret, loadSpecs, loadGraphqlSchemas });
registerReport(program, { fail });
registerDiff(program, { fail });
registerWatch(program, { fail, installationSecret, loadSpecs, loadGraphqlSchemas });

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

program.parseAsync(process.argv).catch((e: Error) => fail(3, e.message));
