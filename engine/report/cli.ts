// `apitap report`: the report of what a store holds, rendered for people (--html) or for the terminal.
// Also the file writer `apitap replay --html` uses.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Report } from '../pipeline/report.js';
import { openStoreFromFlags, type StoreFlags } from '../cli/store.js';
import { reportTable } from '../cli/output.js';
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
