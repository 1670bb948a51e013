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
//   last packet. The table is bounded twice: by count (`maxFlows`, evictions counted as flow_evicted)
//   and by the estimated bytes of all flows' state (`maxStateBytes`: fixed costs per flow, stream and
//   HTTP parser, plus bytes held out of order and by the HTTP layer; evictions counted as
//   flow_evicted_bytes). Both evict the flows whose last packet is oldest (an LRU list: O(1) per
//   eviction, no sort).
// - Flows are created only by a SYN or by a packet carrying payload (a stray ACK, FIN or RST of an
//   unknown connection is counted, not tracked).
// - Per-flow state is lazy: a direction's reassembler is created by its first segment, the HTTP layer
//   by the server's first byte or gap (client bytes before it are held, see HOLD_CLIENT_BYTES), the
//   HTTP layer's parsers by the bytes of their direction, an IPv4 flow's metadata strings with the
//   HTTP layer; so a SYN-only or unanswered connection costs no parser (measured on Node 20 with
//   20,000 live flows: a SYN + one 73-byte request never answered, 1.2 KB of heap per flow).
import type { Counters } from '../../engine/contracts/counters.js';
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
import { shortId } from '../ids.js';
import type { ConnectionMeta, Direction, EndReason, HttpConnection } from '../http/types.js';
import { StreamReassembler, type Budget, type StreamLimits, type StreamOutput } from '../reassembly/stream.js';

export interface FlowTableOptions extends StreamLimits {
  maxFlows: number;
  idleTimeoutUs: number;
  /** Total out-of-order bytes held across all flows. */
  maxTotalBufferedBytes: number;
  /**
   * Estimated bytes of all flows' state (see FLOW_STATE_BYTES); above it the stalest flows are
   * ended (flow_evicted_bytes). Optional for callers that predate it: default DEFAULT_MAX_STATE_BYTES.
   */
  maxStateBytes?: number;
  /** Client bytes held before the server speaks (see HOLD_CLIENT_BYTES; 0: none). Default HOLD_CLIENT_BYTES. */
  holdClientBytes?: number;
}

/** Default of FlowTableOptions.maxStateBytes. */
export const DEFAULT_MAX_STATE_BYTES = 48 * 1024 * 1024;

/**
 * Fixed per-flow costs used by the state estimate: the flow record with its key and connection
 * metadata, and one reassembler. Measured with heap snapshots of 5,000 half-open connections
 * (Node 20); the HTTP layer reports its own (HttpConnection.stateBytes).
 */
export const FLOW_STATE_BYTES = { flow: 900, stream: 300, held: 100 } as const;

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  maxFlows: 100_000,
  maxStateBytes: DEFAULT_MAX_STATE_BYTES,
  idleTimeoutUs: 300_000_000,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxBufferedSegments: 2048,
  reorderWindowUs: 200_000,
};

/** Creates the HTTP layer for a new connection (the collector injects it; keeps flow/ free of http policy). */
export type ConnectionFactory = (meta: ConnectionMeta) => HttpConnection;

const WELL_KNOWN_SERVER_PORTS = new Set([
  80, 8080, 8000, 8008, 8081, 8443, 443, 3000, 5000, 9200, 2375, 2376, 8888, 9000,
]);

/**
 * Client bytes of a connection whose server has sent nothing yet are held, copied, up to
 * `holdClientBytes`, and the HTTP layer is created only when the server's first byte (or gap)
 * comes, when more client bytes come than that, or when the flow ends: a half-open connection (a
 * SYN flood or a scan with one request) then costs a copy of its bytes, not a connection with
 * parsers and a pending exchange, and what it would have built is built when it ends, as
 * short-lived garbage.
 *
 * The HTTP layer receives exactly the same calls in the same order (chunk boundaries and packet
 * times kept), only later, and nothing it would emit is delayed: from client bytes alone the
 * HTTP/1.x layer emits only a response-only exchange (a status line from the client side) or, when
 * more than maxPendingRequests requests wait, the oldest request (pipeline overflow). So held bytes
 * never contain a status line ("HTTP/1.x DDD"), and their bound stays below the bytes of
 * maxPendingRequests + 1 requests: the smallest request the parser takes is 4 bytes ("A" SP LF LF,
 * a lax start line), hence 4 * (maxPendingRequests + 1) - 1 at most (holdBytesFor). Only bytes that
 * read as HTTP/1.x text are held: the first chunk starts with an upper-case letter, has at least 5
 * bytes and does not start with "PRI" (the HTTP/2 preface), later chunks start with a printable
 * character or CR/LF/HTAB, so TLS (whose layer keeps a budget shared by connections), HTTP/2 and
 * other protocols take the direct path. Only flows that began with a handshake are held (their
 * direction 0 is the client); a flow joined mid-stream is sniffed as it comes.
 */
