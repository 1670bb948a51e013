// The GraphQL lab's traffic (test/integration/graphql.test.ts), run inside a network namespace while
// tcpdump records its loopback: the servers of server.ts on :4000 (HTTP/1.1) and :4001 (h2c), and
// clients: node's fetch (HTTP/1.1), a node:http2 client (prior knowledge), curl over both. Named,
// anonymous (in whitespace and comment variants), batched, GET, application/graphql, multi-operation
// documents, persisted queries (unknown hash → retry with document → known hash), mutations, a resolver
// error, fields the published schema lacks and @deprecated ones.
// Usage: node --import tsx traffic.ts OUT.json — writes the server log (ServerLogEntry[]).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import { startServers, type ServerLogEntry } from './server.js';

const run = promisify(execFile);
export const GQL_PORTS = { http1: 4000, h2c: 4001 } as const;
const H1 = `http://127.0.0.1:${GQL_PORTS.http1}/graphql`;
const H2 = `http://127.0.0.1:${GQL_PORTS.h2c}`;

const GET_USER = 'query GetUser($id: ID!) { user(id: $id) { id email name } }';
const LIST = 'query ListUsers($first: Int) { users(first: $first) { id name } }';
const ANON = '{ users(first: 2) { id name } }';
const ANON_VARIANT = '# listing\n{\n  users(first: 2) {\n    id\n    name\n  }\n}';
const UPDATE = 'mutation UpdateEmail($id: ID!, $email: String!) { updateEmail(id: $id, email: $email) { id email } }';
const PRICES = 'query Prices { users(first: 1) { id } ping }';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

async function post(body: unknown, contentType = 'application/json', url = H1): Promise<void> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: 'Bearer lab-token-1' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  await r.text();
}
async function get(params: Record<string, string>): Promise<void> {
  const r = await fetch(`${H1}?${new URLSearchParams(params).toString()}`);
  await r.text();
}

async function http1Clients(): Promise<void> {
  for (const id of ['1', '2', '3']) await post({ query: GET_USER, operationName: 'GetUser', variables: { id } });
  await post({ query: ANON });
  await post({ query: ANON_VARIANT });
  await post([
    { query: GET_USER, variables: { id: '7' } },
    { query: LIST, operationName: 'ListUsers', variables: { first: 2 } },
    { query: ANON },
  ]);
  await post({ query: UPDATE, variables: { id: '5', email: 'bob.jones@mail.example.net' } });
  await post({ query: UPDATE, variables: { id: '6', email: 'carol.white@mail.example.net' } });
  await post({ query: 'query Broken { boom }' });
  await post({ query: 'query Broken { boom }' });
  await get({ query: GET_USER, operationName: 'GetUser', variables: JSON.stringify({ id: '9' }) });
  await get({ query: LIST });
  await post('query Me { me { id email } }', 'application/graphql');
  await post({ query: 'query A { ping } query B { me { name } }', operationName: 'B' });
  // Automatic persisted queries: unknown hash, retry with the document, then the hash alone.
  const ext = { persistedQuery: { version: 1, sha256Hash: sha(PRICES) } };
  await post({ extensions: ext });
  await post({ query: PRICES, extensions: ext });
  await post({ extensions: ext });
  await get({ extensions: JSON.stringify(ext) });
  // Served but not published (shadow), and deprecated (zombie).
  await post({ query: 'query Admin { adminUsers { id } user(id: "1") { id ssn } }' });
  await post({ query: 'mutation Reset { debugReset(confirm: true) }' });
  await post({ query: 'query Legacy($id: ID!) { user(id: $id) { legacyName } legacyFeed }', variables: { id: '1' } });
  // Hostile documents: alias batching (still an operation), and nesting beyond apitap's bound (the
  // server answers with validation errors; apitap leaves the exchange a plain POST /graphql).
  const aliases = Array.from({ length: 300 }, (_, i) => `a${i}: ping`).join(' ');
  await post({ query: `query Aliases { ${aliases} }`, variables: {} });
  await post({ query: `query Deep ${'{ user(id: "1") '.repeat(70)}${'}'.repeat(70)}`, variables: {} });
}

async function h2Clients(): Promise<void> {
  const s = http2.connect(H2);
  const req = (body: unknown): Promise<void> =>
    new Promise((resolve, reject) => {
      const st = s.request({ ':method': 'POST', ':path': '/graphql', 'content-type': 'application/json' });
      st.on('response', () => undefined);
      st.on('data', () => undefined);
      st.on('end', () => resolve());
      st.on('error', reject);
      st.end(JSON.stringify(body));
    });
  await Promise.all([
    req({ query: GET_USER, operationName: 'GetUser', variables: { id: '11' } }),
    req({ query: GET_USER, operationName: 'GetUser', variables: { id: '12' } }),
    req({ query: UPDATE, variables: { id: '13', email: 'dan.brown@mail.example.net' } }),
  ]);
  await req([{ query: LIST, variables: { first: 1 } }, { query: ANON }]);
  await req({ query: 'query Broken { boom }' });
  await new Promise<void>((r) => s.close(() => r()));
}

async function curlClients(): Promise<void> {
  const body = JSON.stringify({ query: 'query CurlPing { ping }' });
  const args = ['-sS', '-o', '/dev/null', '-H', 'content-type: application/json', '--data', body];
  await run('curl', [...args, H1]);
  await run('curl', ['--http2-prior-knowledge', ...args, `${H2}/graphql`]);
}

async function main(out: string): Promise<void> {
  const log: ServerLogEntry[] = [];
  const close = await startServers(log, GQL_PORTS);
  try {
    await http1Clients();
    await h2Clients();
    await curlClients();
  } finally {
    await close();
  }
  writeFileSync(out, JSON.stringify(log));
}

if (process.argv[1]?.endsWith('traffic.ts')) {
  main(process.argv[2] ?? '/dev/stdout').catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}
