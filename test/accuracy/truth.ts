// Ground truth written by the harness server and client, merged by the scorer.
// One file per writer; every set is keyed by (host, method, template shape), so writers never disagree
// on spelling. The file is a boundary (another process wrote it), hence the zod schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { shape } from './spec.js';

export const PII_KINDS = ['email', 'phone', 'person_name', 'payment_card', 'iban', 'bsn', 'password'] as const;
export const NEGATIVE_CLASSES = [
  'luhn_order_number',
  'nine_digit_non_bsn',
  'uuid',
  'hash',
  'timestamp',
  'private_ip',
  'twilio_sid',
] as const;

const Route = z.object({ host: z.string(), method: z.string(), template: z.string() });
const FieldRef = Route.extend({ location: z.string(), field: z.string() });

export const TruthSchema = z.object({
  schema: z.literal('accuracy-truth/v1'),
  writer: z.enum(['server', 'client', 'merged']),
  seed: z.number(),
  apis: z.array(
    z.object({ host: z.string(), prefix: z.string(), specs: z.array(z.string()), previous: z.array(z.string()) }),
  ),
  requests: z.number(),
  /** every (host, method, template) that carried traffic: documented, shadow and removed-but-served */
  called: z.array(Route.extend({ calls: z.number(), origin: z.enum(['documented', 'shadow', 'previous']) })),
  shadow: z.array(Route),
  zombie: z.array(Route.extend({ reason: z.enum(['deprecated', 'removed', 'deprecation_header']) })),
  orphan: z.array(Route),
  pii: z.array(FieldRef.extend({ kind: z.enum(PII_KINDS) })),
  hardNegatives: z.array(FieldRef.extend({ class: z.enum(NEGATIVE_CLASSES) })),
});
export type Truth = z.infer<typeof TruthSchema>;
export type PiiKind = (typeof PII_KINDS)[number];
export type NegativeClass = (typeof NEGATIVE_CLASSES)[number];
export type RouteRef = z.infer<typeof Route>;

export function emptyTruth(writer: Truth['writer'], seed: number): Truth {
  return {
    schema: 'accuracy-truth/v1',
    writer,
    seed,
    apis: [],
    requests: 0,
    called: [],
    shadow: [],
    zombie: [],
    orphan: [],
    pii: [],
    hardNegatives: [],
  };
}

export const routeKey = (r: RouteRef): string =>
  `${r.host.toLowerCase()} ${r.method.toUpperCase()} ${shape(r.template)}`;

/** Collects truth while traffic is generated; de-duplicates by key. */
export class Recorder {
  readonly truth: Truth;
  private readonly seen = new Set<string>();
  private readonly calls = new Map<string, Truth['called'][number]>();
  constructor(writer: Truth['writer'], seed: number) {
    this.truth = emptyTruth(writer, seed);
  }
  private once(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
  call(r: RouteRef, origin: Truth['called'][number]['origin']): void {
    this.truth.requests++;
    const k = routeKey(r);
    const c = this.calls.get(k);
    if (c !== undefined) {
      c.calls++;
      return;
    }
    const row = { host: r.host, method: r.method, template: r.template, calls: 1, origin };
    this.calls.set(k, row);
    this.truth.called.push(row);
  }
  shadow(r: RouteRef): void {
    if (this.once(`shadow ${routeKey(r)}`))
      this.truth.shadow.push({ host: r.host, method: r.method, template: r.template });
  }
  zombie(r: RouteRef, reason: Truth['zombie'][number]['reason']): void {
    if (this.once(`zombie ${routeKey(r)}`))
      this.truth.zombie.push({ host: r.host, method: r.method, template: r.template, reason });
  }
  orphan(r: RouteRef): void {
    if (this.once(`orphan ${routeKey(r)}`))
      this.truth.orphan.push({ host: r.host, method: r.method, template: r.template });
  }
  pii(r: RouteRef, location: string, field: string, kind: PiiKind): void {
    if (this.once(`pii ${routeKey(r)} ${location} ${field} ${kind}`))
      this.truth.pii.push({ host: r.host, method: r.method, template: r.template, location, field, kind });
  }
  negative(r: RouteRef, location: string, field: string, cls: NegativeClass): void {
    if (this.once(`neg ${routeKey(r)} ${location} ${field}`))
      this.truth.hardNegatives.push({
        host: r.host,
        method: r.method,
        template: r.template,
        location,
        field,
        class: cls,
      });
  }
  write(file: string): void {
    writeFileSync(file, JSON.stringify(this.truth, null, 1) + '\n');
  }
}

export function readTruth(file: string): Truth {
  return TruthSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Unions truths written by the server and the client. The two `called` sets must agree: both sides
 * record the route they meant (client) and the route they matched (server); a difference means the
 * harness itself is wrong, which the caller reports before trusting any score.
 */
export function mergeTruths(ts: Truth[]): { truth: Truth; disagreements: string[] } {
  const first = ts[0];
  if (first === undefined) throw new Error('no truth files');
  const rec = new Recorder('merged', first.seed);
  const apis = new Map<string, Truth['apis'][number]>();
  const calledBy: Map<string, number>[] = [];
  for (const t of ts) {
    for (const a of t.apis) apis.set(a.host.toLowerCase(), a);
    const mine = new Map<string, number>();
    for (const c of t.called) mine.set(routeKey(c), c.calls);
    if (t.called.length > 0) calledBy.push(mine);
    for (const s of t.shadow) rec.shadow(s);
    for (const z of t.zombie) rec.zombie(z, z.reason);
    for (const o of t.orphan) rec.orphan(o);
    for (const p of t.pii) rec.pii(p, p.location, p.field, p.kind);
    for (const n of t.hardNegatives) rec.negative(n, n.location, n.field, n.class);
  }
  // `called` comes from the first writer that has one (the client by convention), requests likewise.
  const withCalls = ts.find((t) => t.called.length > 0);
  if (withCalls !== undefined) {
    rec.truth.called.push(...withCalls.called);
    rec.truth.requests = withCalls.requests;
  }
  rec.truth.apis.push(...apis.values());
  const disagreements: string[] = [];
  const [a, b] = calledBy;
  if (a !== undefined && b !== undefined) {
    for (const [k, n] of a) if (b.get(k) !== n) disagreements.push(`${k}: ${n} vs ${String(b.get(k) ?? 0)} calls`);
    for (const k of b.keys()) if (!a.has(k)) disagreements.push(`${k}: only in the second truth file`);
  }
  return { truth: rec.truth, disagreements };
}
