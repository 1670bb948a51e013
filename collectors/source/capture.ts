// Capture files → frames: pcap (µs/ns, both byte orders, Kuznetzov "modified" records), pcapng
// (several sections and interfaces, either byte order), either of them gzip-, zstd- or xz-compressed
// (by magic bytes, see open.ts), from a file or from standard input ('-', a live tcpdump pipe).
//
// Memory is bounded by one fixed work buffer (WORK_BYTES) whatever the file size: records are parsed
// in place and handed to the sink as subarrays of it, so a frame is valid only during onFrame (the
// FrameSink contract). Record and block lengths come from the file and are checked against caps
// before they decide how many bytes to wait for, so a hostile length can never grow memory.
// See docs/decisions/0001-pcap-reader.md for why this replaces the pcap-parser package.
import type { Counters } from '../../engine/contracts/counters.js';
import { openCaptureSource, StreamSource, type ByteSource, type Compression } from './open.js';
import { SUPPORTED_FILE_LINKTYPES, SUPPORTED_LINKTYPES_TEXT } from './types.js';
import type { SourceCounter } from '../../engine/contracts/catalogue.js';
import type { FrameSink, SourceProblem, SourceResult } from './types.js';

export interface ReadCaptureOptions {
  /** Stop between chunks; the result then carries a fatal `capture_aborted` problem. */
  signal?: AbortSignal;
  /** Called after every chunk read: bytes of the file consumed so far (compressed bytes for .gz) and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Where `capture_packets_unsupported_linktype` (and future per-record counts) go. */
  counters?: Counters;
  /**
   * Awaited after the frames of each chunk were handed to the sink and before the next read: the
   * consumer's backpressure point (e.g. wait for a bus or store with room). Memory stays bounded by
   * one chunk of frames.
   */
  onChunk?: () => Promise<void>;
}

/** Largest captured length accepted for one packet: libpcap's MAXIMUM_SNAPLEN (262144). */
export const MAX_CAPLEN = 256 * 1024;
/** Largest pcapng block that is buffered (SHB, IDB, packet blocks incl. options). Other blocks are skipped streaming. */
export const MAX_PCAPNG_BLOCK = 1024 * 1024;
/** The one work buffer; must exceed MAX_PCAPNG_BLOCK. 4 MiB reads measured best in test/bench/pcap-reader.bench.ts. */
const WORK_BYTES = 4 * 1024 * 1024;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 1;
const PCAPNG_PB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const PCAPNG_BOM = 0x1a2b3c4d;
const TWO32 = 4294967296;
/** Above this the 64-bit pcapng timestamp is no longer exact in a double after `hi * 2^32`. */
const HI_EXACT = 2 ** 21;

const LINKTYPE_NAMES: Record<number, string> = {
  6: 'LINKTYPE_IEEE802_5',
  9: 'LINKTYPE_PPP',
  50: 'LINKTYPE_PPP_HDLC',
  51: 'LINKTYPE_PPP_ETHER',
  105: 'LINKTYPE_IEEE802_11',
  127: 'LINKTYPE_IEEE802_11_RADIOTAP',
  192: 'LINKTYPE_PPI',
  195: 'LINKTYPE_IEEE802_15_4',
  220: 'LINKTYPE_USB_LINUX_MMAPPED',
  249: 'LINKTYPE_NETLINK',
  253: 'LINKTYPE_NETLINK',
  263: 'LINKTYPE_ETW',
};
function linkTypeName(lt: number): string {
  if (lt >= 147 && lt <= 162) return `LINKTYPE_USER${lt - 147}`;
  return LINKTYPE_NAMES[lt] ?? 'unknown';
}

interface Iface {
  linkType: number;
  snaplen: number;
  supported: boolean;
  /** Timestamp conversion, fixed per interface so each packet costs one branch. */
  tsMode: 'us' | 'div' | 'mul' | 'big';
  /** div: 10^(k-6) with the split of 2^32 precomputed; mul: 10^(6-k). */
  d: number;
  hiQ: number;
  hiR: number;
  /** Units per second for the BigInt path. */
  unitsPerSec: bigint;
  offsetUs: number;
  packets: number;
}

