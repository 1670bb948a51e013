// Request headers that no operation needs to declare: HTTP's own (RFC 9110, 9111, 9112), CORS and
// fetch metadata, proxies' and tracing systems'. OpenAPI itself says a header parameter named
// Accept, Content-Type or Authorization "SHALL be ignored" (3.x Parameter Object, `in`), because
// the spec describes them elsewhere; credentials of declared security schemes are not parameters
// either (the caller adds the apiKey header names of the spec's schemes).

const EXACT = new Set([
  'host',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-charset',
  'accept-datetime',
  'authorization',
  'proxy-authorization',
  'cache-control',
  'pragma',
  'connection',
  'keep-alive',
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-md5',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'cookie',
  'origin',
  'referer',
  'dnt',
  'priority',
  'range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  'date',
  'via',
  'forwarded',
  'max-forwards',
  'access-control-request-method',
  'access-control-request-headers',
  'upgrade-insecure-requests',
  'x-requested-with',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-real-ip',
  'x-original-forwarded-for',
  'x-request-id',
  'x-correlation-id',
  'request-id',
  'correlation-id',
  'x-amzn-trace-id',
  'x-cloud-trace-context',
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'uber-trace-id',
  'sentry-trace',
  'x-envoy-expected-rq-timeout-ms',
  'x-csrf-token',
  'x-xsrf-token',
  'http2-settings',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'content-disposition',
  'save-data',
  'purpose',
  'x-purpose',
  'x-moz',
  'x-http-method-override',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'x-amz-user-agent',
  'newrelic',
  'elastic-apm-traceparent',
  'x-request-start',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'x-original-url',
  'x-original-uri',
  'x-scheme',
]);

/** Query parameters added by browsers, caches and campaign tools, not by the API's clients. */
const QUERY_EXACT = new Set(['_', 'callback', 'fbclid', 'gclid', 'msclkid', 'dclid', 'mc_cid', 'mc_eid']);

/** True for a query parameter no operation needs to declare (`_` cache busters, `utm_*` campaign tags). */
export function isIncidentalQuery(name: string): boolean {
  return QUERY_EXACT.has(name) || name.startsWith('utm_');
}

const PREFIXES = [
  'sec-',
  'x-b3-',
  'x-datadog-',
  'x-envoy-',
  'x-forwarded-',
  'ot-',
  'x-ot-',
  'cf-',
  'x-vercel-',
  'l5d-',
  'x-appengine-',
  'fastly-',
  'akamai-',
  'x-akamai-',
  'x-istio-',
  ':',
];

/** True for a lower-case header name every operation may receive without declaring it. */
export function isStandardHeader(lower: string): boolean {
  if (EXACT.has(lower)) return true;
  for (const p of PREFIXES) if (lower.startsWith(p)) return true;
  return false;
}
