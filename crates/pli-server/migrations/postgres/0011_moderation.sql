-- Trust & safety actions on accounts, in the account's home region: the account's data,
-- erased with its row. Ids are random (unique across regions); `seq` keeps the recording
-- order. A time is milliseconds since the Unix epoch; a ban's end is stored as the largest
-- BIGINT (9223372036854775807). The appeal (at most one) and its decision are columns of
-- the action they are about, so filing and deciding are conditional updates of one row.
CREATE TABLE moderation_actions (
    seq               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_id         BIGINT NOT NULL UNIQUE,
    account           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    until_ms          BIGINT,
    reason            TEXT NOT NULL,
    staff_id          BIGINT NOT NULL,
    report_id         BIGINT,
    created_ms        BIGINT NOT NULL,
    appeal_text       TEXT,
    appeal_filed_ms   BIGINT,
    decision_outcome  TEXT,
    decision_staff_id BIGINT,
    decision_reason   TEXT,
    decided_ms        BIGINT
);
CREATE INDEX moderation_actions_by_account ON moderation_actions (account);
-- Each suspended or banned account's end of suspension, read by primary key wherever a
-- suspension is enforced. No row: not suspended.
CREATE TABLE account_standing (
    username           TEXT PRIMARY KEY,
    suspended_until_ms BIGINT NOT NULL
);
