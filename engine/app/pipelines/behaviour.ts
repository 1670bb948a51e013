// Behaviour detection where all of an actor's traffic meets (analyzers/actors/detect.ts).
//
// An actor's traffic spans API hosts, and the analysis is sharded by host (replay threads, Kafka
// partitions of the analyzer group). So the detectors never run inside a shard: every shard emits
// compact per-exchange actor events (analyzers/actors/event.ts), and the detectors run once over the
// union of the events, each resolved to its endpoint's final template through the path mappings
// (analysis.pathMap(), or the store's endpoint_paths):
// - replay (one thread): at finish, over the analysis' own events;
// - replay --workers N: in main, over the events merged from the shards (byte-identical for any N:
//   the detectors sort by packet time and exchange id, and their output is a function of the set);
// - apitap analyze (group): a periodic job over the store's exchange rows (actor columns) and
//   endpoint_paths, run by every member (idempotent writes: same rows → same ids and rows).
import type { ActorEvent } from '../../../analyzers/actors/event.js';
import { detectBehaviour, resolverOf, type ActorSummary } from '../../../analyzers/actors/detect.js';
import type { ActorRecord, Finding } from '../../contracts/inventory.js';
import { isoFromUs } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import type { PathMapRow } from '../../adapters/store/types.js';
import type { ActorSettings } from '../config/index.js';
import { isReported, type CounterName } from '../../contracts/catalogue.js';
import type { CaptureReport } from './report.js';

export interface BehaviourOutput {
  findings: Finding[];
  /** Every actor, sorted by requests (desc), then id (the store's actors table). */
  actors: ActorSummary[];
}

export function runBehaviour(
  events: ActorEvent[],
  pathMap: readonly PathMapRow[],
  settings: ActorSettings,
  counters: Counters,
): BehaviourOutput {
  const r = detectBehaviour(events, resolverOf(pathMap), settings);
  counters.inc('actors_behaviour_runs');
  if (r.capped > 0) counters.inc('actors_detector_capped', r.capped);
  return { findings: r.findings, actors: r.actors };
}

/** report/v1 `actors`: the `top` most active actors (the rest counted as actors_report_truncated). */
export function reportActors(actors: readonly ActorSummary[], top: number, counters: Counters): ActorRecord[] {
  counters.inc('actors_seen', actors.length);
  if (actors.length > top) counters.inc('actors_report_truncated', actors.length - top);
  return actors.slice(0, top).map((a) => ({
    id: a.id,
    ip: a.ip,
    principal: a.principal,
    principalKind: a.principalKind,
    requests: a.requests,
    endpoints: a.endpoints,
    errors: { '4xx': a.errors4xx, '5xx': a.errors5xx },
    firstSeen: isoFromUs(a.firstUs),
    lastSeen: isoFromUs(a.lastUs),
  }));
}

/**
 * Adds the behaviour detection's drops (counted after the capture report was built: the detectors
 * run at the end) to the report's `capture.anomalies`.
 */
export function foldBehaviourDrops(capture: CaptureReport, counters: Counters): void {
  for (const k of ['actors_detector_capped', 'actors_report_truncated'] as const satisfies readonly CounterName[]) {
    const v = counters.get(k);
    if (v > 0 && isReported(k)) capture.anomalies[k] = (capture.anomalies[k] ?? 0) + v;
  }
}
