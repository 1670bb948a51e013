// The WebSocket layer on frames built byte by byte (testing.ts), through the real HTTP hand-off,
// each case replayed at several chunk sizes (1 byte included): the records must not depend on them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { Exchange } from '../../engine/contracts/exchange.js';
import type { Exchange as ExchangeT } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../http/connection.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';
import { fixedSplit } from '../http/testdata/support.js';
import { OPCODE } from './frames.js';
import type { WsEvent, WsRun } from './testing.js';
import {
  closePayload,
  Deflater,
  frame,
  maskOf,
  messages,
  runWs,
  UPGRADE_REQUEST,
  upgradeResponse,
  WS_META,
} from './testing.js';

const T = OPCODE.text;
const B = OPCODE.binary;
const C = OPCODE.continuation;
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const cli = (f: Parameters<typeof frame>[0], seed = 1): WsEvent => ({
  dir: 0,
  data: frame({ ...f, mask: f.mask === undefined ? maskOf(seed) : f.mask }),
});
const srv = (f: Parameters<typeof frame>[0]): WsEvent => ({ dir: 1, data: frame({ ...f, mask: f.mask ?? null }) });

/** Runs at whole chunks and at 1, 3 and 7 bytes; asserts the same records and counters; returns the whole-chunk run. */
function run(events: WsEvent[], o: Parameters<typeof runWs>[1] = {}): WsRun {
  const ref = runWs(events, o);
  for (const size of [1, 3, 7]) {
    const r = runWs(events, { ...o, split: fixedSplit(size) });
    assert.deepEqual(messages(r.exchanges), messages(ref.exchanges), `messages at chunk size ${size}`);
    assert.deepEqual(
      r.exchanges.map((e) => [
        e.anomalies,
        e.complete,
        e.quality.gapBytes,
        e.request?.body.size,
        e.response?.body.size,
      ]),
      ref.exchanges.map((e) => [
        e.anomalies,
        e.complete,
        e.quality.gapBytes,
        e.request?.body.size,
        e.response?.body.size,
      ]),
      `records at chunk size ${size}`,
    );
    const snap = (c: WsRun['counters']): Record<string, number> => c.snapshot('ws_');
    assert.deepEqual(snap(r.counters), snap(ref.counters), `counters at chunk size ${size}`);
  }
  for (const e of ref.exchanges) Exchange.parse(e);
  return ref;
}

const msgRecords = (exs: readonly ExchangeT[]): ExchangeT[] => exs.filter((e) => e.websocket != null);

