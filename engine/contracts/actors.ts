// Actors (analyzers/actors): who sent an exchange, and an actor's traffic in numbers. Shared by the
// analyzers (which derive them) and the store (which keeps them on exchange rows and in the actors
// table, migration 013), so the analyzer group's behaviour job rebuilds from stored rows exactly the
// events a replay derives. Only masked forms and keyed hashes: never a raw credential or value.

export interface ActorFields {
  actorId: string;
  /** TCP peer (raw or `hmac:<hex>`). */
  clientIp: string;
  /** First X-Forwarded-For / Forwarded hop, '' when absent; never identity. */
  forwardedFor: string;
  /** Masked principal, '' without credentials. */
  principal: string;
  /** jwt_sub, jwt_client, api_key, basic_user, session, or ''. */
  principalKind: string;
  /** HMAC (32 hex) of the principal, '' without credentials. */
  principalHash: string;
  /**
   * Truncated HMACs of identifier values: `p<i>:<hash>` for path segment i (0-based, percent-decoded),
   * `q:<name>:<hash>` for identifier-like query parameters (lower-case name).
   */
  idValues: string[];
  /** Truncated HMAC of the login name a sign-in request presented (body field), '' otherwise. */
  loginHash: string;
  /** Truncated HMAC of the id of the object a POST created (Location's last segment, or the body's id). */
  createdHash: string;
  /** Truncated HMACs of the distinct personal-data values of the response (PII layer), sorted. */
  piiReceived: string[];
}

/** One exchange as the behaviour detectors see it. */
export interface ActorEvent extends ActorFields {
  /** Exchange id (the tie-breaker of packet-time order). */
  x: string;
  /** Packet time of the request (µs). */
  t: number;
  host: string;
  method: string;
  /** Provisional path (exchange row `path`); the detectors resolve it to the final template. */
  path: string;
  status: number | null;
}

/** An actor's traffic in numbers: report/v1 `actors`, the store's actors table. */
export interface ActorSummary {
  id: string;
  /** The IP it used most (ties: the smaller), raw or `hmac:<hex>`. */
  ip: string;
  principal: string | null;
  principalKind: string | null;
  principalHash: string;
  requests: number;
  /** Distinct endpoints (host, method, template). */
  endpoints: number;
  errors4xx: number;
  errors5xx: number;
  /** Distinct personal-data values received (keyed hashes; bounded). */
  piiValues: number;
  firstUs: number;
  lastUs: number;
}
