//! The device's local database (`client.db` in the home directory): openmls's tables plus
//! pli's own, in one SQLite file so one transaction covers both.
//!
//! pli's tables: the device identity, conversations, message history (with a "shown" mark,
//! so the app shows each message once), processed server ids (dedup of at-least-once
//! delivery), per-sender hash chains (gap and reorder detection), the outbox (messages
//! written but not yet accepted by the server), commits awaiting the server's verdict, and
//! notices for the user.

use crate::error::ClientError;
use pli_proto::{DeviceId, GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

pub const DATABASE_FILE: &str = "client.db";
/// Held while a process opens and migrates the home (see [`open`]).
const MIGRATION_LOCK_FILE: &str = "open.lock";

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE device (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    server           TEXT NOT NULL,
    username         TEXT NOT NULL,
    device_id        INTEGER NOT NULL,
    secret           TEXT NOT NULL,
    signature_public BLOB NOT NULL
);
CREATE TABLE conversations (
    group_id   BLOB PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    direct     INTEGER NOT NULL DEFAULT 0,
    peer       TEXT,
    active     INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
CREATE TABLE messages (
    local_id      INTEGER PRIMARY KEY,
    group_id      BLOB NOT NULL,
    server_id     INTEGER,
    sender        TEXT NOT NULL,
    sender_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    text          TEXT NOT NULL,
    sent_at       INTEGER NOT NULL,
    outgoing      INTEGER NOT NULL,
    received_ms   INTEGER NOT NULL DEFAULT 0,
    shown         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_by_sender_seq ON messages(group_id, sender_device, seq);
CREATE INDEX messages_unshown ON messages(shown, local_id);
CREATE TABLE processed (server_id INTEGER PRIMARY KEY);
CREATE TABLE chains (
    group_id      BLOB NOT NULL,
    sender_device INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (group_id, sender_device)
);
CREATE TABLE outbox (
    id       INTEGER PRIMARY KEY,
    group_id BLOB NOT NULL,
    envelope BLOB NOT NULL
);
CREATE TABLE pending_commits (
    group_id BLOB PRIMARY KEY,
    message  BLOB NOT NULL
);
CREATE TABLE notices (
    id         INTEGER PRIMARY KEY,
    group_id   BLOB,
    alert      INTEGER NOT NULL,
    text       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    shown      INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- Key transparency: the directory keys pinned at first contact, every root this device
-- verified (to check the directory only grows, and to catch a split view), the versions of
-- its own user's key history already checked, members whose keys still need checking
-- against the directory, and roots other members' messages carried, to compare.
CREATE TABLE kt_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    origin      TEXT NOT NULL,
    signing_key BLOB NOT NULL,
    vrf_key     BLOB NOT NULL
);
CREATE TABLE kt_roots (
    epoch INTEGER PRIMARY KEY,
    root  BLOB NOT NULL
);
CREATE TABLE kt_checked_versions (version INTEGER PRIMARY KEY);
CREATE TABLE kt_unverified (
    group_id      BLOB NOT NULL,
    username      TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    signature_key BLOB NOT NULL,
    PRIMARY KEY (group_id, device_id)
);
CREATE TABLE kt_heard (
    epoch    INTEGER NOT NULL,
    root     BLOB NOT NULL,
    group_id BLOB NOT NULL,
    PRIMARY KEY (epoch, root)
);
CREATE TABLE kt_split (epoch INTEGER PRIMARY KEY);
ALTER TABLE conversations ADD COLUMN untrusted INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- Member keys as the newest verified directory lookup of each user listed them (what every
-- outgoing message is checked against, `kt::members`); conversations joined but whose
-- members are not checked yet (hidden until they are); messages held until their sender's
-- key is verified (with that key, to match it), and messages of a kind this version cannot
-- display.
CREATE TABLE kt_verified_keys (
    username      TEXT NOT NULL,
    device_id     INTEGER NOT NULL,
    signature_key BLOB NOT NULL,
    PRIMARY KEY (username, device_id)
);
ALTER TABLE conversations ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN sender_key BLOB;
ALTER TABLE messages ADD COLUMN unsupported INTEGER NOT NULL DEFAULT 0;
-- When this device last replaced its own leaf in each conversation, and how many messages
-- it sent there since (`rotation`).
-- The newest public audit checkpoint this device verified: the next one must extend it.
CREATE TABLE audit_seen (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    origin  TEXT NOT NULL,
    log_key TEXT NOT NULL,
    size    INTEGER NOT NULL,
    root    TEXT NOT NULL
);
-- A linked device's one-time link secret, kept until the approving device's directory keys
-- arrive under it (`link_keys`).
CREATE TABLE link_pending (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
-- The witnesses whose cosignature an audit checkpoint needs before this device keeps it.
CREATE TABLE audit_witnesses (vkey TEXT PRIMARY KEY);
CREATE TABLE leaf_rotations (
    group_id   BLOB PRIMARY KEY,
    rotated_ms INTEGER NOT NULL,
    sent       INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- Full-text search of the local history (`search`): an FTS5 index of the messages' text,
-- kept by triggers, so it changes in the very transaction that stores, alters or deletes a
-- message and never holds what the history does not. Built once from what is there.
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content = 'messages', content_rowid = 'local_id');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.local_id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.local_id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.local_id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.local_id, new.text);
END;
"#,
    r#"
-- A conversation's history read page by page, newest first (`timeline`), and how far the
-- user has read it: messages after `read_up_to` (a local id) are unread.
CREATE INDEX messages_by_conversation ON messages (group_id, local_id);
ALTER TABLE conversations ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
-- An own message's outbox row (queued while it is there), and why it was given up.
ALTER TABLE messages ADD COLUMN outbox_id INTEGER;
ALTER TABLE messages ADD COLUMN failure TEXT;
"#,
    r#"
-- Users whose safety code this user compared and marked verified, with the code then (a
-- new code is a change to tell, not a verification), and alerts the user acknowledged
-- (an alert stays in view until then).
CREATE TABLE verified_users (
    username    TEXT PRIMARY KEY,
    safety_code TEXT NOT NULL,
    verified_ms INTEGER NOT NULL
);
ALTER TABLE notices ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0;
-- An alert so grave that a front end sends nothing until the user acknowledged it (a
-- device key on the user's own account that none of their devices added).
ALTER TABLE notices ADD COLUMN blocks_sending INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- A received text's franking (`franking`): the message id and franking key from its
-- envelope and the server's stamp, kept so the user can report it; absent when it carried
-- none that opens. Users this user blocked: their messages are dropped on arrival.
ALTER TABLE messages ADD COLUMN message_id BLOB;
ALTER TABLE messages ADD COLUMN frank_key BLOB;
ALTER TABLE messages ADD COLUMN frank_stamp BLOB;
CREATE TABLE blocked_users (
    username   TEXT PRIMARY KEY,
    blocked_ms INTEGER NOT NULL
);
"#,
    r#"
-- Replies, reactions, edits and deletion for everyone (`changes`). Every text's message id
-- is kept (own texts too), once per conversation: a later text claiming an id already
-- there keeps none, so nothing can be made to name it. A change to a message moves its
-- `rev` on (what a chat view asks for since what it shows); an edit keeps the text it
-- replaced in `message_edits`; reactions are one per user and message.
CREATE UNIQUE INDEX messages_by_message_id ON messages (group_id, message_id)
    WHERE message_id IS NOT NULL;
ALTER TABLE messages ADD COLUMN reply_to BLOB;
ALTER TABLE messages ADD COLUMN edited_ms INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_rev ON messages (rev) WHERE rev > 0;
CREATE TABLE message_edits (
    id          INTEGER PRIMARY KEY,
    local_id    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    replaced_ms INTEGER NOT NULL
);
CREATE INDEX message_edits_by_message ON message_edits (local_id, id);
CREATE TABLE reactions (
    group_id   BLOB NOT NULL,
    message_id BLOB NOT NULL,
    username   TEXT NOT NULL,
    reaction   TEXT NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (group_id, message_id, username)
);
-- The newest change a front end was handed (`Client::take_new`).
CREATE TABLE changes_taken (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL
);
"#,
];

/// Opens (creating if needed) the database and brings both schemas up to date.
pub fn open(home: &Path) -> Result<Connection, ClientError> {
    std::fs::create_dir_all(home).map_err(ClientError::file("cannot create the home directory"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The home holds the device secret and message history: owner only.
        let _ = std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700));
    }
    // Two processes on one home (a listener and a send, after an upgrade or on a new home)
    // must not run one migration twice: openmls's storage migrations record themselves in a
    // table of their own, so opening runs under a lock file.
    let lock = std::fs::File::create(home.join(MIGRATION_LOCK_FILE))
        .and_then(|file| file.lock().map(|()| file))
        .map_err(ClientError::file("cannot lock the home for its set-up"))?;
    let mut conn = Connection::open(home.join(DATABASE_FILE))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every transaction takes the write lock when it begins: a deferred one that read first
    // and writes second fails at once (SQLITE_BUSY, no waiting) if another connection to the
    // home wrote in between, as pli app's page connection and its engine do, or a CLI
    // command beside a listener. Beginning immediate, it waits its turn instead.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // openmls's storage (`mls_store`) alone keeps about thirty statements prepared; with
    // rusqlite's default of 16 they would evict each other on every commit.
    conn.set_prepared_statement_cache_capacity(128);
    // `journal_size_limit`: one large transaction (a big group's ratchet tree is several MB)
    // grows the WAL file, and SQLite otherwise keeps it at that size for good; after each
    // checkpoint it is cut back to the 16 MiB a checkpoint cycle normally uses.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 4096;
         PRAGMA journal_size_limit = 16777216;",
    )?;
    crate::mls::migrate(&mut conn)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
        tx.commit()?;
    }
    crate::group_cache::ensure_version_triggers(&conn)?;
    drop(lock);
    Ok(conn)
}

