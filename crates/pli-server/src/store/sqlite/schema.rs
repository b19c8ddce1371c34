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
