// gRPC schemas from a FileDescriptorSet (`protoc --descriptor_set_out=FILE --include_imports`, or
// `buf build -o FILE`): names the fields of gRPC messages that protobuf.ts otherwise shows by number.
//
// Only what naming needs is read from descriptor.proto (google/protobuf/descriptor.proto):
//   FileDescriptorSet { repeated FileDescriptorProto file = 1 }
//   FileDescriptorProto { name = 1; package = 2; repeated DescriptorProto message_type = 4;
//                         repeated ServiceDescriptorProto service = 6 }
//   DescriptorProto { name = 1; repeated FieldDescriptorProto field = 2; repeated DescriptorProto nested_type = 3 }
//   FieldDescriptorProto { name = 1; number = 3; label = 4; type = 5; type_name = 6 }
//   ServiceDescriptorProto { name = 1; repeated MethodDescriptorProto method = 2 }
//   MethodDescriptorProto { name = 1; input_type = 2; output_type = 3 }
// The schema is plain data (objects and Maps), so it can cross to a worker thread.

/** FieldDescriptorProto.Type values this layer distinguishes. */
export const PB_TYPE = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  group: 10,
  message: 11,
  bytes: 12,
  uint32: 13,
  enum: 14,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
} as const;

export interface PbFieldSchema {
  name: string;
  type: number;
  /** Fully qualified message type for TYPE_MESSAGE ("pkg.Msg", no leading dot), else "". */
  typeName: string;
}

export interface PbMessageSchema {
  fields: Map<number, PbFieldSchema>;
}

export interface GrpcSchema {
  /** Message types by fully qualified name. */
  types: Map<string, PbMessageSchema>;
  /** By request path "/pkg.Service/Method": the fully qualified input and output types. */
  methods: Map<string, { input: string; output: string }>;
}

interface Raw {
  no: number;
  wt: number;
  /** Varint value, or the bytes of a length-delimited field. */
  num: number;
  bytes: Buffer | null;
}

/** The fields of one message, without interpretation. Throws on malformed input (a user file). */
function fields(b: Buffer): Raw[] {
  const out: Raw[] = [];
  let p = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (p >= b.length) throw new Error('truncated varint');
      const x = b[p++] as number;
      if (shift < 53) v += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return v;
    }
    throw new Error('varint too long');
  };
  while (p < b.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wt = key % 8;
    if (wt === 0) out.push({ no, wt, num: varint(), bytes: null });
    else if (wt === 2) {
      const n = varint();
      if (p + n > b.length) throw new Error('truncated field');
      out.push({ no, wt, num: n, bytes: b.subarray(p, p + n) });
      p += n;
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else throw new Error(`unsupported wire type ${wt}`);
  }
  if (p !== b.length) throw new Error('truncated message');
  return out;
}

const str = (r: Raw): string => (r.bytes ?? Buffer.alloc(0)).toString('utf8');

function addMessage(schema: GrpcSchema, prefix: string, b: Buffer): void {
  const fs = fields(b);
  const name = fs.find((f) => f.no === 1 && f.bytes !== null);
  const full =
    prefix === '' ? str(name ?? { no: 0, wt: 2, num: 0, bytes: null }) : `${prefix}.${name ? str(name) : ''}`;
  const msg: PbMessageSchema = { fields: new Map() };
  for (const f of fs) {
    if (f.no === 2 && f.bytes !== null) {
      let fname = '';
      let number = 0;
      let type = 0;
      let typeName = '';
      for (const g of fields(f.bytes)) {
        if (g.no === 1 && g.bytes !== null) fname = str(g);
        else if (g.no === 3 && g.wt === 0) number = g.num;
        else if (g.no === 5 && g.wt === 0) type = g.num;
        else if (g.no === 6 && g.bytes !== null) typeName = str(g);
      }
      if (number > 0 && fname !== '') msg.fields.set(number, { name: fname, type, typeName });
    } else if (f.no === 3 && f.bytes !== null) {
      addMessage(schema, full, f.bytes);
    }
  }
  schema.types.set(full, msg);
}

/** Reads a FileDescriptorSet. Throws an Error saying what is wrong when the file is not one. */
export function loadDescriptorSet(b: Buffer): GrpcSchema {
  const schema: GrpcSchema = { types: new Map(), methods: new Map() };
  const files = fields(b).filter((f) => f.no === 1 && f.bytes !== null);
  if (files.length === 0) throw new Error('no FileDescriptorProto in the set (is it a FileDescriptorSet?)');
  for (const file of files) {
    const fs = fields(file.bytes as Buffer);
    const pkgField = fs.find((f) => f.no === 2 && f.bytes !== null);
    const pkg = pkgField ? str(pkgField) : '';
    for (const f of fs) {
      if (f.no === 4 && f.bytes !== null) addMessage(schema, pkg, f.bytes);
      if (f.no === 6 && f.bytes !== null) {
        const svc = fields(f.bytes);
        const sname = str(svc.find((g) => g.no === 1 && g.bytes !== null) ?? { no: 0, wt: 2, num: 0, bytes: null });
        const full = pkg === '' ? sname : `${pkg}.${sname}`;
        for (const m of svc) {
          if (m.no !== 2 || m.bytes === null) continue;
          let mname = '';
          let input = '';
          let output = '';
          for (const g of fields(m.bytes)) {
            if (g.no === 1 && g.bytes !== null) mname = str(g);
            else if (g.no === 2 && g.bytes !== null) input = str(g);
            else if (g.no === 3 && g.bytes !== null) output = str(g);
          }
          if (mname !== '') {
            schema.methods.set(`/${full}/${mname}`, {
              input: resolve(schema, pkg, input),
              output: resolve(schema, pkg, output),
            });
          }
        }
      }
    }
  }
  // Field type names: fully qualified with a leading dot (protoc), or relative to their scope
  // (protobuf scoping: the innermost enclosing message or package first).
  for (const [full, msg] of schema.types) {
    for (const f of msg.fields.values()) if (f.typeName !== '') f.typeName = resolve(schema, full, f.typeName);
  }
  return schema;
}

/** A type name as written in a descriptor, resolved from `scope` ("pkg.Outer") to a fully qualified one. */
function resolve(schema: GrpcSchema, scope: string, name: string): string {
  if (name.startsWith('.')) return name.slice(1);
  const parts = scope === '' ? [] : scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const cand = [...parts.slice(0, i), name].join('.');
    if (schema.types.has(cand)) return cand;
  }
  return name;
}
