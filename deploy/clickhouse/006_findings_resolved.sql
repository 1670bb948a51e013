-- Findings that stopped applying. A continuously running analyzer (apitap analyze) re-derives the
-- findings of a host after every batch; a stored finding it no longer derives (an orphan that was
-- finally called, an unauthenticated endpoint that now always sees credentials) gets a tombstone row:
-- the same id, resolved = 1, version + 1, which wins in ReplacingMergeTree. Readers filter on
-- resolved = 0 (apitap findings does). If the finding applies again with newer traffic, its higher
-- version (last_seen) wins over the tombstone and it is active again.
ALTER TABLE findings ADD COLUMN IF NOT EXISTS resolved UInt8 DEFAULT 0 COMMENT '1 when the finding no longer applies (tombstone); filter on resolved = 0';
