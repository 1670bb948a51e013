// One behaviour-accuracy run: build the capture in namespaces (lab.ts), replay it with the real CLI
// twice (different worker counts, one installation secret), check that both replays give the same
// actors and behaviour findings, and score the first against the truth (score.ts).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand } from '../../support/cli.js';
import { repoRoot } from '../../support/paths.js';
import { captureActors } from './lab.js';
import type { Capture } from './lab.js';
import { stretchCapture } from './pcap.js';
import type { ActorsScore, BehaviourReport as Report } from './score.js';
import { BehaviourReport, scoreActors } from './score.js';
import type { ActorsTruth } from './truth.js';
import { writeActorsTruth } from './truth.js';
import { BEHAVIOUR_KINDS, configFor, DEFAULT_THRESHOLDS, seededThresholds } from './world.js';

/** A fixed installation secret: principals' HMACs (and so actor ids) are comparable between replays. */
const SECRET = 'actors-accuracy-harness';

export interface RunResult {
  capture: Capture;
  report: Report;
  score: ActorsScore;
  /** Differences between the two replays (empty when they agree). */
  replayDiff: string[];
  replayMs: number;
}

/** `apitap replay PCAP --format json` (the built CLI, else the sources through tsx); the report parsed. */
export function replay(pcap: string, out: string, name: string, workers: number, config?: string): Promise<Report> {
  const args = ['replay', pcap, '--format', 'json', '--no-store', '--no-progress', '--workers', String(workers)];
  if (config !== undefined) args.push('--config', config);
  const [cmd, ...pre] = cliCommand();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd as string, [...pre, ...args], {
      cwd: repoRoot,
      env: { ...process.env, APITAP_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const so: Buffer[] = [];
    const se: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => so.push(c));
    p.stderr.on('data', (c: Buffer) => se.push(c));
    p.on('error', reject);
    p.on('close', (code) => {
      const stdout = Buffer.concat(so).toString('utf8');
      const stderr = Buffer.concat(se).toString('utf8');
      writeFileSync(join(out, `${name}.json`), stdout);
      writeFileSync(join(out, `${name}.log`), stderr);
      if (code !== 0) reject(new Error(`apitap replay exited ${String(code)}: ${stderr.slice(-2000)}`));
      else resolve(BehaviourReport.parse(JSON.parse(stdout)));
    });
  });
}

/** What must not change between two replays of one capture: actors and behaviour findings. */
export function behaviourView(r: Report): { actors: unknown[]; findings: unknown[] } {
  const kinds = new Set<string>(BEHAVIOUR_KINDS);
  return { actors: r.actors ?? [], findings: r.findings.filter((f) => kinds.has(f.kind)) };
}

export function diffViews(a: Report, b: Report): string[] {
  const x = behaviourView(a);
  const y = behaviourView(b);
  const out: string[] = [];
  for (const k of ['actors', 'findings'] as const) {
    const xs = x[k].map((v) => JSON.stringify(v));
    const ys = y[k].map((v) => JSON.stringify(v));
    if (xs.length !== ys.length) out.push(`${k}: ${xs.length} vs ${ys.length}`);
    for (let i = 0; i < Math.min(xs.length, ys.length); i++)
      if (xs[i] !== ys[i]) {
        out.push(`${k}[${i}]: ${xs[i] ?? ''} vs ${ys[i] ?? ''}`.slice(0, 600));
        break;
      }
  }
  return out;
}

/** The truth on the stretched clock: t0 + (t − t0) · factor. */
export function stretchTruth(t: ActorsTruth, t0: number, factor: number): ActorsTruth {
  const s = (us: number): number => t0 + Math.round((us - t0) * factor);
  return {
    ...t,
    startUs: s(t.startUs),
    endUs: s(t.endUs),
    actors: t.actors.map((a) => ({
      ...a,
      abuses: a.abuses.map((x) => ({ ...x, firstUs: s(x.firstUs), lastUs: s(x.lastUs) })),
    })),
  };
}

export async function runOnce(o: {
  seed: number;
  out: string;
  /** 'seeded' (default): thresholds drawn from the seed and passed with --config; 'default': apitap's. */
  thresholds?: 'seeded' | 'default';
  normals?: number;
}): Promise<RunResult> {
  const captured = await captureActors({
    seed: o.seed,
    out: o.out,
    thresholds: o.thresholds === 'default' ? DEFAULT_THRESHOLDS : seededThresholds(o.seed),
    ...(o.normals !== undefined ? { normals: o.normals } : {}),
  });
  // The capture and the truth on the stretched clock (world.ts TIME_SCALE).
  const origin = stretchCapture(captured.pcap, captured.world.timeScale);
  if (origin === null) throw new Error('empty capture');
  const capture = { ...captured, truth: stretchTruth(captured.truth, origin, captured.world.timeScale) };
  writeActorsTruth(join(o.out, 'truth.json'), capture.truth);
  const config = join(o.out, 'apitap-config.json');
  writeFileSync(config, JSON.stringify(configFor(capture.world), null, 2) + '\n');
  // Both replays at once: they share nothing but the capture file.
  const t0 = Date.now();
  const [report, again] = await Promise.all([
    replay(capture.pcap, o.out, 'report', 0, config),
    replay(capture.pcap, o.out, 'report-again', 2, config),
  ]);
  const replayMs = Date.now() - t0;
  return { capture, report, score: scoreActors(capture.truth, report), replayDiff: diffViews(report, again), replayMs };
}
