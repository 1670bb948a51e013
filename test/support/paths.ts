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
