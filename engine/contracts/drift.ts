// api-fact/v1: what the drift analyzer (analyzers/drift) keeps in the store as the baseline of
// earlier windows. One row per (host, method, path, kind, value), with the packet times it was first
// and last seen over every window written into the store. Values are names and shapes, never
// observed values: a field shape ("response.body $.a:string"), a parameter name, "kind location
// field" for PII, an auth scheme, a status class, '' for the endpoint itself.
export const FACT_KINDS = ['endpoint', 'field', 'query_param', 'pii', 'auth', 'status'] as const;
export type FactKind = (typeof FACT_KINDS)[number];

export interface ApiFact {
  host: string;
  method: string;
  path: string;
  kind: FactKind;
  value: string;
  /** Packet time, ISO-8601 with microseconds (UTC). */
  firstSeen: string;
  lastSeen: string;
}
