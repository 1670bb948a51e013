// The behaviour harness without a network: the scorer's attribution rules on hand-made reports, the
// world generator's promises (abuse past its threshold, near misses short of it) over many seeds, and
// the capture helpers (connections closed, clock stretch) on a hand-made pcap.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskValue } from '../../../analyzers/pii/redact.js';
import { captureState, stretchCapture } from './pcap.js';
import type { ReportFinding } from './score.js';
import { findingWindow, maskCompatible, scoreActors } from './score.js';
import type { ActorsTruth } from './truth.js';
import { makeWorld, seededThresholds } from './world.js';

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

const T0 = 1_790_000_000_000_000;
const truth: ActorsTruth = {
  schema: 'actors-truth/v1',
  seed: 1,
  host: 'api.acme.test',
  prefix: '/v2',
  thresholds: { enumerationDistinct: 50, bolaObjects: 3 },
  startUs: T0,
  endUs: T0 + 10_000_000,
  requests: 100,
  failures: 0,
  actors: [
    {
      name: 'normal-1',
      role: 'normal',
      ip: '10.0.0.10',
      principalKind: 'jwt_sub',
      principal: '4711',
      requests: 10,
      anonymous: 1,
      abuses: [],
    },
    {
      name: 'bola-2',
      role: 'abuser',
      ip: '10.0.0.10',
      principalKind: 'api_key',
      principal: 'ak_live_0123456789abcdef',
      requests: 20,
      anonymous: 0,
      abuses: [
        {
          kind: 'bola_suspect',
          method: 'GET',
          template: '/v2/orders/{orderId}',
          firstUs: T0 + 5_000_000,
          lastUs: T0 + 6_000_000,
          requests: 5,
          detail: '5 orders',
          acceptable: [],
        },
      ],
    },
    {
      name: 'harvester-1',
      role: 'abuser',
      ip: '10.0.0.11',
      principalKind: 'api_key',
      principal: 'sk_9999',
      requests: 200,
      anonymous: 0,
      abuses: [
        {
          kind: 'pii_harvest',
          method: 'GET',
          template: '/v2/customers/{customerId}',
          firstUs: T0 + 1_000_000,
          lastUs: T0 + 8_000_000,
          requests: 200,
          detail: '200 records',
          acceptable: [{ kind: 'enumeration', method: 'GET', template: '/v2/customers/{customerId}' }],
        },
      ],
    },
    {
      name: 'sprayer-1',
      role: 'abuser',
      ip: '10.0.0.12',
      principalKind: null,
      principal: null,
      requests: 0,
      anonymous: 60,
      abuses: [],
    },
  ],
};

function finding(
  kind: string,
  path: string,
  actor: ReportFinding['actor'],
  fromUs: number,
  toUs: number,
): ReportFinding {
  return {
    kind,
    host: 'api.acme.test',
    method: 'GET',
    path,
    details: {},
    firstSeen: iso(fromUs),
    lastSeen: iso(toUs),
    ...(actor !== undefined ? { actor } : {}),
  };
}

