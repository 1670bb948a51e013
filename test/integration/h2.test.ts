// HTTP/2 cleartext and gRPC from real software, captured with tcpdump in a network namespace and
// replayed through the collectors (test/support/h2lab/traffic.ts lists the traffic). One setup for
// every assertion: the capture is made once, then replayed whole, cut mid-connection and with
// segments dropped.
//
// Oracles: what the servers logged (node:http2, grpc-js, nghttpx's access log), what the clients got
// (curl, nghttp), and tshark's HTTP/2 dissector on the same capture.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import { counterInfo } from '../../engine/contracts/catalogue.js';
import { Exchange } from '../../engine/contracts/exchange.js';
import type { Exchange as ExchangeT } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { labUnavailableReason } from '../support/netns/lab.js';
import { apitap } from '../support/cli.js';
import { labDescriptorSet } from '../support/h2lab/descriptor.js';
import { repoRoot } from '../support/paths.js';
import type { LabLog } from '../support/h2lab/traffic.js';

const run = promisify(execFile);
const PORTS = { h2: 8080, nghttpd: 8081, nghttpx: 8082, grpc: 50051 } as const;
const NS = `h13-${process.pid.toString(36)}`;

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | null {
  const lab = labUnavailableReason();
  if (lab !== null) return lab;
  for (const t of ['tcpdump', 'tshark', 'curl', 'nghttpd', 'nghttp', 'nghttpx']) {
    if (!has(t)) return `${t} missing: run deploy/dev/install-test-deps.sh`;
  }
  return null;
}

// --- pcap (classic, as tcpdump writes it) ------------------------------------------------------

interface PcapRec {
  hdr: Buffer;
  data: Buffer;
  tsUs: number;
  /** TCP ports and payload length (Ethernet/IPv4/TCP on lo), or null. */
  sport: number;
  dport: number;
  payload: number;
}

function readPcap(path: string): { global: Buffer; recs: PcapRec[] } {
  const b = readFileSync(path);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'tcpdump writes little-endian µs pcap here');
  const recs: PcapRec[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = b.readUInt32LE(off + 8);
    const hdr = b.subarray(off, off + 16);
    const data = b.subarray(off + 16, off + 16 + incl);
    const tsUs = b.readUInt32LE(off) * 1_000_000 + b.readUInt32LE(off + 4);
    let sport = 0;
    let dport = 0;
    let payload = 0;
    if (data.length >= 34 && data.readUInt16BE(12) === 0x0800 && data[23] === 6) {
      const ihl = ((data[14] as number) & 0x0f) * 4;
      const tcp = 14 + ihl;
      sport = data.readUInt16BE(tcp);
      dport = data.readUInt16BE(tcp + 2);
      const doff = ((data[tcp + 12] as number) >> 4) * 4;
      payload = data.readUInt16BE(16) - ihl - doff;
    }
    recs.push({ hdr, data, tsUs, sport, dport, payload });
    off += 16 + incl;
  }
  return { global: b.subarray(0, 24), recs };
}

function writePcap(path: string, global: Buffer, recs: readonly PcapRec[]): void {
  writeFileSync(path, Buffer.concat([global, ...recs.flatMap((r) => [r.hdr, r.data])]));
}

async function replay(path: string): Promise<{ exchanges: ExchangeT[]; counters: Counters }> {
  const counters = new Counters();
  const exchanges: ExchangeT[] = [];
  const collector = createCollector(DEFAULT_COLLECTOR_OPTIONS, (ex) => exchanges.push(ex), counters);
  await readCapture(path, collector);
  collector.finish();
  return { exchanges, counters };
}

const onPort = (exs: readonly ExchangeT[], port: number): ExchangeT[] => exs.filter((e) => e.server.port === port);
const line = (e: ExchangeT): string => `${e.request?.method ?? '-'} ${e.request?.target ?? '-'}`;
const sorted = (a: readonly string[]): string[] => [...a].sort();

/**
 * tshark's requests per server port: header blocks with :method (HEADERS, and PUSH_PROMISE for
 * pushed streams) plus HTTP/1.1 requests (the Upgrade: h2c request, which is stream 1).
 */
