// Paced VXLAN mirror sender for test/bench/vxlan.bench.ts (also usable by hand):
//
//   node --import tsx test/bench/vxlan-sender.ts --port 4789 --pps 50000 [--seconds 10 | --count N]
//        [--host 127.0.0.1] [--capture FILE] [--vni 123] [--max-mb 64] [--batch 64]
//
// What AWS VPC Traffic Mirroring puts on the wire, minus the outer IP/UDP headers the kernel strips:
// each Ethernet frame of a real capture behind an 8-byte VXLAN header (RFC 7348 §5: flags 0x08 = "VNI
// valid", 24-bit VNI, reserved bytes zero), one UDP datagram per frame, sent to the collector.
//
// Capture: --capture, else /tmp/apitap-bench/lab-300.pcap, else /tmp/b60.pcap, else
// deploy/demo/demo.pcap. At most --max-mb of datagrams are loaded (one contiguous pool, so the send
// loop allocates nothing per packet); when the run needs more packets the set is replayed, and each
// replay gets the next VNI (vni, vni+1, ...) so the replayed TCP flows are new flows to the collector
// (its flow key includes the VNI) instead of duplicates of finished ones.
//
// Pacing: a token bucket refilled from the monotonic clock, drained in bursts of at most --batch
// sends per tick (setImmediate while behind, a 1 ms timer when ahead). The socket is connect()ed, so
// a send is one sendmsg on loopback. The achieved rate is printed: on a busy machine the sender may
// fall short of the target, and the bench reports what was really offered.
//
// Output: one JSON line on stdout: {"schema":"vxlan-sender/v1", sent, bytes, seconds, pps, mbps, loops,
// firstVni, lastVni, frames, capture, sendErrors, cpuPct}. Progress and problems go to stderr.
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCapture } from '../../collectors/source/capture.js';
import { LINKTYPE } from '../../collectors/source/types.js';

export interface SenderResult {
  schema: 'vxlan-sender/v1';
  capture: string;
  /** Distinct frames loaded from the capture (one replay of the set). */
  frames: number;
  sent: number;
  /** UDP payload bytes sent (VXLAN header + frame). */
  bytes: number;
  seconds: number;
  pps: number;
  /** UDP payload megabits per second. */
  mbps: number;
  /** How many times the frame set was started (1 = no replay). */
  loops: number;
  firstVni: number;
  lastVni: number;
  /** Sends whose callback reported an error (e.g. ECONNREFUSED when nothing listens). */
  sendErrors: number;
  /** The sender's own CPU while sending (user + system, 100 = one core). */
  cpuPct: number;
}

const VXLAN_HEADER = 8;
const VXLAN_FLAG_VNI = 0x08;

export function defaultCapture(repoRoot: string): string {
  for (const p of ['/tmp/apitap-bench/lab-300.pcap', '/tmp/b60.pcap', `${repoRoot}/deploy/demo/demo.pcap`]) {
    if (existsSync(p)) return p;
  }
  throw new Error('no capture found (tried /tmp/apitap-bench/lab-300.pcap, /tmp/b60.pcap, deploy/demo/demo.pcap)');
}

/** Datagrams (VXLAN header + Ethernet frame) packed into one pool; offsets[i]..offsets[i+1] is datagram i. */
interface DatagramSet {
  pool: Buffer;
  offsets: Uint32Array;
  count: number;
}

async function loadDatagrams(file: string, maxBytes: number, vni: number): Promise<DatagramSet> {
  const pool = Buffer.allocUnsafe(maxBytes);
  let used = 0;
  let offsets = new Uint32Array(1 << 16);
  let count = 0;
  let skipped = 0;
  let full = false;
  const ac = new AbortController();
  const res = await readCapture(
    file,
    {
      onFrame(frame, linkType): void {
        if (full) return;
        if (linkType !== LINKTYPE.ETHERNET) {
          skipped++;
          return;
        }
        const len = VXLAN_HEADER + frame.length;
        if (used + len > maxBytes) {
          full = true;
          ac.abort();
          return;
        }
        if (count + 2 > offsets.length) {
          const grown = new Uint32Array(offsets.length * 2);
          grown.set(offsets);
          offsets = grown;
        }
        offsets[count] = used;
        pool.fill(0, used, used + VXLAN_HEADER);
        pool[used] = VXLAN_FLAG_VNI;
        pool.writeUIntBE(vni, used + 4, 3);
        frame.copy(pool, used + VXLAN_HEADER);
        used += len;
        count++;
      },
    },
    { signal: ac.signal },
  );
  offsets[count] = used;
  for (const p of res.problems) {
    if (p.fatal && p.code !== 'capture_aborted' && p.code !== 'capture_truncated')
      throw new Error(`${file}: ${p.code}: ${p.message}`);
  }
  if (skipped > 0) process.stderr.write(`vxlan-sender: skipped ${skipped} non-Ethernet frames\n`);
  if (count === 0) throw new Error(`${file}: no Ethernet frames`);
  return { pool, offsets, count };
}