function makeIface(linkType: number, snaplen: number, resol: number, offsetSec: number): Iface {
  const iface: Iface = {
    linkType,
    snaplen,
    supported: SUPPORTED_FILE_LINKTYPES.has(linkType),
    tsMode: 'big',
    d: 1,
    hiQ: 0,
    hiR: 0,
    unitsPerSec: 1_000_000n,
    offsetUs: offsetSec * 1_000_000,
    packets: 0,
  };
  if ((resol & 0x80) !== 0) {
    iface.unitsPerSec = 1n << BigInt(resol & 0x7f);
  } else {
    const k = resol;
    iface.unitsPerSec = 10n ** BigInt(k);
    if (k === 6) iface.tsMode = 'us';
    else if (k > 6 && k <= 12) {
      // hi*hiR + lo stays below 2^53 while D <= 10^6.
      iface.tsMode = 'div';
      iface.d = 10 ** (k - 6);
      iface.hiQ = Math.floor(TWO32 / iface.d);
      iface.hiR = TWO32 % iface.d;
    } else if (k < 6) {
      iface.tsMode = 'mul';
      iface.d = 10 ** (6 - k);
    }
  }
  return iface;
}

/** 64-bit timestamp (hi, lo) in interface units → integer µs since the epoch (floor). */
function tsToUs(f: Iface, hi: number, lo: number): number {
  if (hi < HI_EXACT) {
    switch (f.tsMode) {
      case 'us':
        return hi * TWO32 + lo + f.offsetUs;
      case 'div':
        return hi * f.hiQ + Math.floor((hi * f.hiR + lo) / f.d) + f.offsetUs;
      case 'mul':
        return (hi * TWO32 + lo) * f.d + f.offsetUs;
      default:
        break;
    }
  }
  const t = (((BigInt(hi) << 32n) | BigInt(lo)) * 1_000_000n) / f.unitsPerSec;
  return Number(t) + f.offsetUs;
}

type Format = 'pcap' | 'pcapng';

class CaptureReader {
  private readonly w = Buffer.allocUnsafe(WORK_BYTES);
  private start = 0;
  private end = 0;
  /** Stream offset (uncompressed) of w[0]. */
  private base = 0;
  private eof = false;
  private stopped = false;
  /** Bytes still to discard (pcapng blocks that are skipped without buffering). */
  private skip = 0;
  /** Bytes the parser needs from `start` before it can progress (for the truncation message). */
  private need = 0;
  private frames = 0;
  private bytes = 0;
  private readonly problems: SourceProblem[] = [];
  private format: Format = 'pcap';
  private compression: Compression = null;
  // pcap state
  private le = true;
  private nano = false;
  private recHdr = 16;
  private linkType = 1;
  private snaplen = 0;
  private overSnaplenReported = false;
  // pcapng state
  private ifaces: Iface[] = [];
  private readonly allIfaces: Iface[] = [];
  private lastTsUs = 0;

  constructor(
    private readonly path: string,
    private readonly sink: FrameSink,
    private readonly opts: ReadCaptureOptions,
  ) {}

  private problem(code: SourceCounter, message: string, fatal: boolean): void {
    this.problems.push({ code, message: `${this.path}: ${message}`, fatal });
    if (fatal) this.stopped = true;
  }

  private offsetText(off: number): string {
    return this.compression !== null ? `byte offset ${off} (uncompressed)` : `byte offset ${off}`;
  }

