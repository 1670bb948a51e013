// Scores apitap's behaviour findings (report/v1 JSON) against the harness's ground truth (truth.ts).
//
// A finding is attributed to a truth actor by its `actor`: the IP must be the actor's, and when both
// sides name a principal, the principal kind must agree and the masked principal must be a masking of
// the actor's credential identity (the visible characters in place; see maskCompatible). Actors that
// share an address (the NAT) differ in principal kind, so the attribution is unambiguous. A finding of
// an abuser counts as true when its kind, endpoint (host, method, template shape) and packet-time
// window (overlapping the abuse's window, give or take `toleranceUs`) match a planted abuse; a match
// with an `acceptable` entry is neither true nor false (not counted). Everything else is false; a
// finding on a normal client or a near miss is also listed as a normal-actor finding.
//
// Per kind: recall = planted abuses found / planted; precision = true findings / (true + false).
//
//   node --import tsx test/accuracy/actors/score.ts --truth truth.json --report report.json [--out F.md] [--note T]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { Abuse, ActorsTruth, TruthActor } from './truth.js';
import { readActorsTruth } from './truth.js';
import { BEHAVIOUR_KINDS } from './world.js';
import type { BehaviourKind } from './world.js';

const ActorRef = z.looseObject({
  id: z.string().optional(),
  ip: z.string(),
  principal: z.string().nullable().optional(),
  principalKind: z.string().nullable().optional(),
});
const Finding = z.looseObject({
  id: z.string().optional(),
  kind: z.string(),
  host: z.string(),
  method: z.string(),
  path: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
  firstSeen: z.string().nullable().optional(),
  lastSeen: z.string().nullable().optional(),
  actor: ActorRef.optional(),
});
export type ReportFinding = z.infer<typeof Finding>;
export const BehaviourReport = z.looseObject({
  findings: z.array(Finding),
  actors: z
    .array(
      ActorRef.extend({
        requests: z.number().optional(),
      }),
    )
    .optional(),
});
export type BehaviourReport = z.infer<typeof BehaviourReport>;

/** Packet-time tolerance of the window comparison: the client stamps before sending and after reading. */
export const toleranceUs = 2_000_000;

export interface KindScore {
  kind: BehaviourKind;
  planted: number;
  detected: number;
  recall: number;
  findings: number;
  truePositives: number;
  acceptable: number;
  falsePositives: number;
  precision: number;
}

export interface ActorsScore {
  kinds: KindScore[];
  /** Findings on normal clients and near misses (must be none). */
  normalFindings: string[];
  /** Findings that match nothing planted, with the reason. */
  falsePositives: string[];
  /** Planted abuses no finding matched. */
  missed: string[];
  /** The same, structured. */
  missedAbuses: Array<{ actor: TruthActor; abuse: Abuse }>;
  /** Planted abuses found, with the finding's evidence of the window. */
  found: string[];
  /** Behaviour findings without any packet-time window (window not checked). */
  withoutWindow: number;
  actors: { truth: number; matched: number; sameRequests: number; reported: number | null };
}

const MASK = /[*•…]+/;

/**
 * Whether `masked` can be a masking of `raw`: the visible runs between mask characters (*, •, …)
 * occur in `raw` in order, the first one at its start and the last at its end unless the mask begins
 * or ends with a mask character. An unmasked value must be equal.
 */
export function maskCompatible(masked: string, raw: string): boolean {
  if (masked === raw) return true;
  const parts = masked.split(MASK);
  if (parts.length === 1) return false;
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!raw.startsWith(first) || !raw.endsWith(last)) return false;
  let pos = first.length;
  for (const part of parts.slice(1, -1)) {
    if (part === '') continue;
    const i = raw.indexOf(part, pos);
    if (i < 0) return false;
    pos = i + part.length;
  }
  return pos <= raw.length - last.length;
}

/** `{anything}` → `{}`, no trailing slash, lower-case host part not included. */
export function shape(path: string): string {
  const s = path.replace(/\{[^}]*\}/g, '{}').replace(/\/+$/, '');
  return s === '' ? '/' : s;
}

function toUs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e14 ? v : v > 1e11 ? v * 1000 : v * 1e6;
  if (typeof v !== 'string') return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(v);
  if (m === null) return null;
  const whole = Date.parse(`${m[1] as string}${m[3] ?? 'Z'}`);
  if (Number.isNaN(whole)) return null;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return whole * 1000 + Number(frac);
}

/** The finding's packet-time window: from its details (several spellings), else firstSeen/lastSeen. */
export function findingWindow(f: ReportFinding): { startUs: number; endUs: number } | null {
  const d = f.details ?? {};
  const w = d['window'];
  const pairs: Array<[unknown, unknown]> = [
    [d['windowStart'], d['windowEnd']],
    [d['windowFrom'], d['windowTo']],
    [d['from'], d['to']],
    [d['start'], d['end']],
  ];
  if (w !== null && typeof w === 'object') {
    const o = w as Record<string, unknown>;
    pairs.unshift([o['start'] ?? o['from'] ?? o['firstSeen'], o['end'] ?? o['to'] ?? o['lastSeen']]);
  }
  pairs.push([d['firstSeen'], d['lastSeen']], [f.firstSeen, f.lastSeen]);
  for (const [a, b] of pairs) {
    const s = toUs(a);
    const e = toUs(b);
    if (s !== null && e !== null) return { startUs: Math.min(s, e), endUs: Math.max(s, e) };
  }
  return null;
}

