// Flow state under floods: bounded by count and by bytes, every eviction counted, lazy per-flow state.
// The flood captures are synthetic by nature (a port scan or SYN flood has no real server behind it):
// written by collectors/flow/testing.ts as classic pcap files and read back through the real capture
// reader and collector. The assertions are on state (live flows, estimated state bytes, held bytes),
// never on time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Counters } from '../../engine/contracts/counters.js';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../collector.js';
import type { Collector } from '../collector.js';
import { createDecoder } from '../decode/decoder.js';
import { ethernet, ipv4, ipv6, tcp } from '../decode/testing.js';
import { readCapture } from '../source/capture.js';
import type { FrameSink } from '../source/types.js';
import {
  createFlowTable,
  DEFAULT_FLOW_OPTIONS,
  DEFAULT_MAX_STATE_BYTES,
  FLOW_STATE_BYTES,
  HOLD_CLIENT_BYTES,
  holdBytesFor,
} from './table.js';
import type { FlowTableOptions } from './table.js';
import { writeHalfOpenFlood } from './testing.js';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'apitap-flood-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Peak {
  flows: number;
  stateBytes: number;
  bufferedBytes: number;
  samples: number;
}

/** Reads `file` through a collector with `flow` options, sampling its state every 1,000 frames. */
async function replay(
  file: string,
  flow: FlowTableOptions,
): Promise<{ peak: Peak; counters: Counters; exchanges: number; unpaired: number }> {
  const counters = new Counters();
  let exchanges = 0;
  let unpaired = 0;
  const collector: Collector = createCollector(
    { ...DEFAULT_COLLECTOR_OPTIONS, flow },
    (ex) => {
      exchanges++;
      if (ex.response === null && ex.anomalies.includes('http_request_without_response')) unpaired++;
    },
    counters,
  );
  const peak: Peak = { flows: 0, stateBytes: 0, bufferedBytes: 0, samples: 0 };
  let frames = 0;
  const sink: FrameSink = {
    onFrame(frame, linkType, tsUs, wireLen) {
      collector.onFrame(frame, linkType, tsUs, wireLen);
      if (++frames % 1_000 === 0) {
        peak.samples++;
        peak.flows = Math.max(peak.flows, collector.openFlows);
        peak.stateBytes = Math.max(peak.stateBytes, collector.flowStateBytes);
        peak.bufferedBytes = Math.max(peak.bufferedBytes, collector.bufferedBytes);
      }
    },
  };
  const res = await readCapture(file, sink, { counters });
  assert.deepEqual(
    res.problems.filter((p) => p.fatal),
    [],
  );
  collector.finish();
  assert.equal(collector.openFlows, 0);
  assert.equal(collector.flowStateBytes, 0, 'every flow gives its state bytes back when it ends');
  return { peak, counters, exchanges, unpaired };
}

test('300,000 half-open connections (SYN + one request, never answered): state stays within the default bounds', async () => {
  const file = join(dir, 'flood-300k.pcap');
  const n = 300_000;
  assert.equal(writeHalfOpenFlood(file, { connections: n }), 2 * n);
  const flow = DEFAULT_FLOW_OPTIONS;
  const { peak, counters, exchanges, unpaired } = await replay(file, flow);
  assert.ok(peak.samples >= 500);
  assert.ok(peak.flows <= flow.maxFlows, `live flows ${peak.flows}`);
  assert.ok(peak.stateBytes <= (flow.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES), `state bytes ${peak.stateBytes}`);
  assert.ok(peak.bufferedBytes <= flow.maxTotalBufferedBytes, `buffered ${peak.bufferedBytes}`);
  // The byte bound is what holds here (a flow with a parsed request costs more than 1/maxFlows of it).
  assert.ok(peak.flows < n / 4, `live flows ${peak.flows}`);
  // Every connection is tracked, ended once and counted: evicted by bytes or by count, or at the end.
  assert.equal(counters.get('flows'), n);
  const evicted = counters.get('flow_evicted') + counters.get('flow_evicted_bytes');
  assert.ok(evicted >= n - peak.flows - 1_000, `evicted ${evicted}`);
  assert.equal(counters.get('flow_one_sided'), n);
  // Nothing is lost: each request leaves as an exchange flagged as unanswered.
  assert.equal(exchanges, n);
  assert.equal(unpaired, n);
});

test('the count bound holds and is counted when flows are small', async () => {
  const file = join(dir, 'flood-30k.pcap');
  const n = 30_000;
  writeHalfOpenFlood(file, { connections: n });
  const flow: FlowTableOptions = { ...DEFAULT_FLOW_OPTIONS, maxFlows: 2_000, maxStateBytes: 1 << 30 };
  const { peak, counters, exchanges } = await replay(file, flow);
  assert.ok(peak.flows <= 2_000, `live flows ${peak.flows}`);
  assert.equal(counters.get('flow_evicted_bytes'), 0);
  assert.equal(counters.get('flow_evicted'), n - 2_000);
  assert.equal(exchanges, n);
});

