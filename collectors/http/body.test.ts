// Body decoding: the reusable decompressors (one per kind, reset between bodies) give the sync zlib
// APIs' result for every body, whatever came before it (a corrupt body, a cut one, a capped one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import fc from 'fast-check';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';
import { BodyCollector, reusableDecompressors } from './body.js';

const LIMITS = { bodyCaptureBytes: 64 * 1024, maxDecodedBytes: 256 * 1024, maxEncodedBytes: 1024 * 1024 };
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

function decode(
  coding: string,
  wire: Buffer,
  complete = true,
): { data: string; flags: HttpCounter[]; size: number | null } {
  const flags: HttpCounter[] = [];
  const b = new BodyCollector('application/json', coding, LIMITS);
  // Fed in pieces, as the parser does.
  for (let off = 0; off < wire.length; off += 1000) b.add(wire, off, Math.min(1000, wire.length - off));
  const r = b.finish(complete, (a) => flags.push(a));
  return { data: r.data, flags, size: r.decodedSize };
}

const json = (n: number): Buffer =>
  Buffer.from(
    JSON.stringify(Array.from({ length: n }, (_, i) => ({ id: i, name: `user${i}`, mail: `u${i}@example.test` }))),
  );

test('the reusable decompressors are in use on this Node version', () => {
  assert.equal(reusableDecompressors(), true);
});

test('a sequence of gzip, deflate (zlib and raw) and br bodies, good and bad interleaved, decodes like the sync APIs', () => {
  const kinds = ['gzip', 'deflate', 'deflate-raw', 'br'] as const;
  const encode = (k: (typeof kinds)[number], b: Buffer): Buffer =>
    k === 'gzip'
      ? zlib.gzipSync(b)
      : k === 'deflate'
        ? zlib.deflateSync(b)
        : k === 'deflate-raw'
          ? zlib.deflateRawSync(b)
          : zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
  const reference = (k: (typeof kinds)[number], z: Buffer): Buffer =>
    k === 'gzip'
      ? zlib.gunzipSync(z, SYNC)
      : k === 'deflate'
        ? zlib.inflateSync(z, SYNC)
        : k === 'deflate-raw'
          ? zlib.inflateRawSync(z, SYNC)
          : zlib.brotliDecompressSync(z, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          kind: fc.constantFrom(...kinds),
          rows: fc.integer({ min: 0, max: 1500 }),
          damage: fc.constantFrom('none', 'cut', 'flip'),
          at: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      (bodies) => {
        for (const { kind, rows, damage, at } of bodies) {
          const plain = json(rows);
          let z = encode(kind, plain);
          if (damage === 'cut') z = z.subarray(0, Math.floor(z.length * at));
          else if (damage === 'flip') {
            z = Buffer.from(z);
            const i = Math.floor(z.length * at);
            z[i] = (z[i] as number) ^ 0x5a;
          }
          const got = decode(kind === 'deflate-raw' ? 'deflate' : kind, z, damage === 'none');
          if (damage === 'none') {
            const full = reference(kind, z);
            assert.equal(got.size, plain.length);
            assert.equal(got.data, full.subarray(0, LIMITS.bodyCaptureBytes).toString('utf8'));
            assert.deepEqual(got.flags, plain.length > LIMITS.maxDecodedBytes ? ['http_decompression_capped'] : []);
          } else if (damage === 'cut') {
            let expected: Buffer | null;
            try {
              expected = reference(kind, z);
            } catch {
              expected = null; // cut inside the header: decoding fails, the salvage path answers
            }
            if (expected !== null && expected.length <= LIMITS.maxDecodedBytes) {
              const text = expected.subarray(0, LIMITS.bodyCaptureBytes);
              assert.ok(got.data.length > 0 || text.length === 0);
              assert.ok(text.toString('utf8').startsWith(got.data), 'a cut body gives the prefix the sync API gives');
            }
          }
        }
      },
    ),
    { numRuns: 40 },
  );
});

test('a body above the decoded cap is flagged and keeps its captured prefix, and the next body decodes whole', () => {
  const big = json(12_000);
  assert.ok(big.length > LIMITS.maxDecodedBytes);
  const capped = decode('gzip', zlib.gzipSync(big));
  assert.deepEqual(capped.flags, ['http_decompression_capped']);
  assert.equal(capped.size, null);
  assert.equal(capped.data, big.subarray(0, LIMITS.bodyCaptureBytes).toString('utf8'));
  const small = json(10);
  const next = decode('gzip', zlib.gzipSync(small));
  assert.deepEqual(next.flags, []);
  assert.equal(next.data, small.toString('utf8'));
});

test('a corrupt body is flagged, and the next body of the same coding decodes whole', () => {
  const z = Buffer.from(zlib.gzipSync(json(500)));
  z[40] = (z[40] as number) ^ 0xff;
  z[41] = (z[41] as number) ^ 0xff;
  const bad = decode('gzip', z);
  assert.ok(bad.flags.includes('http_decompression_failed'), bad.flags.join());
  const small = json(20);
  assert.equal(decode('gzip', zlib.gzipSync(small)).data, small.toString('utf8'));
});
