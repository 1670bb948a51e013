-- Where an exchange row came from in the analyzer group: "<topic>:<partition>:<offset>" of the
-- Kafka record whose exchange it is ('' for replays). With the endpoints' watermarks (007) it tells
-- the analyzer whether a stored exchange is already counted in the inventory: a row whose source
-- offset is at or below its host's watermark is; a row written just before a crash, above it, is not.
ALTER TABLE exchanges ADD COLUMN IF NOT EXISTS source String DEFAULT '' COMMENT 'Kafka "<topic>:<partition>:<offset>" of the record (analyzer group); empty for replays';
