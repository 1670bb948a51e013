// Schema migrations: deploy/clickhouse/NNN_name.sql, run in number order on either backend.
//
// Contract:
// - 001 creates schema_migrations; it runs on every start (CREATE ... IF NOT EXISTS), the others
//   only when schema_migrations (read WITH FINAL) has no row for their number.
// - Applied files are recorded with their SHA-256. A recorded file whose text changed stops the
//   runner with 'store_config': the schema in the database no longer matches the repository.
// - Safe against a second process migrating the same database at the same time: statements are
//   idempotent, "already exists" races (codes 57, 82) are ignored, and the duplicate
//   schema_migrations rows fold in the ReplacingMergeTree.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError, STORE_ERROR_CODES } from './errors.js';
import type { SqlBackend } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

const FILE_RE = /^(\d{3,})_[A-Za-z0-9_]+\.sql$/;
const MIGRATIONS_TABLE = 'schema_migrations';
/** TABLE_ALREADY_EXISTS, DATABASE_ALREADY_EXISTS: a concurrent runner won the CREATE race. */
const ALREADY_EXISTS = new Set([57, 82]);

/**
 * deploy/clickhouse above this module: engine/adapters/store (tsx) or dist/engine/adapters/store (compiled) alike,
 * since tsc does not copy .sql files into dist/.
 */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'deploy', 'clickhouse');
    if (existsSync(join(candidate, '001_schema_migrations.sql'))) return candidate;
    const up = dirname(dir);
    if (up === dir) {
      throw new StoreError(STORE_ERROR_CODES.config, 'deploy/clickhouse migrations not found above the store module');
    }
    dir = up;
  }
}

/**
 * Splits a migration file into statements at `;` outside string literals, quoted identifiers and
 * comments. Comment-only pieces are dropped. (A backend runs one statement per request: the
 * ClickHouse HTTP interface refuses multi-statements.)
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let meaningful = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl - 1;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      cur += text.slice(i, j + 1);
      meaningful = true;
      i = j;
      continue;
    }
    if (c === ';') {
      if (meaningful) out.push(cur.trim());
      cur = '';
      meaningful = false;
      continue;
    }
    cur += c;
    if (!/\s/.test(c)) meaningful = true;
  }
  if (meaningful) out.push(cur.trim());
  return out;
}

export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (cause) {
    throw new StoreError(STORE_ERROR_CODES.config, `cannot read migrations directory ${dir}`, { cause });
  }
  const list: Migration[] = [];
  for (const name of names) {
    const m = FILE_RE.exec(name);
    if (m === null) continue;
    const text = readFileSync(join(dir, name), 'utf8');
    list.push({
      version: Number(m[1]),
      name,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    });
  }
  list.sort((a, b) => a.version - b.version);
  for (let i = 1; i < list.length; i++) {
    if ((list[i] as Migration).version === (list[i - 1] as Migration).version) {
      throw new StoreError(
        STORE_ERROR_CODES.config,
        `two migrations numbered ${(list[i] as Migration).version} in ${dir}`,
      );
    }
  }
  if (list[0]?.version !== 1) {
    throw new StoreError(STORE_ERROR_CODES.config, `${dir} must start with 001_schema_migrations.sql`);
  }
  return list;
}

async function execTolerant(backend: SqlBackend, sql: string): Promise<void> {
  try {
    await backend.exec(sql);
  } catch (err) {
    if (err instanceof StoreError && err.clickhouseCode !== undefined && ALREADY_EXISTS.has(err.clickhouseCode)) return;
    throw err;
  }
}

/** Runs the pending migrations of `dir` on `backend` (see the contract at the top). */
export async function runMigrations(backend: SqlBackend, dir?: string): Promise<{ applied: string[] }> {
  const migrations = loadMigrations(dir);
  const first = migrations[0] as Migration;
  for (const s of first.statements) await execTolerant(backend, s);

  const rows = await backend.select(`SELECT version, checksum FROM ${MIGRATIONS_TABLE} FINAL`);
  const done = new Map<number, string>();
  for (const r of rows) done.set(Number(r['version']), String(r['checksum']));

  const applied: string[] = [];
  for (const m of migrations) {
    const recorded = done.get(m.version);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) {
        throw new StoreError(
          STORE_ERROR_CODES.config,
          `migration ${m.name} changed after it was applied to ${backend.target}; add a new migration instead`,
        );
      }
      continue;
    }
    if (m !== first) for (const s of m.statements) await execTolerant(backend, s);
    await backend.insert(
      MIGRATIONS_TABLE,
      ['version', 'name', 'checksum'],
      [{ version: m.version, name: m.name, checksum: m.checksum }],
    );
    applied.push(m.name);
  }
  return { applied };
}