describe('actors scorer', () => {
  test('a masked principal matches the credential it masks, and nothing else', () => {
    const key = 'ak_live_0123456789abcdef';
    assert.ok(maskCompatible(maskValue('api_key', key), key));
    assert.ok(!maskCompatible(maskValue('api_key', key), 'sk_live_0123456789abcdef'));
    assert.ok(maskCompatible(maskValue('email', 'anna.jansen@ziggo.nl'), 'anna.jansen@ziggo.nl'));
    assert.ok(maskCompatible('4711', '4711'));
    assert.ok(!maskCompatible('4711', '4712'));
    assert.ok(maskCompatible('47…', '4711'));
    assert.ok(!maskCompatible('ab**yz', 'abxz'), 'visible runs cannot overlap');
  });

  test('the window is read from the details in several spellings, else firstSeen/lastSeen', () => {
    const base = finding('enumeration', '/x', undefined, T0, T0 + 1_000_000);
    assert.deepEqual(findingWindow(base), { startUs: T0, endUs: T0 + 1_000_000 });
    assert.deepEqual(
      findingWindow({
        ...base,
        details: { window: { start: '2026-12-03T10:00:00.000001Z', end: '2026-12-03T10:05:00Z' } },
      }),
      { startUs: Date.parse('2026-12-03T10:00:00Z') * 1000 + 1, endUs: Date.parse('2026-12-03T10:05:00Z') * 1000 },
    );
    assert.deepEqual(findingWindow({ ...base, details: { windowStart: T0, windowEnd: T0 + 5 } }), {
      startUs: T0,
      endUs: T0 + 5,
    });
    assert.equal(findingWindow({ ...base, firstSeen: null, lastSeen: null }), null);
  });

  test('attribution: NAT address told apart by principal kind; acceptable kinds; wrong window, endpoint or actor are false', () => {
    const bola = {
      ip: '10.0.0.10',
      principalKind: 'api_key',
      principal: maskValue('api_key', 'ak_live_0123456789abcdef'),
    };
    const normal = { ip: '10.0.0.10', principalKind: 'jwt_sub', principal: '4711' };
    const harvester = { ip: '10.0.0.11', principalKind: 'api_key', principal: 'sk_9***' };
    const s = scoreActors(truth, {
      findings: [
        finding('bola_suspect', '/v2/orders/{id}', bola, T0 + 5_500_000, T0 + 5_900_000), // true
        finding('bola_suspect', '/v2/orders/{id}', bola, T0 + 60_000_000, T0 + 61_000_000), // window far off
        finding('bola_suspect', '/v2/orders/{id}', normal, T0 + 5_500_000, T0 + 5_900_000), // on a normal client
        finding('enumeration', '/v2/customers/{cid}', harvester, T0 + 2_000_000, T0 + 3_000_000), // acceptable
        finding('pii_harvest', '/v2/customers', harvester, T0 + 2_000_000, T0 + 3_000_000), // wrong endpoint
        finding('pii_harvest', '/customers/{n}', harvester, T0 + 2_000_000, T0 + 3_000_000), // true (no prefix)
        finding('excessive_usage', '/v2/me', { ip: '10.9.9.9', principalKind: null, principal: null }, T0, T0), // nobody
        { ...finding('cleartext_credentials', '/v2/me', undefined, T0, T0) }, // not a behaviour kind
      ],
    });
    const k = (kind: string) => s.kinds.find((x) => x.kind === kind);
    assert.deepEqual(
      [k('bola_suspect')?.truePositives, k('bola_suspect')?.falsePositives, k('bola_suspect')?.recall],
      [1, 2, 1],
    );
    assert.equal(s.normalFindings.length, 1);
    assert.match(s.normalFindings[0] ?? '', /normal-1/);
    assert.deepEqual([k('enumeration')?.acceptable, k('enumeration')?.falsePositives], [1, 0]);
    assert.deepEqual(
      [k('pii_harvest')?.truePositives, k('pii_harvest')?.falsePositives, k('pii_harvest')?.precision],
      [1, 1, 0.5],
    );
    assert.equal(k('excessive_usage')?.falsePositives, 1);
    assert.equal(s.missed.length, 0);
  });

  test('a report without findings has recall 0 for every planted kind, precision 1', () => {
    const s = scoreActors(truth, { findings: [] });
    assert.equal(s.kinds.find((x) => x.kind === 'bola_suspect')?.recall, 0);
    assert.equal(s.kinds.find((x) => x.kind === 'enumeration')?.recall, 1, 'nothing planted, nothing missed');
    assert.equal(s.missed.length, 2);
  });
});

