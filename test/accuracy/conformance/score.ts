// Scores apitap's conformance findings against what the harness planted (scenario.ts).
//
//   node --import tsx score.ts --report REPORT.json --truth SERVER.json --truth CLIENT.json [--out FILE.md] [--note TEXT]…
//
// A finding matches a planted deviation when kind, method, template shape (parameter names ignored),
// details.location and details.name are equal. Per kind on the deviant host: precision and recall.
// On the conformant host every conformance finding is a false positive. Undocumented fields planted
// with personal data must be severity high. Exit 0 when recall and precision are 1 for every kind and the
// conformant host has no finding, 1 otherwise, 2 when the inputs are unusable.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { Finding } from '../../../engine/contracts/inventory.js';
import { shape } from '../spec.js';
import type { Kind } from './scenario.js';
import { CONFORMANT_HOST, DEVIANT_HOST, KINDS, loadScenario, PREFIX } from './scenario.js';

const Planted = z.object({
  kind: z.enum(KINDS),
  op: z.string(),
  location: z.string(),
  name: z.string(),
  pii: z.boolean().optional(),
  count: z.number(),
});
const Truth = z.object({ writer: z.enum(['server', 'client']), planted: z.array(Planted) });
const Report = z.object({ findings: z.array(Finding) });

export interface KindScore {
  kind: Kind;
  planted: number;
  reported: number;
  truePositives: number;
  precision: number;
  recall: number;
  missed: string[];
  spurious: string[];
}

export interface Score {
  kinds: KindScore[];
  conformantFindings: string[];
  piiHigh: { planted: number; high: number };
  pass: boolean;
}

export function score(findings: readonly Finding[], planted: readonly z.infer<typeof Planted>[]): Score {
  const s = loadScenario();
  const keyOf = (kind: string, method: string, path: string, location: unknown, name: unknown): string =>
    `${kind} ${method} ${shape(path)} ${String(location)} ${String(name)}`;
  const want = new Map<string, z.infer<typeof Planted>>();
  for (const p of planted) {
    const op = s.ops.get(p.op);
    if (op === undefined) throw new Error(`unknown operation ${p.op}`);
    want.set(keyOf(p.kind, op.method, `${PREFIX}${op.path}`, p.location, p.name), p);
  }
  const conf = findings.filter((f) => (KINDS as readonly string[]).includes(f.kind));
  const conformantFindings = conf
    .filter((f) => f.host === CONFORMANT_HOST)
    .map((f) => keyOf(f.kind, f.method, f.path, f.details['location'], f.details['name']));
  const got = new Map<string, Finding>();
  for (const f of conf.filter((x) => x.host === DEVIANT_HOST))
    got.set(keyOf(f.kind, f.method, f.path, f.details['location'], f.details['name']), f);
  const kinds = KINDS.map((kind): KindScore => {
    const w = [...want.keys()].filter((k) => k.startsWith(`${kind} `));
    const g = [...got.keys()].filter((k) => k.startsWith(`${kind} `));
    const tp = w.filter((k) => got.has(k)).length;
    return {
      kind,
      planted: w.length,
      reported: g.length,
      truePositives: tp,
      precision: g.length === 0 ? (w.length === 0 ? 1 : 0) : tp / g.length,
      recall: w.length === 0 ? 1 : tp / w.length,
      missed: w.filter((k) => !got.has(k)),
      spurious: g.filter((k) => !want.has(k)),
    };
  });
  const piiPlanted = [...want].filter(([, p]) => p.pii === true);
  const piiHigh = piiPlanted.filter(([k]) => got.get(k)?.severity === 'high').length;
  const pass =
    conformantFindings.length === 0 &&
    kinds.every((k) => k.precision === 1 && k.recall === 1) &&
    piiHigh === piiPlanted.length;
  return { kinds, conformantFindings, piiHigh: { planted: piiPlanted.length, high: piiHigh }, pass };
}

export function markdown(sc: Score, notes: readonly string[]): string {
  const f = (x: number): string => x.toFixed(3);
  const lines = [
    '| finding kind | planted | reported | true positives | precision | recall |',
    '|---|---|---|---|---|---|',
    ...sc.kinds.map(
      (k) => `| ${k.kind} | ${k.planted} | ${k.reported} | ${k.truePositives} | ${f(k.precision)} | ${f(k.recall)} |`,
    ),
    '',
    `Conformant server: ${sc.conformantFindings.length} conformance finding(s). Undocumented fields planted with personal data reported as high: ${sc.piiHigh.high} of ${sc.piiHigh.planted}.`,
  ];
  for (const k of sc.kinds) {
    for (const m of k.missed) lines.push(`- missed: ${m}`);
    for (const x of k.spurious) lines.push(`- spurious: ${x}`);
  }
  for (const c of sc.conformantFindings) lines.push(`- on the conformant host: ${c}`);
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

function main(): void {
  const args = process.argv.slice(2);
  const all = (name: string): string[] =>
    args.flatMap((a, i) => (a === `--${name}` && args[i + 1] !== undefined ? [args[i + 1] as string] : []));
  const reportFile = all('report')[0];
  if (reportFile === undefined) {
    process.stderr.write('score: --report is required\n');
    process.exit(2);
  }
  const report = Report.parse(JSON.parse(readFileSync(reportFile, 'utf8')));
  const planted = all('truth').flatMap((t) => Truth.parse(JSON.parse(readFileSync(t, 'utf8'))).planted);
  const sc = score(report.findings, planted);
  const md = markdown(sc, all('note'));
  process.stdout.write(md);
  const out = all('out')[0];
  if (out !== undefined) writeFileSync(out, `# Conformance harness: last results\n\n${md}`);
  process.exit(sc.pass ? 0 : 1);
}

if (process.argv[1]?.endsWith('score.ts')) main();
