-- Regions. The global index maps each username to its home region and holds nothing else;
-- it lives in the global database, while a region's database holds the accounts. Accounts
-- from before regions existed are in the one implicit region, `default`.
CREATE TABLE home_regions (
    username TEXT PRIMARY KEY,
    region   TEXT NOT NULL
);
INSERT INTO home_regions (username, region) SELECT username, 'default' FROM accounts;

-- The delivery service's rule on its own (p_rule: 0 commit, 1 proposal, 2 application):
-- for a group whose members' queues live in other databases, and inside pli_submit.
-- Returns the group's epoch after the message; raises PL001 (stale) or PL002 (unknown).
CREATE FUNCTION pli_apply_epoch_rule(p_group BYTEA, p_rule SMALLINT, p_epoch BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
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
        RETURN 1;
    ELSIF p_epoch <> current_epoch THEN
        RAISE EXCEPTION USING ERRCODE = 'PL001', MESSAGE = current_epoch::TEXT;
    ELSIF p_rule = 0 THEN
        UPDATE mls_groups SET epoch = current_epoch + 1 WHERE group_id = p_group;
        RETURN current_epoch + 1;
    END IF;
    RETURN current_epoch;
END $$;

CREATE OR REPLACE FUNCTION pli_submit(
    p_group BYTEA, p_rule SMALLINT, p_epoch BIGINT, p_payload BYTEA, p_to BIGINT[],
    p_welcome BYTEA, p_welcome_to BIGINT[], p_now_ms BIGINT, p_max_depth BIGINT,
    OUT accepted_id BIGINT, OUT accepted_epoch BIGINT
) LANGUAGE plpgsql AS $$
BEGIN
    accepted_epoch := pli_apply_epoch_rule(p_group, p_rule, p_epoch);
    PERFORM pli_lock_devices(p_to || COALESCE(p_welcome_to, '{}'));
    accepted_id := pli_enqueue(0::SMALLINT, p_payload, p_to, p_now_ms, p_max_depth);
    IF p_welcome IS NOT NULL THEN
        PERFORM pli_enqueue(0::SMALLINT, p_welcome, p_welcome_to, p_now_ms, p_max_depth);
    END IF;
END $$;

-- Queues a payload for those of p_to that live in this database, with no depth limit (the
-- caller checked it at admission, before the epoch moved). NULL if none is here.
CREATE FUNCTION pli_deliver(p_kind SMALLINT, p_payload BYTEA, p_to BIGINT[], p_now_ms BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    present BIGINT[];
BEGIN
    SELECT COALESCE(array_agg(d.device_id ORDER BY d.device_id), '{}') INTO present
      FROM (SELECT device_id FROM devices WHERE device_id = ANY(p_to)
             ORDER BY device_id FOR NO KEY UPDATE) d;
    IF cardinality(present) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN pli_enqueue(p_kind, p_payload, present, p_now_ms, 9223372036854775807);
END $$;
