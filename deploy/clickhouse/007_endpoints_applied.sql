-- Analyzer watermarks. `apitap analyze` writes, with every endpoint row of a host, the Kafka
-- position up to which that host's exchanges are counted in the row ("<topic>:<partition>" → last
-- offset). One INSERT carries a host's rows and their watermark together, so after a crash a
-- redelivered exchange at or below the watermark is known to be counted already and is not counted
-- again; one above it is counted (its earlier attempt never reached the inventory). Empty for replays.
ALTER TABLE endpoints ADD COLUMN IF NOT EXISTS applied Map(String, UInt64) DEFAULT map() COMMENT 'Analyzer watermark: "<topic>:<partition>" -> last offset whose exchanges this host''s rows count';
