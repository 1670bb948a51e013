// Which bodies the analyzers walk: cost that follows novelty at the level of whole bodies.
//
// Walking a body (skim or parse, field shapes, PII values, conformance) is most of the analysis cost
// of an exchange; once an endpoint's bodies keep showing the same fields, the same value shapes and
// the same PII, walking every one of them finds nothing. The gate decides per body, per stream: a
// stream is (API host, forget generation, method, provisional template, side), the key the PII and
// conformance analyzers already follow. Decisions are a pure function of what the stream showed
// before, in the order of its exchanges (per host that is capture order: the same for any number of
// worker threads); no clock, no randomness.
//
// Guarantee (pinned by gate.test.ts):
// 1. Walked, always: every body of a stream until it has had `saturation` consecutive walked bodies
//    that brought nothing new (so at least its first `saturation` bodies); every body whose envelope
//    is new for the stream: its media type, content encodings, truncation, size class (one per power
//    of two) and, for responses, status code (a new status class or code is a new envelope; up to
//    MAX_ENVELOPES per stream, more are treated as known and counted); every JSON body with an
//    object key the stream's bodies never had (checked on every body, walked or not, by a quote-to-
//    quote pass over its first MAX_KEY_SCAN characters; up to MAX_STREAM_KEYS keys per stream);
//    every body of a stream met after `maxStreams` streams are tracked (counted).
// 2. "New" after a walk (the caller tells, settle()): a field path or JSON type the stream had not
//    shown, a field the PII scanner had not tracked, a value shape new for its field, a PII outcome
//    change (pii/sampling.ts). A new thing resets the stream: the next `saturation` bodies are walked.
// 3. Otherwise (settled stream, known envelope) the gap between two walks is drawn in [1, G] from a
//    hash of (stream, position), where G doubles each time the settled run doubles (2 during the
//    first `decay` settled bodies, 4 up to 3×, 8 up to 7×, …) up to `rate`: never below one body in
//    `rate`; gaps are uniform in [1, G], so a stream settled at G = 32 walks one body in 16.5 on
//    average (with the defaults: 64 walked, then G = 32 after 240 settled bodies).
// So a new field name is walked at its first occurrence, even in one body only; a change that persists
// in a settled stream without a new key (a field turning null, a known key at a new place, emails
// appearing in a field of names) is walked within `rate` bodies of the stream and then, by the PII sampler's own
// rule, scanned at once when its value shape is new; a change that keeps every value shape (cards in
// a field of 16-digit ids) within `rate` × the PII sampler's rate bodies. Headers, targets, statuses,
// auth, timing and the inventory's counters see every exchange; only body walks are gated.
import { fnv1a, newFieldState, nextGap } from '../pii/sampling.js';
import type { FieldState } from '../pii/sampling.js';

export interface BodyGateOptions {
  /** Consecutive walks without anything new before a stream may skip bodies. */
  saturation: number;
  /** The slowest walk rate of a settled stream: at least one body in `rate`. */
  rate: number;
  /** Settled bodies before the gap bound first doubles (then after 2×, 4×, … as many): how fast the rate decays. */
  decay: number;
  /** Streams tracked; bodies of later streams are always walked. */
  maxStreams: number;
}

export const BODY_GATE: Readonly<BodyGateOptions> = { saturation: 64, rate: 32, decay: 16, maxStreams: 65_536 };

/** Envelopes remembered per stream. */
export const MAX_ENVELOPES = 32;
/** Object keys remembered per stream (beyond it an unknown key is not new; counted). */
export const MAX_STREAM_KEYS = 4096;
/**
 * Characters of a JSON body whose keys are checked: bounds the check's cost per body (~40% of a skim
 * per character); a list shows its items' keys in its first items.
 */
export const MAX_KEY_SCAN = 16_384;
/** Field strings remembered per stream (beyond it a field is not new, so a wide body cannot keep a stream unsettled forever). */
export const MAX_STREAM_FIELDS = 1024;

export interface BodyStream {
  /** Consecutive walked bodies that brought nothing new. */
  quiet: number;
  /** Sampling state of the settled stream (run and countdown, pii/sampling.ts). */
  readonly fs: FieldState;
  readonly envelopes: number[];
  /** Field strings ("response.body $.a:string") seen in this stream's walked bodies. */
  readonly fields: Set<string>;
  /** Hashes (FNV-1a of the raw text) of the object keys seen in this stream's bodies, walked or not. */
  readonly keys: Set<number>;
}

export interface BodyGateStats {
  walked: number;
  skipped: number;
  novelEnvelopes: number;
  envelopesOverflow: number;
  untracked: number;
  novelKeys: number;
  keysOverflow: number;
}

/** A body's envelope: media type, encodings, truncation, size class and (responses) status. */
export function envelopeOf(
  body: { contentType: string | null; contentEncoding: readonly string[]; size: number; truncated: boolean },
  status: number,
): number {
  let h = fnv1a(body.contentType ?? '');
  for (const e of body.contentEncoding) h = fnv1a(e, h ^ 0x2c);
  const sizeClass = 32 - Math.clz32(body.size);
  h = Math.imul(h ^ (sizeClass | (body.truncated ? 64 : 0)), 0x01000193);
  return Math.imul(h ^ status, 0x01000193) >>> 0;
}

