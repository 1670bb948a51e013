// Where the repository and the shared corpus are, from source (tsx) or compiled (dist/) code alike.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`repository root not found above ${from}`);
    dir = up;
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
/** ../shared/corpus beside the repository root (override with APITAP_CORPUS). */
export const corpusDir = resolve(process.env['APITAP_CORPUS'] ?? join(repoRoot, '..', 'shared', 'corpus'));
export const corpus = (...p: string[]): string => join(corpusDir, ...p);

/**
 * Why tests that read the corpus cannot run here, or null when they can. Checked once, at import:
 * the corpus is not written by tests.
 */
export const corpusMissing: string | null = existsSync(corpusDir)
  ? null
  : `shared corpus not found at ${corpusDir}; set APITAP_CORPUS`;
export const corpusAvailable = (): boolean => corpusMissing === null;
/**
 * The `skip` option of every test or suite that reads the corpus: false when it is there, else the
 * one reason. Put it on the outermost suite so a missing corpus is one skipped line, not a failure
 * per capture: `describe('…', { skip: corpusSkip }, () => …)`.
 */
export const corpusSkip: string | false = corpusMissing ?? false;
/** `{ skip: corpusSkip }` as one name, the options of a test or suite that reads the corpus:
 * `test('…', needsCorpus, async () => …)`. */
export const needsCorpus: { readonly skip: string | false } = { skip: corpusSkip };