function principalMatches(f: ReportFinding, a: TruthActor): boolean {
  const fp = f.actor?.principal ?? null;
  if (a.principal === null || fp === null) return true;
  const fk = f.actor?.principalKind ?? null;
  if (fk !== null && a.principalKind !== null && fk !== a.principalKind) return false;
  return maskCompatible(fp, a.principal);
}

/** The truth actors a finding can be about (more than one only when the report cannot tell them apart). */
export function candidates(truth: ActorsTruth, f: ReportFinding): TruthActor[] {
  if (f.actor === undefined) return [];
  const ip = f.actor.ip;
  return truth.actors.filter((a) => a.ip === ip && principalMatches(f, a));
}

function endpointMatches(
  truth: ActorsTruth,
  f: ReportFinding,
  method: string,
  template: string,
  kind: string,
): boolean {
  if (f.host.toLowerCase().replace(/:80$/, '') !== truth.host) return false;
  if (kind === 'auth_bruteforce' && (f.path === '' || f.path === '*')) return true;
  if (f.method !== '' && f.method !== '*' && f.method.toUpperCase() !== method) return false;
  const want = shape(template);
  const got = shape(f.path);
  return got === want || (truth.prefix !== '' && shape(truth.prefix + f.path) === want);
}

function overlaps(f: ReportFinding, a: Abuse): boolean | null {
  const w = findingWindow(f);
  if (w === null) return null;
  return w.startUs <= a.lastUs + toleranceUs && w.endUs >= a.firstUs - toleranceUs;
}

const describe = (f: ReportFinding): string =>
  `${f.kind} ${f.method} ${f.path} actor ${f.actor?.ip ?? '?'} ${f.actor?.principalKind ?? '-'}:${f.actor?.principal ?? '-'}`;

export function scoreActors(truth: ActorsTruth, report: BehaviourReport): ActorsScore {
  const kinds = new Set<string>(BEHAVIOUR_KINDS);
  const findings = report.findings.filter((f) => kinds.has(f.kind));
  const found = new Set<Abuse>();
  const foundLines: string[] = [];
  const out: ActorsScore = {
    kinds: [],
    normalFindings: [],
    falsePositives: [],
    missed: [],
    missedAbuses: [],
    found: foundLines,
    withoutWindow: 0,
    actors: { truth: truth.actors.length, matched: 0, sameRequests: 0, reported: report.actors?.length ?? null },
  };
  const perKind = new Map<string, { tp: number; acc: number; fp: number; n: number }>();
  for (const k of BEHAVIOUR_KINDS) perKind.set(k, { tp: 0, acc: 0, fp: 0, n: 0 });
  for (const f of findings) {
    const c = perKind.get(f.kind) as { tp: number; acc: number; fp: number; n: number };
    c.n++;
    if (findingWindow(f) === null) out.withoutWindow++;
    const who = candidates(truth, f);
    let verdict: 'tp' | 'acc' | 'fp' = 'fp';
    const why = who.length === 0 ? 'no such actor' : 'no planted abuse of this kind, endpoint and window';
    for (const a of who) {
      for (const ab of a.abuses) {
        if (
          ab.kind === f.kind &&
          endpointMatches(truth, f, ab.method, ab.template, f.kind) &&
          overlaps(f, ab) !== false
        ) {
          verdict = 'tp';
          if (!found.has(ab)) foundLines.push(`${a.name}: ${ab.kind} ${ab.method} ${ab.template} (${ab.detail})`);
          found.add(ab);
        } else if (
          verdict === 'fp' &&
          ab.acceptable.some((x) => x.kind === f.kind && endpointMatches(truth, f, x.method, x.template, f.kind))
        )
          verdict = 'acc';
      }
    }
    if (verdict === 'tp') c.tp++;
    else if (verdict === 'acc') c.acc++;
    else {
      c.fp++;
      const names = who.map((a) => `${a.name} (${a.role})`).join(' or ');
      out.falsePositives.push(`${describe(f)}: ${names === '' ? '' : `${names}: `}${why}`);
      if (who.some((a) => a.role !== 'abuser')) out.normalFindings.push(`${describe(f)}: ${names}`);
    }
  }
  for (const k of BEHAVIOUR_KINDS) {
    const planted = truth.actors.flatMap((a) => a.abuses.filter((x) => x.kind === k));
    const detected = planted.filter((x) => found.has(x)).length;
    const c = perKind.get(k) as { tp: number; acc: number; fp: number; n: number };
    out.kinds.push({
      kind: k,
      planted: planted.length,
      detected,
      recall: planted.length === 0 ? 1 : detected / planted.length,
      findings: c.n,
      truePositives: c.tp,
      acceptable: c.acc,
      falsePositives: c.fp,
      precision: c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp),
    });
  }
  for (const a of truth.actors)
    for (const ab of a.abuses)
      if (!found.has(ab)) {
        out.missed.push(`${a.name} (${a.ip}): ${ab.kind} ${ab.method} ${ab.template} (${ab.detail})`);
        out.missedAbuses.push({ actor: a, abuse: ab });
      }
  // Actors: each truth actor should appear in report.actors with its IP and principal; an actor without
  // credentials of its own (a sprayer, a stuffer) by its IP.
  for (const a of truth.actors) {
    const r = (report.actors ?? []).find(
      (x) =>
        x.ip === a.ip &&
        (a.principal === null ||
          ((x.principalKind ?? null) === a.principalKind &&
            x.principal != null &&
            maskCompatible(x.principal, a.principal))),
    );
    if (r === undefined) continue;
    out.actors.matched++;
    if (r.requests === (a.principal === null ? a.anonymous : a.requests)) out.actors.sameRequests++;
  }
  return out;
}

