-- A deleted account keeps its row (username, days) until its region's retention period
-- ends; its devices, keys and queues go at once.
ALTER TABLE accounts ADD COLUMN deleted_day BIGINT;
