// gRPC message framing and schema-less protobuf (grpc.ts, protobuf.ts).
import assert from 'node:assert/strict';
import test from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { GrpcCollector, isGrpcContentType } from './grpc.js';
import { decodeProtobuf } from './protobuf.js';

const LIMITS = { bodyCaptureBytes: 65536, maxEncodedBytes: 1 << 20, maxDecodedBytes: 1 << 20, maxMessages: 256 };

/** Protobuf encoding helpers: tag, varint, length-delimited. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (no: number, wt: number): number[] => varint(no * 8 + wt);
const str = (no: number, s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([...field(no, 2), ...varint(b.length)]), b]);
};
const int = (no: number, v: number): Buffer => Buffer.from([...field(no, 0), ...varint(v)]);
const frame = (msg: Buffer, compressed = false): Buffer => {
  const h = Buffer.alloc(5);
  h[0] = compressed ? 1 : 0;
  h.writeUInt32BE(msg.length, 1);
  return Buffer.concat([h, msg]);
};

test('protobuf without schema: numbers, strings, nested messages, repeated fields, fixed and big values', () => {
  const addr = Buffer.concat([str(1, '10 Downing Street'), str(2, 'London')]);
  const fixed64 = Buffer.concat([Buffer.from(field(6, 1)), Buffer.from('ffffffffffffffff', 'hex')]);
  const fixed32 = Buffer.concat([Buffer.from(field(7, 5)), Buffer.from([1, 0, 0, 0])]);
  const msg = Buffer.concat([
    int(1, 150),
    str(2, 'jane@mail.example.com'),
    str(3, addr),
    str(4, 'a'),
    str(4, 'b'),
    fixed64,
    fixed32,
  ]);
  assert.deepEqual(decodeProtobuf(msg), {
    '1': 150,
    '2': 'jane@mail.example.com',
    '3': { '1': '10 Downing Street', '2': 'London' },
    '4': ['a', 'b'],
    '6': '18446744073709551615',
    '7': 1,
  });
  // A nested message whose first field is a long string starts with LF: still a message.
  const long = 'x'.repeat(40);
  assert.deepEqual(decodeProtobuf(str(1, str(1, long))), { '1': { '1': long } });
  // Bytes that are neither text nor a message: base64.
  assert.deepEqual(decodeProtobuf(str(1, Buffer.from([0xff, 0x00, 0x07]))), { '1': '/wAH' });
  // Not a message: group wire types, truncated values, field 0.
  assert.equal(decodeProtobuf(Buffer.from([0x0b])), null);
  assert.equal(decodeProtobuf(Buffer.from([0x0a, 0x05, 0x61])), null);
  assert.equal(decodeProtobuf(Buffer.from([0x00, 0x01])), null);
});

test('nesting is bounded: deeper levels stay bytes', () => {
  let m = str(1, 'deep');
  for (let i = 0; i < 40; i++) m = str(1, Buffer.concat([int(2, i), m]));
  const v = decodeProtobuf(m);
  let depth = 0;
  let cur: unknown = v;
  while (typeof cur === 'object' && cur !== null) {
    cur = (cur as Record<string, unknown>)['1'];
    depth++;
  }
  assert.ok(depth <= 8, `depth ${depth}`);
  assert.equal(typeof cur, 'string'); // base64 of the rest
});

test('random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      decodeProtobuf(Buffer.from(b));
      const c = new GrpcCollector('application/grpc', 'gzip', LIMITS);
      c.add(Buffer.from(b), 0, b.length);
      c.finish(true, () => undefined);
    }),
    { numRuns: 1000, seed: 13 },
  );
});

test('messages across DATA chunks, gzip decoded, bodies as JSON; one message → object, several → array', () => {
  const m1 = Buffer.concat([int(1, 7), str(2, 'hello')]);
  const m2 = int(1, 8);
  const wire = Buffer.concat([frame(m1), frame(zlib.gzipSync(m2), true)]);
  const flags: string[] = [];
  const c = new GrpcCollector('application/grpc', 'gzip', LIMITS);
  for (let i = 0; i < wire.length; i += 3) c.add(wire, i, Math.min(3, wire.length - i));
  const body = c.finish(true, (a) => flags.push(a));
  assert.equal(c.messages, 2);
  assert.deepEqual(JSON.parse(body.data), [{ '1': 7, '2': 'hello' }, { '1': 8 }]);
  assert.deepEqual(body.contentEncoding, ['gzip']);
  assert.equal(body.size, wire.length);
  assert.equal(body.decodedSize, m1.length + m2.length);
  assert.deepEqual(flags, []);
  const one = new GrpcCollector('application/grpc', null, LIMITS);
  one.add(frame(m1), 0, m1.length + 5);
  assert.deepEqual(JSON.parse(one.finish(true, () => undefined).data), { '1': 7, '2': 'hello' });
});

test('a gzip bomb in one message is capped; a prefix longer than the stream is flagged', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(64 << 20), { level: 9 });
  const flags: string[] = [];
  const c = new GrpcCollector('application/grpc', 'gzip', { ...LIMITS, maxDecodedBytes: 1 << 20 });
  const w = frame(bomb, true);
  c.add(w, 0, w.length);
  const body = c.finish(true, (a) => flags.push(a));
  assert.ok(flags.includes('grpc_decompression_capped'));
  assert.equal(body.decodedSize, null);
  const cut = new GrpcCollector('application/grpc', null, LIMITS);
  const f = frame(Buffer.from([0x08, 0x01]));
  cut.add(f, 0, f.length - 1);
  const flags2: string[] = [];
  cut.finish(true, (a) => flags2.push(a));
  assert.deepEqual(flags2, ['grpc_bad_message']);
});

test('content types', () => {
  for (const ct of ['application/grpc', 'application/grpc+proto', 'Application/GRPC+json'])
    assert.ok(isGrpcContentType(ct), ct);
  for (const ct of ['application/grpc-web', 'application/json', null]) assert.ok(!isGrpcContentType(ct), String(ct));
});
