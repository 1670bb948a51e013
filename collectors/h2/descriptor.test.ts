// FileDescriptorSet loading and schema-named protobuf decoding (descriptor.ts, protobuf.ts). The set is
// made by protobufjs (the library under @grpc/proto-loader) from test/support/h2lab/lab.proto.
import assert from 'node:assert/strict';
import test from 'node:test';
import { labDescriptorSet } from '../../test/support/h2lab/descriptor.js';
import { loadDescriptorSet } from './descriptor.js';
import { decodeProtobuf } from './protobuf.js';

test('a FileDescriptorSet names methods, messages and fields', () => {
  const { bytes } = labDescriptorSet();
  const schema = loadDescriptorSet(bytes);
  assert.deepEqual(schema.methods.get('/apitap.lab.v1.Customers/GetCustomer'), {
    input: 'apitap.lab.v1.GetCustomerRequest',
    output: 'apitap.lab.v1.Customer',
  });
  assert.equal(schema.methods.size, 4);
  const c = schema.types.get('apitap.lab.v1.Customer');
  assert.deepEqual(
    [...(c?.fields.values() ?? [])].map((f) => `${f.name}:${f.type}:${f.typeName}`),
    ['id:3:', 'email:9:', 'address:11:apitap.lab.v1.Address', 'tags:9:', 'active:8:'],
  );
  assert.throws(() => loadDescriptorSet(Buffer.from('not a descriptor set')), /FileDescriptorSet|wire type|truncated/);
});

test('messages decode with field names and declared types; unknown fields keep their numbers', () => {
  const { bytes, root } = labDescriptorSet();
  const schema = loadDescriptorSet(bytes);
  const Customer = root.lookupType('apitap.lab.v1.Customer');
  const msg = Buffer.from(
    Customer.encode(
      Customer.fromObject({
        id: 7,
        email: 'ana@posteo.de',
        address: { street: '\n leading newline street that is long enough', city: 'Köln' },
        tags: ['a', 'b'],
        active: true,
      }),
    ).finish(),
  );
  const extra = Buffer.concat([msg, Buffer.from([0xa0, 0x06, 0x2a])]); // field 100 varint 42
  const type = schema.types.get('apitap.lab.v1.Customer') ?? null;
  assert.deepEqual(decodeProtobuf(extra, 0, extra.length, undefined, type, schema), {
    id: 7,
    email: 'ana@posteo.de',
    address: { street: '\n leading newline street that is long enough', city: 'Köln' },
    tags: ['a', 'b'],
    active: true,
    '100': 42,
  });
});
