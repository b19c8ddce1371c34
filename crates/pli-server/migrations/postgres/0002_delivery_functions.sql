-- The delivery hot path as single statements. Locks, checks and writes run inside the
-- database, so the device rows that order each queue are held for one statement and its
-- commit, not across a node's round trips: with one statement per step, 64 messages in
-- flight per sender queued behind those locks and delivery measured ~900 messages/s.
--
-- Refusals raise exceptions with pli's own SQLSTATEs, so a refused message rolls back
-- whole (its group, its queue rows):
--   PL001 stale epoch (message: the current epoch)   PL002 unknown group
--   PL003 unknown recipient                          PL004 queue full

-- Stores one payload and queues it for each device, which the caller has locked in id
-- order (see pli_submit). Returns the message id.
CREATE FUNCTION pli_enqueue(
    p_kind SMALLINT, p_payload BYTEA, p_to BIGINT[], p_now_ms BIGINT, p_max_depth BIGINT
) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    recipients BIGINT[] := ARRAY(SELECT DISTINCT r FROM unnest(p_to) AS r ORDER BY r);
    bumped BIGINT;
    new_id BIGINT;
BEGIN
    UPDATE devices SET queue_len = queue_len + 1
     WHERE device_id = ANY(recipients) AND queue_len < p_max_depth;
    GET DIAGNOSTICS bumped = ROW_COUNT;
    IF bumped <> cardinality(recipients) THEN
        IF (SELECT count(*) FROM devices WHERE device_id = ANY(recipients))
           = cardinality(recipients) THEN
            RAISE EXCEPTION USING ERRCODE = 'PL004', MESSAGE = 'queue full';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'PL003', MESSAGE = 'unknown recipient';
    END IF;
    INSERT INTO messages (kind, payload, created_ms) VALUES (p_kind, p_payload, p_now_ms)
    RETURNING id INTO new_id;
    INSERT INTO queue (device_id, message_id) SELECT r, new_id FROM unnest(recipients) AS r;
    RETURN new_id;
END $$;

-- Locks devices' rows in id order: the lock that keeps each device's messages committing
-- in id order, taken in one order everywhere so transactions never deadlock on it.
CREATE FUNCTION pli_lock_devices(p_devices BIGINT[]) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM devices WHERE device_id = ANY(p_devices)
     ORDER BY device_id FOR NO KEY UPDATE;
END $$;

-- The delivery service's rule, then the message (and any welcome) queued: p_rule is
-- 0 commit, 1 proposal, 2 application. A commit locks the group's row (commits serialise
-- on it); other messages share it, so no commit moves the epoch under them.
CREATE FUNCTION pli_submit(
    p_group BYTEA, p_rule SMALLINT, p_epoch BIGINT, p_payload BYTEA, p_to BIGINT[],
    p_welcome BYTEA, p_welcome_to BIGINT[], p_now_ms BIGINT, p_max_depth BIGINT,
    OUT accepted_id BIGINT, OUT accepted_epoch BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    current_epoch BIGINT;
BEGIN
    IF p_rule = 0 THEN
        SELECT g.epoch INTO current_epoch FROM mls_groups g
         WHERE g.group_id = p_group FOR UPDATE;
    ELSE
        SELECT g.epoch INTO current_epoch FROM mls_groups g
         WHERE g.group_id = p_group FOR SHARE;
    END IF;
    IF current_epoch IS NULL THEN
        IF p_rule <> 0 OR p_epoch <> 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'PL002', MESSAGE = 'unknown group';
        END IF;
        INSERT INTO mls_groups (group_id, epoch) VALUES (p_group, 1) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            -- Another creator won the race: this commit is stale like any other.
            SELECT g.epoch INTO current_epoch FROM mls_groups g WHERE g.group_id = p_group;
            RAISE EXCEPTION USING ERRCODE = 'PL001', MESSAGE = current_epoch::TEXT;
        END IF;
        accepted_epoch := 1;
    ELSIF p_epoch <> current_epoch THEN
        RAISE EXCEPTION USING ERRCODE = 'PL001', MESSAGE = current_epoch::TEXT;
    ELSIF p_rule = 0 THEN
        UPDATE mls_groups SET epoch = current_epoch + 1 WHERE group_id = p_group;
        accepted_epoch := current_epoch + 1;
    ELSE
        accepted_epoch := current_epoch;
    END IF;
    PERFORM pli_lock_devices(p_to || COALESCE(p_welcome_to, '{}'));
    accepted_id := pli_enqueue(0::SMALLINT, p_payload, p_to, p_now_ms, p_max_depth);
    IF p_welcome IS NOT NULL THEN
        PERFORM pli_enqueue(0::SMALLINT, p_welcome, p_welcome_to, p_now_ms, p_max_depth);
    END IF;
END $$;

-- Removes acked messages from a device's queue and deletes those no queue holds any more.
-- Nothing here locks a message: a group message's copies are acked by a thousand devices
-- at once, and serialising them on its row measured at seconds per ack. Two devices acking
-- the last two copies at once may each still see the other's, and leave the message
-- behind; the sweep (store/postgres/sweeper.rs) deletes such orphans. Returns how many
-- were removed.
CREATE FUNCTION pli_ack(p_device BIGINT, p_ids BIGINT[]) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    removed BIGINT[];
BEGIN
    WITH gone AS (
        DELETE FROM queue WHERE device_id = p_device AND message_id = ANY(p_ids)
        RETURNING message_id
    )
    SELECT COALESCE(array_agg(message_id ORDER BY message_id), '{}') INTO removed FROM gone;
    IF cardinality(removed) = 0 THEN
        RETURN 0;
    END IF;
    DELETE FROM messages m WHERE m.id = ANY(removed)
       AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id);
    UPDATE devices SET queue_len = queue_len - cardinality(removed) WHERE device_id = p_device;
    RETURN cardinality(removed);
END $$;
