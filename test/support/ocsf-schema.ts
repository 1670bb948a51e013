// Validation of `--format ocsf` events against test/schemas/ocsf-1.5.0/findings.schema.json (ajv).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { repoRoot } from './paths.js';

const schema = JSON.parse(
  readFileSync(join(repoRoot, 'test', 'schemas', 'ocsf-1.5.0', 'findings.schema.json'), 'utf8'),
) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(schema, 'ocsf');
const CLASS: Record<number, string> = {
  2004: 'detection_finding',
  2006: 'data_security_finding',
  2007: 'application_security_posture_finding',
};

/** Errors of an event against the schema of the class it claims (empty when valid). */
export function validateOcsf(ev: Record<string, unknown>): string[] {
  const name = CLASS[ev['class_uid'] as number];
  if (name === undefined) return [`unexpected class_uid ${String(ev['class_uid'])}`];
  const v = ajv.getSchema(`ocsf#/definitions/${name}`) as ValidateFunction;
  return v(ev) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
