// WebSocket lab traffic: real servers (the `ws` package) and real clients (`ws`, and Node's own
// WebSocket client when the runtime has it: Node >= 22, or 20 with --experimental-websocket) on
// loopback. Every message each server received and sent is logged (text as is, binary by length),
// so a capture of this traffic can be checked message by message.
//
//   node --experimental-websocket --import tsx test/support/wslab/traffic.ts LOG.json [PORT_BASE]
//
// Connections (ports PORT_BASE+0..2, default 8801):
// - chat   (permessage-deflate, context takeover): JSON with personal data both ways, a fragmented
//          message with a ping between its fragments, a 200 KB JSON message, binary messages, a
//          clean close (1000) by the client.
// - feed   (permessage-deflate without context takeover, 10-bit server window): text messages,
//          closed by the server with 1001 (going away).
// - raw    (no compression): text and binary, a 100 KB message (64-bit length); the server drops
//          the connection without a close frame (abnormal closure) — and, when available, Node's
//          own WebSocket client on the same server with a clean close.
import { writeFileSync } from 'node:fs';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData, ServerOptions } from 'ws';

export interface LoggedMessage {
  type: 'text' | 'binary';
  /** Text messages: the text; binary: ''. */
  text: string;
  bytes: number;
}

export interface LoggedConnection {
  server: string;
  path: string;
  /** What the server received (client → server) and sent (server → client), in order. */
  received: LoggedMessage[];
  sent: LoggedMessage[];
  /** Messages the client got (its count must equal sent.length). */
  clientGot: number;
  close: string;
}

export interface WsLabLog {
  ports: { chat: number; feed: number; raw: number };
  connections: LoggedConnection[];
  nativeClient: boolean;
}

const logMsg = (data: RawData | string, isBinary: boolean): LoggedMessage => {
  const buf = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : typeof data === 'string'
        ? Buffer.from(data)
        : Buffer.from(data);
  return isBinary
    ? { type: 'binary', text: '', bytes: buf.length }
    : { type: 'text', text: buf.toString('utf8'), bytes: buf.length };
};

const people = [
  { name: 'Alice Smith', email: 'alice.smith@posteo.de', phone: '+31612345678', iban: 'DE89370400440532013000' },
  { name: 'Bram de Vries', email: 'bram.devries@ziggo.nl', phone: '+31687654321', iban: 'NL02ABNA0123456789' },
];

