// Replays HTTP test cases (raw byte streams → expected exchanges) against createHttpConnection.
//
// Case files are JSON: { "cases": [Case] }. Events, in order, one packet time each:
//   ["c", text] / ["s", text]        bytes of direction 0 / 1 (text is latin1, JSON escapes allowed)
//   ["c64", b64] / ["s64", b64]       the same, base64
//   ... optional third element: the packet time as an offset in µs from T0 (default: index * 1000),
//   to model bytes that reassembly delivers later than their packet time (held behind a hole)
//   ["gap", dir, length]              bytes never seen
//   ["trunc", dir]                    the next bytes came from a packet cut by the capture
//   ["end", reason, oneSided]         connection end (default: ["end", "fin", false] after the last event)
// `expect` lists the emitted exchanges in order; each is matched as a subset (objects: listed keys
// only; arrays: same length, elements matched recursively). `counters` are exact values.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Counters } from '../../../engine/contracts/counters.js';
import type { Exchange } from '../../../engine/contracts/exchange.js';
import { repoRoot } from '../../../test/support/paths.js';
import { createHttpConnection } from '../connection.js';
import { DEFAULT_HTTP_OPTIONS } from '../types.js';
import type { ConnectionMeta, Direction, EndReason, HttpOptions } from '../types.js';

export type Event =
  | ['c' | 's', string]
  | ['c64' | 's64', string]
  | ['c' | 's' | 'c64' | 's64', string, number]
  | ['gap', Direction, number]
  | ['trunc', Direction]
  | ['end', EndReason, boolean];

export interface Case {
  name: string;
  handshake?: boolean;
  options?: Partial<HttpOptions>;
  events: Event[];
  expect: unknown[];
  counters?: Record<string, number>;
}

export const TESTDATA = join(repoRoot, 'collectors', 'http', 'testdata');

export function loadCases(): { file: string; c: Case }[] {
  const out: { file: string; c: Case }[] = [];
  for (const f of readdirSync(TESTDATA)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const doc = JSON.parse(readFileSync(join(TESTDATA, f), 'utf8')) as { cases: Case[] };
    for (const c of doc.cases) out.push({ file: f, c });
  }
  return out;
}

export const T0 = 1_700_000_000_000_000;

export function metaFor(c: Case): ConnectionMeta {
  return {
    flowId: 'flow-1',
    vni: null,
    tunnel: null,
    client: { ip: '10.0.0.1', port: 40000 },
    server: { ip: '10.0.0.2', port: 80 },
    handshake: c.handshake ?? true,
  };
}

/** Splits each data event: `split(len)` returns the piece lengths. */
export function replay(
  c: Case,
  split: (len: number, eventIndex: number) => number[],
): { exchanges: Exchange[]; counters: Counters } {
  const counters = new Counters();
  const exchanges: Exchange[] = [];
  const opts: HttpOptions = { ...DEFAULT_HTTP_OPTIONS, ...c.options };
  const conn = createHttpConnection(metaFor(c), opts, (ex) => exchanges.push(ex), counters);
  let ended = false;
  let ts = T0;
  c.events.forEach((ev, i) => {
    ts = T0 + i * 1000;
    switch (ev[0]) {
      case 'c':
      case 's':
      case 'c64':
      case 's64': {
        if (ev.length === 3) ts = T0 + ev[2];
        const dir: Direction = ev[0][0] === 'c' ? 0 : 1;
        const bytes = ev[0].length === 3 ? Buffer.from(ev[1], 'base64') : Buffer.from(ev[1], 'latin1');
        let off = 0;
        for (const n of split(bytes.length, i)) {
          // A fresh copy per piece, overwritten after the call: the layer must not keep references.
          const piece = Buffer.from(bytes.subarray(off, off + n));
          conn.onData(dir, piece, ts);
          piece.fill(0x5a);
          off += n;
        }
        if (off < bytes.length) conn.onData(dir, Buffer.from(bytes.subarray(off)), ts);
        break;
      }
      case 'gap':
        conn.onGap(ev[1], ev[2], ts);
        break;
      case 'trunc':
        conn.onTruncated(ev[1]);
        break;
      case 'end':
        conn.onEnd(ts, ev[1], ev[2]);
        ended = true;
        break;
    }
  });
  if (!ended) conn.onEnd(ts + 1000, 'fin', false);
  return { exchanges, counters };
}

export const fixedSplit =
  (size: number) =>
  (len: number): number[] => {
    const out: number[] = [];
    for (let o = 0; o < len; o += size) out.push(Math.min(size, len - o));
    return out;
  };

export const whole = (len: number): number[] => [len];

/** Subset match: throws with the path of the first difference. */
export function matchSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (expected === null || typeof expected !== 'object') {
    if (actual !== expected)
      throw new Error(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new Error(`${path}: expected an array, got ${JSON.stringify(actual)}`);
    if (actual.length !== expected.length)
      throw new Error(`${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => matchSubset(actual[i], e, `${path}[${i}]`));
    return;
  }
  if (actual === null || typeof actual !== 'object')
    throw new Error(`${path}: expected an object, got ${JSON.stringify(actual)}`);
  for (const [k, v] of Object.entries(expected)) matchSubset((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
}
