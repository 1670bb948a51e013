// Human and machine renderings of reports: table (default), json, sarif.
import {
  isoFromUs,
  SEVERITY_RANK,
  type EndpointRecord,
  type Finding,
  type Severity,
} from '../../contracts/inventory.js';
import { notAnalysedSummary, type Report } from '../pipelines/report.js';
import type { TlsEndpoint } from '../../contracts/tls.js';
import type { ActorRow } from '../../adapters/store/types.js';

export function table(rows: readonly (readonly string[])[], header: readonly string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function endpointsTable(eps: readonly EndpointRecord[]): string {
  if (eps.length === 0) return 'no endpoints\n';
  return table(
    eps.map((e) => [
      e.host,
      e.method,
      e.path,
      String(e.hits),
      e.documented ? (e.deprecated ? 'deprecated' : 'yes') : 'no',
      e.auth.join(',') || '-',
      [...new Set(e.pii.map((p) => p.kind))].join(',') || '-',
      e.category,
    ]),
    ['HOST', 'METHOD', 'PATH', 'HITS', 'DOCUMENTED', 'AUTH', 'PII', 'CATEGORY'],
  );
}

export function findingsTable(fs: readonly Finding[]): string {
  if (fs.length === 0) return 'no findings\n';
  // Most severe first for reading; the stable sort keeps the deterministic order within a severity.
  const sorted = [...fs].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  return table(
    sorted.map((f) => [
      f.severity,
      f.kind,
      f.host,
      f.method,
      f.path,
      f.confidence.toFixed(2),
      f.evidence.length > 90 ? f.evidence.slice(0, 87) + '...' : f.evidence,
    ]),
    ['SEVERITY', 'KIND', 'HOST', 'METHOD', 'PATH', 'CONF', 'EVIDENCE'],
  );
}

export function tlsTable(rows: readonly TlsEndpoint[]): string {
  if (rows.length === 0) return 'no TLS hosts\n';
  return table(
    rows.map((t) => {
      const c = t.certificate;
      return [
        `${t.server}:${t.port}`,
        t.sni ?? '-',
        t.versions.join(',') || '-',
        t.alpn.join(',') || '-',
        t.cipher.join(',') || '-',
        c === null ? '-' : c.subject,
        c === null ? '-' : c.validTo,
        String(t.connections),
      ];
    }),
    ['SERVER', 'SNI', 'VERSIONS', 'ALPN', 'CIPHER', 'CERTIFICATE', 'VALID TO', 'CONNS'],
  );
}

export function reportTable(r: Report): string {
  const c = r.capture;
  let out = `capture: ${c.files} file(s), ${c.packets} packets, ${c.bytes} bytes, ${c.seconds} s of traffic\n`;
  out += `flows: ${c.flows}  requests: ${c.requests}  responses: ${c.responses}  paired exchanges: ${c.exchanges}\n`;
  const skipped = notAnalysedSummary(c);
  if (skipped !== null) out += skipped + '\n';
  const an = Object.entries(c.anomalies);
  out +=
    an.length === 0
      ? 'anomalies: none\n'
      : 'anomalies:\n' + an.map(([k, v]) => `  ${k.padEnd(36)} ${v}`).join('\n') + '\n';
  if (r.endpoints !== undefined) out += `\nendpoints (${r.endpoints.length}):\n` + endpointsTable(r.endpoints);
  if (r.findings !== undefined) out += `\nfindings (${r.findings.length}):\n` + findingsTable(r.findings);
  if (r.tls !== undefined && r.tls.length > 0) out += `\nTLS hosts (${r.tls.length}):\n` + tlsTable(r.tls);
  return out;
}

const SARIF_LEVEL: Record<Severity, string> = {
  info: 'note',
  low: 'note',
  medium: 'warning',
  high: 'error',
  critical: 'error',
};

/** SARIF 2.1.0 for code-scanning tools: one rule per finding kind, one result per finding. */
export function sarif(findings: readonly Finding[], version: string): object {
  const kinds = [...new Set(findings.map((f) => f.kind))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'apitap',
            version,
            informationUri: 'https://github.com/apitap/apitap',
            rules: kinds.map((k) => ({ id: k, name: k, shortDescription: { text: k.replace(/_/g, ' ') } })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.kind,
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.method} ${f.host}${f.path}: ${f.evidence}` },
          partialFingerprints: { apitapFindingId: f.id },
          locations: [
            {
              physicalLocation: { artifactLocation: { uri: `http://${f.host}${f.path}` } },
              logicalLocations: [{ name: `${f.method} ${f.path}`, kind: 'member' }],
            },
          ],
          properties: { severity: f.severity, confidence: f.confidence, host: f.host, method: f.method, path: f.path },
        })),
      },
    ],
  };
}

/** `apitap actors --format json`: report/v1 ActorRecord fields plus what the store keeps beside them. */
export function actorJson(a: ActorRow): Record<string, unknown> {
  return {
    id: a.id,
    ip: a.ip,
    principal: a.principal,
    principalKind: a.principalKind,
    requests: a.requests,
    endpoints: a.endpoints,
    errors: { '4xx': a.errors4xx, '5xx': a.errors5xx },
    firstSeen: isoFromUs(a.firstUs),
    lastSeen: isoFromUs(a.lastUs),
    piiValues: a.piiValues,
    principalHash: a.principalHash,
  };
}

export function actorsTable(rows: readonly ActorRow[]): string {
  if (rows.length === 0) return 'no actors\n';
  return table(
    rows.map((a) => [
      a.id,
      a.ip,
      a.principal ?? '-',
      a.principalKind ?? '-',
      String(a.requests),
      String(a.endpoints),
      String(a.errors4xx),
      String(a.errors5xx),
      String(a.piiValues),
      isoFromUs(a.firstUs).slice(0, 19),
      isoFromUs(a.lastUs).slice(0, 19),
    ]),
    ['ID', 'IP', 'PRINCIPAL', 'KIND', 'REQUESTS', 'ENDPOINTS', '4XX', '5XX', 'PII', 'FIRST SEEN', 'LAST SEEN'],
  );
}
