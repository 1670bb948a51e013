// The conformance harness's scenario: one API (shop.yaml), two hosts. `shop-conformant.test` is answered
// as the spec says and called as the spec says; `shop-deviant.test` is the same server with the planted
// deviations below switched on, called by a client that plants request deviations of its own. Bodies
// come from test/accuracy/gen.ts (conformant mode: readOnly/writeOnly honoured), which knows nothing
// of apitap's conformance code; the deviations are applied after generation, so the truth is exactly
// what went on the wire (each side records a deviation when it applies it).
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';
import type { GenCtx } from '../gen.js';
import { generate } from '../gen.js';
import type { Json, JsonObject, Operation, SpecDoc } from '../spec.js';
import { loadSpec } from '../spec.js';
import { Recorder } from '../truth.js';
import * as v from '../values.js';
import type { Rng } from '../values.js';

export const SPEC_FILE = join(repoRoot, 'test', 'accuracy', 'conformance', 'shop.yaml');
export const CONFORMANT_HOST = 'shop-conformant.test';
export const DEVIANT_HOST = 'shop-deviant.test';
export const PREFIX = '/api';

export const KINDS = [
  'undocumented_parameter',
  'undocumented_field',
  'undocumented_status',
  'schema_mismatch',
] as const;
export type Kind = (typeof KINDS)[number];

/** One expected finding: the key apitap's finding must carry (details.location, details.name). */
export interface Planted {
  kind: Kind;
  op: string;
  location: 'request.query' | 'request.header' | 'request.body' | 'response.body' | 'response.status';
  name: string;
  /** Response fields planted with personal data: the finding must be severity high. */
  pii?: boolean;
}

interface Deviation extends Planted {
  /** Applied on call i when i % every === phase (every 1: always) and i >= from. */
  every: number;
  from?: number;
  /** Response deviations: change the generated body (or the status). Request ones: the client's request. */
  apply(d: Draft, r: Rng): void;
}

/** A message being built: status, body, extra query and headers. */
export interface Draft {
  status: number;
  body: Json | undefined;
  query: [string, string][];
  headers: [string, string][];
}

const obj = (b: Json | undefined): JsonObject => b as JsonObject;

/** Deviations of the deviant server (response side). */
export const SERVER_DEVIATIONS: readonly Deviation[] = [
  // Excessive data exposure, with and without personal data.
  {
    kind: 'undocumented_field',
    op: 'getUser',
    location: 'response.body',
    name: '/contactEmail',
    pii: true,
    every: 2,
    apply: (d, r) => (obj(d.body)['contactEmail'] = v.email(r)),
  },
  {
    kind: 'undocumented_field',
    op: 'getUser',
    location: 'response.body',
    name: '/internalNotes',
    every: 3,
    apply: (d, r) => (obj(d.body)['internalNotes'] = v.neutralWord(r)),
  },
  {
    kind: 'undocumented_field',
    op: 'listUsers',
    location: 'response.body',
    name: '/items/*/iban',
    pii: true,
    every: 2,
    apply: (d, r) => {
      for (const u of obj(d.body)['items'] as JsonObject[]) u['iban'] = v.iban(r);
    },
  },
  {
    kind: 'undocumented_field',
    op: 'listUsers',
    location: 'response.body',
    name: '/items/*/riskScore',
    every: 3,
    apply: (d, r) => {
      for (const u of obj(d.body)['items'] as JsonObject[]) u['riskScore'] = r.int(0, 100);
    },
  },
  {
    kind: 'undocumented_field',
    op: 'getOrder',
    location: 'response.body',
    name: '/payment/cardNumber',
    pii: true,
    every: 2,
    apply: (d, r) => (obj(obj(d.body)['payment'])['cardNumber'] = v.card(r)),
  },
  // Wrong types, missing required, bad enum and format, writeOnly returned.
  {
    kind: 'schema_mismatch',
    op: 'getUser',
    location: 'response.body',
    name: '/id',
    every: 4,
    apply: (d) => (obj(d.body)['id'] = String(obj(d.body)['id'])),
  },
  {
    kind: 'schema_mismatch',
    op: 'getUser',
    location: 'response.body',
    name: '/password',
    every: 5,
    apply: (d, r) => (obj(d.body)['password'] = v.password(r)),
  },
  {
    kind: 'schema_mismatch',
    op: 'getOrder',
    location: 'response.body',
    name: '/total',
    every: 3,
    apply: (d) => delete obj(d.body)['total'],
  },
  {
    kind: 'schema_mismatch',
    op: 'getOrder',
    location: 'response.body',
    name: '/status',
    every: 4,
    apply: (d) => (obj(d.body)['status'] = 'lost'),
  },
  {
    kind: 'schema_mismatch',
    op: 'getProduct',
    location: 'response.body',
    name: '/sku',
    every: 3,
    apply: (d, r) => (obj(d.body)['sku'] = `SKU-${r.int(1000, 9999)}`),
  },
  {
    kind: 'schema_mismatch',
    op: 'listProducts',
    location: 'response.body',
    name: '/*/price/amount',
    every: 3,
    apply: (d) => {
      for (const p of d.body as JsonObject[]) obj(p['price'])['amount'] = String(obj(p['price'])['amount']);
    },
  },
  {
    kind: 'schema_mismatch',
    op: 'listUsers',
    location: 'response.body',
    name: '/next',
    every: 4,
    apply: (d) => (obj(d.body)['next'] = 42),
  },
  // A deviation that starts late, once the operation is settled: found by the sampled validation.
  {
    kind: 'schema_mismatch',
    op: 'getProduct',
    location: 'response.body',
    name: '/price/currency',
    every: 2,
    from: 160,
    apply: (d) => (obj(obj(d.body)['price'])['currency'] = 'JPY'),
  },
  // Undeclared statuses (getUser declares 200/404; placeOrder 201/422; listProducts only 200).
  {
    kind: 'undocumented_status',
    op: 'getUser',
    location: 'response.status',
    name: '500',
    every: 9,
    apply: (d, r) => errorOf(d, 500, r),
  },
  {
    kind: 'undocumented_status',
    op: 'placeOrder',
    location: 'response.status',
    name: '200',
    every: 4,
    apply: (d) => (d.status = 200),
  },
  {
    kind: 'undocumented_status',
    op: 'listProducts',
    location: 'response.status',
    name: '503',
    every: 7,
    apply: (d, r) => errorOf(d, 503, r),
  },
];

