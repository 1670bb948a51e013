// What each finding kind means for a reader: its OWASP API Security Top 10 (2023) category and
// concrete remediation advice. One entry per kind in FINDING_KINDS: the Record type makes a new kind
// without guidance a compile error, so the HTML report, OCSF output and any other reader stay complete.
//
// Categories: OWASP API Security Top 10 2023 (https://owasp.org/API-Security/editions/2023/en/0x11-t10/).
import type { FindingKind } from '../../contracts/inventory.js';

export const OWASP_API_2023 = {
  'API1:2023': 'Broken Object Level Authorization',
  'API2:2023': 'Broken Authentication',
  'API3:2023': 'Broken Object Property Level Authorization',
  'API4:2023': 'Unrestricted Resource Consumption',
  'API5:2023': 'Broken Function Level Authorization',
  'API6:2023': 'Unrestricted Access to Sensitive Business Flows',
  'API7:2023': 'Server Side Request Forgery',
  'API8:2023': 'Security Misconfiguration',
  'API9:2023': 'Improper Inventory Management',
  'API10:2023': 'Unsafe Consumption of APIs',
} as const;
export type OwaspApiId = keyof typeof OWASP_API_2023;

/** What a finding kind is about; OCSF output picks its event class from this. */
export const FINDING_FAMILIES = ['inventory', 'data', 'auth', 'behaviour'] as const;
export type FindingFamily = (typeof FINDING_FAMILIES)[number];

export interface FindingGuide {
  title: string;
  family: FindingFamily;
  /** The primary OWASP API Top 10 (2023) category. */
  owasp: OwaspApiId;
  /** Further categories the kind often indicates. */
  related: OwaspApiId[];
  /** What the finding means, one sentence. */
  summary: string;
  /** Concrete steps, most effective first. */
  remediation: string[];
}