  async run(): Promise<SourceResult> {
    let src: ByteSource;
    let total: number;
    try {
      const o = await openCaptureSource(this.path, this.opts.signal);
      src = o.src;
      total = o.total;
      this.compression = o.compression;
    } catch (err) {
      const e = err as Error & { code?: string };
      const code = e.code === 'capture_decompressor_missing' ? e.code : 'capture_open_failed';
      this.problems.push({ code, message: this.path === '-' ? e.message : `${this.path}: ${e.message}`, fatal: true });
      return this.result();
    }
    // Standard input may never deliver again: an abort ends the pending read (then the loop stops).
    const signal = this.opts.signal;
    const onAbort = (): void => src.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.loop(src, total);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await src.close().catch(() => undefined);
    }
    this.finish();
    return this.result();
  }

  private async fill(src: ByteSource): Promise<void> {
    if (this.start > 0) {
      this.w.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    let n: number;
    try {
      n = await src.read(this.w, this.end, this.w.length - this.end);
    } catch (err) {
      // I/O or gunzip failure (not truncation): stop with what was delivered.
      this.problem(
        'capture_read_failed',
        `read failed at ${this.offsetText(this.base + this.end)}: ${(err as Error).message}`,
        true,
      );
      return;
    }
    if (n === 0) this.eof = true;
    this.end += n;
  }

  private async loop(src: ByteSource, total: number): Promise<void> {
    const { signal, onProgress, onChunk } = this.opts;
    while (this.end < 24 && !this.eof && !this.stopped) await this.fill(src);
    const early =
      src instanceof StreamSource && src.failure !== null && this.end < 24 && this.eof ? await src.failure() : null;
    if (early !== null) {
      this.problem('capture_read_failed', early, true);
      return;
    }
    if (signal?.aborted === true && this.end < 24) {
      this.problem('capture_aborted', `aborted after ${this.end} bytes, before the capture header`, true);
      return;
    }
    if (this.stopped || !this.detect()) return;
    for (;;) {
      if (this.format === 'pcap') this.parsePcap();
      else this.parsePcapng();
      if (this.stopped) return;
      if (this.eof) break;
      if (onChunk !== undefined) await onChunk();
      if (signal?.aborted === true) {
        this.problem('capture_aborted', `aborted at ${this.offsetText(this.base + this.start)}`, true);
        return;
      }
      await this.fill(src);
      if (this.stopped) return;
      onProgress?.(src.rawBytes(), total);
    }
    if (signal?.aborted === true) {
      this.problem('capture_aborted', `aborted at ${this.offsetText(this.base + this.end)}`, true);
      return;
    }
    const left = this.end - this.start;
    const failed = src instanceof StreamSource && src.failure !== null ? await src.failure() : null;
    const gzTrunc = src.truncated || failed !== null;
    if (left > 0 || this.skip > 0 || gzTrunc) {
      const at = this.base + this.start;
      const what =
        this.skip > 0
          ? `block needs ${this.skip} more bytes`
          : left > 0
            ? `record needs ${this.need} bytes, ${left} present`
            : (failed ?? `${this.compression ?? 'compressed'} stream ends early`);
      this.problem(
        'capture_truncated',
        `capture truncated at ${this.offsetText(at)} (${what}); ${this.frames} frames read before it`,
        false,
      );
    }
  }

  /** Reads the magic at stream offset 0; false (with a fatal problem) when it is no capture we know. */
  private detect(): boolean {
    const w = this.w;
    const avail = this.end;
    if (avail < 4) {
      this.problem(
        'capture_not_a_capture',
        `not a pcap or pcapng file (${avail === 0 ? 'empty file' : `magic 0x${w.toString('hex', 0, avail)}`})`,
        true,
      );
      return false;
    }
    const magicLE = w.readUInt32LE(0);
    const magicBE = w.readUInt32BE(0);
    if (magicBE === PCAPNG_SHB) {
      this.format = 'pcapng';
      return true;
    }
    let magic: number;
    if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d || magicLE === 0xa1b2cd34) {
      this.le = true;
      magic = magicLE;
    } else if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d || magicBE === 0xa1b2cd34) {
      this.le = false;
      magic = magicBE;
    } else {
      this.problem(
        'capture_not_a_capture',
        `not a pcap or pcapng file (magic 0x${w.toString('hex', 0, 4)}${this.compression !== null ? `, inside ${this.compression}` : ''})`,
        true,
      );
      return false;
    }
    if (avail < 24) {
      this.problem(
        'capture_truncated',
        `capture truncated at ${this.offsetText(avail)} (pcap header needs 24 bytes)`,
        false,
      );
      this.stopped = true;
      return false;
    }
    this.nano = magic === 0xa1b23c4d;
    // Kuznetzov's patched libpcap appends ifindex(4) protocol(2) pkt_type(1) pad(1) to each record header.
    this.recHdr = magic === 0xa1b2cd34 ? 24 : 16;
    this.snaplen = this.le ? w.readUInt32LE(16) : w.readUInt32BE(16);
    const ltField = this.le ? w.readUInt32LE(20) : w.readUInt32BE(20);
    // Bits 16-31 carry FCS-length and reserved flags (pcap draft §4); the link type is the low 16.
    this.linkType = ltField & 0xffff;
    if (!SUPPORTED_FILE_LINKTYPES.has(this.linkType)) {
      this.problem(
        'capture_unsupported_linktype',
        `unsupported link type ${this.linkType} (${linkTypeName(this.linkType)}); supported: ${SUPPORTED_LINKTYPES_TEXT}`,
        true,
      );
      return false;
    }
    this.start = 24;
    return true;
  }

  /** pcap records: ts_sec, ts_frac, caplen, origlen (16 bytes, 24 for Kuznetzov), then caplen bytes. */
  private parsePcap(): void {
    const w = this.w;
    const le = this.le;
    const recHdr = this.recHdr;
    const sink = this.sink;
    const lt = this.linkType;
    let p = this.start;
    const end = this.end;
    for (;;) {
      if (end - p < recHdr) {
        this.need = recHdr;
        break;
      }
      const sec = le ? w.readUInt32LE(p) : w.readUInt32BE(p);
      const frac = le ? w.readUInt32LE(p + 4) : w.readUInt32BE(p + 4);
      const caplen = le ? w.readUInt32LE(p + 8) : w.readUInt32BE(p + 8);
      const orig = le ? w.readUInt32LE(p + 12) : w.readUInt32BE(p + 12);
      if (caplen > MAX_CAPLEN || (this.snaplen > 0 && caplen > this.snaplen + 65535)) {
        this.start = p;
        this.problem(
          'capture_bad_record',
          `bad record at ${this.offsetText(this.base + p)}: captured length ${caplen} (snaplen ${this.snaplen}, cap ${MAX_CAPLEN})`,
          true,
        );
        return;
      }
      if (caplen > this.snaplen && this.snaplen > 0 && !this.overSnaplenReported) {
        this.overSnaplenReported = true;
        this.problem(
          'capture_caplen_over_snaplen',
          `record at ${this.offsetText(this.base + p)} has captured length ${caplen} above the header snaplen ${this.snaplen} (accepted)`,
          false,
        );
      }
      if (end - p < recHdr + caplen) {
        this.need = recHdr + caplen;
        break;
      }
      const tsUs = sec * 1_000_000 + (this.nano ? Math.floor(frac / 1000) : frac);
      const off = p + recHdr;
      this.frames++;
      this.bytes += caplen;
      sink.onFrame(w.subarray(off, off + caplen), lt, tsUs, orig > caplen ? orig : caplen);
      p = off + caplen;
    }
    this.start = p;
  }

  private rd32(p: number): number {
    return this.le ? this.w.readUInt32LE(p) : this.w.readUInt32BE(p);
  }

  /** pcapng (draft-ietf-opsawg-pcapng): blocks of type(4) length(4) body length(4). */
  private parsePcapng(): void {
    const w = this.w;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.end - this.start);
        this.start += n;
        this.skip -= n;
        if (this.skip > 0) {
          this.need = this.skip;
          return;
        }
      }
      const p = this.start;
      const avail = this.end - p;
      if (avail < 12) {
        this.need = 12;
        return;
      }
      const type = this.rd32(p);
      if (type === PCAPNG_SHB) {
        const bomLE = w.readUInt32LE(p + 8);
        if (bomLE === PCAPNG_BOM) this.le = true;
        else if (w.readUInt32BE(p + 8) === PCAPNG_BOM) this.le = false;
        else {
          this.problem(
            'capture_bad_record',
            `bad section header at ${this.offsetText(this.base + p)}: byte-order magic 0x${w.toString('hex', p + 8, p + 12)}`,
            true,
          );
          return;
        }
      }
      const blen = this.rd32(p + 4);
      if (blen < 12 || blen % 4 !== 0) {
        this.problem(
          'capture_bad_record',
          `bad block at ${this.offsetText(this.base + p)}: type 0x${type.toString(16)} length ${blen}`,
          true,
        );
        return;
      }
      const buffered =
        type === PCAPNG_SHB || type === PCAPNG_IDB || type === PCAPNG_EPB || type === PCAPNG_SPB || type === PCAPNG_PB;
      if (!buffered) {
        this.skip = blen;
        continue;
      }
      if (blen > MAX_PCAPNG_BLOCK) {
        this.problem(
          'capture_bad_record',
          `bad block at ${this.offsetText(this.base + p)}: type 0x${type.toString(16)} length ${blen} above the ${MAX_PCAPNG_BLOCK}-byte cap`,
          true,
        );
        return;
      }
      if (avail < blen) {
        this.need = blen;
        return;
      }
      if (type === PCAPNG_SHB) {
        const major = this.le ? w.readUInt16LE(p + 12) : w.readUInt16BE(p + 12);
        if (major !== 1) {
          this.problem(
            'capture_bad_record',
            `unsupported pcapng version ${major} at ${this.offsetText(this.base + p)}`,
            true,
          );
          return;
        }
        this.ifaces = [];
      } else if (type === PCAPNG_IDB) {
        if (blen < 20) {
          this.badBlock(p, type, blen);
          return;
        }
        this.idb(p, blen);
      } else if (!this.packetBlock(p, type, blen)) {
        return;
      }
      this.start = p + blen;
    }
  }

  private badBlock(p: number, type: number, blen: number, why = ''): void {
    this.problem(
      'capture_bad_record',
      `bad block at ${this.offsetText(this.base + p)}: type 0x${type.toString(16)} length ${blen}${why}`,
      true,
    );
  }

  private idb(p: number, blen: number): void {
    const w = this.w;
    const linkType = this.le ? w.readUInt16LE(p + 8) : w.readUInt16BE(p + 8);
    const snaplen = this.rd32(p + 12);
    let resol = 6;
    let offsetSec = 0;
    const optEnd = p + blen - 4;
    let q = p + 16;
    while (optEnd - q >= 4) {
      const code = this.le ? w.readUInt16LE(q) : w.readUInt16BE(q);
      const len = this.le ? w.readUInt16LE(q + 2) : w.readUInt16BE(q + 2);
      if (code === 0 || q + 4 + len > optEnd) break;
      if (code === 9 && len >= 1) resol = w[q + 4]!;
      else if (code === 14 && len >= 8) offsetSec = Number(this.le ? w.readBigInt64LE(q + 4) : w.readBigInt64BE(q + 4));
      q += 4 + ((len + 3) & ~3);
    }
    const f = makeIface(linkType, snaplen, resol, offsetSec);
    this.ifaces.push(f);
    this.allIfaces.push(f);
  }

  /** EPB, SPB or obsolete PB. False when reading has to stop. */
  private packetBlock(p: number, type: number, blen: number): boolean {
    const w = this.w;
    let f: Iface | undefined;
    let caplen: number;
    let orig: number;
    let data: number;
    let tsUs: number;
    if (type === PCAPNG_SPB) {
      if (blen < 16) {
        this.badBlock(p, type, blen);
        return false;
      }
      f = this.ifaces[0];
      if (f === undefined) {
        this.badBlock(p, type, blen, ' (simple packet before any interface)');
        return false;
      }
      orig = this.rd32(p + 8);
      data = p + 12;
      caplen = Math.min(orig, blen - 16);
      if (f.snaplen > 0 && caplen > f.snaplen) caplen = f.snaplen;
      // SPBs carry no timestamp: reuse the last one seen, so packet time never goes backwards.
      tsUs = this.lastTsUs;
    } else {
      if (blen < 32) {
        this.badBlock(p, type, blen);
        return false;
      }
      const ifId = type === PCAPNG_EPB ? this.rd32(p + 8) : this.le ? w.readUInt16LE(p + 8) : w.readUInt16BE(p + 8);
      f = this.ifaces[ifId];
      if (f === undefined) {
        this.badBlock(p, type, blen, ` (interface ${ifId} not defined)`);
        return false;
      }
      caplen = this.rd32(p + 20);
      orig = this.rd32(p + 24);
      data = p + 28;
      if (caplen > blen - 32 || caplen > MAX_CAPLEN) {
        this.badBlock(p, type, blen, ` (captured length ${caplen})`);
        return false;
      }
      tsUs = tsToUs(f, this.rd32(p + 12), this.rd32(p + 16));
      this.lastTsUs = tsUs;
    }
    if (!f.supported) {
      f.packets++;
      this.opts.counters?.inc('capture_packets_unsupported_linktype');
      return true;
    }
    this.frames++;
    this.bytes += caplen;
    this.sink.onFrame(w.subarray(data, data + caplen), f.linkType, tsUs, orig > caplen ? orig : caplen);
    return true;
  }

  private finish(): void {
    if (this.format !== 'pcapng') return;
    const seen = new Map<number, number>();
    for (const f of this.allIfaces) if (!f.supported) seen.set(f.linkType, (seen.get(f.linkType) ?? 0) + f.packets);
    if (seen.size === 0) return;
    const noneSupported = this.allIfaces.every((f) => !f.supported);
    for (const [lt, n] of seen) {
      this.problems.push({
        code: 'capture_unsupported_linktype',
        message: `${this.path}: unsupported link type ${lt} (${linkTypeName(lt)}) on an interface, ${n} packets skipped; supported: ${SUPPORTED_LINKTYPES_TEXT}`,
        fatal: noneSupported,
      });
    }
  }

  /** readCaptureStream()'s entry: the same loop over an already open byte stream (size unknown: 0). */
  async runStream(stream: AsyncIterable<Buffer>): Promise<SourceResult> {
    const src = new IterableSource(stream);
    try {
      await this.loop(src, 0);
    } finally {
      await src.close();
    }
    this.finish();
    return this.result();
  }

  private result(): SourceResult {
    return { frames: this.frames, bytes: this.bytes, problems: this.problems };
  }
}

