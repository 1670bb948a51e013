// Behaviour accuracy on demand: one or more seeds, each a fresh world (API shape, actors, abuse) and
// capture; the per-kind precision and recall summed over the seeds. Needs root (namespaces, tcpdump).
//
//   node --import tsx test/accuracy/actors/run.ts --seed 7 [--seed 8 ...] [--out DIR] [--results FILE]
//   node --import tsx test/accuracy/actors/run.ts --seeds 1-10 --out /tmp/actors
//
// Artefacts per seed in DIR/seed-N: world.json, truth.json, capture.pcap, report.json (replay with
// --workers 0), report-again.json (--workers 2), logs. --results writes the markdown table there
// (test/accuracy/actors/last-results.md is the published one). Exit 0 when no finding fell on a
// normal client and both replays agreed on every seed, else 1; 2 when the harness itself failed.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runOnce } from './harness.js';
import { actorsLabUnavailable } from './lab.js';
import type { ActorsScore } from './score.js';
import { combine, toMarkdown } from './score.js';

function seedsOf(single: string[], ranges: string | undefined): number[] {
  const out = single.map(Number);
  if (ranges !== undefined)
    for (const part of ranges.split(',')) {
      const [a, b] = part.split('-').map(Number);
      if (a === undefined || Number.isNaN(a)) continue;
      for (let s = a; s <= (b ?? a); s++) out.push(s);
    }
  return out.length === 0 ? [7] : out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', multiple: true, default: [] },
      seeds: { type: 'string' },
      out: { type: 'string' },
      results: { type: 'string' },
      normals: { type: 'string' },
      'default-thresholds': { type: 'boolean', default: false },
    },
  });
  const why = actorsLabUnavailable();
  if (why !== null) {
    process.stderr.write(`run.ts: ${why}\n`);
    return 2;
  }
  const seeds = seedsOf(values.seed, values.seeds);
  const out = values.out ?? mkdtempSync(join(tmpdir(), 'apitap-actors.'));
  const scores: ActorsScore[] = [];
  const notes: string[] = [];
  let ok = true;
  for (const seed of seeds) {
    const dir = join(out, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    const r = await runOnce({
      seed,
      out: dir,
      thresholds: values['default-thresholds'] ? 'default' : 'seeded',
      ...(values.normals !== undefined ? { normals: Number(values.normals) } : {}),
    });
    scores.push(r.score);
    const w = r.capture.world;
    const span = ((r.capture.state.lastUs ?? 0) - (r.capture.state.firstUs ?? 0)) / 1e6;
    const abusers = r.capture.truth.actors.filter((a) => a.role === 'abuser').length;
    notes.push(
      `seed ${seed}: thresholds ${JSON.stringify(w.thresholds)}; host ${w.host}, prefix '${w.prefix}', ${w.idStyle} ids, ${r.capture.truth.actors.length} actors (${abusers} abusers) on ${new Set(w.actors.map((a) => a.ip)).size} client IPs, ${r.capture.truth.requests} requests, ${r.capture.state.packets} packets in ${span.toFixed(1)} s (${(span * w.timeScale).toFixed(0)} s of packet time after the ×${w.timeScale} stretch); lab ${(r.capture.ms / 1000).toFixed(0)} s, two replays ${(r.replayMs / 1000).toFixed(0)} s (wall); replays agree: ${r.replayDiff.length === 0 ? 'yes' : `NO (${r.replayDiff.join('; ')})`}`,
    );
    if (r.replayDiff.length > 0 || r.score.normalFindings.length > 0) ok = false;
    process.stderr.write(`${notes[notes.length - 1] ?? ''}\n`);
  }
  const md = toMarkdown(combine(scores), notes);
  process.stdout.write(md);
  if (values.results !== undefined)
    writeFileSync(
      values.results,
      `# Behaviour accuracy: last results\n\nMade by \`node --import tsx test/accuracy/actors/run.ts ${seeds.map((s) => `--seed ${s}`).join(' ')}\` (see test/accuracy/actors/README.md).\n\n${md}`,
    );
  process.stderr.write(`artefacts: ${out}\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`run.ts: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
