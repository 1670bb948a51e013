// One direction of a TCP connection: segments in, in-order bytes and gaps out.
//
// Contract with the consumer (StreamOutput):
// - data(bytes, tsUs): bytes in sequence order, never twice. `bytes` may be a view into the packet
//   frame or into a buffered copy: valid only during the call.
// - gap(length, tsUs): `length` bytes of this direction were never seen (lost in capture, never
//   mirrored, or cut by snaplen/MTU). Gaps are reported, never papered over.
// - truncated(): the packet whose captured bytes come next was cut by the capture.
//
// Policy (documented in README "TCP reassembly"):
// - Sequence math is modulo 2^32 (RFC 9293 §3.4): comparisons use the signed 32-bit difference.
// - Retransmissions and overlaps: FIRST COPY WINS. Bytes already delivered are never re-delivered;
//   a segment overlapping buffered out-of-order bytes is trimmed to the parts not yet held. This is
//   deterministic and matches what most passive analysers do; a hostile endpoint that sends
//   different bytes for the same sequence range gets the `tcp_overlap_conflict` anomaly counted
//   (checked on the buffered out-of-order part, where both copies are at hand).
// - Out-of-order segments are copied and held, bounded per stream (maxBufferedBytes,
//   maxBufferedSegments) and in total (the shared Budget). When a bound is hit, or the peer has
//   acknowledged bytes beyond a hole for longer than the reorder window, the hole is declared a gap
//   and the held bytes are delivered.
import type { Counters } from '../../engine/contracts/counters.js';

export interface StreamOutput {
  data(bytes: Buffer, tsUs: number): void;
  gap(length: number, tsUs: number): void;
  truncated(): void;
}

/** Shared across all streams of a collector: total bytes held out of order. */
export interface Budget {
  used: number;
  readonly limit: number;
}

export interface StreamLimits {
  maxBufferedBytes: number;
  maxBufferedSegments: number;
  /** How long (packet time) a hole acknowledged by the peer may wait for a late, reordered copy. */
  reorderWindowUs: number;
}

interface Held {
  seq: number;
  bytes: Buffer;
  tsUs: number;
}

const seqDiff = (a: number, b: number): number => (a - b) | 0;

export class StreamReassembler {
  /** Next sequence number expected; valid once `started`. */
  private next = 0;
  private started = false;
  private finSeq = -1;
  private held: Held[] = [];
  private heldBytes = 0;
  private holeAckedAtUs = -1;
  /** Total bytes delivered as data / declared as gaps. */
  delivered = 0;
  gapBytes = 0;
  /** A FIN was seen and every byte before it has been delivered or declared a gap. */
  closed = false;

  constructor(
    private readonly out: StreamOutput,
    private readonly limits: StreamLimits,
    private readonly budget: Budget,
    private readonly counters: Counters,
  ) {}

  /** SYN seen for this direction: the first data byte is isn + 1. */
  syn(isn: number): void {
    if (!this.started) {
      this.next = (isn + 1) >>> 0;
      this.started = true;
    }
  }

  /**
   * A segment of this direction. `capLen` bytes of payload are in `frame` at `off`; the segment
   * carried `wireLen` bytes on the wire (wireLen > capLen when the capture cut it).
   */
  segment(seq: number, frame: Buffer, off: number, capLen: number, wireLen: number, fin: boolean, tsUs: number): void {
    if (!this.started) {
      this.next = seq >>> 0;
      this.started = true;
    }
    if (fin) {
      const f = (seq + wireLen) >>> 0;
      if (this.finSeq < 0) this.finSeq = f;
    }
    if (wireLen > 0) this.accept(seq >>> 0, frame, off, capLen, wireLen, tsUs);
    this.checkClosed();
  }

  /** The peer acknowledged everything before `ack` (its ACK field). */
  peerAck(ack: number, tsUs: number): void {
    if (!this.started || this.held.length === 0) return;
    if (seqDiff(ack, this.next) <= 0) return;
    const first = this.held[0];
    if (first === undefined || seqDiff(ack, first.seq) <= 0) return;
    // The peer has bytes beyond our hole. Allow a short window for a reordered copy to arrive.
    if (this.holeAckedAtUs < 0) {
      this.holeAckedAtUs = tsUs;
      return;
    }
    if (tsUs - this.holeAckedAtUs >= this.limits.reorderWindowUs) {
      this.counters.inc('tcp_ack_above_hole');
      this.fillHole(tsUs);
    }
  }

  /** End of stream (FIN/RST/idle/eof): every held segment is delivered, holes become gaps. */
  flush(tsUs: number): void {
    while (this.held.length > 0) this.fillHole(tsUs);
    if (this.finSeq >= 0 && this.started) {
      const missing = seqDiff(this.finSeq, this.next);
      if (missing > 0) this.declareGap(missing, tsUs);
    }
    this.checkClosed();
  }

  /** Bytes currently held out of order. */
  get buffered(): number {
    return this.heldBytes;
  }

  release(): void {
    this.budget.used -= this.heldBytes;
    this.heldBytes = 0;
    this.held = [];
  }

