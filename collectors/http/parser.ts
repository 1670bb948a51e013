// One direction's HTTP/1.x message parser: http-parser-js 0.5.10 behind a small interface.
//
// Why wrap, and what is overridden (package.json pins http-parser-js to exactly 0.5.10 and
// parser.test.ts fails on any other installed version: these overrides patch its internals):
// - The library splits lines and runs the body state machine; this module parses the header
//   section itself (`parseHeader` is replaced per instance) and decides the message framing itself
//   in the headers-complete callback (RFC 9112 §6.3), because the library's own rules are unsafe
//   for hostile input: `+value` Content-Length (NaN or negative lengths loop), a throw on duplicate
//   Content-Length that loses the head, a TE check that only accepts exactly "chunked", `parseInt`
//   chunk sizes (garbage reads as the last chunk).
// - `consumeLine` is replaced per instance: latin1 instead of the library's ascii (which clears the
//   high bit), a byte budget over the head (maxHeaderBytes, so a line without LF cannot grow without
//   bound), the head bytes kept for resynchronisation (copied only when they must outlive the call),
//   and the first-byte time of the message.
// - `BODY_CHUNKHEAD` is replaced per instance: strict chunk-size = 1*HEXDIG [chunk-ext] (§7.1).
// - `REQUEST_LINE` / `RESPONSE_LINE` are replaced per instance: the library knows a fixed method list
//   and rejects every other token, although RFC 9110 §9.1 allows any token (WebDAV, CCM_POST, ...).
//   A start line that is malformed but plainly a message of the expected kind (an upper-case method
//   token, or "HTTP/", at line start) is kept as a message flagged http_invalid_start_line (as zeek
//   and tshark do), so its error response (400/405) still pairs with it: the header section is read
//   to the empty line, and a body follows only when the headers frame one (CL or chunked).
// - Callbacks are assigned by numeric key, not through the `onX` setters, because those setters
//   switch a process-wide flag of the library (`method_connect`). The headers-complete callback
//   reads `this.info`, so it works with both of the library's calling conventions.
// - `nextRequest` (the library's message end) is replaced per instance: it reports the message end,
//   re-initialises the library and this wrapper in place, and, when the sink says stop (tunnels),
//   parks the library in the PAUSED state, whose handler ends `execute` right at the message
//   boundary (no exception per message: throwing a sentinel cost 5% of the HTTP layer's time in
//   test/bench/http.bench.ts, and a deoptimised catch per message).
//   The library's own `nextRequest` also calls its constructor again, which would reset
//   `maxHeaderSize` (our budget in consumeLine applies instead).
// - `BODY_SIZED` / `BODY_CHUNK` / `BODY_RAW` are replaced per instance with the library's logic minus
//   its `chunk.slice` per body piece: the sink gets (chunk, offset, length). `userCall` returns one
//   closure made per parser instead of one per call.
//   Library errors come back as returned Error values; every one becomes a status with an anomaly
//   name. Nothing escapes `feed`, `gap` or `finishEof`.
import { createRequire } from 'node:module';
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import type { HttpCounter } from '../../engine/contracts/catalogue.js';

interface RawInfo {
  headers: string[];
  upgrade: boolean;
  method?: number | string;
  url?: string;
  versionMajor?: number;
  versionMinor?: number;
  statusCode?: number;
  statusMessage?: string;
}

/** The fields and methods of http-parser-js 0.5.10's HTTPParser this module touches. */
interface RawParser {
  state: string;
  info: RawInfo;
  line: string;
  offset: number;
  end: number;
  chunk: Buffer | null;
  body_bytes: number | null;
  isChunked: boolean;
  maxHeaderSize: number;
  initialize(type: string): void;
  execute(chunk: Buffer, start: number, length: number): number | Error;
  finish(): Error | undefined;
  isUserCall: boolean;
  nextRequest(): void;
  userCall(): (ret: unknown) => unknown;
  consumeLine(): string | undefined;
  parseHeader(line: string, headers: string[]): void;
  BODY_CHUNKHEAD(): void;
  BODY_SIZED(): void;
  BODY_CHUNK(): void;
  BODY_RAW(): void;
  REQUEST_LINE(): void;
  RESPONSE_LINE(): void;
  [k: number]: unknown;
  [k: string]: unknown;
}

