// Test support: real HTTP/2 bytes from real software. A TCP relay between a client and a server
// records each direction's chunks in arrival order, to be fed to the HTTP layer as reassembly would.
import net from 'node:net';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { createHttpConnection } from '../http/connection.js';
import { DEFAULT_HTTP_OPTIONS } from '../http/types.js';
import type { Direction } from '../http/types.js';

export interface Recorded {
  dir: Direction;
  data: Buffer;
  /** Packet time: 100 µs per recorded chunk (pieces of a re-split chunk keep their chunk's time). */
  tsUs: number;
}

const T0 = 1_700_000_000_000_000;

export interface Relay {
  port: number;
  /** Chunks per connection, in order of connection accept. */
  connections: Recorded[][];
  close(): Promise<void>;
}

/** Listens on a loopback port and relays each connection to `target`, recording both directions. */
export async function startRelay(target: number): Promise<Relay> {
  const connections: Recorded[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((a) => {
    const rec: Recorded[] = [];
    connections.push(rec);
    const b = net.connect(target, '127.0.0.1');
    sockets.add(a);
    sockets.add(b);
    a.on('data', (d: Buffer) => {
      rec.push({ dir: 0, data: Buffer.from(d), tsUs: T0 + 100 * (rec.length + 1) });
      b.write(d);
    });
    b.on('data', (d: Buffer) => {
      rec.push({ dir: 1, data: Buffer.from(d), tsUs: T0 + 100 * (rec.length + 1) });
      a.write(d);
    });
    a.on('end', () => b.end());
    b.on('end', () => a.end());
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
    a.on('close', () => sockets.delete(a));
    b.on('close', () => sockets.delete(b));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export const META = {
  flowId: 'flow-h2',
  vni: null,
  tunnel: null,
  client: { ip: '127.0.0.1', port: 40000 },
  server: { ip: '127.0.0.1', port: 8080 },
  handshake: true,
};

/** Feeds recorded chunks (optionally re-split) through the HTTP layer: the exchanges and counters. */
export function replay(
  chunks: readonly Recorded[],
  opts: { handshake?: boolean } = {},
): { exchanges: Exchange[]; counters: Counters } {
  const counters = new Counters();
  const exchanges: Exchange[] = [];
  const c = createHttpConnection(
    { ...META, handshake: opts.handshake ?? true },
    DEFAULT_HTTP_OPTIONS,
    (ex) => exchanges.push(ex),
    counters,
  );
  let t = T0;
  for (const ch of chunks) {
    t = ch.tsUs;
    c.onData(ch.dir, ch.data, t);
  }
  c.onEnd(t + 100, 'fin', false);
  return { exchanges, counters };
}
