// Golden test over every capture of the shared corpus (../shared/corpus/pcaps).
// 1. apitap's extraction equals test/golden/corpus.golden.json byte for byte (the JSONL digest pins
//    every field); update it only with `node --import tsx test/golden/update.ts` and review the diff.
// 2. apitap's request/response counts equal tshark's (test/golden/tshark-counts.json, produced by
//    test/golden/tshark-counts.sh), or the golden file explains the difference in `explain`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, needsCorpus, repoRoot } from '../support/paths.js';
import { summarise, type CaptureSummary } from './corpus.js';

interface Tshark {
  defaultPorts: { requests: number; responses: number };
}
const tshark = JSON.parse(readFileSync(join(repoRoot, 'test/golden/tshark-counts.json'), 'utf8')) as {
  captures: Record<string, Tshark>;
};
const golden = JSON.parse(readFileSync(join(repoRoot, 'test/golden/corpus.golden.json'), 'utf8')) as Record<
  string,
  CaptureSummary & { explain?: string }
>;

describe('every corpus capture', needsCorpus, () => {
  for (const [rel, t] of Object.entries(tshark.captures)) {
    test(`golden: ${rel}`, async () => {
      const g = golden[rel];
      assert.ok(g !== undefined, `no golden entry for ${rel}: run test/golden/update.ts`);
      const s = await summarise(corpus(rel));
      const { explain, ...expected } = g;
      assert.deepEqual(s, expected);
      const same = s.requests === t.defaultPorts.requests && s.responses === t.defaultPorts.responses;
      if (!same) {
        assert.ok(
          typeof explain === 'string' && explain.length > 20,
          `${rel}: apitap ${s.requests}/${s.responses} requests/responses vs tshark ${t.defaultPorts.requests}/${t.defaultPorts.responses}, and no explanation in the golden file`,
        );
      }
    });
  }
});