interface HttpParserModule {
  HTTPParser: {
    new (type: string): RawParser;
    REQUEST: string;
    RESPONSE: string;
    methods: string[];
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
}

const lib = createRequire(import.meta.url)('http-parser-js') as HttpParserModule;
const HTTPParser = lib.HTTPParser;

/**
 * The library's method list. The request parser accepts any token as a method (RFC 9110 §9.1); this
 * list decides where resync may start a request line inside garbage and which bare one-word lines
 * are taken as (malformed) requests.
 */
export const KNOWN_METHODS: readonly string[] = HTTPParser.methods.slice();
const KNOWN_METHOD_SET: ReadonlySet<string> = new Set(KNOWN_METHODS);

export type MessageKind = 'request' | 'response';

/** A parsed start line and header section. Strings are fresh copies (latin1 of the wire bytes). */
export interface ParsedHead {
  /** Request method, '' for responses. */
  method: string;
  /** Request target, '' for responses. */
  target: string;
  /** Status code, 0 for requests. */
  status: number;
  reason: string;
  /** As on the wire, e.g. "HTTP/1.1". */
  version: string;
  /** Wire order, original case; obs-fold joined with SP, NUL/CR replaced by SP. */
  headers: HeaderPair[];
  /** Packet time of the chunk that carried the first byte of the start line. */
  startUs: number;
  /** Anomalies of the head itself (obs-fold, NUL, TE+CL, ...), unsorted, may repeat. */
  anomalies: HttpCounter[];
}

/** Receives one direction's message events, synchronously from inside `feed`/`gap`/`finishEof`. */
export interface ParserSink {
  /**
   * The head is complete. Return true when the request semantics say the response has no content
   * even though its headers may announce some (response to HEAD, 2xx to CONNECT; RFC 9112 §6.3
   * rules 1-2). Ignored for requests.
   */
  onHead(head: ParsedHead): boolean;
  /** Entity bytes after transfer decoding. `buf` is valid only during the call: copy what you keep. */
  onBody(buf: Buffer, off: number, len: number, tsUs: number): void;
  /** `len` entity bytes were never seen (gap skipped inside a known length). */
  onBodyGap(len: number): void;
  /** The message is complete. Trailers (chunked only) in wire order. Return false to stop parsing here. */
  onMessageEnd(trailers: HeaderPair[], tsUs: number): boolean;
  /** The sink threw while a message was being ended; the message still ended. Count it. */
  onEndError(): void;
}

export interface ParserLimits {
  maxHeaderBytes: number;
  maxHeaderCount: number;
}

/** Outcome of `feed`. */
export const FEED = { done: 0, paused: 1, error: 2 } as const;
export type FeedStatus = (typeof FEED)[keyof typeof FEED];

/** Outcome of `gap`. */
export const GAP = {
  /** Skipped inside a known length; parsing continues. */
  skipped: 0,
  /** The gap began where no message was in progress, or ran past the end of the current message. */
  between: 1,
  /** The gap hit framing or headers: the current message is lost from here; resynchronise. */
  abort: 2,
} as const;
export type GapStatus = (typeof GAP)[keyof typeof GAP];

class Sentinel {
  constructor(readonly name: string) {}
}
/** Thrown from the headers-complete callback: the head was delivered but the framing is unusable. */
const ABORT = new Sentinel('abort');
/**
 * The library state after a message end at which the sink said stop: its handler returns true, which
 * ends the library's execute loop with `offset` at the message boundary.
 */
const PAUSED = 'APITAP_PAUSED';

interface CodedError extends Error {
  apitapAnomaly?: HttpCounter;
}
function coded(anomaly: HttpCounter): CodedError {
  const e: CodedError = new Error(anomaly);
  e.apitapAnomaly = anomaly;
  return e;
}

const HEAD_STATES: Record<string, true> = { REQUEST_LINE: true, RESPONSE_LINE: true, HEADER: true };
const LINE_STATES: Record<string, true> = {
  REQUEST_LINE: true,
  RESPONSE_LINE: true,
  HEADER: true,
  BODY_CHUNKHEAD: true,
  BODY_CHUNKEMPTYLINE: true,
  BODY_CHUNKTRAILERS: true,
};

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9112 §3: method SP request-target SP HTTP-version (the method is checked against TOKEN after).
const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
// RFC 9112 §4, as the library reads it (the SP before an empty reason may be missing).
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3}) ?(.*)$/;
// A malformed start line is still taken as a request when it begins with a method-like token.
const LAX_METHOD = /^[A-Z][A-Z0-9_-]*$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const LAX_STATUS = /^(\d{3})(?:[ \t]+(.*))?$/;
// chunk-size [ chunk-ext ] (RFC 9112 §7.1.1); at most 12 hex digits keeps sizes exact in a double.
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/;
const DIGITS = /^[0-9]{1,15}$/;
const BAD_CTL = /[\0\r\n]/g;
const isOws = (c: number): boolean => c === 0x20 || c === 0x09;

