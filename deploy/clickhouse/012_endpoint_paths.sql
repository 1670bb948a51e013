-- Where the exchanges of a provisional path went once templates were decided. An exchange row keeps
-- the path the analyzer attributed it to when it arrived (`exchanges.path`, e.g. /products/SKU-1042
-- before enough SKUs were seen to template them); the inventory endpoint it counts in is
-- `endpoint_paths.path` (/products/{productId}). Exchange rows are never rewritten: one mapping row per
-- distinct provisional key (bounded by the path tree), re-written at every snapshot, the last one wins.
--   SELECT m.path, count() FROM exchanges AS e FINAL
--   JOIN endpoint_paths AS m FINAL ON e.host = m.host AND e.method = m.method AND e.path = m.raw_path
--   GROUP BY m.path
CREATE TABLE IF NOT EXISTS endpoint_paths
(
    host String COMMENT 'API host',
    method LowCardinality(String) COMMENT 'HTTP method',
    raw_path String COMMENT 'Provisional path stored on exchange rows (exchanges.path)',
    path String COMMENT 'Endpoint template of the inventory (endpoints.path) those exchanges count in'
)
ENGINE = ReplacingMergeTree
ORDER BY (host, method, raw_path)
COMMENT 'apitap provisional exchange path → inventory endpoint; read WITH FINAL';
