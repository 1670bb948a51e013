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
import type { ActorsScore, BehaviourReport as Report } from './score.js';
import { BehaviourReport, scoreActors } from './score.js';
import { BEHAVIOUR_KINDS } from './world.js';
import type { Thresholds } from './world.js';

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

export async function runOnce(o: {
  seed: number;
  out: string;
  thresholds?: Thresholds;
  config?: string;
  normals?: number;
}): Promise<RunResult> {
  const capture = await captureActors({
    seed: o.seed,
    out: o.out,
    ...(o.thresholds !== undefined ? { thresholds: o.thresholds } : {}),
    ...(o.normals !== undefined ? { normals: o.normals } : {}),
  });
  // Both replays at once: they share nothing but the capture file.
  const t0 = Date.now();
  const [report, again] = await Promise.all([
    replay(capture.pcap, o.out, 'report', 0, o.config),
    replay(capture.pcap, o.out, 'report-again', 2, o.config),
  ]);
  const replayMs = Date.now() - t0;
  return { capture, report, score: scoreActors(capture.truth, report), replayDiff: diffViews(report, again), replayMs };
}