export const FINDING_GUIDE: Record<FindingKind, FindingGuide> = {
  shadow_api: {
    title: 'Shadow API',
    family: 'inventory',
    owasp: 'API9:2023',
    related: ['API8:2023'],
    summary: 'An endpoint answers traffic but appears in no OpenAPI specification for its host.',
    remediation: [
      'Find the owning team (host, path, first seen) and decide: document it or remove it.',
      'If it must stay, add the operation to the spec with its security requirement and response schema, then re-run apitap with --spec.',
      'If it is a debug, admin or internal route, remove it from the production build or block it at the gateway.',
      'Route all traffic through the API gateway so new routes cannot go live without a reviewed spec.',
    ],
  },
  zombie_api: {
    title: 'Zombie API',
    family: 'inventory',
    owasp: 'API9:2023',
    related: ['API8:2023'],
    summary: 'A deprecated or removed operation is still being called and answered.',
    remediation: [
      'Identify the remaining callers (client addresses, tokens) and move them to the replacement version.',
      'Announce and enforce the Sunset date: after it, answer 410 Gone at the gateway.',
      'Keep deprecated versions under the same authentication, rate limits and patching as current ones until removed.',
    ],
  },
  orphan_api: {
    title: 'Orphan API',
    family: 'inventory',
    owasp: 'API9:2023',
    related: [],
    summary: 'An operation is documented but no call was observed in the capture window.',
    remediation: [
      'Confirm with the owners whether the operation is still needed; a longer window rules out rare batch jobs.',
      'Remove unused operations from the code and the spec: unused code is unpatched attack surface.',
      'If it is served elsewhere (other host or mirror point), widen the capture so the inventory sees it.',
    ],
  },
  pii_exposure: {
    title: 'Personal data or secret exposure',
    family: 'data',
    owasp: 'API3:2023',
    related: ['API1:2023'],
    summary: 'Requests or responses carry personal data, credentials or tokens in the listed fields.',
    remediation: [
      'Return only the properties the client needs: use explicit response DTOs or field allow-lists instead of serialising whole records.',
      'Mask or truncate sensitive values server-side (card numbers to the last 4 digits, IBANs, national ids).',
      'Check object-level authorization: the caller may read this record only if it owns it or has the role.',
      'Never return secrets (API keys, session tokens, passwords) in bodies; issue tokens only through the login flow over TLS with HttpOnly, Secure cookies.',
      'Record the data flow in the processing register (GDPR Art. 30) and restrict who can call the endpoint.',
    ],
  },
  unauthenticated_endpoint: {
    title: 'Unauthenticated endpoint',
    family: 'auth',
    owasp: 'API2:2023',
    related: ['API5:2023', 'API1:2023'],
    summary: 'The endpoint answered successfully to requests that carried no credentials.',
    remediation: [
      'Require authentication by default at the gateway or framework level and allow-list the few public routes explicitly.',
      'If the spec declares a security requirement, make the implementation enforce it (a test per route that expects 401 without credentials).',
      'If the endpoint is public by design, document it as such (security: [] in the spec) and rate-limit it.',
      'Check whether credentials are enforced outside HTTP (mTLS, network policy) before closing the finding.',
    ],
  },
  mixed_auth: {
    title: 'Inconsistent authentication',
    family: 'auth',
    owasp: 'API2:2023',
    related: ['API5:2023'],
    summary: 'The same endpoint is called both with and without credentials, and unauthenticated calls succeed.',
    remediation: [
      'Enforce one authentication scheme per operation; reject requests without credentials with 401.',
      'Look for a fallback path (legacy session, anonymous access) that bypasses the check and remove it.',
      'Add a contract test that calls the endpoint without credentials and expects 401.',
    ],
  },
  weak_tls: {
    title: 'Weak TLS',
    family: 'auth',
    owasp: 'API8:2023',
    related: ['API2:2023'],
    summary:
      'A connection negotiated TLS 1.0/1.1 or a weak cipher suite (export, RC4, 3DES, NULL, anonymous): its traffic can be read or altered.',
    remediation: [
      'Disable TLS 1.0 and 1.1 and the weak suites on the server or load balancer (allow TLS 1.2 with AEAD suites and TLS 1.3).',
      'Find the clients that still negotiate them (the finding names the server and SNI) and upgrade them before the cut-over.',
      'Scan the endpoint again after the change to confirm the weak protocol is refused.',
    ],
  },
  certificate_expired: {
    title: 'Expired certificate',
    family: 'auth',
    owasp: 'API8:2023',
    related: ['API2:2023'],
    summary:
      'The server presented a certificate past its validity at the time of the traffic: clients that accept it cannot detect impersonation.',
    remediation: [
      'Renew the certificate now and deploy it to every instance behind the name.',
      "Automate renewal (ACME or the cloud provider's certificate manager) and alert well before expiry.",
      'Check why clients accepted an expired certificate: verification may be disabled in them.',
    ],
  },
  certificate_expiring: {
    title: 'Certificate expiring soon',
    family: 'auth',
    owasp: 'API8:2023',
    related: [],
    summary: 'The server certificate expires within the configured window (30 days by default) of the traffic.',
    remediation: [
      'Renew the certificate before it expires and deploy it to every instance behind the name.',
      'Automate renewal and monitor expiry dates of every certificate the inventory lists.',
    ],
  },
  certificate_name_mismatch: {
    title: 'Certificate name mismatch',
    family: 'auth',
    owasp: 'API8:2023',
    related: ['API2:2023'],
    summary:
      "The name the client asked for (SNI) is not covered by the certificate's names: clients that connect anyway do not verify the server.",
    remediation: [
      'Issue a certificate whose SANs cover every name the service is reached by, or route the name to the right service.',
      'Make clients verify server names; a client that ignored the mismatch is open to interception.',
    ],
  },
  cleartext_credentials: {
    title: 'Credentials over plain HTTP',
    family: 'auth',
    owasp: 'API2:2023',
    related: ['API8:2023'],
    summary:
      'Passwords, tokens, API keys or session cookies crossed the network unencrypted between hosts: anyone on the path can reuse them.',
    remediation: [
      'Serve the API over HTTPS only (also between internal services, or use a mesh with mTLS) and redirect or refuse plain HTTP.',
      'Rotate the credentials that were seen in clear.',
      'Set Secure on session cookies and HSTS on the hosts.',
    ],
  },
  sensitive_in_url: {
    title: 'Sensitive data in URL',
    family: 'data',
    owasp: 'API8:2023',
    related: ['API3:2023', 'API2:2023'],
    summary:
      'Personal data, tokens or keys travel in the URL path or query, where proxies, logs and browser history keep them.',
    remediation: [
      'Move credentials to the Authorization header and personal data to the request body (POST for searches by e-mail or id number).',
      'Rotate any key or token that appeared in URLs: access logs have kept it.',
      'Scrub query strings from proxy, load balancer and application logs.',
    ],
  },
  api_change: {
    title: 'API change',
    family: 'behaviour',
    owasp: 'API9:2023',
    related: ['API3:2023', 'API2:2023'],
    summary:
      'Traffic shows something earlier windows of this store never saw: an endpoint, a field, a query parameter, personal data, an auth scheme or a status class.',
    remediation: [
      'Check the change against the release notes and the spec: an unannounced change is an inventory gap (update the spec or roll back).',
      'A new response field carrying personal data is possible excessive data exposure: remove it or restrict it to callers that need it.',
      'A new "none" auth scheme means the endpoint now answers without credentials: restore the authentication check.',
      'Gate releases on this: compare a staging capture with production (apitap diff --since) before promoting.',
    ],
  },
  api_gone_quiet: {
    title: 'API gone quiet',
    family: 'behaviour',
    owasp: 'API9:2023',
    related: [],
    summary: 'An endpoint that was active in earlier windows has not been called for longer than the quiet threshold.',
    remediation: [
      'Confirm with the owners whether the endpoint was retired on purpose; if so, remove it from the code, the gateway and the spec.',
      'If it should still be used, check the clients and the capture coverage (mirror point, filters) before concluding it is dead.',
      'Retired endpoints left deployed become zombies: block them at the gateway once no client depends on them.',
    ],
  },
  enumeration: {
    title: 'Identifier enumeration',
    family: 'behaviour',
    owasp: 'API1:2023',
    related: ['API4:2023', 'API6:2023'],
    summary:
      'One caller walked many distinct values of one identifier of one endpoint in a short window: object discovery or scraping, often the first step of a BOLA attack.',
    remediation: [
      'Throttle or block the actor at the gateway or WAF (rate limit per client and per credential on this endpoint).',
      'Check object-level authorization on the endpoint: every object read must belong to the caller.',
      'Use unguessable identifiers (UUIDs) instead of sequential ones for objects that are addressed directly.',
    ],
  },
  bola_suspect: {
    title: 'Broken object level authorization suspected',
    family: 'behaviour',
    owasp: 'API1:2023',
    related: ['API5:2023'],
    summary:
      "A principal successfully read or changed objects that the traffic binds to another principal (the other principal's own resource path, or objects it created).",
    remediation: [
      'Enforce object-level authorization in the handler: look up the object and compare its owner with the authenticated principal before answering.',
      'Revoke or rotate the credential of the principal if the access was not legitimate, and review what it read.',
      "Add a test per endpoint that a second user cannot read or change the first user's objects.",
    ],
  },
  excessive_usage: {
    title: 'Excessive usage',
    family: 'behaviour',
    owasp: 'API4:2023',
    related: ['API6:2023'],
    summary:
      "An actor's request rate on an endpoint stayed far above that endpoint's per-actor baseline for a sustained window.",
    remediation: [
      'Throttle the actor at the gateway (rate limit per credential and per IP), or block it if the traffic is not legitimate.',
      'Set rate limits and quotas on the endpoint for every client, not only for this one.',
      'If the client is legitimate, give it a bulk or paginated interface instead of request floods.',
    ],
  },
  auth_bruteforce: {
    title: 'Authentication brute force',
    family: 'behaviour',
    owasp: 'API2:2023',
    related: ['API4:2023'],
    summary:
      'Many refused authentications (401/403 or failed logins) from one IP, or one IP presenting many distinct principals or login names (credential stuffing).',
    remediation: [
      'Block or throttle the IP at the WAF; add rate limits and lockout or CAPTCHA on login and token endpoints.',
      'Check whether any attempt succeeded and reset the credentials involved.',
      'Require multi-factor authentication and detect breached passwords at login.',
    ],
  },
  pii_harvest: {
    title: 'Personal data harvesting',
    family: 'behaviour',
    owasp: 'API6:2023',
    related: ['API1:2023', 'API3:2023', 'API4:2023'],
    summary:
      'One actor received far more distinct personal data values from an endpoint than the other actors of that endpoint do.',
    remediation: [
      'Investigate the actor: revoke its credential and block its IP if the downloads were not legitimate.',
      'Limit how many records a caller can read per window and paginate with caps; return only the fields the caller needs.',
      'Log and alert on bulk reads of personal data (GDPR Art. 32: security of processing).',
    ],
  },
  undocumented_parameter: {
    title: 'Undocumented parameter',
    family: 'inventory',
    owasp: 'API9:2023',
    related: ['API3:2023', 'API8:2023'],
    summary:
      'Requests carry a query, header, path or body field that the operation in the spec does not declare: the spec is out of date or the server accepts more than it documents (mass assignment).',
    remediation: [
      'Document the parameter in the spec, or make the server reject parameters it does not declare.',
      'For body fields, bind requests to explicit allow-lists so that clients cannot set properties such as roles or owners.',
    ],
  },
  undocumented_field: {
    title: 'Undocumented response field',
    family: 'data',
    owasp: 'API3:2023',
    related: ['API9:2023'],
    summary:
      "Responses carry a field that the operation's response schema does not declare: possible excessive data exposure, worse when the field carries personal data.",
    remediation: [
      'Remove the field from the response or restrict it to callers that need it; serialise responses through an explicit schema.',
      'If the field is intended, add it to the spec so that reviews and consumers see it.',
    ],
  },
  undocumented_status: {
    title: 'Undocumented status code',
    family: 'inventory',
    owasp: 'API9:2023',
    related: ['API8:2023'],
    summary: 'The operation answered with a status code its spec does not declare (and no default response covers it).',
    remediation: [
      'Declare the status in the spec with its response schema, or fix the server so it answers only documented statuses.',
      'Unexpected 5xx answers often leak stack traces: check their bodies and error handling.',
    ],
  },
  schema_mismatch: {
    title: 'Schema mismatch',
    family: 'inventory',
    owasp: 'API8:2023',
    related: ['API3:2023', 'API10:2023'],
    summary:
      "Request or response bodies violate the operation's JSON Schema (type, format, enum or required): the spec and the implementation disagree.",
    remediation: [
      'Fix the server (or the client) to follow the schema, or correct the spec; validate bodies against the schema in CI and at the gateway.',
      'A request violation the server accepted means input validation is missing on that operation.',
    ],
  },
};

/** Guidance for a kind, or null for a kind this build does not know (e.g. read from a newer store). */
export function guideFor(kind: string): FindingGuide | null {
  return Object.hasOwn(FINDING_GUIDE, kind) ? FINDING_GUIDE[kind as FindingKind] : null;
}
