// The inventory of encrypted API hosts: tls/v1 records in, one entry per (server ip, port, sni) and
// the TLS findings out (weak_tls, certificate_expired, certificate_expiring,
// certificate_name_mismatch).
//
// Contract: a pure fold of the records it was given, independent of their order (sets, min/max and a
// total order on certificates), sorted output, no clock: "expired" and "expiring" are judged against
// the packet time of the last connection that presented the certificate. Finding ids are
// findingId(kind, host, '', '', server:port|sni|detail) (analyzers/risks/findings.ts), so a replay
// yields the same ids. Bounded: at most maxEntries entries and maxCertificatesPerEntry distinct
// leaf certificates per entry; records past a bound are counted (stats()), not kept.
import type { Finding, Severity } from '../../engine/contracts/inventory.js';
import { isoFromUs, SEVERITIES } from '../../engine/contracts/inventory.js';
import type { TlsCertificate, TlsEndpoint, TlsHandshake } from '../../engine/contracts/tls.js';
import { findingId } from '../risks/findings.js';
import { certificateCovers } from './names.js';
import { suiteName, versionName, WEAK_SUITES, WEAK_VERSIONS } from './suites.js';
import type { WeakReason } from './suites.js';

export interface TlsAnalyzerOptions {
  /** certificate_expiring: validTo within this many days of the last connection that showed it. */
  expiringDays: number;
  maxEntries: number;
  maxCertificatesPerEntry: number;
}

export const DEFAULT_TLS_ANALYZER_OPTIONS: TlsAnalyzerOptions = {
  expiringDays: 30,
  maxEntries: 100_000,
  maxCertificatesPerEntry: 16,
};

interface Seen {
  connections: number;
  firstUs: number;
  lastUs: number;
}

interface LeafSeen extends Seen {
  chain: TlsCertificate[];
}

interface Entry extends Seen {
  server: string;
  port: number;
  sni: string | null;
  versions: Map<number, Seen>;
  ciphers: Map<number, Seen>;
  alpn: Set<string>;
  /** Distinct leaf certificates by sha256. */
  leaves: Map<string, LeafSeen>;
}

export interface TlsInventory {
  observe(rec: TlsHandshake): void;
  /** report/v1 `tls`: sorted by (server, port, sni). */
  entries(): TlsEndpoint[];
  /** Sorted like analyzers/risks findings: (host, path, method, kind, id). */
  findings(): Finding[];
  /** Forget the entries whose finding host (sni, else server ip) is one of `hosts`. */
  forget(hosts: readonly string[]): void;
  stats(): Record<string, number>;
}

const DAY_US = 86_400_000_000;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function see(m: Map<number, Seen>, k: number, us: number): void {
  const s = m.get(k);
  if (s === undefined) m.set(k, { connections: 1, firstUs: us, lastUs: us });
  else widen(s, us);
}

function widen(s: Seen, us: number): void {
  s.connections++;
  if (us < s.firstUs) s.firstUs = us;
  if (us > s.lastUs) s.lastUs = us;
}

/** Microseconds of an ISO-8601 UTC time, or null. */
function usOf(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms * 1000 : null;
}

const hostOf = (e: Entry): string => e.sni ?? e.server;

/** The entry's certificate for report/v1: the leaf seen last (ties: smallest sha256). */
function latestLeaf(e: Entry): LeafSeen | null {
  let best: LeafSeen | null = null;
  let bestKey = '';
  for (const [k, l] of e.leaves) {
    if (best === null || l.lastUs > best.lastUs || (l.lastUs === best.lastUs && k < bestKey)) {
      best = l;
      bestKey = k;
    }
  }
  return best;
}

const WEAK_SEVERITY: Record<WeakReason, Severity> = {
  export: 'high',
  rc4: 'high',
  des: 'high',
  null: 'high',
  anonymous: 'high',
  '3des': 'medium',
};

const maxSev = (a: Severity, b: Severity): Severity => (SEVERITIES.indexOf(b) > SEVERITIES.indexOf(a) ? b : a);