test('a tight byte bound evicts by bytes, the stalest first', async () => {
  const file = join(dir, 'flood-10k.pcap');
  writeHalfOpenFlood(file, { connections: 10_000 });
  const flow: FlowTableOptions = { ...DEFAULT_FLOW_OPTIONS, maxStateBytes: 1_000_000 };
  const { peak, counters } = await replay(file, flow);
  assert.ok(peak.stateBytes <= 1_000_000, `state bytes ${peak.stateBytes}`);
  assert.ok(counters.get('flow_evicted_bytes') > 9_000);
  assert.equal(counters.get('flow_evicted'), 0);
});

test('a connection that never carries payload costs no HTTP state and under 1.5 KB of estimated state', () => {
  // SYN-only flood: no parser, no HTTP connection, one reassembler per flow.
  const file = join(dir, 'syn-only.pcap');
  const n = 5_000;
  writeHalfOpenFlood(file, { connections: n });
  const counters = new Counters();
  let connections = 0;
  const table = createFlowTable(
    DEFAULT_FLOW_OPTIONS,
    () => {
      connections++;
      return { onData() {}, onGap() {}, onTruncated() {}, onEnd() {} };
    },
    counters,
  );
  const decoder = createDecoder({ vxlanPorts: [] }, counters);
  // Feed only the SYNs (every other record) of the pcap: 24-byte header, then 16-byte record headers.
  const buf = readFileSync(file);
  let off = 24;
  let i = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off + 8);
    const ts = buf.readUInt32LE(off) * 1e6 + buf.readUInt32LE(off + 4);
    const frame = buf.subarray(off + 16, off + 16 + len);
    if (i++ % 2 === 0 && decoder.decode(frame, 1, ts, len) === 0) table.packet(decoder.view);
    off += 16 + len;
  }
  assert.equal(table.size, n);
  assert.equal(connections, 0, 'no HTTP layer for connections without payload');
  assert.equal(table.stateBytes, n * (FLOW_STATE_BYTES.flow + FLOW_STATE_BYTES.stream));
  assert.ok(table.stateBytes / n < 1_500);
});

/** Feeds every frame of a classic pcap (µs, LE, Ethernet) to a flow table whose HTTP layers record their calls. */
function feedRecording(
  file: string,
  opts: FlowTableOptions = DEFAULT_FLOW_OPTIONS,
): {
  table: ReturnType<typeof createFlowTable>;
  calls: string[][];
  lastUs: number;
} {
  const counters = new Counters();
  const calls: string[][] = [];
  const table = createFlowTable(
    opts,
    () => {
      const log: string[] = [];
      calls.push(log);
      return {
        onData(d, chunk, ts) {
          log.push(`data ${d} ${chunk.toString('latin1')} ${ts}`);
        },
        onGap(d, n) {
          log.push(`gap ${d} ${n}`);
        },
        onTruncated(d) {
          log.push(`truncated ${d}`);
        },
        onEnd(_ts, reason) {
          log.push(`end ${reason}`);
        },
      };
    },
    counters,
  );
  const decoder = createDecoder({ vxlanPorts: [] }, counters);
  const buf = readFileSync(file);
  let off = 24;
  let lastUs = 0;
  while (off + 16 <= buf.length) {
    const len = buf.readUInt32LE(off + 8);
    lastUs = buf.readUInt32LE(off) * 1e6 + buf.readUInt32LE(off + 4);
    if (decoder.decode(buf.subarray(off + 16, off + 16 + len), 1, lastUs, len) === 0) table.packet(decoder.view);
    off += 16 + len;
  }
  return { table, calls, lastUs };
}

test('a half-open connection holds its request bytes, not an HTTP layer, and the layer gets the same calls at its end', () => {
  const file = join(dir, 'held.pcap');
  const n = 2_000;
  const request = 'GET /api/v1/items/1 HTTP/1.1\r\nHost: api.flood.test\r\nAccept: */*\r\n\r\n';
  writeHalfOpenFlood(file, { connections: n, request });
  const { table, calls, lastUs } = feedRecording(file);
  assert.equal(table.size, n);
  assert.equal(calls.length, 0, 'no HTTP layer while only the client spoke');
  assert.equal(
    table.stateBytes,
    n * (FLOW_STATE_BYTES.flow + FLOW_STATE_BYTES.stream + FLOW_STATE_BYTES.held + request.length),
  );
  assert.ok(table.stateBytes / n < 1_500);
  table.finish(lastUs);
  assert.equal(calls.length, n);
  // Packets are 10 µs apart from 1_700_000_000_000_000; the request is each connection's second packet.
  for (let i = 0; i < n; i++) {
    assert.deepEqual(calls[i], [`data 0 ${request} ${1_700_000_000_000_000 + (2 * i + 1) * 10}`, 'end eof']);
  }
});

