// WebSocket from real software, captured with tcpdump in a network namespace and replayed through
// the collectors (test/support/wslab/traffic.ts lists the traffic: the `ws` package's server and
// client with permessage-deflate with and without context takeover, fragmented, large, binary and
// control messages, a clean and an abnormal close, and Node's own WebSocket client when the runtime
// has one). One capture for every assertion: replayed whole, with segments dropped from the middle
// of each connection, and joined after the upgrades.
//
// Oracle: every message the servers logged (received = client → server, sent = server → client).
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../../collectors/collector.js';
import { readCapture } from '../../collectors/source/capture.js';
import { Exchange } from '../../engine/contracts/exchange.js';
import type { Body, Exchange as ExchangeT } from '../../engine/contracts/exchange.js';
import { Counters } from '../../engine/contracts/counters.js';
import { apitap } from '../support/cli.js';
import { labUnavailableReason } from '../support/netns/lab.js';
import { repoRoot } from '../support/paths.js';
import { waitFor } from '../support/wait.js';
import type { LoggedConnection, LoggedMessage, WsLabLog } from '../support/wslab/traffic.js';

const run = promisify(execFile);
const NS = `a10b-ws-${process.pid.toString(36)}`;
const CAP = DEFAULT_COLLECTOR_OPTIONS.http.bodyCaptureBytes;

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
  if (!has('tcpdump')) return 'tcpdump missing: run deploy/dev/install-test-deps.sh';
  return null;
}

// --- pcap (classic, as tcpdump writes it on lo: Ethernet) --------------------------------------

interface PcapRec {
  hdr: Buffer;
  data: Buffer;
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
    const data = b.subarray(off + 16, off + 16 + incl);
    let sport = 0;
    let dport = 0;
    let payload = 0;
    if (data.length >= 34 && data.readUInt16BE(12) === 0x0800 && data[23] === 6) {
      const ihl = ((data[14] as number) & 0x0f) * 4;
      const tcp = 14 + ihl;
      sport = data.readUInt16BE(tcp);
      dport = data.readUInt16BE(tcp + 2);
      payload = data.readUInt16BE(16) - ihl - ((data[tcp + 12] as number) >> 4) * 4;
    }
    recs.push({ hdr: b.subarray(off, off + 16), data, sport, dport, payload });
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

// --- records vs the servers' log ------------------------------------------------------------------

const isMsg = (e: ExchangeT): boolean => e.websocket !== undefined && e.websocket !== null;
const bodyOf = (e: ExchangeT): Body =>
  (e.websocket?.direction === 'client' ? e.request?.body : e.response?.body) as Body;
/**
 * A message as "type bytes digest head": the text as a record keeps it (cut at the capture cap) by
 * its digest, so that a difference prints short (assert's diff of 64 KiB strings is slow).
 */
const show = (type: string, bytes: number, text: string): string =>
  `${type} ${bytes} ${createHash('sha256').update(text).digest('hex').slice(0, 16)} ${text.slice(0, 48)}`;
const logged = (m: LoggedMessage): string => show(m.type, m.bytes, m.type === 'text' ? m.text.slice(0, CAP) : '');
const recorded = (e: ExchangeT): string => {
  const b = bodyOf(e);
  return show(e.websocket?.type ?? '?', b.decodedSize ?? b.size, b.data);
};

/** The records of one logged connection (by path), split by direction. */
function connRecords(exs: readonly ExchangeT[], path: string): { up: ExchangeT[]; c: ExchangeT[]; s: ExchangeT[] } {
  const up = exs.filter((e) => !isMsg(e) && e.request?.target === path);
  const ports = new Set(up.map((e) => e.client.port));
  const mine = exs.filter((e) => isMsg(e) && ports.has(e.client.port));
  return {
    up,
    c: mine.filter((e) => e.websocket?.direction === 'client'),
    s: mine.filter((e) => e.websocket?.direction === 'server'),
  };
}

const reason = skipReason();

describe('WebSocket: real servers and clients captured in a namespace', { skip: reason ?? false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'apitap-ws-'));
  const pcap = join(dir, 'ws.pcap');
  let lab: WsLabLog;
  let full: { exchanges: ExchangeT[]; counters: Counters };
  let dumpLog = '';
  let dump: ChildProcess | null = null;

