// Secret rules: a subset of gitleaks (MIT, github.com/gitleaks/gitleaks cmd/generate/config/rules),
// rewritten for JavaScript regexes. Rules are data: id, kind, keyword prefilter, one pattern whose
// group 1 is the secret, an entropy floor, and an `example` test for documentation values.
//
// Porting notes (Go RE2 → JS backtracking engine):
// - no inline flags: case-insensitive parts are spelled as classes, or the rule carries the `i` flag;
// - gitleaks' `[\w.-]{0,50}?` identifier prefix is dropped: the keyword prefilter does that job;
// - every quantifier is bounded and no two adjacent quantified classes overlap on an unbounded run,
//   so a match attempt costs O(n · bound); test/pii/redos.test.ts runs every rule against 100 KB
//   adversarial strings within a time limit;
// - the end boundary is gitleaks' `(?:[\x60'"\s;]|\\[nr]|$)` written as a lookahead.
import type { PiiKind } from '../../engine/contracts/inventory.js';
import { identifierShape } from './ids.js';
import { keyEvidence } from './keys.js';
import { shannon } from './validators.js';

export interface SecretRule {
  id: string;
  kind: Extract<PiiKind, 'api_key' | 'jwt'>;
  /** Lower-case substrings; the rule runs only when the lower-cased text contains one. */
  keywords: readonly string[];
  /** Global regex; group 1 is the secret. */
  pattern: RegExp;
  /** Minimum Shannon entropy (bits/char) of the secret, 0 for none. */
  entropy: number;
  /** Documentation/sample values (kept, marked example). */
  example?: RegExp;
}

const END = String.raw`(?=[\x60'"\s;,)}\]<>&|]|\\[nrt]|$)`;
const START = String.raw`(?<![A-Za-z0-9_])`;
const tok = (body: string, flags = 'g'): RegExp => new RegExp(`${START}(${body})${END}`, flags);

