// Long-running apitap processes for integration tests (collector, analyzer): started with the real
// CLI, stopped with SIGTERM like an orchestrator would, their output kept for assertions and for
// failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliCommand } from './cli.js';
import { repoRoot } from './paths.js';
import { waitFor } from './wait.js';

export interface Proc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL at once (a crash). */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export function startApitap(args: readonly string[], env: Record<string, string> = {}): Proc {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd as string, [...pre, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 1 << 20) err = err.slice(-(1 << 19));
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value accepted by `done` (waitFor of ./wait.ts), and returns that
 * value; on timeout the error quotes the last value and the last error. */
export async function until<T>(
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 250,
): Promise<T> {
  let last: T | undefined;
  await waitFor(
    async () => {
      last = await probe();
      return done(last);
    },
    { timeoutMs, everyMs, what: () => `${what}; last value ${JSON.stringify(last)}` },
  );
  return last as T;
}
