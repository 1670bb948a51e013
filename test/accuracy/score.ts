// Scores an apitap report (report/v1 JSON) against the harness ground truth: precision, recall and F1
// for endpoint templating (host + method + template shape), shadow / zombie / orphan findings, and PII
// per (endpoint, location, field, kind); plus how many hard negatives were reported. Prints a markdown
// table, optionally writes it to a file, and exits non-zero when a target is missed.
//
//   node --import tsx test/accuracy/score.ts --truth client-truth.json --truth server-truth.json
//        --report report.json [--out test/accuracy/last-results.md] [--note "capture: …"]
//   node --import tsx test/accuracy/score.ts --truth … --fake-report out.json   (a perfect report, for self-tests)
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { shape } from './spec.js';
import type { Truth } from './truth.js';
import { mergeTruths, readTruth, routeKey } from './truth.js';

/** The parts of report/v1 the scorer reads; everything else passes through unchecked. */
export const ReportSchema = z.looseObject({
  schema: z.string().optional(),
  endpoints: z.array(
    z.looseObject({
      host: z.string(),
      method: z.string(),
      path: z.string(),
      hits: z.number().optional(),
      pii: z.array(z.looseObject({ kind: z.string(), location: z.string(), field: z.string() })).optional(),
    }),
  ),
  findings: z.array(z.looseObject({ kind: z.string(), host: z.string(), method: z.string(), path: z.string() })),
});
export type Report = z.infer<typeof ReportSchema>;

export interface Metric {
  name: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
  target: string;
  pass: boolean;
  falsePositives: string[];
  falseNegatives: string[];
}

export interface Score {
  metrics: Metric[];
  piiByKind: Array<{ kind: string; tp: number; fp: number; fn: number }>;
  hardNegatives: { total: number; reported: string[] };
  ignoredPii: number;
  pass: boolean;
}

/** PII locations the harness plants in; header and cookie findings are outside its truth and not scored. */
const SCORED_LOCATIONS = new Set(['request.body', 'response.body', 'request.query', 'request.path']);
const LOCATION_ALIAS: Readonly<Record<string, string>> = {
  'request.form': 'request.body',
  'request.json': 'request.body',
  'response.json': 'response.body',
  'request.params': 'request.path',
  'request.path_param': 'request.path',
  'request.url': 'request.query',
};

export function normHost(h: string): string {
  return h.toLowerCase().replace(/:(80|443)$/, '');
}

/** Field spelling independent of `$.` prefixes, array indexes and parameter braces. */
export function normField(f: string): string {
  return f
    .trim()
    .replace(/^\$/, '')
    .replace(/^\./, '')
    .replace(/\[\d+\]/g, '[*]')
    .replace(/^\{(.*)\}$/, '$1');
}

export function normLocation(l: string): string {
  const x = l.toLowerCase().trim();
  return LOCATION_ALIAS[x] ?? x;
}

function makeMetric(
  name: string,
  truth: Set<string>,
  predicted: Set<string>,
  target: { minPrecision?: number; minRecall?: number; minF1?: number },
): Metric {
  const falsePositives = [...predicted].filter((k) => !truth.has(k)).sort();
  const falseNegatives = [...truth].filter((k) => !predicted.has(k)).sort();
  const tp = predicted.size - falsePositives.length;
  const fp = falsePositives.length;
  const fn = falseNegatives.length;
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const parts: string[] = [];
  let pass = true;
  if (target.minF1 !== undefined) {
    parts.push(`F1 ≥ ${target.minF1}`);
    pass &&= f1 >= target.minF1;
  }
  if (target.minRecall !== undefined) {
    parts.push(`R ${target.minRecall === 1 ? '= 1.0' : `≥ ${target.minRecall}`}`);
    pass &&= recall >= target.minRecall;
  }
  if (target.minPrecision !== undefined) {
    parts.push(`P ≥ ${target.minPrecision}`);
    pass &&= precision >= target.minPrecision;
  }
  return { name, tp, fp, fn, precision, recall, f1, target: parts.join(', '), pass, falsePositives, falseNegatives };
}

/**
 * A report path whose leading segments are a template of the prefix (`/v{version}/jobs` for the
 * prefix `/v1`: a server variable kept as a template) loses them like a literal prefix would.
 */
function stripTemplatedPrefix(path: string, prefix: string): string {
  const ps = prefix.split('/').filter((x) => x !== '');
  const ts = path.split('/').filter((x) => x !== '');
  if (ts.length < ps.length) return path;
  for (let i = 0; i < ps.length; i++) {
    const t = ts[i] ?? '';
    if (!t.includes('{')) return path;
    const re = new RegExp(
      '^' +
        t.replace(/\{[^}]*\}|[^{]+/g, (x) => (x.startsWith('{') ? '.+?' : x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))) +
        '$',
    );
    if (!re.test(ps[i] ?? '')) return path;
  }
  return '/' + ts.slice(ps.length).join('/');
}

