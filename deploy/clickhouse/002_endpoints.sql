-- Endpoint inventory (inventory/v1 EndpointRecord), one current row per (host, method, path).
-- Writers insert the whole current state of an endpoint; the row with the highest `version`
-- (packet time of last_seen) wins, and among equal versions the last inserted. Read WITH FINAL.
CREATE TABLE IF NOT EXISTS endpoints
(
    host String COMMENT 'API host (Host header or server address)',
    method LowCardinality(String) COMMENT 'HTTP method',
    path String COMMENT 'Path template, e.g. /users/{userId}',
    hits UInt64 COMMENT 'Exchanges attributed to this endpoint',
    documented Bool COMMENT 'Present in a user-supplied OpenAPI spec for this host',
    deprecated Bool COMMENT 'Marked deprecated by a spec or by Deprecation/Sunset response headers',
    auth Array(String) COMMENT 'Auth schemes seen: basic, bearer, jwt, api_key_header, api_key_query, cookie, none',
    pii Array(Tuple(kind String, location String, field String)) COMMENT 'PII kinds per location and normalised field (never values)',
    first_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the first exchange',
    last_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the last exchange',
    status_classes Map(String, UInt64) COMMENT 'Responses per status class (2xx, 4xx, none for unanswered)',
    latency_p50_ms Nullable(Float64) COMMENT 'Median request-to-response latency in ms (packet time)',
    latency_p95_ms Nullable(Float64) COMMENT '95th percentile latency in ms (packet time)',
    content_types Array(String) COMMENT 'Media types seen on requests and responses',
    query_params Array(String) COMMENT 'Query parameter names seen (never values)',
    fields Array(String) COMMENT 'JSON field paths with types, e.g. response.body $.items[*].id:integer',
    category LowCardinality(String) COMMENT 'api, static, health or preflight',
    explain Array(String) COMMENT 'How the path template was decided (rules, distinct values, value classes)',
    vnis Array(UInt32) COMMENT 'VXLAN network identifiers the traffic came from (empty when not tunnelled)',
    version UInt64 COMMENT 'Packet time of last_seen in microseconds: the highest version is the current state'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (host, method, path)
COMMENT 'apitap endpoint inventory (inventory/v1); read WITH FINAL';
