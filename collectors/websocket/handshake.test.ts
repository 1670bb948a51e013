import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { HeaderPair } from '../../engine/contracts/exchange.js';
import { isWebSocketUpgrade, negotiated } from './handshake.js';

const h = (...kv: string[]): HeaderPair[] => {
  const out: HeaderPair[] = [];
  for (let i = 0; i < kv.length; i += 2) out.push([kv[i] as string, kv[i + 1] as string]);
  return out;
};

it('a 101 is a switch to WebSocket when its Upgrade says so (or, without one, the request asked only for it)', () => {
  assert.equal(isWebSocketUpgrade(h('Upgrade', 'websocket'), h('upgrade', 'WebSocket')), true);
  assert.equal(isWebSocketUpgrade(h('Upgrade', 'h2c, websocket'), h('Upgrade', 'websocket')), true);
  assert.equal(isWebSocketUpgrade(h('Upgrade', 'websocket'), h('Upgrade', 'tcp')), false);
  assert.equal(isWebSocketUpgrade(h('Upgrade', 'websocket'), h()), true);
  assert.equal(isWebSocketUpgrade(h('Upgrade', 'h2c, websocket'), h()), false);
  assert.equal(isWebSocketUpgrade(h(), h()), false);
});

it('permessage-deflate parameters of the 101 (RFC 7692 §7.1)', () => {
  assert.deepEqual(negotiated(h()), { deflate: null, badParams: false, unsupported: false });
  assert.deepEqual(negotiated(h('Sec-WebSocket-Extensions', 'permessage-deflate')).deflate, {
    clientNoContextTakeover: false,
    serverNoContextTakeover: false,
    clientMaxWindowBits: 15,
    serverMaxWindowBits: 15,
  });
  const n = negotiated(
    h(
      'Sec-WebSocket-Extensions',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits="10"; client_max_window_bits=9',
    ),
  );
  assert.deepEqual(n.deflate, {
    clientNoContextTakeover: true,
    serverNoContextTakeover: true,
    clientMaxWindowBits: 9,
    serverMaxWindowBits: 10,
  });
  assert.equal(n.badParams, false);
  const bad = negotiated(h('sec-websocket-extensions', 'permessage-deflate; server_max_window_bits=16; foo'));
  assert.equal(bad.badParams, true);
  assert.equal(bad.deflate?.serverMaxWindowBits, 15);
  const other = negotiated(h('Sec-WebSocket-Extensions', 'x-webkit-deflate-frame'));
  assert.deepEqual(other, { deflate: null, badParams: false, unsupported: true });
});
