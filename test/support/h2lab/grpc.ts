// gRPC server and client of the HTTP/2 lab (@grpc/grpc-js + @grpc/proto-loader, real HTTP/2 from
// grpc-js' own stack over node:http2). Every call the server handles is logged with what it saw.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { repoRoot } from '../paths.js';

/** From the source tree: tsc does not copy .proto files into dist/. */
const PROTO = join(repoRoot, 'test', 'support', 'h2lab', 'lab.proto');

export interface GrpcCall {
  /** "/apitap.lab.v1.Customers/GetCustomer" */
  path: string;
  /** Messages the server received and sent. */
  received: number;
  sent: number;
  /** grpc-status the server ended the call with. */
  status: number;
}

interface Customer {
  id: number;
  email: string;
  address: { street: string; city: string };
  tags: string[];
  active: boolean;
}

export function customer(id: number): Customer {
  return {
    id,
    email: `customer${id}@posteo.de`,
    address: { street: `${id} Rue de la Paix`, city: 'Paris' },
    tags: ['gold', 'eu'],
    active: id % 2 === 0,
  };
}

type Ctor = new (addr: string, creds: grpc.ChannelCredentials, opts?: grpc.ChannelOptions) => grpc.Client;

function service(): { svc: grpc.ServiceDefinition; Client: Ctor } {
  const def = protoLoader.loadSync(PROTO, { longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    apitap: { lab: { v1: { Customers: Ctor & { service: grpc.ServiceDefinition } } } };
  };
  const C = pkg.apitap.lab.v1.Customers;
  return { svc: C.service, Client: C };
}

/** Starts the server on 127.0.0.1:port (0: any free port); resolves with the port and a stop function. */
export async function startGrpcServer(
  port: number,
  log: GrpcCall[],
): Promise<{ port: number; stop: () => Promise<void> }> {
  const { svc } = service();
  const server = new grpc.Server();
  const P = '/apitap.lab.v1.Customers/';
  server.addService(svc, {
    GetCustomer: (call: grpc.ServerUnaryCall<{ id: number }, Customer>, cb: grpc.sendUnaryData<Customer>) => {
      if (call.request.id === 404) {
        log.push({ path: `${P}GetCustomer`, received: 1, sent: 0, status: grpc.status.NOT_FOUND });
        cb({ code: grpc.status.NOT_FOUND, details: 'customer 404 does not exist' });
        return;
      }
      log.push({ path: `${P}GetCustomer`, received: 1, sent: 1, status: 0 });
      cb(null, customer(call.request.id));
    },
    ListCustomers: (call: grpc.ServerWritableStream<{ count: number }, Customer>) => {
      const n = call.request.count;
      for (let i = 1; i <= n; i++) call.write(customer(100 + i));
      log.push({ path: `${P}ListCustomers`, received: 1, sent: n, status: 0 });
      call.end();
    },
    UploadCustomers: (
      call: grpc.ServerReadableStream<Customer, { received: number }>,
      cb: grpc.sendUnaryData<{ received: number }>,
    ) => {
      let n = 0;
      call.on('data', () => n++);
      call.on('end', () => {
        log.push({ path: `${P}UploadCustomers`, received: n, sent: 1, status: 0 });
        cb(null, { received: n });
      });
    },
    Chat: (call: grpc.ServerDuplexStream<Customer, Customer>) => {
      let n = 0;
      call.on('data', (c: Customer) => {
        n++;
        call.write(customer(c.id + 1000));
      });
      call.on('end', () => {
        log.push({ path: `${P}Chat`, received: n, sent: n, status: 0 });
        call.end();
      });
    },
  });
  const bound = await new Promise<number>((res, rej) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const stop = (): Promise<void> => {
    server.forceShutdown(); // the clients closed their channels: nothing in flight
    return Promise.resolve();
  };
  return { port: bound, stop };
}

type Cb<T> = (e: grpc.ServiceError | null, v?: T) => void;
interface LabClient extends grpc.Client {
  GetCustomer(req: { id: number }, cb: Cb<Customer>): grpc.ClientUnaryCall;
  ListCustomers(req: { count: number }): grpc.ClientReadableStream<Customer>;
  UploadCustomers(cb: Cb<{ received: number }>): grpc.ClientWritableStream<Customer>;
  Chat(): grpc.ClientDuplexStream<Customer, Customer>;
}

/**
 * The client side: on one channel without compression and one with gzip (grpc-encoding), a unary
 * call, a server stream of 5, a client stream of 4, a bidi stream of 3; then a unary call that fails
 * with NOT_FOUND. Resolves when every call finished.
 */
export async function runGrpcClient(port: number): Promise<void> {
  const { Client } = service();
  for (const gzip of [false, true]) {
    const opts: grpc.ChannelOptions = gzip ? { 'grpc.default_compression_algorithm': 2 } : {};
    const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), opts) as LabClient;
    await new Promise<void>((res, rej) => c.GetCustomer({ id: gzip ? 2 : 1 }, (e) => (e ? rej(e) : res())));
    await new Promise<void>((res, rej) => {
      const s = c.ListCustomers({ count: 5 });
      s.on('data', () => undefined);
      s.on('end', () => res());
      s.on('error', rej);
    });
    await new Promise<void>((res, rej) => {
      const s = c.UploadCustomers((e) => (e ? rej(e) : res()));
      for (let i = 1; i <= 4; i++) s.write(customer(200 + i));
      s.end();
    });
    await new Promise<void>((res, rej) => {
      const s = c.Chat();
      s.on('data', () => undefined);
      s.on('end', () => res());
      s.on('error', rej);
      for (let i = 1; i <= 3; i++) s.write(customer(300 + i));
      s.end();
    });
    if (!gzip) {
      await new Promise<void>((res) => c.GetCustomer({ id: 404 }, () => res()));
    }
    c.close();
  }
}
