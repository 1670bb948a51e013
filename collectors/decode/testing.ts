// Frame builders for tests: readable, allocation-happy, never used on the hot path.
// Every builder returns a fresh Buffer with correct lengths (checksums left 0: the decoder ignores them).

export const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
export function ip6(s: string): Buffer {
  const [head = '', tail = ''] = s.includes('::') ? s.split('::') : [s, ''];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function ethernet(type: number, payload: Buffer, dst = '02:00:00:00:00:02', src = '02:00:00:00:00:01'): Buffer {
  const mac = (m: string): Buffer => Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type);
  return Buffer.concat([mac(dst), mac(src), t, payload]);
}

/** One VLAN tag (TPID already written by the enclosing header): TCI then the next EtherType. */
export function vlanTag(vid: number, nextType: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(vid & 0x0fff, 0);
  b.writeUInt16BE(nextType, 2);
  return Buffer.concat([b, payload]);
}

/** Ethernet frame with stacked tags: tags[0] is outermost, as [tpid, vid]. */
export function ethernetVlan(tags: readonly (readonly [number, number])[], type: number, payload: Buffer): Buffer {
  let inner = payload;
  let next = type;
  for (let i = tags.length - 1; i >= 0; i--) {
    const [tpid, vid] = tags[i]!;
    inner = vlanTag(vid, next, inner);
    next = tpid;
  }
  return ethernet(next, inner);
}

