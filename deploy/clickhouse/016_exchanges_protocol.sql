-- The protocol an exchange was carried in (exchange/v1 `protocol`): 'http' (HTTP/1.x), 'h2c', 'grpc',
-- 'websocket'; and, for WebSocket message records (exchange/v1 `websocket`), the side that sent the
-- message ('client' or 'server'; '' for every other record). So SQL tells a WebSocket endpoint's
-- upgrades (protocol 'websocket', ws_direction '') from its messages per direction. Rows written
-- before the columns read as 'http' and ''.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS protocol LowCardinality(String) DEFAULT 'http' COMMENT 'Protocol the exchange was carried in: http (HTTP/1.x), h2c, grpc, websocket';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS ws_direction LowCardinality(String) DEFAULT '' COMMENT 'WebSocket message records: client or server (the sender); empty for every other record'
