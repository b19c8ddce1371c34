-- pli on PostgreSQL: the same data inventory as the SQLite schema (DESIGN.md §3), nothing
-- more. Numbered migrations, applied by sqlx's migrator under an advisory lock, so several
-- nodes starting together migrate once.

CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    created_day   BIGINT NOT NULL,
    last_seen_day BIGINT
);

CREATE TABLE devices (
    device_id     BIGINT PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    secret_hash   BYTEA NOT NULL,
    signature_key BYTEA NOT NULL,
    -- Kept in step with `queue`, so the depth limit costs no COUNT(*) per message. The row
    -- is also the lock that orders a device's messages (see `submit`).
    queue_len     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_username ON devices(username);

CREATE TABLE key_packages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   BIGINT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    data        BYTEA NOT NULL,
    last_resort BOOLEAN NOT NULL
);
CREATE INDEX key_packages_by_device ON key_packages(device_id, last_resort, id);

-- Opaque group ids and their epoch: all the delivery service needs to order commits.
CREATE TABLE mls_groups (
    group_id BYTEA PRIMARY KEY,
    epoch    BIGINT NOT NULL
);

-- Each accepted ciphertext is stored once, however many devices it goes to. Identity
-- values are never reused: clients drop duplicates by id.
CREATE TABLE messages (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       SMALLINT NOT NULL,
    payload    BYTEA NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE queue (
    device_id  BIGINT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL REFERENCES messages(id),
    PRIMARY KEY (device_id, message_id)
);
CREATE INDEX queue_by_message ON queue(message_id);

CREATE TABLE ws_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    device_id   BIGINT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    expires_ms  BIGINT NOT NULL
);

CREATE TABLE staff (
    staff_id    BIGINT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    secret_hash BYTEA NOT NULL
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    entry     BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);

CREATE TABLE legal_requests (
    request_id TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE preservation_holds (
    username TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL
);

CREATE TABLE pending_notices (
    notice_id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT NOT NULL,
    username   TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    release_ms BIGINT NOT NULL
);
CREATE INDEX pending_notices_by_release ON pending_notices(release_ms);

-- Cluster coordination. A background job runs on the node holding its lease.
CREATE TABLE job_leases (
    job      TEXT PRIMARY KEY,
    holder   BIGINT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- The server's own secrets (challenge MACs, the audit signing key), shared by every node
-- so that any node verifies what another issued and the log has one signer.
CREATE TABLE server_keys (
    name   TEXT PRIMARY KEY,
    secret BYTEA NOT NULL
);
