// Rewrites test/golden/corpus.golden.json from the current collectors. Run only on purpose:
//   node --import tsx test/golden/update.ts
// then review the diff. Hand-written `explain` entries are kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, repoRoot } from '../support/paths.js';
import { summarise } from './corpus.js';

const goldenPath = join(repoRoot, 'test/golden/corpus.golden.json');
const tshark = JSON.parse(readFileSync(join(repoRoot, 'test/golden/tshark-counts.json'), 'utf8')) as {
  captures: Record<string, unknown>;
};
const old = existsSync(goldenPath)
  ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as Record<string, { explain?: string }>)
  : {};
const out: Record<string, unknown> = {};
for (const rel of Object.keys(tshark.captures).sort()) {
  const s = await summarise(corpus(rel));
  const explain = old[rel]?.explain;
  out[rel] = { ...(explain !== undefined ? { explain } : {}), ...s };
}
writeFileSync(goldenPath, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${goldenPath} (${Object.keys(out).length} captures)`);
