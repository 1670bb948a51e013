// Sources turn a file or a socket into link-layer frames with packet time.
//
// Ownership: `frame` is only valid during the onFrame call (a source may reuse or slice one big
// Buffer); a consumer that keeps bytes copies them.
// Link types are LINKTYPE_* numbers from the tcpdump registry (1 Ethernet, 101 raw IP, 113 Linux SLL,
// 276 Linux SLL2, 0 BSD null, 108 OpenBSD loop, 228 raw IPv4, 229 raw IPv6).
export interface FrameSink {
  /**
   * One captured frame. `tsUs` is packet time (microseconds since the epoch, nanosecond captures
   * rounded down); `wireLen` is the original length on the wire (>= frame.length when truncated).
   */
  onFrame(frame: Buffer, linkType: number, tsUs: number, wireLen: number): void;
}

/** A structural problem of the capture file itself (not of a packet): named, counted, reported. */
export interface SourceProblem {
  /** Stable snake_case code: capture_truncated, capture_not_a_capture, capture_unsupported_linktype, ... */
  code: string;
  message: string;
  /** True when reading stopped because of it. */
  fatal: boolean;
}

export interface SourceResult {
  frames: number;
  bytes: number;
  problems: SourceProblem[];
}
