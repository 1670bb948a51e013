// The spill files of a replay whose embedded store opens late (replay-threads.ts): every row comes
// back exactly as the analysis thread wrote it, in order, in batches no larger than SPILL_BATCH_ROWS,
// whatever falls on a read boundary (multi-byte characters, line ends, a last line without one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExchangeRow } from '../../adapters/store/types.js';
import { insertSpill, SPILL_BATCH_ROWS } from './replay-threads.js';

const tmp = mkdtempSync(join(tmpdir(), 'apitap-spill-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function row(i: number): ExchangeRow {
  return {
    id: i.toString(16).padStart(16, '0'),
    flowId: `f${i >> 2}`,
    seq: i & 3,
    vni: i % 3 === 0 ? null : i,
    host: i % 2 === 0 ? 'api.test' : 'bücher.example',
    method: i % 3 === 0 ? 'POST' : 'GET',
    // Characters of 1 to 4 UTF-8 bytes, in lengths that move the line ends across the reads.
    path: `/ü/${'€'.repeat(i % 97)}/${'𝄞'.repeat(i % 13)}/${'x'.repeat(i % 5)}`,
    status: i % 5 === 0 ? null : 200,
    requestUs: 1_700_000_000_000_000 + i * 1_000,
    latencyUs: i % 7 === 0 ? null : 1234,
    requestBytes: i,
    responseBytes: 2 * i,
    anomalies: i % 11 === 0 ? ['tcp_gap', 'http_bad_chunk'] : [],
    complete: i % 11 !== 0,
    actor:
      i % 4 === 0
        ? null
        : {
            actorId: `a${i % 9}`,
            clientIp: '10.0.0.1',
            forwardedFor: '',
            principal: 'jwt_sub:ab…yz',
            principalKind: 'jwt_sub',
            principalHash: 'ff'.repeat(16),
            idValues: [`p1:${i}`],
            loginHash: '',
            createdHash: '',
            piiReceived: [],
          },
    protocol: 'http',
    wsDirection: '',
  };
}

for (const [name, n, trailingNewline] of [
  ['several reads and batches', 3 * SPILL_BATCH_ROWS + 17, true],
  ['a last line without a newline', 1_234, false],
  ['an empty file', 0, true],
] as const) {
  test(`spill rows come back exactly: ${name}`, async () => {
    const rows = Array.from({ length: n }, (_, i) => row(i));
    const path = join(tmp, `${n}.jsonl`);
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    writeFileSync(path, trailingNewline && n > 0 ? text + '\n' : text);
    const batches: ExchangeRow[][] = [];
    await insertSpill(
      {
        writeExchanges: (b) => {
          batches.push([...b]);
          return Promise.resolve();
        },
      },
      path,
    );
    assert.ok(
      batches.every((b) => b.length > 0 && b.length <= SPILL_BATCH_ROWS),
      'bounded, non-empty batches',
    );
    assert.deepEqual(batches.flat(), rows);
  });
}
