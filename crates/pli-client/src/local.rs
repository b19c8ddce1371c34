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
    // `secure_delete`: a deleted message (disappearing, deleted for everyone) is zeroed in
    // the file, not left in a free page for anyone holding the file to read.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 4096;
         PRAGMA journal_size_limit = 16777216;",
    )?;
    crate::mls::migrate(&mut conn)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in crate::schema::MIGRATIONS
        .iter()
        .enumerate()
        .skip(version as usize)
    {
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
        assert_eq!(version, crate::schema::MIGRATIONS.len() as i64);
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
        // (Not a deletion of the large row: `secure_delete` zeroes its pages, a large
        // write of its own.)
        conn.execute_batch("CREATE TABLE small (x INTEGER); INSERT INTO small VALUES (1);")
            .expect("small write");
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .expect("checkpoint");
        assert!(size() <= 16 * 1024 * 1024, "WAL left at {} bytes", size());
    }
}