/// Who this device is.
#[derive(Clone)]
pub struct Identity {
    pub server: String,
    pub username: Username,
    pub device_id: DeviceId,
    pub secret: String,
    pub signature_public: Vec<u8>,
}

pub fn load_identity(conn: &Connection) -> Result<Option<Identity>, ClientError> {
    let row = conn
        .query_row(
            "SELECT server, username, device_id, secret, signature_public FROM device WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((server, username, device_id, secret, signature_public)) = row else {
        return Ok(None);
    };
    let corrupt = |_| ClientError::corrupt("identity");
    Ok(Some(Identity {
        server,
        username: Username::parse(&username).map_err(corrupt)?,
        device_id: DeviceId::new(device_id as u64).map_err(corrupt)?,
        secret,
        signature_public,
    }))
}

pub fn save_identity(conn: &Connection, identity: &Identity) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO device (id, server, username, device_id, secret, signature_public)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        params![
            identity.server,
            identity.username.as_str(),
            identity.device_id.get() as i64,
            identity.secret,
            identity.signature_public
        ],
    )?;
    Ok(())
}

/// A conversation as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Conversation {
    pub id: GroupId,
    pub name: String,
    pub direct: bool,
    pub peer: Option<Username>,
    pub active: bool,
}

impl Conversation {
    /// What to call it on screen: its name, or `@peer` for a direct chat.
    pub fn title(&self) -> String {
        match (&self.peer, self.name.is_empty()) {
            (Some(peer), true) => format!("@{peer}"),
            (None, true) => self.id.to_hex()[..12].to_owned(),
            _ => self.name.clone(),
        }
    }
}