  before(async () => {
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    dump = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS,
        'tcpdump',
        '-i',
        'lo',
        '--immediate-mode',
        '-B',
        '16384',
        '-U',
        '-s',
        '0',
        '-w',
        pcap,
        'tcp',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const d = dump;
    d.stderr?.on('data', (b: Buffer) => (dumpLog += b.toString()));
    await waitFor(() => dumpLog.includes('listening on'), { timeoutMs: 10_000, what: 'tcpdump listening' });
    const logPath = join(dir, 'lab.json');
    const traffic = join(repoRoot, 'test', 'support', 'wslab', 'traffic.ts');
    const flags = process.versions.node.startsWith('20.') ? ['--experimental-websocket'] : [];
    await run('ip', ['netns', 'exec', NS, process.execPath, ...flags, '--import', 'tsx', traffic, logPath], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    lab = JSON.parse(readFileSync(logPath, 'utf8')) as WsLabLog;
    // tcpdump (--immediate-mode) has written every packet once the file stops growing.
    let size = -1;
    await waitFor(
      () => {
        const s = statSync(pcap).size;
        const still = s === size;
        size = s;
        return still;
      },
      { timeoutMs: 10_000, everyMs: 100, what: 'the capture file to stop growing' },
    );
    await new Promise<void>((res) => {
      d.once('exit', () => res());
      d.kill('SIGINT');
    });
    full = await replay(pcap);
  });

  after(async () => {
    if (dump !== null && dump.exitCode === null && dump.signalCode === null) dump.kill('SIGKILL');
    await run('ip', ['netns', 'del', NS]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every message the servers logged is a record, per direction, with its text and size', () => {
    assert.match(dumpLog, /\b0 packets dropped by kernel/, dumpLog);
    assert.equal(full.counters.get('tcp_gap'), 0);
    assert.equal(lab.connections.length, lab.nativeClient ? 4 : 3);
    let client = 0;
    let server = 0;
    for (const conn of lab.connections) {
      const r = connRecords(full.exchanges, conn.path);
      assert.equal(r.up.length, 1, `one upgrade record for ${conn.path}`);
      const up = r.up[0] as ExchangeT;
      assert.equal(up.protocol, 'websocket');
      assert.equal(up.response?.status, 101);
      assert.deepEqual(up.anomalies, []);
      assert.deepEqual(r.c.map(recorded), conn.received.map(logged), `${conn.path}: client → server`);
      assert.deepEqual(r.s.map(recorded), conn.sent.map(logged), `${conn.path}: server → client`);
      assert.equal(conn.clientGot, conn.sent.length, `${conn.path}: the client got what the server sent`);
      for (const e of [...r.c, ...r.s]) {
        Exchange.parse(e);
        assert.deepEqual(e.anomalies, [], `${conn.path} seq ${e.seq}`);
        assert.equal(e.complete, true);
        assert.equal(e.request?.target, conn.path, 'messages carry the upgrade request line');
      }
      client += conn.received.filter((m) => m.type === 'text').length;
      server += conn.sent.filter((m) => m.type === 'text').length;
    }
    assert.equal(full.counters.get('ws_messages_client_text'), client);
    assert.equal(full.counters.get('ws_messages_server_text'), server);
    assert.equal(full.counters.get('ws_upgrades'), lab.connections.length);
    assert.equal(full.counters.get('ws_internal_error'), 0);
  });

  it('compression, fragmentation, large messages, control frames and closes as the software sent them', () => {
    const chat = lab.connections.find((c) => c.server === 'chat') as LoggedConnection;
    const r = connRecords(full.exchanges, chat.path);
    // permessage-deflate with context takeover: every chat message compressed (threshold 0).
    for (const e of [...r.c, ...r.s]) assert.equal(e.websocket?.compressed, true);
    // The fragmented message (two frames, a ping between them).
    const frag = r.c.find((e) => bodyOf(e).data.includes('fragmented@posteo.de'));
    assert.equal(frag?.websocket?.frames, 2);
    // 200 KB of JSON inflated past the capture cap: size is compressed bytes, decodedSize the text.
    const bulk = r.c.find((e) => bodyOf(e).data.startsWith('{"bulk"'));
    assert.ok((bodyOf(bulk as ExchangeT).decodedSize ?? 0) > 100_000);
    assert.equal(bodyOf(bulk as ExchangeT).truncated, true);
    assert.equal(bodyOf(bulk as ExchangeT).data.length, CAP);
    // Without context takeover (feed) and uncompressed with a 64-bit length (raw).
    const feed = connRecords(full.exchanges, '/ws/feed');
    for (const e of [...feed.c, ...feed.s]) assert.equal(e.websocket?.compressed, true);
    const raw = connRecords(full.exchanges, '/ws/raw');
    assert.ok(raw.c.some((e) => bodyOf(e).size === 100_000 && !(e.websocket?.compressed ?? true)));
    assert.ok(full.counters.get('ws_pings') >= 1);
    assert.ok(full.counters.get('ws_pongs') >= 1);
    // chat closed 1000 both ways, feed 1001, native 1000; raw was dropped without a close frame.
    assert.equal(full.counters.get('ws_close_error'), 0);
    assert.equal(full.counters.get('ws_no_close'), 1);
    assert.ok(full.counters.get('ws_close_frames') >= (lab.nativeClient ? 5 : 3));
    assert.equal(full.counters.get('ws_upgrades_deflate'), 2);
  });

  it('the report: websocket endpoints, hits = upgrades + messages, PII in JSON messages with their paths', () => {
    const r = apitap(['replay', pcap, '--no-store', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      endpoints: {
        method: string;
        path: string;
        protocol: string;
        hits: number;
        auth: string[];
        pii: { kind: string; location: string; field: string }[];
      }[];
    };
    const chat = lab.connections.find((c) => c.server === 'chat') as LoggedConnection;
    const ep = report.endpoints.find((e) => e.method === 'GET' && e.path === '/ws/chat');
    assert.ok(ep !== undefined, JSON.stringify(report.endpoints.map((e) => `${e.method} ${e.path}`)));
    assert.equal(ep.protocol, 'websocket');
    assert.equal(ep.hits, 1 + chat.received.length + chat.sent.length);
    assert.ok(
      ep.auth.some((a) => a.toLowerCase().includes('bearer') || a.toLowerCase().includes('jwt')),
      ep.auth.join(),
    );
    const has = (kind: string, location: string, field: string): boolean =>
      ep.pii.some((p) => p.kind === kind && p.location === location && p.field === field);
    assert.ok(has('email', 'request.body', '$.customer.email'), JSON.stringify(ep.pii));
    assert.ok(has('email', 'response.body', '$.reply.to.email'), JSON.stringify(ep.pii));
    assert.ok(has('iban', 'request.body', '$.customer.iban'), JSON.stringify(ep.pii));
    // The handshake nonce is no credential (RFC 6455 §11.3).
    assert.ok(!ep.pii.some((p) => p.field.toLowerCase() === 'sec-websocket-key'), JSON.stringify(ep.pii));
    const feed = report.endpoints.find((e) => e.path === '/ws/feed');
    assert.equal(feed?.protocol, 'websocket');
    assert.ok(
      feed?.pii.some((p) => p.kind === 'iban' && p.location === 'response.body' && p.field === '$.account.iban'),
      JSON.stringify(feed?.pii),
    );
  });

  it('segments dropped from the middle: anomalies counted, every other message still accounted for', async () => {
    const { global, recs } = readPcap(pcap);
    const ports = new Set(Object.values(lab.ports));
    // Per connection: its payload segments after the request and the 101; drop the middle one.
    const byConn = new Map<string, PcapRec[]>();
    for (const r of recs) {
      if (r.payload <= 0 || !(ports.has(r.sport) || ports.has(r.dport))) continue;
      const k = [r.sport, r.dport].sort().join(':');
      const l = byConn.get(k) ?? [];
      l.push(r);
      byConn.set(k, l);
    }
    const drop = new Set<PcapRec>();
    for (const l of byConn.values()) if (l.length > 4) drop.add(l[2 + Math.floor((l.length - 2) / 2)] as PcapRec);
    assert.ok(drop.size >= 3);
    const gapPath = join(dir, 'gaps.pcap');
    writePcap(
      gapPath,
      global,
      recs.filter((r) => !drop.has(r)),
    );
    const cut = await replay(gapPath);
    assert.ok(cut.counters.get('tcp_gap') > 0);
    const damage = cut.counters.get('ws_gap') + cut.counters.get('ws_message_gap');
    assert.ok(damage > 0 && damage <= cut.counters.get('tcp_gap'), `ws_gap + ws_message_gap = ${damage}`);
    for (const conn of lab.connections) {
      const f = connRecords(full.exchanges, conn.path);
      const c = connRecords(cut.exchanges, conn.path);
      assert.equal(c.up.length, 1, `${conn.path}: the upgrade record survives`);
      for (const [name, fl, cl] of [
        ['client', f.c, c.c],
        ['server', f.s, c.s],
      ] as const) {
        // Never more messages, never a silent shift: message i is message i, or flagged.
        assert.ok(cl.length <= fl.length, `${conn.path} ${name}`);
        cl.forEach((e, i) => {
          Exchange.parse(e);
          if (e.anomalies.length === 0)
            assert.equal(recorded(e), recorded(fl[i] as ExchangeT), `${conn.path} ${name} #${i}`);
          else
            assert.ok(
              e.anomalies.every((a) => a.startsWith('ws_')),
              e.anomalies.join(),
            );
        });
      }
    }
    // The damage stays where it was: at least one message of the gapped capture is intact and
    // identical after the first damaged one of its direction (a gap inside a payload), or the
    // direction ended there (ws_gap) and is counted.
    assert.ok(cut.exchanges.filter(isMsg).length > 0);
    assert.equal(cut.counters.get('ws_internal_error'), 0);
  });

  it('joined after the upgrade: frames are not guessed as WebSocket (nor as HTTP)', async () => {
    const { global, recs } = readPcap(pcap);
    const chatPort = lab.ports.chat;
    // Drop the chat connection's handshake: its SYNs and its first two payload segments.
    let seen = 0;
    const kept = recs.filter((r) => {
      if (r.sport !== chatPort && r.dport !== chatPort) return true;
      if (r.payload > 0) seen++;
      return seen > 2;
    });
    const joined = join(dir, 'joined.pcap');
    writePcap(joined, global, kept);
    const j = await replay(joined);
    const onChat = j.exchanges.filter((e) => e.server.port === chatPort || e.client.port === chatPort);
    assert.deepEqual(
      onChat.map((e) => `${e.request?.method} ${e.request?.target}`),
      [],
    );
    assert.equal(j.counters.get('ws_upgrades'), lab.connections.length - 1);
  });
});
