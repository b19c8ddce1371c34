//! The SQLite schema, as numbered migrations applied in order and recorded in
//! `PRAGMA user_version`. Every table holds an item of the data inventory (DESIGN.md §3)
//! and nothing else: no IP addresses, no timestamps finer than a day for people, no
//! membership lists.

use rusqlite::Connection;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    created_day   INTEGER NOT NULL,
    last_seen_day INTEGER
) WITHOUT ROWID;

CREATE TABLE devices (
    device_id     INTEGER PRIMARY KEY,
    username      TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    secret_hash   BLOB NOT NULL,
    signature_key BLOB NOT NULL,
    -- Kept in step with `queue` so the depth limit costs no COUNT(*) per message.
    queue_len     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_username ON devices(username);

CREATE TABLE key_packages (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    data        BLOB NOT NULL,
    last_resort INTEGER NOT NULL
);
CREATE INDEX key_packages_by_device ON key_packages(device_id, last_resort, id);

-- Opaque group ids and their epoch: all the delivery service needs to order commits.
CREATE TABLE mls_groups (
    group_id BLOB PRIMARY KEY,
    epoch    INTEGER NOT NULL
) WITHOUT ROWID;

-- Each accepted ciphertext is stored once, however many devices it goes to.
-- AUTOINCREMENT: ids are never reused, because clients drop duplicates by id.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE queue (
    device_id  INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id),
    PRIMARY KEY (device_id, message_id)
) WITHOUT ROWID;
CREATE INDEX queue_by_message ON queue(message_id);
"#,
    r#"
-- Single-use, short-lived WebSocket tickets, by hash: the socket URL never carries the
-- device's long-lived secret (dependencies log handshakes at trace level).
CREATE TABLE ws_tickets (
    ticket_hash BLOB PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    expires_ms  INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- Notices written by the service itself travel in the same queues as MLS messages.
ALTER TABLE messages ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;

-- Staff are not users: their own identities, roles and hashed credentials.
CREATE TABLE staff (
    staff_id    INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    secret_hash BLOB NOT NULL
);

-- The append-only audit log (RFC 6962 leaves) and a signed checkpoint per size.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    entry     BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE TABLE audit_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);

CREATE TABLE legal_requests (
    request_id TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- A preservation order holds the account's inventory from expiry until then.
CREATE TABLE preservation_holds (
    username TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Notices to users held back (by a non-disclosure order) until their release time.
CREATE TABLE pending_notices (
    notice_id  INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    username   TEXT NOT NULL,
    payload    BLOB NOT NULL,
    release_ms INTEGER NOT NULL
);
CREATE INDEX pending_notices_by_release ON pending_notices(release_ms);
"#,
    r#"
-- Background jobs run on the holder of their lease (one process here, but the contract is
-- the same as PostgreSQL's, where several nodes share one database).
CREATE TABLE job_leases (
    job      TEXT PRIMARY KEY,
    holder   INTEGER NOT NULL,
    until_ms INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- The global index: each username's home region and nothing else. It lives in the global
-- store; a region's store holds the accounts themselves. Accounts from before regions
-- existed are in the one implicit region, `default`.
CREATE TABLE home_regions (
    username TEXT PRIMARY KEY,
    region   TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO home_regions (username, region) SELECT username, 'default' FROM accounts;
"#,
    r#"
-- A deleted account keeps its row (username, days) until its region's retention period
-- ends; its devices, keys and queues go at once.
ALTER TABLE accounts ADD COLUMN deleted_day INTEGER;
"#,
    r#"
-- Connection IP addresses, only for accounts whose region's policy keeps them (none by
-- default), by day, until that policy's period ends.
CREATE TABLE connection_ips (
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    day      INTEGER NOT NULL,
    PRIMARY KEY (username, day, ip)
) WITHOUT ROWID;
"#,
    r#"
-- The key directory (akd): its header and tree nodes by id, the value states by label and
-- epoch, the users whose devices changed since the last epoch, and every epoch's root.
CREATE TABLE kt_nodes (
    id   BLOB PRIMARY KEY,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE kt_states (
    label   BLOB NOT NULL,
    epoch   INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (label, epoch)
) WITHOUT ROWID;
CREATE TABLE kt_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL
);
CREATE INDEX kt_changes_by_user ON kt_changes (username);
CREATE TABLE kt_roots (
    epoch INTEGER PRIMARY KEY,
    root  BLOB NOT NULL,
    note  TEXT NOT NULL
);
-- A device added by another carries that device's endorsement (its id and signature).
ALTER TABLE devices ADD COLUMN endorsement BLOB;
"#,
];

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the database schema version {found} is newer than this build knows ({known})")]
    TooNew { found: i64, known: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the database to the newest schema, one transaction per migration.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(SchemaError::TooNew { found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("first");
        migrate(&mut conn).expect("second");
        conn.execute_batch("PRAGMA user_version = 99")
            .expect("bump");
        assert!(matches!(
            migrate(&mut conn),
            Err(SchemaError::TooNew { found: 99, .. })
        ));
    }
}
