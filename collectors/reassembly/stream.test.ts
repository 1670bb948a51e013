import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counters } from '../../engine/contracts/counters.js';
import { StreamReassembler, type StreamOutput } from './stream.js';

type Ev = ['data', string] | ['gap', number] | ['trunc'];

function harness(limits = { maxBufferedBytes: 1 << 20, maxBufferedSegments: 1000, reorderWindowUs: 200_000 }) {
  const events: Ev[] = [];
  const out: StreamOutput = {
    data: (b) => {
      const last = events[events.length - 1];
      if (last !== undefined && last[0] === 'data') last[1] += b.toString('latin1');
      else events.push(['data', b.toString('latin1')]);
    },
    gap: (n) => events.push(['gap', n]),
    truncated: () => events.push(['trunc']),
  };
  const counters = new Counters();
  const s = new StreamReassembler(out, limits, { used: 0, limit: 1 << 30 }, counters);
  return { s, events, counters };
}

const seg = (s: StreamReassembler, seq: number, text: string, t = 0, fin = false): void => {
  const b = Buffer.from(text, 'latin1');
  s.segment(seq >>> 0, b, 0, b.length, b.length, fin, t);
};

test('in-order bytes pass through once', () => {
  const { s, events } = harness();
  s.syn(100);
  seg(s, 101, 'hello ');
  seg(s, 107, 'world');
  assert.deepEqual(events, [['data', 'hello world']]);
});

test('out-of-order segments are held and delivered in order', () => {
  const { s, events, counters } = harness();
  s.syn(0);
  seg(s, 6, 'world');
  seg(s, 1, 'hello');
  assert.deepEqual(events, [['data', 'helloworld']]);
  assert.equal(counters.get('tcp_out_of_order'), 1);
});

test('retransmissions and duplicates are dropped; first copy wins on overlap', () => {
  const { s, events, counters } = harness();
  s.syn(0);
  seg(s, 1, 'abcdef');
  seg(s, 1, 'abcdef');
  seg(s, 4, 'DEFghi');
  assert.deepEqual(events, [['data', 'abcdefghi']]);
  assert.equal(counters.get('tcp_retransmission'), 1);
  assert.equal(counters.get('tcp_partial_overlap'), 1);
});

test('sequence numbers wrap around 2^32', () => {
  const { s, events } = harness();
  s.syn(0xfffffffd);
  seg(s, 0xfffffffe, 'ab');
  seg(s, 0, 'cd');
  assert.deepEqual(events, [['data', 'abcd']]);
});

test('a hole is reported as a gap at flush, never papered over', () => {
  const { s, events, counters } = harness();
  s.syn(0);
  seg(s, 1, 'aaaa');
  seg(s, 9, 'cccc');
  s.flush(10);
  assert.deepEqual(events, [
    ['data', 'aaaa'],
    ['gap', 4],
    ['data', 'cccc'],
  ]);
  assert.equal(counters.get('tcp_gap_bytes'), 4);
});

test('peer ACK above a hole declares the gap after the reorder window', () => {
  const { s, events, counters } = harness();
  s.syn(0);
  seg(s, 1, 'aaaa', 0);
  seg(s, 9, 'cccc', 10);
  s.peerAck(13, 20);
  assert.deepEqual(events, [['data', 'aaaa']]);
  s.peerAck(13, 300_000);
  assert.deepEqual(events, [
    ['data', 'aaaa'],
    ['gap', 4],
    ['data', 'cccc'],
  ]);
  assert.equal(counters.get('tcp_ack_above_hole'), 1);
});

test('the out-of-order bound forces a gap', () => {
  const { s, events, counters } = harness({ maxBufferedBytes: 8, maxBufferedSegments: 100, reorderWindowUs: 1 });
  s.syn(0);
  seg(s, 5, 'xxxx');
  seg(s, 9, 'yyyyy');
  assert.deepEqual(events, [
    ['gap', 4],
    ['data', 'xxxxyyyyy'],
  ]);
  assert.equal(counters.get('tcp_ooo_limit'), 1);
});

test('a truncated segment delivers its captured bytes then a gap for the cut tail', () => {
  const { s, events } = harness();
  s.syn(0);
  const b = Buffer.from('abcd');
  s.segment(1, b, 0, 4, 10, false, 0);
  seg(s, 11, 'z');
  assert.deepEqual(events, [['trunc'], ['data', 'abcd'], ['gap', 6], ['data', 'z']]);
});

test('FIN closes the stream once every byte before it is in', () => {
  const { s } = harness();
  s.syn(0);
  seg(s, 4, 'def', 0, true);
  assert.equal(s.closed, false);
  seg(s, 1, 'abc');
  assert.equal(s.closed, true);
});

test('property: any segmentation, reordering within the window and duplication gives the same bytes', () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 400 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (text, cutsRaw, shuffle, isn) => {
        const data = Buffer.from(text, 'latin1');
        const cuts = [...new Set(cutsRaw.map((c) => c % data.length))].sort((a, b) => a - b).filter((c) => c > 0);
        const bounds = [0, ...cuts, data.length];
        const segs: Array<[number, number]> = [];
        for (let i = 0; i + 1 < bounds.length; i++) segs.push([bounds[i] as number, bounds[i + 1] as number]);
        // Duplicate some segments and swap neighbours to reorder.
        const order = [...segs];
        for (const r of shuffle) {
          const i = r % order.length;
          if (r % 3 === 0) order.splice(i, 0, order[i] as [number, number]);
          else if (i + 1 < order.length) {
            const a = order[i] as [number, number];
            order[i] = order[i + 1] as [number, number];
            order[i + 1] = a;
          }
        }
        const { s, events } = harness();
        s.syn(isn);
        for (const [a, b] of order) s.segment((isn + 1 + a) >>> 0, data, a, b - a, b - a, false, 0);
        s.flush(1);
        assert.deepEqual(events, [['data', text]]);
      },
    ),
    { numRuns: 300 },
  );
});
