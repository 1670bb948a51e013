// Flow table: decoded TCP packets → connections, each with two reassembled directions and an HTTP
// parser on top.
//
// Contract:
// - A connection is keyed by VNI + tunnel identity (kind, id) + the unordered pair of (address, port) endpoints, so both
//   directions meet in one entry and the same conversation mirrored twice (both ends mirrored to one
//   target) lands in one entry too; the reassembler then drops the second copy of every segment.
// - Client/server orientation comes from the handshake (SYN sender is the client; a SYN+ACK seen first
//   names the server), else from ports (the side on a well-known or lower port is the server), and the
//   HTTP layer may still swap it when it sees responses flowing the other way.
// - Time is packet time only. Idle flows expire when packet time has moved `idleTimeoutUs` past their
//   last packet; the table is capped and evicts the stalest flows, counted as flow_evicted.
// - Flows are created only by a SYN or by a packet carrying payload (a stray ACK, FIN or RST of an
//   unknown connection is counted, not tracked).
import { hash } from 'node:crypto';
import type { Counters } from '../../engine/telemetry/counters.js';
import {
  formatAddr,
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TUNNEL,
  TUNNEL_KINDS,
  tunnelKey,
  type PacketView,
} from '../decode/packet.js';
import type { ConnectionMeta, Direction, EndReason, HttpConnection } from '../http/types.js';
import { StreamReassembler, type Budget, type StreamLimits, type StreamOutput } from '../reassembly/stream.js';

export interface FlowTableOptions extends StreamLimits {
  maxFlows: number;
  idleTimeoutUs: number;
  /** Total out-of-order bytes held across all flows. */
  maxTotalBufferedBytes: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  maxFlows: 100_000,
  idleTimeoutUs: 300_000_000,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxBufferedSegments: 2048,
  reorderWindowUs: 200_000,
};

export const FLOW_ANOMALIES = {
  flow_evicted: 'the flow table was full; the stalest flow was ended early',
  flow_idle_expired: 'a flow saw no packet for the idle timeout (packet time) and was ended',
  flow_stray_control: 'an ACK/FIN/RST without payload for a connection never tracked (capture joined after its data)',
  tcp_data_after_close: 'payload without SYN on a connection that just ended (late retransmission); ignored',
  flow_one_sided: 'a connection ended having seen only one direction',
} as const;

/** Creates the HTTP layer for a new connection (the collector injects it; keeps flow/ free of http policy). */
export type ConnectionFactory = (meta: ConnectionMeta) => HttpConnection;

const WELL_KNOWN_SERVER_PORTS = new Set([
  80, 8080, 8000, 8008, 8081, 8443, 443, 3000, 5000, 9200, 2375, 2376, 8888, 9000,
]);

class Flow {
  /** Per direction (0 = client→server as oriented): reassembler. */
  readonly streams: [StreamReassembler, StreamReassembler];
  /** Address bytes of the side we call client, for packet direction tests. */
  clientKey: string;
  lastUs: number;
  seen: [boolean, boolean] = [false, false];
  http: HttpConnection | null = null;
  meta: ConnectionMeta;
  ended = false;
  /**
   * IPv4 flows only (else -1): endpoints as addr * 65536 + port (exact below 2^48), the smaller one
   * first, and the client's; the index bucket (V4Index) and the next flow in it.
   */
  lo4 = -1;
  hi4 = -1;
  client4 = -1;
  vni = -1;
  tkey = -1;
  bucket = 0;
  nextInBucket: Flow | null = null;

  constructor(
    readonly key: string,
    clientKey: string,
    meta: ConnectionMeta,
    firstUs: number,
    limits: StreamLimits,
    budget: Budget,
    counters: Counters,
    private readonly factory: ConnectionFactory,
  ) {
    this.clientKey = clientKey;
    this.meta = meta;
    this.lastUs = firstUs;
    this.streams = [
      new StreamReassembler(this.sink(0), limits, budget, counters),
      new StreamReassembler(this.sink(1), limits, budget, counters),
    ];
  }

