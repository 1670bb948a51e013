-- Actors: who sent each exchange, the actors table, and the actor of behaviour findings.
-- Privacy: principals are stored as a masked form plus a keyed HMAC (the installation secret), path
-- and query values, login names, created-object ids and received personal-data values only as
-- truncated keyed HMACs. Client IPs are raw by default (remediation blocks IPs) or `hmac:<hex>` with
-- --actor-ip hash. The behaviour job of the analyzer group rebuilds its detector input from these
-- exchange columns (analyzers/actors/event.ts), joined to endpoint_paths for the final template.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS actor_id String DEFAULT '' COMMENT 'Actor id: hash of the principal HMAC, else of the client IP as stored; empty for rows from before actors';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS client_ip String DEFAULT '' COMMENT 'TCP peer of the request (raw, or hmac:<hex> with --actor-ip hash)';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS forwarded_for String DEFAULT '' COMMENT 'First X-Forwarded-For / Forwarded hop (same form as client_ip); never trusted as identity';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS principal String DEFAULT '' COMMENT 'Masked principal (JWT sub or client id, API key, Basic user, session token); empty without credentials';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS principal_kind LowCardinality(String) DEFAULT '' COMMENT 'jwt_sub, jwt_client, api_key, basic_user, session, or empty';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS principal_hash String DEFAULT '' COMMENT 'Keyed HMAC (32 hex) of the principal; empty without credentials';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS id_values Array(String) DEFAULT [] COMMENT 'Truncated keyed HMACs of path segments (p<i>:<hash>) and identifier-like query values (q:<name>:<hash>)';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS login_hash String DEFAULT '' COMMENT 'Truncated keyed HMAC of the login name a sign-in request presented; empty otherwise';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS created_hash String DEFAULT '' COMMENT 'Truncated keyed HMAC of the id of the object a POST created; empty otherwise';
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS pii_received Array(String) DEFAULT [] COMMENT 'Truncated keyed HMACs of the distinct personal-data values the response carried (bounded)';
ALTER TABLE findings ADD COLUMN IF NOT EXISTS actor String DEFAULT '' COMMENT 'Behaviour findings: the actor as JSON {"id","ip","principal","principalKind"}; empty otherwise';
CREATE TABLE IF NOT EXISTS actors
(
    id String COMMENT 'Actor id (exchanges.actor_id)',
    ip String COMMENT 'Client IP the actor used most (raw, or hmac:<hex>)',
    principal String COMMENT 'Masked principal; empty for an IP-only actor',
    principal_kind LowCardinality(String) COMMENT 'jwt_sub, jwt_client, api_key, basic_user, session, or empty',
    principal_hash String COMMENT 'Keyed HMAC of the principal; empty for an IP-only actor',
    first_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the first request',
    last_seen DateTime64(6, 'UTC') COMMENT 'Packet time of the last request',
    requests UInt64 COMMENT 'Requests sent',
    endpoints UInt32 COMMENT 'Distinct endpoints (host, method, template) used',
    errors_4xx UInt64 COMMENT 'Responses 400-499 received',
    errors_5xx UInt64 COMMENT 'Responses 500-599 received',
    pii_values UInt64 COMMENT 'Distinct personal-data values received (distinct keyed hashes, bounded)',
    version UInt64 COMMENT 'Packet time of last_seen in microseconds: the latest summary wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
COMMENT 'apitap actors (principal, else client IP) and their traffic in numbers; read WITH FINAL';
