// What a capture file holds so far, for the harness to know when tcpdump has written everything: the
// TCP connections opened (a SYN without ACK) and whether each has ended (a FIN from both ends, or an
// RST). Classic pcap only (what tcpdump -w writes), either byte order, µs or ns; Ethernet or Linux
// cooked (SLL) link types; IPv4 and IPv6. A record cut short at the end of the file (tcpdump is still
// writing) is ignored.
import { readFileSync, writeFileSync } from 'node:fs';

export interface CaptureState {
  packets: number;
  connections: number;
  /** Connections without an RST or a FIN from both ends yet. */
  open: number;
  firstUs: number | null;
  lastUs: number | null;
}

export function captureState(file: string): CaptureState {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return { packets: 0, connections: 0, open: 0, firstUs: null, lastUs: null };
  }
  const st: CaptureState = { packets: 0, connections: 0, open: 0, firstUs: null, lastUs: null };
  if (b.length < 24) return st;
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) throw new Error(`${file}: not a classic pcap file`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const nano = (le ? magic : b.readUInt32BE(0)) === 0xa1b23c4d;
  const link = u32(20) & 0xffff;
  const opened = new Set<string>();
  const ended = new Set<string>();
  const fins = new Map<string, Set<string>>();
  let off = 24;
  while (off + 16 <= b.length) {
    const incl = u32(off + 8);
    if (off + 16 + incl > b.length) break;
    const ts = u32(off) * 1_000_000 + (nano ? Math.floor(u32(off + 4) / 1000) : u32(off + 4));
    st.packets++;
    st.firstUs ??= ts;
    st.lastUs = ts;
    const p = off + 16;
    off = p + incl;
    let l3: number;
    let etype: number;
    if (link === 1) {
      if (incl < 14) continue;
      etype = b.readUInt16BE(p + 12);
      l3 = p + 14;
    } else if (link === 113) {
      if (incl < 16) continue;
      etype = b.readUInt16BE(p + 14);
      l3 = p + 16;
    } else continue;
    let src: string;
    let dst: string;
    let l4: number;
    if (etype === 0x0800) {
      if ((b[l3 + 9] ?? 0) !== 6) continue;
      l4 = l3 + ((b[l3] ?? 0) & 0x0f) * 4;
      src = b.subarray(l3 + 12, l3 + 16).join('.');
      dst = b.subarray(l3 + 16, l3 + 20).join('.');
    } else if (etype === 0x86dd) {
      if ((b[l3 + 6] ?? 0) !== 6) continue;
      l4 = l3 + 40;
      src = b.subarray(l3 + 8, l3 + 24).toString('hex');
      dst = b.subarray(l3 + 24, l3 + 40).toString('hex');
    } else continue;
    if (l4 + 14 > off) continue;
    const sp = b.readUInt16BE(l4);
    const dp = b.readUInt16BE(l4 + 2);
    const flags = b[l4 + 13] ?? 0;
    const a = `${src}:${sp}`;
    const z = `${dst}:${dp}`;
    const key = a < z ? `${a} ${z}` : `${z} ${a}`;
    if ((flags & 0x02) !== 0 && (flags & 0x10) === 0) opened.add(key);
    if ((flags & 0x04) !== 0) ended.add(key);
    if ((flags & 0x01) !== 0) {
      const s = fins.get(key) ?? new Set<string>();
      s.add(a);
      fins.set(key, s);
      if (s.size === 2) ended.add(key);
    }
  }
  st.connections = opened.size;
  for (const k of opened) if (!ended.has(k)) st.open++;
  return st;
}

/**
 * Slows a capture's clock down in place: every record's time becomes t0 + (t − t0) · factor, t0 being
 * the first record's. The traffic is generated fast (seconds) and the detectors' windows and rate
 * buckets are in packet time (minutes): stretching gives their defaults realistic rates to judge
 * without the test waiting minutes. Returns t0 in epoch microseconds (null for an empty capture).
 */
export function stretchCapture(file: string, factor: number): number | null {
  const b = readFileSync(file);
  if (b.length < 24) return null;
  const magicLe = b.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magic = le ? magicLe : b.readUInt32BE(0);
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error(`${file}: not a classic pcap file`);
  const unit = magic === 0xa1b23c4d ? 1_000_000_000 : 1_000_000;
  const rd = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const wr = (v: number, o: number): void => {
    if (le) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  };
  let t0: bigint | null = null;
  const F = BigInt(Math.round(factor * 1000));
  const U = BigInt(unit);
  let off = 24;
  while (off + 16 <= b.length) {
    const incl = rd(off + 8);
    if (off + 16 + incl > b.length) break;
    const t = BigInt(rd(off)) * U + BigInt(rd(off + 4));
    t0 ??= t;
    const s = t0 + ((t - t0) * F) / 1000n;
    wr(Number(s / U), off);
    wr(Number(s % U), off + 4);
    off += 16 + incl;
  }
  writeFileSync(file, b);
  return t0 === null ? null : Number((t0 * 1_000_000n) / U);
}
