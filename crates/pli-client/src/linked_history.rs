//! Copying a user's history to their newly linked device, and taking it there.
//!
//! When the user approves a link with a history choice ([`crate::HistoryChoice`]), the
//! approving device keeps the link secret with the device to add (`linked_devices`). Once
//! the new device is in every conversation, it seals the chosen messages into parts
//! ([`crate::history_archive`]) and the server relays each to the new device alone (kind
//! [`KIND_HISTORY`](pli_proto::frame::KIND_HISTORY), kept two days at most). The new
//! device kept the same secret when the directory keys came under it, opens each part,
//! stores its messages as read history and, once every part came, says how many, then
//! forgets the secret. A part that does not open is refused with an alert: only the user's
//! own device could have sealed it, so a server that alters or makes one up is caught.

use crate::error::ClientError;
use crate::history_archive::{ArchivePart, collect, import, open, seal, split};
use crate::{Client, local};
use pli_proto::DeviceId;
use pli_proto::limits::HISTORY_TTL_SECS;
use rusqlite::{Connection, OptionalExtension, params};

/// How long a new device keeps its link secret for an archive to come: as long as the
/// approving device tries to add it (`linked_devices::GIVE_UP_AFTER_MS`, seven days), and
/// then as long as the server keeps a part.
pub const KEEP_SECRET_MS: u64 = 7 * 86_400_000 + HISTORY_TTL_SECS * 1000;

/// On the new device: keeps the link secret the directory keys came under, for the archive.
pub(crate) fn keep_secret(tx: &Connection, secret: &[u8], now_ms: u64) -> Result<(), ClientError> {
    tx.execute(
        "INSERT OR REPLACE INTO history_link (id, secret, linked_ms) VALUES (1, ?1, ?2)",
        params![secret, now_ms as i64],
    )?;
    tx.execute("DELETE FROM history_parts", [])?;
    Ok(())
}

/// Forgets a link secret kept longer than [`KEEP_SECRET_MS`]: no archive is coming.
pub(crate) fn forget_stale(conn: &Connection, now_ms: u64) -> Result<(), ClientError> {
    let before = now_ms.saturating_sub(KEEP_SECRET_MS) as i64;
    if conn.execute("DELETE FROM history_link WHERE linked_ms < ?1", [before])? > 0 {
        conn.execute("DELETE FROM history_parts", [])?;
    }
    Ok(())
}

/// Takes one relayed part (a delivery of kind `KIND_HISTORY`) on the new device.
pub(crate) fn receive(tx: &Connection, sealed: &[u8]) -> Result<(), ClientError> {
    let secret: Option<Vec<u8>> = tx
        .query_row("SELECT secret FROM history_link WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(secret) = secret else {
        // No archive is expected (none was chosen, or it came whole): nothing opens it.
        return Ok(());
    };
    let Some(part) = open(&secret, sealed) else {
        local::notice(
            tx,
            None,
            true,
            "a part of the history your other device copied to this one did not arrive intact, so it was not stored: the server may have altered it",
            local::now_ms(),
        )?;
        return Ok(());
    };
    if tx.execute(
        "INSERT OR IGNORE INTO history_parts (part) VALUES (?1)",
        [part.part],
    )? == 0
    {
        return Ok(());
    }
    let stored = import(tx, &part)?;
    tx.execute(
        "UPDATE history_link SET stored = stored + ?1 WHERE id = 1",
        [stored as i64],
    )?;
    let (parts, total): (i64, i64) = tx.query_row(
        "SELECT (SELECT COUNT(*) FROM history_parts), stored FROM history_link WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if parts == i64::from(part.parts) {
        let text = match total {
            0 => "your other device had no earlier messages to copy to this one".to_owned(),
            1 => "your other device copied 1 earlier message to this one".to_owned(),
            n => format!("your other device copied {n} earlier messages to this one"),
        };
        local::notice(tx, None, false, &text, local::now_ms())?;
        tx.execute("DELETE FROM history_link", [])?;
        tx.execute("DELETE FROM history_parts", [])?;
    }
    Ok(())
}

impl Client {
    /// Seals the messages sent since `since_ms` under the link `secret` and has the server
    /// relay them to `device`, part by part. Returns how many parts went. An archive with
    /// nothing in it still sends one empty part, so the new device knows none is coming.
    /// (`&mut`: a shared borrow held across the sends would make the sync future `!Send`.)
    pub(crate) async fn send_history(
        &mut self,
        device: DeviceId,
        secret: &[u8],
        since_ms: u64,
    ) -> Result<usize, ClientError> {
        let mut parts = split(collect(&self.conn, since_ms)?);
        if parts.is_empty() {
            parts.push(ArchivePart {
                part: 1,
                parts: 1,
                messages: Vec::new(),
            });
        }
        for part in &parts {
            self.transport
                .relay_history(device, seal(secret, part))
                .await?;
        }
        Ok(parts.len())
    }
}
