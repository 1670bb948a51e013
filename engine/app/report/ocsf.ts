// finding/v1 → OCSF 1.5.0 events (`--format ocsf`: one JSON object per finding per line), for SIEMs and
// data lakes that ingest the Open Cybersecurity Schema Framework.
//
// Class per finding family (guidance.ts): personal data and secrets → Data Security Finding (2006);
// inventory (shadow, zombie, orphan) and auth posture → Application Security Posture Finding (2007),
// with the OWASP API Top 10 (2023) category as `compliance` and the advice as `remediation`;
// behaviour findings, and kinds this build does not know, → Detection Finding (2004).
// Deterministic: `time` is packet time (the finding's last sighting), never the wall clock, so the same
// capture gives the same events; `finding_info.uid` is the finding's stable id, so a SIEM deduplicates
// replays. Activity is always Create (1): apitap reports the current state of a finding.
// The schema the tests validate against: test/schemas/ocsf-1.5.0/ (README there gives the sources).
import type { Finding, Severity } from '../../contracts/inventory.js';
import { OWASP_API_2023, guideFor, type FindingFamily } from './guidance.js';

export const OCSF_VERSION = '1.5.0';

const CLASSES = {
  detection: { uid: 2004, name: 'Detection Finding' },
  data: { uid: 2006, name: 'Data Security Finding' },
  posture: { uid: 2007, name: 'Application Security Posture Finding' },
} as const;

const CLASS_OF_FAMILY: Record<FindingFamily, keyof typeof CLASSES> = {
  data: 'data',
  inventory: 'posture',
  auth: 'posture',
  behaviour: 'detection',
};

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const SEVERITY_ID: Record<Severity, [number, string]> = {
  info: [1, 'Informational'],
  low: [2, 'Low'],
  medium: [3, 'Medium'],
  high: [4, 'High'],
  critical: [5, 'Critical'],
};

const ms = (iso: string | null | undefined): number | null => {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
};

/** Packet time the finding refers to: last sighting, else first, else the end of the observation window (orphans). */
function eventTime(f: Finding): number {
  const w = f.details['window'];
  const windowLast =
    w !== null && typeof w === 'object' && 'last' in w ? ms((w as { last?: unknown }).last as string) : null;
  return ms(f.lastSeen) ?? ms(f.firstSeen) ?? windowLast ?? 0;
}

export function toOcsf(f: Finding, productVersion: string): Record<string, unknown> {
  const guide = guideFor(f.kind);
  const cls = CLASSES[guide === null ? 'detection' : CLASS_OF_FAMILY[guide.family]];
  const [severityId, severity] = SEVERITY_ID[f.severity];
  const first = ms(f.firstSeen);
  const last = ms(f.lastSeen);
  const endpoint = `${f.method} ${f.host}${f.path}`;
  const ev: Record<string, unknown> = {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: cls.uid,
    class_name: cls.name,
    type_uid: cls.uid * 100 + 1,
    type_name: `${cls.name}: Create`,
    severity_id: severityId,
    severity,
    time: eventTime(f),
    ...(first !== null ? { start_time: first } : {}),
    ...(last !== null ? { end_time: last } : {}),
    message: f.evidence,
    status_id: 1,
    status: 'New',
    confidence_score: Math.round(f.confidence * 100),
    confidence_id: f.confidence >= 0.8 ? 3 : f.confidence >= 0.5 ? 2 : 1,
    confidence: f.confidence >= 0.8 ? 'High' : f.confidence >= 0.5 ? 'Medium' : 'Low',
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'apitap', vendor_name: 'apitap', version: productVersion },
      uid: f.id,
      log_name: 'findings',
    },
    finding_info: {
      uid: f.id,
      title: `${guide?.title ?? f.kind}: ${endpoint}`,
      desc: f.evidence,
      types: guide === null ? [f.kind] : [f.kind, guide.owasp],
      analytic: { name: f.kind, uid: f.kind, type_id: 1, type: 'Rule' },
      ...(first !== null ? { first_seen_time: first } : {}),
      ...(last !== null ? { last_seen_time: last } : {}),
    },
    resources: [
      {
        type: 'API Endpoint',
        uid: `${f.host} ${f.method} ${f.path}`,
        name: `${f.method} ${f.path}`,
        hostname: f.host,
        data: { host: f.host, method: f.method, path: f.path },
      },
    ],
    unmapped: { apitap: { kind: f.kind, confidence: f.confidence, details: f.details } },
  };
  const remediation = guide === null ? null : { desc: guide.remediation.map((s, i) => `${i + 1}. ${s}`).join(' ') };
  if (cls.uid === CLASSES.posture.uid && guide !== null) {
    ev['compliance'] = {
      standards: ['OWASP API Security Top 10 2023'],
      control: `${guide.owasp} ${OWASP_API_2023[guide.owasp]}`,
      requirements: guide.related.map((r) => `${r} ${OWASP_API_2023[r]}`),
      status_id: 3,
      status: 'Fail',
    };
    ev['remediation'] = remediation;
  } else if (cls.uid === CLASSES.data.uid) {
    const kinds = f.details['kinds'];
    ev['is_alert'] = f.severity !== 'info';
    ev['data_security'] = {
      data_lifecycle_state_id: 2,
      data_lifecycle_state: 'Data in-Transit',
      detection_system_id: 99,
      detection_system: 'API traffic analysis',
      detection_pattern: Array.isArray(kinds) ? kinds.map(String).join(',') : f.kind,
    };
    ev['dst_endpoint'] = { hostname: f.host };
  } else {
    ev['is_alert'] = f.severity !== 'info';
    if (remediation !== null) ev['remediation'] = remediation;
  }
  return ev;
}

/** JSON Lines: one OCSF event per finding, in the findings' order. */
export function ocsfLines(findings: readonly Finding[], productVersion: string): string {
  return findings.map((f) => JSON.stringify(toOcsf(f, productVersion)) + '\n').join('');
}
