-- Disappearing messages: when a message with a timer leaves every queue, delivered or not
-- (`store::stored_expiry`), found by the sweep through its own small index. Set in the
-- transaction that queues the message (store/postgres/queue.rs), so `pli_submit` and
-- `pli_deliver` stay as they are for every message without a timer.
ALTER TABLE messages ADD COLUMN expires_ms BIGINT;
CREATE INDEX messages_expiring ON messages (expires_ms) WHERE expires_ms IS NOT NULL;