/** What OwnedParser calls back into (MessageParser's internals). */
interface ParserHooks {
  inBody: boolean;
  tsUs: number;
  readonly sink: ParserSink;
  consumeLine(p: RawParser): string | undefined;
  parseHeader(p: RawParser, line: string): void;
  chunkHead(p: RawParser): void;
  body(p: RawParser, length: number): void;
  messageComplete(): void;
  afterMessage(p: RawParser): void;
  requestLine(p: RawParser): void;
  statusLine(p: RawParser): void;
  headersComplete(): number;
}

const RawBase = HTTPParser as unknown as new (type: string) => RawParser;
/**
 * The library's parser with this module's overrides (see the header comment) on a shared prototype:
 * one owner reference per instance instead of a dozen closures per parser (measured: ~4 KB per
 * connection in closures and their property arrays, most of a half-open connection's state).
 */
class OwnedParser extends RawBase {
  /** The library's userCall() result, made once per parser instead of per call. */
  private readonly userDone: (ret: unknown) => unknown;

  constructor(
    type: string,
    readonly owner: ParserHooks,
  ) {
    super(type);
    this.userDone = (ret: unknown): unknown => {
      this.isUserCall = false;
      return ret;
    };
  }

  override consumeLine(): string | undefined {
    return this.owner.consumeLine(this);
  }

  override parseHeader(line: string): void {
    this.owner.parseHeader(this, line);
  }

  override BODY_CHUNKHEAD(): void {
    this.owner.chunkHead(this);
  }

  // The library's BODY_SIZED / BODY_CHUNK / BODY_RAW (0.5.10) without the Buffer slice per piece;
  // the sink runs as a user call (its exceptions propagate, as through the library's userCall).
  override BODY_SIZED(): void {
    const length = Math.min(this.end - this.offset, this.body_bytes as number);
    this.owner.body(this, length);
    this.offset += length;
    (this.body_bytes as number) -= length;
    if (!this.body_bytes) this.nextRequest();
  }

  override BODY_CHUNK(): void {
    const length = Math.min(this.end - this.offset, this.body_bytes as number);
    this.owner.body(this, length);
    this.offset += length;
    (this.body_bytes as number) -= length;
    if (!this.body_bytes) this.state = 'BODY_CHUNKEMPTYLINE';
  }

  override BODY_RAW(): void {
    this.owner.body(this, this.end - this.offset);
    this.offset = this.end;
  }

  override userCall(): (ret: unknown) => unknown {
    this.isUserCall = true;
    return this.userDone;
  }

  override nextRequest(): void {
    this.isUserCall = true;
    this.owner.messageComplete();
    this.isUserCall = false;
    this.owner.afterMessage(this);
  }

  override REQUEST_LINE(): void {
    this.owner.requestLine(this);
  }

  override RESPONSE_LINE(): void {
    this.owner.statusLine(this);
  }
}
const ownedProto = OwnedParser.prototype as unknown as Record<string | number, unknown>;
ownedProto[PAUSED] = function (): boolean {
  return true;
};
ownedProto[HTTPParser.kOnHeadersComplete] = function (this: OwnedParser): number {
  return this.owner.headersComplete();
};
ownedProto[HTTPParser.kOnBody] = function (this: OwnedParser, buf: Buffer, _start: number, len: number): void {
  const o = this.owner;
  o.inBody = true;
  if (len > 0) o.sink.onBody(buf, 0, len, o.tsUs);
};
// Called by the library's finish() (a body delimited by the close) and by nextRequest above.
ownedProto[HTTPParser.kOnMessageComplete] = function (this: OwnedParser): void {
  this.owner.messageComplete();
};

/**
 * One direction's parser. Not re-entrant. `feed` may be called with any split of the stream; the
 * events and statuses are identical for every split (tested at chunk sizes 1..whole).
 */
export class MessageParser {
  /** After `feed` returned paused/error: the offset in `buf` where the caller continues. */
  offset = 0;
  /** After an error: the anomaly name. */
  errorCode: HttpCounter = 'http_internal_error';
  /**
   * After an error inside the head (before `onHead`): a copy of the head bytes seen so far, from the
   * message's first byte, so the caller can rescan them for the next start line; otherwise null.
   */
  rescan: Buffer | null = null;
  /** After an error inside the head: what was parsed of it when the start line was complete, else null. */
  partialHead: ParsedHead | null = null;
  /** True between `onHead` and `onMessageEnd`. */
  inBody = false;