describe('WebSocket frames (RFC 6455 §5)', () => {
  it('the upgrade stays an exchange (protocol websocket), each message is one more record', () => {
    const r = run([
      cli({ opcode: T, payload: utf8('{"user":{"email":"a@b.example"}}') }),
      srv({ opcode: T, payload: utf8('ok') }),
    ]);
    assert.equal(r.exchanges.length, 3);
    const [up, c, s] = r.exchanges as [ExchangeT, ExchangeT, ExchangeT];
    assert.equal(up.protocol, 'websocket');
    assert.equal(up.websocket, undefined);
    assert.equal(up.response?.status, 101);
    assert.deepEqual(up.anomalies, []);
    assert.deepEqual(
      r.exchanges.map((e) => e.seq),
      [0, 1, 2],
    );
    // The message travels under the upgrade's path and credentials.
    assert.equal(c.request?.target, '/chat?room=1');
    assert.ok(c.request?.headers.some(([k]) => k === 'Authorization'));
    assert.equal(c.request?.body.contentType, 'application/json');
    assert.equal(c.request?.body.data, '{"user":{"email":"a@b.example"}}');
    assert.equal(c.response?.body.size, 0);
    assert.equal(c.latencyUs, null);
    assert.deepEqual(c.websocket, { direction: 'client', type: 'text', frames: 1, compressed: false });
    assert.equal(s.response?.body.data, 'ok');
    assert.equal(s.response?.body.contentType, 'text/plain');
    assert.equal(s.request?.body.size, 0);
    assert.equal(c.complete && s.complete, true);
    assert.equal(r.counters.get('ws_upgrades'), 1);
    assert.equal(r.counters.get('http_upgrade'), 0);
    assert.equal(r.counters.get('ws_no_close'), 1, 'TCP FIN without close frames');
  });

  it('7-, 16- and 64-bit lengths; masking with any key and split', () => {
    const p125 = utf8('a'.repeat(125));
    const p126 = utf8('b'.repeat(126));
    const p70k = utf8('c'.repeat(70_000));
    const r = run([
      cli({ opcode: T, payload: p125 }, 7),
      cli({ opcode: T, payload: p126 }, 8),
      cli({ opcode: T, payload: p70k }, 9),
      srv({ opcode: T, payload: p70k }),
    ]);
    const m = msgRecords(r.exchanges);
    assert.deepEqual(
      m.map((e) => (e.websocket?.direction === 'client' ? e.request : e.response)?.body.size),
      [125, 126, 70_000, 70_000],
    );
    assert.equal(m[0]?.request?.body.data, 'a'.repeat(125));
    assert.equal(m[1]?.request?.body.data, 'b'.repeat(126));
    // Bounded: the capture cap keeps 64 KiB of the 70,000-byte message; the size counts all.
    assert.equal(m[2]?.request?.body.data.length, 64 * 1024);
    assert.equal(m[2]?.request?.body.truncated, true);
    assert.equal(m[2]?.request?.body.complete, true);
    assert.equal(r.counters.get('ws_nonminimal_length'), 0);
  });

  it('fragmentation with control frames between the fragments (RFC 6455 §5.4)', () => {
    const r = run([
      cli({ opcode: T, payload: utf8('{"a":'), fin: false }, 1),
      cli({ opcode: OPCODE.ping, payload: utf8('p') }, 2),
      cli({ opcode: C, payload: utf8('"x",'), fin: false }, 3),
      srv({ opcode: OPCODE.pong, payload: utf8('p') }),
      cli({ opcode: C, payload: utf8('"b":1}') }, 4),
      srv({ opcode: B, payload: Buffer.from([1, 2, 3]), fin: false }),
      srv({ opcode: C, payload: Buffer.from([4]) }),
    ]);
    assert.deepEqual(messages(r.exchanges), ['c text {"a":"x","b":1}', 's binary ']);
    const [c, s] = msgRecords(r.exchanges);
    assert.equal(c?.websocket?.frames, 3);
    assert.equal(s?.websocket?.frames, 2);
    // Binary: counted, not kept.
    assert.equal(s?.response?.body.size, 4);
    assert.equal(s?.response?.body.contentType, 'application/octet-stream');
    assert.equal(s?.response?.body.truncated, true);
    assert.equal(r.counters.get('ws_pings'), 1);
    assert.equal(r.counters.get('ws_pongs'), 1);
    assert.equal(r.counters.get('ws_messages_fragmented'), 2);
    assert.equal(r.counters.get('ws_messages_server_binary'), 1);
    assert.deepEqual(c?.anomalies, []);
  });

  it('close frames: normal, error, invalid; no close at FIN counts ws_no_close, none at the end of the capture', () => {
    const normal = run([
      cli({ opcode: OPCODE.close, payload: closePayload(1000, 'bye') }),
      srv({ opcode: OPCODE.close, payload: closePayload(1000) }),
    ]);
    assert.equal(normal.counters.get('ws_close_frames'), 2);
    assert.equal(normal.counters.get('ws_close_error'), 0);
    assert.equal(normal.counters.get('ws_no_close'), 0);
    const err = run([srv({ opcode: OPCODE.close, payload: closePayload(1011, 'internal') })]);
    assert.equal(err.counters.get('ws_close_error'), 1);
    const bad = run([
      srv({ opcode: OPCODE.close, payload: closePayload(1005) }),
      cli({ opcode: OPCODE.close, payload: Buffer.from([3]) }),
    ]);
    assert.equal(bad.counters.get('ws_bad_close'), 2);
    const badReason = run([
      srv({ opcode: OPCODE.close, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff])]) }),
    ]);
    assert.equal(badReason.counters.get('ws_invalid_utf8'), 1);
    assert.equal(run([], { end: 'rst' }).counters.get('ws_no_close'), 1);
    assert.equal(run([], { end: 'eof' }).counters.get('ws_no_close'), 0);
    // Frames after this direction's close.
    const after = run([
      srv({ opcode: OPCODE.close, payload: closePayload(1000) }),
      srv({ opcode: T, payload: utf8('late') }),
    ]);
    assert.deepEqual(msgRecords(after.exchanges)[0]?.anomalies, ['ws_data_after_close']);
  });

  it('protocol violations are counted and parsing goes on by the frame length', () => {
    const r = run([
      cli({ opcode: T, payload: utf8('unmasked'), mask: null }),
      srv({ opcode: T, payload: utf8('masked'), mask: maskOf(3) }),
      srv({ opcode: 3, payload: utf8('reserved opcode') }),
      srv({ opcode: T, payload: utf8('rsv2'), rsv: 2 }),
      srv({ opcode: T, payload: utf8('rsv1 without deflate'), rsv: 4 }),
      srv({ opcode: OPCODE.ping, payload: Buffer.alloc(126) }),
      srv({ opcode: OPCODE.ping, payload: utf8('x'), fin: false }),
      srv({ opcode: C, payload: utf8('orphan continuation') }),
      srv({ opcode: T, payload: utf8('short'), len: 16 }),
      srv({ opcode: T, payload: Buffer.from([0xc3, 0x28]) }),
      srv({ opcode: T, payload: utf8('open '), fin: false }),
      srv({ opcode: T, payload: utf8('next') }),
      srv({ opcode: T, payload: utf8('long form'), len: 64 }),
    ]);
    const m = msgRecords(r.exchanges);
    assert.deepEqual(
      m.map((e) => [messages([e])[0], e.anomalies]),
      [
        ['c text unmasked', ['ws_unmasked_client_frame']],
        ['s text masked', ['ws_masked_server_frame']],
        ['s text rsv2', ['ws_bad_rsv']],
        ['s text rsv1 without deflate', ['ws_bad_rsv']],
        ['s text short', ['ws_nonminimal_length']],
        ['s text wyg=', ['ws_invalid_utf8']],
        ['s text open ', ['ws_bad_continuation']],
        ['s text next', []],
        ['s text long form', ['ws_nonminimal_length']],
      ],
    );
    assert.equal(m[5]?.response?.body.encoding, 'base64');
    assert.equal(m[6]?.complete, false);
    assert.equal(r.counters.get('ws_bad_opcode'), 1);
    assert.equal(r.counters.get('ws_bad_control_frame'), 2);
    assert.equal(r.counters.get('ws_bad_continuation'), 2);
  });

  it('a 64-bit length with the top bit set ends that direction only', () => {
    const bad = Buffer.from([0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x41]);
    const r = run([
      { dir: 1, data: bad },
      srv({ opcode: T, payload: utf8('lost') }),
      cli({ opcode: T, payload: utf8('still read') }),
    ]);
    assert.deepEqual(messages(r.exchanges), ['c text still read']);
    assert.equal(r.counters.get('ws_bad_length'), 1);
    assert.ok(r.counters.get('ws_skipped_bytes') > 0);
    assert.equal(r.counters.get('ws_no_close'), 0, 'a direction lost its framing: its close may have been lost');
  });

  it('never throws on hostile input: unmasked huge announcements, truncated headers', () => {
    const r = run([
      { dir: 1, data: Buffer.from([0x82, 0x7f, 0, 0, 0x10, 0, 0, 0, 0, 0]) }, // 2^44 announced
      { dir: 1, data: Buffer.alloc(1000, 0x41) },
      { dir: 0, data: Buffer.from([0x81]) },
    ]);
    assert.equal(r.counters.get('ws_internal_error'), 0);
    const m = msgRecords(r.exchanges);
    assert.equal(m.length, 1);
    assert.deepEqual(m[0]?.anomalies, ['ws_cut_short']);
    assert.equal(m[0]?.response?.body.size, 1000);
    assert.equal(m[0]?.complete, false);
  });
});