export const HOLD_CLIENT_BYTES = 256;

/** The hold bound for an HTTP layer that emits the oldest request when more than `maxPendingRequests` wait. */
export function holdBytesFor(maxPendingRequests: number): number {
  return Math.max(0, Math.min(HOLD_CLIENT_BYTES, 4 * (Math.max(1, maxPendingRequests) + 1) - 1));
}

/** Reassembled output of one direction goes to the HTTP layer, created on the first byte or gap. */
class DirSink implements StreamOutput {
  constructor(
    private readonly flow: Flow,
    private readonly dir: Direction,
  ) {}
  data(bytes: Buffer, tsUs: number): void {
    if (this.dir === 0 && this.flow.hold(bytes, tsUs)) return;
    this.flow.conn().onData(this.dir, bytes, tsUs);
  }
  gap(length: number, tsUs: number): void {
    this.flow.conn().onGap(this.dir, length, tsUs);
  }
  truncated(): void {
    this.flow.conn().onTruncated(this.dir);
  }
}

class Flow {
  /** Per direction (0 = client→server as oriented): reassembler, created by the direction's first segment. */
  readonly streams: [StreamReassembler | null, StreamReassembler | null] = [null, null];
  /** Address bytes of the side we call client, for packet direction tests. */
  clientKey: string;
  lastUs: number;
  seen: [boolean, boolean] = [false, false];
  http: HttpConnection | null = null;
  /**
   * What the HTTP layer is told about the connection. IPv4: built from the numbers below when the
   * layer is created (metaOf), so a flow that never gets one (a SYN-only scan) or gets it late (held
   * client bytes) keeps no strings for it. IPv6: built with the flow.
   */
  private meta: ConnectionMeta | null;
  readonly firstUs: number;
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
  /** LRU list by last packet (head = stalest). */
  prev: Flow | null = null;
  next: Flow | null = null;
  /** Creation order (finish() and sweeps go in this order). */
  olderFlow: Flow | null = null;
  newerFlow: Flow | null = null;
  /** State bytes this flow was last accounted for in the table's total. */
  cost = 0;

  constructor(
    readonly key: string,
    clientKey: string,
    meta: ConnectionMeta | null,
    readonly handshake: boolean,
    firstUs: number,
    private readonly limits: StreamLimits,
    private readonly budget: Budget,
    private readonly counters: Counters,
    private readonly factory: ConnectionFactory,
    private readonly holdLimit: number,
  ) {
    this.clientKey = clientKey;
    this.meta = meta;
    this.firstUs = firstUs;
    this.lastUs = firstUs;
  }

  metaOf(): ConnectionMeta {
    if (this.meta === null) {
      // IPv4 (see `meta`): endpoints are addr * 65536 + port; the tunnel key is kind * 2^32 + id.
      const c = this.client4;
      const sv = this.lo4 === c ? this.hi4 : this.lo4;
      const tk = this.tkey;
      const kind = tk < 0 ? TUNNEL.NONE : Math.floor(tk / 4294967296);
      const id = tk < 0 ? 0 : tk - kind * 4294967296;
      this.meta = makeMeta(
        this.vni,
        kind,
        id,
        ip4Text(Math.floor(c / 65536)),
        c % 65536,
        ip4Text(Math.floor(sv / 65536)),
        sv % 65536,
        this.handshake,
        this.firstUs,
      );
    }
    return this.meta;
  }