/** The body's text when it is utf8 JSON text (starts with '{' or '[' after whitespace), else null. */
export function jsonText(body: { encoding: string; data: string }): string | null {
  if (body.encoding !== 'utf8') return null;
  const d = body.data;
  let i = 0;
  while (i < d.length && d.charCodeAt(i) <= 0x20) i++;
  const c = d.charCodeAt(i);
  return c === 0x7b || c === 0x5b ? d : null;
}

export class BodyGate {
  private readonly streams = new Map<string, BodyStream>();
  readonly stats: BodyGateStats = {
    walked: 0,
    skipped: 0,
    novelEnvelopes: 0,
    envelopesOverflow: 0,
    untracked: 0,
    novelKeys: 0,
    keysOverflow: 0,
  };
  private readonly gap: { saturation: number; rate: number; maxFields: number };

  constructor(readonly opts: Readonly<BodyGateOptions> = BODY_GATE) {
    this.gap = { saturation: opts.decay, rate: opts.rate, maxFields: 0 };
  }

  /**
   * The stream for `key`, or null when the table is full (then walk: decide(null, …) is true).
   * Keys must start with the host followed by '\u0000' (forget()).
   */
  stream(key: string): BodyStream | null {
    let s = this.streams.get(key);
    if (s === undefined) {
      if (this.streams.size >= this.opts.maxStreams) return null;
      s = { quiet: 0, fs: newFieldState(fnv1a(key)), envelopes: [], fields: new Set(), keys: new Set() };
      this.streams.set(key, s);
    }
    return s;
  }

  /**
   * Whether to walk this body of the stream (rules 1 and 3). `json` is the body's text when it is
   * JSON text (else null): its object keys are checked against the stream's (rule 1, keys).
   */
  decide(s: BodyStream | null, envelope: number, json: string | null): boolean {
    if (s === null) {
      this.stats.untracked++;
      this.stats.walked++;
      return true;
    }
    let novel = false;
    if (!s.envelopes.includes(envelope)) {
      if (s.envelopes.length < MAX_ENVELOPES) {
        s.envelopes.push(envelope);
        novel = true;
      } else this.stats.envelopesOverflow++;
    }
    const keys = json === null ? 0 : this.noteKeys(s, json);
    if (s.quiet < this.opts.saturation) {
      this.stats.walked++;
      return true;
    }
    if (novel) {
      this.stats.novelEnvelopes++;
      this.stats.walked++;
      return true;
    }
    if (keys > 0) {
      this.stats.novelKeys++;
      this.stats.walked++;
      return true;
    }
    s.fs.run++;
    if (--s.fs.countdown > 0) {
      this.stats.skipped++;
      return false;
    }
    s.fs.countdown = nextGap(s.fs, this.gap);
    this.stats.walked++;
    return true;
  }

  /** After a walked body: whether it brought something new (rule 2). */
  settle(s: BodyStream | null, novel: boolean): void {
    if (s === null) return;
    if (novel) {
      s.quiet = 0;
      s.fs.run = 0;
      return;
    }
    if (s.quiet < this.opts.saturation) {
      s.quiet++;
      if (s.quiet === this.opts.saturation) s.fs.countdown = nextGap(s.fs, this.gap);
    }
  }

  /**
   * Object keys of a JSON text (its first MAX_KEY_SCAN characters) not yet in the stream's key set
   * (they are added while there is room). One pass from quote to quote with indexOf: strings are
   * jumped over natively, a string followed by ':' is a key, and a key is hashed, not sliced.
   */
  private noteKeys(s: BodyStream, text: string): number {
    const end = Math.min(text.length, MAX_KEY_SCAN);
    const keys = s.keys;
    let news = 0;
    let i = text.indexOf('"');
    while (i >= 0 && i < end) {
      let j = text.indexOf('"', i + 1);
      // A quote preceded by an odd run of backslashes is escaped: look further.
      while (j > 0 && text.charCodeAt(j - 1) === 0x5c) {
        let b = j - 1;
        while (b > i && text.charCodeAt(b) === 0x5c) b--;
        if ((j - 1 - b) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (j < 0 || j >= end) break;
      let k = j + 1;
      while (k < end && text.charCodeAt(k) <= 0x20) k++;
      if (text.charCodeAt(k) === 0x3a) {
        let h = 0x811c9dc5;
        for (let c = i + 1; c < j; c++) h = Math.imul(h ^ text.charCodeAt(c), 0x01000193);
        if (!keys.has(h)) {
          if (keys.size < MAX_STREAM_KEYS) {
            keys.add(h);
            news++;
          } else this.stats.keysOverflow++;
        }
      }
      i = text.indexOf('"', j + 1);
    }
    return news;
  }

  /** Drop the streams of these hosts (their keys start with host + '\u0000'). */
  forget(hosts: readonly string[]): void {
    if (hosts.length === 0 || this.streams.size === 0) return;
    const set = new Set(hosts);
    for (const k of this.streams.keys()) if (set.has(k.slice(0, k.indexOf('\u0000')))) this.streams.delete(k);
  }

  get size(): number {
    return this.streams.size;
  }
}
