//! The SQLite schema, as numbered migrations applied in order and recorded in
//! `PRAGMA user_version`. Every table holds an item of the data inventory (docs/ARCHITECTURE.md, "The data inventory")
//! and nothing else: no IP addresses, no timestamps finer than a day for people, no
//! membership lists.

use rusqlite::{Connection, TransactionBehavior};

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: a database at
/// version `n` has run exactly the first `n`, and each comes with a seed of that version's
/// rows that a test migrates from every earlier version (`store/upgrades`).
pub(in crate::store) const MIGRATIONS: &[&str] = &[
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
    r#"
-- Each message counts the queue entries that still hold it, so the entry that takes it to
-- zero deletes it at once. This replaces an index of the queue by message, which cost a
-- B-tree insert and delete per recipient (half of a large group's fan-out) only to answer
-- "does any queue still hold it?". The queue's foreign key to `messages` goes with it: it
-- needs that index (without it, every deleted message scans the whole queue), and the
-- count is what keeps a queued message from being deleted now. One writer runs at a time
-- here, so the count is never contended (PostgreSQL, where acks run concurrently, keeps
-- the index instead).
ALTER TABLE messages ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET pending = (SELECT COUNT(*) FROM queue WHERE queue.message_id = messages.id);
DELETE FROM messages WHERE pending = 0;
CREATE TABLE queue_counted (
    device_id  INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (device_id, message_id)
) WITHOUT ROWID;
INSERT INTO queue_counted (device_id, message_id) SELECT device_id, message_id FROM queue;
DROP TABLE queue;
ALTER TABLE queue_counted RENAME TO queue;
"#,
    r#"
-- Each device's queue depth, kept in step with `queue` so the depth limit costs no
-- COUNT(*), moves out of the device's row into a narrow table of its own: a large group's
-- message bumps a counter per member, and in `devices` (keys, endorsements) 1,000 counters
-- spread over dozens of pages, each read and copied per message; here they fill a few.
CREATE TABLE queue_lens (
    device_id INTEGER PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
    len       INTEGER NOT NULL
);
INSERT INTO queue_lens (device_id, len) SELECT device_id, queue_len FROM devices;
ALTER TABLE devices DROP COLUMN queue_len;
-- Every device has its counter from the moment it exists, whichever path creates it.
CREATE TRIGGER devices_get_a_queue_len AFTER INSERT ON devices BEGIN
    INSERT INTO queue_lens (device_id, len) VALUES (NEW.device_id, 0);
END;
"#,
    r#"
-- The end of each key package's lifetime (seconds since the Unix epoch, as in the package):
-- an expired package is never handed out, and one about to expire is replaced by its
-- device. Packages stored before have none: valid, but replaced at their device's next
-- top-up.
ALTER TABLE key_packages ADD COLUMN not_after INTEGER;
"#,
    r#"
-- Witnesses' cosignatures of audit checkpoints (public, like the checkpoints), one line per
-- witness and log size.
CREATE TABLE audit_cosignatures (
    size    INTEGER NOT NULL,
    witness TEXT NOT NULL,
    line    TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
"#,
    r#"
-- Staff members' second factor for the staff console (staff data, not users'): the TOTP
-- secret and the newest time step spent, so no code is accepted twice. Forgotten with the
-- member.
CREATE TABLE staff_totp (
    staff_id  INTEGER PRIMARY KEY REFERENCES staff(staff_id) ON DELETE CASCADE,
    secret    BLOB NOT NULL,
    last_step INTEGER NOT NULL
);
"#,
    r#"
-- Abuse reports, in the reported account's region: what the reporter sent and the server
-- verified, for trust & safety, until the region's report retention. No foreign key to
-- `accounts`: a report outlives the deletion of the accounts it names. `seq` keeps the
-- filing order (ids are random, unique across regions).
CREATE TABLE reports (
    seq       INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL UNIQUE,
    reporter  TEXT NOT NULL,
    reported  TEXT NOT NULL,
    reason    TEXT NOT NULL,
    note      TEXT,
    filed_day INTEGER NOT NULL
);
CREATE INDEX reports_by_reported ON reports(reported);
CREATE INDEX reports_by_reporter ON reports(reporter);
CREATE INDEX reports_by_day ON reports(filed_day);
-- Each reported message, in the reporter's order. The commitment is kept only for the
-- unique key that refuses the same reporter reporting the same message twice (the
-- reporter is repeated here for it).
CREATE TABLE report_messages (
    report_id     INTEGER NOT NULL REFERENCES reports(report_id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    reporter      TEXT NOT NULL,
    commitment    BLOB NOT NULL,
    text          TEXT NOT NULL,
    sender_device INTEGER NOT NULL,
    day           INTEGER NOT NULL,
    PRIMARY KEY (report_id, position),
    UNIQUE (reporter, commitment)
) WITHOUT ROWID;
"#,
    r#"
-- Trust & safety actions on accounts, in the account's home region: the account's data,
-- erased with its row. Ids are random (unique across regions); `seq` keeps the recording
-- order. A time is milliseconds since the Unix epoch; a ban's end is stored as the largest
-- INTEGER (9223372036854775807). The appeal (at most one) and its decision are columns of
-- the action they are about.
CREATE TABLE moderation_actions (
    seq               INTEGER PRIMARY KEY,
    action_id         INTEGER NOT NULL UNIQUE,
    account           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    until_ms          INTEGER,
    reason            TEXT NOT NULL,
    staff_id          INTEGER NOT NULL,
    report_id         INTEGER,
    created_ms        INTEGER NOT NULL,
    appeal_text       TEXT,
    appeal_filed_ms   INTEGER,
    decision_outcome  TEXT,
    decision_staff_id INTEGER,
    decision_reason   TEXT,
    decided_ms        INTEGER
);
CREATE INDEX moderation_actions_by_account ON moderation_actions(account);
-- Each suspended or banned account's end of suspension, read by primary key wherever a
-- suspension is enforced. No row: not suspended.
CREATE TABLE account_standing (
    username           TEXT PRIMARY KEY,
    suspended_until_ms INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    r#"
-- Disappearing messages: when a message with a timer leaves every queue, delivered or not
-- (`store::stored_expiry`), found by the sweep through its own small index.
ALTER TABLE messages ADD COLUMN expires_ms INTEGER;
CREATE INDEX messages_expiring ON messages(expires_ms) WHERE expires_ms IS NOT NULL;
"#,
    r#"
-- Attachments (`store::attachments`): an encrypted blob's size, how many of its chunks
-- arrived, when it goes, and who uploaded it (NULL in a copy kept for another region's
-- uploader, and once the uploader's account or device is erased). The bytes are in the
-- blob store, not here.
CREATE TABLE attachments (
    id              BLOB PRIMARY KEY,
    uploader        TEXT REFERENCES accounts(username) ON DELETE SET NULL,
    uploader_device INTEGER REFERENCES devices(device_id) ON DELETE SET NULL,
    size            INTEGER NOT NULL,
    received        INTEGER NOT NULL DEFAULT 0,
    expires_ms      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX attachments_expiring ON attachments(expires_ms);
CREATE INDEX attachments_by_uploader ON attachments(uploader) WHERE uploader IS NOT NULL;
-- The devices that may download each one, and whether each has.
CREATE TABLE attachment_recipients (
    attachment BLOB NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
    fetched    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (attachment, device_id)
) WITHOUT ROWID;
CREATE INDEX attachment_recipients_by_device ON attachment_recipients(device_id);
"#,
    r#"
-- The account's encrypted profile (display name and avatar), which only the people it
-- shared its profile key with can open: the server stores the ciphertext and nothing of it.
ALTER TABLE accounts ADD COLUMN profile BLOB;
"#,
];

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "the SQLite database is at schema version {found}, newer than the newest this build \
         knows ({known}): a newer pli migrated it; run that pli or a newer one"
    )]
    TooNew { found: i64, known: i64 },
    #[error("cannot migrate the SQLite database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the database to the newest schema, one transaction per migration. Each step
/// reads the version inside a write transaction: two processes opening a new data directory
/// at once (`pli serve` and `pli admin init`) must not both run the same migration.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > known {
            return Err(SchemaError::TooNew { found, known });
        }
        let Some(sql) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", found + 1))?;
        tx.commit()?;
    }
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

    #[test]
    fn processes_opening_a_new_database_at_once_migrate_it_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pli.db");
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let mut conn = Connection::open(&path).expect("open");
                        conn.busy_timeout(std::time::Duration::from_secs(10))
                            .expect("timeout");
                        start.wait();
                        migrate(&mut conn)
                    })
                })
                .collect();
            for opener in openers {
                opener.join().expect("thread").expect("migrated");
            }
        });
        let conn = Connection::open(&path).expect("open");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    /// Every row of a two-column integer query, in order.
    fn pairs(conn: &Connection, sql: &str) -> Vec<(i64, i64)> {
        conn.prepare(sql)
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect(sql)
    }

    /// A store from before messages counted their queue entries (version 8) keeps every
    /// queued message with the right count, loses the ones no queue held, no longer
    /// maintains the index or the foreign key the count replaced, and keeps each device's
    /// queue depth in `queue_lens` (new devices included).
    #[test]
    fn queue_entries_and_depths_survive_the_counting_migrations() {
        let mut conn = Connection::open_in_memory().expect("open");
        for sql in &MIGRATIONS[..8] {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.execute_batch(
            "PRAGMA user_version = 8;
             INSERT INTO accounts (username, created_day) VALUES ('alice', 1);
             INSERT INTO devices (device_id, username, secret_hash, signature_key, queue_len)
               VALUES (1, 'alice', x'00', x'00', 1), (2, 'alice', x'00', x'00', 2);
             INSERT INTO messages (id, payload, created_ms) VALUES (10, x'aa', 0), (11, x'bb', 0),
               (12, x'cc', 0);
             INSERT INTO queue (device_id, message_id) VALUES (1, 10), (2, 10), (2, 12);",
        )
        .expect("old rows");
        migrate(&mut conn).expect("migrate");
        assert_eq!(
            pairs(&conn, "SELECT id, pending FROM messages ORDER BY id"),
            vec![(10, 2), (12, 1)],
            "11 was held by no queue"
        );
        let queued: i64 = conn
            .query_row("SELECT COUNT(*) FROM queue", [], |r| r.get(0))
            .expect("queue");
        assert_eq!(queued, 3);
        conn.execute_batch(
            "INSERT INTO devices (device_id, username, secret_hash, signature_key)
               VALUES (3, 'alice', x'00', x'00')",
        )
        .expect("a new device");
        assert_eq!(
            pairs(
                &conn,
                "SELECT device_id, len FROM queue_lens ORDER BY device_id"
            ),
            vec![(1, 1), (2, 2), (3, 0)],
            "the counters moved with their values, and a new device has one"
        );
        let leftovers: i64 = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE name = 'queue_by_message')
                      + (SELECT COUNT(*) FROM pragma_foreign_key_list('queue')
                         WHERE \"table\" = 'messages')",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(leftovers, 0);
    }

    /// Key packages stored before lifetimes were recorded (version 10) keep working: valid,
    /// handed out, but reported as expiring so their device replaces them.
    #[test]
    fn key_packages_from_before_lifetimes_stay_valid_but_expiring() {
        use crate::store::KeyPackageTime;
        let mut conn = Connection::open_in_memory().expect("open");
        for sql in &MIGRATIONS[..10] {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.execute_batch(
            "PRAGMA user_version = 10;
             INSERT INTO accounts (username, created_day) VALUES ('alice', 1);
             INSERT INTO devices (device_id, username, secret_hash, signature_key)
               VALUES (1, 'alice', x'00', x'00');
             INSERT INTO key_packages (device_id, data, last_resort)
               VALUES (1, x'aa', 0), (1, x'bb', 1);",
        )
        .expect("old rows");
        migrate(&mut conn).expect("migrate");
        let device = pli_proto::DeviceId::new(1).expect("id");
        let status = super::super::key_packages::key_package_status(
            &conn,
            device,
            KeyPackageTime::at(2_000_000_000),
        )
        .expect("status");
        assert_eq!((status.available, status.expiring), (1, 1));
        assert!(status.has_last_resort && status.last_resort_expiring);
        let user = pli_proto::Username::parse("alice").expect("name");
        let claim =
            super::super::key_packages::claim_key_packages(&conn, &user, 2_000_000_000, None)
                .expect("claim")
                .expect("alice");
        assert_eq!(claim.packages[0].key_package, vec![0xaa]);
    }
}
