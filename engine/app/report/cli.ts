// `apitap report`: the report of what a store holds, rendered for people (--html) or for the terminal.
// Also the file writer `apitap replay --html` uses.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Report } from '../pipelines/report.js';
import { openStoreFromFlags, type StoreFlags } from '../cli/store.js';
import { reportTable, table } from '../cli/output.js';
import type { Finding } from '../../contracts/inventory.js';
import { reportFromStore } from './from-store.js';
import { renderHtmlReport, type HtmlOptions } from './html/render.js';
import { toPostman } from './postman.js';

export function writeHtmlReport(path: string, report: Report, opts: HtmlOptions = {}): void {
  writeFileSync(path, renderHtmlReport(report, opts));
}

export function registerReport(program: Command, h: { fail(code: number, message: string): never }): void {
  program
    .command('report')
    .description('report what the store holds: inventory, findings, personal data map, auth posture, traffic')
    .option('--store <dir>', 'embedded ClickHouse (chDB) store directory', '.apitap')
    .option(
      '--clickhouse <url>',
      'ClickHouse server URL, e.g. http://host:8123/db (credentials from APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD)',
    )
    .option('--html <file>', 'write a self-contained HTML report (no external requests) to this file')
    .option('--title <text>', 'title of the HTML report', 'apitap report')
    .option('--postman <file>', 'write a Postman Collection v2.1 of the API reconstructed from the stored inventory')
    .action(async (flags: StoreFlags & { html?: string; title: string; postman?: string }) => {
      const store = await openStoreFromFlags(flags);
      try {
        const report = await reportFromStore(store);
        const source = flags.clickhouse !== undefined ? 'ClickHouse store' : `store ${String(flags.store)}`;
        if (flags.html !== undefined) writeHtmlReport(flags.html, report, { title: flags.title, source });
        if (flags.postman !== undefined)
          writeFileSync(flags.postman, JSON.stringify(toPostman(report.endpoints ?? []), null, 2) + '\n');
        if (flags.html === undefined && flags.postman === undefined) process.stdout.write(reportTable(report));
      } catch (e) {
        h.fail(3, (e as Error).message);
      } finally {
        await store.close();
      }
    });
}

/** Drift findings (api_change, api_gone_quiet) whose change happened at or after `sinceMs` (packet time). */
export function changesSince(findings: readonly Finding[], sinceMs: number): Finding[] {
  const at = (f: Finding): number => {
    const t = f.kind === 'api_gone_quiet' ? f.details['windowEnd'] : f.details['firstSeen'];
    return Date.parse(typeof t === 'string' ? t : (f.firstSeen ?? ''));
  };
  return findings
    .filter((f) => (f.kind === 'api_change' || f.kind === 'api_gone_quiet') && at(f) >= sinceMs)
    .sort((a, b) => at(a) - at(b) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) || (a.id < b.id ? -1 : 1));
}

export function registerDiff(program: Command, h: { fail(code: number, message: string): never }): void {
  program
    .command('diff')
    .description(
      'list API changes (new endpoints, fields, PII, auth schemes, status classes; endpoints gone quiet) the store saw since a time',
    )
    .option('--store <dir>', 'embedded ClickHouse (chDB) store directory', '.apitap')
    .option(
      '--clickhouse <url>',
      'ClickHouse server URL, e.g. http://host:8123/db (credentials from APITAP_CLICKHOUSE_USER / APITAP_CLICKHOUSE_PASSWORD)',
    )
    .option(
      '--since <time>',
      'ISO-8601 time (packet time), e.g. 2026-11-23 or 2026-11-23T06:00:00Z',
      '1970-01-01T00:00:00Z',
    )
    .option('--format <format>', 'table or json', 'table')
    .action(async (flags: StoreFlags & { since: string; format: string }) => {
      const since = Date.parse(flags.since);
      if (!Number.isFinite(since)) h.fail(2, `--since wants an ISO-8601 time, got ${JSON.stringify(flags.since)}`);
      if (flags.format !== 'table' && flags.format !== 'json') h.fail(2, `--format must be table or json`);
      const store = await openStoreFromFlags(flags);
      try {
        const changes = changesSince(await store.findings(), since);
        if (flags.format === 'json') process.stdout.write(JSON.stringify(changes) + '\n');
        else if (changes.length === 0) process.stdout.write('no changes\n');
        else
          process.stdout.write(
            table(
              changes.map((f) => [
                String(f.kind === 'api_gone_quiet' ? 'gone_quiet' : (f.details['change'] ?? '')),
                f.severity,
                f.host,
                f.method,
                f.path,
                f.evidence.length > 100 ? f.evidence.slice(0, 97) + '...' : f.evidence,
              ]),
              ['CHANGE', 'SEVERITY', 'HOST', 'METHOD', 'PATH', 'DETAIL'],
            ),
          );
      } catch (e) {
        h.fail(3, (e as Error).message);
      } finally {
        await store.close();
      }
    });
}
