// What the spec loader tolerated, for the user: report/v1 `specs` and a capped list on stderr.
import type { LoadedSpec } from '../../../analyzers/spec/index.js';
import type { SpecReport } from '../pipelines/report.js';

/** Warnings per spec in report/v1 (the loader keeps more; `warningCount` counts all). */
export const REPORT_SPEC_WARNINGS = 50;
/** Warnings per spec printed on stderr with the table output. */
const STDERR_SPEC_WARNINGS = 10;

export function specReports(
  files: readonly string[],
  specs: readonly LoadedSpec[],
  role: SpecReport['role'],
): SpecReport[] {
  return specs.map((s, i) => ({
    file: files[i] ?? s.name,
    role,
    format: s.format,
    operations: s.operations.length,
    warningCount: s.warningCount,
    warnings: s.warnings.slice(0, REPORT_SPEC_WARNINGS).map((w) => `${w.pointer}: ${w.message}`),
  }));
}

/** Lines for stderr: one summary per spec with warnings, then its first few warnings. */
export function specWarningLines(reports: readonly SpecReport[]): string[] {
  const out: string[] = [];
  for (const r of reports) {
    if (r.warningCount === 0) continue;
    out.push(`apitap: ${r.file}: loaded ${r.operations} operations with ${r.warningCount} warning(s)`);
    for (const w of r.warnings.slice(0, STDERR_SPEC_WARNINGS)) out.push(`  ${w}`);
    if (r.warningCount > STDERR_SPEC_WARNINGS)
      out.push(`  ... ${r.warningCount - STDERR_SPEC_WARNINGS} more (--format json lists ${REPORT_SPEC_WARNINGS})`);
  }
  return out;
}
