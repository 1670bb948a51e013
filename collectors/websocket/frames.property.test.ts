// Properties of the frame reader: random frame sequences (text and binary messages, fragmented at
// random points, control frames between fragments, client frames masked with random keys,
// permessage-deflate with or without context takeover) give exactly the messages that were sent,
// whatever the byte boundaries the stream is cut at; and random bytes after an upgrade never throw.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { OPCODE } from './frames.js';
import type { WsEvent } from './testing.js';
import { Deflater, frame, messages, runWs } from './testing.js';

interface MsgSpec {
  dir: 0 | 1;
  text: boolean;
  value: string;
  bytes: number[];
  /** Fragment sizes as fractions (the payload is cut at these points). */
  cuts: number[];
  /** Control frames after fragment i: 0 none, 1 ping, 2 pong. */
  controls: number[];
  mask: number[];
}

const msgArb: fc.Arbitrary<MsgSpec> = fc.record({
  dir: fc.constantFrom(0 as const, 1 as const),
  text: fc.boolean(),
  value: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.json({ maxDepth: 2 }),
    fc.string({ maxLength: 300 }).map((s) => s.repeat(3)),
  ),
  bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
  controls: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 4 }),
  mask: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
});

/** The frames of `msgs` in order and the lines messages() must give back. */
function build(msgs: readonly MsgSpec[], deflate: 'off' | 'takeover' | 'reset'): { events: WsEvent[]; want: string[] } {
  const z = [new Deflater(deflate === 'takeover'), new Deflater(deflate === 'takeover')];
  const events: WsEvent[] = [];
  const want: string[] = [];
  for (const m of msgs) {
    const plain = m.text ? Buffer.from(m.value, 'utf8') : Buffer.from(m.bytes);
    const compressed = deflate !== 'off';
    const payload = compressed ? (z[m.dir] as Deflater).compress(plain) : plain;
    const points = [...new Set(m.cuts.map((c) => Math.floor(c * payload.length)))].sort((a, b) => a - b);
    const bounds = [0, ...points.filter((p) => p > 0 && p < payload.length), payload.length];
    const mask = m.dir === 0 ? Buffer.from(m.mask) : null;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const last = i + 2 === bounds.length;
      events.push({
        dir: m.dir,
        data: frame({
          opcode: i === 0 ? (m.text ? OPCODE.text : OPCODE.binary) : OPCODE.continuation,
          payload: payload.subarray(bounds[i], bounds[i + 1]),
          fin: last,
          rsv: i === 0 && compressed ? 4 : 0,
          mask,
        }),
      });
      const ctl = m.controls[i] ?? 0;
      if (!last && ctl !== 0) {
        events.push({
          dir: m.dir,
          data: frame({ opcode: ctl === 1 ? OPCODE.ping : OPCODE.pong, payload: Buffer.from('hb'), mask }),
        });
      }
    }
    want.push(`${m.dir === 0 ? 'c' : 's'} ${m.text ? 'text' : 'binary'} ${m.text ? m.value : ''}`);
  }
  return { events, want };
}

const EXT = {
  off: null,
  takeover: 'permessage-deflate',
  reset: 'permessage-deflate; client_no_context_takeover; server_no_context_takeover',
} as const;

it('random frame sequences split at any byte boundaries give the messages that were sent', () => {
  fc.assert(
    fc.property(
      fc.array(msgArb, { minLength: 1, maxLength: 8 }),
      fc.constantFrom('off' as const, 'takeover' as const, 'reset' as const),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 16 }),
      (msgs, deflate, sizes) => {
        const { events, want } = build(msgs, deflate);
        let k = 0;
        const split = (len: number): number[] => {
          const out: number[] = [];
          for (let o = 0; o < len;) {
            const n = Math.min(sizes[k++ % sizes.length] as number, len - o);
            out.push(n);
            o += n;
          }
          return out;
        };
        const whole = runWs(events, { extensions: EXT[deflate] });
        const cut = runWs(events, { extensions: EXT[deflate], split });
        assert.deepEqual(messages(whole.exchanges), want);
        assert.deepEqual(messages(cut.exchanges), want);
        for (const e of cut.exchanges) assert.deepEqual(e.anomalies, []);
        assert.deepEqual(cut.counters.snapshot('ws_'), whole.counters.snapshot('ws_'));
      },
    ),
    { numRuns: 150 },
  );
});

it('random bytes after an upgrade never throw and every record is a message of the connection', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ dir: fc.constantFrom(0 as const, 1 as const), data: fc.uint8Array({ maxLength: 300 }) }), {
        maxLength: 8,
      }),
      fc.constantFrom('off' as const, 'takeover' as const),
      (chunks, deflate) => {
        const r = runWs(
          chunks.map((c) => ({ dir: c.dir, data: Buffer.from(c.data) })),
          { extensions: EXT[deflate] },
        );
        assert.equal(r.counters.get('ws_internal_error'), 0);
        assert.equal(r.counters.get('http_internal_error'), 0);
        assert.equal(r.exchanges[0]?.protocol, 'websocket');
        for (const e of r.exchanges.slice(1)) assert.ok(e.websocket != null);
      },
    ),
    { numRuns: 300 },
  );
});
