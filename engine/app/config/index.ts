// Configuration of the composition root: one zod schema per component (declared beside the component,
// e.g. collectors/config.ts), composed here with the order of precedence defaults < --config file <
// command-line flags. Validated once at start; a bad value fails fast with one line naming the flag (or
// the file's key), what was expected and what was given.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CollectorConfig } from '../../../collectors/config.js';
import { ActionsConfig } from '../actions/config.js';

export { CollectorConfig };

export const PipelineConfig = z
  .object({
    workers: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(Math.max(1, availableParallelism() - 1))
      .describe(
        'replay: analysis threads, sharded by API host, beside one collector thread (0 = all on one thread); output is identical for any value',
      ),
  })
  .strict();

export const AnalysisSettings = z
  .object({
    certificateExpiringDays: z
      .number()
      .int()
      .min(0)
      .max(3650)
      .default(30)
      .describe('certificate_expiring: certificates expiring within this many days of the packet time'),
    quietAfterDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(7)
      .describe('api_gone_quiet: packet-time days of silence after which a stored endpoint has gone quiet'),
  })
  .strict();

export const AppConfig = z
  .object({
    collector: CollectorConfig.default(CollectorConfig.parse({})),
    analysis: AnalysisSettings.default(AnalysisSettings.parse({})),
    pipeline: PipelineConfig.default(PipelineConfig.parse({})),
    actions: ActionsConfig.default(ActionsConfig.parse({})),
  })
  .strict();
export type AppConfig = z.infer<typeof AppConfig>;

/** A configuration value that cannot be used: the message is one line, fit for stderr. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
}

/** A command-line flag and the config key it sets. `kind` says how its text becomes a value. */
export interface FlagBinding {
  readonly flag: string;
  readonly path: readonly string[];
  readonly kind: 'int' | 'ints' | 'seconds';
}

/** Flags shared by the commands that run collectors (replay, collect). */
export const COLLECTOR_FLAGS = {
  bodyCap: { flag: '--body-cap', path: ['collector', 'http', 'bodyCaptureBytes'], kind: 'int' },
  vxlanPort: { flag: '--vxlan-port', path: ['collector', 'vxlanPorts'], kind: 'ints' },
  genevePort: { flag: '--geneve-port', path: ['collector', 'genevePorts'], kind: 'ints' },
  maxFlows: { flag: '--max-flows', path: ['collector', 'flow', 'maxFlows'], kind: 'int' },
  idleTimeout: { flag: '--idle-timeout', path: ['collector', 'flow', 'idleTimeoutUs'], kind: 'seconds' },
  workers: { flag: '--workers', path: ['pipeline', 'workers'], kind: 'int' },
  expiringDays: { flag: '--expiring-days', path: ['analysis', 'certificateExpiringDays'], kind: 'int' },
  quietAfter: { flag: '--quiet-after', path: ['analysis', 'quietAfterDays'], kind: 'int' },
} as const satisfies Record<string, FlagBinding>;

/** Text → number without JavaScript's leniency ('', '0x10', '1e3', ' 5' are not numbers here). */
function toNumber(text: string, kind: FlagBinding['kind']): number | string {
  if (kind === 'seconds') return /^\d+(\.\d+)?$/.test(text) ? Math.round(Number(text) * 1e6) : text;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1] as string] = value;
}

/** Reads a YAML or JSON config file (same keys as AppConfig); errors name the file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (e) {
    throw new ConfigError(`${path}: not YAML/JSON (${(e as Error).message.split('\n')[0] ?? ''})`);
  }
}

/**
 * Builds the validated configuration: `file` (parsed --config content, or undefined), then every flag in
 * `flags` that is set (commander's values: a string, or a string[] for repeatable flags).
 */
export function buildConfig(
  file: unknown,
  flags: Readonly<Record<string, string | readonly string[] | undefined>>,
  bindings: Readonly<Record<string, FlagBinding>>,
  source = '--config',
): AppConfig {
  const raw: Record<string, unknown> =
    file !== undefined && file !== null && typeof file === 'object' && !Array.isArray(file)
      ? structuredClone(file as Record<string, unknown>)
      : {};
  if (file !== undefined && (file === null || typeof file !== 'object' || Array.isArray(file))) {
    throw new ConfigError(`${source}: expected a mapping of settings at the top level`);
  }
  const given = new Map<string, { binding: FlagBinding; text: string }>();
  for (const [name, binding] of Object.entries(bindings)) {
    const v = flags[name];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    const text = Array.isArray(v) ? v.join(',') : (v as string);
    given.set(binding.path.join('.'), { binding, text });
    const texts: readonly string[] = Array.isArray(v) ? v : [v as string];
    const values = texts.map((x) => toNumber(x, binding.kind));
    const bad = values.findIndex((x) => typeof x === 'string');
    if (bad >= 0) {
      const what = binding.kind === 'seconds' ? 'a number of seconds' : 'a whole number';
      throw new ConfigError(`${binding.flag}: expected ${what}, got ${JSON.stringify(texts[bad])}`);
    }
    setPath(raw, binding.path, Array.isArray(v) ? values : values[0]);
  }
  const r = AppConfig.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0] as z.core.$ZodIssue;
  const key = issue.path.map(String);
  const exact = given.get(key.join('.')) ?? given.get(key.slice(0, -1).join('.'));
  const where = exact !== undefined ? exact.binding.flag : `${source} ${key.join('.')}`;
  const got = exact !== undefined ? ` (got ${JSON.stringify(exact.text)})` : '';
  throw new ConfigError(`${where}: ${issue.message}${got}`);
}

/** The defaults with what each setting means, for `apitap config`. */
export function describeDefaults(): { key: string; default: unknown; meaning: string }[] {
  const out: { key: string; default: unknown; meaning: string }[] = [];
  const walk = (schema: z.ZodType, value: unknown, path: string[]): void => {
    const inner = schema instanceof z.ZodDefault ? (schema.def.innerType as z.ZodType) : schema;
    if (inner instanceof z.ZodObject) {
      for (const [k, s] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        walk(s, (value as Record<string, unknown>)[k], [...path, k]);
      }
      return;
    }
    out.push({ key: path.join('.'), default: value, meaning: schema.description ?? inner.description ?? '' });
  };
  walk(AppConfig, AppConfig.parse({}), []);
  return out;
}
