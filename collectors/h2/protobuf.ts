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
import { PB_TYPE } from './descriptor.js';
import type { GrpcSchema, PbMessageSchema } from './descriptor.js';

export type PbValue = number | string | boolean | PbMessage | PbValue[];
export interface PbMessage {
  [field: string]: PbValue;
}

export interface PbLimits {
  maxDepth: number;
  /** Fields decoded over one top-level message, all depths together. */
  maxFields: number;
}

export const DEFAULT_PB_LIMITS: PbLimits = { maxDepth: 8, maxFields: 4000 };

/**
 * Decodes b[off, end) as a message, or null when the bytes are not a well-formed message. With a
 * message type from a FileDescriptorSet (descriptor.ts) known fields get their names and types
 * (strings, bytes, nested types, packed scalars, zigzag, doubles and floats, booleans); unknown
 * fields stay by number, guessed as without a schema.
 */
export function decodeProtobuf(
  b: Buffer,
  off = 0,
  end = b.length,
  limits = DEFAULT_PB_LIMITS,
  type: PbMessageSchema | null = null,
  schema: GrpcSchema | null = null,
): PbMessage | null {
  const budget = { fields: limits.maxFields, schema };
  return message(b, off, end, 0, limits, budget, type);
}

interface Budget {
  fields: number;
  schema: GrpcSchema | null;
}

const VARINT_TYPES: ReadonlySet<number> = new Set([
  PB_TYPE.int64,
  PB_TYPE.uint64,
  PB_TYPE.int32,
  PB_TYPE.bool,
  PB_TYPE.uint32,
  PB_TYPE.enum,
  PB_TYPE.sint32,
  PB_TYPE.sint64,
]);
const FIXED64_TYPES: ReadonlySet<number> = new Set([PB_TYPE.double, PB_TYPE.fixed64, PB_TYPE.sfixed64]);
const FIXED32_TYPES: ReadonlySet<number> = new Set([PB_TYPE.float, PB_TYPE.fixed32, PB_TYPE.sfixed32]);

/** A varint as its declared type says: zigzag for sint*, booleans, else as read. */
function typedVarint(v: number | string, type: number): PbValue {
  if (type === PB_TYPE.bool) return v !== 0 && v !== '0';
  if ((type === PB_TYPE.sint32 || type === PB_TYPE.sint64) && typeof v === 'number') {
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  if ((type === PB_TYPE.int32 || type === PB_TYPE.int64) && typeof v === 'string') {
    return BigInt.asIntN(64, BigInt(v)).toString(); // negative int64 values are 10-byte varints
  }
  return v;
}

function fixed64(b: Buffer, pos: number, type: number): PbValue {
  if (type === PB_TYPE.double) return finite(b.readDoubleLE(pos));
  const x = type === PB_TYPE.sfixed64 ? b.readBigInt64LE(pos) : b.readBigUInt64LE(pos);
  return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(x) : x.toString();
}

function fixed32(b: Buffer, pos: number, type: number): PbValue {
  if (type === PB_TYPE.float) return finite(b.readFloatLE(pos));
  return type === PB_TYPE.sfixed32 ? b.readInt32LE(pos) : b.readUInt32LE(pos);
}

/** JSON has no NaN or Infinity: those become strings. */
function finite(x: number): PbValue {
  return Number.isFinite(x) ? x : String(x);
}

/** Packed repeated scalars (wire type 2 for a scalar field), or null when malformed. */
function packed(b: Buffer, s: number, e: number, type: number): PbValue[] | null {
  const out: PbValue[] = [];
  let p = s;
  while (p < e) {
    if (VARINT_TYPES.has(type)) {
      const r = varint(b, p, e);
      if (r === null) return null;
      out.push(typedVarint(r[0], type));
      p = r[1];
    } else if (FIXED64_TYPES.has(type) && p + 8 <= e) {
      out.push(fixed64(b, p, type));
      p += 8;
    } else if (FIXED32_TYPES.has(type) && p + 4 <= e) {
      out.push(fixed32(b, p, type));
      p += 4;
    } else {
      return null;
    }
  }
  return out;
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
  type: PbMessageSchema | null,
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
    const fs = type?.fields.get(field);
    const ft = fs?.type ?? 0;
    let v: PbValue;
    switch (wt) {
      case 0: {
        const r = varint(b, pos, end);
        if (r === null) return null;
        v = typedVarint(r[0], ft);
        pos = r[1];
        break;
      }
      case 1: {
        if (pos + 8 > end) return null;
        v = fixed64(b, pos, ft);
        pos += 8;
        break;
      }
      case 5: {
        if (pos + 4 > end) return null;
        v = fixed32(b, pos, ft);
        pos += 4;
        break;
      }
      case 2: {
        const r = varint(b, pos, end);
        if (r === null || typeof r[0] !== 'number' || r[1] + r[0] > end) return null;
        const s = r[1];
        pos = s + r[0];
        v = typedLengthDelimited(b, s, pos, depth, limits, budget, fs?.type ?? 0, fs?.typeName ?? '');
        break;
      }
      default:
        return null;
    }
    if (budget.fields-- <= 0) return out; // bounded: the rest of the message is not shown
    const k = fs?.name ?? String(field);
    const prev = out[k];
    // An array value is a repeated field (several occurrences, or packed scalars).
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) {
      if (Array.isArray(v)) prev.push(...v);
      else prev.push(v);
    } else out[k] = Array.isArray(v) ? [prev, ...v] : [prev, v];
  }
  return out;
}

function typedLengthDelimited(
  b: Buffer,
  s: number,
  e: number,
  depth: number,
  limits: PbLimits,
  budget: Budget,
  type: number,
  typeName: string,
): PbValue {
  if (type === PB_TYPE.string) {
    const sub = b.subarray(s, e);
    return isUtf8(sub) ? sub.toString('utf8') : sub.toString('base64');
  }
  if (type === PB_TYPE.bytes) return b.subarray(s, e).toString('base64');
  if (type === PB_TYPE.message && depth + 1 < limits.maxDepth) {
    const nested = budget.schema?.types.get(typeName) ?? null;
    const m = message(b, s, e, depth + 1, limits, budget, nested);
    if (m !== null) return m;
  } else if (type !== 0 && type !== PB_TYPE.message && type !== PB_TYPE.group) {
    const arr = packed(b, s, e, type);
    if (arr !== null) return arr;
  }
  return lengthDelimited(b, s, e, depth, limits, budget);
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
    const m = message(b, s, e, depth + 1, limits, budget, null);
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
