// The command-line side of engine/app/config: the flags every collector-running command shares, and
// their translation into a validated AppConfig (one-line error and exit 2 on a bad value).
import type { Command } from 'commander';
import { buildConfig, COLLECTOR_FLAGS, ConfigError, readConfigFile, type AppConfig } from '../config/index.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export interface CollectorFlags {
  config?: string;
  bodyCap?: string;
  vxlanPort?: string[];
  genevePort?: string[];
  maxFlows?: string;
  idleTimeout?: string;
  workers?: string;
  expiringDays?: string;
  quietAfter?: string;
  actorIp?: string;
  bodyRate?: string;
}

/** Adds --config, --body-cap, --vxlan-port, --max-flows and --idle-timeout (defaults: `apitap config`). */
export const collectorFlagOptions = (c: Command): Command =>
  c
    .option('--config <file>', 'YAML/JSON settings (keys as printed by `apitap config`); flags override it')
    .option('--body-cap <bytes>', 'max decoded body bytes captured per message (default 65536)')
    .option('--vxlan-port <port>', 'UDP port carrying VXLAN (repeatable; default 4789)', collect, [])
    .option('--geneve-port <port>', 'UDP port carrying Geneve (repeatable; default 6081)', collect, [])
    .option('--max-flows <n>', 'connections tracked at once; the stalest is ended beyond it (default 100000)')
    .option('--idle-timeout <seconds>', 'packet-time idle timeout of a connection (default 300)')
    .option('--quiet-after <days>', 'api_gone_quiet: packet-time days of silence (default 7)')
    .option('--actor-ip <mode>', 'actors: client IPs kept raw (default, for remediation) or hash (keyed HMAC)')
    .option(
      '--body-rate <n>',
      'body gate: settled endpoints walk at least one body in n (default 32); 0 walks every body (slower, for audits)',
    )
    .option('--expiring-days <days>', 'certificate_expiring: certificates expiring within this many days (default 30)')
    .option(
      '--workers <n>',
      'replay: analysis threads beside the collector thread (default: cores - 1; 0 = one thread)',
    );

/** The validated configuration of these flags, or exit 2 with one line naming the bad value. */
export function configFromFlags(flags: CollectorFlags, fail: (code: number, message: string) => never): AppConfig {
  try {
    const file = flags.config !== undefined ? readConfigFile(flags.config) : undefined;
    return buildConfig(file, { ...flags }, COLLECTOR_FLAGS, flags.config ?? '--config');
  } catch (e) {
    if (e instanceof ConfigError) fail(2, e.message);
    throw e;
  }
}
