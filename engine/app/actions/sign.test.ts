import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signHeaders, signature, verifySignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './sign.js';

const body = '{"schema":"action/v1","id":"abc"}';
const now = 1_790_000_000_000;

test('the signature is HMAC-SHA256 over "<timestamp>.<body>" (the README recipe, recomputed here)', () => {
  const h = signHeaders('k', body, now);
  assert.equal(h[TIMESTAMP_HEADER], '1790000000');
  const hex = createHmac('sha256', 'k').update(`1790000000.${body}`).digest('hex');
  assert.equal(h[SIGNATURE_HEADER], `sha256=${hex}`);
  assert.equal(signature('k', 1790000000, body), h[SIGNATURE_HEADER]);
});

test('verification rejects a changed body, a changed timestamp, another key and a stale request', () => {
  const h = signHeaders('k', body, now);
  const ts = h[TIMESTAMP_HEADER];
  const sig = h[SIGNATURE_HEADER];
  assert.deepEqual(verifySignature('k', body, ts, sig, now + 1000), { ok: true });
  assert.deepEqual(verifySignature('k', Buffer.from(body), ts, sig, now), { ok: true });
  assert.deepEqual(verifySignature('k', body.replace('abc', 'abd'), ts, sig, now), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('k', body, String(Number(ts) + 1), sig, now), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('other', body, ts, sig, now), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifySignature('k', body, ts, sig, now + 301_000), { ok: false, reason: 'stale' });
  assert.deepEqual(verifySignature('k', body, undefined, sig, now), { ok: false, reason: 'missing' });
  assert.deepEqual(verifySignature('k', body, ts, 'sha1=00', now), { ok: false, reason: 'malformed' });
});