  private readonly p: RawParser;
  private readonly type: string;
  private headers: HeaderPair[] = [];
  private trailers: HeaderPair[] = [];
  private headAnomalies: HttpCounter[] = [];
  private headBytes = 0;
  /** Head bytes of earlier chunks (copied: they outlive their feed call). */
  private headCopy: Buffer[] = [];
  /**
   * Offset in the buffer being fed where the head bytes consumed in this feed call begin, or -1.
   * Head bytes are contiguous from there to the parser's offset; they are copied only when they must
   * outlive the call (an error inside the head, or the head continues in the next chunk), not per line.
   */
  private headFrom = -1;
  private startUs = -1;
  /** @internal (ParserHooks) */
  tsUs = 0;
  private keepGoing = true;
  private lineCount = 0;
  /** The start line was malformed but kept (lax); '' unless so. */
  private laxLine = false;
  /** The start line's HTTP-version as on the wire; '' when it had no valid one. */
  private version = '';

  constructor(
    readonly kind: MessageKind,
    /** @internal (ParserHooks) */
    readonly sink: ParserSink,
    private readonly limits: ParserLimits,
  ) {
    this.type = kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE;
    const p = new OwnedParser(this.type, this as unknown as ParserHooks);
    p.maxHeaderSize = Infinity; // our own byte budget in consumeLine applies instead
    this.p = p;
  }

  /** @internal (ParserHooks) */
  messageComplete(): void {
    this.inBody = false;
    this.keepGoing = this.sink.onMessageEnd(this.trailers, this.tsUs);
  }

  /** After a message end inside execute: ready for the next message in place, or park (PAUSED). */
  /** @internal (ParserHooks) */
  afterMessage(p: RawParser): void {
    this.resetState();
    if (!this.keepGoing) p.state = PAUSED;
  }

  /** @internal (ParserHooks) */
  body(p: RawParser, length: number): void {
    this.inBody = true;
    if (length > 0) {
      p.isUserCall = true;
      this.sink.onBody(p.chunk as Buffer, p.offset, length, this.tsUs);
      p.isUserCall = false;
    }
  }

  /** Head bytes of the message being parsed (held until its head completes), for state estimates. */
  get headBytesHeld(): number {
    return this.headBytes;
  }

  /** True between messages: waiting for a start line, no partial line pending (empty lines may precede). */
  get idle(): boolean {
    const st = this.p.state;
    return (st === 'REQUEST_LINE' || st === 'RESPONSE_LINE') && this.p.line === '' && !this.inBody;
  }

  /** Forget everything, ready for a new message (used after errors and for resynchronisation). */
  reset(): void {
    this.resetState();
    this.p.chunk = null;
  }

  /** reset() minus dropping the library's chunk: also safe inside the library's execute. */
  private resetState(): void {
    this.p.initialize(this.type);
    // Fresh arrays only where the old one was handed out or may hold items.
    if (this.headers.length > 0) this.headers = [];
    this.trailers = []; // handed to onMessageEnd: never reused
    if (this.headAnomalies.length > 0) this.headAnomalies = [];
    this.headBytes = 0;
    if (this.headCopy.length > 0) this.headCopy = [];
    this.headFrom = -1;
    this.startUs = -1;
    this.inBody = false;
    this.lineCount = 0;
    this.laxLine = false;
    this.version = '';
  }

  /**
   * Parse buf[off, end). `buf` is only read during the call. Returns done (all consumed), paused
   * (the sink returned false at a message end; `offset` is where the next message starts) or error
   * (`errorCode`, `offset`, `rescan`, `partialHead` describe it; the parser is already reset).
   */
  feed(buf: Buffer, off: number, end: number, tsUs: number): FeedStatus {
    this.tsUs = tsUs;
    const p = this.p;
    while (off < end) {
      let r: number | Error;
      try {
        r = p.execute(buf, off, end - off);
      } catch (e) {
        // Only ABORT and errors thrown by the sink reach here (the library catches its own).
        const at = typeof p.offset === 'number' && p.offset >= off && p.offset <= end ? p.offset : end;
        return this.fail(e === ABORT ? this.errorCode : 'http_internal_error', buf, at, end, false);
      }
      if (r instanceof Error) {
        const at = p.offset >= off && p.offset <= end ? p.offset : end;
        return this.fail(this.classify(r), buf, at, end, HEAD_STATES[p.state] === true);
      }
      if (p.state === PAUSED) {
        // The sink stopped at a message end; `r` bytes were consumed up to its boundary.
        this.reset();
        this.keepGoing = true;
        this.offset = off + r;
        return FEED.paused;
      }
      // The library stops early only on its own upgrade logic; we continue from where it stopped.
      off += r > 0 ? r : end - off;
    }
    if (this.headFrom >= 0) {
      // The head goes on in the next chunk: keep its bytes of this one (copy: `buf` is the caller's).
      this.headCopy.push(Buffer.from(buf.subarray(this.headFrom, end)));
      this.headFrom = -1;
    }
    p.chunk = null;
    return FEED.done;
  }

