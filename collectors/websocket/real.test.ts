// Real software on loopback (no root needed): the `ws` package's server and client, through a TCP
// relay that records each direction's chunks as they arrived (collectors/h2/testing.ts), replayed
// through the HTTP layer whole and re-cut at other sizes. The compressor here is zlib's streaming
// deflate as `ws` drives it (one stream per direction, sync-flushed per message), not testing.ts's.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { PerMessageDeflateOptions } from 'ws';
import { Exchange } from '../../engine/contracts/exchange.js';
import type { Exchange as ExchangeT } from '../../engine/contracts/exchange.js';
import { replay, startRelay } from '../h2/testing.js';
import type { Recorded, Relay } from '../h2/testing.js';

interface Seen {
  received: string[];
  sent: string[];
}

/** One connection through the relay: the client sends `send`, the server echoes each text message. */
async function session(
  deflate: PerMessageDeflateOptions | false,
  drive: (ws: WebSocket) => Promise<void>,
): Promise<{ chunks: Recorded[]; seen: Seen }> {
  const seen: Seen = { received: [], sent: [] };
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (s) => {
    s.on('message', (d, bin) => {
      const text = bin ? `binary:${(d as Buffer).length}` : String(d);
      seen.received.push(text);
      const reply = bin
        ? `got ${(d as Buffer).length} bytes`
        : JSON.stringify({ echo: text.slice(0, 50), n: seen.received.length });
      seen.sent.push(reply);
      s.send(reply);
    });
  });
  const relay: Relay = await startRelay((wss.address() as { port: number }).port);
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/live`, { perMessageDeflate: deflate });
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  await drive(ws);
  await new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r())));
  await relay.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return { chunks: relay.connections[0] ?? [], seen };
}

const answers = (ws: WebSocket, n: number): Promise<void> =>
  new Promise((r) => {
    let k = 0;
    ws.on('message', () => {
      if (++k === n) r();
    });
  });

const text = (exs: readonly ExchangeT[], dir: 'client' | 'server'): string[] =>
  exs
    .filter((e) => e.websocket?.direction === dir)
    .map((e) => {
      const b = (dir === 'client' ? e.request : e.response)?.body;
      // Binary: counted, not kept; a compressed one is inflated (its bytes continue the window).
      return e.websocket?.type === 'binary' ? `binary:${b?.decodedSize ?? b?.size}` : (b?.data ?? '');
    });

/** Re-cuts recorded chunks into pieces of `size` bytes (same order, same times). */
const recut = (chunks: readonly Recorded[], size: number): Recorded[] =>
  chunks.flatMap((c) => {
    const out: Recorded[] = [];
    for (let o = 0; o < c.data.length; o += size) out.push({ ...c, data: c.data.subarray(o, o + size) });
    return out;
  });

describe('the ws package through a relay', () => {
  let takeover: { chunks: Recorded[]; seen: Seen };
  let reset: { chunks: Recorded[]; seen: Seen };

  before(async () => {
    takeover = await session({ threshold: 0 }, async (ws) => {
      const done = answers(ws, 5);
      ws.send(JSON.stringify({ user: { email: 'mia.jansen@posteo.de' } }));
      ws.send(JSON.stringify({ user: { email: 'mia.jansen@posteo.de' } })); // the window makes it tiny
      ws.send('{"part":', { fin: false });
      ws.ping();
      ws.send('"fragmented"}', { fin: true });
      ws.send(JSON.stringify({ rows: Array.from({ length: 3000 }, (_, i) => ({ i, v: `value-${i}` })) }));
      ws.send(Buffer.alloc(5000, 3));
      await done;
      ws.close(4000, 'app says bye');
    });
    reset = await session(
      {
        threshold: 0,
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 9,
        clientMaxWindowBits: 9,
      },
      async (ws) => {
        const done = answers(ws, 3);
        for (let i = 0; i < 3; i++) ws.send(`message ${i} `.repeat(20));
        await done;
        ws.close(1000);
      },
    );
  });

  it('context takeover: every message as the server got and sent it, at any cut', () => {
    const r = replay(takeover.chunks);
    for (const e of r.exchanges) Exchange.parse(e);
    assert.equal(r.exchanges[0]?.protocol, 'websocket');
    const want = { c: takeover.seen.received, s: takeover.seen.sent };
    assert.deepEqual(
      text(r.exchanges, 'client').map((t, i) => (want.c[i]?.startsWith('{"rows"') ? t.slice(0, 100) : t)),
      want.c.map((t) => (t.startsWith('{"rows"') ? t.slice(0, 100) : t)),
    );
    assert.deepEqual(text(r.exchanges, 'server'), want.s);
    for (const e of r.exchanges.slice(1)) {
      assert.deepEqual(e.anomalies, []);
      assert.equal(e.websocket?.compressed, true);
    }
    assert.equal(r.exchanges.find((e) => e.websocket?.frames === 2)?.request?.body.data, '{"part":"fragmented"}');
    assert.equal(r.counters.get('ws_close_frames'), 2);
    assert.equal(r.counters.get('ws_close_error'), 2, '4000 both ways (the server echoes the code)');
    assert.equal(r.counters.get('ws_pings'), 1);
    for (const size of [1, 5, 100]) {
      const c = replay(recut(takeover.chunks, size));
      assert.deepEqual(JSON.stringify(c.exchanges), JSON.stringify(r.exchanges), `cut at ${size}`);
    }
  });

  it('no context takeover with 9-bit windows', () => {
    const r = replay(reset.chunks);
    assert.deepEqual(text(r.exchanges, 'client'), reset.seen.received);
    assert.deepEqual(text(r.exchanges, 'server'), reset.seen.sent);
    for (const e of r.exchanges.slice(1)) assert.deepEqual(e.anomalies, []);
    assert.equal(r.counters.get('ws_close_error'), 0);
    assert.equal(r.counters.get('ws_no_close'), 0);
  });
});