  stream(dir: Direction): StreamReassembler {
    let s = this.streams[dir];
    if (s === null) {
      s = new StreamReassembler(new DirSink(this, dir), this.limits, this.budget, this.counters);
      this.streams[dir] = s;
    }
    return s;
  }

  closed(dir: Direction): boolean {
    const s = this.streams[dir];
    return s !== null && s.closed;
  }

  /**
   * Held client chunks, before the HTTP layer exists (HOLD_CLIENT_BYTES): the first one and its packet
   * time, then any others as (chunk, time) pairs. Kept as latin1 strings: the most compact copy on
   * the heap (a small Buffer copy is a slice of a shared 8 KiB pool and would keep the pool alive).
   */
  held0: string | null = null;
  held0Us = 0;
  heldMore: (string | number)[] | null = null;
  heldBytes = 0;

  /** Holds a chunk of direction 0 when the rules of HOLD_CLIENT_BYTES allow; false: deliver it now. */
  hold(bytes: Buffer, tsUs: number): boolean {
    if (this.http !== null || !this.handshake || this.heldBytes + bytes.length > this.holdLimit) return false;
    if (this.held0 === null) {
      if (!startsHttpText(bytes)) return false;
      const text = bytes.toString('latin1');
      if (STATUS_LINE.test(text)) return false;
      this.held0 = text;
      this.held0Us = tsUs;
    } else {
      if (!continuesText(bytes)) return false;
      const text = bytes.toString('latin1');
      // A status line may straddle the chunks: look at it with the end of the bytes held before.
      if (STATUS_LINE.test(this.heldTail() + text)) return false;
      (this.heldMore ??= []).push(text, tsUs);
    }
    this.heldBytes += bytes.length;
    return true;
  }

  /** The last bytes held (enough to complete a status line with the next chunk). */
  private heldTail(): string {
    const more = this.heldMore;
    const last = more === null ? (this.held0 as string) : (more[more.length - 2] as string);
    return last.length > STATUS_LINE_LEN ? last.slice(-STATUS_LINE_LEN) : last;
  }

  conn(): HttpConnection {
    if (this.http === null) {
      const http = this.factory(this.metaOf());
      this.http = http;
      const first = this.held0;
      if (first !== null) {
        const more = this.heldMore;
        this.held0 = null;
        this.heldMore = null;
        this.heldBytes = 0;
        http.onData(0, Buffer.from(first, 'latin1'), this.held0Us);
        if (more !== null) {
          for (let i = 0; i < more.length; i += 2) {
            http.onData(0, Buffer.from(more[i] as string, 'latin1'), more[i + 1] as number);
          }
        }
      }
    }
    return this.http;
  }

  /** Estimated bytes of this flow's state (FLOW_STATE_BYTES + held bytes + the HTTP layer's own). */
  estimate(): number {
    let n = FLOW_STATE_BYTES.flow;
    const [a, b] = this.streams;
    if (a !== null) n += FLOW_STATE_BYTES.stream + a.buffered;
    if (b !== null) n += FLOW_STATE_BYTES.stream + b.buffered;
    if (this.http !== null) n += this.http.stateBytes?.() ?? 0;
    else if (this.held0 !== null) n += FLOW_STATE_BYTES.held + this.heldBytes;
    return n;
  }

  end(tsUs: number, reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    const [a, b] = this.streams;
    a?.flush(tsUs);
    b?.flush(tsUs);
    a?.release();
    b?.release();
    const oneSided = !(this.seen[0] && this.seen[1]);
    if (this.held0 !== null) this.conn();
    if (this.http !== null) this.http.onEnd(tsUs, reason, oneSided);
  }
}

/** Flows in order of their last packet: touch() moves a flow to the tail, the head is the stalest. */
class LruList {
  head: Flow | null = null;
  tail: Flow | null = null;

  push(f: Flow): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail !== null) this.tail.next = f;
    else this.head = f;
    this.tail = f;
  }

  remove(f: Flow): void {
    if (f.prev !== null) f.prev.next = f.next;
    else if (this.head === f) this.head = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else if (this.tail === f) this.tail = f.prev;
    f.prev = null;
    f.next = null;
  }

  touch(f: Flow): void {
    if (this.tail === f) return;
    this.remove(f);
    this.push(f);
  }
}