  /** Reassembled output of one direction goes to the HTTP layer, created on the first byte or gap. */
  private sink(dir: Direction): StreamOutput {
    return {
      data: (bytes, tsUs) => this.conn().onData(dir, bytes, tsUs),
      gap: (length, tsUs) => this.conn().onGap(dir, length, tsUs),
      truncated: () => this.conn().onTruncated(dir),
    };
  }

  private conn(): HttpConnection {
    if (this.http === null) this.http = this.factory(this.meta);
    return this.http;
  }

  end(tsUs: number, reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    this.streams[0].flush(tsUs);
    this.streams[1].flush(tsUs);
    this.streams[0].release();
    this.streams[1].release();
    const oneSided = !(this.seen[0] && this.seen[1]);
    if (this.http !== null) this.http.onEnd(tsUs, reason, oneSided);
  }
}

export interface FlowTable {
  /** A decoded TCP packet (view valid only during the call). */
  packet(v: PacketView): void;
  /** End every flow (end of capture), in creation order. */
  finish(tsUs: number): void;
  readonly size: number;
}

/**
 * IPv4 flows by a symmetric 32-bit hash of (endpoints, VNI), chained through Flow.nextInBucket: the
 * per-packet lookup builds no string (was two latin1 strings and three concatenations per packet,
 * hashed again by the Map). IPv6 flows and the `closed` map keep string keys.
 */
class V4Index {
  private readonly buckets = new Map<number, Flow>();

  static hash(a: number, b: number, vni: number, tkey: number): number {
    return (mix48(a) + mix48(b)) ^ Math.imul(vni + 1, 0x9e3779b1) ^ (tkey < 0 ? 0 : mix48(tkey));
  }

  find(h: number, lo: number, hi: number, vni: number, tkey: number): Flow | undefined {
    let f: Flow | null | undefined = this.buckets.get(h);
    while (f !== undefined && f !== null) {
      if (f.lo4 === lo && f.hi4 === hi && f.vni === vni && f.tkey === tkey) return f;
      f = f.nextInBucket;
    }
    return undefined;
  }

  add(f: Flow): void {
    f.nextInBucket = this.buckets.get(f.bucket) ?? null;
    this.buckets.set(f.bucket, f);
  }

  remove(f: Flow): void {
    const head = this.buckets.get(f.bucket);
    if (head === f) {
      if (f.nextInBucket === null) this.buckets.delete(f.bucket);
      else this.buckets.set(f.bucket, f.nextInBucket);
    } else {
      let p: Flow | null | undefined = head;
      while (p !== undefined && p !== null && p.nextInBucket !== f) p = p.nextInBucket;
      if (p !== undefined && p !== null) p.nextInBucket = f.nextInBucket;
    }
    f.nextInBucket = null;
  }
}

/** 32-bit mix of a 48-bit endpoint number (addr * 65536 + port). */
function mix48(x: number): number {
  const hi = (x / 65536) >>> 0;
  const lo = x & 0xffff;
  let h = Math.imul(hi ^ (hi >>> 16), 0x85ebca6b) ^ Math.imul(lo + 0x6b43, 0xc2b2ae35);
  h ^= h >>> 13;
  return Math.imul(h, 0x27d4eb2f) | 0;
}

interface FlowKeys {
  key: string;
  srcKey: string;
  dstKey: string;
}

/** The string keys (`flows` and `closed` maps): address bytes + port per endpoint; the lower endpoint first, + VNI (+ tunnel). */
function flowKeys(v: PacketView, alen: number): FlowKeys {
  const srcKey =
    v.frame.toString('latin1', v.srcAddrOff, v.srcAddrOff + alen) +
    String.fromCharCode(v.srcPort >> 8, v.srcPort & 0xff);
  const dstKey =
    v.frame.toString('latin1', v.dstAddrOff, v.dstAddrOff + alen) +
    String.fromCharCode(v.dstPort >> 8, v.dstPort & 0xff);
  const pair = srcKey < dstKey ? srcKey + dstKey : dstKey + srcKey;
  const key = v.tunnelKind === TUNNEL.NONE ? pair + String(v.vni) : `${pair}${v.vni}|${tunnelKey(v)}`;
  return { key, srcKey, dstKey };
}

