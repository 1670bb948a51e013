// Ground truth of a behaviour-harness run, written by the client (it knows what each actor meant to do
// and when it did it). One entry per actor: its address, the principal it presented (kind and the raw
// test credential's identity, which only exists in this synthetic lab), and the abuses it committed:
// kind, endpoint template, packet-time window (the client's clock, which is the capture's clock: both
// run on one host), requests. `acceptable` lists other kinds that are true of the same traffic (a
// bulk download of records one by one is also an enumeration): a finding of such a kind on that
// endpoint is neither a false positive nor needed for recall.
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { BEHAVIOUR_KINDS } from './world.js';

const Kind = z.enum(BEHAVIOUR_KINDS);

export const Abuse = z.object({
  kind: Kind,
  method: z.string(),
  template: z.string(),
  /** Epoch microseconds of the first request sent and the last response received. */
  firstUs: z.number(),
  lastUs: z.number(),
  requests: z.number().int(),
  /** What was planted, in words (for the results table). */
  detail: z.string(),
  acceptable: z.array(z.object({ kind: Kind, method: z.string(), template: z.string() })),
  /** excessive_usage: requests a second of wall time the hammer achieved (the machine may be slower
   * than the pace asked for); in packet time it is this divided by the world's timeScale. */
  achievedPerSecond: z.number().optional(),
  /** bola_suspect: apitap's principal kind of each object's owner, one entry per object read. */
  ownerKinds: z.array(z.string()).optional(),
});
export type Abuse = z.infer<typeof Abuse>;

export const TruthActor = z.object({
  name: z.string(),
  role: z.enum(['normal', 'near_miss', 'abuser']),
  ip: z.string(),
  /** apitap's principalKind for the credential it presented, or null when it presented none of its own. */
  principalKind: z.string().nullable(),
  /** The credential's identity (JWT sub, API key, Basic user, session id): synthetic test values. */
  principal: z.string().nullable(),
  /** Requests that carried its own credentials (what apitap counts for its principal). */
  requests: z.number().int(),
  /** Requests without them: logins before a token or session exists, a sprayer's attempts. */
  anonymous: z.number().int(),
  abuses: z.array(Abuse),
});
export type TruthActor = z.infer<typeof TruthActor>;

export const ActorsTruth = z.object({
  schema: z.literal('actors-truth/v1'),
  seed: z.number(),
  host: z.string(),
  prefix: z.string(),
  thresholds: z.record(z.string(), z.number()),
  startUs: z.number(),
  endUs: z.number(),
  requests: z.number().int(),
  failures: z.number().int(),
  actors: z.array(TruthActor),
});
export type ActorsTruth = z.infer<typeof ActorsTruth>;

export function readActorsTruth(file: string): ActorsTruth {
  return ActorsTruth.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function writeActorsTruth(file: string, t: ActorsTruth): void {
  writeFileSync(file, JSON.stringify(ActorsTruth.parse(t), null, 2) + '\n');
}
