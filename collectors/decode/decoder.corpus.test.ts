// The decoder against the shared corpus: the number of frames decoded as TCP equals what tshark
// dissects as TCP (test/golden/frames.json, see its notes), plus tunnel spot checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counters } from '../../engine/contracts/counters.js';
import { corpus, needsCorpus, repoRoot } from '../../test/support/paths.js';
import { readCapture } from '../source/capture.js';
import { createDecoder } from './decoder.js';
import { DecodeStatus, formatAddr } from './packet.js';

interface Golden {
  captures: Record<string, { frames: number; tcp: number }>;
}
const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'golden', 'frames.json'), 'utf8')) as Golden;

interface Seen {
  vni: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: string;
}
async function decodeAll(rel: string): Promise<{ tcp: number; counters: Counters; seen: Seen[] }> {
  const counters = new Counters();
  const d = createDecoder({ vxlanPorts: [4789] }, counters);
  const seen: Seen[] = [];
  let tcp = 0;
  await readCapture(corpus(rel), {
    onFrame(frame, lt, ts, wire) {
      if (d.decode(frame, lt, ts, wire) !== DecodeStatus.OK) return;
      tcp++;
      const v = d.view;
      seen.push({
        vni: v.vni,
        src: formatAddr(v.frame, v.srcAddrOff, v.ipVersion),
        dst: formatAddr(v.frame, v.dstAddrOff, v.ipVersion),
        sport: v.srcPort,
        dport: v.dstPort,
        payload: v.frame.toString('latin1', v.payloadOff, v.payloadOff + Math.min(v.payloadLen, 64)),
      });
    },
  });
  return { tcp, counters, seen };
}

describe('decoder on the corpus: TCP frames equal tshark', needsCorpus, () => {
  for (const [rel, want] of Object.entries(golden.captures)) {
    it(rel, async () => {
      const { tcp, counters } = await decodeAll(rel);
      assert.equal(tcp, want.tcp, JSON.stringify(counters.snapshot()));
    });
  }
});

describe('decoder on the corpus: tunnels', needsCorpus, () => {
  it('zeek vxlan-encapsulated-http: VNI 1, inner HTTP to port 80', async () => {
    const { seen } = await decodeAll('pcaps/zeek/tunnels/vxlan-encapsulated-http.pcap');
    assert.equal(seen.length, 12);
    assert.ok(seen.every((s) => s.vni === 1));
    assert.ok(seen.every((s) => s.sport === 80 || s.dport === 80));
    assert.ok(seen.some((s) => s.payload.startsWith('GET /image/svg HTTP/1.1')));
    assert.ok(seen.some((s) => s.payload.startsWith('HTTP/1.1 200')));
  });

  it('suricata vxlan-decoder-03 (AWS traffic mirroring): VNI 5569041, inner SSH in 172.31/16', async () => {
    const { seen, counters } = await decodeAll('pcaps/suricata-verify/vxlan-decoder-03/vxlan.pcap');
    assert.equal(seen.length, 82);
    assert.ok(seen.every((s) => s.vni === 5569041));
    assert.ok(seen.every((s) => s.sport === 22 || s.dport === 22));
    assert.ok(seen.every((s) => s.src.startsWith('172.31.') || s.dst.startsWith('172.31.')));
    assert.deepEqual(Object.keys(counters.snapshot()), ['decode_not_tcp', 'not_tcp_ip_proto_17']);
  });

  it('nDPI vxlan: every TCP frame tunnelled', async () => {
    const { seen } = await decodeAll('pcaps/ndpi/vxlan.pcap');
    assert.equal(seen.length, 119);
    assert.ok(seen.every((s) => s.vni >= 0));
  });

  it('MplsPackets: HTTP GET over double VLAN + MPLS', async () => {
    const { seen } = await decodeAll('pcaps/pcapplusplus/Packet++Test/PacketExamples/MplsPackets.pcap');
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.payload.startsWith('GET /i/?tid=199'));
  });
});