  /**
   * `len` bytes of this direction were never seen. Inside a known length they are skipped (§6.3:
   * the length still frames the message); anywhere else the framing is lost.
   * After `between` or `abort` the parser is reset and the caller resynchronises.
   */
  gap(len: number, tsUs: number): GapStatus {
    this.tsUs = tsUs;
    const p = this.p;
    const st = p.state;
    const remaining = p.body_bytes ?? 0;
    if (st === 'BODY_SIZED' || st === 'BODY_CHUNK') {
      if (remaining > len) {
        p.body_bytes = remaining - len;
        this.sink.onBodyGap(len);
        return GAP.skipped;
      }
      if (st === 'BODY_CHUNK') {
        if (remaining === len) {
          this.sink.onBodyGap(len);
          p.body_bytes = 0;
          p.state = 'BODY_CHUNKEMPTYLINE';
          return GAP.skipped;
        }
        this.errorCode = 'http_gap_in_chunk_framing';
        this.reset();
        return GAP.abort;
      }
      this.sink.onBodyGap(remaining);
      try {
        p.nextRequest(); // message complete (parks the library when the sink stops; reset below)
      } catch {
        this.sink.onEndError(); // the message still ends
      }
      const stop = !this.keepGoing;
      this.keepGoing = true;
      this.reset();
      if (stop) return GAP.between; // the sink stopped this direction; it ignores the rest itself
      return remaining === len ? GAP.skipped : GAP.between;
    }
    if (this.idle) return GAP.between;
    if (HEAD_STATES[st] === true) {
      this.errorCode = 'http_gap_in_headers';
      this.partialHead = this.buildPartial();
    } else if (st === 'BODY_RAW') {
      this.errorCode = 'http_gap_in_unsized_body';
    } else {
      this.errorCode = 'http_gap_in_chunk_framing';
    }
    const partial = this.partialHead;
    this.reset();
    this.partialHead = partial;
    return GAP.abort;
  }

  /**
   * The connection ended. A body delimited by the close (RFC 9112 §6.3 rule 8) ends here: returns
   * true when a message was completed that way. Any other message in progress stays incomplete.
   */
  finishEof(tsUs: number): boolean {
    this.tsUs = tsUs;
    if (this.p.state !== 'BODY_RAW') return false;
    try {
      this.p.finish(); // the message-complete callback (see the constructor)
    } catch {
      this.sink.onEndError(); // the message still ends
    }
    this.keepGoing = true;
    this.reset();
    return true;
  }

  /** Copy of the head bytes consumed so far by a message whose head is not complete (for re-roling after a swap). */
  takeHeadBytes(): Buffer | null {
    if (this.inBody || this.headCopy.length === 0) return null;
    const b = Buffer.concat(this.headCopy);
    this.reset();
    return b;
  }

  /** A message is in progress whose start line was parsed (its head or body is being read). */
  get started(): boolean {
    return this.inBody || this.p.state === 'HEADER';
  }

  /** The partial head of a message in progress (start line parsed), for closing it at the end. */
  pendingHead(): ParsedHead | null {
    return this.inBody ? null : this.buildPartial();
  }

  // --- library hooks -------------------------------------------------------------------------

