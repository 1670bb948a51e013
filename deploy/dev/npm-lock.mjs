#!/usr/bin/env node
// Keeps package-lock.json acceptable to `npm ci` (docs/decisions/0004-npm-ci.md).
//
// The lock must list exactly what the npm registry serves. chdb 3.x declares optional per-platform
// packages (`@chdb/lib-darwin-*`, `@chdb/lib-linux-arm64-gnu`) that the registry answers with 404:
// `npm install` leaves them out of the lock (an optional dependency that cannot be fetched is skipped)
// but keeps chdb's edges to them, and `npm ci` then rebuilds those edges, fails to fetch them again and
// rejects the lock as "Missing: @chdb/lib-darwin-arm64@ from lock file". This script removes from
// the lock's `optionalDependencies` every edge whose package is not in the lock AND that the registry
// answers with 404 (checked with `npm view`, so a network hiccup never silently drops a package).
// The lock still lists every package that is served, for every platform, with its integrity.
//
//   node deploy/dev/npm-lock.mjs [npm install args]   npm install --package-lock-only [args], then trim
//                                                     (e.g. `npm run lock -- chdb@3.5.0` to upgrade)
//   node deploy/dev/npm-lock.mjs --check [lockfile]   exit 1 if the lock has an edge to an unlisted
//                                                     optional package (no network; test/run.sh runs it)
// A plain `npm install` or `npm install <other-package>` keeps a trimmed lock trimmed (npm reuses the
// locked metadata of chdb); re-run this after anything that re-resolves chdb (`npm update`).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lockPath = join(root, 'package-lock.json');
const check = process.argv[2] === '--check';
const checked = check && process.argv[3] !== undefined ? process.argv[3] : lockPath;

/** True when `name` resolves from the lock entry at `location` (node_modules lookup, walking up). */
function resolves(packages, location, name) {
  let dir = location;
  for (;;) {
    if (packages[`${dir === '' ? '' : `${dir}/`}node_modules/${name}`]) return true;
    if (dir === '') return false;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

/** Edges (entry location, optional dependency name, spec) whose package the lock does not list. */
function dangling(lock) {
  const out = [];
  for (const [location, entry] of Object.entries(lock.packages ?? {})) {
    for (const [name, spec] of Object.entries(entry.optionalDependencies ?? {})) {
      if (!resolves(lock.packages, location, name)) out.push({ location, name, spec });
    }
  }
  return out;
}

/** The registry's answer for name@spec: 'served', 'absent' (E404) or throws on anything else. */
function registryHas(name, spec) {
  const r = spawnSync('npm', ['view', `${name}@${spec}`, 'version', '--json'], { cwd: root, encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim() !== '') return 'served';
  if (/\bE404\b/.test(r.stderr) || (r.status === 0 && r.stdout.trim() === '')) return 'absent';
  throw new Error(`npm view ${name}@${spec} failed (exit ${r.status}):\n${r.stderr}`);
}

if (check) {
  const edges = dangling(JSON.parse(readFileSync(checked, 'utf8')));
  for (const e of edges) {
    process.stderr.write(`${checked}: ${e.location || '(root)'} → optional ${e.name}@${e.spec} is not in the lock\n`);
  }
  if (edges.length > 0) {
    process.stderr.write('npm ci would reject this lock: run `npm run lock` (deploy/dev/npm-lock.mjs)\n');
    process.exit(1);
  }
  process.exit(0);
}

execFileSync(
  'npm',
  ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
const text = readFileSync(lockPath, 'utf8');
const lock = JSON.parse(text);
const answers = new Map();
for (const { location, name, spec } of dangling(lock)) {
  const key = `${name}@${spec}`;
  if (!answers.has(key)) answers.set(key, registryHas(name, spec));
  if (answers.get(key) === 'served') {
    throw new Error(`${key} is served but npm left it out of the lock: re-run, or inspect npm's log`);
  }
  const entry = lock.packages[location];
  delete entry.optionalDependencies[name];
  if (Object.keys(entry.optionalDependencies).length === 0) delete entry.optionalDependencies;
  process.stdout.write(`lock: ${location || '(root)'} → optional ${key} dropped (the registry does not serve it)\n`);
}
const out = JSON.stringify(lock, null, 2) + '\n';
if (out !== text) writeFileSync(lockPath, out);
