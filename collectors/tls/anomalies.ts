// Every counter and anomaly name the TLS layer raises, with what it means.
//
// Contract: stable snake_case names. Anomalies (the ones ending up in TlsHandshake.anomalies) are
// counted once per connection they affect; the statistics are counted once per event.
export const TLS_ANOMALIES = {
  tls_bad_record:
    'a record header that is not TLS (content type, version or length) before the handshake ended; that direction is no longer parsed',
  tls_bad_handshake: 'a handshake message whose fields run past its length (RFC 8446 §4); the message is ignored',
  tls_handshake_overflow:
    'handshake bytes of one direction exceeded maxHandshakeBytes; that direction is no longer parsed',
  tls_budget_exceeded:
    'incomplete handshake bytes held by all connections reached maxTotalHandshakeBytes; that direction is no longer parsed',
  tls_gap: 'a gap in a direction before its cleartext handshake ended; that direction is no longer parsed',
  tls_certificate_unparsed: 'a certificate of the chain that node:crypto X509Certificate could not read',
  tls_chain_capped: 'the Certificate message held more than maxCertificates certificates; the rest are not summarised',
  tls_sslv2_client_hello: 'an SSLv2-compatible ClientHello (RFC 5246 Appendix E.2): counted, not parsed',
  tls_no_client_hello: 'the connection ended without a ClientHello seen (capture joined mid-handshake, or loss)',
  tls_no_server_hello: 'the connection ended without a ServerHello seen (one-sided capture, refused, or loss)',
  tls_emit_error: 'the TLS record sink threw; the record was dropped',
  tls_internal_error: 'an unexpected exception in the TLS layer: parsing of the connection stopped',
} as const;

export const TLS_STATS = {
  tls_connections: 'connections whose first bytes in a direction were a TLS record (or an SSLv2 ClientHello)',
  tls_late_start: 'TLS began after plaintext on the connection (HTTP CONNECT tunnel, STARTTLS)',
  tls_records_emitted: 'tls/v1 records emitted (one per TLS connection)',
  tls_client_hellos: 'ClientHello messages parsed',
  tls_server_hellos: 'ServerHello messages parsed (HelloRetryRequest included)',
  tls_hello_retries: 'HelloRetryRequest messages (RFC 8446 §4.1.4)',
  tls_certificates: 'certificates summarised from Certificate messages',
  tls_encrypted_bytes: 'bytes after the cleartext handshake, skipped without buffering',
} as const;

export type TlsAnomaly = keyof typeof TLS_ANOMALIES;
