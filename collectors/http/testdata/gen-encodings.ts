// Generates encodings.json: compressed bodies made with node:zlib's real compressors.
// Run: node --import tsx collectors/http/testdata/gen-encodings.ts  (the output is committed).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { TESTDATA } from './support.js';

const text = '{"users":[{"id":1,"name":"Zoë"},{"id":2,"name":"Ada"}],"note":"' + 'x'.repeat(200) + '"}';
const plain = Buffer.from(text, 'utf8');
const b64 = (b: Buffer): string => b.toString('base64');
const resp = (enc: string, body: Buffer): string =>
  b64(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: ${enc}\r\nContent-Length: ${body.length}\r\n\r\n`,
      ),
      body,
    ]),
  );
const chunked = (enc: string, body: Buffer): string => {
  const half = body.length >> 1;
  return b64(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 200 OK\r\nContent-Encoding: ${enc}\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n`,
      ),
      body.subarray(0, half),
      Buffer.from(`\r\n${(body.length - half).toString(16)}\r\n`),
      body.subarray(half),
      Buffer.from('\r\n0\r\n\r\n'),
    ]),
  );
};
const req = ['c', 'GET /u HTTP/1.1\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n'];
const ok = (enc: string[], size: number) => ({
  response: {
    body: {
      size,
      decodedSize: plain.length,
      contentEncoding: enc,
      encoding: 'utf8',
      data: text,
      truncated: false,
      complete: true,
    },
  },
  anomalies: [],
  complete: true,
});
const gz = zlib.gzipSync(plain);
const df = zlib.deflateSync(plain);
const raw = zlib.deflateRawSync(plain);
const br = zlib.brotliCompressSync(plain);
const gzbr = zlib.brotliCompressSync(gz); // "gzip, br": gzip applied first, then br
const corrupt = Buffer.from(gz);
corrupt.fill(0x41, 10, 40);

const cases = [
  { name: 'gzip body decoded', events: [req, ['s64', resp('gzip', gz)]], expect: [ok(['gzip'], gz.length)] },
  {
    name: 'x-gzip body decoded, chunked',
    events: [req, ['s64', chunked('x-gzip', gz)]],
    expect: [ok(['x-gzip'], gz.length)],
  },
  {
    name: 'deflate (zlib-wrapped) decoded',
    events: [req, ['s64', resp('deflate', df)]],
    expect: [ok(['deflate'], df.length)],
  },
  {
    name: 'deflate (raw) detected and decoded',
    events: [req, ['s64', resp('deflate', raw)]],
    expect: [ok(['deflate'], raw.length)],
  },
  { name: 'br decoded', events: [req, ['s64', resp('br', br)]], expect: [ok(['br'], br.length)] },
  {
    name: 'stacked gzip, br decoded in reverse',
    events: [req, ['s64', resp('gzip, br', gzbr)]],
    expect: [ok(['gzip', 'br'], gzbr.length)],
  },
  {
    name: 'capture cap keeps a prefix, size counts all',
    options: { bodyCaptureBytes: 16 },
    events: [req, ['s64', resp('gzip', gz)]],
    expect: [
      {
        response: {
          body: {
            size: gz.length,
            decodedSize: plain.length,
            data: text.slice(0, 16),
            truncated: true,
            complete: true,
          },
        },
      },
    ],
  },
  {
    name: 'capture cap inside a multibyte character stays utf8',
    options: { bodyCaptureBytes: plain.indexOf(0xc3) + 1 },
    events: [req, ['s64', resp('identity', plain)]],
    expect: [{ response: { body: { encoding: 'utf8', data: '{"users":[{"id":1,"name":"Zo', truncated: true } } }],
  },
  {
    name: 'binary body is base64',
    events: [
      req,
      [
        's64',
        b64(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n'),
            Buffer.from([0xff, 0x00, 0xfe, 0x01]),
          ]),
        ),
      ],
    ],
    expect: [{ response: { body: { encoding: 'base64', data: '/wD+AQ==', truncated: false } } }],
  },
  {
    name: 'corrupt gzip is flagged',
    events: [req, ['s64', resp('gzip', corrupt)]],
    expect: [{ response: { body: { decodedSize: null, truncated: true } }, anomalies: ['http_decompression_failed'] }],
  },
  {
    name: 'gzip cut by a gap still yields its prefix',
    events: [
      req,
      ['s64', resp('gzip', gz).slice(0, 0)],
      ['s64', b64(Buffer.from(resp('gzip', gz), 'base64').subarray(0, -20))],
      ['gap', 1, 20],
    ],
    expect: [
      { response: { body: { decodedSize: null, truncated: true, complete: false } }, anomalies: ['http_body_gap'] },
    ],
  },
  {
    name: 'unsupported coding keeps the encoded bytes',
    events: [req, ['s64', resp('compress', Buffer.from('LZW?'))]],
    expect: [{ response: { body: { decodedSize: null, data: 'LZW?' } }, anomalies: ['http_unsupported_encoding'] }],
  },
  {
    name: 'maxEncodedBytes bounds the kept compressed bytes',
    options: { maxEncodedBytes: 20 },
    events: [req, ['s64', resp('gzip', gz)]],
    expect: [
      {
        response: { body: { size: gz.length, decodedSize: null, truncated: true } },
        anomalies: ['http_encoded_body_capped'],
      },
    ],
  },
];
writeFileSync(join(TESTDATA, 'encodings.json'), JSON.stringify({ cases }, null, 1) + '\n');