/** Deviations of the deviant client (request side). */
export const CLIENT_DEVIATIONS: readonly Deviation[] = [
  {
    kind: 'undocumented_parameter',
    op: 'listUsers',
    location: 'request.query',
    name: 'debug',
    every: 3,
    apply: (d) => d.query.push(['debug', 'true']),
  },
  {
    kind: 'undocumented_parameter',
    op: 'listProducts',
    location: 'request.query',
    name: 'sort',
    every: 2,
    apply: (d) => d.query.push(['sort', 'price']),
  },
  {
    kind: 'undocumented_parameter',
    op: 'getUser',
    location: 'request.header',
    name: 'x-debug-user',
    every: 4,
    apply: (d) => d.headers.push(['X-Debug-User', '1']),
  },
  {
    kind: 'undocumented_parameter',
    op: 'placeOrder',
    location: 'request.body',
    name: '/discountCode',
    every: 3,
    apply: (d, r) => (obj(d.body)['discountCode'] = v.neutralWord(r)),
  },
  {
    kind: 'undocumented_parameter',
    op: 'updateUser',
    location: 'request.body',
    name: '/role',
    every: 2,
    apply: (d) => (obj(d.body)['role'] = 'admin'),
  },
  {
    kind: 'schema_mismatch',
    op: 'createUser',
    location: 'request.body',
    name: '/id',
    every: 3,
    apply: (d, r) => (obj(d.body)['id'] = r.int(1, 999)),
  },
  {
    kind: 'schema_mismatch',
    op: 'placeOrder',
    location: 'request.body',
    name: '/lines/*/quantity',
    every: 5,
    apply: (d) => {
      for (const l of obj(d.body)['lines'] as JsonObject[]) l['quantity'] = 0;
    },
  },
];

function errorOf(d: Draft, status: number, r: Rng): void {
  d.status = status;
  d.body = { code: `E${status}`, message: v.neutralWord(r) };
}

/** Calls per operation (getProduct runs long enough to settle before its late deviation starts). */
export const CALLS: Readonly<Record<string, number>> = {
  listUsers: 40,
  createUser: 30,
  getUser: 60,
  updateUser: 30,
  listProducts: 40,
  getProduct: 240,
  placeOrder: 40,
  getOrder: 50,
  health: 5,
};

/** Calls of an operation at a scale (at least 1). */
export const callsOf = (op: string, scale: number): number => Math.max(1, Math.round((CALLS[op] ?? 10) * scale));

/** Whether deviation `d` applies to call `i` of `op`; a late start scales with the number of calls. */
export function applies(d: Deviation, op: string, i: number, scale: number): boolean {
  return d.op === op && i >= Math.round((d.from ?? 0) * scale) && i % d.every === (d.every === 1 ? 0 : 1);
}

export interface Scenario {
  doc: SpecDoc;
  ops: Map<string, Operation>;
}

export function loadScenario(): Scenario {
  const doc = loadSpec(SPEC_FILE, CONFORMANT_HOST);
  const ops = new Map<string, Operation>();
  const root = doc.root;
  const paths = root['paths'] as JsonObject;
  for (const op of doc.ops) {
    const item = paths[op.path] as JsonObject;
    const id = (item[op.method.toLowerCase()] as JsonObject)['operationId'];
    ops.set(String(id), op);
  }
  return { doc, ops };
}

/** A conformant body for a schema (gen.ts, conformant mode). */
export function body(
  s: Scenario,
  schema: JsonObject | undefined,
  location: string,
  host: string,
  op: Operation,
  r: Rng,
): Json | undefined {
  if (schema === undefined) return undefined;
  const ctx: GenCtx = {
    rng: r,
    root: s.doc.root,
    rec: new Recorder('server', 0),
    route: { host, method: op.method, template: op.path },
    location,
    conformant: true,
  };
  return generate(schema, ctx);
}

/** Response schema of an operation for a status (exact, else none). */
export function responseSchema(s: Scenario, op: Operation, status: number): JsonObject | undefined {
  const paths = s.doc.root['paths'] as JsonObject;
  const o = (paths[op.path] as JsonObject)[op.method.toLowerCase()] as JsonObject;
  const responses = o['responses'] as JsonObject;
  const r = responses[String(status)] as JsonObject | undefined;
  const content = r?.['content'] as JsonObject | undefined;
  const media = content?.['application/json'] as JsonObject | undefined;
  return media?.['schema'] as JsonObject | undefined;
}
