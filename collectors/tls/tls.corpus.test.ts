// The TLS layer against every capture of the shared corpus:
// - the TLS tap changes no exchange and no non-TLS counter (TLS yields no exchanges; the golden
//   files stay byte-identical), and nothing throws;
// - every record is a valid tls/v1 record;
// - where tshark is installed, each capture's records equal tshark's dissection of the hellos
//   (one ClientHello per record, same SNI, offered ciphers, chosen cipher and version).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Exchange } from '../../engine/contracts/exchange.js';
import { TlsHandshake } from '../../engine/contracts/tls.js';
import { Counters } from '../../engine/contracts/counters.js';
import { corpus } from '../../test/support/paths.js';
import { createCollector, DEFAULT_COLLECTOR_OPTIONS } from '../collector.js';
import { readCapture } from '../source/capture.js';

const run = promisify(execFile);
const root = corpus('pcaps');
const files: string[] = [];
const walk = (d: string): void => {
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(f)) files.push(p);
  }
};
if (existsSync(root)) walk(root);

let tshark = true;
try {
  execFileSync('tshark', ['--version'], { stdio: 'ignore' });
} catch {
  tshark = false;
}

async function collect(file: string, tls: boolean): Promise<{ ex: string; counters: Counters; recs: TlsHandshake[] }> {
  const counters = new Counters();
  const h = createHash('sha256');
  const recs: TlsHandshake[] = [];
  const c = createCollector(
    DEFAULT_COLLECTOR_OPTIONS,
    (e: Exchange) => h.update(JSON.stringify(e) + '\n'),
    counters,
    tls ? (r) => recs.push(TlsHandshake.parse(r)) : undefined,
  );
  await readCapture(file, c, { counters });
  c.finish();
  return { ex: h.digest('hex'), counters, recs };
}

const withoutTls = (c: Counters): Record<string, number> =>
  Object.fromEntries(Object.entries(c.snapshot()).filter(([k]) => !k.startsWith('tls_'))) as Record<string, number>;

describe('TLS over the corpus', { skip: files.length === 0 ? `no corpus at ${root}` : false }, () => {
  let withRecords = 0;
  for (const f of files) {
    const name = relative(root, f);
    it(`${name}: same exchanges with the TLS layer; records equal tshark`, async () => {
      const plain = await collect(f, false);
      const tapped = await collect(f, true);
      assert.equal(tapped.ex, plain.ex, 'exchanges');
      assert.deepEqual(withoutTls(tapped.counters), withoutTls(plain.counters));
      assert.equal(tapped.counters.get('tls_internal_error'), 0);
      if (tapped.recs.length === 0 || !tshark) return;
      withRecords++;
      const { stdout } = await run('tshark', [
        '-r',
        f,
        '-Y',
        'tls.handshake.type == 1',
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        '-e',
        'tls.handshake.extensions_server_name',
        '-e',
        'tls.handshake.ciphersuite',
      ]);
      const hex = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
      const theirs = stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort();
      const ours = tapped.recs
        .filter((r) => r.versionsOffered.length > 0)
        .map((r) => `${r.sni ?? ''}\t${r.ciphersOffered.map(hex).join(',')}`)
        .sort();
      assert.deepEqual(ours, theirs);
      const sh = await run('tshark', [
        '-r',
        f,
        '-Y',
        'tls.handshake.type == 2',
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        '-e',
        'tls.handshake.ciphersuite',
        '-e',
        'tls.handshake.extensions.supported_version',
        '-e',
        'tls.handshake.version',
      ]);
      const theirSh = sh.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [c, sv, v] = l.split('\t');
          return `${c} ${sv !== '' ? sv : v}`;
        });
      const ourSh = tapped.recs
        .filter((r) => r.version !== null)
        .map((r) => `${hex(r.cipher ?? -1)} ${hex(r.version ?? -1)}`);
      assert.deepEqual(ourSh.sort(), theirSh.sort());
    });
  }
  it(
    'the corpus holds TLS handshakes (the comparisons above ran)',
    { skip: !tshark ? 'tshark missing' : false },
    () => {
      assert.ok(withRecords > 0);
    },
  );
});
