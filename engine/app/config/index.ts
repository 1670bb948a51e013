// Configuration of the composition root: one zod schema per component (declared beside the component,
// e.g. collectors/config.ts), composed here with the order of precedence defaults < --config file <
// command-line flags. Validated once at start; a bad value fails fast with one line naming the flag (or
// the file's key), what was expected and what was given.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CollectorConfig } from '../../../collectors/config.js';
import { BEHAVIOUR_DEFAULTS } from '../../../analyzers/actors/detect.js';
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
    collectorHeapMb: z
      .number()
      .int()
      .min(0)
      .max(65_536)
      .default(0)
      .describe(
        'replay: V8 old-generation limit of the collector thread, MB (0 = derived from collector.flow.maxStateBytes: 64 + 3 MB per MiB of flow state); a thread that reaches it ends the replay with an error, nothing is dropped silently',
      ),
  })
  .strict();

const D = BEHAVIOUR_DEFAULTS;
const count = (def: number, what: string): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(1).max(100_000_000).default(def).describe(what);
const seconds = (def: number, what: string): z.ZodDefault<z.ZodNumber> =>
  z.number().int().min(1).max(604_800).default(def).describe(what);
const factor = (def: number, what: string): z.ZodDefault<z.ZodNumber> =>
  z.number().min(0).max(1000).default(def).describe(what);

/** Actors and behaviour findings (analyzers/actors; README "Actors and behaviour"). */
export const ActorSettings = z
  .object({
    ip: z
      .enum(['raw', 'hash'])
      .default('raw')
      .describe(
        'client IPs of actors: raw (for remediation: block_ip) or hash (keyed HMAC, `hmac:<hex>`); flag --actor-ip',
      ),
    maxEvents: count(
      1_000_000,
      'replay: per-exchange actor events kept for behaviour detection; beyond it counted as actors_events_dropped',
    ),
    reportTop: count(100, 'report/v1 `actors`: the most active actors listed (by requests); the store keeps all'),
    intervalSeconds: seconds(
      60,
      'analyze (group): wall-clock seconds between runs of the behaviour job over the store',
    ),
    enumeration: z
      .object({
        distinctValues: count(
          D.enumeration.distinctValues,
          'enumeration: distinct values of one identifier parameter of one endpoint by one actor',
        ),
        windowSeconds: seconds(D.enumeration.windowSeconds, 'enumeration: within this many packet-time seconds'),
      })
      .strict()
      .default(D.enumeration),
    bola: z
      .object({
        minObjects: count(
          D.bola.minObjects,
          'bola_suspect: distinct objects bound to other principals that one principal got 2xx on',
        ),
        privateShare: factor(
          D.bola.privateShare,
          'bola_suspect (first and mostly accessed): share of an endpoint’s objects accessed by one principal only, for its objects to count as owned',
        ),
        minPrivateObjects: count(
          D.bola.minPrivateObjects,
          'bola_suspect (first and mostly accessed): objects an endpoint needs before ownership by access is inferred',
        ),
      })
      .strict()
      .default(D.bola),
    excessive: z
      .object({
        bucketSeconds: seconds(D.excessive.bucketSeconds, 'excessive_usage: packet-time bucket of the request rate'),
        minPerBucket: count(
          D.excessive.minPerBucket,
          'excessive_usage: requests per bucket below which no rate is excessive',
        ),
        k: factor(
          D.excessive.k,
          'excessive_usage: threshold = median + k·MAD of the other actors’ peak bucket on the endpoint',
        ),
        sustainBuckets: count(
          D.excessive.sustainBuckets,
          'excessive_usage: buckets above the threshold (sustained use)',
        ),
        minActors: count(D.excessive.minActors, 'excessive_usage: actors on an endpoint needed for a baseline'),
      })
      .strict()
      .default(D.excessive),
    bruteforce: z
      .object({
        failures: count(
          D.bruteforce.failures,
          'auth_bruteforce: failed authentications from one client IP (4xx of sign-ins; 401/403 elsewhere, once per credential and endpoint)',
        ),
        distinctPrincipals: count(
          D.bruteforce.distinctPrincipals,
          'auth_bruteforce (credential stuffing): distinct principals or login names among one IP’s failures',
        ),
        windowSeconds: seconds(D.bruteforce.windowSeconds, 'auth_bruteforce: within this many packet-time seconds'),
      })
      .strict()
      .default(D.bruteforce),
    harvest: z
      .object({
        minDistinct: count(
          D.harvest.minDistinct,
          'pii_harvest: distinct personal-data values one actor received from one endpoint, at least',
        ),
        k: factor(
          D.harvest.k,
          'pii_harvest: threshold = max(minDistinct, median + k·MAD of the other actors on the endpoint)',
        ),
        minActors: count(D.harvest.minActors, 'pii_harvest: actors on an endpoint needed for a baseline'),
      })
      .strict()
      .default(D.harvest),
  })
  .strict();
export type ActorSettings = z.infer<typeof ActorSettings>;

/** The body gate (analyzers/shared/gate.ts): which bodies of settled endpoints are walked. */
export const BodySettings = z
  .object({
    rate: z
      .number()
      .int()
      .min(0)
      .max(4096)
      .default(32)
      .describe(
        'body gate: a settled endpoint walks at least one body in this many (one in about half as many on average); 0 walks every body',
      ),
    saturation: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(64)
      .describe('body gate: consecutive walks that bring nothing new before an endpoint’s bodies are sampled'),
  })
  .strict();
export type BodySettings = z.infer<typeof BodySettings>;

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
    actors: ActorSettings.default(ActorSettings.parse({})),
    bodies: BodySettings.default(BodySettings.parse({})),
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
  readonly kind: 'int' | 'ints' | 'seconds' | 'text';
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
  actorIp: { flag: '--actor-ip', path: ['analysis', 'actors', 'ip'], kind: 'text' },
  bodyRate: { flag: '--body-rate', path: ['analysis', 'bodies', 'rate'], kind: 'int' },
} as const satisfies Record<string, FlagBinding>;

/** Text → number without JavaScript's leniency ('', '0x10', '1e3', ' 5' are not numbers here). */
function toNumber(text: string, kind: FlagBinding['kind']): number | string {
  if (kind === 'text') return Number.NaN; // never a number: handled by the caller
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
    if (binding.kind === 'text') {
      setPath(raw, binding.path, texts[0]);
      continue;
    }
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
