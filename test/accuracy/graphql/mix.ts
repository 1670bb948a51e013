// Shadow and zombie detection for GraphQL, measured on a generated mix (README, "GraphQL").
//
// A model schema lists every type, field and argument the server serves, with two marks: `hidden`
// (served, missing from the published SDL) and `deprecated` (published with @deprecated). From it come
// the published SDL given to apitap and random operations whose truth is known by construction: the
// hidden and deprecated schema coordinates each one uses. Operations vary in everything that should not
// matter (named or anonymous, variables or inline literals, aliases, named and inline fragments, POST,
// GET, batches, persisted queries with their document) and are fed to the analysis as exchanges; the
// scorer compares apitap's shadow_api / zombie_api findings with the truth, per operation and per
// coordinate.
//
// Known blind spot, measured rather than hidden: below a field the published schema lacks, apitap
// cannot know the type of the sub-selection, so hidden or deprecated coordinates nested under a hidden
// field are not reported (the operation is, through its top-most unknown field).
//
//   node --import tsx test/accuracy/graphql/mix.ts [--seed N] [--ops N]   prints the markdown table
import { createHash } from 'node:crypto';
import { createAnalysis } from '../../../analyzers/analysis.js';
import type { Exchange } from '../../../engine/contracts/exchange.js';
import { EXCHANGE_SCHEMA } from '../../../engine/contracts/exchange.js';

interface FieldModel {
  name: string;
  type: string;
  list?: boolean;
  args?: { name: string; type: string; hidden?: boolean; deprecated?: boolean }[];
  hidden?: boolean;
  deprecated?: boolean;
}

const SCALARS = new Set(['ID', 'String', 'Int', 'Boolean', 'Float']);

export const MODEL: Record<string, FieldModel[]> = {
  Query: [
    {
      name: 'user',
      type: 'User',
      args: [
        { name: 'id', type: 'ID!' },
        { name: 'includeDeleted', type: 'Boolean', hidden: true },
      ],
    },
    {
      name: 'users',
      type: 'User',
      list: true,
      args: [
        { name: 'first', type: 'Int' },
        { name: 'offset', type: 'Int', deprecated: true },
      ],
    },
    { name: 'order', type: 'Order', args: [{ name: 'id', type: 'ID!' }] },
    { name: 'products', type: 'Product', list: true, args: [{ name: 'category', type: 'String' }] },
    { name: 'search', type: 'String', list: true, args: [{ name: 'q', type: 'String' }] },
    { name: 'adminStats', type: 'Stats', hidden: true },
    { name: 'internalUsers', type: 'User', list: true, hidden: true },
    { name: 'legacyCatalog', type: 'Product', list: true, deprecated: true },
    { name: 'ping', type: 'String' },
  ],
  Mutation: [
    {
      name: 'updateEmail',
      type: 'User',
      args: [
        { name: 'id', type: 'ID!' },
        { name: 'email', type: 'String!' },
      ],
    },
    {
      name: 'placeOrder',
      type: 'Order',
      args: [
        { name: 'sku', type: 'String!' },
        { name: 'qty', type: 'Int' },
      ],
    },
    { name: 'deleteUser', type: 'Boolean', args: [{ name: 'id', type: 'ID!' }], hidden: true },
    { name: 'resetPassword', type: 'Boolean', args: [{ name: 'email', type: 'String!' }], deprecated: true },
  ],
  User: [
    { name: 'id', type: 'ID' },
    { name: 'email', type: 'String' },
    { name: 'name', type: 'String' },
    { name: 'orders', type: 'Order', list: true },
    { name: 'ssn', type: 'String', hidden: true },
    { name: 'passwordHash', type: 'String', hidden: true },
    { name: 'username', type: 'String', deprecated: true },
  ],
  Order: [
    { name: 'id', type: 'ID' },
    { name: 'total', type: 'Float' },
    { name: 'items', type: 'Product', list: true },
    { name: 'buyer', type: 'User' },
    { name: 'internalNotes', type: 'String', hidden: true },
    { name: 'legacyStatus', type: 'String', deprecated: true },
  ],
  Product: [
    { name: 'sku', type: 'String' },
    { name: 'title', type: 'String' },
    { name: 'price', type: 'Float' },
    { name: 'costPrice', type: 'Float', hidden: true },
    { name: 'oldPrice', type: 'Float', deprecated: true },
  ],
  Stats: [
    { name: 'users', type: 'Int' },
    { name: 'revenue', type: 'Float' },
  ],
};

