// Webhook signatures: HMAC-SHA256 with the key from APITAP_WEBHOOK_SECRET over
// `<timestamp>.<body>` (the exact bytes sent), so a captured request cannot be replayed with a new
// timestamp and a body cannot be changed without the key. Headers:
//   X-Apitap-Timestamp: <unix seconds, wall clock at the attempt>
//   X-Apitap-Signature: sha256=<lowercase hex>
// Each attempt is signed afresh (new timestamp); the body and the action id stay the same.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-apitap-signature' as const;
export const TIMESTAMP_HEADER = 'x-apitap-timestamp' as const;
/** Receivers reject a timestamp further than this from their clock (seconds). */
export const DEFAULT_TOLERANCE_S = 300;

export function signature(secret: Buffer | string, timestamp: number, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The two signature headers of a body sent at `nowMs`. */
export function signHeaders(secret: Buffer | string, body: string, nowMs: number): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signature(secret, ts, body) };
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * The receiver's check (the README's recipe): the raw body as received, the two header values, the
 * shared secret and the receiver's clock. Constant-time comparison.
 */
export function verifySignature(
  secret: Buffer | string,
  body: string | Buffer,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  nowMs: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): VerifyResult {
  if (timestampHeader === undefined || signatureHeader === undefined) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestampHeader) || !/^sha256=[0-9a-f]{64}$/.test(signatureHeader))
    return { ok: false, reason: 'malformed' };
  const ts = Number(timestampHeader);
  if (Math.abs(nowMs / 1000 - ts) > toleranceS) return { ok: false, reason: 'stale' };
  const want = createHmac('sha256', secret).update(`${ts}.`).update(body).digest();
  const got = Buffer.from(signatureHeader.slice('sha256='.length), 'hex');
  return got.length === want.length && timingSafeEqual(got, want) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