/// (group id, name, direct, peer, active) as stored.
type ConversationRow = (Vec<u8>, String, bool, Option<String>, bool);

fn conversation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_conversation(
    (id, name, direct, peer, active): ConversationRow,
) -> Result<Conversation, ClientError> {
    Ok(Conversation {
        id: GroupId::from_bytes(&id).map_err(|_| ClientError::corrupt("group id"))?,
        name,
        direct,
        peer: peer.and_then(|p| Username::parse(&p).ok()),
        active,
    })
}

pub fn conversations(conn: &Connection) -> Result<Vec<Conversation>, ClientError> {
    let mut st = conn.prepare(
        "SELECT group_id, name, direct, peer, active FROM conversations WHERE pending = 0
         ORDER BY created_ms, group_id",
    )?;
    let rows = st
        .query_map([], conversation_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(to_conversation).collect()
}

pub fn conversation(conn: &Connection, id: &GroupId) -> Result<Option<Conversation>, ClientError> {
    conn.query_row(
        "SELECT group_id, name, direct, peer, active FROM conversations WHERE group_id = ?1",
        [id.as_bytes()],
        conversation_row,
    )
    .optional()?
    .map(to_conversation)
    .transpose()
}

/// Conversations that say they are the direct one with `peer` (active, checked, trusted),
/// smallest id first: if both sides started one at once there are two, and both sides pick
/// the smallest, so they converge on one. Saying so is not enough: the caller checks each
/// one's members (`Client::direct_conversation`).
pub fn direct_candidates(conn: &Connection, peer: &Username) -> Result<Vec<GroupId>, ClientError> {
    let mut st = conn.prepare(
        "SELECT group_id FROM conversations
         WHERE direct = 1 AND active = 1 AND peer = ?1 AND untrusted = 0 AND pending = 0
         ORDER BY group_id",
    )?;
    let ids = st
        .query_map([peer.as_str()], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    ids.iter()
        .map(|id| GroupId::from_bytes(id).map_err(|_| ClientError::corrupt("group id")))
        .collect()
}

/// Marks a conversation just joined as not yet checked: hidden, and not picked as anyone's
/// direct conversation, until its members' keys verify (`kt::monitor`).
/// True while a conversation joined is hidden until its members' keys are checked.
pub fn has_pending(conn: &Connection) -> Result<bool, ClientError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE pending = 1)",
        [],
        |r| r.get(0),
    )?)
}

