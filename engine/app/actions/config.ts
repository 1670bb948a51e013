// Settings of remediation actions (`actions` in --config; `apitap config` lists them). The receiver
// (--actions-webhook URL) and the secret (APITAP_WEBHOOK_SECRET) are not here: a URL is per command
// line, a secret only ever comes from the environment.
import { z } from 'zod';
import { Severity } from '../../contracts/inventory.js';

const ms = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

export const WebhookSettings = z
  .object({
    timeoutMs: ms(1, 600_000).default(10_000).describe('one delivery attempt: connect, send and answer'),
    retryBaseMs: ms(1, 600_000)
      .default(500)
      .describe('first retry delay; doubles per attempt up to retryMaxMs (random jitter in between)'),
    retryMaxMs: ms(1, 3_600_000).default(30_000).describe('longest delay between two attempts of one action'),
    maxAttempts: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe('attempts per action before it is given up (actions_failed_exhausted); 0 = until delivered'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('requests in flight at once'),
    queueMax: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('actions waiting for delivery; a new one beyond it is dropped (actions_dropped_queue_full)'),
    graceMs: ms(0, 3_600_000)
      .default(10_000)
      .describe('at exit: how long undelivered actions keep being retried before they are counted as dropped'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.retryBaseMs > c.retryMaxMs)
      ctx.addIssue({ code: 'custom', path: ['retryBaseMs'], message: 'must not exceed retryMaxMs' });
  });
export type WebhookSettings = z.output<typeof WebhookSettings>;

export const ActionsConfig = z
  .object({
    minSeverity: Severity.default('high').describe(
      'findings at or above this severity become actions (--actions-min-severity)',
    ),
    webhook: WebhookSettings.default(WebhookSettings.parse({})),
    kafkaTopic: z
      .string()
      .min(1)
      .max(249)
      .regex(/^[a-zA-Z0-9._-]+$/, 'a Kafka topic name is made of [a-zA-Z0-9._-]')
      .default('apitap.actions')
      .describe('analyze: Kafka topic of action/v1 records (key = finding id)'),
    ledger: z
      .boolean()
      .default(true)
      .describe(
        'remember delivered action ids in the store directory (actions.ledger) so a restart does not resend them',
      ),
  })
  .strict();
export type ActionsConfig = z.output<typeof ActionsConfig>;
