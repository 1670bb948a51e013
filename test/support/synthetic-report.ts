// A large, deterministic report/v1 for rendering tests: N endpoints over many hosts with a mix of
// documented / shadow / deprecated routes, PII on some, auth schemes, and findings of every kind.
import {
  FINDING_KINDS,
  PII_KINDS,
  SEVERITIES,
  isoFromUs,
  type EndpointRecord,
  type Finding,
} from '../../engine/contracts/inventory.js';
import type { Report } from '../../engine/app/pipelines/report.js';
import { TrafficAccumulator } from '../../engine/app/report/traffic.js';

/** xorshift32: the same seed gives the same report. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export function syntheticReport(endpointCount: number, seed = 7): Report {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const t0 = Date.UTC(2026, 10, 23, 6, 0, 0) * 1000;
  const hours = 6;
  const endpoints: EndpointRecord[] = [];
  const findings: Finding[] = [];
  const traffic = new TrafficAccumulator();
  const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
  const words = ['users', 'orders', 'accounts', 'items', 'invoices', 'payments', 'reports', 'sessions', 'carts'];
  for (let i = 0; i < endpointCount; i++) {
    const host = `svc-${i % 97}.internal.example`;
    const method = pick(methods);
    const path = `/api/v${1 + (i % 3)}/${pick(words)}-${i}/{id}/${pick(words)}`;
    const documented = r() < 0.7;
    const deprecated = documented && r() < 0.05;
    const auth =
      r() < 0.15 ? ['none'] : r() < 0.1 ? ['bearer', 'none'] : [pick(['bearer', 'jwt', 'api_key_header', 'cookie'])];
    const pii =
      r() < 0.3
        ? [0, 1, 2].map(() => ({
            kind: pick(PII_KINDS),
            location: pick(['request.body', 'response.body', 'request.query', 'response.header'] as const),
            field: `$.${pick(words)}.${pick(['email', 'phone', 'iban', 'name'])}`,
          }))
        : [];
    const first = t0 + Math.floor(r() * hours * 3600e6);
    const last = first + Math.floor(r() * 600e6);
    const hits = 1 + Math.floor(r() * 500);
    for (let k = 0; k < Math.min(hits, 5); k++)
      traffic.add(first + Math.floor(((last - first) * k) / 5), r() < 0.05 ? 500 : r() < 0.1 ? 404 : 200);
    endpoints.push({
      host,
      method,
      path,
      hits,
      documented,
      deprecated,
      auth,
      pii,
      firstSeen: isoFromUs(first),
      lastSeen: isoFromUs(last),
      statusClasses: { '2xx': hits - 1, '4xx': 1 },
      latencyP50Ms: Math.round(r() * 5000) / 100,
      latencyP95Ms: Math.round(r() * 20000) / 100,
      contentTypes: ['application/json'],
      queryParams: [],
      fields: [],
      category: i % 50 === 0 ? 'health' : 'api',
      explain: [],
      vnis: [],
      protocol: 'http',
    });
    if (!documented || deprecated || pii.length > 0 || auth.includes('none')) {
      const kind = !documented
        ? 'shadow_api'
        : deprecated
          ? 'zombie_api'
          : pii.length > 0
            ? 'pii_exposure'
            : pick(FINDING_KINDS);
      findings.push({
        id: `f${i.toString(16).padStart(8, '0')}`,
        kind,
        severity: pick(SEVERITIES),
        host,
        method,
        path,
        confidence: Math.round(r() * 100) / 100,
        evidence: `${method} ${path} on ${host}: synthetic ${kind} evidence number ${i}`,
        details: { n: i, fields: pii.map((p) => p.field) },
        firstSeen: isoFromUs(first),
        lastSeen: isoFromUs(last),
      });
    }
  }
  const t = traffic.series();
  return {
    schema: 'report/v1',
    capture: {
      files: 3,
      packets: endpointCount * 40,
      bytes: endpointCount * 40 * 700,
      flows: endpointCount * 2,
      requests: endpointCount * 10,
      responses: endpointCount * 10,
      exchanges: endpointCount * 10,
      anomalies: { tcp_gap: 12, http_resync: 3 },
      notAnalysed: {},
      seconds: hours * 3600,
    },
    endpoints,
    findings,
    traffic: t,
  };
}
