// A GraphQL server on graphql-js, served over node:http (HTTP/1.1) and node:http2 (h2c, prior
// knowledge), as GraphQL over HTTP defines it: POST JSON (one operation or a batch array), POST
// application/graphql, GET with URL parameters, and Apollo automatic persisted queries (a hash-only
// request the server does not know is answered PersistedQueryNotFound; the client then sends the
// document with its hash). Every request element is logged: transport, method, operation type and
// name, graphql-js's canonical print of the document, the persisted hash, whether the result carried
// errors. The schema it executes is FULL_SDL; PUBLISHED_SDL (what the API publishes) lacks a few of its
// fields (shadow) and marks others @deprecated (zombie).
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import { buildSchema, getOperationAST, graphql, parse, print } from 'graphql';
import type { ExecutionResult } from 'graphql';

export const PUBLISHED_SDL = `
type Query {
  user(id: ID!): User
  users(first: Int): [User!]!
  me: User
  ping: String
  boom: String
  legacyFeed: [String] @deprecated(reason: "use users")
}
type Mutation {
  updateEmail(id: ID!, email: String!): User
}
type User {
  id: ID!
  email: String
  name: String
  legacyName: String @deprecated(reason: "use name")
}
`;

/** PUBLISHED_SDL plus what the API serves without publishing it. */
export const FULL_SDL = `
type Query {
  user(id: ID!): User
  users(first: Int): [User!]!
  me: User
  ping: String
  boom: String
  legacyFeed: [String] @deprecated(reason: "use users")
  adminUsers: [User!]!
}
type Mutation {
  updateEmail(id: ID!, email: String!): User
  debugReset(confirm: Boolean): Boolean
}
type User {
  id: ID!
  email: String
  name: String
  legacyName: String @deprecated(reason: "use name")
  ssn: String
}
`;

export interface ServerLogEntry {
  transport: 'http1' | 'h2c';
  method: string;
  /** null when the request was refused before execution (persisted query not found, bad request). */
  type: string | null;
  name: string | null;
  /** graphql-js print() of the document executed, null when none. */
  canonical: string | null;
  persistedHash: string | null;
  outcome: 'executed' | 'persisted_not_found' | 'bad_request';
  errors: boolean;
}

const schema = buildSchema(FULL_SDL);
const userOf = (id: string): Record<string, unknown> => ({
  id,
  email: `user${id}.smith@example.org`,
  name: `Ann Smith ${id}`,
  legacyName: `A. Smith ${id}`,
  ssn: '078-05-1120',
});
const root = {
  user: ({ id }: { id: string }) => userOf(id),
  users: ({ first }: { first?: number }) =>
    Array.from({ length: Math.min(first ?? 3, 5) }, (_, i) => userOf(String(i + 1))),
  me: () => userOf('42'),
  ping: () => 'pong',
  boom: () => {
    throw new Error('boom failed');
  },
  legacyFeed: () => ['a', 'b'],
  adminUsers: () => [userOf('1')],
  updateEmail: ({ id, email }: { id: string; email: string }) => ({ ...userOf(id), email }),
  debugReset: () => true,
};

type Element = { query?: unknown; operationName?: unknown; variables?: unknown; extensions?: unknown };

export function createGraphqlHandler(log: ServerLogEntry[]) {
  const persisted = new Map<string, string>();
  async function one(transport: 'http1' | 'h2c', method: string, e: Element): Promise<ExecutionResult> {
    const ext = (e.extensions ?? {}) as { persistedQuery?: { sha256Hash?: string } };
    const hash = ext.persistedQuery?.sha256Hash ?? null;
    let source = typeof e.query === 'string' ? e.query : null;
    const entry: ServerLogEntry = {
      transport,
      method,
      type: null,
      name: null,
      canonical: null,
      persistedHash: hash,
      outcome: 'bad_request',
      errors: true,
    };
    log.push(entry);
    if (hash !== null) {
      if (source !== null) {
        if (createHash('sha256').update(source).digest('hex') !== hash)
          return { errors: [{ message: 'provided sha does not match query' }] } as unknown as ExecutionResult;
        persisted.set(hash, source);
      } else {
        source = persisted.get(hash) ?? null;
        if (source === null) {
          entry.outcome = 'persisted_not_found';
          return {
            errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
          } as unknown as ExecutionResult;
        }
      }
    }
    if (source === null) return { errors: [{ message: 'no query' }] } as unknown as ExecutionResult;
    const operationName = typeof e.operationName === 'string' ? e.operationName : null;
    const doc = parse(source);
    const op = getOperationAST(doc, operationName);
    entry.type = op?.operation ?? null;
    entry.name = op?.name?.value ?? null;
    entry.canonical = print(doc);
    entry.outcome = 'executed';
    const result = await graphql({
      schema,
      source,
      rootValue: root,
      operationName,
      variableValues: (e.variables ?? null) as Record<string, unknown> | null,
    });
    entry.errors = (result.errors?.length ?? 0) > 0;
    return result;
  }
  /** Answers one HTTP request: [status, content type, body]. */
  return async function handle(
    transport: 'http1' | 'h2c',
    method: string,
    url: string,
    contentType: string,
    body: string,
  ): Promise<[number, string, string]> {
    const u = new URL(url, 'http://x');
    const json = (v: unknown): [number, string, string] => [200, 'application/json', JSON.stringify(v)];
    if (method === 'GET') {
      const p = u.searchParams;
      const parse = (s: string | null): unknown => (s === null ? undefined : JSON.parse(s));
      return json(
        await one(transport, method, {
          query: p.get('query') ?? undefined,
          operationName: p.get('operationName') ?? undefined,
          variables: parse(p.get('variables')),
          extensions: parse(p.get('extensions')),
        }),
      );
    }
    if (contentType.startsWith('application/graphql'))
      return json(await one(transport, method, { query: body, operationName: u.searchParams.get('operationName') }));
    const v = JSON.parse(body) as Element | Element[];
    if (Array.isArray(v)) {
      const out: ExecutionResult[] = [];
      for (const e of v) out.push(await one(transport, method, e));
      return json(out);
    }
    return json(await one(transport, method, v));
  };
}

/** Starts both servers on 127.0.0.1; resolves with a close function. */
export async function startServers(
  log: ServerLogEntry[],
  ports: { http1: number; h2c: number },
): Promise<() => Promise<void>> {
  const handle = createGraphqlHandler(log);
  const h1 = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      void handle(
        'http1',
        req.method ?? 'GET',
        req.url ?? '/',
        req.headers['content-type'] ?? '',
        Buffer.concat(chunks).toString(),
      ).then(([status, ct, body]) => {
        res.writeHead(status, { 'content-type': ct });
        res.end(body);
      });
    });
  });
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      void handle(
        'h2c',
        String(headers[':method']),
        String(headers[':path']),
        String(headers['content-type'] ?? ''),
        Buffer.concat(chunks).toString(),
      ).then(([status, ct, body]) => {
        stream.respond({ ':status': status, 'content-type': ct });
        stream.end(body);
      });
    });
  });
  await new Promise<void>((r) => h1.listen(ports.http1, '127.0.0.1', r));
  await new Promise<void>((r) => h2.listen(ports.h2c, '127.0.0.1', r));
  return async () => {
    h1.closeAllConnections();
    await new Promise<void>((r) => h1.close(() => r()));
    await new Promise<void>((r) => h2.close(() => r()));
  };
}
