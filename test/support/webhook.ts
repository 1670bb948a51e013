// A real HTTP receiver of apitap's action webhooks for tests: it verifies every request's signature
// (the README's recipe, engine/app/actions/sign.ts), records every attempt, and answers what the
// test's script says: a status, or 'drop' (the body is read, then the connection is destroyed without
// an answer, so the sender cannot know it arrived). It can go down (stop listening, connections
// cut) and come back on the same port.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { verifySignature, type VerifyResult } from '../../engine/app/actions/sign.js';

export type Answer = number | 'drop';

export interface Received {
  id: string | undefined;
  body: string;
  headers: IncomingHttpHeaders;
  verified: VerifyResult;
  /** Attempts of this id received so far, this one included (1 = first). */
  nth: number;
  answer: Answer;
}

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly requests: Received[];
  /** Ids answered with 2xx. */
  acked(): Set<string>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  secret: string;
  /** The answer to the nth attempt (1-based) of an action id. Default 200. */
  script?: (id: string, nth: number) => Answer;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Start down (not listening) on `port`. */
  startDown?: boolean;
}

/** A port that was free a moment ago (for a receiver that starts down). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startReceiver(o: ReceiverOptions): Promise<Receiver> {
  const requests: Received[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = o.port ?? 0;

  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const h = (n: string): string | undefined => {
          const v = req.headers[n];
          return typeof v === 'string' ? v : undefined;
        };
        const id = h('x-apitap-action-id');
        const nth = (attempts.get(id ?? '') ?? 0) + 1;
        attempts.set(id ?? '', nth);
        const answer = id !== undefined && o.script !== undefined ? o.script(id, nth) : 200;
        requests.push({
          id,
          body,
          headers: req.headers,
          verified: verifySignature(o.secret, body, h('x-apitap-timestamp'), h('x-apitap-signature'), Date.now()),
          nth,
          answer,
        });
        if (answer === 'drop') req.socket.destroy();
        else {
          res.writeHead(answer, { 'content-type': 'text/plain' });
          res.end(answer < 300 ? 'ok' : 'no');
        }
      });
    });
    s.on('connection', (c: Socket) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    if (s === null) return;
    for (const c of sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  };
  if (o.startDown === true) {
    if (o.port === undefined) port = await freePort();
  } else await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}/hooks/apitap?token=t0p`;
    },
    get port() {
      return port;
    },
    requests,
    acked: () => new Set(requests.filter((r) => typeof r.answer === 'number' && r.answer < 300).map((r) => r.id ?? '')),
    down: stop,
    up: listen,
    close: stop,
  };
}