describe('actors world', () => {
  test('over 60 seeds: abuse past its threshold, near misses short of it, NAT peers of distinct principal kinds', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const th = seededThresholds(seed);
      const w = makeWorld({ seed, subnet: '10.9.9', thresholds: th });
      const kinds = new Set<string>();
      for (const a of w.actors) {
        assert.match(a.ip, /^10\.9\.9\.\d+$/);
        for (const b of a.behaviours) {
          if (b.do === 'walk') {
            if (a.role === 'abuser') assert.ok(b.count >= 1.4 * th.enumerationDistinct, `seed ${seed} ${a.name}`);
            else if (b.seconds === undefined) assert.ok(b.count < th.enumerationDistinct, `seed ${seed} ${a.name}`);
            else {
              // Spread: at most count · window / span distinct ids fit in one window of packet time.
              const perWindow = (b.count * th.enumerationWindowSeconds) / (b.seconds * w.timeScale);
              assert.ok(
                b.count > th.enumerationDistinct && perWindow < 0.75 * th.enumerationDistinct,
                `seed ${seed} ${a.name}`,
              );
            }
            assert.ok(
              b.start >= 1 && b.start + b.count - 1 <= Math.max(w.productMax, b.count),
              `seed ${seed} ${a.name} range`,
            );
          }
          if (b.do === 'bola') {
            const available = b.victims.reduce((n, v) => n + (w.users[v]?.orders.length ?? 0), 0);
            if (a.role === 'abuser')
              assert.ok(b.objects >= th.bolaObjects && b.objects <= available, `seed ${seed} ${a.name}`);
            else assert.equal(b.objects, th.bolaObjects - 1);
            assert.ok(!b.victims.includes(a.user ?? -1), 'a BOLA reader reads others');
          }
          if ((b.do === 'spray' || b.do === 'stuff') && a.role === 'abuser') {
            const tries = b.do === 'spray' ? b.names * b.passwords : b.pairs - b.hits;
            assert.ok(tries >= 1.3 * Math.max(th.bruteforceFailures, th.bruteforceDistinct), `seed ${seed} ${a.name}`);
          }
          if (b.do === 'clumsy_login') assert.ok(b.failures < th.bruteforceFailures);
          if (a.role === 'abuser') kinds.add(b.do);
        }
      }
      for (const d of ['walk', 'bola', 'hammer', 'spray', 'stuff', 'harvest'])
        assert.ok(kinds.has(d), `seed ${seed}: ${d}`);
      const byIp = new Map<string, string[]>();
      for (const a of w.actors)
        if (a.user !== null) byIp.set(a.ip, [...(byIp.get(a.ip) ?? []), w.users[a.user]?.auth ?? '?']);
      for (const [ip, auths] of byIp)
        assert.equal(new Set(auths).size, auths.length, `seed ${seed} ${ip}: ${auths.join()}`);
    }
  });

  test('the same seed gives the same world; another seed another one', () => {
    const a = makeWorld({ seed: 5, subnet: '10.1.1' });
    assert.deepEqual(makeWorld({ seed: 5, subnet: '10.1.1' }), a);
    const b = makeWorld({ seed: 6, subnet: '10.1.1' });
    assert.notDeepEqual(b.paths, a.paths);
  });
});

describe('capture file helpers', () => {
  /** A classic little-endian µs pcap of Ethernet/IPv4/TCP frames: [seconds, µs, flags, from client]. */
  function pcap(records: Array<[number, number, number, boolean]>): Buffer {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(65535, 16);
    head.writeUInt32LE(1, 20);
    const parts = [head];
    for (const [sec, us, flags, fromClient] of records) {
      const f = Buffer.alloc(14 + 20 + 20);
      f.writeUInt16BE(0x0800, 12);
      f[14] = 0x45;
      f[14 + 9] = 6;
      const [a, b] = fromClient
        ? [
            [10, 0, 0, 2],
            [10, 0, 0, 1],
          ]
        : [
            [10, 0, 0, 1],
            [10, 0, 0, 2],
          ];
      Buffer.from(a as number[]).copy(f, 14 + 12);
      Buffer.from(b as number[]).copy(f, 14 + 16);
      f.writeUInt16BE(fromClient ? 40000 : 80, 34);
      f.writeUInt16BE(fromClient ? 80 : 40000, 36);
      f[34 + 13] = flags;
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(sec, 0);
      rec.writeUInt32LE(us, 4);
      rec.writeUInt32LE(f.length, 8);
      rec.writeUInt32LE(f.length, 12);
      parts.push(rec, f);
    }
    return Buffer.concat(parts);
  }

  test('a connection is open until both ends sent FIN (or one sent RST); the clock stretches from the first packet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'apitap-actors-pcap.'));
    try {
      const file = join(dir, 'c.pcap');
      const SYN = 0x02;
      const ACK = 0x10;
      const FIN = 0x01;
      writeFileSync(
        file,
        pcap([
          [100, 0, SYN, true],
          [100, 500_000, SYN | ACK, false],
          [101, 0, FIN | ACK, true],
        ]),
      );
      assert.deepEqual(
        { ...captureState(file), firstUs: null, lastUs: null },
        { packets: 3, connections: 1, open: 1, firstUs: null, lastUs: null },
      );
      writeFileSync(
        file,
        pcap([
          [100, 0, SYN, true],
          [100, 500_000, SYN | ACK, false],
          [101, 0, FIN | ACK, true],
          [101, 250_000, FIN | ACK, false],
        ]),
      );
      assert.equal(captureState(file).open, 0);
      assert.equal(stretchCapture(file, 5), 100_000_000);
      const s = captureState(file);
      assert.equal(s.firstUs, 100_000_000);
      assert.equal(s.lastUs, 100_000_000 + 5 * 1_250_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
