-- Drift baseline (api-fact/v1, engine/contracts/drift.ts): every fact an endpoint ever showed in a
-- window written to this store (the endpoint, field shapes, query parameter names, PII kinds per
-- field, auth schemes, status classes), with the packet time it was first and last seen. Writers
-- read the current rows, merge (first_seen kept, last_seen advanced) and insert the merged row; the
-- highest version (last_seen in microseconds) wins. Read WITH FINAL. Names and shapes only, no values.
CREATE TABLE IF NOT EXISTS api_facts
(
    host String COMMENT 'API host',
    method LowCardinality(String) COMMENT 'HTTP method',
    path String COMMENT 'Path template',
    kind LowCardinality(String) COMMENT 'endpoint, field, query_param, pii, auth or status',
    value String COMMENT 'Field shape, parameter name, "pii-kind location field", auth scheme, status class; empty for the endpoint',
    first_seen DateTime64(6, 'UTC') COMMENT 'Packet time the fact was first seen in any window',
    last_seen DateTime64(6, 'UTC') COMMENT 'Packet time the fact was last seen',
    version UInt64 COMMENT 'Packet time of last_seen in microseconds: the highest version is the current state'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (host, method, path, kind, value)
COMMENT 'apitap drift baseline (api-fact/v1); read WITH FINAL';