async function tsharkRequests(pcap: string): Promise<Map<number, number>> {
  const { stdout } = await run(
    'tshark',
    [
      '-r',
      pcap,
      ...[PORTS.h2, PORTS.nghttpd, PORTS.grpc].flatMap((p) => ['-d', `tcp.port==${p},http2`]),
      '-d',
      `tcp.port==${PORTS.nghttpx},http`,
      '-Y',
      'http2.headers.method or http2.type == 5 or http.request',
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=;',
      '-e',
      'tcp.dstport',
      '-e',
      'tcp.srcport',
      '-e',
      'http2.type',
      '-e',
      'http2.headers.method',
      '-e',
      'http.request.method',
    ],
    { maxBuffer: 64 << 20 },
  );
  const counts = new Map<number, number>();
  const servers = new Set<number>(Object.values(PORTS));
  for (const l of stdout.split('\n')) {
    if (l.trim() === '') continue;
    const [dst, src, , methods, h1] = l.split('\t');
    // A PUSH_PROMISE carries the promised request's :method and travels from the server.
    const server = servers.has(Number(dst)) ? Number(dst) : Number(src);
    const reqs = (methods ?? '').split(';').filter((m) => m !== '').length + (h1 !== undefined && h1 !== '' ? 1 : 0);
    counts.set(server, (counts.get(server) ?? 0) + reqs);
  }
  return counts;
}

const reason = skipReason();