/**
 * Read a capture file or standard input ('-') (pcap, pcapng, optionally gzip/zstd/xz-compressed) and hand every frame to `sink`
 * synchronously, in file order. Never rejects for bad input: problems of the file come back in
 * the result (`capture_open_failed`, `capture_not_a_capture`, `capture_truncated`,
 * `capture_bad_record`, `capture_unsupported_linktype`, `capture_read_failed`, `capture_aborted`,
 * `capture_decompressor_missing`).
 * `bytes` is the sum of captured frame lengths delivered. An exception thrown by the sink propagates.
 */
export async function readCapture(path: string, sink: FrameSink, opts: ReadCaptureOptions = {}): Promise<SourceResult> {
  return new CaptureReader(path, sink, opts).run();
}

/**
 * A pull source over a live byte stream (a tcpdump pipe on standard input): a read hands over what
 * has arrived rather than wait for a full buffer, so frames reach the sink as the capture grows.
 */
class IterableSource implements ByteSource {
  private readonly it: AsyncIterator<Buffer>;
  private cur: Buffer | null = null;
  private curOff = 0;
  private done = false;
  private consumed = 0;
  readonly truncated = false;

  constructor(stream: AsyncIterable<Buffer>) {
    this.it = stream[Symbol.asyncIterator]();
  }

