-- Abuse reports, in the reported account's region: what the reporter sent and the server
-- verified, for trust & safety, until the region's report retention. No foreign key to
-- `accounts`: a report outlives the deletion of the accounts it names. `seq` keeps the
-- filing order (ids are random, unique across regions).
CREATE TABLE reports (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id BIGINT NOT NULL UNIQUE,
    reporter  TEXT NOT NULL,
    reported  TEXT NOT NULL,
    reason    TEXT NOT NULL,
    note      TEXT,
    filed_day BIGINT NOT NULL
);
CREATE INDEX reports_by_reported ON reports (reported);
CREATE INDEX reports_by_reporter ON reports (reporter);
CREATE INDEX reports_by_day ON reports (filed_day);
-- Each reported message, in the reporter's order. The commitment is kept only for the
-- unique key that refuses the same reporter reporting the same message twice, on any node
-- (the reporter is repeated here for it).
CREATE TABLE report_messages (
    report_id     BIGINT NOT NULL REFERENCES reports (report_id) ON DELETE CASCADE,
    position      BIGINT NOT NULL,
    reporter      TEXT NOT NULL,
    commitment    BYTEA NOT NULL,
    text          TEXT NOT NULL,
    sender_device BIGINT NOT NULL,
    day           BIGINT NOT NULL,
    PRIMARY KEY (report_id, position),
    CONSTRAINT report_messages_once_per_reporter UNIQUE (reporter, commitment)
);