export function score(truth: Truth, report: Report): Score {
  const prefixes = new Map<string, string>();
  for (const a of truth.apis) prefixes.set(normHost(a.host), a.prefix);
  /** Endpoint key with the API's server prefix stripped, so `/api/v3/pet/{id}` and `/pet/{petId}` agree. */
  // A finding for a spec without a host (Docker's) may carry no host or '*'; it belongs to the one API
  // the harness served under a made-up host.
  const madeUp = truth.apis.map((a) => normHost(a.host)).filter((h) => h.endsWith('.apitap.test'));
  const key = (host: string, method: string, path: string): string => {
    let h = normHost(host);
    if ((h === '' || h === '*') && madeUp.length === 1 && madeUp[0] !== undefined) h = madeUp[0];
    const p = prefixes.get(h) ?? '';
    let t = path.split('?')[0] ?? '';
    if (p !== '' && (t === p || t.startsWith(`${p}/`))) t = t.slice(p.length) || '/';
    else if (p !== '') t = stripTemplatedPrefix(t, p);
    return routeKey({ host: h, method, template: shape(t) });
  };

  const calledTruth = new Set(truth.called.map((c) => key(c.host, c.method, c.template)));
  const seen = report.endpoints.filter((e) => e.hits === undefined || e.hits > 0);
  const calledPred = new Set(seen.map((e) => key(e.host, e.method, e.path)));

  const findingSet = (kind: string): Set<string> =>
    new Set(report.findings.filter((f) => f.kind === kind).map((f) => key(f.host, f.method, f.path)));
  const truthSet = (xs: Array<{ host: string; method: string; template: string }>): Set<string> =>
    new Set(xs.map((x) => key(x.host, x.method, x.template)));

  const piiTruth = new Set(
    truth.pii.map(
      (p) => `${key(p.host, p.method, p.template)} ${normLocation(p.location)} ${normField(p.field)} ${p.kind}`,
    ),
  );
  const piiPred = new Set<string>();
  let ignoredPii = 0;
  for (const e of report.endpoints)
    for (const p of e.pii ?? []) {
      const loc = normLocation(p.location);
      if (!SCORED_LOCATIONS.has(loc)) {
        ignoredPii++;
        continue;
      }
      piiPred.add(`${key(e.host, e.method, e.path)} ${loc} ${normField(p.field)} ${p.kind}`);
    }

  const metrics = [
    makeMetric('templating (host, method, template)', calledTruth, calledPred, { minF1: 0.95 }),
    makeMetric('shadow_api', truthSet(truth.shadow), findingSet('shadow_api'), { minRecall: 1, minPrecision: 0.95 }),
    makeMetric('zombie_api', truthSet(truth.zombie), findingSet('zombie_api'), { minRecall: 1, minPrecision: 0.95 }),
    makeMetric('orphan_api', truthSet(truth.orphan), findingSet('orphan_api'), { minRecall: 1, minPrecision: 0.95 }),
    makeMetric('PII (endpoint, location, field, kind)', piiTruth, piiPred, { minPrecision: 0.95, minRecall: 0.9 }),
  ];

  const kinds = new Set<string>();
  for (const k of [...piiTruth, ...piiPred]) kinds.add(k.slice(k.lastIndexOf(' ') + 1));
  const piiByKind = [...kinds].sort().map((kind) => {
    const t = new Set([...piiTruth].filter((k) => k.endsWith(` ${kind}`)));
    const p = new Set([...piiPred].filter((k) => k.endsWith(` ${kind}`)));
    const tp = [...p].filter((k) => t.has(k)).length;
    return { kind, tp, fp: p.size - tp, fn: t.size - tp };
  });

  // Hard negatives: a PII entry of any kind on that field is a hit. Path parameters are matched by
  // location only (the report may name a shadow route's parameters differently).
  const predFields = new Set<string>();
  for (const k of piiPred) {
    const cut = k.lastIndexOf(' ');
    const noKind = k.slice(0, cut);
    predFields.add(noKind);
    if (noKind.includes(' request.path '))
      predFields.add(`${noKind.slice(0, noKind.indexOf(' request.path ') + 13)} *`);
  }
  const reported: string[] = [];
  for (const n of truth.hardNegatives) {
    const base = `${key(n.host, n.method, n.template)} ${normLocation(n.location)}`;
    const hit =
      predFields.has(`${base} ${normField(n.field)}`) ||
      (normLocation(n.location) === 'request.path' && predFields.has(`${base} *`));
    if (hit) reported.push(`${base} ${normField(n.field)} (${n.class})`);
  }
  return {
    metrics,
    piiByKind,
    hardNegatives: { total: truth.hardNegatives.length, reported },
    ignoredPii,
    pass: metrics.every((m) => m.pass),
  };
}

const f3 = (x: number): string => x.toFixed(3);

