import { summarise } from './corpus.js';
const s = await summarise(process.argv[2]!);
console.log(JSON.stringify({...s, exchangeLines: undefined}, null, 0)); console.log(s.exchangeLines.join('\n'));
