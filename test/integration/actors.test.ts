// Actors and behaviour findings on a real capture (test/support/actors-capture.ts: a node API on
// loopback, real TCP clients from distinct source addresses, tcpdump): every planted abuser gets its
// finding, with its actor; no normal user gets any; the store keeps the actors (`apitap actors`) and
// the findings with their actor. Byte-identical output for any --workers N, with this capture among
// the inputs (the abusers' traffic spans two API hosts, so two shards), is test/integration/workers.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorRecord, Finding } from '../../engine/contracts/inventory.js';
import { apitap } from '../support/cli.js';
import { ACTOR_IPS, actorsCaptureUnavailable, NORMAL_IPS, recordActorsCapture } from '../support/actors-capture.js';

const skip = actorsCaptureUnavailable();
const tmp = mkdtempSync(join(tmpdir(), 'apitap-actors-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ENV = { APITAP_SECRET: 'actors-integration' };

const BEHAVIOUR = new Set(['enumeration', 'bola_suspect', 'excessive_usage', 'auth_bruteforce', 'pii_harvest']);

test(
  'planted abusers are found with their actor, normal users are not; the store keeps both',
  { skip: skip ?? false },
  async () => {
    const pcap = await recordActorsCapture(tmp);
    const replay = (workers: number, extra: string[] = []): string => {
      const r = apitap(
        ['replay', pcap, '--format', 'json', '--workers', String(workers), '--no-progress', ...extra],
        ENV,
      );
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const store = join(tmp, 'store');
    const base = replay(2, ['--store', store]);
    const rep = JSON.parse(base) as { findings: Finding[]; actors: ActorRecord[] };
    const behaviour = rep.findings.filter((f) => BEHAVIOUR.has(f.kind));
    const got = behaviour.map((f) => `${f.kind} ${f.actor?.ip}`).sort();
    assert.deepEqual(got, [
      `auth_bruteforce ${ACTOR_IPS.sprayer}`,
      `bola_suspect ${ACTOR_IPS.bola}`,
      `enumeration ${ACTOR_IPS.walker}`,
      `pii_harvest ${ACTOR_IPS.harvester}`,
    ]);
    for (const f of behaviour) {
      assert.ok(f.actor !== undefined && f.firstSeen !== null && f.lastSeen !== null, f.kind);
      assert.ok(!NORMAL_IPS.includes(f.actor.ip), `${f.kind} on a normal user`);
    }
    const bola = behaviour.find((f) => f.kind === 'bola_suspect') as Finding;
    assert.equal(bola.actor?.principalKind, 'jwt_sub');
    assert.deepEqual(bola.details['binding'], { path: 4, created: 0, first_and_mostly: 0 });
    const spray = behaviour.find((f) => f.kind === 'auth_bruteforce') as Finding;
    assert.equal(spray.details['pattern'], 'credential_stuffing');
    assert.equal(spray.details['failures'], 25);
    const text = JSON.stringify(rep);
    for (const raw of ['victim', 'Winter2026', 'acme-shop', 'crm-export', 'user7']) assert.ok(!text.includes(raw), raw);
    // Actors: one per principal, else per IP; the sprayer's IP actor spans both hosts.
    const sprayer = rep.actors.find((a) => a.ip === ACTOR_IPS.sprayer && a.principal === null);
    assert.ok(
      sprayer !== undefined && sprayer.endpoints === 2 && sprayer.errors['4xx'] === 25,
      JSON.stringify(sprayer),
    );

    const a = apitap(['actors', '--store', store, '--format', 'json'], ENV);
    assert.equal(a.code, 0, a.stderr);
    const stored = JSON.parse(a.stdout) as (ActorRecord & { piiValues: number })[];
    assert.equal(stored.length, rep.actors.length);
    const harvester = stored.find((x) => x.ip === ACTOR_IPS.harvester);
    assert.ok(harvester !== undefined && harvester.piiValues >= 100, JSON.stringify(harvester));
    const f = apitap(['findings', '--store', store, '--format', 'json'], ENV);
    const back = (JSON.parse(f.stdout) as Finding[]).filter((x) => BEHAVIOUR.has(x.kind));
    assert.deepEqual(back.map((x) => x.id).sort(), behaviour.map((x) => x.id).sort());
    assert.deepEqual(back.find((x) => x.kind === 'bola_suspect')?.actor, bola.actor);
  },
);
