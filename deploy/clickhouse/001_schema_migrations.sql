-- Which deploy/clickhouse/NNN_*.sql files have run against this database.
-- The runner (engine/adapters/store/migrate.ts) executes this file on every start (it only creates a table
-- if missing), then reads the table WITH FINAL. Two processes migrating at once both insert the
-- same row; ReplacingMergeTree folds them into one.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32 COMMENT 'Number prefix of the migration file (002_endpoints.sql is 2)',
    name String COMMENT 'File name of the migration',
    checksum String COMMENT 'SHA-256 (hex) of the file text when it was applied; a changed applied file stops the runner',
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3) COMMENT 'Wall-clock time the runner recorded the file (metadata only)'
)
ENGINE = ReplacingMergeTree
ORDER BY version
COMMENT 'Applied schema migrations of apitap';
