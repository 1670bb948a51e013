-- Per-exchange metadata for analytics: never bodies, header values or personal data.
-- An exchange id is deterministic (flow and sequence), so a replay rewrites identical rows; the
-- last inserted of equal ids wins. The partition is derived from the row itself (month of packet
-- time), so rows with the same id always land in the same partition and FINAL folds them.
CREATE TABLE IF NOT EXISTS exchanges
(
    id String COMMENT 'Deterministic exchange id',
    flow_id String COMMENT 'Connection the exchange was carried on',
    seq UInt32 COMMENT 'Position of the exchange within its connection',
    vni Nullable(UInt32) COMMENT 'VXLAN network identifier (null when not tunnelled)',
    host String COMMENT 'API host',
    method LowCardinality(String) COMMENT 'HTTP method',
    path String COMMENT 'Endpoint template the exchange was attributed to',
    status Nullable(UInt16) COMMENT 'Response status code (null when unanswered)',
    request_time Nullable(DateTime64(6, 'UTC')) COMMENT 'Packet time of the request',
    latency_us Nullable(Int64) COMMENT 'Request-to-response latency in microseconds (packet time)',
    request_bytes UInt64 COMMENT 'Request size on the wire (headers and body)',
    response_bytes UInt64 COMMENT 'Response size on the wire (headers and body)',
    anomalies Array(LowCardinality(String)) COMMENT 'Stable snake_case anomaly names that affected this exchange',
    complete Bool COMMENT 'Both messages seen whole (no gap, truncation or missing side)'
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ifNull(request_time, toDateTime64(0, 6, 'UTC')))
ORDER BY id
COMMENT 'apitap per-exchange metadata (no bodies); read WITH FINAL';