export function createTlsInventory(opts: Partial<TlsAnalyzerOptions> = {}): TlsInventory {
  const o: TlsAnalyzerOptions = { ...DEFAULT_TLS_ANALYZER_OPTIONS, ...opts };
  const entries = new Map<string, Entry>();
  const counts = {
    tls_records: 0,
    tls_records_incomplete: 0,
    tls_records_without_hello: 0,
    tls_entries_capped: 0,
    tls_leaves_capped: 0,
  };

  function observe(rec: TlsHandshake): void {
    counts.tls_records++;
    if (!rec.complete) counts.tls_records_incomplete++;
    // Neither hello parsed: bytes that only looked like TLS (or a capture joined mid-handshake).
    if (rec.versionsOffered.length === 0 && rec.version === null) {
      counts.tls_records_without_hello++;
      return;
    }
    const key = `${rec.server.ip}\u0000${rec.server.port}\u0000${rec.sni ?? ''}`;
    let e = entries.get(key);
    const us = rec.timeUs;
    if (e === undefined) {
      if (entries.size >= o.maxEntries) {
        counts.tls_entries_capped++;
        return;
      }
      e = {
        server: rec.server.ip,
        port: rec.server.port,
        sni: rec.sni,
        connections: 0,
        firstUs: us,
        lastUs: us,
        versions: new Map(),
        ciphers: new Map(),
        alpn: new Set(),
        leaves: new Map(),
      };
      entries.set(key, e);
    }
    widen(e, us);
    if (rec.version !== null) see(e.versions, rec.version, us);
    if (rec.cipher !== null) see(e.ciphers, rec.cipher, us);
    if (rec.alpn !== null) e.alpn.add(rec.alpn);
    const leaf = rec.certificates?.[0];
    if (rec.certificates !== null && leaf !== undefined) {
      const l = e.leaves.get(leaf.sha256);
      if (l !== undefined) {
        widen(l, us);
        // The same leaf may come with a different chain: keep one deterministically (the longest, then by fingerprints).
        const a = chainKey(l.chain);
        const b = chainKey(rec.certificates);
        if (b.length > a.length || (b.length === a.length && b < a)) l.chain = rec.certificates;
      } else if (e.leaves.size >= o.maxCertificatesPerEntry) {
        counts.tls_leaves_capped++;
      } else {
        e.leaves.set(leaf.sha256, { connections: 1, firstUs: us, lastUs: us, chain: rec.certificates });
      }
    }
  }

  const sorted = (): Entry[] =>
    [...entries.values()].sort(
      (a, b) =>
        cmp(a.server, b.server) ||
        a.port - b.port ||
        cmp(a.sni ?? '', b.sni ?? '') ||
        (a.sni === null ? 0 : 1) - (b.sni === null ? 0 : 1),
    );

  function toEndpoint(e: Entry): TlsEndpoint {
    const leaf = latestLeaf(e);
    return {
      server: e.server,
      port: e.port,
      sni: e.sni,
      versions: [...e.versions.keys()].map(versionName).sort(cmp),
      alpn: [...e.alpn].sort(cmp),
      cipher: [...e.ciphers.keys()].map(suiteName).sort(cmp),
      certificate:
        leaf === null ? null : { ...(leaf.chain[0] as TlsCertificate), chain: leaf.chain.map((c) => c.subject) },
      connections: e.connections,
      firstSeen: isoFromUs(e.firstUs),
      lastSeen: isoFromUs(e.lastUs),
    };
  }

  function findings(): Finding[] {
    const out: Finding[] = [];
    for (const e of sorted()) {
      const host = hostOf(e);
      const where = `${e.server}:${e.port}`;
      const base = { server: e.server, port: e.port, sni: e.sni };
      const push = (
        kind: Finding['kind'],
        detail: string,
        severity: Severity,
        confidence: number,
        evidence: string,
        details: Record<string, unknown>,
        s: Seen,
      ): void => {
        out.push({
          id: findingId(kind, host, '', '', `${where}|${e.sni ?? ''}|${detail}`),
          kind,
          severity,
          host,
          method: '',
          path: '',
          confidence,
          evidence,
          details: { ...base, ...details, connections: s.connections },
          firstSeen: isoFromUs(s.firstUs),
          lastSeen: isoFromUs(s.lastUs),
        });
      };

      // weak_tls: one finding per entry listing every weak version and suite negotiated.
      const weakVersions = [...e.versions].filter(([v]) => WEAK_VERSIONS.has(v)).sort((a, b) => a[0] - b[0]);
      const weakSuites = [...e.ciphers].filter(([c]) => WEAK_SUITES.has(c)).sort((a, b) => a[0] - b[0]);
      if (weakVersions.length > 0 || weakSuites.length > 0) {
        let sev: Severity = 'info';
        for (const [v] of weakVersions) sev = maxSev(sev, v <= 0x0300 ? 'high' : 'medium');
        const reasons = new Set<WeakReason>();
        for (const [c] of weakSuites) for (const r of WEAK_SUITES.get(c) ?? []) reasons.add(r);
        for (const r of reasons) sev = maxSev(sev, WEAK_SEVERITY[r]);
        const s: Seen = { connections: 0, firstUs: Number.POSITIVE_INFINITY, lastUs: Number.NEGATIVE_INFINITY };
        for (const [, w] of [...weakVersions, ...weakSuites]) {
          s.connections = Math.max(s.connections, w.connections);
          s.firstUs = Math.min(s.firstUs, w.firstUs);
          s.lastUs = Math.max(s.lastUs, w.lastUs);
        }
        const what = [
          ...weakVersions.map(([v]) => versionName(v)),
          ...weakSuites.map(([c]) => `${suiteName(c)} (${(WEAK_SUITES.get(c) ?? []).join(', ')})`),
        ];
        push(
          'weak_tls',
          'weak',
          sev,
          0.95,
          `${where}${e.sni !== null ? ` (${e.sni})` : ''} negotiated ${what.join(', ')}`,
          {
            versions: weakVersions.map(([v, w]) => ({ version: versionName(v), connections: w.connections })),
            ciphers: weakSuites.map(([c, w]) => ({
              cipher: suiteName(c),
              id: c,
              reasons: WEAK_SUITES.get(c) ?? [],
              connections: w.connections,
            })),
          },
          s,
        );
      }

      // Certificates: each distinct leaf is judged at the last connection that presented it.
      const leaves = [...e.leaves].sort((a, b) => cmp(a[0], b[0]));
      for (const [fp, l] of leaves) {
        const c = l.chain[0] as TlsCertificate;
        const cert = {
          subject: c.subject,
          issuer: c.issuer,
          sans: c.sans,
          validFrom: c.validFrom,
          validTo: c.validTo,
          serial: c.serial,
          sha256: fp,
        };
        const to = usOf(c.validTo);
        if (to !== null && to < l.lastUs) {
          const days = Math.floor((l.lastUs - to) / DAY_US);
          push(
            'certificate_expired',
            fp,
            'high',
            0.95,
            `${where}${e.sni !== null ? ` (${e.sni})` : ''} presented a certificate for ${c.subject} that expired ${c.validTo} (${days} days before the connection)`,
            { certificate: cert, expiredDays: days },
            l,
          );
        } else if (to !== null && to - l.lastUs <= o.expiringDays * DAY_US) {
          const days = Math.floor((to - l.lastUs) / DAY_US);
          push(
            'certificate_expiring',
            fp,
            days <= 7 ? 'medium' : 'low',
            0.95,
            `${where}${e.sni !== null ? ` (${e.sni})` : ''} presented a certificate for ${c.subject} that expires ${c.validTo}, ${days} days after the last connection`,
            { certificate: cert, daysLeft: days, thresholdDays: o.expiringDays },
            l,
          );
        }
        if (e.sni !== null && !certificateCovers(e.sni, c.sans, c.subject)) {
          push(
            'certificate_name_mismatch',
            fp,
            'medium',
            0.9,
            `${where}: SNI ${e.sni} is not covered by the certificate for ${c.subject} (${c.sans.slice(0, 5).join(', ') || 'no subjectAltName'})`,
            { certificate: cert },
            l,
          );
        }
      }
    }
    const key = (f: Finding): string => `${f.host}\u0000${f.path}\u0000${f.method}\u0000${f.kind}\u0000${f.id}`;
    return out.sort((a, b) => cmp(key(a), key(b)));
  }

  return {
    observe,
    entries: () => sorted().map(toEndpoint),
    findings,
    forget(hosts) {
      const drop = new Set(hosts);
      for (const [k, e] of entries) if (drop.has(hostOf(e))) entries.delete(k);
    },
    stats: () => ({ ...counts }),
  };
}

function chainKey(chain: readonly TlsCertificate[]): string {
  return chain.map((c) => c.sha256).join(',');
}
