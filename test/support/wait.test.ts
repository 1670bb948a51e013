import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WaitTimeoutError, waitFor } from './wait.js';

test('waitFor resolves as soon as the condition holds, sync or async', async () => {
  let n = 0;
  await waitFor(() => ++n >= 3, { timeoutMs: 5_000, what: 'three polls', everyMs: 1 });
  assert.equal(n, 3);
  let m = 0;
  await waitFor(async () => ++m >= 2, { timeoutMs: 5_000, what: 'two async polls', everyMs: 1 });
  assert.equal(m, 2);
});

test('waitFor fails naming what it waited for, with the last state and the last error', async () => {
  let seen = 0;
  await assert.rejects(
    waitFor(() => (++seen, false), { timeoutMs: 30, what: () => `the flag (polled ${seen} times)`, everyMs: 5 }),
    (e: unknown) =>
      e instanceof WaitTimeoutError &&
      /^timed out after \d+ ms waiting for the flag \(polled \d+ times\)$/.test(e.message),
  );
  assert.ok(seen >= 2, `polled ${seen} times`);
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('broker unreachable');
      },
      { timeoutMs: 20, what: 'the broker', everyMs: 5 },
    ),
    /waiting for the broker; last error: broker unreachable$/,
  );
});