describe(
  'HTTP/2 cleartext and gRPC: real servers and clients captured in a namespace',
  { skip: reason ?? false },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-h2-'));
    const pcap = join(dir, 'h2.pcap');
    let lab: LabLog;
    let access: string[];
    let full: { exchanges: ExchangeT[]; counters: Counters };
    /** tcpdump's stderr: its final statistics say whether the kernel dropped packets. */
    let dumpLog = '';
    const procs: ChildProcess[] = [];

    const inNs = (argv: string[]): ChildProcess => {
      const p = spawn('ip', ['netns', 'exec', NS, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(p);
      return p;
    };
    const stop = (p: ChildProcess, sig: NodeJS.Signals): Promise<void> =>
      new Promise((res) => {
        if (p.exitCode !== null || p.signalCode !== null) return res();
        p.once('exit', () => res());
        p.kill(sig);
      });
    const listening = async (port: number): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        const { stdout } = await run('ip', ['netns', 'exec', NS, 'ss', '-ltnH', `sport = :${port}`]);
        if (stdout.trim() !== '') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`nothing listens on ${port}`);
    };

    before(async () => {
      await run('ip', ['netns', 'add', NS]);
      await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
      const www = join(dir, 'www');
      mkdirSync(www);
      writeFileSync(join(www, 'index.html'), '<html><link rel="stylesheet" href="/style.css">hello</html>\n');
      writeFileSync(join(www, 'style.css'), 'body { color: #333 }\n');
      const dump = inNs(['tcpdump', '-i', 'lo', '--immediate-mode', '-B', '16384', '-U', '-s', '0', '-w', pcap, 'tcp']);
      await new Promise<void>((res, rej) => {
        dump.stderr?.on('data', (d: Buffer) => {
          dumpLog += d.toString();
          if (dumpLog.includes('listening on')) res();
        });
        dump.once('exit', () => rej(new Error(`tcpdump: ${dumpLog}`)));
      });
      inNs(['nghttpd', '--no-tls', '-d', www, '-p', '/index.html=/style.css', String(PORTS.nghttpd)]);
      const accessLog = join(dir, 'nghttpx.access');
      inNs([
        'nghttpx',
        `--frontend=127.0.0.1,${PORTS.nghttpx};no-tls`,
        `--backend=127.0.0.1,${PORTS.h2};;proto=h2`,
        '--workers=1',
        '--conf=/dev/null',
        `--accesslog-file=${accessLog}`,
        `--pid-file=${join(dir, 'nghttpx.pid')}`,
        '--log-level=WARN',
      ]);
      await listening(PORTS.nghttpd);
      await listening(PORTS.nghttpx);
      const logPath = join(dir, 'lab.json');
      const traffic = join(repoRoot, 'test', 'support', 'h2lab', 'traffic.ts');
      await run('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', traffic, logPath], {
        cwd: repoRoot,
        timeout: 30_000,
      });
      lab = JSON.parse(readFileSync(logPath, 'utf8')) as LabLog;
      for (const p of procs) if (p !== dump) await stop(p, 'SIGTERM');
      // tcpdump (--immediate-mode) has written every packet once the file stops growing.
      let size = -1;
      for (let i = 0; i < 50 && statSync(pcap).size !== size; i++) {
        size = statSync(pcap).size;
        await new Promise((r) => setTimeout(r, 100));
      }
      await stop(dump, 'SIGINT');
      access = readFileSync(accessLog, 'utf8').trim().split('\n');
      full = await replay(pcap);
    });

    after(async () => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await run('ip', ['netns', 'del', NS]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });

    it('every call the node:http2 server logged is an exchange with its method, path and protocol', () => {
      // The oracles below assume a complete capture (a loaded machine can make the kernel drop).
      assert.match(dumpLog, /\b0 packets dropped by kernel/, dumpLog);
      assert.equal(full.counters.get('tcp_gap'), 0);
      const exs = onPort(full.exchanges, PORTS.h2);
      assert.deepEqual(sorted(exs.map(line)), sorted(lab.h2Server));
      for (const e of exs) {
        assert.equal(e.protocol, 'h2c');
        assert.equal(typeof e.streamId, 'number');
        assert.equal(e.request?.version, 'HTTP/2');
        Exchange.parse(e);
      }
      const byPath = new Map(exs.map((e) => [e.request?.target, e]));
      const post = byPath.get('/api/v1/orders');
      assert.equal(post?.response?.status, 201);
      assert.deepEqual(JSON.parse(post?.request?.body.data ?? ''), { email: 'buyer@shop.example.com', items: [1, 2] });
      // gzip over several DATA frames, decoded like an HTTP/1.1 body.
      const report = byPath.get('/api/v1/report');
      assert.deepEqual(report?.response?.body.contentEncoding, ['gzip']);
      assert.ok((report?.response?.body.size ?? 0) > 16384, 'spans several DATA frames');
      assert.match(report?.response?.body.data ?? '', /^\[\{"row":0,"owner":"owner0@corp\.example\.com"\}/);
      // 24 KiB cookie: HEADERS + CONTINUATION.
      const big = byPath.get('/api/v1/big');
      assert.equal(big?.request?.headers.find(([k]) => k === 'cookie')?.[1].length, 'session='.length + 24 * 1024);
      assert.equal(big?.complete, true);
      // The stream the client reset is reported, not dropped.
      const slow = byPath.get('/api/v1/slow');
      assert.ok(slow?.anomalies.includes('h2_stream_reset'));
      assert.equal(slow?.response, null);
      // :authority stands for Host.
      assert.equal(byPath.get('/api/v1/users/1')?.request?.headers[0]?.[0], 'host');
      // Exchanges the clients completed are complete and anomaly-free.
      for (const e of exs) if (e !== slow) assert.deepEqual(e.anomalies, [], line(e));
    });

    it('curl with prior knowledge and with Upgrade: h2c (via nghttpx) give one exchange per request', () => {
      assert.deepEqual(lab.curlPrior, ['200 2', '200 2']);
      assert.deepEqual(lab.curlUpgrade, ['200 2', '200 2']);
      const up = onPort(full.exchanges, PORTS.nghttpx);
      assert.equal(up.length, access.length, 'nghttpx access log lines');
      assert.deepEqual(sorted(up.map(line)), ['GET /api/v1/upgraded/1', 'GET /api/v1/upgraded/2']);
      const first = up.find((e) => e.streamId === 1);
      assert.ok(first !== undefined, 'the upgrade request is stream 1');
      assert.equal(first.request?.version, 'HTTP/1.1');
      assert.deepEqual(first.response?.interim, [101]);
      assert.equal(first.response?.status, 200);
      assert.ok(first.anomalies.includes('h2_upgrade'));
      assert.equal(up.find((e) => e.streamId === 3)?.request?.version, 'HTTP/2');
    });

    it('server push: the promised stream is an exchange with the promised request', () => {
      assert.deepEqual(sorted(lab.nghttp), ['200 /index.html', '200 /style.css']);
      const exs = onPort(full.exchanges, PORTS.nghttpd);
      assert.deepEqual(sorted(exs.map(line)), ['GET /index.html', 'GET /style.css']);
      const pushed = exs.find((e) => e.request?.target === '/style.css');
      assert.equal((pushed?.streamId ?? 1) % 2, 0, 'server-initiated stream id');
      assert.ok(pushed?.anomalies.includes('h2_server_push'));
      assert.equal(pushed?.response?.body.data, 'body { color: #333 }\n');
    });

    it('gRPC: every call the server logged is an exchange, streaming messages counted, grpc-status read', () => {
      const exs = onPort(full.exchanges, PORTS.grpc);
      assert.deepEqual(sorted(exs.map(line)), sorted(lab.grpcServer.map((c) => `POST ${c.path}`)));
      for (const e of exs) assert.equal(e.protocol, 'grpc');
      const count = (data: string): number =>
        data === '' ? 0 : data.startsWith('[') ? (JSON.parse(data) as unknown[]).length : 1;
      const got = sorted(
        exs.map(
          (e) => `${e.request?.target} ${count(e.request?.body.data ?? '')}/${count(e.response?.body.data ?? '')}`,
        ),
      );
      const want = sorted(lab.grpcServer.map((c) => `${c.path} ${c.received}/${c.sent}`));
      assert.deepEqual(got, want);
      assert.equal(
        full.counters.get('grpc_messages_request'),
        lab.grpcServer.reduce((n, c) => n + c.received, 0),
      );
      assert.equal(
        full.counters.get('grpc_messages_response'),
        lab.grpcServer.reduce((n, c) => n + c.sent, 0),
      );
      // Schema-less protobuf: Customer {1: id, 2: email, 3: {1: street, 2: city}, 4: [tags]}.
      const unary = exs.find((e) => e.request?.target.endsWith('/GetCustomer') && e.request.body.data === '{"1":1}');
      const cust = JSON.parse(unary?.response?.body.data ?? '{}') as Record<string, unknown>;
      assert.equal(cust['2'], 'customer1@posteo.de');
      assert.deepEqual(cust['3'], { '1': '1 Rue de la Paix', '2': 'Paris' });
      assert.deepEqual(cust['4'], ['gold', 'eu']);
      // gzip on the second channel: compressed messages decoded.
      const gz = exs.filter((e) => e.request?.body.contentEncoding.includes('gzip'));
      assert.ok(gz.length >= 4, `${gz.length} calls with gzip request messages`);
      for (const e of gz) assert.ok(e.request?.body.data.includes('"1"'), 'decoded protobuf');
      // The failing call: grpc-status 5 from a trailers-only response.
      const err = exs.find((e) => e.request?.body.data === '{"1":404}');
      assert.ok(err?.anomalies.includes('grpc_error_status'));
      assert.equal(err?.response?.headers.find(([k]) => k === 'grpc-status')?.[1], '5');
      for (const e of exs) if (e !== err) assert.deepEqual(e.anomalies, [], line(e));
    });

    it("counts equal tshark's HTTP/2 dissector on every port", async () => {
      const t = await tsharkRequests(pcap);
      for (const port of Object.values(PORTS)) {
        const mine = onPort(full.exchanges, port).length;
        // nghttpx' backend connections to :8080 carry the upgraded requests a second time.
        assert.equal(mine, t.get(port) ?? 0, `port ${port}`);
      }
    });

    it('a capture cut mid-connection: streams that start after the cut are all emitted, decoded where HPACK allows', async () => {
      const { global, recs } = readPcap(pcap);
      // Cut each of the node:http2 and the first gRPC connection in the middle of its packets (a
      // frame may be cut too): everything of those connections before the cut is gone.
      const cuts = new Map<string, number>();
      for (const port of [PORTS.h2, PORTS.grpc]) {
        const conns = new Map<number, PcapRec[]>();
        for (const r of recs) {
          const client = r.dport === port ? r.sport : r.sport === port ? r.dport : 0;
          if (client !== 0) conns.set(client, [...(conns.get(client) ?? []), r]);
        }
        const [client, pkts] = [...conns.entries()].sort((a, b) => b[1].length - a[1].length)[0] as [number, PcapRec[]];
        const data = pkts.filter((r) => r.payload > 0);
        const at = data[Math.floor(data.length / 2)] as PcapRec;
        cuts.set(`${client}:${port}`, at.tsUs);
      }
      const keep = recs.filter((r) => {
        const t = cuts.get(`${r.sport}:${r.dport}`) ?? cuts.get(`${r.dport}:${r.sport}`);
        return t === undefined || r.tsUs >= t;
      });
      const cutPath = join(dir, 'cut.pcap');
      writePcap(cutPath, global, keep);
      const cut = await replay(cutPath);
      const key = (e: ExchangeT): string => `${e.client.port}:${e.server.port}:${e.streamId}`;
      const byKey = new Map(cut.exchanges.map((e) => [key(e), e]));
      let decoded = 0;
      let desync = 0;
      for (const e of full.exchanges) {
        const t = cuts.get(`${e.client.port}:${e.server.port}`);
        if (t === undefined) {
          assert.equal(byKey.get(key(e))?.request?.target, e.request?.target, 'uncut connections unchanged');
          continue;
        }
        const start = e.request?.startUs ?? 0;
        if (start <= t) continue;
        const c = byKey.get(key(e));
        assert.ok(c !== undefined, `stream ${key(e)} (${line(e)}) started after the cut and is reported`);
        assert.equal(c.quality.midstream, true);
        if (c.request !== null) {
          decoded++;
          assert.equal(line(c), line(e), 'a decoded request is the right one');
          if (c.response !== null && e.response !== null) assert.equal(c.response.status, e.response.status);
          if (e.protocol === 'grpc' && c.response !== null) assert.equal(c.response.body.data, e.response?.body.data);
        } else {
          desync++;
          assert.ok(
            c.anomalies.includes('h2_missing_pseudo_header') || c.anomalies.includes('h2_hpack_desync'),
            key(e),
          );
        }
      }
      assert.ok(decoded > 0, 'some streams after the cut decode (literals, static table, entries added since)');
      assert.ok(desync + decoded > 2);
      // gRPC calls whose content-type was lost to the desync are still recognised from their path.
      for (const e of cut.exchanges) {
        if (e.server.port === PORTS.grpc && e.request !== null) assert.equal(e.protocol, 'grpc', line(e));
      }
      assert.ok(cut.counters.get('h2_hpack_desync') > 0);
      for (const e of cut.exchanges) Exchange.parse(e);
    });

    it('dropped segments: gaps degrade the streams they touch; untouched streams decode as in the full capture', async () => {
      const { global, recs } = readPcap(pcap);
      // Drop every 5th data segment of the HTTP/2 and gRPC connections (not the first one of a
      // connection: the preface marks it as HTTP/2).
      let n = 0;
      const firstSeen = new Set<string>();
      const dropped: PcapRec[] = [];
      const keep = recs.filter((r) => {
        if (r.payload === 0) return true;
        const conn = [r.sport, r.dport].sort().join(':');
        if (!firstSeen.has(conn)) {
          firstSeen.add(conn);
          return true;
        }
        if (++n % 5 !== 0) return true;
        dropped.push(r);
        return false;
      });
      assert.ok(dropped.length > 10);
      const gapPath = join(dir, 'gaps.pcap');
      writePcap(gapPath, global, keep);
      const gaps = await replay(gapPath);
      assert.ok(gaps.counters.get('tcp_gap') > 0);
      const full2 = new Map(full.exchanges.map((e) => [`${e.client.port}:${e.server.port}:${e.streamId}`, e]));
      let clean = 0;
      for (const e of gaps.exchanges) {
        Exchange.parse(e);
        const f = full2.get(`${e.client.port}:${e.server.port}:${e.streamId}`);
        if (e.anomalies.length === 0 || (e.request !== null && e.response !== null && e.quality.gapBytes === 0)) {
          if (f === undefined || e.anomalies.some((a) => a.startsWith('h2_') && a !== 'h2_upgrade')) continue;
          clean++;
          assert.equal(line(e), line(f));
          assert.equal(e.response?.status, f.response?.status);
        }
      }
      assert.ok(clean > 0, 'streams the gaps did not touch decode');
      const touched = gaps.exchanges.filter((e) => e.anomalies.length > 0).length;
      assert.ok(touched > 0, 'gaps are reported on the streams they hit');
    });

    it('the CLI report: endpoints carry their protocol; PII inside protobuf messages is found by field path', () => {
      const r = apitap(['replay', pcap, '--no-store', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as {
        capture: { exchanges: number };
        endpoints: {
          host: string;
          method: string;
          path: string;
          protocol: string;
          fields: string[];
          statusClasses: Record<string, number>;
          pii: { kind: string; location: string; field: string }[];
        }[];
      };
      const paired = full.exchanges.filter((e) => e.request !== null && e.response !== null).length;
      assert.equal(report.capture.exchanges, paired, 'capture totals count HTTP/2 streams');
      const ep = (method: string, path: string): (typeof report.endpoints)[number] | undefined =>
        report.endpoints.find((e) => e.method === method && e.path === path);
      const get = ep('POST', '/apitap.lab.v1.Customers/GetCustomer');
      assert.equal(get?.protocol, 'grpc');
      // grpc-status NOT_FOUND (5) under HTTP 200 counts as 4xx.
      assert.deepEqual(get?.statusClasses, { '2xx': 2, '4xx': 1 });
      assert.equal(get?.host, `127.0.0.1:${PORTS.grpc}`);
      const email = get?.pii.find((p) => p.kind === 'email' && p.location === 'response.body');
      assert.ok(email !== undefined, JSON.stringify(get?.pii));
      assert.equal(email.field, '$.2');
      const list = ep('POST', '/apitap.lab.v1.Customers/ListCustomers');
      assert.equal(list?.protocol, 'grpc');
      // A server stream: an array of messages.
      assert.ok(
        list?.pii.some((p) => p.kind === 'email' && p.field === '$[*].2'),
        JSON.stringify(list?.pii),
      );
      // Field shapes of nested messages: Customer.address (3) {street (1), city (2)}, tags (4) repeated.
      for (const f of ['response.body $.3.1:string', 'response.body $.4[*]:string', 'request.body $.1:integer']) {
        assert.ok(get?.fields.includes(f), `${f} in ${JSON.stringify(get?.fields)}`);
      }
      const users = report.endpoints.find((e) => e.path.startsWith('/api/v1/users/') && e.method === 'GET');
      assert.equal(users?.protocol, 'h2c');
      assert.ok(report.endpoints.some((e) => e.path === '/index.html' && e.protocol === 'h2c'));
    });

    it('--proto-descriptor names gRPC message fields in the inventory and the PII findings', () => {
      const desc = join(dir, 'lab.desc');
      writeFileSync(desc, labDescriptorSet().bytes);
      const r = apitap(['replay', pcap, '--no-store', '--format', 'json', '--proto-descriptor', desc]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as {
        endpoints: { method: string; path: string; fields: string[]; pii: { kind: string; field: string }[] }[];
      };
      const get = report.endpoints.find((e) => e.path === '/apitap.lab.v1.Customers/GetCustomer');
      for (const f of [
        'request.body $.id:integer',
        'response.body $.email:string',
        'response.body $.address.city:string',
      ]) {
        assert.ok(get?.fields.includes(f), `${f} in ${JSON.stringify(get?.fields)}`);
      }
      assert.ok(
        get?.pii.some((p) => p.kind === 'email' && p.field === '$.email'),
        JSON.stringify(get?.pii),
      );
      const bad = apitap(['replay', pcap, '--no-store', '--proto-descriptor', join(dir, 'www', 'index.html')]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /not a FileDescriptorSet/);
    });

    it('every anomaly and counter name is declared', () => {
      for (const e of full.exchanges) {
        for (const a of e.anomalies) assert.equal(counterInfo(a)?.kind, 'anomaly', a);
      }
      for (const k of Object.keys(full.counters.snapshot())) {
        if (k.startsWith('h2_') || k.startsWith('grpc_')) assert.ok(counterInfo(k) !== undefined, k);
      }
    });
  },
);