  /** @internal (ParserHooks) */
  consumeLine(p: RawParser): string | undefined {
    const chunk = p.chunk as Buffer;
    const end = p.end;
    const start = p.offset;
    const inHead = HEAD_STATES[p.state] === true;
    const i = chunk.indexOf(0x0a, start);
    const stop = i === -1 || i >= end ? end : i + 1;
    const n = stop - start;
    // Budget: the whole head, or one chunk-size/CRLF/trailer line series, within maxHeaderBytes.
    if (LINE_STATES[p.state] === true) {
      if (this.headBytes + n > this.limits.maxHeaderBytes) throw coded('http_header_overflow');
      this.headBytes += n;
    }
    if (inHead && n > 0) {
      if (this.startUs < 0 && chunk[start] !== 0x0d && chunk[start] !== 0x0a) this.startUs = this.tsUs;
      // Kept for a rescan after an error inside the head: copied lazily (see headFrom).
      if (this.headFrom < 0) this.headFrom = start;
    }
    if (i === -1 || i >= end) {
      p.line += chunk.toString('latin1', start, end);
      p.offset = end;
      return undefined;
    }
    let line = p.line + chunk.toString('latin1', start, i);
    if (line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
    p.line = '';
    p.offset = i + 1;
    return line;
  }

  /** RFC 9112 §3; empty lines before the start line are skipped (§2.2). */
  /** @internal (ParserHooks) */
  requestLine(p: RawParser): void {
    const line = p.consumeLine();
    if (!line) return;
    const info = p.info;
    const m = REQUEST_LINE.exec(line);
    if (m !== null) {
      const method = m[1] as string;
      if (!TOKEN.test(method)) throw coded('http_invalid_method');
      info.method = method;
      info.url = m[2] as string;
      info.versionMajor = Number(m[3]);
      info.versionMinor = Number(m[4]);
      this.version = `HTTP/${m[3] as string}.${m[4] as string}`;
    } else {
      // Lax: `METHOD`, `METHOD target`, `METHOD HTTP/1.1`, `METHOD target HTTP/1.`, extra spaces.
      const sp = line.indexOf(' ');
      const method = sp < 0 ? line : line.slice(0, sp);
      if (!LAX_METHOD.test(method) || (sp < 0 && !KNOWN_METHOD_SET.has(method))) throw coded('http_invalid_start_line');
      const parts =
        sp < 0
          ? []
          : line
              .slice(sp + 1)
              .split(' ')
              .filter((x) => x !== '');
      let target = parts[0] ?? '';
      let version = parts[1] ?? '';
      if (parts.length === 1 && VERSION.test(target)) {
        version = target;
        target = '';
      }
      const v = VERSION.exec(version);
      info.method = method;
      info.url = target;
      info.versionMajor = v !== null ? Number(v[1]) : 1;
      info.versionMinor = v !== null ? Number(v[2]) : 1;
      this.version = v !== null ? version : '';
      this.laxLine = true;
      this.headAnomalies.push('http_invalid_start_line');
    }
    p.body_bytes = 0;
    p.state = 'HEADER';
  }

  /** RFC 9112 §4. */
  /** @internal (ParserHooks) */
  statusLine(p: RawParser): void {
    const line = p.consumeLine();
    if (!line) return;
    const info = p.info;
    const m = STATUS_LINE.exec(line);
    if (m !== null) {
      info.versionMajor = Number(m[1]);
      info.versionMinor = Number(m[2]);
      info.statusCode = Number(m[3]);
      info.statusMessage = m[4] as string;
      this.version = `HTTP/${m[1] as string}.${m[2] as string}`;
    } else {
      // Lax: "HTTP/" at line start: `HTTP/1.1 OK`, `HTTP/1.1 2000 x`, `HTTP/1.1  200 OK`, `HTTP/1 200`.
      if (!line.startsWith('HTTP/')) throw coded('http_invalid_start_line');
      const sp = line.indexOf(' ');
      const word = sp < 0 ? line : line.slice(0, sp);
      const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
      const v = VERSION.exec(word);
      const s = LAX_STATUS.exec(rest);
      info.versionMajor = v !== null ? Number(v[1]) : 1;
      info.versionMinor = v !== null ? Number(v[2]) : 1;
      info.statusCode = s !== null ? Number(s[1]) : 0;
      info.statusMessage = s !== null ? (s[2] ?? '') : rest;
      this.version = v !== null ? word : '';
      this.laxLine = true;
      this.headAnomalies.push('http_invalid_start_line');
    }
    p.body_bytes = 0;
    p.state = 'HEADER';
  }

  /** @internal (ParserHooks) */
  parseHeader(p: RawParser, line: string): void {
    const trailer = p.state === 'BODY_CHUNKTRAILERS';
    const list = trailer ? this.trailers : this.headers;
    if (++this.lineCount > this.limits.maxHeaderCount) throw coded('http_header_flood');
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) {
      // obs-fold (RFC 9112 §5.2): replace with SP and append to the previous value.
      this.headAnomalies.push('http_obs_fold');
      const last = list[list.length - 1];
      if (last !== undefined) last[1] = (last[1] + ' ' + line.trim()).trim();
      else this.headAnomalies.push('http_invalid_header');
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      this.headAnomalies.push('http_invalid_header');
      return;
    }
    let name = line.slice(0, colon);
    // The value without leading and trailing SP/HTAB (RFC 9112 §5.1 OWS), one slice.
    let a = colon + 1;
    let b = line.length;
    while (a < b && isOws(line.charCodeAt(a))) a++;
    while (b > a && isOws(line.charCodeAt(b - 1))) b--;
    let value = line.slice(a, b);
    if (!TOKEN.test(name)) {
      // Includes whitespace before the colon (RFC 9112 §5.1: a server MUST reject it).
      this.headAnomalies.push('http_invalid_header');
      if (BAD_CTL.test(name)) {
        this.headAnomalies.push('http_nul_byte');
        name = name.replace(BAD_CTL, ' ');
      }
      BAD_CTL.lastIndex = 0;
    }
    if (BAD_CTL.test(value)) {
      // RFC 9110 §5.5: NUL/CR/LF in a field value must be rejected or replaced with SP.
      this.headAnomalies.push('http_nul_byte');
      value = value.replace(BAD_CTL, ' ');
    }
    BAD_CTL.lastIndex = 0;
    list.push([name, value]);
  }

