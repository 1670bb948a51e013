// Runs the real apitap CLI as a child process: the compiled dist/ build when present (what users and
// CI run), else the TypeScript sources through tsx (during development).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const dist = join(repoRoot, 'dist', 'engine', 'app', 'cli', 'main.js');

export function cliCommand(): string[] {
  return existsSync(dist)
    ? ['node', dist]
    : ['node', '--import', 'tsx', join(repoRoot, 'engine', 'app', 'cli', 'main.ts')];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function apitap(args: readonly string[], env: Record<string, string> = {}, cwd = repoRoot): CliResult {
  const [cmd, ...pre] = cliCommand();
  const r: SpawnSyncReturns<string> = spawnSync(cmd as string, [...pre, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 300_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
