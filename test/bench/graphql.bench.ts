// GraphQL analysis throughput per core (run on demand, not in CI):
//
//   node --import tsx test/bench/graphql.bench.ts [--exchanges N] [--ops N]
//
// Builds N POST /graphql exchanges cycling over `--ops` distinct operations of the generated mix
// (test/accuracy/graphql/mix.ts: fragments, aliases, variables, literals; each response carries an
// e-mail address), then times createAnalysis().observe over them (real PII scanner and aggregator),
// without and with the published SDL. Prints one JSON line per run: CPU seconds of the observe loop,
// exchanges per CPU second, endpoints, and documents parsed (each distinct document once).
import { createAnalysis } from '../../analyzers/analysis.js';
import { createPiiFieldAggregator, createPiiScanner } from '../../analyzers/pii/index.js';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../engine/contracts/exchange.js';
import { generateOp, publishedSdl } from '../accuracy/graphql/mix.js';

const arg = (n: string, d: number): number => {
  const i = process.argv.indexOf(n);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--exchanges', 20_000);
let seed = 7;
const r = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const ops = Array.from({ length: arg('--ops', 300) }, (_, i) => generateOp(r, i));
const body = (data: string): NonNullable<Exchange['request']>['body'] => ({
  size: data.length,
  decodedSize: null,
  contentType: 'application/json',
  contentEncoding: [],
  encoding: 'utf8',
  data,
  truncated: false,
  complete: true,
});
const exchanges: Exchange[] = Array.from({ length: N }, (_, i) => {
  const op = ops[i % ops.length] as (typeof ops)[number];
  const t = 1_700_000_000_000_000 + i * 1000;
  return {
    schema: EXCHANGE_SCHEMA,
    id: `x${i}`,
    flowId: `f${i}`,
    seq: 0,
    vni: null,
    tunnel: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    request: {
      method: 'POST',
      target: '/graphql',
      version: 'HTTP/1.1',
      headers: [['Host', 'api.example']],
      trailers: [],
      body: body(JSON.stringify({ query: op.document, operationName: op.name, variables: op.variables })),
      startUs: t,
      endUs: t + 1,
    },
    response: {
      status: 200,
      reason: 'OK',
      version: 'HTTP/1.1',
      headers: [],
      trailers: [],
      body: body(JSON.stringify({ data: { user: { id: String(i), email: `user${i}@example.org` } } })),
      interim: [],
      startUs: t + 500,
      endUs: t + 501,
    },
    latencyUs: 499,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
    complete: true,
  };
});
for (const schemas of [[], [{ name: 'published.graphql', sdl: publishedSdl() }]]) {
  const a = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: { scanner: createPiiScanner({ secret: Buffer.from('bench') }), aggregator: createPiiFieldAggregator() },
    graphqlSchemas: schemas,
  });
  const c0 = process.cpuUsage();
  for (const x of exchanges) a.observe(x);
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1e6;
  const endpoints = a.endpoints().length;
  process.stdout.write(
    JSON.stringify({
      schemas: schemas.length,
      exchanges: N,
      observeCpuSeconds: Math.round(cpu * 1000) / 1000,
      exchangesPerCpuSec: Math.round(N / cpu),
      endpoints,
      documentParses: a.stats().graphql_document_parses,
    }) + '\n',
  );
}