describe('gaps: inside a payload skipped, elsewhere the direction ends (not the connection)', () => {
  it('a gap inside a payload: that message incomplete, the next ones intact', () => {
    const a = frame({ opcode: T, payload: utf8('0123456789abcdef'), mask: null });
    const r = run([
      { dir: 1, data: a.subarray(0, 6) },
      { dir: 1, gap: 8 },
      { dir: 1, data: a.subarray(14) },
      srv({ opcode: T, payload: utf8('next') }),
      cli({ opcode: T, payload: utf8('client') }),
    ]);
    const m = msgRecords(r.exchanges);
    assert.deepEqual(messages(m), ['s text 0123', 's text next', 'c text client']);
    assert.deepEqual(m[0]?.anomalies, ['ws_message_gap']);
    assert.equal(m[0]?.complete, false);
    assert.equal(m[0]?.quality.gapBytes, 8);
    assert.equal(m[0]?.response?.body.size, 16);
    assert.equal(m[0]?.response?.body.truncated, true);
    assert.equal(r.counters.get('ws_gap'), 0);
  });

  it('a gap over a frame boundary ends the direction: counted, its open message emitted, the other direction goes on', () => {
    const a = frame({ opcode: T, payload: utf8('first part'), fin: false, mask: maskOf(5) });
    const r = run([
      { dir: 0, data: a.subarray(0, 8) },
      { dir: 0, gap: 100 },
      cli({ opcode: T, payload: utf8('never parsed') }),
      srv({ opcode: T, payload: utf8('server goes on') }),
    ]);
    assert.equal(r.exchanges[0]?.protocol, 'websocket');
    assert.deepEqual(r.exchanges[0]?.anomalies, [], 'the upgrade record is not affected');
    const m = msgRecords(r.exchanges);
    assert.deepEqual(
      m.map((e) => [e.websocket?.direction, e.anomalies]),
      [
        ['client', ['ws_cut_short', 'ws_gap']],
        ['server', []],
      ],
    );
    assert.equal(m[0]?.request?.body.data, 'fi'); // 6 header bytes (masked), then 2 of the payload
    assert.equal(r.counters.get('ws_gap'), 1);
    assert.ok(r.counters.get('ws_skipped_bytes') >= 18);
  });

  it('a gap in a frame header with no open message: counted, nothing else emitted for that direction', () => {
    const r = run([
      srv({ opcode: T, payload: utf8('before') }),
      { dir: 1, gap: 3 },
      srv({ opcode: T, payload: utf8('after') }),
    ]);
    assert.deepEqual(messages(r.exchanges), ['s text before']);
    assert.equal(r.counters.get('ws_gap'), 1);
  });

  it('client frames sent before the 101 are held, then read first', () => {
    const early = frame({ opcode: T, payload: utf8('early bird'), mask: maskOf(9) });
    const r = run([srv({ opcode: T, payload: utf8('x') })], { early });
    assert.deepEqual(messages(r.exchanges), ['c text early bird', 's text x']);
  });
});