pub fn set_pending(conn: &Connection, id: &GroupId) -> Result<(), ClientError> {
    conn.execute(
        "UPDATE conversations SET pending = 1 WHERE group_id = ?1",
        [id.as_bytes()],
    )?;
    Ok(())
}

pub fn insert_conversation(
    conn: &Connection,
    c: &Conversation,
    now_ms: u64,
) -> Result<(), ClientError> {
    conn.execute(
        "INSERT OR IGNORE INTO conversations (group_id, name, direct, peer, active, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            c.id.as_bytes(),
            c.name,
            c.direct,
            c.peer.as_ref().map(|p| p.as_str().to_owned()),
            c.active,
            now_ms as i64
        ],
    )?;
    Ok(())
}

pub fn set_active(conn: &Connection, id: &GroupId, active: bool) -> Result<(), ClientError> {
    conn.execute(
        "UPDATE conversations SET active = ?2 WHERE group_id = ?1",
        params![id.as_bytes(), active],
    )?;
    Ok(())
}

/// True once a member's key failed the directory check (nothing more is sent there).
pub fn is_untrusted(conn: &Connection, id: &GroupId) -> Result<bool, ClientError> {
    Ok(conn
        .query_row(
            "SELECT untrusted FROM conversations WHERE group_id = ?1",
            [id.as_bytes()],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

pub fn notice(
    conn: &Connection,
    group: Option<&GroupId>,
    alert: bool,
    text: &str,
    now_ms: u64,
) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO notices (group_id, alert, text, created_ms) VALUES (?1, ?2, ?3, ?4)",
        params![
            group.map(|g| g.as_bytes().to_vec()),
            alert,
            text,
            now_ms as i64
        ],
    )?;
    Ok(())
}

/// An alert after which a front end sends nothing until the user acknowledged it.
pub fn blocking_alert(conn: &Connection, text: &str, now_ms: u64) -> Result<(), ClientError> {
    conn.execute(
        "INSERT INTO notices (group_id, alert, text, created_ms, blocks_sending)
         VALUES (NULL, 1, ?1, ?2, 1)",
        params![text, now_ms as i64],
    )?;
    Ok(())
}

/// An alert the user has not seen yet, unless the same one is already waiting (a step
/// retried at every sync tells the user once, not at every try).
pub fn notice_once(
    conn: &Connection,
    group: Option<&GroupId>,
    text: &str,
) -> Result<(), ClientError> {
    let group = group.map(|g| g.as_bytes().to_vec());
    conn.execute(
        "INSERT INTO notices (group_id, alert, text, created_ms)
         SELECT ?1, 1, ?2, ?3 WHERE NOT EXISTS (
             SELECT 1 FROM notices WHERE group_id IS ?1 AND text = ?2 AND shown = 0)",
        params![group, text, now_ms() as i64],
    )?;
    Ok(())
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_opening_a_new_home_at_once_migrate_it_once() {
        let home = tempfile::tempdir().expect("temp dir");
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        open(home.path()).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                opener.join().expect("thread").expect("opened");
            }
        });
        let conn = open(home.path()).expect("open");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    /// After one transaction far larger than a checkpoint cycle, the WAL file shrinks back
    /// once that transaction is checkpointed instead of keeping its size on the device.
    #[test]
    fn a_large_transaction_does_not_leave_a_large_wal_behind() {
        let home = tempfile::tempdir().expect("temp dir");
        let conn = open(home.path()).expect("open");
        conn.execute_batch(
            "CREATE TABLE big (b BLOB);
             INSERT INTO big (b) VALUES (zeroblob(24 * 1024 * 1024));",
        )
        .expect("large write");
        let wal = home.path().join(format!("{DATABASE_FILE}-wal"));
        let size = || std::fs::metadata(&wal).expect("wal").len();
        assert!(
            size() > 24 * 1024 * 1024,
            "the transaction went through the WAL"
        );
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .expect("checkpoint");
        conn.execute_batch("DELETE FROM big").expect("small write");
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .expect("checkpoint");
        assert!(size() <= 16 * 1024 * 1024, "WAL left at {} bytes", size());
    }
}
