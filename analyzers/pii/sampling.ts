// Which values the scanner fully scans: cost that follows novelty, not volume.
//
// A field is (endpoint key, location, normalised field), e.g. ("h GET /users/{}", response.body,
// $.items[*].email). Each occurrence of a value there is either fully scanned (every detector, the
// prefixed-secret rules included) or sampled out (no detector runs; the occurrence is counted). The
// decision is a pure function of what the field has shown before, in the
// order the endpoint's exchanges arrived (per host that is capture order; no clock, no randomness).
//
// Guarantee (pinned by analyzers/pii/sampling.test.ts):
// 1. Fully scanned, always: the first `saturation` occurrences of every field; every occurrence of a
//    field never seen before (a new endpoint, a new field path) or of a value shape the field has not
//    shown (shapeCode: character classes + length; up to MAX_SHAPES shapes per field); every occurrence
//    after a full scan that found a kind the field had never produced (a new PII kind in the field),
//    until `saturation` consecutive scans find nothing new again; headers Authorization /
//    Proxy-Authorization, Cookie / Set-Cookie (credential locations), free-text bodies, and every call
//    without an endpoint key.
// 2. Otherwise (a settled field, a known shape) the gap between two full scans is drawn in [1, G]
//    from a hash of (field, position), where G doubles each time the settled run doubles (2 after
//    `saturation` settled occurrences, 4 after 2×, …) up to `rate`: a decaying rate that never goes
//    below 1/`rate`. So a change that persists in a settled field (a field that starts carrying
//    emails, cards, phones) is fully scanned within `rate` occurrences of the field if it keeps the
//    field's old value shapes, and at its first occurrence if its shape is new (a `ghp_…` token or a
//    URL with credentials in a field of names or plain numbers has a new shape); the first new kind
//    unsettles the field, so the next `saturation` occurrences are fully scanned and the field
//    aggregator gets the distinct values it needs (aggregate.ts MIN_DISTINCT).
// 3. Bounded state: at most `maxFields` fields (later ones are always fully scanned, counted as
//    fieldsUntracked), MAX_SHAPES shapes per field (a field with more varied shapes falls back to
//    rule 2 for shapes beyond them, counted as shapesOverflow). No raw value is kept: a shape is a
//    20-bit code.

import { shapeOfRange } from '../shared/skim.js';

/** Scanner sampling options (defaults: SAMPLING). */
export interface SamplingOptions {
  /** Occurrences fully scanned before a field may be sampled, and consecutive equal outcomes to settle. */
  saturation: number;
  /** The slowest full-scan rate of a settled field: at least one in `rate` occurrences (never zero). */
  rate: number;
  /** Fields tracked across all endpoints. */
  maxFields: number;
}
export const SAMPLING: Readonly<SamplingOptions> = { saturation: 64, rate: 256, maxFields: 65_536 };

/** Distinct value shapes remembered per field. */
export const MAX_SHAPES = 64;

export interface FieldState {
  /** Kinds (bits) the field's full scans have produced, and how many consecutive full scans found no other. */
  mask: number;
  streak: number;
  /** Occurrences since the field settled (drives the decaying rate). */
  run: number;
  /** Occurrences left before the next full scan of a settled field. */
  countdown: number;
  /** Hash of the endpoint key, location and field: spreads the picks over fields. */
  salt: number;
  /** Value shapes seen (shapeCode), at most MAX_SHAPES. */
  shapes: number[];
}

export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function newFieldState(salt: number): FieldState {
  return { mask: 0, streak: 0, run: 0, countdown: 0, salt, shapes: [] };
}

/**
 * A value's shape: the set of character classes it uses (14 bits) and its length (exact up to 40,
 * then one bucket per power of two). Different for a name and an email, a 10-digit id and a
 * `+31 6 …` phone, a 16-digit and a 9-digit number; equal for two emails of one length.
 */
export function shapeCode(v: string): number {
  return shapeOfRange(v, 0, v.length);
}

/** Whether `shape` is new for the field (and remembers it while there is room). */
export function noteShape(st: FieldState, shape: number): 'known' | 'new' | 'overflow' {
  const s = st.shapes;
  for (let i = 0; i < s.length; i++) if (s[i] === shape) return 'known';
  if (s.length >= MAX_SHAPES) return 'overflow';
  s.push(shape);
  return 'new';
}

/** Gap to the next full scan of a settled field: in [1, G], G = min(rate, 2^⌊log2(1 + run/saturation)⌋ · 2). */
export function nextGap(st: FieldState, o: Readonly<SamplingOptions>): number {
  const doublings = 31 - Math.clz32(1 + Math.floor(st.run / Math.max(1, o.saturation)));
  const g = Math.max(1, Math.min(o.rate, 2 << Math.min(doublings, 29)));
  let h = Math.imul(st.salt ^ st.run, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return 1 + ((h >>> 0) % g);
}

/** What value() does with one occurrence of a tracked field. */
export const DECISION = { full: 0, fullNovel: 1, sampled: 2 } as const;
export type Decision = (typeof DECISION)[keyof typeof DECISION];

/** The sampling decision for one occurrence (updates the countdown; the caller records the outcome). */
export function decide(st: FieldState, shape: number, o: Readonly<SamplingOptions>, stats: SamplingStats): Decision {
  const seen = noteShape(st, shape);
  if (st.streak < o.saturation) return DECISION.full;
  if (seen === 'new') {
    stats.novelShapes++;
    return DECISION.fullNovel;
  }
  if (seen === 'overflow') stats.shapesOverflow++;
  st.run++;
  if (--st.countdown > 0) return DECISION.sampled;
  st.countdown = nextGap(st, o);
  return DECISION.full;
}

/**
 * After a full scan of a tracked field: a kind the field never produced unsettles it (returns true);
 * otherwise the scan counts towards settling. A field whose values sometimes carry a kind and
 * sometimes not (an optional phone) settles on the union of its kinds.
 */
export function recordOutcome(st: FieldState, mask: number, o: Readonly<SamplingOptions>): boolean {
  if ((mask & ~st.mask) === 0) {
    if (st.streak < 0x3fffffff) st.streak++;
    if (st.streak === o.saturation) {
      st.run = 0;
      st.countdown = nextGap(st, o);
    }
    return false;
  }
  st.mask |= mask;
  st.streak = 1;
  st.run = 0;
  return true;
}

export interface SamplingStats {
  /** Values of settled fields not fully scanned (prefixed-secret rules only). */
  sampledOut: number;
  /** Full scans of settled fields because the value's shape was new for the field. */
  novelShapes: number;
  /** Occurrences whose shape could not be remembered (the field had MAX_SHAPES already). */
  shapesOverflow: number;
  /** Full scans whose outcome differed from the settled field's: the field unsettled. */
  outcomeChanges: number;
}
