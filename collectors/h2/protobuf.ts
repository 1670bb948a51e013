// Protocol Buffers decoded without a schema (https://protobuf.dev/programming-guides/encoding/):
// field numbers and wire types only, turned into a JSON-like value so that analyzers read gRPC
// payloads as they read JSON bodies ({"1": 42, "2": {"1": "text"}} → paths $.2.1).
//
// Without the schema a length-delimited field (wire type 2) is ambiguous: string, bytes, nested
// message or packed scalars. The guess, in order: valid UTF-8 without control characters other than
// TAB/CR/LF is a string; bytes that parse completely as a message are one (within the depth bound);
// anything else is bytes, shown as base64 (text starting with TAB/LF/CR is tried as a message first). Varints above 2^53 and fixed64 values become decimal
// strings (JSON numbers would lose them). Repeated field numbers become arrays in wire order.
// Bounded: depth, fields per decode; groups (wire types 3, 4) are not decoded (the bytes are not a
// message for this decoder). Never throws.
import { isUtf8 } from 'node:buffer';

export type PbValue = number | string | PbMessage | PbValue[];
export interface PbMessage {
  [field: string]: PbValue;
}

export interface PbLimits {
  maxDepth: number;
  /** Fields decoded over one top-level message, all depths together. */
  maxFields: number;
}

export const DEFAULT_PB_LIMITS: PbLimits = { maxDepth: 8, maxFields: 4000 };

/** Decodes b[off, end) as a message, or null when the bytes are not a well-formed message. */
export function decodeProtobuf(b: Buffer, off = 0, end = b.length, limits = DEFAULT_PB_LIMITS): PbMessage | null {
  const budget = { fields: limits.maxFields };
  return message(b, off, end, 0, limits, budget);
}

interface Budget {
  fields: number;
}

/** Varint at `pos`: [value, next position], value a number when safe, else a decimal string; null when malformed. */
function varint(b: Buffer, pos: number, end: number): [number | string, number] | null {
  let lo = 0;
  let shift = 0;
  let big: bigint | null = null;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return null;
    const byte = b[pos++] as number;
    const part = byte & 0x7f;
    if (big === null && shift <= 45) {
      lo += part * 2 ** shift;
    } else {
      big ??= BigInt(lo);
      big += BigInt(part) << BigInt(shift);
    }
    shift += 7;
    if ((byte & 0x80) === 0) {
      if (big === null && Number.isSafeInteger(lo)) return [lo, pos];
      big ??= BigInt(lo);
      return [(big & 0xffffffffffffffffn).toString(), pos];
    }
  }
  return null;
}

function message(
  b: Buffer,
  off: number,
  end: number,
  depth: number,
  limits: PbLimits,
  budget: Budget,
): PbMessage | null {
  const out: PbMessage = {};
  let pos = off;
  while (pos < end) {
    const key = varint(b, pos, end);
    if (key === null || typeof key[0] !== 'number') return null;
    pos = key[1];
    const field = Math.floor(key[0] / 8);
    const wt = key[0] % 8;
    if (field < 1 || field > 0x1fffffff) return null;
    let v: PbValue;
    switch (wt) {
      case 0: {
        const r = varint(b, pos, end);
        if (r === null) return null;
        v = r[0];
        pos = r[1];
        break;
      }
      case 1: {
        if (pos + 8 > end) return null;
        const x = b.readBigUInt64LE(pos);
        v = x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString();
        pos += 8;
        break;
      }
      case 5: {
        if (pos + 4 > end) return null;
        v = b.readUInt32LE(pos);
        pos += 4;
        break;
      }
      case 2: {
        const r = varint(b, pos, end);
        if (r === null || typeof r[0] !== 'number' || r[1] + r[0] > end) return null;
        const s = r[1];
        pos = s + r[0];
        v = lengthDelimited(b, s, pos, depth, limits, budget);
        break;
      }
      default:
        return null;
    }
    if (budget.fields-- <= 0) return out; // bounded: the rest of the message is not shown
    const k = String(field);
    const prev = out[k];
    // Values are never arrays themselves: an array is a repeated field.
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

function lengthDelimited(b: Buffer, s: number, e: number, depth: number, limits: PbLimits, budget: Budget): PbValue {
  if (s === e) return '';
  const sub = b.subarray(s, e);
  const text = isText(sub);
  // A nested message whose first field is a long string starts with TAB/LF/CR (the tags of fields 1
  // with wire types 1, 2, 5) followed by text: it is tried as a message first.
  const first = b[s] as number;
  if (text && first !== 0x09 && first !== 0x0a && first !== 0x0d) return sub.toString('utf8');
  if (depth + 1 < limits.maxDepth) {
    const m = message(b, s, e, depth + 1, limits, budget);
    if (m !== null) return m;
  }
  return text ? sub.toString('utf8') : sub.toString('base64');
}

function isText(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return false;
  }
  return isUtf8(b);
}
