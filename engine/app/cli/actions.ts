// The command-line side of remediation actions (engine/app/actions): --actions-webhook and
// --actions-min-severity on `replay` and `analyze`, the secret from APITAP_WEBHOOK_SECRET.
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { SEVERITIES, type Severity } from '../../contracts/inventory.js';
import type { Counters } from '../../contracts/counters.js';
import { createActions, type ActionDispatcher } from '../actions/index.js';
import type { ActionsConfig } from '../actions/config.js';

export const WEBHOOK_SECRET_ENV = 'APITAP_WEBHOOK_SECRET';

export interface ActionFlags {
  actionsWebhook?: string;
  actionsMinSeverity?: Severity;
}

export const actionFlagOptions = (c: Command): Command =>
  c
    .option(
      '--actions-webhook <url>',
      `POST one signed action/v1 per new finding at or above --actions-min-severity (key: ${WEBHOOK_SECRET_ENV})`,
    )
    .addOption(
      new Option('--actions-min-severity <severity>', 'lowest severity that becomes an action (default high)').choices(
        SEVERITIES,
      ),
    );

export interface ActionsWiring {
  config: ActionsConfig;
  fail: (code: number, message: string) => never;
  /** The store directory (the ledger lives there), or null for none. */
  ledgerDir: string | null;
  counters: Counters;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** analyze: also publish to Kafka (config.kafkaTopic). */
  kafka?: { brokers: string[]; logger?: Logger };
  env?: NodeJS.ProcessEnv;
}

/** The dispatcher these flags ask for, or null when no sink is configured (exit 2 on a bad value). */
export function actionsFromFlags(flags: ActionFlags, w: ActionsWiring): ActionDispatcher | null {
  const config: ActionsConfig = {
    ...w.config,
    ...(flags.actionsMinSeverity !== undefined ? { minSeverity: flags.actionsMinSeverity } : {}),
  };
  let webhook: { url: string; secret: Buffer } | undefined;
  if (flags.actionsWebhook !== undefined) {
    let url: URL;
    try {
      url = new URL(flags.actionsWebhook);
    } catch {
      w.fail(2, `--actions-webhook: not a URL: ${JSON.stringify(flags.actionsWebhook)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      w.fail(2, `--actions-webhook: expected an http:// or https:// URL, got ${url.protocol}`);
    const secret = (w.env ?? process.env)[WEBHOOK_SECRET_ENV];
    if (secret === undefined || secret === '')
      w.fail(2, `--actions-webhook: set ${WEBHOOK_SECRET_ENV} to the key the receiver verifies signatures with`);
    webhook = { url: url.href, secret: Buffer.from(secret, 'utf8') };
  }
  if (webhook === undefined && w.kafka === undefined) return null;
  return createActions({
    config,
    ...(webhook !== undefined ? { webhook } : {}),
    ...(w.kafka !== undefined ? { kafka: w.kafka } : {}),
    ledgerDir: w.ledgerDir,
    counters: w.counters,
    log: w.log,
  });
}
