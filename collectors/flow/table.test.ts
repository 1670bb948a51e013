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
import { readCapture } from '../source/capture.js';
import type { FrameSink } from '../source/types.js';
import { createFlowTable, DEFAULT_FLOW_OPTIONS, DEFAULT_MAX_STATE_BYTES, FLOW_STATE_BYTES } from './table.js';
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
