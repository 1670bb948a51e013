// tls/v1: what the collectors learn from one TLS connection's cleartext handshake. It travels beside
// exchange/v1 (a TLS connection yields no exchanges) from the collector to the TLS inventory.
//
// Contract:
// - One record per TCP connection whose first bytes in either direction were TLS, emitted once: when
//   the handshake's cleartext part is over (TLS 1.3: the ServerHello; TLS <= 1.2: the server's
//   ChangeCipherSpec), or at the end of the connection with whatever was seen.
// - Wire values, not names: versions and cipher suites are the 16-bit code points of the IANA TLS
//   registries (0x0303 = TLS 1.2, 0x1301 = TLS_AES_128_GCM_SHA256); GREASE values (RFC 8701) are left
//   out. Naming is the analyzers' business.
// - Times are packet time in integer microseconds since the Unix epoch.
// - Every field is always present (null or [] where unknown), keys in the order below, so the same
//   capture gives byte-identical JSON.
import { z } from 'zod';
import { Endpoint } from './exchange.js';

export const TLS_SCHEMA = 'tls/v1' as const;

/** One X.509 certificate of the server's chain (TLS <= 1.2 Certificate message, RFC 5246 §7.4.2). */
export const TlsCertificate = z.object({
  /** Distinguished names as node's X509Certificate prints them, lines joined with ", ". */
  subject: z.string(),
  issuer: z.string(),
  /** subjectAltName entries: "DNS:name", "IP Address:1.2.3.4", ... in certificate order. */
  sans: z.array(z.string()),
  /** Validity (RFC 5280 §4.1.2.5) as ISO-8601 UTC. */
  validFrom: z.string(),
  validTo: z.string(),
  /** "rsa", "ec", "ed25519", "dsa", ... or "unknown". */
  keyType: z.string(),
  /** RSA/DSA modulus bits, EC curve bits; null when unknown. */
  keyBits: z.number().int().nullable(),
  /** EC named curve (e.g. "prime256v1"), else null. */
  curve: z.string().nullable(),
  /** The certificate's signatureAlgorithm (RFC 5280 §4.1.1.2) by name, or its dotted OID when unnamed. */
  signatureAlgorithm: z.string(),
  /** Serial number, upper-case hex. */
  serial: z.string(),
  /** SHA-256 fingerprint of the DER, "AB:CD:..." upper-case. */
  sha256: z.string(),
  /** basicConstraints cA. */
  ca: z.boolean(),
});
export type TlsCertificate = z.infer<typeof TlsCertificate>;

export const TlsHandshake = z.object({
  schema: z.literal(TLS_SCHEMA),
  /** Deterministic: first 16 hex digits of sha256("tls:" flowId). */
  id: z.string(),
  flowId: z.string(),
  vni: z.number().int().nullable(),
  /** The side that sent the ClientHello (else the flow layer's guess). */
  client: Endpoint,
  server: Endpoint,
  /** Packet time of the packet that completed the ClientHello (else of the first TLS byte seen). */
  timeUs: z.number().int(),
  /** server_name extension, host_name entry (RFC 6066 §3), lower-cased; null when absent. */
  sni: z.string().nullable(),
  /** ClientHello supported_versions (RFC 8446 §4.2.1) in wire order, deduplicated; without it, [legacy_version]. */
  versionsOffered: z.array(z.number().int()),
  /** ServerHello: supported_versions when present (TLS 1.3), else legacy_version; null when no ServerHello. */
  version: z.number().int().nullable(),
  /** ALPN protocol names offered (RFC 7301), wire order. */
  alpnOffered: z.array(z.string()),
  /** ALPN protocol the server selected in its ServerHello, or null (TLS 1.3 sends it encrypted, RFC 8446 §4.3.1). */
  alpn: z.string().nullable(),
  /** Cipher suites offered, wire order. */
  ciphersOffered: z.array(z.number().int()),
  /** Cipher suite the server chose, or null. */
  cipher: z.number().int().nullable(),
  /** The server answered with a HelloRetryRequest first (RFC 8446 §4.1.4). */
  helloRetry: z.boolean(),
  /** Server chain, leaf first; null when no Certificate message was seen in clear (TLS 1.3, resumption, loss). */
  certificates: z.array(TlsCertificate).nullable(),
  /** Stable snake_case names (collectors/tls/anomalies.ts), sorted. */
  anomalies: z.array(z.string()),
  /** Both ClientHello and ServerHello were seen. */
  complete: z.boolean(),
});
export type TlsHandshake = z.infer<typeof TlsHandshake>;

/** Receives TLS records beside the exchange emitter (collectors/collector.ts). */
export type TlsEmitter = (rec: TlsHandshake) => void;

/** One entry of report/v1 `tls` and of the store's `tls` table: per (server ip, port, sni). */
export const TlsEndpoint = z.object({
  server: z.string(),
  port: z.number().int().min(0).max(65535),
  sni: z.string().nullable(),
  /** Negotiated versions by name ("TLS 1.2"), sorted. */
  versions: z.array(z.string()),
  /** Negotiated ALPN protocols, sorted. */
  alpn: z.array(z.string()),
  /** Negotiated cipher suites by IANA name (or "0xC0FF"), sorted. */
  cipher: z.array(z.string()),
  /** Leaf certificate of the latest connection that showed one, with its chain's subjects; null when none seen. */
  certificate: TlsCertificate.extend({ chain: z.array(z.string()) }).nullable(),
  connections: z.number().int().nonnegative(),
  firstSeen: z.string(),
  lastSeen: z.string(),
});
export type TlsEndpoint = z.infer<typeof TlsEndpoint>;
