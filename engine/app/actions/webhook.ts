// The webhook sink: POSTs each action/v1 body to one URL, signed (sign.ts), retried, bounded.
//
// Contract:
// - offer() never blocks and never throws: the action is queued, or dropped and counted
//   (actions_dropped_queue_full). The pipeline never waits for a receiver.
// - Delivery is at-least-once with a stable key: an attempt whose answer is lost (reset after the
//   receiver read the body, timeout) is retried with the same body and the same id, so a receiver
//   dedupes by `id` (also sent as Idempotency-Key).
// - Retryable: no answer (network, timeout), 408, 425, 429, 5xx; exponential backoff from
//   retryBaseMs doubling to retryMaxMs with full jitter (bus/types.ts backoffMs), at least the
//   answer's Retry-After seconds (capped at retryMaxMs). Permanent: any other non-2xx answer
//   (actions_failed_rejected), or webhook.maxAttempts attempts (actions_failed_exhausted).
// - Each action has its own schedule; up to `concurrency` requests are in flight, so one action the
//   receiver keeps failing does not hold the others back.
// - close() stops accepting, keeps delivering for graceMs, then aborts what is in flight and counts
//   every action not acknowledged (actions_dropped_on_close).
// Timing here is I/O, not analysis: the jitter is Math.random, the timestamps are the wall clock.
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Counters } from '../../contracts/counters.js';
import { backoffMs } from '../../adapters/bus/types.js';
import { ACTION_SCHEMA } from './action.js';
import type { WebhookSettings } from './config.js';
import { signHeaders } from './sign.js';

export const ACTION_ID_HEADER = 'x-apitap-action-id' as const;
export const ATTEMPT_HEADER = 'x-apitap-attempt' as const;

/** Where actions go: the webhook, or Kafka (kafka.ts). */
export interface ActionSink {
  readonly name: string;
  /** Queues one action (its serialised body). False when dropped (counted). Never throws. */
  offer(id: string, body: string): boolean;
  /** Actions accepted and not yet acknowledged. */
  pending(): number;
  /** Stops accepting, delivers for the grace period, counts the rest as dropped. Never rejects. */
  close(): Promise<void>;
}

export interface SinkDeps {
  counters: Counters;
  /** Lifecycle messages only (first failure of a streak, recovery, close): never a payload. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Called once per action the receiver acknowledged (2xx) or refused for good (ledger.ts). */
  settled?: (id: string) => void;
  /** Jitter source (tests). Default Math.random. */
  random?: () => number;
}

interface Item {
  id: string;
  body: string;
  attempts: number;
  dueAt: number;
}

type Outcome =
  | { t: 'ok' }
  | { t: 'status'; status: number; retryAfterMs: number | null }
  | { t: 'network'; code: string }
  | { t: 'timeout' }
  | { t: 'aborted' }
  /** The request could not be built (a header value Node refuses): permanent. */
  | { t: 'invalid' };

const RETRYABLE_STATUS = new Set([408, 425, 429]);
const USER_AGENT = 'apitap-actions/1';

