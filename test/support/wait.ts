// Tests wait for conditions, never for a fixed time: a fixed sleep is either too short on a loaded
// machine (flaky) or too long everywhere (slow), and says nothing when it was not enough.
// waitFor polls the condition and, when it does not hold in time, fails naming what it waited for
// (and the condition's last error, if it threw).

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** What is awaited, for the failure message ("3 dead letters read back"). A function is called
   * only on failure, so it can report the last observed state. */
  what: string | (() => string);
  /** Poll interval (default 25 ms). */
  everyMs?: number;
}

/** The failure of a wait: names what was awaited. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/**
 * Resolves once `cond()` returns true (checked at once, then every `everyMs`). A condition that
 * throws or rejects counts as false; its last error is quoted if the wait times out.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, opts: WaitOptions): Promise<void> {
  const t0 = Date.now();
  const every = opts.everyMs ?? 25;
  let lastErr: unknown;
  for (;;) {
    try {
      if (await cond()) return;
      lastErr = null;
    } catch (e) {
      lastErr = e;
    }
    const waited = Date.now() - t0;
    if (waited >= opts.timeoutMs) {
      const what = typeof opts.what === 'function' ? opts.what() : opts.what;
      const why =
        lastErr === null ? '' : `; last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`;
      throw new WaitTimeoutError(`timed out after ${waited} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(every, Math.max(1, opts.timeoutMs - waited))));
  }
}
