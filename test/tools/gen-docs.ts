// Regenerates the README's counter reference from the catalogue (npm run docs). The test
// engine/app/telemetry/catalogue-views.test.ts fails when the README and the catalogue disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogueMarkdown, README_BEGIN, README_END } from '../../engine/app/telemetry/catalogue-views.js';
import { repoRoot } from '../support/paths.js';

const path = join(repoRoot, 'README.md');
const text = readFileSync(path, 'utf8');
const a = text.indexOf(README_BEGIN);
const b = text.indexOf(README_END);
if (a < 0 || b < a) {
  process.stderr.write(`gen-docs: markers not found in README.md (${README_BEGIN} … ${README_END})\n`);
  process.exit(2);
}
writeFileSync(path, text.slice(0, a) + catalogueMarkdown() + text.slice(b + README_END.length));
