#!/usr/bin/env node
// apitap command line. The only place that prints to the terminal and calls process.exit.
//
// Exit codes: 0 success; 1 a finding at or above --fail-on; 2 bad usage or input (missing file, not a
// capture, unsupported link type, broken spec); 3 a runtime failure (store or broker unusable).
import { Command, Option } from 'commander';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { loadSpec, type LoadedSpec } from '../../analyzers/spec/index.js';
import { loadOverrides } from '../../analyzers/endpoints/index.js';
import { toOpenApi } from '../../analyzers/openapi/index.js';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../contracts/inventory.js';
import { createAnalysisSession } from '../pipeline/analyze.js';
import { replay } from '../pipeline/replay.js';
import { Counters } from '../telemetry/counters.js';
import { openStoreFromFlags, type StoreFlags } from './store.js';
import { endpointsTable, findingsTable, reportTable, sarif, table } from './output.js';
import { registerDistributed } from './distributed.js';
import { registerDiff, registerReport, writeHtmlReport } from '../report/cli.js';
import { ocsfLines } from '../report/ocsf.js';
import { toPostman } from '../report/postman.js';

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

interface ReplayFlags extends StoreFlags {
  exchanges?: string;
  format: 'table' | 'json' | 'sarif' | 'ocsf';
  spec: string[];
  specPrevious: string[];
  overrides?: string;
  failOn?: Severity;
  openapi?: string;
  html?: string;
  postman?: string;
  quietAfter: string;
  bodyCap: string;
  vxlanPort: string[];
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
  program
    .command('replay')
    .description('read pcap/pcapng files (or directories of them) and report what they hold')
    .argument('<captures...>', 'capture files or directories')
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
    .option('--overrides <file>', 'YAML file forcing or forbidding path templates')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(
        SEVERITIES.filter((s) => s !== 'info'),
      ),
    )
    .option('--openapi <file>', 'write an OpenAPI 3.1 document reconstructed from the traffic')
    .option('--html <file>', 'write a self-contained HTML report (no external requests) to this file')
    .option('--postman <file>', 'write a Postman Collection v2.1 of the API reconstructed from the traffic')
    .option('--quiet-after <days>', 'packet-time days of silence after which a stored endpoint has gone quiet', '7')
    .option('--body-cap <bytes>', 'max decoded body bytes captured per message', '65536')
    .option('--vxlan-port <port>', 'UDP port carrying VXLAN (repeatable; default 4789)', collect, [])
    .option('--no-analyze', 'collectors only: no endpoints, findings or store')
    .option('--no-store', 'do not write the store (still analyze)')
    .option('--no-progress', 'no progress line on a terminal'),
).action(async (captures: string[], flags: ReplayFlags & { store: string | false }) => {
  const counters = new Counters();
  const specs = await loadSpecs(flags.spec);
  const previousSpecs = await loadSpecs(flags.specPrevious);
  let overrides = null;
  if (flags.overrides !== undefined) {
    try {
      overrides = loadOverrides(flags.overrides);
    } catch (e) {
      fail(2, `${flags.overrides}: ${(e as Error).message}`);
    }
  }
  const bodyCap = Number(flags.bodyCap);
  if (!Number.isInteger(bodyCap) || bodyCap < 0)
    fail(2, `--body-cap must be a non-negative integer, got ${flags.bodyCap}`);
  const ports = flags.vxlanPort.length > 0 ? flags.vxlanPort.map(Number) : [4789];
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) fail(2, `--vxlan-port must be 1..65535`);

  const quietDays = Number(flags.quietAfter);
  if (!(quietDays > 0)) fail(2, `--quiet-after must be a positive number of days, got ${flags.quietAfter}`);
  const storeDir = typeof flags.store === 'string' ? flags.store : '.apitap';
  const store = flags.analyze && flags.store !== false ? await openStoreFromFlags({ ...flags, store: storeDir }) : null;
  const analysis = flags.analyze
    ? createAnalysisSession(
        {
          specs,
          previousSpecs,
          overrides,
          secret: installationSecret(storeDir),
          store,
          drift: { quietUs: Math.round(quietDays * 86_400e6) },
        },
        counters,
      )
    : null;
  try {
    const { DEFAULT_COLLECTOR_OPTIONS } = await import('../../collectors/collector.js');
    const { report } = await replay({
      inputs: captures,
      collector: { vxlanPorts: ports, http: { ...DEFAULT_COLLECTOR_OPTIONS.http, bodyCaptureBytes: bodyCap } },
      analysis,
      ...(flags.exchanges !== undefined ? { exchangesPath: flags.exchanges } : {}),
      ...(flags.progress && process.stderr.isTTY && flags.format === 'table' ? { onProgress: progress(true) } : {}),
    } as Parameters<typeof replay>[0]);
    if (flags.openapi !== undefined && report.endpoints !== undefined) {
      writeFileSync(flags.openapi, toYaml(toOpenApi(report.endpoints)));
    }
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

storeOptions(
  program
    .command('endpoints')
    .description('list the endpoint inventory from the store')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
).action(async (flags: StoreFlags & { format: string }) => {
  const store = await openStoreFromFlags(flags);
  try {
    const eps = await store.endpoints();
    process.stdout.write(flags.format === 'json' ? JSON.stringify(eps) + '\n' : endpointsTable(eps));
  } finally {
    await store.close();
  }
});

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
  const store = await openStoreFromFlags(flags);
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

storeOptions(
  program
    .command('query')
    .description(
      'run a read-only SQL query against the store (ClickHouse SQL; tables: endpoints, findings, exchanges, capture_stats)',
    )
    .argument('<sql>', 'the query')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table')),
).action(async (sql: string, flags: StoreFlags & { format: string }) => {
  const store = await openStoreFromFlags(flags);
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

registerDistributed(program, { fail, installationSecret, loadSpecs });
registerReport(program, { fail });
registerDiff(program, { fail });

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

program.parseAsync(process.argv).catch((e: Error) => fail(3, e.message));
