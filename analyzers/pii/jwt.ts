// JWT (RFC 7519) decoding for detection only: no signature check. The header must be base64url JSON
// with an `alg` member for the token to count as validated; claims are returned so the caller scans
// them too (an email in a claim is personal data in transit).

export interface DecodedJwt {
  /** Header parsed and carries `alg`. */
  valid: boolean;
  alg: string | null;
  /** `alg: none` (unsigned token accepted by careless servers). */
  algNone: boolean;
  /** Claims carry `exp`. */
  hasExp: boolean;
  claims: Record<string, unknown> | null;
}

const MAX_PART = 16_384;

function b64urlJson(part: string): unknown {
  if (part.length === 0 || part.length > MAX_PART) return undefined;
  try {
    const text = Buffer.from(part, 'base64url').toString('utf8');
    if (!text.startsWith('{')) return undefined;
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Decode `header.payload.signature` (signature may be empty). Never throws. */
export function decodeJwt(token: string): DecodedJwt {
  const p = token.split('.');
  const out: DecodedJwt = { valid: false, alg: null, algNone: false, hasExp: false, claims: null };
  if (p.length !== 3) return out;
  const h = b64urlJson(p[0] as string);
  if (isObj(h) && typeof h['alg'] === 'string') {
    out.valid = true;
    out.alg = h['alg'];
    out.algNone = h['alg'].toLowerCase() === 'none';
  }
  const c = b64urlJson(p[1] as string);
  if (isObj(c)) {
    out.claims = c;
    out.hasExp = typeof c['exp'] === 'number';
  }
  return out;
}
