-- One row per capture run (deterministic id from the inputs), holding the report/v1 `capture`
-- object. A replay of the same inputs rewrites the row; the last inserted wins. Read WITH FINAL.
CREATE TABLE IF NOT EXISTS capture_stats
(
    id String COMMENT 'Deterministic capture run id (hash of input names, sizes and first packet time)',
    source String COMMENT 'Input description (file names or listening address)',
    first_time Nullable(DateTime64(6, 'UTC')) COMMENT 'Packet time of the first packet',
    last_time Nullable(DateTime64(6, 'UTC')) COMMENT 'Packet time of the last packet',
    stats String COMMENT 'The report/v1 capture object as JSON (query with JSONExtract*)'
)
ENGINE = ReplacingMergeTree
ORDER BY id
COMMENT 'apitap capture statistics per run; read WITH FINAL';
