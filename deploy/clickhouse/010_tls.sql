-- Encrypted API hosts (report/v1 `tls`): one row per (server ip, port, SNI) from TLS handshakes.
-- A replay writes the same key again; the row with the highest `version` (packet time of last_seen)
-- wins. Read WITH FINAL.
CREATE TABLE IF NOT EXISTS tls
(
    server String COMMENT 'Server IP address',
    port UInt16 COMMENT 'Server TCP port',
    sni String COMMENT 'server_name of the ClientHello, lower-cased; empty when the client sent none',
    versions Array(String) COMMENT 'Negotiated protocol versions by name (TLS 1.2, TLS 1.3), sorted',
    alpn Array(String) COMMENT 'Negotiated ALPN protocols (TLS <= 1.2; TLS 1.3 sends it encrypted), sorted',
    cipher Array(String) COMMENT 'Negotiated cipher suites by IANA name (or 0xNNNN), sorted',
    certificate String COMMENT 'Leaf certificate summary with chain subjects as a JSON object; empty when none was seen in clear',
    connections UInt64 COMMENT 'TLS connections seen',
    first_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the first ClientHello',
    last_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the last ClientHello',
    version UInt64 COMMENT 'Packet time of last_seen in microseconds: the highest version wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (server, port, sni)
COMMENT 'apitap encrypted hosts from TLS handshakes (report/v1 tls); read WITH FINAL';
