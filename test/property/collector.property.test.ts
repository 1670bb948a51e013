// Whole-pipeline properties (issue 2): the same TCP byte streams, cut at other points, delivered out of
// order within a direction, or with packets captured twice, give the same exchanges; and the collector
// never throws on random or damaged frames, and everything it emits is a valid exchange/v1.
//
// Method: real captures of the shared corpus are read into memory once (copies of every frame with its
// link type, packet time and wire length) and replayed through createCollector to get the baseline:
// the array of JSON.stringify(exchange). Each mutation of the packet list must give the same array,
// byte for byte (the mutated capture is what a mirror could legitimately have delivered for the same
// conversation). Mutations:
// - duplicate: a packet captured twice (both ends mirrored to one target), the copy right after the
//   original or a few packets later, with the original's timestamp;
// - reorder: adjacent packets of the SAME connection direction swapped, each keeping its timestamp.
//   Never across directions: the HTTP layer pairs a response with the request seen before it (FIFO and
//   "a response cannot start before its request", packet time), so moving client bytes after server
//   bytes legitimately changes pairing; never across other packets either (exchanges of other
//   connections would be emitted in another order). SYN/FIN/RST packets keep their place, and only
//   directions whose SYN was seen are reordered: a mid-stream join starts its stream at the first
//   segment seen, so delivering a later segment first legitimately loses the earlier bytes.
// - resegment: the payload of each direction re-cut at random points into new packets (same link, IP
//   and TCP headers as the original packet holding the new packet's first byte, seq rewritten, IP
//   lengths fixed; checksums are not verified by the collector), placed where that original packet was.
//   Split-only cuts keep every byte in a packet with its original timestamp, so even the times must be
//   identical. Free cuts also MERGE bytes of consecutive packets: a byte then rides in a packet with an
//   earlier timestamp (a message that started in the middle of an original packet now starts in one
//   stamped with an earlier packet's time), so those runs compare with request/response startUs, endUs
//   and latencyUs set to 0; everything else (ids, flow ids, methods, targets, headers, bodies, status,
//   anomalies, quality) must still be identical.
//   Only runs of segments that are contiguous in sequence space, untruncated, not IP fragments, and
//   separated by nothing but pure ACKs of the same connection are re-cut; handshake, teardown,
//   retransmitted and out-of-order packets of the capture stay as they were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { createDecoder, LINKTYPE_VXLAN_PAYLOAD } from '../../collectors/decode/decoder.js';
import { DecodeStatus, TCP_FIN, TCP_RST, TCP_SYN } from '../../collectors/decode/packet.js';
import { httpFrame, tcp, ipv4, ethernet } from '../../collectors/decode/testing.js';
import { readCapture } from '../../collectors/source/capture.js';
import { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { corpus, needsCorpus } from '../support/paths.js';

interface Pkt {
  frame: Buffer;
  linkType: number;
  tsUs: number;
  wireLen: number;
}

/** What the tests need to know of one packet, from the real decoder. */
interface Info {
  tcp: boolean;
  /** Unordered endpoint pair + VNI; '' when not TCP. */
  flow: string;
  /** Directed: src > dst. */
  dir: string;
  flags: number;
  seq: number;
  payloadOff: number;
  payloadLen: number;
  payloadWireLen: number;
  /** The view described this very frame (not a reassembled IP datagram): its headers can be rewritten. */
  plain: boolean;
  /** Offsets of the 16-bit length fields of an outer VXLAN carrier (IPv4 total length, UDP length) that enclose the payload. */
  outerLens: number[];
  /** Offset of the IP header and of the TCP header in `frame`, -1 when not found. */
  ipOff: number;
  ipVersion: number;
  tcpOff: number;
}

const CAPTURES = [
  'zeek/http/pipelined-requests.pcap',
  'zeek/wikipedia.pcap',
  'zeek/http/http-post-large.pcap',
  'arkime/http-100-continue.pcap',
  'zeek/http/docker-http-upgrade.pcap',
  'scapy/http_chunk.pcap.gz',
  'pcapplusplus/Pcap++Test/PcapExamples/three_http_streams.pcap',
  // Beyond the brief's list: IPv6, QinQ, VXLAN, content codings,
  // close-delimited bodies, capture gaps, joins without SYN, evasion-style segmentation.
  'arkime/v6-http.pcap',
  'zeek/http-qinq-0.pcap',
  'zeek/tunnels/vxlan-encapsulated-http.pcap',
  'zeek/http/get-gzip.pcap',
  'suricata-verify/http-brotli-ce/input.pcap',
  'arkime/http-no-length.pcap',
  'zeek/http/entity_gap.pcap',
  'zeek/tcp/missing-syn.pcap',
  'zeek/http/100-continue.pcap',
  'zeek/http/http-desync-request-response-5.pcap',
  'suricata-verify/http-evader/http-evader-332/input.pcap',
  'ndpi/http_ua_splitted_in_two_pkts.pcapng',
  'pcapplusplus/ExamplesTest/pcap_examples/tcp-reassembly.pcap',
  'pcapplusplus/Pcap++Test/PcapExamples/four_ipv6_http_streams.pcap',
] as const;

async function load(rel: string): Promise<Pkt[]> {
  const pkts: Pkt[] = [];
  const res = await readCapture(corpus('pcaps', rel), {
    // Copy: the reader hands out views into its work buffer (FrameSink ownership rule).
    onFrame: (frame, linkType, tsUs, wireLen) => pkts.push({ frame: Buffer.from(frame), linkType, tsUs, wireLen }),
  });
  assert.equal(res.problems.filter((p) => p.fatal).length, 0, `${rel} reads`);
  return pkts;
}

function describePackets(pkts: readonly Pkt[]): Info[] {
  const d = createDecoder({ vxlanPorts: DEFAULT_COLLECTOR_OPTIONS.vxlanPorts }, new Counters());
  const v = d.view;
  return pkts.map((p) => {
    const st = d.decode(p.frame, p.linkType, p.tsUs, p.wireLen);
    if (st !== DecodeStatus.OK) {
      return {
        tcp: false,
        flow: '',
        dir: '',
        flags: 0,
        seq: 0,
        payloadOff: 0,
        payloadLen: 0,
        payloadWireLen: 0,
        plain: false,
        outerLens: [],
        ipOff: -1,
        ipVersion: 0,
        tcpOff: -1,
      };
    }
    const alen = v.ipVersion === 4 ? 4 : 16;
    const src = `${v.frame.toString('hex', v.srcAddrOff, v.srcAddrOff + alen)}:${v.srcPort}`;
    const dst = `${v.frame.toString('hex', v.dstAddrOff, v.dstAddrOff + alen)}:${v.dstPort}`;
    let plain = v.frame === p.frame;
    const outerLens: number[] = [];
    if (plain && v.vni >= 0) {
      // One VXLAN level over untagged Ethernet/IPv4/UDP (what the corpus has): its lengths grow with the payload.
      const ihl = ((p.frame[14] ?? 0) & 0x0f) * 4;
      if (
        p.linkType === 1 &&
        p.frame.readUInt16BE(12) === 0x0800 &&
        p.frame[23] === 17 &&
        p.frame.readUInt16BE(14 + ihl + 2) === 4789 &&
        v.srcAddrOff > 14 + ihl + 16
      )
        outerLens.push(16, 14 + ihl + 4);
      else plain = false;
    }
    let tcpOff = -1;
    let ipOff = -1;
    if (plain) {
      // The TCP header ends where the payload starts: find the offset whose data-offset field, ports
      // and sequence number agree with the view.
      for (let o = v.payloadOff - 20; o >= Math.max(0, v.payloadOff - 60); o -= 4) {
        if (
          ((p.frame[o + 12] ?? 0) >> 4) * 4 === v.payloadOff - o &&
          p.frame.readUInt16BE(o) === v.srcPort &&
          p.frame.readUInt16BE(o + 2) === v.dstPort &&
          p.frame.readUInt32BE(o + 4) === v.seq
        ) {
          tcpOff = o;
          break;
        }
      }
      ipOff = v.srcAddrOff - (v.ipVersion === 4 ? 12 : 8);
      if (ipOff < 0 || (p.frame[ipOff] ?? 0) >> 4 !== v.ipVersion) ipOff = -1;
    }
    return {
      tcp: true,
      flow: (src < dst ? src + dst : dst + src) + String(v.vni),
      dir: `${src}>${dst}`,
      flags: v.tcpFlags,
      seq: v.seq,
      payloadOff: v.payloadOff,
      payloadLen: v.payloadLen,
      payloadWireLen: v.payloadWireLen,
      plain: plain && tcpOff >= 0 && ipOff >= 0,
      outerLens,
      ipOff,
      ipVersion: v.ipVersion,
      tcpOff,
    };
  });
}

/** Replay through the whole collector; the exchanges as JSON lines, in emission order. */
function run(pkts: readonly Pkt[], counters = new Counters()): string[] {
  const out: string[] = [];
  const c = createCollector(DEFAULT_COLLECTOR_OPTIONS, (ex) => out.push(JSON.stringify(ex)), counters);
  for (const p of pkts) c.onFrame(p.frame, p.linkType, p.tsUs, p.wireLen);
  c.finish();
  return out;
}

/** Message times set to 0 (see the file comment: merged cuts move a message start to an earlier packet). */
function withoutTimes(lines: readonly string[]): string[] {
  return lines.map((l) => {
    const ex = JSON.parse(l) as Exchange;
    if (ex.request !== null) {
      ex.request.startUs = 0;
      ex.request.endUs = 0;
    }
    if (ex.response !== null) {
      ex.response.startUs = 0;
      ex.response.endUs = 0;
    }
    if (ex.latencyUs !== null) ex.latencyUs = 0;
    return JSON.stringify(ex);
  });
}

// ---------------------------------------------------------------------------------------------------
// Mutations. All are pure: they return a new packet list (frames shared unless rebuilt).

const CONTROL = TCP_SYN | TCP_FIN | TCP_RST;

/**
 * Insert a copy of packet `i` after packet `i + delay` (clamped to the end), for each [i, delay]. The
 * copy has the original's timestamp, or with `laterTs` the timestamp of the packet it follows (the
 * second tap's copy arriving later), never earlier than the original's.
 */
function duplicate(pkts: readonly Pkt[], picks: readonly (readonly [number, number])[], laterTs = false): Pkt[] {
  const after = new Map<number, Pkt[]>();
  for (const [raw, delay] of picks) {
    const i = raw % pkts.length;
    const at = Math.min(pkts.length - 1, i + delay);
    const list = after.get(at) ?? [];
    const orig = pkts[i]!;
    list.push(laterTs ? { ...orig, tsUs: Math.max(orig.tsUs, pkts[at]!.tsUs) } : orig);
    after.set(at, list);
  }
  const out: Pkt[] = [];
  pkts.forEach((p, i) => {
    out.push(p);
    for (const c of after.get(i) ?? []) out.push({ ...c });
  });
  return out;
}

/**
 * Which packets may move: TCP, not SYN/FIN/RST, in a direction whose SYN was already seen, and either
 * without payload or carrying the next bytes in sequence. A retransmission (or a segment the capture
 * itself had out of order) stays: moving a later copy of bytes ahead of the first one legitimately
 * changes their timestamp (first copy wins).
 */
function movable(infos: readonly Info[]): boolean[] {
  const next = new Map<string, number>();
  return infos.map((inf) => {
    if (!inf.tcp) return false;
    if ((inf.flags & TCP_SYN) !== 0) {
      next.set(inf.dir, (inf.seq + 1) >>> 0);
      return false;
    }
    const want = next.get(inf.dir);
    if ((inf.flags & CONTROL) !== 0 || want === undefined) return false;
    if (inf.payloadWireLen === 0) return true;
    if (inf.seq !== want) return false;
    next.set(inf.dir, (inf.seq + inf.payloadWireLen) >>> 0);
    return true;
  });
}

/** How far (at most `dist` places) packet j may move earlier: past packets of its own connection only, of its own direction or without payload. */
function reach(infos: readonly Info[], j: number, dist: number): number {
  const a = infos[j]!;
  let k = j;
  while (k > 0 && j - k < dist) {
    const b = infos[k - 1]!;
    if (b.flow !== a.flow || (b.flags & CONTROL) !== 0 || (b.dir !== a.dir && b.payloadWireLen > 0)) break;
    k--;
  }
  return k;
}

/**
 * For each [pick, dist]: one movable data segment that can overtake a data segment of its own
 * direction (chosen by `pick` among those) moves up to `dist` places earlier, past packets of its own
 * connection only, of its own direction or pure ACKs. It then reaches the reassembler ahead of the
 * segments it passed (held out of order), and its bytes still reach the HTTP layer at the same point
 * relative to the other direction's bytes.
 */
function reorder(
  pkts: readonly Pkt[],
  infos: readonly Info[],
  moves: readonly (readonly [number, number])[],
): { pkts: Pkt[]; moved: number } {
  const p = [...pkts];
  const inf = [...infos];
  const mov = movable(infos);
  let moved = 0;
  for (const [pick, dist] of moves) {
    const candidates: number[] = [];
    for (let j = 1; j < p.length; j++) {
      if (!mov[j] || inf[j]!.payloadWireLen === 0) continue;
      const k = reach(inf, j, dist);
      for (let m = k; m < j; m++) {
        if (inf[m]!.dir === inf[j]!.dir && inf[m]!.payloadWireLen > 0) {
          candidates.push(j);
          break;
        }
      }
    }
    if (candidates.length === 0) break;
    const j = candidates[pick % candidates.length]!;
    const k = reach(inf, j, dist);
    p.splice(k, 0, ...p.splice(j, 1));
    inf.splice(k, 0, ...inf.splice(j, 1));
    mov.splice(k, 0, ...mov.splice(j, 1));
    moved++;
  }
  return { pkts: p, moved };
}

/** A small deterministic PRNG (mulberry32): cut points come from a seed fast-check chooses. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A copy of `p` (whose headers `inf` located) carrying `payload` at sequence `seq`. */
function rebuild(p: Pkt, inf: Info, seq: number, payload: Buffer): Pkt {
  const head = Buffer.from(p.frame.subarray(0, inf.payloadOff)); // copy: headers are rewritten
  head.writeUInt32BE(seq >>> 0, inf.tcpOff + 4);
  if (inf.ipVersion === 4) head.writeUInt16BE(inf.payloadOff - inf.ipOff + payload.length, inf.ipOff + 2);
  else head.writeUInt16BE(inf.payloadOff - inf.ipOff - 40 + payload.length, inf.ipOff + 4);
  for (const o of inf.outerLens) head.writeUInt16BE(head.readUInt16BE(o) + payload.length - inf.payloadLen, o);
  const frame = Buffer.concat([head, payload]);
  return { frame, linkType: p.linkType, tsUs: p.tsUs, wireLen: frame.length };
}

const dataSegment = (inf: Info): boolean =>
  inf.tcp && inf.plain && (inf.flags & CONTROL) === 0 && inf.payloadLen > 0 && inf.payloadLen === inf.payloadWireLen;
const pureAck = (inf: Info): boolean => inf.tcp && (inf.flags & CONTROL) === 0 && inf.payloadWireLen === 0;

interface ResegmentOpts {
  seed: number;
  /** Largest new segment (bytes); sizes are skewed towards 1. */
  maxSeg: number;
  /** Only split original segments (every byte keeps its packet's timestamp), never merge them. */
  splitOnly: boolean;
  /** Probability that a run is re-cut at all (keeps the packet count bounded on big captures). */
  share: number;
}

/** The new packet list, and how many original data segments were replaced by how many new ones. */
function resegment(
  pkts: readonly Pkt[],
  infos: readonly Info[],
  o: ResegmentOpts,
): { pkts: Pkt[]; replaced: number; added: number } {
  const r = rng(o.seed);
  const size = (): number => 1 + Math.floor(r() ** 3 * o.maxSeg);
  // New packets placed at the index of the original packet they replace (its first byte's packet).
  const placed = new Map<number, Pkt[]>();
  const replaced = new Set<number>();
  const inRun = new Set<number>();
  for (let i = 0; i < pkts.length; i++) {
    const first = infos[i]!;
    if (inRun.has(i) || !dataSegment(first)) continue;
    // Grow the run: contiguous segments of the same direction, only pure ACKs of this connection between.
    const run = [i];
    let next = (first.seq + first.payloadLen) >>> 0;
    for (let j = i + 1; j < pkts.length; j++) {
      const inf = infos[j]!;
      if (inf.flow !== first.flow) break;
      if (inf.dir === first.dir && dataSegment(inf) && inf.seq === next) {
        run.push(j);
        next = (inf.seq + inf.payloadLen) >>> 0;
        continue;
      }
      if (pureAck(inf)) continue;
      break;
    }
    for (const j of run) inRun.add(j);
    if (r() >= o.share) continue;
    for (const j of run) replaced.add(j);
    if (o.splitOnly) {
      for (const j of run) {
        const inf = infos[j]!;
        const pl = pkts[j]!.frame.subarray(inf.payloadOff, inf.payloadOff + inf.payloadLen);
        const list: Pkt[] = [];
        for (let off = 0; off < pl.length;) {
          const n = Math.min(size(), pl.length - off);
          list.push(rebuild(pkts[j]!, inf, inf.seq + off, pl.subarray(off, off + n)));
          off += n;
        }
        placed.set(j, list);
      }
      continue;
    }
    // Free cuts over the whole run: owner[k] = index of the original packet holding byte k.
    const parts = run.map((j) =>
      pkts[j]!.frame.subarray(infos[j]!.payloadOff, infos[j]!.payloadOff + infos[j]!.payloadLen),
    );
    const bytes = Buffer.concat(parts);
    const owner: number[] = [];
    run.forEach((j, k) => {
      for (let b = 0; b < parts[k]!.length; b++) owner.push(j);
    });
    for (let off = 0; off < bytes.length;) {
      const n = Math.min(size(), bytes.length - off);
      const j = owner[off]!;
      const list = placed.get(j) ?? [];
      list.push(rebuild(pkts[j]!, infos[j]!, first.seq + off, bytes.subarray(off, off + n)));
      placed.set(j, list);
      off += n;
    }
  }
  const out: Pkt[] = [];
  let added = 0;
  pkts.forEach((p, i) => {
    if (!replaced.has(i)) {
      out.push(p);
      return;
    }
    const list = placed.get(i) ?? [];
    added += list.length;
    out.push(...list);
  });
  return { pkts: out, replaced: replaced.size, added };
}

// ---------------------------------------------------------------------------------------------------

interface Loaded {
  rel: string;
  pkts: Pkt[];
  infos: Info[];
  baseline: string[];
}
const loaded: Loaded[] = [];
async function captures(): Promise<Loaded[]> {
  if (loaded.length === 0) {
    for (const rel of CAPTURES) {
      const pkts = await load(rel);
      loaded.push({ rel, pkts, infos: describePackets(pkts), baseline: run(pkts) });
    }
  }
  return loaded;
}

const captureIndex = fc.nat(CAPTURES.length - 1);
const dupPicks = fc.array(fc.tuple(fc.nat(), fc.nat(4)), { minLength: 1, maxLength: 12 });
const swapPicks = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 20 });
const cutOpts = fc.record({
  seed: fc.nat(),
  maxSeg: fc.integer({ min: 1, max: 1600 }),
  share: fc.double({ min: 0.2, max: 1, noNaN: true }),
});

