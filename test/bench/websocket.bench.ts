// WebSocket layer throughput: frames built as the `ws` package sends them (client frames masked,
// permessage-deflate per message), replayed after an upgrade through createHttpConnection in
// 1448-byte segments as TCP delivers them. Records are built (as the pipeline needs them) and dropped.
//   node --import tsx test/bench/websocket.bench.ts
//
// Workload per scenario: 20,000 JSON messages each way (~180 B, personal data in nested objects),
// one in 10 fragmented in 3 frames with a ping between fragments, every 50th a 3 KiB binary message.
// Scenarios: uncompressed; permessage-deflate with context takeover; without context takeover.
//
// Measured 2026-12-03, Node 20.20, 2 shared cores (load ~8), one run with /usr/bin/time -v:
// see the README (WebSocket) for the numbers.
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../../collectors/http/connection.js';
import { DEFAULT_HTTP_OPTIONS } from '../../collectors/http/types.js';
import { OPCODE } from '../../collectors/websocket/frames.js';
import {
  Deflater,
  frame,
  maskOf,
  UPGRADE_REQUEST,
  upgradeResponse,
  WS_META,
} from '../../collectors/websocket/testing.js';

const N = 20_000;
const SEG = 1448;

function stream(dir: 0 | 1, deflate: 'off' | 'takeover' | 'reset'): Buffer {
  const z = new Deflater(deflate === 'takeover');
  const parts: Buffer[] = [];
  for (let i = 0; i < N; i++) {
    const mask = dir === 0 ? maskOf(i) : null;
    if (i % 50 === 49) {
      parts.push(frame({ opcode: OPCODE.binary, payload: Buffer.alloc(3072, i & 0xff), mask }));
      continue;
    }
    const text = JSON.stringify({
      seq: i,
      customer: {
        name: `Customer ${i}`,
        email: `customer${i}@posteo.de`,
        phone: `+3161234${String(i).padStart(4, '0')}`,
      },
      items: [{ sku: `SKU-${i % 97}`, qty: (i % 5) + 1 }],
    });
    const plain = Buffer.from(text);
    const payload = deflate === 'off' ? plain : z.compress(plain);
    const rsv = deflate === 'off' ? 0 : 4;
    if (i % 10 === 0 && payload.length > 3) {
      const a = Math.floor(payload.length / 3);
      parts.push(frame({ opcode: OPCODE.text, payload: payload.subarray(0, a), fin: false, rsv, mask }));
      parts.push(frame({ opcode: OPCODE.ping, payload: Buffer.from('hb'), mask }));
      parts.push(frame({ opcode: OPCODE.continuation, payload: payload.subarray(a, 2 * a), fin: false, mask }));
      parts.push(frame({ opcode: OPCODE.continuation, payload: payload.subarray(2 * a), mask }));
    } else {
      parts.push(frame({ opcode: OPCODE.text, payload, rsv, mask }));
    }
  }
  return Buffer.concat(parts);
}

const EXT = {
  off: null,
  takeover: 'permessage-deflate',
  reset: 'permessage-deflate; client_no_context_takeover; server_no_context_takeover',
} as const;

for (const mode of ['off', 'takeover', 'reset'] as const) {
  const c2s = stream(0, mode);
  const s2c = stream(1, mode);
  const counters = new Counters();
  let records = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  const conn = createHttpConnection(WS_META, DEFAULT_HTTP_OPTIONS, () => records++, counters);
  let ts = 1_700_000_000_000_000;
  conn.onData(0, Buffer.from(UPGRADE_REQUEST, 'latin1'), ts++);
  conn.onData(1, Buffer.from(upgradeResponse(EXT[mode]), 'latin1'), ts++);
  for (let off = 0; off < Math.max(c2s.length, s2c.length); off += SEG) {
    if (off < c2s.length) conn.onData(0, c2s.subarray(off, Math.min(off + SEG, c2s.length)), ts++);
    if (off < s2c.length) conn.onData(1, s2c.subarray(off, Math.min(off + SEG, s2c.length)), ts++);
  }
  conn.onEnd(ts, 'fin', false);
  const cpu = process.cpuUsage(t0);
  const ms = performance.now() - w0;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const bytes = c2s.length + s2c.length;
  process.stdout.write(
    `${mode.padEnd(9)} ${(bytes / 1e6).toFixed(1)} MB wire, ${records - 1} messages: ` +
      `cpu ${cpuS.toFixed(2)} s (${(bytes / 1e6 / cpuS).toFixed(1)} MB/s, ${Math.round((records - 1) / cpuS)} msg/s), wall ${Math.round(ms)} ms; ` +
      `anomalies ${JSON.stringify(Object.fromEntries(Object.entries(counters.snapshot('ws_')).filter(([k]) => !/messages|frames|bytes|pings|upgrades/.test(k))))}\n`,
  );
}
