// Redaction: what may leave the scanner instead of a raw value. masked (a few characters kept),
// shape (character classes), and a keyed hash: HMAC-SHA-256 with the per-installation secret, so a
// 9-digit BSN cannot be brute-forced from the store (a plain SHA-256 can be, in seconds).
import { createHmac } from 'node:crypto';
import type { PiiKind } from '../../engine/contracts/inventory.js';

/** The form that is hashed: separators removed and case folded where the kind ignores them. */
export function normalizeValue(kind: PiiKind, v: string): string {
  switch (kind) {
    case 'email':
      return v.trim().toLowerCase();
    case 'payment_card':
    case 'bsn':
    case 'us_ssn':
    case 'phone':
      return v.replace(/[\s().-]/g, '');
    case 'iban':
    case 'national_id':
    case 'passport':
    case 'postcode':
      return v.replace(/[\s.-]/g, '').toUpperCase();
    default:
      return v.trim();
  }
}

export function hmacHex(secret: Buffer | string, normalised: string): string {
  return createHmac('sha256', secret).update(normalised).digest('hex').slice(0, 32);
}

/** Character-class shape: digit → 9, letter → A (a for lower case), others kept; capped at 64. */
export function shapeOf(v: string): string {
  let s = '';
  const n = Math.min(v.length, 64);
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) s += '9';
    else if (c >= 65 && c <= 90) s += 'A';
    else if (c >= 97 && c <= 122) s += 'a';
    else if (c > 127) s += 'X';
    else s += v[i];
  }
  if (v.length > n) s += '…';
  return s;
}

function star(s: string): string {
  let o = '';
  for (let i = 0; i < s.length; i++) o += /[A-Za-z0-9]/.test(s[i] as string) ? '*' : s[i];
  return o;
}

/**
 * Masked value safe to store: emails keep the first letter of the local part and of the domain plus
 * the TLD; cards and account numbers keep the last 4 digits; secrets keep a known prefix of at most 4
 * characters; everything else keeps nothing but its separators. Capped at 48 characters.
 */
export function maskValue(kind: PiiKind, v: string): string {
  let out: string;
  switch (kind) {
    case 'email': {
      const at = v.lastIndexOf('@');
      const local = v.slice(0, at);
      const dom = v.slice(at + 1);
      const dot = dom.lastIndexOf('.');
      out = `${local.slice(0, 1)}***@${dom.slice(0, 1)}${'*'.repeat(Math.max(1, dot - 1))}${dom.slice(dot)}`;
      break;
    }
    case 'payment_card':
    case 'iban': {
      const keep = 4;
      let seen = 0;
      let o = '';
      for (let i = v.length - 1; i >= 0; i--) {
        const ch = v[i] as string;
        if (/[A-Za-z0-9]/.test(ch)) {
          o = (seen < keep ? ch : '*') + o;
          seen++;
        } else o = ch + o;
      }
      out = o;
      break;
    }
    case 'api_key':
    case 'jwt':
    case 'session_token':
    case 'password':
      out = kind === 'password' ? '********' : v.slice(0, Math.min(4, Math.floor(v.length / 4))) + '****';
      break;
    default:
      out = star(v);
  }
  return out.length > 48 ? out.slice(0, 47) + '…' : out;
}