export function toMarkdown(s: Score, truth: Truth, notes: string[] = []): string {
  const out: string[] = [];
  out.push('# apitap accuracy', '');
  for (const n of notes) out.push(`- ${n}`);
  out.push(
    `- ground truth: ${truth.requests} requests; ${truth.called.length} endpoints called (${truth.called.filter((c) => c.origin === 'documented').length} documented, ${truth.shadow.length} shadow, ${truth.called.filter((c) => c.origin === 'previous').length} removed); ${truth.zombie.length} zombie; ${truth.orphan.length} orphan; ${truth.pii.length} PII fields; ${truth.hardNegatives.length} hard-negative fields`,
    '',
  );
  out.push(
    '| metric | precision | recall | F1 | TP | FP | FN | target | result |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const m of s.metrics)
    out.push(
      `| ${m.name} | ${f3(m.precision)} | ${f3(m.recall)} | ${f3(m.f1)} | ${m.tp} | ${m.fp} | ${m.fn} | ${m.target} | ${m.pass ? 'pass' : '**FAIL**'} |`,
    );
  out.push('', '| PII kind | TP | FP | FN |', '|---|---|---|---|');
  for (const k of s.piiByKind) out.push(`| ${k.kind} | ${k.tp} | ${k.fp} | ${k.fn} |`);
  out.push(
    '',
    `Hard negatives reported as PII: ${s.hardNegatives.reported.length} of ${s.hardNegatives.total} fields (counted as PII false positives above).`,
  );
  if (s.ignoredPii > 0)
    out.push(`PII entries in header/cookie locations, not scored (the harness plants none there): ${s.ignoredPii}.`);
  const LIMIT = 25;
  for (const m of s.metrics) {
    if (m.falseNegatives.length === 0 && m.falsePositives.length === 0) continue;
    out.push('', `<details><summary>${m.name}: ${m.fn} missed, ${m.fp} extra</summary>`, '');
    for (const x of m.falseNegatives.slice(0, LIMIT)) out.push(`- missed: \`${x}\``);
    if (m.falseNegatives.length > LIMIT) out.push(`- … ${m.falseNegatives.length - LIMIT} more missed`);
    for (const x of m.falsePositives.slice(0, LIMIT)) out.push(`- extra: \`${x}\``);
    if (m.falsePositives.length > LIMIT) out.push(`- … ${m.falsePositives.length - LIMIT} more extra`);
    out.push('', '</details>');
  }
  if (s.hardNegatives.reported.length > 0) {
    out.push('', '<details><summary>hard negatives reported</summary>', '');
    for (const x of s.hardNegatives.reported.slice(0, LIMIT)) out.push(`- \`${x}\``);
    out.push('', '</details>');
  }
  out.push('', `Overall: ${s.pass ? 'all targets met' : 'targets MISSED'}.`, '');
  return out.join('\n');
}

/** A report that says exactly what the truth says: the scorer's self-test and a pipeline dry run. */
export function perfectReport(truth: Truth): Report {
  const prefixes = new Map(truth.apis.map((a) => [normHost(a.host), a.prefix] as const));
  const p = (host: string, t: string): string => (prefixes.get(normHost(host)) ?? '') + t;
  const endpoints = truth.called.map((c) => ({
    host: c.host,
    method: c.method,
    path: p(c.host, c.template),
    hits: c.calls,
    documented: c.origin === 'documented',
    pii: truth.pii
      .filter((x) => routeKey(x) === routeKey(c))
      .map((x) => ({ kind: x.kind, location: x.location, field: x.field })),
  }));
  const f = (kind: string, xs: Array<{ host: string; method: string; template: string }>): Report['findings'] =>
    xs.map((x) => ({ kind, host: x.host, method: x.method, path: p(x.host, x.template) }));
  return {
    schema: 'report/v1',
    endpoints,
    findings: [...f('shadow_api', truth.shadow), ...f('zombie_api', truth.zombie), ...f('orphan_api', truth.orphan)],
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      truth: { type: 'string', multiple: true, default: [] },
      report: { type: 'string' },
      out: { type: 'string' },
      note: { type: 'string', multiple: true, default: [] },
      'fake-report': { type: 'string' },
    },
  });
  const { truth, disagreements } = mergeTruths(values.truth.map(readTruth));
  if (disagreements.length > 0) {
    process.stderr.write(
      `score: server and client disagree on what was called (harness bug):\n  ${disagreements.slice(0, 20).join('\n  ')}\n`,
    );
    process.exit(2);
  }
  if (values['fake-report'] !== undefined) {
    writeFileSync(values['fake-report'], JSON.stringify(perfectReport(truth), null, 1) + '\n');
    return;
  }
  if (values.report === undefined) {
    process.stderr.write('score: --report is required\n');
    process.exit(2);
  }
  const parsed = ReportSchema.safeParse(JSON.parse(readFileSync(values.report, 'utf8')));
  if (!parsed.success) {
    process.stderr.write(
      `score: ${values.report} is not a report/v1 with endpoints and findings: ${parsed.error.message}\n`,
    );
    process.exit(2);
  }
  const s = score(truth, parsed.data);
  const md = toMarkdown(s, truth, values.note);
  process.stdout.write(md);
  if (values.out !== undefined) writeFileSync(values.out, md);
  process.exit(s.pass ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