function setVni(set: DatagramSet, vni: number): void {
  for (let i = 0; i < set.count; i++) set.pool.writeUIntBE(vni & 0xffffff, set.offsets[i]! + 4, 3);
}

export interface SendOptions {
  host: string;
  port: number;
  pps: number;
  /** Stop after this many seconds (ignored when count > 0). */
  seconds: number;
  /** Stop after this many datagrams (0 = use seconds). */
  count: number;
  capture: string;
  vni: number;
  maxBytes: number;
  batch: number;
}

export async function send(opts: SendOptions): Promise<SenderResult> {
  const set = await loadDatagrams(opts.capture, opts.maxBytes, opts.vni);
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(opts.port, opts.host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  // An ICMP port-unreachable (nothing listening) surfaces as an 'error' event on a connected socket.
  let sendErrors = 0;
  sock.on('error', () => {
    sendErrors++;
  });
  sock.setSendBufferSize(4 * 1024 * 1024);

  let inFlight = 0;
  const onSent = (err: Error | null): void => {
    inFlight--;
    if (err !== null) sendErrors++;
  };
  const limit = opts.count > 0 ? opts.count : Infinity;
  const durationMs = opts.count > 0 ? Infinity : opts.seconds * 1000;
  const perMs = opts.pps / 1000;

  let sent = 0;
  let bytes = 0;
  let idx = 0;
  let loops = 1;
  let vni = opts.vni;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      if (sent >= limit || elapsed >= durationMs) {
        resolve();
        return;
      }
      // Tokens earned so far minus those spent; a burst is capped so one late tick does not flood.
      let n = Math.min(Math.floor(elapsed * perMs) + 1 - sent, opts.batch, limit - sent);
      while (n > 0) {
        if (idx === set.count) {
          // Replay the set under the next VNI. Rewriting the headers is only safe once every send
          // of the previous replay has left the pool (sends are asynchronous).
          if (inFlight > 0) break;
          idx = 0;
          loops++;
          vni = (vni + 1) & 0xffffff;
          setVni(set, vni);
        }
        const off = set.offsets[idx]!;
        const len = set.offsets[idx + 1]! - off;
        inFlight++;
        sock.send(set.pool, off, len, onSent);
        idx++;
        sent++;
        bytes += len;
        n--;
      }
      const behind = Math.floor((performance.now() - t0) * perMs) + 1 - sent;
      if (behind > 0) setImmediate(tick);
      else setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  while (inFlight > 0) await new Promise((r) => setImmediate(r));
  await new Promise<void>((resolve) => sock.close(resolve));
  return {
    schema: 'vxlan-sender/v1',
    capture: opts.capture,
    frames: set.count,
    sent,
    bytes,
    seconds: Number(seconds.toFixed(3)),
    pps: Math.round(sent / seconds),
    mbps: Number(((bytes * 8) / seconds / 1e6).toFixed(1)),
    loops,
    firstVni: opts.vni,
    lastVni: vni,
    sendErrors,
    cpuPct: Math.round((cpu.user + cpu.system) / 1e4 / seconds),
  };
}

async function main(): Promise<void> {
  const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      pps: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '10' },
      count: { type: 'string', default: '0' },
      capture: { type: 'string' },
      vni: { type: 'string', default: '123' },
      'max-mb': { type: 'string', default: '64' },
      batch: { type: 'string', default: '64' },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} wants a number >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const opts: SendOptions = {
    host: values.host,
    port: num('port', values.port, 1),
    pps: num('pps', values.pps, 1),
    seconds: num('seconds', values.seconds, 0.001),
    count: Math.floor(num('count', values.count, 0)),
    capture: values.capture ?? defaultCapture(repoRoot),
    vni: Math.floor(num('vni', values.vni, 0)) & 0xffffff,
    maxBytes: Math.floor(num('max-mb', values['max-mb'], 1) * 1024 * 1024),
    batch: Math.floor(num('batch', values.batch, 1)),
  };
  const res = await send(opts);
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`vxlan-sender: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