describe('permessage-deflate (RFC 7692)', () => {
  const texts = [
    '{"user":{"email":"jane@example.org","name":"Jane Doe"},"seq":1}',
    '{"user":{"email":"jane@example.org","name":"Jane Doe"},"seq":2}',
    'plain text that repeats plain text that repeats',
    '{"user":{"email":"john@example.org","name":"John Roe"},"seq":3}',
  ];

  function compressedRun(takeover: boolean, ext: string, extra: WsEvent[] = [], windowBits = 15): WsRun {
    const dc = new Deflater(takeover, windowBits);
    const ds = new Deflater(takeover, windowBits);
    const ev: WsEvent[] = [];
    texts.forEach((t, i) => {
      ev.push(cli({ opcode: T, payload: dc.compress(utf8(t)), rsv: 4 }, i));
      ev.push(srv({ opcode: T, payload: ds.compress(utf8(t.toUpperCase())), rsv: 4 }));
    });
    return run([...ev, ...extra], { extensions: ext });
  }

  it('with context takeover: every message inflated with the window of the previous ones', () => {
    const r = compressedRun(true, 'permessage-deflate');
    const m = msgRecords(r.exchanges);
    assert.deepEqual(
      messages(m),
      texts.flatMap((t) => [`c text ${t}`, `s text ${t.toUpperCase()}`]),
    );
    for (const e of m) {
      assert.deepEqual(e.anomalies, []);
      const body = e.websocket?.direction === 'client' ? e.request?.body : e.response?.body;
      assert.deepEqual(body?.contentEncoding, ['permessage-deflate']);
      assert.equal(body?.decodedSize, body?.data.length);
      assert.ok((body?.size ?? 0) < (body?.decodedSize ?? 0) || e.seq < 3, 'later messages use the window');
    }
    assert.equal(r.counters.get('ws_messages_compressed'), 8);
    assert.equal(r.counters.get('ws_upgrades_deflate'), 1);
  });

  it('without context takeover, and with small windows', () => {
    const r = compressedRun(
      false,
      'permessage-deflate; client_no_context_takeover; server_no_context_takeover; server_max_window_bits=10',
    );
    assert.equal(messages(r.exchanges).length, 8);
    for (const e of msgRecords(r.exchanges)) assert.deepEqual(e.anomalies, []);
    const w = compressedRun(true, 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9', [], 9);
    assert.deepEqual(
      messages(w.exchanges),
      texts.flatMap((t) => [`c text ${t}`, `s text ${t.toUpperCase()}`]),
    );
  });

  it('a compressed message in fragments (RSV1 on the first frame only)', () => {
    const z = new Deflater(false).compress(utf8(texts[0] as string));
    const r = run(
      [
        srv({ opcode: T, payload: z.subarray(0, 5), rsv: 4, fin: false }),
        srv({ opcode: OPCODE.ping, payload: Buffer.alloc(0) }),
        srv({ opcode: C, payload: z.subarray(5) }),
        srv({ opcode: C, payload: Buffer.alloc(0), rsv: 4 }),
      ],
      { extensions: 'permessage-deflate' },
    );
    assert.deepEqual(messages(r.exchanges), [`s text ${texts[0]}`]);
    assert.deepEqual(msgRecords(r.exchanges)[0]?.anomalies, []);
    const again = run(
      [
        srv({ opcode: T, payload: z.subarray(0, 5), rsv: 4, fin: false }),
        srv({ opcode: C, payload: z.subarray(5), rsv: 4 }),
      ],
      { extensions: 'permessage-deflate' },
    );
    assert.deepEqual(msgRecords(again.exchanges)[0]?.anomalies, ['ws_bad_rsv']);
  });

  it('a gap with context takeover: that message gapped, the later ones flagged ws_inflate_context_lost', () => {
    const dc = new Deflater(true);
    const f1 = frame({ opcode: T, payload: dc.compress(utf8('x'.repeat(40) + texts[0])), rsv: 4 });
    const f2 = frame({ opcode: T, payload: dc.compress(utf8(texts[1] as string)), rsv: 4 });
    const r = run(
      [
        { dir: 1, data: f1.subarray(0, 4) },
        { dir: 1, gap: 3 },
        { dir: 1, data: f1.subarray(7) },
        { dir: 1, data: f2 },
      ],
      { extensions: 'permessage-deflate' },
    );
    const lost = msgRecords(r.exchanges);
    assert.equal(lost.length, 2);
    assert.ok(lost[0]?.anomalies.includes('ws_message_gap'));
    assert.equal(lost[0]?.complete, false);
    assert.deepEqual(lost[1]?.anomalies, ['ws_inflate_context_lost']);
    assert.equal(lost[1]?.response?.body.data, '');
    // Without context takeover the next message decodes again.
    const dn = new Deflater(false);
    const g1 = frame({ opcode: T, payload: dn.compress(utf8('y'.repeat(40) + texts[0])), rsv: 4 });
    const g2 = frame({ opcode: T, payload: dn.compress(utf8(texts[1] as string)), rsv: 4 });
    const n = run(
      [
        { dir: 1, data: g1.subarray(0, 4) },
        { dir: 1, gap: 3 },
        { dir: 1, data: g1.subarray(7) },
        { dir: 1, data: g2 },
      ],
      { extensions: 'permessage-deflate; server_no_context_takeover' },
    );
    assert.deepEqual(messages(n.exchanges)[1], `s text ${texts[1]}`);
    assert.deepEqual(msgRecords(n.exchanges)[1]?.anomalies, []);
  });

  it('decompression bomb: output stops at maxDecodedBytes, a prefix is kept', () => {
    const bomb = new Deflater(false).compress(Buffer.alloc(4 << 20, 0x61));
    const r = run([srv({ opcode: T, payload: bomb, rsv: 4 })], {
      extensions: 'permessage-deflate; server_no_context_takeover',
      opts: { maxDecodedBytes: 1 << 20, bodyCaptureBytes: 1000 },
    });
    const m = msgRecords(r.exchanges)[0];
    assert.deepEqual(m?.anomalies, ['ws_inflate_capped']);
    assert.equal(m?.response?.body.data, 'a'.repeat(1000));
    assert.equal(m?.response?.body.decodedSize, null);
    assert.equal(m?.response?.body.size, bomb.length);
  });

  it('corrupt compressed data: ws_inflate_failed, no exception', () => {
    const r = run([srv({ opcode: T, payload: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]), rsv: 4 })], {
      extensions: 'permessage-deflate',
    });
    assert.deepEqual(msgRecords(r.exchanges)[0]?.anomalies, ['ws_inflate_failed']);
    assert.equal(r.counters.get('ws_internal_error'), 0);
  });

  it('an unknown extension: RSV bits are its business, payloads opaque', () => {
    const r = run([srv({ opcode: T, payload: utf8('opaque'), rsv: 4 })], { extensions: 'x-webkit-deflate-frame' });
    const m = msgRecords(r.exchanges)[0];
    assert.deepEqual(m?.anomalies, []);
    assert.equal(m?.response?.body.data, '');
    assert.equal(r.counters.get('ws_unsupported_extension'), 1);
  });

  it('the real zlib stream (no preset dictionary): a sync-flushed deflate stream across messages', () => {
    // One deflateRaw stream, flushed per message, as ws and browsers compress (RFC 7692 §7.2.3.3).
    const whole = zlib.deflateRawSync(Buffer.from('abcabcabc'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const r = run([srv({ opcode: T, payload: whole.subarray(0, whole.length - 4), rsv: 4 })], {
      extensions: 'permessage-deflate',
    });
    assert.deepEqual(messages(r.exchanges), ['s text abcabcabc']);
  });
});

describe('orientation', () => {
  it('a connection whose client the flow layer guessed wrong: directions follow the upgrade request', () => {
    const out: ExchangeT[] = [];
    const counters = new Counters();
    const conn = createHttpConnection(
      { ...WS_META, handshake: false },
      DEFAULT_HTTP_OPTIONS,
      (e) => out.push(e),
      counters,
    );
    conn.onData(1, Buffer.from(UPGRADE_REQUEST, 'latin1'), 10);
    conn.onData(0, Buffer.from(upgradeResponse(), 'latin1'), 20);
    conn.onData(1, frame({ opcode: T, payload: utf8('from the client'), mask: maskOf(2) }), 30);
    conn.onData(0, frame({ opcode: T, payload: utf8('from the server') }), 40);
    conn.onEnd(50, 'fin', false);
    assert.deepEqual(messages(out), ['c text from the client', 's text from the server']);
    for (const e of out) {
      assert.deepEqual(e.client, WS_META.server, 'client and server swapped back');
      assert.equal(e.quality.midstream, true);
    }
    assert.equal(counters.get('ws_unmasked_client_frame') + counters.get('ws_masked_server_frame'), 0);
  });
});

describe('determinism', () => {
  it('the same bytes give byte-identical JSON', () => {
    const ev = [cli({ opcode: T, payload: utf8('{"a":1}') }), srv({ opcode: B, payload: Buffer.alloc(10) })];
    assert.equal(JSON.stringify(runWs(ev).exchanges), JSON.stringify(runWs(ev).exchanges));
  });
});