export function createFlowTable(opts: FlowTableOptions, factory: ConnectionFactory, counters: Counters): FlowTable {
  /** Every flow by its string key, in creation order (finish() and sweeps go in this order). */
  const flows = new Map<string, Flow>();
  const v4 = new V4Index();
  // Connections that ended recently (key → packet time of the end), so the trailing ACKs of a close
  // and late retransmissions are recognised instead of starting a mid-stream flow. Bounded: oldest
  // entries go first (Map keeps insertion order).
  const closed = new Map<string, number>();
  const CLOSED_MAX = 65_536;
  const CLOSED_TTL_US = 120_000_000;
  const budget: Budget = { used: 0, limit: opts.maxTotalBufferedBytes };
  let nextSweepUs = -1;
  const sweepEveryUs = Math.max(1_000_000, Math.floor(opts.idleTimeoutUs / 10));

  function endFlow(f: Flow, tsUs: number, reason: EndReason): void {
    flows.delete(f.key);
    if (f.lo4 >= 0) v4.remove(f);
    if (reason === 'fin' || reason === 'rst') {
      closed.delete(f.key);
      closed.set(f.key, tsUs);
      if (closed.size > CLOSED_MAX) {
        const oldest = closed.keys().next();
        if (oldest.done !== true) closed.delete(oldest.value);
      }
    }
    if (!(f.seen[0] && f.seen[1])) counters.inc('flow_one_sided');
    f.end(tsUs, reason);
  }

  function sweep(nowUs: number): void {
    for (const f of [...flows.values()]) {
      if (nowUs - f.lastUs >= opts.idleTimeoutUs) {
        counters.inc('flow_idle_expired');
        endFlow(f, f.lastUs, 'idle');
      }
    }
  }

  function evict(nowUs: number): void {
    // Evict the stalest 1% (at least one) in one pass, so a full table costs O(n) once per many inserts.
    const n = Math.max(1, Math.floor(opts.maxFlows / 100));
    const stalest = [...flows.values()].sort((a, b) => a.lastUs - b.lastUs).slice(0, n);
    for (const f of stalest) {
      counters.inc('flow_evicted');
      endFlow(f, nowUs, 'evicted');
    }
  }

  return {
    get size() {
      return flows.size;
    },

    packet(v: PacketView): void {
      const now = v.tsUs;
      if (nextSweepUs < 0) nextSweepUs = now + sweepEveryUs;
      else if (now >= nextSweepUs) {
        sweep(now);
        nextSweepUs = now + sweepEveryUs;
      }

      const isV4 = v.ipVersion === 4;
      const alen = isV4 ? 4 : 16;
      // IPv4: endpoints as numbers, no string per packet (their order equals the byte order of the
      // string keys). IPv6: the string keys.
      let src4 = -1;
      let dst4 = -1;
      let bucket = 0;
      let keys: FlowKeys | null = null;
      let f: Flow | undefined;
      if (isV4) {
        src4 = v.frame.readUInt32BE(v.srcAddrOff) * 65536 + v.srcPort;
        dst4 = v.frame.readUInt32BE(v.dstAddrOff) * 65536 + v.dstPort;
        const tk = tunnelKey(v);
        bucket = V4Index.hash(src4, dst4, v.vni, tk);
        f = src4 < dst4 ? v4.find(bucket, src4, dst4, v.vni, tk) : v4.find(bucket, dst4, src4, v.vni, tk);
      } else {
        keys = flowKeys(v, alen);
        f = flows.get(keys.key);
      }
      const flags = v.tcpFlags;
      const syn = (flags & TCP_SYN) !== 0;
      const ack = (flags & TCP_ACK) !== 0;

      if (f === undefined) {
        keys ??= flowKeys(v, alen);
        const { key, srcKey, dstKey } = keys;
        const endedUs = closed.get(key);
        if (endedUs !== undefined && !syn) {
          if (now - endedUs < CLOSED_TTL_US) {
            counters.inc(v.payloadWireLen > 0 ? 'tcp_data_after_close' : 'tcp_after_close');
            return;
          }
          closed.delete(key);
        }
        if (!syn && v.payloadWireLen === 0) {
          counters.inc('flow_stray_control');
          return;
        }
        if (syn) closed.delete(key);
        if (flows.size >= opts.maxFlows) evict(now);
        // Orientation.
        let srcIsClient: boolean;
        let handshake = false;
        if (syn && !ack) {
          srcIsClient = true;
          handshake = true;
        } else if (syn && ack) {
          srcIsClient = false;
          handshake = true;
        } else srcIsClient = guessSrcIsClient(v.srcPort, v.dstPort);
        const src = { ip: formatAddr(v.frame, v.srcAddrOff, v.ipVersion), port: v.srcPort };
        const dst = { ip: formatAddr(v.frame, v.dstAddrOff, v.ipVersion), port: v.dstPort };
        const client = srcIsClient ? src : dst;
        const server = srcIsClient ? dst : src;
        const vni = v.vni >= 0 ? v.vni : null;
        const tunnel = v.tunnelKind === TUNNEL.NONE ? null : { kind: TUNNEL_KINDS[v.tunnelKind] ?? '', id: v.tunnelId };
        // A VXLAN tunnel whose id is the VNI adds nothing to the VNI: such flow ids stay what they were
        // before tunnels were generalised.
        const tpart =
          tunnel === null || (v.tunnelKind === TUNNEL.VXLAN && v.tunnelId === v.vni)
            ? ''
            : `${tunnel.kind}:${tunnel.id}|`;
        const flowId = hash(
          'sha256',
          `${vni ?? ''}|${tpart}${client.ip}|${client.port}|${server.ip}|${server.port}|${now}`,
          'hex',
        ).slice(0, 16);
        const meta: ConnectionMeta = { flowId, vni, tunnel, client, server, handshake };
        f = new Flow(key, srcIsClient ? srcKey : dstKey, meta, now, opts, budget, counters, factory);
        flows.set(key, f);
        if (isV4) {
          f.lo4 = Math.min(src4, dst4);
          f.hi4 = Math.max(src4, dst4);
          f.client4 = srcIsClient ? src4 : dst4;
          f.vni = v.vni;
          f.tkey = tunnelKey(v);
          f.bucket = bucket;
          v4.add(f);
        }
        counters.inc('flows');
      }

      f.lastUs = now;
      counters.inc('tcp_segments_tracked');
      const dir: Direction = (isV4 ? src4 === f.client4 : keys?.srcKey === f.clientKey) ? 0 : 1;
      const other: Direction = dir === 0 ? 1 : 0;
      f.seen[dir] = true;
      const s = f.streams[dir];
      if (syn) s.syn(v.seq);
      const fin = (flags & TCP_FIN) !== 0;
      if (v.payloadWireLen > 0 || fin) {
        // A SYN occupies one sequence number: data on a SYN (TFO) starts at seq + 1.
        const seq = syn ? (v.seq + 1) >>> 0 : v.seq;
        s.segment(seq, v.frame, v.payloadOff, v.payloadLen, v.payloadWireLen, fin, now);
      }
      if (ack) f.streams[other].peerAck(v.ack, now);

      if ((flags & TCP_RST) !== 0) {
        endFlow(f, now, 'rst');
        return;
      }
      if (f.streams[0].closed && (f.streams[1].closed || !f.seen[1])) endFlow(f, now, 'fin');
      else if (f.streams[1].closed && !f.seen[0]) endFlow(f, now, 'fin');
    },

    finish(tsUs: number): void {
      for (const f of [...flows.values()]) endFlow(f, Math.max(tsUs, f.lastUs), 'eof');
    },
  };
}

function guessSrcIsClient(srcPort: number, dstPort: number): boolean {
  const srcWk = WELL_KNOWN_SERVER_PORTS.has(srcPort);
  const dstWk = WELL_KNOWN_SERVER_PORTS.has(dstPort);
  if (srcWk !== dstWk) return dstWk;
  if (srcPort !== dstPort) return dstPort < srcPort;
  return true;
}