describe('collector properties: same streams, same exchanges', needsCorpus, () => {
  it('the baselines are non-trivial', async () => {
    for (const c of await captures()) {
      assert.ok(c.baseline.length > 0, `${c.rel} gives exchanges`);
      assert.deepEqual(run(c.pkts), c.baseline, `${c.rel} is deterministic`);
      assert.ok(c.infos.some(dataSegment), `${c.rel} has re-cuttable segments`);
    }
  });

  it('every capture cut into one-byte segments gives the same exchanges, times included', async () => {
    for (const c of await captures()) {
      const m = resegment(c.pkts, c.infos, { seed: 1, maxSeg: 0, share: 1, splitOnly: true });
      assert.ok(m.added > m.replaced, `${c.rel} was re-cut`);
      assert.deepEqual(run(m.pkts), c.baseline, c.rel);
    }
  });

  it('duplicated packets (captured twice) change nothing', async () => {
    const cs = await captures();
    let runs = 0,
      retrans = 0;
    fc.assert(
      fc.property(captureIndex, dupPicks, fc.boolean(), (ci, picks, laterTs) => {
        const c = cs[ci]!;
        const counters = new Counters();
        runs++;
        assert.deepEqual(run(duplicate(c.pkts, picks, laterTs), counters), c.baseline);
        if (counters.get('tcp_retransmission') > 0) retrans++;
      }),
      { numRuns: 150 },
    );
    assert.ok(retrans * 2 > runs, `most runs fed the reassembler a duplicate segment (${retrans}/${runs})`);
  });

  it('same-direction reordering within a window changes nothing', async () => {
    const cs = await captures();
    let runs = 0,
      held = 0;
    fc.assert(
      fc.property(captureIndex, swapPicks, (ci, swaps) => {
        const c = cs[ci]!;
        const m = reorder(c.pkts, c.infos, swaps);
        const counters = new Counters();
        runs++;
        assert.deepEqual(run(m.pkts, counters), c.baseline);
        if (counters.get('tcp_out_of_order') > 0) held++;
      }),
      { numRuns: 150 },
    );
    assert.ok(held * 3 > runs, `many runs made the reassembler hold a segment (${held}/${runs})`);
  });

  it('re-segmentation by splitting packets changes nothing, times included', async () => {
    const cs = await captures();
    let runs = 0,
      cut = 0;
    fc.assert(
      fc.property(captureIndex, cutOpts, (ci, o) => {
        const c = cs[ci]!;
        const m = resegment(c.pkts, c.infos, { ...o, splitOnly: true });
        runs++;
        if (m.added > m.replaced) cut++;
        assert.deepEqual(run(m.pkts), c.baseline);
      }),
      { numRuns: 100 },
    );
    assert.ok(cut * 2 > runs, `most runs re-cut something (${cut}/${runs})`);
  });

  it('re-segmentation at free cut points changes nothing but message times', async () => {
    const cs = await captures();
    let runs = 0,
      cut = 0;
    fc.assert(
      fc.property(captureIndex, cutOpts, (ci, o) => {
        const c = cs[ci]!;
        const m = resegment(c.pkts, c.infos, { ...o, splitOnly: false });
        runs++;
        if (m.replaced > 0) cut++;
        assert.deepEqual(withoutTimes(run(m.pkts)), withoutTimes(c.baseline));
      }),
      { numRuns: 100 },
    );
    assert.ok(cut * 2 > runs, `most runs re-cut something (${cut}/${runs})`);
  });

  it('combined: split, then reorder, then duplicate', async () => {
    const cs = await captures();
    fc.assert(
      fc.property(captureIndex, cutOpts, swapPicks, dupPicks, (ci, o, swaps, picks) => {
        const c = cs[ci]!;
        const cut = resegment(c.pkts, c.infos, { ...o, splitOnly: true }).pkts;
        const moved = reorder(cut, describePackets(cut), swaps).pkts;
        assert.deepEqual(run(duplicate(moved, picks)), c.baseline);
      }),
      { numRuns: 80 },
    );
  });

  it('combined: free cuts, then reorder, then duplicate (times normalised)', async () => {
    const cs = await captures();
    fc.assert(
      fc.property(captureIndex, cutOpts, swapPicks, dupPicks, (ci, o, swaps, picks) => {
        const c = cs[ci]!;
        const cut = resegment(c.pkts, c.infos, { ...o, splitOnly: false }).pkts;
        const moved = reorder(cut, describePackets(cut), swaps).pkts;
        assert.deepEqual(withoutTimes(run(duplicate(moved, picks))), withoutTimes(c.baseline));
      }),
      { numRuns: 80 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------

const LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, LINKTYPE_VXLAN_PAYLOAD, 147];

/** Run frames through a collector; it must not throw and everything it emits must be exchange/v1. */
function runChecked(frames: Iterable<Pkt>): number {
  let n = 0;
  const c = createCollector(
    DEFAULT_COLLECTOR_OPTIONS,
    (ex) => {
      const parsed = Exchange.safeParse(JSON.parse(JSON.stringify(ex)));
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      n++;
    },
    new Counters(),
  );
  for (const p of frames) c.onFrame(p.frame, p.linkType, p.tsUs, p.wireLen);
  c.finish();
  return n;
}

describe('collector properties: never throws, emits only valid exchanges', () => {
  it('random bytes as frames of every link type', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...LINKTYPES), fc.nat(2000), fc.nat(4000)),
          { maxLength: 60 },
        ),
        (frames) => {
          let ts = 1_700_000_000_000_000;
          runChecked(
            frames.map(([b, lt, dt, wire]) => ({
              frame: Buffer.from(b),
              linkType: lt,
              tsUs: (ts += dt),
              wireLen: Math.max(wire, b.length),
            })),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  // Random bytes rarely form a TCP packet; these are valid Ethernet/IPv4/TCP frames of one connection
  // with random flags, sequence numbers and HTTP-ish payloads, so the flow, reassembly and HTTP layers
  // see garbage too.
  const token = fc.constantFrom(
    'GET / HTTP/1.1\r\n',
    'POST /a?b=c HTTP/1.0\r\n',
    'HTTP/1.1 200 OK\r\n',
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 204 No Content\r\n',
    'Host: x\r\n',
    'Content-Length: 5\r\n',
    'Content-Length: -1\r\n',
    'Transfer-Encoding: chunked\r\n',
    'Content-Encoding: gzip\r\n',
    'Connection: upgrade\r\nUpgrade: websocket\r\n',
    '\r\n',
    '5\r\nhello\r\n',
    '0\r\n\r\n',
    'ffffffff\r\n',
    'HEAD / HTTP/1.1\r\n',
    'CONNECT a:443 HTTP/1.1\r\n',
    '\x00\xff',
    'x'.repeat(100),
  );
  const payload = fc.oneof(
    fc.array(token, { maxLength: 8 }).map((t) => Buffer.from(t.join(''), 'latin1')),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );
  it('random TCP segments with HTTP-ish payloads in one connection', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            toServer: fc.boolean(),
            seq: fc.integer({ min: 0, max: 3000 }),
            flags: fc.nat(0x3f),
            payload,
            dt: fc.nat(500_000),
            cut: fc.nat(40),
          }),
          { maxLength: 40 },
        ),
        fc.nat(0xffffffff),
        (segs, isn) => {
          let ts = 1_700_000_000_000_000;
          runChecked(
            segs.map((s) => {
              const t = tcp(
                {
                  sport: s.toServer ? 40000 : 80,
                  dport: s.toServer ? 80 : 40000,
                  seq: isn + s.seq,
                  ack: isn + 3000,
                  flags: s.flags,
                },
                s.payload,
              );
              const f = ethernet(
                0x0800,
                ipv4(
                  { proto: 6, src: s.toServer ? '10.0.0.1' : '10.0.0.2', dst: s.toServer ? '10.0.0.2' : '10.0.0.1' },
                  t,
                ),
              );
              const cut = Math.max(0, f.length - s.cut);
              return { frame: f.subarray(0, cut), linkType: 1, tsUs: (ts += s.dt), wireLen: f.length };
            }),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('real captures with random bit flips and truncations', needsCorpus, async () => {
    const cs = await captures();
    fc.assert(
      fc.property(
        captureIndex,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(7)), { minLength: 1, maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
        (ci, flips, cuts) => {
          const c = cs[ci]!;
          const pkts = c.pkts.map((p) => ({ ...p }));
          for (const [pi, bi, bit] of flips) {
            const p = pkts[pi % pkts.length]!;
            if (p.frame.length === 0) continue;
            const f = Buffer.from(p.frame); // copy: the loaded capture is shared by the tests
            f[bi % f.length]! ^= 1 << bit;
            p.frame = f;
          }
          for (const [pi, len] of cuts) {
            const p = pkts[pi % pkts.length]!;
            p.frame = p.frame.subarray(0, len % (p.frame.length + 1));
          }
          runChecked(pkts);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a valid frame builder round-trips (sanity for the fuzzers above)', () => {
    assert.equal(runChecked([{ frame: httpFrame(), linkType: 1, tsUs: 1, wireLen: httpFrame().length }]), 1);
  });
});
