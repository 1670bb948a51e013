// Developer tool: apitap's request/response counts next to tshark's for every corpus capture.
//   node --import tsx test/golden/compare.ts        ("!!" marks a difference; explain it in the golden)
//   node --import tsx test/golden/compare.ts FILE   (one capture: summary and one line per exchange)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, repoRoot } from '../support/paths.js';
import { summarise } from './corpus.js';

const one = process.argv[2];
if (one !== undefined) {
  const s = await summarise(one);
  console.log(JSON.stringify({ ...s, exchangeLines: undefined }));
  console.log(s.exchangeLines.join('\n'));
} else {
  const t = (
    JSON.parse(readFileSync(join(repoRoot, 'test/golden/tshark-counts.json'), 'utf8')) as {
      captures: Record<string, { defaultPorts: { requests: number; responses: number } }>;
    }
  ).captures;
  for (const [rel, { defaultPorts: d }] of Object.entries(t)) {
    const s = await summarise(corpus(rel));
    const mark = s.requests === d.requests && s.responses === d.responses ? '  ' : '!!';
    console.log(
      mark,
      rel.padEnd(90),
      `apitap ${s.requests}/${s.responses}/${s.exchanges}`,
      `tshark ${d.requests}/${d.responses}`,
    );
  }
}
