-- The protocol an endpoint's exchanges were carried in (exchange/v1 `protocol`, report/v1 endpoint
-- `protocol`): 'http' for HTTP/1.x, 'h2c', 'grpc'. Rows written before the column read as 'http'.
ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS protocol LowCardinality(String) DEFAULT 'http' COMMENT 'Protocol of the endpoint''s exchanges: http (HTTP/1.x), h2c, grpc; the most frequent when several';
