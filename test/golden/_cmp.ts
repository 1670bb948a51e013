import { readFileSync } from 'node:fs';
import { summarise } from './corpus.js';
const t = JSON.parse(readFileSync('/work/main/test/golden/tshark-counts.json','utf8')).captures;
for (const rel of Object.keys(t)) {
  const s = await summarise('/work/shared/corpus/' + rel);
  const d = t[rel].defaultPorts;
  const mark = (s.requests===d.requests && s.responses===d.responses) ? '  ' : '!!';
  console.log(mark, rel.padEnd(90), `apitap ${s.requests}/${s.responses}/${s.exchanges}`, `tshark ${d.requests}/${d.responses}`, JSON.stringify(s.anomalies));
}