  /** @internal (ParserHooks) */
  chunkHead(p: RawParser): void {
    const line = p.consumeLine();
    if (line === undefined) return;
    const m = CHUNK_SIZE.exec(line);
    if (m === null) throw coded('http_bad_chunk');
    const size = parseInt(m[1] as string, 16);
    // A chunk line series is bounded by the budget; a data chunk resets it.
    if (size === 0) {
      p.body_bytes = 0;
      p.state = 'BODY_CHUNKTRAILERS';
      this.lineCount = 0;
    } else {
      this.headBytes = 0;
      p.body_bytes = size;
      p.state = 'BODY_CHUNK';
    }
  }

  /** @internal (ParserHooks) */
  headersComplete(): number {
    const p = this.p;
    const info = p.info;
    const head = this.makeHead(info);
    this.headBytes = 0;
    this.lineCount = 0;
    if (this.headCopy.length > 0) this.headCopy = [];
    this.headFrom = -1;
    this.inBody = true;
    const lax = this.laxLine;
    const framing = decideFraming(this.kind, head);
    // A lax start line: a body only when the headers frame one; never read to the close.
    if (lax && framing.kind === FRAMING.close) framing.kind = FRAMING.none;
    const noBodyBySemantics = this.sink.onHead(head);
    if (this.kind === 'response') {
      const s = head.status;
      // RFC 9112 §6.3 rule 1: 1xx, 204 and 304 never have content; rule 2 (via the sink): HEAD, CONNECT 2xx.
      if ((s >= 100 && s < 200) || s === 204 || s === 304 || noBodyBySemantics) return 1;
    }
    if (framing.kind === FRAMING.invalid) {
      this.errorCode = framing.anomaly === '' ? 'http_internal_error' : framing.anomaly;
      throw ABORT;
    }
    if (framing.kind === FRAMING.chunked) {
      p.isChunked = true;
      p.body_bytes = null;
    } else if (framing.kind === FRAMING.sized) {
      p.isChunked = false;
      p.body_bytes = framing.length;
    } else if (framing.kind === FRAMING.close) {
      p.isChunked = false;
      p.body_bytes = null;
    } else {
      p.isChunked = false;
      p.body_bytes = 0;
    }
    return 0;
  }

  // --- helpers -------------------------------------------------------------------------------

  private makeHead(info: RawInfo): ParsedHead {
    const anomalies = this.headAnomalies;
    this.headAnomalies = [];
    let method = '';
    let target = '';
    let status = 0;
    let reason = '';
    if (this.kind === 'request') {
      method = typeof info.method === 'number' ? (KNOWN_METHODS[info.method] ?? '') : String(info.method ?? '');
      target = info.url ?? '';
      if (BAD_CTL.test(target)) anomalies.push('http_nul_byte');
      BAD_CTL.lastIndex = 0;
    } else {
      status = info.statusCode ?? 0;
      reason = info.statusMessage ?? '';
    }
    const major = info.versionMajor ?? 0;
    // RFC 9112 §2.3: this parser speaks HTTP/1.x only.
    if (major !== 1) anomalies.push('http_invalid_version');
    const headers = this.headers;
    this.headers = [];
    return {
      method,
      target,
      status,
      reason,
      version: this.version,
      headers,
      startUs: this.startUs < 0 ? this.tsUs : this.startUs,
      anomalies,
    };
  }