export function mpls(labels: readonly number[], payload: Buffer): Buffer {
  const b = Buffer.alloc(labels.length * 4);
  labels.forEach((l, i) =>
    b.writeUInt32BE((((l & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0, i * 4),
  );
  return Buffer.concat([b, payload]);
}

export interface Ipv4Opts {
  src?: string;
  dst?: string;
  proto: number;
  id?: number;
  mf?: boolean;
  fragOffset8?: number;
  options?: Buffer;
  totalLength?: number;
}
export function ipv4(o: Ipv4Opts, payload: Buffer): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opt.length);
  h[0] = 0x40 | ((20 + opt.length) / 4);
  h.writeUInt16BE(o.totalLength ?? h.length + payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE((o.mf === true ? 0x2000 : 0) | (o.fragOffset8 ?? 0), 6);
  h[8] = 64;
  h[9] = o.proto;
  ip4(o.src ?? '10.0.0.1').copy(h, 12);
  ip4(o.dst ?? '10.0.0.2').copy(h, 16);
  opt.copy(h, 20);
  return Buffer.concat([h, payload]);
}

/** ext: [nextHeaderType of this header is implied by the chain] each entry = [type, body bytes (total length incl. 2-byte prefix)]. */
export function ipv6(
  o: { src?: string; dst?: string; next: number; ext?: readonly (readonly [number, Buffer])[]; payloadLength?: number },
  payload: Buffer,
): Buffer {
  const ext = o.ext ?? [];
  const parts: Buffer[] = [];
  for (let i = 0; i < ext.length; i++) {
    const [, body] = ext[i]!;
    const nxt = i + 1 < ext.length ? ext[i + 1]![0] : o.next;
    const b = Buffer.from(body);
    b[0] = nxt;
    parts.push(b);
  }
  const rest = Buffer.concat([...parts, payload]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(o.payloadLength ?? rest.length, 4);
  h[6] = ext.length > 0 ? ext[0]![0] : o.next;
  h[7] = 64;
  ip6(o.src ?? '2001:db8::1').copy(h, 8);
  ip6(o.dst ?? '2001:db8::2').copy(h, 24);
  return Buffer.concat([h, rest]);
}
/** An 8-byte-multiple extension header body (hop-by-hop, dest opts, routing): len field set. */
export function ext8(bytes = 8): Buffer {
  const b = Buffer.alloc(bytes);
  b[1] = bytes / 8 - 1;
  return b;
}

export function tcp(
  o: {
    sport?: number;
    dport?: number;
    seq?: number;
    ack?: number;
    flags?: number;
    options?: Buffer;
    dataOffset?: number;
  },
  payload: Buffer,
): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opt.length);
  h.writeUInt16BE(o.sport ?? 40000, 0);
  h.writeUInt16BE(o.dport ?? 80, 2);
  h.writeUInt32BE((o.seq ?? 1000) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (o.dataOffset ?? (20 + opt.length) / 4) << 4;
  h[13] = o.flags ?? 0x18;
  h.writeUInt16BE(65535, 14);
  opt.copy(h, 20);
  return Buffer.concat([h, payload]);
}

export function udp(o: { sport?: number; dport: number; length?: number }, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport ?? 50000, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(o.length ?? 8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function vxlan(vni: number, inner: Buffer, flags = 0x08): Buffer {
  const h = Buffer.alloc(8);
  h[0] = flags;
  h.writeUInt32BE((vni << 8) >>> 0, 4);
  return Buffer.concat([h, inner]);
}

export function sll(proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // packet type: to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(proto, 14);
  return Buffer.concat([h, payload]);
}

export function sll2(proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(proto, 0);
  h.writeUInt32BE(2, 4); // ifindex
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[11] = 6;
  return Buffer.concat([h, payload]);
}

export function nullLoop(family: number, littleEndian: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(family);
  else h.writeUInt32BE(family);
  return Buffer.concat([h, payload]);
}

/** Ethernet/IPv4/TCP carrying `payload`: the common case. */
export function httpFrame(
  payload = Buffer.from('GET / HTTP/1.1\r\n\r\n'),
  o: { sport?: number; dport?: number; src?: string; dst?: string } = {},
): Buffer {
  return ethernet(
    0x0800,
    ipv4(
      { proto: 6, ...(o.src === undefined ? {} : { src: o.src }), ...(o.dst === undefined ? {} : { dst: o.dst }) },
      tcp(
        { ...(o.sport === undefined ? {} : { sport: o.sport }), ...(o.dport === undefined ? {} : { dport: o.dport }) },
        payload,
      ),
    ),
  );
}

/** GRE (RFC 2784/2890): optional checksum, key, sequence fields set by presence. */
export function gre(
  o: { proto: number; checksum?: boolean; key?: number; seq?: number; version?: number },
  payload: Buffer,
): Buffer {
  let flags = o.version ?? 0;
  const parts: Buffer[] = [];
  if (o.checksum === true) {
    flags |= 0x8000;
    parts.push(Buffer.alloc(4));
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    const k = Buffer.alloc(4);
    k.writeUInt32BE(o.key >>> 0);
    parts.push(k);
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    const s = Buffer.alloc(4);
    s.writeUInt32BE(o.seq >>> 0);
    parts.push(s);
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags);
  h.writeUInt16BE(o.proto, 2);
  return Buffer.concat([h, ...parts, payload]);
}

/** Geneve (RFC 8926) with `optWords` 4-byte words of options. */
export function geneve(vni: number, proto: number, inner: Buffer, optWords = 0): Buffer {
  const h = Buffer.alloc(8 + optWords * 4, 0x5a);
  h[0] = optWords & 0x3f;
  h[1] = 0;
  h.writeUInt16BE(proto, 2);
  h.writeUInt32BE((vni << 8) >>> 0, 4);
  return Buffer.concat([h, inner]);
}

/** ERSPAN type II (version 1) or III (version 2) header + the mirrored frame. */
export function erspan(type: 2 | 3, session: number, frame: Buffer, o: { subheader?: boolean } = {}): Buffer {
  const h = Buffer.alloc(type === 2 ? 8 : 12);
  h.writeUInt16BE(((type - 1) << 12) | 5, 0);
  h.writeUInt16BE(session & 0x3ff, 2);
  if (type === 3 && o.subheader === true) h.writeUInt16BE(1, 10);
  return Buffer.concat([h, type === 3 && o.subheader === true ? Buffer.alloc(8, 0x77) : Buffer.alloc(0), frame]);
}

/** PPP: optional RFC 1662 address/control, protocol field (compressed to 1 byte when asked). */
export function ppp(proto: number, payload: Buffer, o: { hdlc?: boolean; compress?: boolean } = {}): Buffer {
  const a = o.hdlc === true ? Buffer.from([0xff, 0x03]) : Buffer.alloc(0);
  const p = o.compress === true && proto < 0x100 ? Buffer.from([proto]) : Buffer.from([proto >> 8, proto & 0xff]);
  return Buffer.concat([a, p, payload]);
}

/** PPPoE session header (RFC 2516) around a PPP protocol + payload. */
export function pppoe(session: number, pppProto: number, payload: Buffer): Buffer {
  const body = ppp(pppProto, payload);
  const h = Buffer.alloc(6);
  h[0] = 0x11;
  h.writeUInt16BE(session, 2);
  h.writeUInt16BE(body.length, 4);
  return Buffer.concat([h, body]);
}

/** LINKTYPE_NFLOG record: header, a prefix TLV, then NFULA_PAYLOAD; TLVs in the given byte order. */
export function nflog(family: number, payload: Buffer, littleEndian = true): Buffer {
  const tlv = (type: number, v: Buffer): Buffer => {
    const len = 4 + v.length;
    const h = Buffer.alloc(4);
    if (littleEndian) {
      h.writeUInt16LE(len, 0);
      h.writeUInt16LE(type, 2);
    } else {
      h.writeUInt16BE(len, 0);
      h.writeUInt16BE(type, 2);
    }
    return Buffer.concat([h, v, Buffer.alloc((4 - (len % 4)) % 4)]);
  };
  const hdr = Buffer.from([family, 0, 0, 5]);
  return Buffer.concat([hdr, tlv(1, Buffer.from([0x08, 0x00, 3, 0])), tlv(10, Buffer.from('pfx\0')), tlv(9, payload)]);
}

/** GTP-U G-PDU with an optional PDU session container extension header. */
export function gtpu(teid: number, payload: Buffer, withExt = false): Buffer {
  const ext = withExt ? Buffer.from([0, 0, 0, 0x85, 1, 0x10, 0x01, 0x00]) : Buffer.alloc(0);
  const h = Buffer.alloc(8);
  h[0] = 0x30 | (withExt ? 0x04 : 0);
  h[1] = 0xff;
  h.writeUInt16BE(ext.length + payload.length, 2);
  h.writeUInt32BE(teid >>> 0, 4);
  return Buffer.concat([h, ext, payload]);
}

/** IPv6 fragment header body (8 bytes) for ipv6({ext: [[44, ...]]}). */
export function fragHeader(offset8: number, more: boolean, id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(((offset8 << 3) | (more ? 1 : 0)) & 0xffff, 2);
  b.writeUInt32BE(id >>> 0, 4);
  return b;
}