  private accept(seq: number, frame: Buffer, off: number, capLen: number, wireLen: number, tsUs: number): void {
    const rel = seqDiff(seq, this.next);
    if (rel + wireLen <= 0) {
      this.counters.inc('tcp_retransmission');
      return;
    }
    if (rel > 0) {
      this.hold(seq, frame, off, capLen, wireLen, tsUs);
      return;
    }
    if (rel < 0) {
      // Head overlaps delivered bytes: first copy wins, deliver only the new tail.
      this.counters.inc('tcp_partial_overlap');
      const skip = -rel;
      off += Math.min(skip, capLen);
      capLen = Math.max(0, capLen - skip);
      wireLen -= skip;
    }
    this.deliver(frame, off, capLen, wireLen, tsUs);
    this.drain();
  }

  private deliver(frame: Buffer, off: number, capLen: number, wireLen: number, tsUs: number): void {
    if (wireLen > capLen) {
      this.counters.inc('tcp_truncated_segment');
      this.out.truncated();
    }
    if (capLen > 0) {
      this.out.data(frame.subarray(off, off + capLen), tsUs);
      this.delivered += capLen;
      this.next = (this.next + capLen) >>> 0;
    }
    if (wireLen > capLen) this.declareGap(wireLen - capLen, tsUs);
  }

  private declareGap(length: number, tsUs: number): void {
    this.counters.inc('tcp_gap');
    this.counters.inc('tcp_gap_bytes', length);
    this.gapBytes += length;
    this.next = (this.next + length) >>> 0;
    this.out.gap(length, tsUs);
  }

  private hold(seq: number, frame: Buffer, off: number, capLen: number, wireLen: number, tsUs: number): void {
    this.counters.inc('tcp_out_of_order');
    // A truncated out-of-order segment is held as its captured part; its cut tail becomes a hole
    // that is declared a gap when it is reached.
    let start = seq;
    let bytes = frame.subarray(off, off + capLen);
    void wireLen;
    // Trim against held segments (first copy wins).
    let i = 0;
    while (i < this.held.length && bytes.length > 0) {
      const h = this.held[i] as Held;
      const hEnd = (h.seq + h.bytes.length) >>> 0;
      if (seqDiff(hEnd, start) <= 0) {
        i++;
        continue;
      }
      const bEnd = (start + bytes.length) >>> 0;
      if (seqDiff(h.seq, bEnd) >= 0) break;
      // Overlap between [start,bEnd) and [h.seq,hEnd).
      this.counters.inc('tcp_partial_overlap');
      const ovStart = seqDiff(h.seq, start) > 0 ? h.seq : start;
      const ovEnd = seqDiff(hEnd, bEnd) < 0 ? hEnd : bEnd;
      const a = bytes.subarray(seqDiff(ovStart, start), seqDiff(ovEnd, start));
      const b = h.bytes.subarray(seqDiff(ovStart, h.seq), seqDiff(ovEnd, h.seq));
      if (!a.equals(b)) this.counters.inc('tcp_overlap_conflict');
      if (seqDiff(h.seq, start) > 0) {
        // Keep our head before h; the part after h is handled by re-holding it.
        const head = bytes.subarray(0, seqDiff(h.seq, start));
        const tailStart = hEnd;
        const tail = seqDiff(bEnd, hEnd) > 0 ? bytes.subarray(seqDiff(hEnd, start)) : null;
        this.insertHeld(i, start, head, tsUs);
        if (tail === null) return;
        start = tailStart;
        bytes = tail;
        i += 2;
        continue;
      }
      // Our head overlaps h: cut it off.
      if (seqDiff(bEnd, hEnd) <= 0) return;
      bytes = bytes.subarray(seqDiff(hEnd, start));
      start = hEnd;
      i++;
    }
    if (bytes.length > 0) this.insertHeld(i, start, bytes, tsUs);
    if (
      this.heldBytes > this.limits.maxBufferedBytes ||
      this.held.length > this.limits.maxBufferedSegments ||
      this.budget.used > this.budget.limit
    ) {
      this.counters.inc('tcp_ooo_limit');
      this.fillHole(tsUs);
    }
  }

  private insertHeld(index: number, seq: number, view: Buffer, tsUs: number): void {
    // Copy: the frame is reused after this call (see collectors/source/types.ts ownership rule).
    const copy = Buffer.allocUnsafe(view.length);
    view.copy(copy);
    this.held.splice(index, 0, { seq, bytes: copy, tsUs });
    this.heldBytes += copy.length;
    this.budget.used += copy.length;
  }

  /** Declare the hole before the first held segment a gap, then deliver what became contiguous. */
  private fillHole(tsUs: number): void {
    const first = this.held[0];
    if (first === undefined) return;
    const missing = seqDiff(first.seq, this.next);
    if (missing > 0) this.declareGap(missing, tsUs);
    this.drain();
  }

  private drain(): void {
    this.holeAckedAtUs = -1;
    while (this.held.length > 0) {
      const h = this.held[0] as Held;
      const rel = seqDiff(h.seq, this.next);
      if (rel > 0) return;
      this.held.shift();
      this.heldBytes -= h.bytes.length;
      this.budget.used -= h.bytes.length;
      const skip = -rel;
      if (skip >= h.bytes.length) continue;
      const part = skip > 0 ? h.bytes.subarray(skip) : h.bytes;
      this.out.data(part, h.tsUs);
      this.delivered += part.length;
      this.next = (this.next + part.length) >>> 0;
    }
  }

  private checkClosed(): void {
    if (this.closed || this.finSeq < 0 || this.held.length > 0) return;
    if (seqDiff(this.next, this.finSeq) >= 0) this.closed = true;
  }
}