  /** The head parsed so far, when its start line is complete; null otherwise. */
  private buildPartial(): ParsedHead | null {
    const info = this.p.info;
    if (this.p.state !== 'HEADER') return null;
    if (this.kind === 'request' ? info.url === undefined : info.statusCode === undefined) return null;
    const save = this.headers;
    const h = this.makeHead(info);
    this.headers = save;
    h.headers = save.slice();
    return h;
  }

  private classify(e: Error): HttpCounter {
    const a = (e as CodedError).apitapAnomaly;
    if (a !== undefined) return a;
    if (e.message === 'invalid request method') return 'http_invalid_method';
    if (e.message === 'Expected empty line') return 'http_bad_chunk';
    if (e.message === 'max header size exceeded') return 'http_header_overflow';
    return 'http_invalid_start_line';
  }

  private fail(code: HttpCounter, buf: Buffer, at: number, end: number, inHead: boolean): FeedStatus {
    this.errorCode = code;
    this.offset = at;
    if (inHead && !this.inBody) {
      // The rescan covers the failed head from its first byte to the end of this chunk, so where the
      // error struck inside the chunk cannot change what the resync sees (split invariance).
      this.partialHead = code === 'http_header_flood' || code === 'http_header_overflow' ? this.buildPartial() : null;
      // This chunk's head bytes [headFrom, at) and the rest of the chunk.
      this.headCopy.push(Buffer.from(buf.subarray(this.headFrom >= 0 && this.headFrom < at ? this.headFrom : at, end)));
      const rescan = Buffer.concat(this.headCopy);
      const partial = this.partialHead;
      this.reset();
      this.rescan = rescan.length > 0 ? rescan : null;
      this.partialHead = partial;
      this.offset = end;
    } else {
      this.reset();
      this.rescan = null;
      this.partialHead = null;
    }
    return FEED.error;
  }
}

/** RFC 9112 §6.3 message-length decision, from the header section alone. */
export const FRAMING = { none: 0, sized: 1, chunked: 2, close: 3, invalid: 4 } as const;
export interface Framing {
  kind: (typeof FRAMING)[keyof typeof FRAMING];
  length: number;
  anomaly: HttpCounter | '';
}

export function decideFraming(kind: MessageKind, head: ParsedHead): Framing {
  let te: string | null = null;
  let cl: string[] | null = null;
  for (const [k, v] of head.headers) {
    if (k.length === 17 && k.toLowerCase() === 'transfer-encoding') te = te === null ? v : `${te}, ${v}`;
    else if (k.length === 14 && k.toLowerCase() === 'content-length') (cl ??= []).push(v);
  }
  if (te !== null) {
    if (cl !== null) head.anomalies.push('http_te_and_cl'); // rule 3: TE overrides CL (smuggling signal)
    const codings = te.split(',');
    const last = (codings[codings.length - 1] ?? '').trim().toLowerCase();
    if (last === 'chunked') return { kind: FRAMING.chunked, length: 0, anomaly: '' };
    if (kind === 'response') return { kind: FRAMING.close, length: 0, anomaly: '' }; // rule 4, response
    head.anomalies.push('http_bad_transfer_encoding');
    return { kind: FRAMING.invalid, length: 0, anomaly: 'http_bad_transfer_encoding' }; // rule 4, request
  }
  if (cl !== null) {
    // Rule 5; RFC 9110 §8.6 lets a recipient accept a list of identical values.
    let value = -1;
    for (const field of cl) {
      for (const part of field.split(',')) {
        const t = part.trim();
        if (!DIGITS.test(t)) {
          head.anomalies.push('http_bad_content_length');
          return { kind: FRAMING.invalid, length: 0, anomaly: 'http_bad_content_length' };
        }
        const n = Number(t);
        if (value >= 0 && n !== value) {
          head.anomalies.push('http_duplicate_content_length');
          return { kind: FRAMING.invalid, length: 0, anomaly: 'http_duplicate_content_length' };
        }
        value = n;
      }
    }
    return value === 0
      ? { kind: FRAMING.none, length: 0, anomaly: '' }
      : { kind: FRAMING.sized, length: value, anomaly: '' };
  }
  // Rule 7: a request without either has no content; rule 8: a response reads until close.
  return kind === 'request'
    ? { kind: FRAMING.none, length: 0, anomaly: '' }
    : { kind: FRAMING.close, length: 0, anomaly: '' };
}