/** Placeholders and templated values (gitleaks/detect-secrets allowlists): `${VAR}`, `<token>`, `xxxx`. */
export function isPlaceholder(s: string): boolean {
  if (s.length === 0) return true;
  if (/^(?:\$\{?|\{\{|<|%|\$\()/.test(s)) return true;
  if (/(?:x{6,}|X{6,}|\*{3,}|\.{3,}|_{5,})/.test(s)) return true;
  if (
    /^(?:changeme|password|secret|example|placeholder|redacted|null|none|undefined|true|false|your[_-]?\w*)$/i.test(s)
  )
    return true;
  return false;
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'aws-access-token',
    kind: 'api_key',
    keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'],
    pattern: tok('(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}'),
    entropy: 3,
    example: /EXAMPLE$/,
  },
  { id: 'github-pat', kind: 'api_key', keywords: ['ghp_'], pattern: tok('ghp_[0-9a-zA-Z]{36}'), entropy: 3 },
  { id: 'github-oauth', kind: 'api_key', keywords: ['gho_'], pattern: tok('gho_[0-9a-zA-Z]{36}'), entropy: 3 },
  {
    id: 'github-app-token',
    kind: 'api_key',
    keywords: ['ghu_', 'ghs_'],
    pattern: tok('(?:ghu|ghs)_[0-9a-zA-Z]{36}'),
    entropy: 3,
  },
  { id: 'github-refresh-token', kind: 'api_key', keywords: ['ghr_'], pattern: tok('ghr_[0-9a-zA-Z]{36}'), entropy: 3 },
  {
    id: 'github-fine-grained-pat',
    kind: 'api_key',
    keywords: ['github_pat_'],
    pattern: tok('github_pat_[0-9a-zA-Z_]{82}'),
    entropy: 3,
  },
  { id: 'gitlab-pat', kind: 'api_key', keywords: ['glpat-'], pattern: tok('glpat-[0-9a-zA-Z_-]{20}'), entropy: 3 },
  {
    id: 'gitlab-pat-routable',
    kind: 'api_key',
    keywords: ['glpat-'],
    pattern: tok('glpat-[0-9a-zA-Z_-]{27,300}\\.[0-9a-z]{2}[0-9a-z]{7}'),
    entropy: 4,
  },
  { id: 'gitlab-ptt', kind: 'api_key', keywords: ['glptt-'], pattern: tok('glptt-[0-9a-f]{40}'), entropy: 3 },
  {
    id: 'gitlab-rrt',
    kind: 'api_key',
    keywords: ['gr1348941'],
    pattern: tok('GR1348941[0-9a-zA-Z_-]{20}'),
    entropy: 3,
  },
  {
    id: 'gitlab-runner-authentication-token-routable',
    kind: 'api_key',
    keywords: ['glrt-'],
    pattern: tok('glrt-t\\d_[0-9a-zA-Z_-]{27,300}\\.[0-9a-z]{2}[0-9a-z]{7}'),
    entropy: 4,
  },
  {
    id: 'slack-bot-token',
    kind: 'api_key',
    keywords: ['xoxb'],
    pattern: tok('xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]{0,64}'),
    entropy: 0,
  },
  {
    id: 'slack-user-token',
    kind: 'api_key',
    keywords: ['xoxp-', 'xoxe-'],
    pattern: tok('xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}'),
    entropy: 0,
  },
  {
    id: 'slack-app-token',
    kind: 'api_key',
    keywords: ['xapp'],
    pattern: tok('xapp-\\d-[A-Za-z0-9]{1,20}-\\d{1,20}-[a-zA-Z0-9]{1,100}'),
    entropy: 0,
  },
  {
    id: 'slack-config-access-token',
    kind: 'api_key',
    keywords: ['xoxe.xoxb-', 'xoxe.xoxp-'],
    pattern: tok('xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{163,166}'),
    entropy: 2,
  },
  {
    id: 'slack-config-refresh-token',
    kind: 'api_key',
    keywords: ['xoxe-'],
    pattern: tok('xoxe-\\d-[A-Za-z0-9]{146}'),
    entropy: 2,
  },
  {
    id: 'slack-legacy-bot-token',
    kind: 'api_key',
    keywords: ['xoxb'],
    pattern: tok('xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26}'),
    entropy: 2,
  },
  {
    id: 'slack-legacy-workspace-token',
    kind: 'api_key',
    keywords: ['xoxa', 'xoxr'],
    pattern: new RegExp(`${START}(xox[ar]-(?:\\d-)?[0-9a-zA-Z]{8,48})`, 'g'),
    entropy: 2,
  },
  {
    id: 'slack-legacy-token',
    kind: 'api_key',
    keywords: ['xoxo', 'xoxs'],
    pattern: tok('xox[os]-\\d{1,20}-\\d{1,20}-\\d{1,20}-[a-fA-F\\d]{1,100}'),
    entropy: 2,
  },
  {
    id: 'slack-webhook-url',
    kind: 'api_key',
    keywords: ['hooks.slack.com'],
    pattern: /((?:https?:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9+/]{43,56})/g,
    entropy: 0,
  },
  {
    id: 'stripe-access-token',
    kind: 'api_key',
    keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'],
    pattern: tok('(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}'),
    entropy: 2,
  },
  { id: 'gcp-api-key', kind: 'api_key', keywords: ['aiza'], pattern: tok('AIzaSy[0-9A-Za-z_-]{33}'), entropy: 4 },
  {
    id: 'openai-api-key',
    kind: 'api_key',
    keywords: ['t3blbkfj'],
    pattern: tok(
      'sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}',
    ),
    entropy: 3,
  },
  {
    id: 'anthropic-api-key',
    kind: 'api_key',
    keywords: ['sk-ant-api03'],
    pattern: tok('sk-ant-api03-[a-zA-Z0-9_-]{93}AA'),
    entropy: 0,
  },
  {
    id: 'anthropic-admin-api-key',
    kind: 'api_key',
    keywords: ['sk-ant-admin01'],
    pattern: tok('sk-ant-admin01-[a-zA-Z0-9_-]{93}AA'),
    entropy: 0,
  },
  { id: 'huggingface-access-token', kind: 'api_key', keywords: ['hf_'], pattern: tok('hf_[a-zA-Z]{34}'), entropy: 2 },
  {
    id: 'huggingface-organization-api-token',
    kind: 'api_key',
    keywords: ['api_org_'],
    pattern: tok('api_org_[a-zA-Z]{34}'),
    entropy: 2,
  },
  { id: 'twilio-api-key', kind: 'api_key', keywords: ['sk'], pattern: tok('SK[0-9a-fA-F]{32}'), entropy: 3 },
  {
    id: 'sendgrid-api-token',
    kind: 'api_key',
    keywords: ['sg.'],
    pattern: tok('SG\\.[a-zA-Z0-9=_-]{22}\\.[a-zA-Z0-9=_-]{43}'),
    entropy: 2,
  },
  { id: 'npm-access-token', kind: 'api_key', keywords: ['npm_'], pattern: tok('npm_[a-zA-Z0-9]{36}'), entropy: 2 },
  {
    id: 'age-secret-key',
    kind: 'api_key',
    keywords: ['age-secret-key-1'],
    pattern: tok('AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}'),
    entropy: 0,
  },
  {
    id: 'databricks-api-token',
    kind: 'api_key',
    keywords: ['dapi'],
    pattern: tok('dapi[a-f0-9]{32}(?:-\\d)?'),
    entropy: 3,
  },
  {
    id: 'notion-api-token',
    kind: 'api_key',
    keywords: ['ntn_'],
    pattern: tok('ntn_[0-9]{11}[A-Za-z0-9]{35}'),
    entropy: 4,
  },
  {
    id: 'sourcegraph-access-token',
    kind: 'api_key',
    keywords: ['sgp_', 'sourcegraph'],
    pattern: tok('sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40}'),
    entropy: 3,
  },
  {
    id: 'sourcegraph-access-token',
    kind: 'api_key',
    keywords: ['sourcegraph'],
    pattern: new RegExp(`sourcegraph[\\w.-]{0,20}["']?[ \\t]{0,3}[:=][ \\t]{0,3}["']?([a-fA-F0-9]{40})${END}`, 'gi'),
    entropy: 3,
  },
  {
    id: 'square-access-token',
    kind: 'api_key',
    keywords: ['sq0atp-', 'eaaa'],
    pattern: tok('(?:EAAA|sq0atp-)[0-9A-Za-z_-]{22,60}'),
    entropy: 2,
  },
  { id: 'square-secret', kind: 'api_key', keywords: ['sq0csp-'], pattern: tok('sq0csp-[0-9A-Za-z_-]{43}'), entropy: 2 },
  {
    id: 'grafana-cloud-api-token',
    kind: 'api_key',
    keywords: ['glc_'],
    pattern: tok('glc_[A-Za-z0-9+/]{32,400}={0,3}'),
    entropy: 3,
  },
  {
    id: 'grafana-service-account-token',
    kind: 'api_key',
    keywords: ['glsa_'],
    pattern: tok('glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}'),
    entropy: 3,
  },
  {
    id: 'openshift-user-token',
    kind: 'api_key',
    keywords: ['sha256~'],
    pattern: tok('sha256~[A-Za-z0-9_-]{43}'),
    entropy: 3.5,
  },
  {
    id: 'shopify-token',
    kind: 'api_key',
    keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
    pattern: tok('shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}'),
    entropy: 2,
  },
  { id: 'pulumi-api-token', kind: 'api_key', keywords: ['pul-'], pattern: tok('pul-[a-f0-9]{40}'), entropy: 2 },
  {
    id: 'private-key',
    kind: 'api_key',
    keywords: ['private key'],
    pattern:
      /(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,16384}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)/g,
    entropy: 0,
  },
  // Connection strings and URLs with an inline password (postgres://u:p@h, https://u:p@host; gitleaks
  // sidekiq-sensitive-url is the vendor case of the same shape).
  {
    id: 'url-credentials',
    kind: 'api_key',
    keywords: ['://'],
    pattern:
      /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/@'"`]{1,100}:([^\s:/@'"`]{1,200})@[A-Za-z0-9[]/g,
    entropy: 0,
  },
  // gitleaks generic-api-key, simplified: a secret-like identifier, an assignment, a token value.
  // Value checks (entropy ≥ 3.5, no placeholder) run in scanSecrets via genericSecretValue.
  {
    id: 'generic-api-key',
    kind: 'api_key',
    keywords: ['key', 'api', 'token', 'secret', 'client', 'passwd', 'password', 'auth', 'access', 'credential'],
    pattern:
      /(?<![\w.-])([\w.-]{0,40}?(?:key|api|token|secret|client|passwd|password|auth|access|credential)[\w.-]{0,20})["']?[ \t]{0,3}(?:=|:=|=>|:|,)[ \t]{0,3}["'\x60]?([A-Za-z0-9_.~+/=:!@#$%^&*-]{10,150})(?=[\x60'"\s;,)}\]<>&|]|\\[nrt]|$)/gi,
    entropy: 3.5,
  },
  {
    id: 'jwt',
    kind: 'jwt',
    keywords: ['ey'],
    pattern: tok('ey[A-Za-z0-9_-]{17,4096}\\.ey[A-Za-z0-9_-]{17,16384}\\.(?:[A-Za-z0-9_-]{10,4096}={0,2})?'),
    entropy: 3,
  },
];

/** Entropy floor of the generic key-name rule (pii.md: generic key name + entropy ≥ 3.5). */
export const GENERIC_ENTROPY = 3.5;

/**
 * Generic secret under a secret-like key (`apiKey`, `client_secret`, `token`...): 16..512 characters
 * of a token alphabet, entropy ≥ 3.5, not a placeholder, not a UUID or pure hex digest (those are ids
 * and hashes far more often than secrets), not a plain word or path.
 */
export function genericSecretValue(v: string): boolean {
  if (v.length < 16 || v.length > 512) return false;
  if (!/^[A-Za-z0-9_.~+/=:!@#$%^&*-]+$/.test(v)) return false;
  if (isPlaceholder(v)) return false;
  // UUIDs and hex strings stay candidates here: under an explicit secret key they are keys (Heroku API
  // keys are UUIDs, GitHub classic tokens were 40 hex); negative hints (`tokenId`, `hash`) drop them.
  if (/(?:abcdefgh|12345678|qwertyui)/i.test(v) && shannon(v) < 4.5) return false;
  // Code identifiers, not values: `jetbrains.mps.v8_elimination`, `Ed25519.BlindKeySignatures`, `chain_Anvil2_Key`.
  if (
    /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(v) ||
    /^[A-Za-z]+[0-9]*(?:_[A-Za-z][A-Za-z0-9]{0,30})+$/.test(v)
  )
    return false;
  // A bare 32-hex value is an MD5 digest or a GUID without dashes far more often than a key.
  if (/^[0-9a-f]{32}$/.test(v)) return false;
  if (/^\d+$/.test(v) || /^[a-z]+$/i.test(v)) return false;
  if (v.includes('/') && /^[\w./-]+$/.test(v) && !/\d/.test(v)) return false;
  return shannon(v) >= GENERIC_ENTROPY;
}

function secretIdentifier(ident: string): boolean {
  const ev = keyEvidence([ident]);
  return (
    !ev.negative &&
    ((ev.positive.api_key ?? 0) >= 1 || (ev.positive.password ?? 0) >= 1 || (ev.positive.session_token ?? 0) >= 1)
  );
}

export interface SecretMatch {
  rule: SecretRule;
  value: string;
  start: number;
  end: number;
  example: boolean;
}

const MAX_SECRET_SCAN = 262_144;
const SEQUENCE = /abcdefghij|bcdefghijk|0123456789|123456789|qwertyuiop/i;

// One keyword pass for all rules instead of `includes` per rule and keyword (measured 10x faster on
// typical 16-40 character leaves, 2x on 700-character JWTs). KEYWORD_SCAN is a lookahead alternation of
// every distinct keyword, longest first, so at each position it captures the longest keyword starting
// there; every keyword that is a prefix of it starts there too (KW_RULES maps each to the rules of all of them). Together these are exactly
// the keywords `lower.includes(k)` would find, overlaps included.
const KEYWORDS: readonly string[] = [...new Set(SECRET_RULES.flatMap((r) => r.keywords))].sort(
  (a, b) => b.length - a.length || (a < b ? -1 : 1),
);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const KEYWORD_SCAN = new RegExp(`(?=(${KEYWORDS.map(escapeRe).join('|')}))`, 'g');
/** Rule indices (into SECRET_RULES) per keyword, for every keyword that is a prefix of the key. */
const KW_RULES: ReadonlyMap<string, readonly number[]> = new Map(
  KEYWORDS.map((k) => {
    const rules: number[] = [];
    SECRET_RULES.forEach((r, i) => {
      if (r.keywords.some((w) => k.startsWith(w))) rules.push(i);
    });
    return [k, rules];
  }),
);
const ruleActive = new Uint8Array(SECRET_RULES.length);

/** Marks in `ruleActive` the rules with a keyword in `lower`; returns whether any was marked. */
function markRules(lower: string): boolean {
  const re = KEYWORD_SCAN;
  re.lastIndex = 0;
  let any = false;
  let m: RegExpExecArray | null;
  while ((m = re.exec(lower)) !== null) {
    const rules = KW_RULES.get(m[1] as string);
    if (rules !== undefined) for (const i of rules) ruleActive[i] = 1;
    any = true;
    re.lastIndex = m.index + 1;
  }
  return any;
}

/**
 * Every rule over `text` (bounded to 256 KiB). `lower` is `text.toLowerCase()` when the caller has it.
 * Matches are returned in rule order, then text order; a rule's entropy floor and placeholder filter
 * are applied here.
 */
export function scanSecrets(text: string, out: SecretMatch[], lower?: string): void {
  if (text.length > MAX_SECRET_SCAN) text = text.slice(0, MAX_SECRET_SCAN);
  const lc = lower ?? text.toLowerCase();
  ruleActive.fill(0);
  if (!markRules(lc)) return;
  for (let ri = 0; ri < SECRET_RULES.length; ri++) {
    if (ruleActive[ri] === 0) continue;
    ruleActive[ri] = 0;
    const rule = SECRET_RULES[ri] as SecretRule;
    const re = rule.pattern;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    let guard = 0;
    while ((m = re.exec(text)) !== null && guard++ < 64) {
      // The generic rule captures identifier (1) and value (2); the identifier must be a secret-like
      // key by our tokeniser (`client_secret` yes, `accessor`, `credentialsId`, `public_key` no).
      const generic = rule.id === 'generic-api-key';
      const value = (generic ? m[2] : m[1]) ?? m[0];
      if (generic && !secretIdentifier(m[1] ?? '')) continue;
      const start = m.index + m[0].indexOf(value);
      if (m[0].length === 0) re.lastIndex++;
      if (rule.entropy > 0 && shannon(value) < rule.entropy) continue;
      if (rule.id === 'url-credentials' && isPlaceholder(value)) continue;
      if (generic && (!genericSecretValue(value) || /^ey[A-Za-z0-9_-]{10,}\.ey/.test(value))) continue;
      // `credential_sid=CR…`, `token_uuid: 3f2a…`: the id of a credential, not the credential (ids.ts).
      if (generic && keyEvidence([m[1] ?? '']).idKey && identifierShape(value) !== null) continue;
      // Sequential fillers (`AIzaSyabcdefghijklmnopqrstuvwxyz1234567`) are documentation samples: kept, marked.
      const example = rule.example?.test(value) === true || SEQUENCE.test(value);
      out.push({ rule, value, start, end: start + value.length, example });
    }
  }
}