export interface FlowTable {
  /** A decoded TCP packet (view valid only during the call). */
  packet(v: PacketView): void;
  /** End every flow (end of capture), in creation order. */
  finish(tsUs: number): void;
  readonly size: number;
  /** Estimated bytes of all live flows' state (what maxStateBytes bounds). */
  readonly stateBytes: number;
  /** Bytes held out of order by the reassemblers, all flows (what maxTotalBufferedBytes bounds). */
  readonly bufferedBytes: number;
}

/**
 * IPv4 flows by a symmetric 32-bit hash of (endpoints, VNI), chained through Flow.nextInBucket: the
 * per-packet lookup builds no string (was two latin1 strings and three concatenations per packet,
 * hashed again by the Map). IPv6 flows keep string keys; an IPv4 flow gets one only in the `closed4` map.
 */
class V4Index {
  private readonly buckets = new Map<number, Flow>();

  /** 30 bits: a small integer (Smi) key, so the Map neither boxes nor hashes a heap number per lookup. */
  static hash(a: number, b: number, vni: number, tkey: number): number {
    return ((mix48(a) + mix48(b)) ^ Math.imul(vni + 1, 0x9e3779b1) ^ (tkey < 0 ? 0 : mix48(tkey))) & 0x3fffffff;
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
  /** IPv6 flows by their string key; IPv4 flows are in `v4` (no string per flow). */
  const flows6 = new Map<string, Flow>();
  const v4 = new V4Index();
  /** Every live flow in creation order (oldest first): finish() and sweeps go in this order. */
  let oldest: Flow | null = null;
  let newest: Flow | null = null;
  let count = 0;
  // Connections that ended recently (key → packet time of the end), so the trailing ACKs of a close
  // and late retransmissions are recognised instead of starting a mid-stream flow. Bounded: oldest
  // entries go first (Map keeps insertion order). IPv6 by the flow's string key, IPv4 by closedKey4
  // (made only when a flow closes, or for a new flow while some have closed).
  const closed = new Map<string, number>();
  const closed4 = new Map<string, number>();
  const CLOSED_MAX = 65_536;
  const CLOSED_TTL_US = 120_000_000;
  const budget: Budget = { used: 0, limit: opts.maxTotalBufferedBytes };
  const maxStateBytes = opts.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
  const holdLimit = opts.holdClientBytes ?? HOLD_CLIENT_BYTES;
  const lru = new LruList();
  let stateBytes = 0;
  let nextSweepUs = -1;
  const sweepEveryUs = Math.max(1_000_000, Math.floor(opts.idleTimeoutUs / 10));

  function unlink(f: Flow): void {
    if (f.olderFlow !== null) f.olderFlow.newerFlow = f.newerFlow;
    else if (oldest === f) oldest = f.newerFlow;
    if (f.newerFlow !== null) f.newerFlow.olderFlow = f.olderFlow;
    else if (newest === f) newest = f.olderFlow;
    f.olderFlow = null;
    f.newerFlow = null;
    count--;
  }

  /** Live flows in creation order (a copy: ending flows while walking it is safe). */
  function inOrder(): Flow[] {
    const out: Flow[] = [];
    for (let f = oldest; f !== null; f = f.newerFlow) out.push(f);
    return out;
  }

  function endFlow(f: Flow, tsUs: number, reason: EndReason): void {
    const isV4 = f.lo4 >= 0;
    if (isV4) v4.remove(f);
    else flows6.delete(f.key);
    unlink(f);
    lru.remove(f);
    if (reason === 'fin' || reason === 'rst') {
      const map = isV4 ? closed4 : closed;
      const key = isV4 ? closedKey4(f.lo4, f.hi4, f.vni, f.tkey) : f.key;
      map.delete(key);
      map.set(key, tsUs);
      if (map.size > CLOSED_MAX) {
        const first = map.keys().next();
        if (first.done !== true) map.delete(first.value);
      }
    }
    if (!(f.seen[0] && f.seen[1])) counters.inc('flow_one_sided');
    f.end(tsUs, reason);
    stateBytes -= f.cost;
    f.cost = 0;
  }

  function sweep(nowUs: number): void {
    for (const f of inOrder()) {
      if (nowUs - f.lastUs >= opts.idleTimeoutUs) {
        counters.inc('flow_idle_expired');
        endFlow(f, f.lastUs, 'idle');
      }
    }
  }

  /** The count bound: end the stalest flow (the head of the LRU list). */
  function evict(nowUs: number): void {
    const f = lru.head;
    if (f === null) return;
    counters.inc('flow_evicted');
    endFlow(f, nowUs, 'evicted');
  }

  /** The byte bound: end the stalest flows until the estimate is under it (never `keep`, the flow at hand). */
  function evictBytes(nowUs: number, keep: Flow): void {
    while (stateBytes > maxStateBytes) {
      const f = lru.head;
      if (f === null || f === keep) return;
      counters.inc('flow_evicted_bytes');
      endFlow(f, nowUs, 'evicted');
    }
  }

  return {
    get size() {
      return count;
    },
    get stateBytes() {
      return stateBytes;
    },
    get bufferedBytes() {
      return budget.used;
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
        f = flows6.get(keys.key);
      }
      const flags = v.tcpFlags;
      const syn = (flags & TCP_SYN) !== 0;
      const ack = (flags & TCP_ACK) !== 0;

      if (f === undefined) {
        const closedMap = isV4 ? closed4 : closed;
        const closedKey =
          keys !== null
            ? keys.key
            : closedMap.size > 0
              ? closedKey4(Math.min(src4, dst4), Math.max(src4, dst4), v.vni, tunnelKey(v))
              : '';
        const endedUs = closedMap.size > 0 ? closedMap.get(closedKey) : undefined;
        if (endedUs !== undefined && !syn) {
          if (now - endedUs < CLOSED_TTL_US) {
            counters.inc(v.payloadWireLen > 0 ? 'tcp_data_after_close' : 'tcp_after_close');
            return;
          }
          closedMap.delete(closedKey);
        }
        if (!syn && v.payloadWireLen === 0) {
          counters.inc('flow_stray_control');
          return;
        }
        if (syn && closedMap.size > 0) closedMap.delete(closedKey);
        if (count >= opts.maxFlows) evict(now);
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
        let meta: ConnectionMeta | null = null;
        if (!isV4) {
          const srcIp = formatAddr(v.frame, v.srcAddrOff, v.ipVersion);
          const dstIp = formatAddr(v.frame, v.dstAddrOff, v.ipVersion);
          meta = srcIsClient
            ? makeMeta(v.vni, v.tunnelKind, v.tunnelId, srcIp, v.srcPort, dstIp, v.dstPort, handshake, now)
            : makeMeta(v.vni, v.tunnelKind, v.tunnelId, dstIp, v.dstPort, srcIp, v.srcPort, handshake, now);
        }
        const key = keys === null ? '' : keys.key;
        const clientKey = keys === null ? '' : srcIsClient ? keys.srcKey : keys.dstKey;
        f = new Flow(key, clientKey, meta, handshake, now, opts, budget, counters, factory, holdLimit);
        if (keys !== null) flows6.set(key, f);
        f.olderFlow = newest;
        if (newest !== null) newest.newerFlow = f;
        else oldest = f;
        newest = f;
        count++;
        lru.push(f);
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
      lru.touch(f);
      counters.inc('tcp_segments_tracked');
      const dir: Direction = (isV4 ? src4 === f.client4 : keys?.srcKey === f.clientKey) ? 0 : 1;
      const other: Direction = dir === 0 ? 1 : 0;
      f.seen[dir] = true;
      const fin = (flags & TCP_FIN) !== 0;
      if (syn || v.payloadWireLen > 0 || fin) {
        const s = f.stream(dir);
        if (syn) s.syn(v.seq);
        if (v.payloadWireLen > 0 || fin) {
          // A SYN occupies one sequence number: data on a SYN (TFO) starts at seq + 1.
          const seq = syn ? (v.seq + 1) >>> 0 : v.seq;
          s.segment(seq, v.frame, v.payloadOff, v.payloadLen, v.payloadWireLen, fin, now);
        }
      }
      // An ACK matters only to a direction that holds bytes (a hole the peer acknowledged past).
      if (ack) f.streams[other]?.peerAck(v.ack, now);

      if ((flags & TCP_RST) !== 0) {
        endFlow(f, now, 'rst');
        return;
      }
      if (f.closed(0) && (f.closed(1) || !f.seen[1])) endFlow(f, now, 'fin');
      else if (f.closed(1) && !f.seen[0]) endFlow(f, now, 'fin');
      else {
        const cost = f.estimate();
        stateBytes += cost - f.cost;
        f.cost = cost;
        if (stateBytes > maxStateBytes) evictBytes(now, f);
      }
    },

    finish(tsUs: number): void {
      for (const f of inOrder()) endFlow(f, Math.max(tsUs, f.lastUs), 'eof');
    },
  };
}

/** First held chunk: an HTTP/1.x request line can start here (an upper-case method token), not the HTTP/2 preface. */
function startsHttpText(b: Buffer): boolean {
  const c0 = b[0];
  if (c0 === undefined || c0 < 0x41 || c0 > 0x5a || b.length < 5) return false;
  return !(c0 === 0x50 && b[1] === 0x52 && b[2] === 0x49);
}

/** A status line as resynchronisation finds one (collectors/http/resync.ts), or its start at the end of the text. */
const STATUS_LINE = /HTTP\/1\.[01] \d{3}(?:[ \r\n]|$)/;
/** "HTTP/1.1 200" */
const STATUS_LINE_LEN = 12;

/** Later held chunks: text (printable ASCII, CR, LF or HTAB first), never a TLS record or binary frame. */
function continuesText(b: Buffer): boolean {
  const c0 = b[0];
  return c0 !== undefined && ((c0 >= 0x20 && c0 <= 0x7e) || c0 === 0x0d || c0 === 0x0a || c0 === 0x09);
}

/** Dotted decimal of an IPv4 address (as decode/packet.ts formatAddr writes it). */
function ip4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** The connection metadata; the flow id is the first 8 bytes of SHA-256 of the text below, as hex. */
function makeMeta(
  vniRaw: number,
  tunnelKind: number,
  tunnelId: number,
  clientIp: string,
  clientPort: number,
  serverIp: string,
  serverPort: number,
  handshake: boolean,
  firstUs: number,
): ConnectionMeta {
  const vni = vniRaw >= 0 ? vniRaw : null;
  const tunnel = tunnelKind === TUNNEL.NONE ? null : { kind: TUNNEL_KINDS[tunnelKind] ?? '', id: tunnelId };
  // A VXLAN tunnel whose id is the VNI adds nothing to the VNI: such flow ids stay what they were
  // before tunnels were generalised.
  const tpart =
    tunnel === null || (tunnelKind === TUNNEL.VXLAN && tunnelId === vniRaw) ? '' : `${tunnel.kind}:${tunnel.id}|`;
  const flowId = shortId(`${vni ?? ''}|${tpart}${clientIp}|${clientPort}|${serverIp}|${serverPort}|${firstUs}`);
  return {
    flowId,
    vni,
    tunnel,
    client: { ip: clientIp, port: clientPort },
    server: { ip: serverIp, port: serverPort },
    handshake,
  };
}

/** The `closed4` key of an IPv4 flow: its endpoints (lower first), VNI and tunnel key. */
function closedKey4(lo: number, hi: number, vni: number, tkey: number): string {
  return `${lo}:${hi}:${vni}:${tkey}`;
}

function guessSrcIsClient(srcPort: number, dstPort: number): boolean {
  const srcWk = WELL_KNOWN_SERVER_PORTS.has(srcPort);
  const dstWk = WELL_KNOWN_SERVER_PORTS.has(dstPort);
  if (srcWk !== dstWk) return dstWk;
  if (srcPort !== dstPort) return dstPort < srcPort;
  return true;
}
