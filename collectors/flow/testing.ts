// Test helper: a synthetic flood of half-open HTTP connections written as a classic pcap (µs, little
// endian, Ethernet). Synthetic by nature: a port scan or a SYN flood on a mirrored subnet has no real
// server behind it, so no real software is needed to make one; each connection is a client SYN and one
// request segment (PSH|ACK, in sequence after the SYN), never answered. Not used by production code.
import { closeSync, openSync, writeSync } from 'node:fs';

export interface FloodOptions {
  /** Connections (each two packets). */
  connections: number;
  /** Packet time of the first packet, µs; consecutive packets are `stepUs` apart. */
  startUs?: number;
  stepUs?: number;
  /** Request bytes carried by each connection's one segment. */
  request?: string;
}

const ETH = 14;
const IP = 20;
const TCP = 20;

/** Writes the flood to `path`; returns the number of packets written. Clients 10.128.0.0/9, server 10.0.0.1:80. */
export function writeHalfOpenFlood(path: string, o: FloodOptions): number {
  const startUs = o.startUs ?? 1_700_000_000_000_000;
  const stepUs = o.stepUs ?? 10;
  const req = Buffer.from(o.request ?? 'GET /api/v1/items/1 HTTP/1.1\r\nHost: api.flood.test\r\nAccept: */*\r\n\r\n');
  const fd = openSync(path, 'w');
  try {
    const gh = Buffer.alloc(24);
    gh.writeUInt32LE(0xa1b2c3d4, 0);
    gh.writeUInt16LE(2, 4);
    gh.writeUInt16LE(4, 6);
    gh.writeUInt32LE(65535, 16);
    gh.writeUInt32LE(1, 20);
    writeSync(fd, gh);
    const synLen = ETH + IP + TCP;
    const dataLen = ETH + IP + TCP + req.length;
    const chunk = Buffer.alloc(1 << 20);
    let used = 0;
    let packets = 0;
    let ts = startUs;
    const flush = (): void => {
      if (used > 0) writeSync(fd, chunk, 0, used);
      used = 0;
    };
    const frame = (
      len: number,
      client: number,
      sport: number,
      seq: number,
      flags: number,
      payload: Buffer | null,
    ): void => {
      if (used + 16 + len > chunk.length) flush();
      const sec = Math.floor(ts / 1e6);
      chunk.writeUInt32LE(sec, used);
      chunk.writeUInt32LE(ts - sec * 1e6, used + 4);
      chunk.writeUInt32LE(len, used + 8);
      chunk.writeUInt32LE(len, used + 12);
      const f = used + 16;
      chunk.fill(0, f, f + len);
      chunk.writeUInt32BE(0x02000000, f); // dst MAC 02:00:00:00:00:02
      chunk.writeUInt16BE(0x0002, f + 4);
      chunk.writeUInt32BE(0x02000000, f + 6); // src MAC 02:00:00:00:00:01
      chunk.writeUInt16BE(0x0001, f + 10);
      chunk.writeUInt16BE(0x0800, f + 12);
      const ip = f + ETH;
      chunk[ip] = 0x45;
      chunk.writeUInt16BE(len - ETH, ip + 2);
      chunk.writeUInt16BE(packets & 0xffff, ip + 4);
      chunk[ip + 8] = 64;
      chunk[ip + 9] = 6;
      chunk.writeUInt32BE(client >>> 0, ip + 12);
      chunk.writeUInt32BE(0x0a000001, ip + 16); // 10.0.0.1
      const t = ip + IP;
      chunk.writeUInt16BE(sport, t);
      chunk.writeUInt16BE(80, t + 2);
      chunk.writeUInt32BE(seq >>> 0, t + 4);
      chunk.writeUInt32BE(0, t + 8);
      chunk[t + 12] = (TCP / 4) << 4;
      chunk[t + 13] = flags;
      chunk.writeUInt16BE(65535, t + 14);
      if (payload !== null) payload.copy(chunk, t + TCP);
      used += 16 + len;
      packets++;
      ts += stepUs;
    };
    for (let i = 0; i < o.connections; i++) {
      // A distinct (address, port) per connection: 2^23 client addresses × ports 1024-64511.
      const client = (0x0a800000 | (i % 0x7fffff)) >>> 0;
      const sport = 1024 + ((i * 7919) % 63488);
      const isn = Math.imul(i + 1, 0x9e3779b1) >>> 0;
      frame(synLen, client, sport, isn, 0x02, null); // SYN
      frame(dataLen, client, sport, (isn + 1) >>> 0, 0x18, req); // PSH|ACK with the request
    }
    flush();
    return packets;
  } finally {
    closeSync(fd);
  }
}
