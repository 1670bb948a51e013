-- Restore input of continuous pipelines (`apitap analyze`, `apitap watch`). The analysis restores a
-- host from its endpoint rows AND from counters that only its findings carry (auth posture splits,
-- deprecation header counts, cleartext credential counts, PII samples). Findings live in another
-- table, written by another INSERT: a crash between the two left findings that already counted a
-- batch beside endpoint rows and a watermark that did not, and the restart counted that batch twice
-- in those counters. So the findings a host's rows were derived with are written on the host's first
-- row of the same INSERT as the rows and their watermark (JSON array of inventory/v1 Findings); a
-- restore reads them from here, and from the findings table only for hosts written without it
-- (`apitap replay`, earlier versions). Empty on every other row.
ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS state String DEFAULT '' COMMENT 'Continuous pipelines: the findings of this host the rows of the same write were derived with (JSON), on one row per host and write; restore input';
