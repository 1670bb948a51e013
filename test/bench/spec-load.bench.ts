// Spec loading time on large documents (run on demand, not in CI):
//
//   node --import tsx test/bench/spec-load.bench.ts [targetMB=10] [--rounds N]
//
// Generates a deterministic OpenAPI 3.0 document of about `targetMB` MB in the shape of the large
// public specs (Stripe, GitHub, Azure: thousands of operations, parameters by $ref, deep response
// schemas), once as JSON and once as YAML, and times parseSpec on each (file read excluded), plus the
// largest spec of the corpus. Prints one JSON line per document: bytes, operations, median ms.
// Target (issue 15): a 10 MB spec loads in < 2 s.
//
// Measured, Node 20.20, 2 cores shared with other engineers' jobs (load average 13-16), median of 3:
//   generated.json  10.0 MB, 1,412 operations:   0.75-1.2 s (JSON.parse is most of it)
//   generated.yaml  10.5 MB,   838 operations:   2.4 s with js-yaml on the whole text;
//                                                 0.77-0.92 s with schemas/content/examples cut first
//                                                 (spec/parse.ts pruneYaml, from 1 MB on)
//   servicefabric   1.1 MB YAML (largest corpus spec), 227 operations: 0.2-0.3 s
import { readFileSync } from 'node:fs';
import { dump } from 'js-yaml';
import { corpus } from '../support/paths.js';
import { parseSpec } from '../../analyzers/spec/load.js';

const args = process.argv.slice(2);
const targetMB = Number(args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 10);
const ri = args.indexOf('--rounds');
const rounds = ri >= 0 ? Number(args[ri + 1]) : 3;

function schema(depth: number, i: number): unknown {
  if (depth === 0)
    return { type: 'string', description: `Field ${i}: a value the resource carries.`, example: `v${i}` };
  const props: Record<string, unknown> = {};
  for (let k = 0; k < 6; k++) props[`field_${depth}_${k}`] = schema(depth - 1, i * 7 + k);
  return { type: 'object', description: `Object at depth ${depth}`, properties: props, required: ['field_0'] };
}

/** A document whose text in `fmt` is about `mb` MB (path items added until the size is reached). */
function generate(mb: number, size: (v: unknown) => number): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const doc = {
    openapi: '3.0.3',
    info: { title: 'bench', version: '1.0.0' },
    servers: [{ url: 'https://api.example.com/v1' }],
    components: {
      parameters: { Limit: { name: 'limit', in: 'query', schema: { type: 'integer' } } },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths,
  };
  let bytes = 0;
  for (let i = 0; bytes < mb * 1e6; i++) {
    const ok = { description: 'OK', content: { 'application/json': { schema: schema(2, i) } } };
    const item = {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: `get${i}`,
        parameters: [{ $ref: '#/components/parameters/Limit' }],
        responses: { '200': ok },
      },
      post: { operationId: `post${i}`, requestBody: ok, responses: { '201': ok } },
    };
    paths[`/resources${i % 97}/{id}/sub${i}`] = item;
    bytes += size({ [`/resources${i % 97}/{id}/sub${i}`]: item });
  }
  return doc;
}

function time(label: string, text: string): void {
  const ms: number[] = [];
  let ops = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    ops = parseSpec(text, label).operations.length;
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)] ?? 0;
  const out = { doc: label, bytes: Buffer.byteLength(text), operations: ops, medianMs: Math.round(median), firstMs: 0 };
  out.firstMs = Math.round(ms[0] ?? 0);
  process.stdout.write(JSON.stringify(out) + '\n');
}

const yaml = (v: unknown): string => dump(v, { noRefs: true, lineWidth: -1 });
time('generated.json', JSON.stringify(generate(targetMB, (v) => JSON.stringify(v).length)));
time('generated.yaml', yaml(generate(targetMB, (v) => yaml(v).length)));
time(
  'servicefabric (corpus, YAML)',
  readFileSync(corpus('specs/apis-guru/azure.com/servicefabric/6.4.0.36/swagger.yaml'), 'utf8'),
);