/** The URL with its user info and query left out, for logs. */
export function safeUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date. */
function retryAfterMs(v: string | string[] | undefined, now: number): number | null {
  if (typeof v !== 'string') return null;
  if (/^\d{1,9}$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export function createWebhookSink(url: string, secret: Buffer, cfg: WebhookSettings, deps: SinkDeps): ActionSink {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new Error(`--actions-webhook: expected an http:// or https:// URL, got ${target.protocol}`);
  const tls = target.protocol === 'https:';
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: cfg.concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: cfg.concurrency });
  const send = tls ? httpsRequest : httpRequest;
  const { counters } = deps;
  const random = deps.random ?? Math.random;

  const queue: Item[] = [];
  const inflight = new Map<Item, (why: 'aborted') => void>();
  let closed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let failing = 0;
  let refusalLogged = false;
  let idle: (() => void) | null = null;

  const pendingCount = (): number => queue.length + inflight.size;

  function post(item: Item): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (o: Outcome): void => {
        if (done) return;
        done = true;
        clearTimeout(t);
        inflight.delete(item);
        resolve(o);
      };
      const headers = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(item.body)),
        'user-agent': USER_AGENT,
        'x-apitap-schema': ACTION_SCHEMA,
        [ACTION_ID_HEADER]: item.id,
        'idempotency-key': item.id,
        [ATTEMPT_HEADER]: String(item.attempts),
        ...signHeaders(secret, item.body, Date.now()),
      };
      let req: ReturnType<typeof send>;
      try {
        req = send(target, { method: 'POST', headers, agent }, onResponse);
      } catch {
        resolve({ t: 'invalid' });
        return;
      }
      function onResponse(res: IncomingMessage): void {
        const status = res.statusCode ?? 0;
        const ra = retryAfterMs(res.headers['retry-after'], Date.now());
        res.resume(); // the answer's body is not read: drain it so the connection can be reused
        res.on('end', () =>
          finish(status >= 200 && status < 300 ? { t: 'ok' } : { t: 'status', status, retryAfterMs: ra }),
        );
        res.on('error', () => finish({ t: 'network', code: 'response' }));
      }
      const t = setTimeout(() => {
        finish({ t: 'timeout' });
        req.destroy();
      }, cfg.timeoutMs);
      req.on('error', (e: Error & { code?: string }) => finish({ t: 'network', code: e.code ?? 'error' }));
      inflight.set(item, () => {
        finish({ t: 'aborted' });
        req.destroy();
      });
      req.end(item.body);
    });
  }

  function schedule(): void {
    if (stopped) return;
    const now = Date.now();
    while (inflight.size < cfg.concurrency) {
      let idx = -1;
      for (let i = 0; i < queue.length; i++) {
        if ((queue[i] as Item).dueAt <= now) {
          idx = i;
          break;
        }
      }
      if (idx < 0) break;
      const [item] = queue.splice(idx, 1);
      void attempt(item as Item);
    }
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (queue.length > 0 && inflight.size < cfg.concurrency) {
      let next = Infinity;
      for (const i of queue) if (i.dueAt < next) next = i.dueAt;
      timer = setTimeout(schedule, Math.max(0, next - now));
    }
    if (pendingCount() === 0 && idle !== null) idle();
  }

  async function attempt(item: Item): Promise<void> {
    item.attempts++;
    const o = await post(item);
    if (o.t === 'aborted') {
      counters.inc('actions_dropped_on_close');
      return;
    }
    if (o.t === 'ok') {
      counters.inc('actions_sent');
      if (failing > 0) deps.log?.('actions webhook recovered', { failedAttempts: failing });
      failing = 0;
      deps.settled?.(item.id);
    } else if (o.t === 'invalid' || (o.t === 'status' && o.status < 500 && !RETRYABLE_STATUS.has(o.status))) {
      counters.inc('actions_failed_rejected');
      if (!refusalLogged)
        deps.log?.('actions webhook refused an action (not retried; further refusals only counted)', {
          status: o.t === 'status' ? o.status : 'invalid_request',
        });
      refusalLogged = true;
      deps.settled?.(item.id);
    } else {
      failing++;
      if (failing === 1) {
        const why =
          o.t === 'status' ? { status: o.status } : o.t === 'network' ? { error: o.code } : { error: 'timeout' };
        deps.log?.('actions webhook delivery failing; retrying', { url: safeUrl(target), ...why });
      }
      if (cfg.maxAttempts > 0 && item.attempts >= cfg.maxAttempts) {
        counters.inc('actions_failed_exhausted');
      } else {
        counters.inc('actions_retried');
        counters.inc(
          o.t === 'status'
            ? 'actions_retry_status'
            : o.t === 'timeout'
              ? 'actions_retry_timeout'
              : 'actions_retry_network',
        );
        const delay = Math.max(
          backoffMs(item.attempts - 1, cfg.retryBaseMs, cfg.retryMaxMs, random),
          o.t === 'status' && o.retryAfterMs !== null ? Math.min(o.retryAfterMs, cfg.retryMaxMs) : 0,
        );
        item.dueAt = Date.now() + delay;
        queue.push(item);
      }
    }
    schedule();
  }

  return {
    name: 'webhook',
    offer(id, body) {
      if (closed || pendingCount() >= cfg.queueMax) {
        counters.inc(closed ? 'actions_dropped_on_close' : 'actions_dropped_queue_full');
        return false;
      }
      queue.push({ id, body, attempts: 0, dueAt: 0 });
      counters.max('actions_queue_peak', pendingCount());
      schedule();
      return true;
    },
    pending: pendingCount,
    async close() {
      if (closed) return;
      closed = true;
      if (pendingCount() > 0) {
        await new Promise<void>((resolve) => {
          const grace = setTimeout(resolve, cfg.graceMs);
          idle = () => {
            clearTimeout(grace);
            resolve();
          };
          schedule();
        });
      }
      idle = null;
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      const left = queue.length;
      queue.length = 0;
      if (left > 0) counters.inc('actions_dropped_on_close', left);
      const aborted = inflight.size;
      for (const abort of [...inflight.values()]) abort('aborted');
      if (left + aborted > 0)
        deps.log?.('actions webhook closed with undelivered actions', { undelivered: left + aborted });
      agent.destroy();
    },
  };
}
