// One endpoint (host, method, template) with everything findings need beside its public record.
import type { EndpointPii, EndpointRecord } from '../../engine/contracts/inventory.js';
import { isoFromUs } from '../../engine/contracts/inventory.js';
import type { PiiFieldResult } from '../pii/types.js';
import type { OpMatch } from '../spec/match.js';
import type { LeafStats } from './stats.js';
import { percentileMs, protocolOf } from './stats.js';
import type { TemplateSeg } from './tree.js';
import { templateString } from './tree.js';

export const MAX_EXPLAIN = 32;

export interface EndpointAggregate {
  record: EndpointRecord;
  stats: LeafStats;
  tpl: TemplateSeg[];
  /** Operation of a current spec this endpoint matches, if any. */
  match: OpMatch | null;
  /** Operation of a previous spec it matches, if any. */
  previousMatch: OpMatch | null;
  /** PII fields that passed aggregation, path[i] renamed to the template's parameter names. */
  pii: PiiFieldResult[];
}

/** The record's view of an endpoint's PII fields. */
export function endpointPii(pii: readonly PiiFieldResult[]): EndpointPii[] {
  return pii.map((p) => ({ kind: p.kind, location: p.location, field: p.field }));
}

/** Rename `path[i]` fields to `{name}` when segment i of the template is a parameter. */
export function renamePathField(field: string, tpl: readonly TemplateSeg[]): string {
  if (!field.startsWith('path[')) return field; // most fields: no regexp run
  const m = /^path\[(\d+)\]$/.exec(field);
  if (!m) return field;
  const seg = tpl[Number(m[1])];
  return seg?.param ? `{${seg.text}}` : field;
}

/** Majority category; 'api' whenever any exchange was API traffic (never hide API calls). */
function categoryOf(s: LeafStats): EndpointRecord['category'] {
  if ((s.categories.get('api') ?? 0) > 0 || s.categories.size === 0) return 'api';
  let best: EndpointRecord['category'] = 'api';
  let n = -1;
  for (const [k, v] of [...s.categories].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (v > n) {
      n = v;
      best = k as EndpointRecord['category'];
    }
  }
  return best;
}

function versionlessNote(m: OpMatch): string {
  const bases = m.entry.op.versionBases.join(',');
  return `optional version base: ${m.entry.spec.name} declares base ${bases}; this host also served ${bases}, so the unversioned path counts as the current version (risk: an unversioned legacy API with the same paths would hide here)`;
}

export function buildRecord(
  host: string,
  method: string,
  tpl: TemplateSeg[],
  s: LeafStats,
  explain: string[],
  match: OpMatch | null,
  previousMatch: OpMatch | null,
  pii: PiiFieldResult[],
): EndpointAggregate {
  const ex = [...explain];
  if (match) {
    const e = match.entry;
    ex.push(
      `documented: ${e.spec.name} ${e.op.method} ${e.paths[match.variant] ?? e.op.path}${match.viaGet ? ' (HEAD via GET)' : ''}${e.op.deprecated ? ' deprecated' : ''}`,
    );
    if (match.versionless) ex.push(versionlessNote(match));
  } else if (previousMatch) {
    const e = previousMatch.entry;
    ex.push(`previous spec only: ${e.spec.name} ${e.op.method} ${e.paths[previousMatch.variant] ?? e.op.path}`);
    if (previousMatch.versionless) ex.push(versionlessNote(previousMatch));
  }
  const uniq = [...new Set(ex)];
  if (uniq.length > MAX_EXPLAIN) uniq.length = MAX_EXPLAIN;
  const statusClasses: Record<string, number> = {};
  for (const k of [...s.statusClasses.keys()].sort()) statusClasses[k] = s.statusClasses.get(k) ?? 0;
  const record: EndpointRecord = {
    host,
    method,
    path: templateString(tpl),
    hits: s.hits,
    documented: match !== null,
    deprecated: match?.entry.op.deprecated ?? false,
    auth: [...s.auth].sort(),
    pii: endpointPii(pii),
    firstSeen: isoFromUs(Number.isFinite(s.firstUs) ? s.firstUs : 0),
    lastSeen: isoFromUs(Number.isFinite(s.lastUs) ? s.lastUs : 0),
    statusClasses,
    latencyP50Ms: percentileMs(s, 50),
    latencyP95Ms: percentileMs(s, 95),
    contentTypes: s.contentTypes.values(),
    queryParams: s.queryParams.values(),
    fields: s.fields.values(),
    category: categoryOf(s),
    explain: uniq,
    vnis: [...s.vnis].sort((a, b) => a - b),
    protocol: protocolOf(s),
  };
  return { record, stats: s, tpl, match, previousMatch, pii };
}
