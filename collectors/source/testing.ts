// Capture-file builders for tests (pcap and pcapng, either byte order).

export interface TestRecord {
  tsUs: number;
  data: Buffer;
  /** Original length; defaults to data.length. */
  orig?: number;
  /** pcapng: interface id (EPB); default 0. */
  ifId?: number;
}

export function pcapFile(
  records: readonly TestRecord[],
  o: { linkType?: number; le?: boolean; nano?: boolean; snaplen?: number } = {},
): Buffer {
  const le = o.le ?? true;
  const w32 = (b: Buffer, v: number, off: number): number =>
    le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off);
  const w16 = (b: Buffer, v: number, off: number): number => (le ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  const h = Buffer.alloc(24);
  w32(h, o.nano === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, o.snaplen ?? 65535, 16);
  w32(h, o.linkType ?? 1, 20);
  const parts: Buffer[] = [h];
  for (const r of records) {
    const rh = Buffer.alloc(16);
    const sec = Math.floor(r.tsUs / 1e6);
    const us = r.tsUs - sec * 1e6;
    w32(rh, sec, 0);
    w32(rh, o.nano === true ? us * 1000 : us, 4);
    w32(rh, r.data.length, 8);
    w32(rh, r.orig ?? r.data.length, 12);
    parts.push(rh, r.data);
  }
  return Buffer.concat(parts);
}

export interface TestIface {
  linkType: number;
  snaplen?: number;
  tsresol?: number;
  tsoffsetSec?: number;
}

/** pcapng with one section: SHB, the IDBs, then EPBs (ts given in µs, written in the interface's resolution). */
export function pcapngFile(
  ifaces: readonly TestIface[],
  records: readonly TestRecord[],
  o: { le?: boolean; extra?: readonly Buffer[] } = {},
): Buffer {
  const le = o.le ?? true;
  const w32 = (b: Buffer, v: number, off: number): number =>
    le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off);
  const w16 = (b: Buffer, v: number, off: number): number => (le ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  const block = (type: number, body: Buffer): Buffer => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = Buffer.alloc(len);
    w32(b, type, 0);
    w32(b, len, 4);
    body.copy(b, 8);
    w32(b, len, len - 4);
    return b;
  };
  const shbBody = Buffer.alloc(16);
  w32(shbBody, 0x1a2b3c4d, 0);
  w16(shbBody, 1, 4);
  w16(shbBody, 0, 6);
  shbBody.writeBigInt64LE(-1n, 8);
  const parts: Buffer[] = [block(0x0a0d0d0a, shbBody)];
  for (const f of ifaces) {
    const opts: Buffer[] = [];
    if (f.tsresol !== undefined) {
      const ob = Buffer.alloc(8);
      w16(ob, 9, 0);
      w16(ob, 1, 2);
      ob[4] = f.tsresol;
      opts.push(ob);
    }
    if (f.tsoffsetSec !== undefined) {
      const ob = Buffer.alloc(12);
      w16(ob, 14, 0);
      w16(ob, 8, 2);
      if (le) ob.writeBigInt64LE(BigInt(f.tsoffsetSec), 4);
      else ob.writeBigInt64BE(BigInt(f.tsoffsetSec), 4);
      opts.push(ob);
    }
    if (opts.length > 0) opts.push(Buffer.alloc(4));
    const body = Buffer.alloc(8);
    w16(body, f.linkType, 0);
    w32(body, f.snaplen ?? 0, 4);
    parts.push(block(1, Buffer.concat([body, ...opts])));
  }
  for (const e of o.extra ?? []) parts.push(e);
  for (const r of records) {
    const f = ifaces[r.ifId ?? 0]!;
    const res = f.tsresol ?? 6;
    const sec = BigInt(Math.floor(r.tsUs / 1e6)) - BigInt(f.tsoffsetSec ?? 0);
    const us = BigInt(r.tsUs % 1e6);
    const units = (res & 0x80) !== 0 ? 1n << BigInt(res & 0x7f) : 10n ** BigInt(res);
    const ts = sec * units + (us * units) / 1_000_000n;
    const body = Buffer.alloc(20);
    w32(body, r.ifId ?? 0, 0);
    w32(body, Number(ts >> 32n), 4);
    w32(body, Number(ts & 0xffffffffn), 8);
    w32(body, r.data.length, 12);
    w32(body, r.orig ?? r.data.length, 16);
    parts.push(block(6, Buffer.concat([body, r.data])));
  }
  return Buffer.concat(parts);
}

/** An arbitrary block the reader must skip (e.g. a Name Resolution Block, type 4). */
export function pcapngBlock(type: number, bodyLen: number, le = true): Buffer {
  const len = 12 + bodyLen;
  const b = Buffer.alloc(len);
  if (le) {
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt32LE(len, len - 4);
  } else {
    b.writeUInt32BE(type, 0);
    b.writeUInt32BE(len, 4);
    b.writeUInt32BE(len, len - 4);
  }
  return b;
}
