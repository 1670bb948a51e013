// lab.proto as a FileDescriptorSet, made by protobufjs (the library under @grpc/proto-loader), for
// the --proto-descriptor tests.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

const require = createRequire(import.meta.url);

interface PbType {
  encode(v: unknown): { finish(): Uint8Array };
  fromObject(v: unknown): unknown;
}
interface PbRoot {
  lookupType(name: string): PbType;
  toDescriptor(syntax: string): unknown;
}

/** The set's bytes, and the protobufjs root to encode test messages with. */
export function labDescriptorSet(): { bytes: Buffer; root: PbRoot } {
  const protobuf = require('protobufjs') as { loadSync(p: string): PbRoot };
  require('protobufjs/ext/descriptor');
  const root = protobuf.loadSync(join(repoRoot, 'test', 'support', 'h2lab', 'lab.proto'));
  const set = root.toDescriptor('proto3');
  const SetType = (require('protobufjs/ext/descriptor') as { FileDescriptorSet: PbType }).FileDescriptorSet;
  return { bytes: Buffer.from(SetType.encode(set).finish()), root };
}
