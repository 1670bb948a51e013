// Remediation actions (the R of discover-analyze-remediate): findings at or above a severity become
// action/v1 records (action.ts) for a signed webhook (webhook.ts) and, in the distributed mode, a
// Kafka topic (kafka.ts). The pipelines call offer() with findings as they are derived and close()
// at the end; neither waits for a receiver.
//
// "New": one action per finding id. An id is offered to a sink once per process, and not at all when
// the ledger (ledger.ts) says that sink already settled it in an earlier run. The analyzer re-derives
// a host's findings on every batch and after a restart rebuilds them from the store: the same ids,
// so nothing is sent twice by one process, and a restart resends only what was not acknowledged.
// The guarantee is at-least-once with a stable key (the finding id): receivers dedupe by `id`.
import type { Logger } from 'pino';
import type { Counters } from '../../contracts/counters.js';
import { SEVERITY_RANK, type Finding, type Severity } from '../../contracts/inventory.js';
import { toAction } from './action.js';
import type { ActionsConfig } from './config.js';
import { createKafkaActionSink } from './kafka.js';
import { openLedger, type Ledger } from './ledger.js';
import { createWebhookSink, type ActionSink } from './webhook.js';

export { ACTION_SCHEMA, Action, ACTION_PREFERENCES, SUGGESTED_ACTIONS, suggest, toAction } from './action.js';
export { ActionsConfig, WebhookSettings } from './config.js';
export { signature, signHeaders, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './sign.js';
export { ACTION_ID_HEADER, ATTEMPT_HEADER, createWebhookSink, safeUrl, type ActionSink } from './webhook.js';
export { LEDGER_FILE, openLedger, type Ledger } from './ledger.js';

/** report/v1 `actions`: what happened to the actions of a run (counts depend on the receivers). */
export interface ActionsReport {
  minSeverity: Severity;
  sinks: string[];
  /** Findings that became actions (not actioned before). */
  new: number;
  /** Actions acknowledged: by the webhook (2xx) and by Kafka. */
  delivered: number;
  /** Failed attempts that were retried. */
  retried: number;
  /** Actions that did not reach a receiver: refused, given up, dropped (queue full, exit grace). */
  undelivered: number;
  /** Every actions_* counter, zeros left out. */
  counters: Record<string, number>;
}

export interface ActionDispatcher {
  /** Offers findings: each one at or above the threshold and not actioned before becomes an action. */
  offer(findings: readonly Finding[]): void;
  /** Stops accepting, lets the sinks deliver within their grace period, reports. Never rejects. */
  close(): Promise<ActionsReport>;
}

export interface ActionsOptions {
  config: ActionsConfig;
  webhook?: { url: string; secret: Buffer };
  kafka?: { brokers: string[]; logger?: Logger };
  /** Directory of the ledger (the store directory); null: no ledger. */
  ledgerDir: string | null;
  counters: Counters;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** Most finding ids one process remembers; beyond it the oldest are forgotten (and could be resent). */
const EVALUATED_MAX = 1_000_000;

const UNDELIVERED = [
  'actions_failed_rejected',
  'actions_failed_exhausted',
  'actions_dropped_queue_full',
  'actions_dropped_on_close',
  'actions_kafka_dropped_buffer_full',
  'actions_kafka_dropped_too_large',
  'actions_kafka_dropped_closed',
  'actions_kafka_dropped_on_close',
] as const;

export function createActions(o: ActionsOptions): ActionDispatcher {
  const { counters, config } = o;
  const ledger: Ledger | null = o.ledgerDir !== null && config.ledger ? openLedger(o.ledgerDir, counters) : null;
  const settled = (sink: string) => (ledger === null ? undefined : (id: string) => ledger.add(sink, id));
  const sinks: ActionSink[] = [];
  if (o.webhook !== undefined) {
    const s = settled('webhook');
    sinks.push(
      createWebhookSink(o.webhook.url, o.webhook.secret, config.webhook, {
        counters,
        ...(o.log !== undefined ? { log: o.log } : {}),
        ...(s !== undefined ? { settled: s } : {}),
      }),
    );
  }
  if (o.kafka !== undefined) {
    const s = settled('kafka');
    sinks.push(
      createKafkaActionSink({
        brokers: o.kafka.brokers,
        topic: config.kafkaTopic,
        graceMs: config.webhook.graceMs,
        counters,
        ...(o.kafka.logger !== undefined ? { logger: o.kafka.logger } : {}),
        ...(s !== undefined ? { settled: s } : {}),
      }),
    );
  }
  const min = SEVERITY_RANK[config.minSeverity];
  /** Finding id → 'below' (seen under the threshold) or 'done' (offered to every sink). */
  const evaluated = new Map<string, 'below' | 'done'>();
  let closed = false;

  function remember(id: string, state: 'below' | 'done'): void {
    evaluated.delete(id);
    evaluated.set(id, state);
    if (evaluated.size > EVALUATED_MAX) evaluated.delete(evaluated.keys().next().value as string);
  }

  return {
    offer(findings) {
      if (closed) return;
      for (const f of findings) {
        const state = evaluated.get(f.id);
        if (state === 'done') continue;
        if (SEVERITY_RANK[f.severity] < min) {
          if (state === undefined) {
            counters.inc('actions_below_threshold');
            remember(f.id, 'below');
          }
          continue;
        }
        let body: string | null = null;
        for (const sink of sinks) {
          if (ledger?.has(sink.name, f.id) === true) continue;
          body ??= JSON.stringify(toAction(f));
          sink.offer(f.id, body);
        }
        counters.inc(body !== null ? 'actions_new' : 'actions_repeated');
        remember(f.id, 'done');
      }
    },
    async close() {
      closed = true;
      await Promise.all(sinks.map((s) => s.close()));
      const all = counters.snapshot();
      const mine: Record<string, number> = {};
      for (const [k, v] of Object.entries(all)) if (k.startsWith('actions_')) mine[k] = v;
      return {
        minSeverity: config.minSeverity,
        sinks: sinks.map((s) => s.name),
        new: counters.get('actions_new'),
        delivered: counters.get('actions_sent') + counters.get('actions_kafka_published'),
        retried: counters.get('actions_retried'),
        undelivered: UNDELIVERED.reduce((a, k) => a + counters.get(k), 0),
        counters: mine,
      };
    },
  };
}