/** The SDL the API publishes: hidden parts left out, deprecated ones marked. */
export function publishedSdl(): string {
  const out: string[] = [];
  for (const [t, fields] of Object.entries(MODEL)) {
    const shown = fields.filter((f) => f.hidden !== true);
    if (shown.length === 0) continue;
    out.push(`type ${t} {`);
    for (const f of shown) {
      const args = (f.args ?? []).filter((a) => a.hidden !== true);
      const a = args.map((x) => `${x.name}: ${x.type}${x.deprecated === true ? ' @deprecated' : ''}`).join(', ');
      out.push(
        `  ${f.name}${a !== '' ? `(${a})` : ''}: ${f.list === true ? `[${f.type}]` : f.type}${f.deprecated === true ? ' @deprecated(reason: "old")' : ''}`,
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedOp {
  name: string | null;
  type: 'query' | 'mutation';
  document: string;
  variables: Record<string, unknown>;
  /** Hidden / deprecated coordinates used, and those of them below a hidden field. */
  hidden: Set<string>;
  deprecated: Set<string>;
  nestedUnderHidden: Set<string>;
}

/** A published, current scalar field of a type (the leaf of a deep selection). */
function plainScalar(t: string): string {
  return (
    (MODEL[t] as FieldModel[]).find((x) => SCALARS.has(x.type) && x.hidden !== true && x.deprecated !== true)?.name ??
    'id'
  );
}

function literal(type: string, r: () => number): string {
  const base = type.replace(/!$/, '');
  if (base === 'Int') return String(Math.floor(r() * 50));
  if (base === 'Boolean') return r() < 0.5 ? 'true' : 'false';
  return JSON.stringify(`v${Math.floor(r() * 1000)}@example.org`);
}

export function generateOp(r: () => number, index: number): GeneratedOp {
  const type = r() < 0.8 ? 'query' : 'mutation';
  // Half of the operations keep to the published, current schema: the negatives of the mix.
  const clean = r() < 0.5;
  const allowed = (x: { hidden?: boolean; deprecated?: boolean }): boolean =>
    !clean || (x.hidden !== true && x.deprecated !== true);
  const root = type === 'query' ? 'Query' : 'Mutation';
  const hidden = new Set<string>();
  const deprecated = new Set<string>();
  const nestedUnderHidden = new Set<string>();
  const varDefs: string[] = [];
  const variables: Record<string, unknown> = {};
  const fragments: string[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const mark = (coord: string, h: boolean, d: boolean, under: boolean): void => {
    if (h) hidden.add(coord);
    if (d) deprecated.add(coord);
    if (under && (h || d)) nestedUnderHidden.add(coord);
  };
  const selection = (t: string, depth: number, under: boolean): string => {
    const fields = (MODEL[t] as FieldModel[]).filter(allowed);
    const n = 1 + Math.floor(r() * Math.min(4, fields.length));
    const chosen = new Set<FieldModel>();
    while (chosen.size < n) chosen.add(pick(fields));
    const parts: string[] = [];
    for (const f of chosen) {
      const coord = `${t}.${f.name}`;
      mark(coord, f.hidden === true, f.deprecated === true, under);
      const args: string[] = [];
      for (const a of f.args ?? []) {
        const required = a.type.endsWith('!');
        if (!required && (r() < 0.6 || !allowed(a))) continue;
        mark(`${coord}(${a.name}:)`, a.hidden === true, a.deprecated === true, under || f.hidden === true);
        if (r() < 0.5) {
          const v = `v${varDefs.length}`;
          varDefs.push(`$${v}: ${a.type}`);
          variables[v] = a.type.startsWith('Int') ? 3 : a.type.startsWith('Boolean') ? true : `x${index}@example.org`;
          args.push(`${a.name}: $${v}`);
        } else args.push(`${a.name}: ${literal(a.type, r)}`);
      }
      const alias = r() < 0.15 ? `a${parts.length}: ` : '';
      let sub = '';
      if (!SCALARS.has(f.type)) {
        const body = depth >= 2 ? plainScalar(f.type) : selection(f.type, depth + 1, under || f.hidden === true);
        const roll = r();
        if (roll < 0.15) {
          const fname = `F${fragments.length}`;
          fragments.push(`fragment ${fname} on ${f.type} { ${body} }`);
          sub = ` { ...${fname} }`;
        } else if (roll < 0.25) sub = ` { ... on ${f.type} { ${body} } }`;
        else sub = ` { ${body} }`;
      }
      parts.push(`${alias}${f.name}${args.length > 0 ? `(${args.join(', ')})` : ''}${sub}`);
    }
    return parts.join(' ');
  };
  const sel = selection(root, 0, false);
  const named = r() < 0.7;
  const name = named ? `Op${index}` : null;
  const head =
    named || varDefs.length > 0
      ? `${type} ${name ?? ''}${varDefs.length > 0 ? `(${varDefs.join(', ')})` : ''} `
      : type === 'mutation'
        ? 'mutation '
        : '';
  const document = [`${head}{ ${sel} }`, ...fragments].join('\n');
  return { name, type, document, variables, hidden, deprecated, nestedUnderHidden };
}

let seq = 0;
function exchange(method: string, target: string, reqBody: string, resBody: string): Exchange {
  const n = seq++;
  const t = 1_700_000_000_000_000 + n * 1000;
  const body = (data: string) => ({
    size: data.length,
    decodedSize: null,
    contentType: data === '' ? null : 'application/json',
    contentEncoding: [],
    encoding: 'utf8' as const,
    data,
    truncated: false,
    complete: true,
  });
  return {
    schema: EXCHANGE_SCHEMA,
    id: `gql-${n}`,
    flowId: `f-${n}`,
    seq: 0,
    vni: null,
    tunnel: null,
    client: { ip: '10.1.0.1', port: 40000 },
    server: { ip: '10.1.0.2', port: 80 },
    request: {
      method,
      target,
      version: 'HTTP/1.1',
      headers: [['Host', 'shop.example']],
      trailers: [],
      body: body(reqBody),
      startUs: t,
      endUs: t + 5,
    },
    response: {
      status: 200,
      reason: 'OK',
      version: 'HTTP/1.1',
      headers: [],
      trailers: [],
      body: body(resBody),
      interim: [],
      startUs: t + 900,
      endUs: t + 950,
    },
    latencyUs: 895,
    anomalies: [],
    quality: { gapBytes: 0, truncated: false, oneSided: false, midstream: false },
    complete: true,
  };
}

export interface MixScore {
  ops: number;
  rows: { what: string; truth: number; tp: number; fp: number; fn: number; precision: number; recall: number }[];
}

export function runMix(seed: number, nOps: number): MixScore {
  const r = rng(seed);
  const ops: GeneratedOp[] = [];
  for (let i = 0; i < nOps; i++) ops.push(generateOp(r, i));
  const analysis = createAnalysis({
    specs: [],
    previousSpecs: [],
    overrides: null,
    pii: null,
    graphqlSchemas: [{ name: 'published.graphql', sdl: publishedSdl() }],
  });
  const res = JSON.stringify({ data: {} });
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as GeneratedOp;
    const el = { query: op.document, operationName: op.name, variables: op.variables };
    const form = r();
    const calls = 1 + Math.floor(r() * 3);
    for (let c = 0; c < calls; c++) {
      if (form < 0.15 && op.type === 'query') {
        const q = new URLSearchParams({ query: op.document, variables: JSON.stringify(op.variables) });
        if (op.name !== null) q.set('operationName', op.name);
        analysis.observe(exchange('GET', `/graphql?${q.toString()}`, '', res));
      } else if (form < 0.3) {
        const hash = createHash('sha256').update(op.document).digest('hex');
        analysis.observe(
          exchange(
            'POST',
            '/graphql',
            JSON.stringify({ ...el, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }),
            res,
          ),
        );
      } else if (form < 0.45) {
        analysis.observe(
          exchange(
            'POST',
            '/graphql',
            JSON.stringify([el, { query: '{ ping }' }]),
            JSON.stringify([{ data: {} }, { data: { ping: 'pong' } }]),
          ),
        );
      } else analysis.observe(exchange('POST', '/graphql', JSON.stringify(el), res));
    }
  }
  // Operation endpoint of each generated operation: by name, anonymous ones by their document.
  const endpoints = analysis.endpoints();
  const findings = analysis.findings();
  const byOperation = new Map<
    string,
    { shadow: Set<string>; zombie: Set<string>; flaggedShadow: boolean; flaggedZombie: boolean }
  >();
  for (const e of endpoints) {
    if (e.operation === undefined) continue;
    const f = findings.filter((x) => x.host === e.host && x.method === e.method && x.path === e.path);
    const sh = f.find((x) => x.kind === 'shadow_api');
    const zo = f.find((x) => x.kind === 'zombie_api');
    const prev = byOperation.get(e.operation) ?? {
      shadow: new Set(),
      zombie: new Set(),
      flaggedShadow: false,
      flaggedZombie: false,
    };
    for (const c of (sh?.details['unknown'] as string[] | undefined) ?? []) prev.shadow.add(c);
    for (const c of (zo?.details['deprecated'] as string[] | undefined) ?? []) prev.zombie.add(c);
    prev.flaggedShadow ||= sh !== undefined;
    prev.flaggedZombie ||= zo !== undefined;
    byOperation.set(e.operation, prev);
  }
  const anonKey = (op: GeneratedOp): string | undefined => {
    // An anonymous operation's endpoint is found through an analysis of it alone (its name is a hash).
    const a = createAnalysis({ specs: [], previousSpecs: [], overrides: null, pii: null });
    a.observe(exchange('POST', '/graphql', JSON.stringify({ query: op.document }), res));
    return a.endpoints()[0]?.operation;
  };
  const count = { opS: [0, 0, 0], opZ: [0, 0, 0], coS: [0, 0, 0], coZ: [0, 0, 0], coS2: [0, 0, 0], coZ2: [0, 0, 0] };
  const tally = (c: number[], truth: boolean, pred: boolean): void => {
    if (truth && pred) c[0]!++;
    else if (pred) c[1]!++;
    else if (truth) c[2]!++;
  };
  const seen = new Set<string>();
  for (const op of ops) {
    const key = op.name !== null ? `${op.type} ${op.name}` : anonKey(op);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    const got = byOperation.get(key) ?? {
      shadow: new Set<string>(),
      zombie: new Set<string>(),
      flaggedShadow: false,
      flaggedZombie: false,
    };
    tally(count.opS, op.hidden.size > 0, got.flaggedShadow);
    tally(count.opZ, op.deprecated.size > 0, got.flaggedZombie);
    for (const [truth, pred, all, reach] of [
      [op.hidden, got.shadow, count.coS, count.coS2],
      [op.deprecated, got.zombie, count.coZ, count.coZ2],
    ] as const) {
      for (const c of new Set([...truth, ...pred])) {
        tally(all, truth.has(c), pred.has(c));
        if (!op.nestedUnderHidden.has(c)) tally(reach, truth.has(c), pred.has(c));
      }
    }
  }
  const row = (what: string, c: number[]) => {
    const [tp, fp, fn] = c as [number, number, number];
    const p = tp + fp === 0 ? 1 : tp / (tp + fp);
    const rc = tp + fn === 0 ? 1 : tp / (tp + fn);
    return {
      what,
      truth: tp + fn,
      tp,
      fp,
      fn,
      precision: Math.round(p * 1000) / 1000,
      recall: Math.round(rc * 1000) / 1000,
    };
  };
  return {
    ops: seen.size,
    rows: [
      row('shadow operations (uses a field/argument the SDL lacks)', count.opS),
      row('zombie operations (uses an @deprecated field/argument)', count.opZ),
      row('shadow coordinates, all', count.coS),
      row('shadow coordinates, not below a hidden field', count.coS2),
      row('zombie coordinates, all', count.coZ),
      row('zombie coordinates, not below a hidden field', count.coZ2),
    ],
  };
}

export function toMarkdown(s: MixScore, seed: number): string {
  const lines = [
    `Generated mix: seed ${seed}, ${s.ops} distinct operations (\`node --import tsx test/accuracy/graphql/mix.ts --seed ${seed}\`).`,
    '',
    '| what | truth | TP | FP | FN | precision | recall |',
    '|---|---|---|---|---|---|---|',
    ...s.rows.map(
      (x) =>
        `| ${x.what} | ${x.truth} | ${x.tp} | ${x.fp} | ${x.fn} | ${x.precision.toFixed(3)} | ${x.recall.toFixed(3)} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}

if (process.argv[1]?.endsWith('mix.ts')) {
  const arg = (n: string, d: number): number => {
    const i = process.argv.indexOf(n);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  const seed = arg('--seed', 7);
  process.stdout.write(toMarkdown(runMix(seed, arg('--ops', 400)), seed));
}