test('client bytes that are not held: above the hold bound, the HTTP/2 preface, TLS', () => {
  const cases = [
    { what: 'above the bound', request: `GET /${'a'.repeat(HOLD_CLIENT_BYTES)} HTTP/1.1\r\n\r\n` },
    // 65 of the smallest requests would overflow the pipeline bound (64) from client bytes alone.
    { what: 'pipelined past the pending bound', request: 'A \n\n'.repeat(65) },
    { what: 'status line from the client', request: 'GET / HTTP/1.1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n' },
    { what: 'too short to tell', request: 'GET' },
    { what: 'HTTP/2 preface', request: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
    { what: 'TLS record', request: '\x16\x03\x01\x00\x05hello' },
    { what: 'lower case', request: 'get / HTTP/1.1\r\n\r\n' },
  ];
  for (const { what, request } of cases) {
    const file = join(dir, 'not-held.pcap');
    writeHalfOpenFlood(file, { connections: 10, request });
    const { calls } = feedRecording(file);
    assert.equal(calls.length, 10, what);
    for (const log of calls) assert.equal(log.length, 1, what);
  }
});

test("the hold bound follows the HTTP layer's pipeline bound", () => {
  assert.equal(holdBytesFor(64), HOLD_CLIENT_BYTES);
  assert.ok(holdBytesFor(64) < 65 * 'A \n\n'.length);
  assert.equal(holdBytesFor(8), 9 * 4 - 1);
  const file = join(dir, 'pending-8.pcap');
  const request = 'A \n\n'.repeat(9); // 9 requests: one more than 8 may wait
  writeHalfOpenFlood(file, { connections: 5, request });
  assert.equal(feedRecording(file, { ...DEFAULT_FLOW_OPTIONS, holdClientBytes: holdBytesFor(8) }).calls.length, 5);
  assert.equal(feedRecording(file).calls.length, 0, 'held under the default bound');
});

test('packets of a connection that just closed are counted, not tracked, until a new SYN reuses its endpoints (IPv4 and IPv6)', () => {
  for (const version of [4, 6] as const) {
    const counters = new Counters();
    const table = createFlowTable(
      DEFAULT_FLOW_OPTIONS,
      () => ({ onData() {}, onGap() {}, onTruncated() {}, onEnd() {} }),
      counters,
    );
    const decoder = createDecoder({ vxlanPorts: [] }, counters);
    let ts = 1_700_000_000_000_000;
    const send = (client: boolean, seq: number, ack: number, flags: number, payload = ''): void => {
      const seg = tcp(
        { sport: client ? 40000 : 80, dport: client ? 80 : 40000, seq, ack, flags },
        Buffer.from(payload, 'latin1'),
      );
      const [a, b] = version === 4 ? ['10.0.0.1', '10.0.0.2'] : ['2001:db8::1', '2001:db8::2'];
      const [src, dst] = client ? [a, b] : [b, a];
      const frame =
        version === 4
          ? ethernet(0x0800, ipv4({ proto: 6, src, dst }, seg))
          : ethernet(0x86dd, ipv6({ src, dst, next: 6 }, seg));
      ts += 1_000;
      assert.equal(decoder.decode(frame, 1, ts, frame.length), 0);
      table.packet(decoder.view);
    };
    const SYN = 0x02;
    const ACK = 0x10;
    const FIN = 0x01;
    const PSH = 0x08;
    send(true, 100, 0, SYN);
    send(false, 500, 101, SYN | ACK);
    send(true, 101, 501, ACK);
    send(true, 101, 501, PSH | ACK, 'GET / HTTP/1.1\r\n\r\n');
    send(false, 501, 119, PSH | ACK, 'HTTP/1.1 204 No Content\r\n\r\n');
    send(true, 119, 528, FIN | ACK);
    send(false, 528, 120, FIN | ACK);
    assert.equal(table.size, 0, `IPv${version}: closed by FIN both ways`);
    send(true, 120, 529, ACK); // the last ACK of the close
    send(false, 501, 119, PSH | ACK, 'HTTP/1.1 204 No Content\r\n\r\n'); // a late retransmission
    assert.equal(table.size, 0);
    assert.equal(counters.get('tcp_after_close'), 1);
    assert.equal(counters.get('tcp_data_after_close'), 1);
    send(true, 9000, 0, SYN); // a new connection on the same endpoints
    assert.equal(table.size, 1);
    assert.equal(counters.get('flows'), 2);
  }
});