/** Sums several runs' scores (for multi-seed runs). */
export function combine(scores: ActorsScore[]): ActorsScore {
  const out: ActorsScore = {
    kinds: [],
    normalFindings: scores.flatMap((s) => s.normalFindings),
    falsePositives: scores.flatMap((s) => s.falsePositives),
    missed: scores.flatMap((s) => s.missed),
    missedAbuses: scores.flatMap((s) => s.missedAbuses),
    found: scores.flatMap((s) => s.found),
    withoutWindow: scores.reduce((n, s) => n + s.withoutWindow, 0),
    actors: {
      truth: scores.reduce((n, s) => n + s.actors.truth, 0),
      matched: scores.reduce((n, s) => n + s.actors.matched, 0),
      sameRequests: scores.reduce((n, s) => n + s.actors.sameRequests, 0),
      reported: scores.some((s) => s.actors.reported === null)
        ? null
        : scores.reduce((n, s) => n + (s.actors.reported ?? 0), 0),
    },
  };
  for (const k of BEHAVIOUR_KINDS) {
    const ks = scores.map((s) => s.kinds.find((x) => x.kind === k)).filter((x): x is KindScore => x !== undefined);
    const sum = (f: (x: KindScore) => number): number => ks.reduce((n, x) => n + f(x), 0);
    const planted = sum((x) => x.planted);
    const detected = sum((x) => x.detected);
    const tp = sum((x) => x.truePositives);
    const fp = sum((x) => x.falsePositives);
    out.kinds.push({
      kind: k,
      planted,
      detected,
      recall: planted === 0 ? 1 : detected / planted,
      findings: sum((x) => x.findings),
      truePositives: tp,
      acceptable: sum((x) => x.acceptable),
      falsePositives: fp,
      precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    });
  }
  return out;
}

const pct = (x: number): string => x.toFixed(2);

export function toMarkdown(s: ActorsScore, notes: string[] = []): string {
  const lines = [
    '| kind | planted | found | recall | findings | true | acceptable | false | precision |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...s.kinds.map(
      (k) =>
        `| ${k.kind} | ${k.planted} | ${k.detected} | ${pct(k.recall)} | ${k.findings} | ${k.truePositives} | ${k.acceptable} | ${k.falsePositives} | ${pct(k.precision)} |`,
    ),
    '',
    `Behaviour findings on normal clients and near misses: **${s.normalFindings.length}**.`,
    `Actors: ${s.actors.matched} of ${s.actors.truth} harness actors found in the report's \`actors\` (same IP, principal kind and a compatible masked principal), ${s.actors.sameRequests} with exactly the requests sent; ${s.actors.reported === null ? 'the report has no `actors` array' : `${s.actors.reported} actors reported`}.`,
  ];
  if (s.withoutWindow > 0) lines.push(`${s.withoutWindow} behaviour findings carry no packet-time window.`);
  const list = (title: string, xs: string[]): void => {
    if (xs.length === 0) return;
    lines.push('', `${title}:`, ...xs.slice(0, 40).map((x) => `- ${x}`));
    if (xs.length > 40) lines.push(`- … and ${xs.length - 40} more`);
  };
  list('Missed', s.missed);
  list('False findings', s.falsePositives);
  list('Found', s.found);
  if (notes.length > 0) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      truth: { type: 'string' },
      report: { type: 'string' },
      out: { type: 'string' },
      note: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.truth === undefined || values.report === undefined) throw new Error('--truth and --report are required');
  const s = scoreActors(
    readActorsTruth(values.truth),
    BehaviourReport.parse(JSON.parse(readFileSync(values.report, 'utf8'))),
  );
  const md = toMarkdown(s, values.note);
  process.stdout.write(md);
  if (values.out !== undefined) writeFileSync(values.out, md);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
