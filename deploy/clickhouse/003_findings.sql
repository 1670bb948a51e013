-- Findings (finding/v1). The id is deterministic (hash of kind, host, method, path and the
-- discriminating detail), so replays write the same id again; the row with the highest `version`
-- (packet time of last_seen, 0 when unknown) wins. Read WITH FINAL.
CREATE TABLE IF NOT EXISTS findings
(
    id String COMMENT 'Deterministic finding id',
    kind LowCardinality(String) COMMENT 'shadow_api, zombie_api, orphan_api, pii_exposure, unauthenticated_endpoint, mixed_auth, sensitive_in_url, ...',
    severity Enum8('info' = 0, 'low' = 1, 'medium' = 2, 'high' = 3, 'critical' = 4) COMMENT 'Severity; ORDER BY severity sorts by rank',
    host String COMMENT 'API host',
    method LowCardinality(String) COMMENT 'HTTP method',
    path String COMMENT 'Path template',
    confidence Float64 COMMENT '0..1, includes capture quality (gaps, truncation, one-sided flows, unpaired messages)',
    evidence String COMMENT 'Human-readable, redacted evidence (never a raw personal value or secret)',
    details String COMMENT 'Structured redacted detail as a JSON object (query with JSONExtract*)',
    first_seen Nullable(DateTime64(6, 'UTC')) COMMENT 'Packet time of the first supporting exchange',
    last_seen Nullable(DateTime64(6, 'UTC')) COMMENT 'Packet time of the last supporting exchange',
    version UInt64 COMMENT 'Packet time of last_seen in microseconds (0 when null): the highest version wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
COMMENT 'apitap findings (finding/v1); read WITH FINAL';