async function main(): Promise<void> {
  const out = process.argv[2];
  if (out === undefined) throw new Error('usage: traffic.ts LOG.json [PORT_BASE]');
  const base = Number(process.argv[3] ?? 8801);
  const ports = { chat: base, feed: base + 1, raw: base + 2 };
  const connections: LoggedConnection[] = [];
  const servers: WebSocketServer[] = [];
  /** Each server-side connection's close: the servers are shut only once every one closed. */
  const serverClosed: Promise<void>[] = [];

  const serve = (
    name: string,
    port: number,
    perMessageDeflate: ServerOptions['perMessageDeflate'],
    onConn: (ws: WebSocket, log: LoggedConnection) => void,
  ): Promise<void> =>
    new Promise((resolve) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate }, () => resolve());
      servers.push(wss);
      wss.on('connection', (ws, req) => {
        const log: LoggedConnection = {
          server: name,
          path: req.url ?? '',
          received: [],
          sent: [],
          clientGot: 0,
          close: '',
        };
        connections.push(log);
        const send = ws.send.bind(ws);
        // Servers here send whole messages only: each send is one message.
        ws.send = ((data: string | Buffer, o?: unknown, cb?: unknown) => {
          const opts = (typeof o === 'object' && o !== null ? o : {}) as { binary?: boolean };
          log.sent.push(logMsg(data, opts.binary ?? typeof data !== 'string'));
          return send(data as Buffer, o as never, cb as never);
        }) as typeof ws.send;
        ws.on('message', (d, isBinary) => log.received.push(logMsg(d, isBinary)));
        serverClosed.push(
          new Promise((r) =>
            ws.on('close', (code) => {
              log.close ||= `server saw ${code}`;
              r();
            }),
          ),
        );
        onConn(ws, log);
      });
    });

  // chat: a JSON echo service with personal data in both directions.
  await serve('chat', ports.chat, { threshold: 0 }, (ws) => {
    ws.on('message', (d, isBinary) => {
      if (isBinary) {
        ws.send(Buffer.alloc(64, 0x42), { binary: true });
        return;
      }
      const text = String(d);
      if (text.startsWith('{"bulk"')) {
        ws.send(JSON.stringify({ ack: 'bulk', size: text.length }));
        return;
      }
      const p = people[text.length % 2] ?? people[0];
      ws.send(
        JSON.stringify({ reply: { to: { name: p?.name, email: p?.email }, phone: p?.phone }, echo: text.slice(0, 30) }),
      );
    });
  });
  // feed: the server pushes and closes with 1001.
  await serve(
    'feed',
    ports.feed,
    { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10 },
    (ws) => {
      let n = 0;
      ws.on('message', () => {
        n++;
        ws.send(JSON.stringify({ tick: n, account: { iban: people[0]?.iban, holder: people[0]?.name } }));
        if (n === 5) ws.close(1001, 'going away');
      });
    },
  );
  // raw: no compression; the ws-package client's connection is dropped without a close frame.
  await serve('raw', ports.raw, false, (ws, log) => {
    ws.on('message', (d, isBinary) => {
      if (isBinary) ws.send(d as Buffer, { binary: true });
      else ws.send(`echo:${String(d).slice(0, 20)}`);
      if (!isBinary && String(d) === 'drop me') {
        log.close = 'server terminated (no close frame)';
        setImmediate(() => ws.terminate());
      }
    });
  });

  const open = (url: string, opts: ConstructorParameters<typeof WebSocket>[2]): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const closed = (ws: WebSocket): Promise<void> => new Promise((r) => ws.once('close', () => r()));
  /** Resolves once the client got `n` messages in total. */
  const gotN = (ws: WebSocket, log: () => LoggedConnection | undefined, n: number): Promise<void> =>
    new Promise((resolve) => {
      let got = 0;
      ws.on('message', () => {
        got++;
        const l = log();
        if (l !== undefined) l.clientGot = got;
        if (got === n) resolve();
      });
    });
  const last = (): LoggedConnection | undefined => connections[connections.length - 1];

  // --- chat -----------------------------------------------------------------------------------------
  {
    const ws = await open(`ws://127.0.0.1:${ports.chat}/ws/chat?room=7`, {
      perMessageDeflate: { threshold: 0 },
      headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl' },
    });
    const log = last;
    const done = gotN(ws, log, 7); // one answer per message sent below
    for (const p of people) ws.send(JSON.stringify({ customer: { email: p.email, phone: p.phone, name: p.name } }));
    // A fragmented text message, with a ping between its fragments.
    ws.send('{"customer":{"email":"frag', { fin: false });
    ws.ping('mid-message');
    ws.send('mented@posteo.de","iban":"DE89370400440532013000"}}', { fin: true });
    // 200 KB of JSON (inflates past the 64 KiB capture cap).
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i, email: `user${i}@posteo.de` }));
    ws.send(JSON.stringify({ bulk: rows }));
    ws.send(Buffer.alloc(3000, 1));
    ws.send(Buffer.from([0, 1, 2, 3]));
    ws.send(JSON.stringify({ customer: { email: people[0]?.email } }));
    await done;
    ws.close(1000, 'done');
    await closed(ws);
  }
  // --- feed -----------------------------------------------------------------------------------------
  {
    const ws = await open(`ws://127.0.0.1:${ports.feed}/ws/feed`, {
      perMessageDeflate: {
        threshold: 0,
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
      },
    });
    const log = last;
    const done = gotN(ws, log, 5);
    for (let i = 0; i < 5; i++) ws.send(JSON.stringify({ subscribe: `topic-${i}`, owner: people[1]?.email }));
    await done;
    await closed(ws);
  }
  // --- raw: abnormal close ------------------------------------------------------------------------------
  {
    const ws = await open(`ws://127.0.0.1:${ports.raw}/ws/raw`, { perMessageDeflate: false });
    const log = last;
    void gotN(ws, log, 4);
    const end = closed(ws);
    ws.send('hello raw');
    ws.send('x'.repeat(100_000));
    ws.send(Buffer.alloc(70_000, 7));
    ws.send('drop me');
    await end;
  }
  // --- Node's own client (undici) on the raw server, clean close ----------------------------------------
  const Native = (globalThis as { WebSocket?: typeof globalThis.WebSocket }).WebSocket;
  if (Native !== undefined) {
    await new Promise<void>((resolve, reject) => {
      const ws = new Native(`ws://127.0.0.1:${ports.raw}/ws/native`);
      let got = 0;
      ws.binaryType = 'arraybuffer';
      ws.onerror = () => reject(new Error('native client error'));
      ws.onopen = () => {
        ws.send(JSON.stringify({ native: true, contact: { email: people[1]?.email } }));
        ws.send(new Uint8Array([9, 8, 7]));
      };
      ws.onmessage = () => {
        got++;
        const l = connections.find((c) => c.path === '/ws/native');
        if (l !== undefined) l.clientGot = got;
        if (got === 2) ws.close(1000, 'native done');
      };
      ws.onclose = () => resolve();
    });
  }
  await Promise.all(serverClosed);
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  for (const c of connections) if (c.close === '') c.close = 'closed';
  const log: WsLabLog = { ports, connections, nativeClient: Native !== undefined };
  writeFileSync(out, JSON.stringify(log, null, 1));
}

await main();