  async read(dst: Buffer, off: number, len: number): Promise<number> {
    let n = 0;
    while (n < len && !this.done) {
      if (this.cur === null || this.curOff >= this.cur.length) {
        if (n > 0) break;
        const r = await this.it.next();
        if (r.done === true) {
          this.done = true;
          break;
        }
        this.cur = r.value;
        this.curOff = 0;
        continue;
      }
      const take = Math.min(len - n, this.cur.length - this.curOff);
      this.cur.copy(dst, off + n, this.curOff, this.curOff + take);
      this.curOff += take;
      n += take;
    }
    this.consumed += n;
    return n;
  }
  rawBytes(): number {
    return this.consumed;
  }
  /** Reads after an abort return 0 (the pending one ends when its chunk arrives or the stream ends). */
  abort(): void {
    this.done = true;
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/**
 * Read an uncompressed pcap/pcapng byte stream (e.g. `tcpdump -w -` on standard input) until it
 * ends; `name` labels problems. Same contract as readCapture; `onProgress` gets total 0 (unknown).
 */
export async function readCaptureStream(
  name: string,
  stream: AsyncIterable<Buffer>,
  sink: FrameSink,
  opts: ReadCaptureOptions = {},
): Promise<SourceResult> {
  return new CaptureReader(name, sink, opts).runStream(stream);
}
