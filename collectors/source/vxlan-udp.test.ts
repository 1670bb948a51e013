import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { Counters } from '../../engine/contracts/counters.js';
import { createDecoder } from '../decode/decoder.js';
import { DecodeStatus } from '../decode/packet.js';
import { httpFrame, vxlan } from '../decode/testing.js';
import { LINKTYPE } from './types.js';
import { createVxlanReceiver } from './vxlan-udp.js';

function send(port: number, msgs: readonly Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    let left = msgs.length;
    for (const m of msgs) {
      s.send(m, port, '127.0.0.1', (err) => {
        if (err) {
          s.close();
          reject(err);
          return;
        }
        if (--left === 0) {
          s.close();
          resolve();
        }
      });
    }
  });
}

describe('vxlan UDP receiver', () => {
  it('hands each datagram over as LINKTYPE_VXLAN_PAYLOAD, jumbo frames included', async () => {
    const counters = new Counters();
    const decodeCounters = new Counters();
    const d = createDecoder({ vxlanPorts: [] }, decodeCounters);
    const got: { len: number; status: number; vni: number; payloadLen: number; ts: number }[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => {
      done = r;
    });
    const rx = createVxlanReceiver(
      { host: '127.0.0.1', port: 0, recvBufferBytes: 8 * 1024 * 1024 },
      {
        onFrame(frame, lt, ts, wire) {
          assert.equal(lt, LINKTYPE.VXLAN_PAYLOAD);
          assert.equal(wire, frame.length);
          const status = d.decode(frame, lt, ts, wire);
          got.push({ len: frame.length, status, vni: d.view.vni, payloadLen: d.view.payloadLen, ts });
          if (got.length === 2) done();
        },
      },
      counters,
    );
    await rx.start();
    const before = Math.floor(performance.timeOrigin + performance.now()) * 1000;
    const small = vxlan(7, httpFrame());
    const jumbo = vxlan(8, httpFrame(Buffer.alloc(9001 - 14 - 20 - 20, 0x41)));
    await send(rx.address().port, [small, jumbo]);
    await all;
    assert.equal(got[0]!.status, DecodeStatus.OK);
    assert.equal(got[0]!.vni, 7);
    assert.equal(got[1]!.len, jumbo.length);
    assert.equal(got[1]!.vni, 8);
    assert.equal(got[1]!.payloadLen, 9001 - 54);
    assert.ok(got[0]!.ts >= before - 1000 && got[1]!.ts >= got[0]!.ts);
    assert.equal(counters.get('vxlan_datagrams_received'), 2);
    assert.equal(counters.get('vxlan_bytes_received'), small.length + jumbo.length);
    assert.ok(counters.get('vxlan_recv_buffer_bytes') > 0);
    if (process.platform === 'linux') assert.equal(rx.kernelDrops(), 0);
    await rx.stop();
    await rx.stop();
  });

  it('start fails cleanly on a port in use', async () => {
    const a = createVxlanReceiver(
      { host: '127.0.0.1', port: 0, recvBufferBytes: 65536 },
      { onFrame() {} },
      new Counters(),
    );
    await a.start();
    const b = createVxlanReceiver(
      { host: '127.0.0.1', port: a.address().port, recvBufferBytes: 65536 },
      { onFrame() {} },
      new Counters(),
    );
    await assert.rejects(b.start(), /EADDRINUSE/);
    await a.stop();
  });
});
