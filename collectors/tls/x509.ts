// Certificate summaries with node's crypto.X509Certificate (OpenSSL's parser), plus the one field it
// does not expose in Node 20: the outer signatureAlgorithm (RFC 5280 §4.1.1.2), read from the DER.
// Returns null for anything OpenSSL refuses; never throws.
import { hash, X509Certificate } from 'node:crypto';
import type { TlsCertificate } from '../../engine/contracts/tls.js';

/** Signature algorithm OIDs (RFC 8017 App. A.2.4, RFC 5758 §3.2, RFC 8410 §3, RFC 3279 §2.2). */
const SIG_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-sha256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

/** DER TLV at `off` (RFC 5280 uses DER: definite lengths only): [tag, contentStart, contentEnd] or null. */
function tlv(b: Buffer, off: number, end: number): [number, number, number] | null {
  if (off + 2 > end) return null;
  const tag = b[off] as number;
  let len = b[off + 1] as number;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > end) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] as number);
    p += n;
  }
  if (p + len > end) return null;
  return [tag, p, p + len];
}

function oidString(b: Buffer, off: number, end: number): string {
  if (off >= end) return '';
  const first = b[off] as number;
  const parts: number[] = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let v = 0;
  for (let i = off + 1; i < end; i++) {
    const c = b[i] as number;
    v = v * 128 + (c & 0x7f);
    if ((c & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue }. */
export function signatureAlgorithm(der: Buffer): string {
  const cert = tlv(der, 0, der.length);
  if (cert === null || cert[0] !== 0x30) return 'unknown';
  const tbs = tlv(der, cert[1], cert[2]);
  if (tbs === null) return 'unknown';
  const alg = tlv(der, tbs[2], cert[2]);
  if (alg === null || alg[0] !== 0x30) return 'unknown';
  const oid = tlv(der, alg[1], alg[2]);
  if (oid === null || oid[0] !== 0x06) return 'unknown';
  const dotted = oidString(der, oid[1], oid[2]);
  return SIG_OIDS[dotted] ?? dotted;
}

/** OpenSSL's "Mon DD HH:MM:SS YYYY GMT" validity text to ISO-8601 UTC (seconds precision). */
function isoFromOpenSsl(text: string): string {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : text;
}

/** Colon-separated hex with upper-case digits, as OpenSSL prints serials and fingerprints. */
function hexSerial(s: string): string {
  return s.toUpperCase();
}

/**
 * Summaries by SHA-256 of the DER. X509Certificate costs ~0.3-2 ms per certificate (measured: 1.9 ms
 * on a loaded 2-core machine, mostly the public key), and a capture repeats the same few chains in
 * every TLS <= 1.2 handshake. Bounded: cleared when full. Output-neutral: a summary depends only on
 * the DER. Summaries are frozen and shared; callers must not mutate them.
 */
const cache = new Map<string, TlsCertificate | null>();
const CACHE_MAX = 4096;

/** A summary of one DER certificate (nothing of `der` is kept), or null when it does not parse. */
export function summarizeCertificate(der: Buffer): TlsCertificate | null {
  const key = hash('sha256', der, 'hex');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const s = summarize(der);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, s === null ? null : Object.freeze({ ...s, sans: Object.freeze(s.sans) as string[] }));
  return cache.get(key) ?? null;
}

function summarize(der: Buffer): TlsCertificate | null {
  let c: X509Certificate;
  try {
    c = new X509Certificate(der);
  } catch {
    return null;
  }
  try {
    const key = c.publicKey;
    const details = key.asymmetricKeyDetails ?? {};
    const type = key.asymmetricKeyType ?? 'unknown';
    let bits: number | null = details.modulusLength ?? null;
    const curve = details.namedCurve ?? null;
    if (bits === null && type === 'ec') bits = curveBits(curve);
    else if (bits === null && type === 'ed25519') bits = 256;
    else if (bits === null && type === 'ed448') bits = 456;
    return {
      subject: c.subject.split('\n').join(', '),
      issuer: c.issuer.split('\n').join(', '),
      sans: splitSans(c.subjectAltName),
      validFrom: isoFromOpenSsl(c.validFrom),
      validTo: isoFromOpenSsl(c.validTo),
      keyType: type,
      keyBits: bits,
      curve,
      signatureAlgorithm: signatureAlgorithm(der),
      serial: hexSerial(c.serialNumber),
      sha256: c.fingerprint256,
      ca: c.ca,
    };
  } catch {
    return null;
  }
}

function curveBits(curve: string | null): number | null {
  switch (curve) {
    case 'prime256v1':
    case 'secp256k1':
    case 'brainpoolP256r1':
      return 256;
    case 'secp384r1':
    case 'brainpoolP384r1':
      return 384;
    case 'secp521r1':
      return 521;
    case 'secp224r1':
      return 224;
    case 'prime192v1':
      return 192;
    default:
      return null;
  }
}

/**
 * X509Certificate.subjectAltName: "DNS:a, DNS:b, IP Address:1.2.3.4". Entries are separated by ", ";
 * a quoted entry (OpenSSL quotes values holding commas, Node >= 17.3.1) stays whole.
 */
export function splitSans(s: string | undefined): string[] {
  if (s === undefined || s === '') return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === ',' && s[i + 1] === ' ') {
      out.push(cur);
      cur = '';
      i++;
      continue;
    }
    cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}
