//! A device's watch on the server's public audit log, at every sync, and what the witness
//! shares with it: the newest checkpoint the server publishes, fetched page by page. The
//! checks themselves are in [`crate::audit_state`].

use crate::audit_state::{SeenCheckpoint, WatchError};
use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use pli_proto::checkpoint::{LogKey, UnverifiedCheckpoint};
use rusqlite::{OptionalExtension, params};

/// The newest checkpoint the server publishes at or after `from` (paging forward), parsed
/// but not verified; `None` if there is none.
pub(crate) async fn newest_from(
    transport: &crate::transport::Transport,
    from: u64,
) -> Result<Option<(String, UnverifiedCheckpoint)>, ClientError> {
    let mut from = from;
    let mut newest = None;
    loop {
        let page = transport.audit_checkpoints(from).await?;
        let Some(last) = page.checkpoints.last() else {
            return Ok(newest);
        };
        let parsed = UnverifiedCheckpoint::parse(last)
            .map_err(|e| ClientError::Protocol(format!("audit checkpoint: {e}")))?;
        let next = parsed.claimed_size() + 1;
        let full = page.checkpoints.len() as u64 >= crate::transport::AUDIT_PAGE;
        newest = Some((last.clone(), parsed));
        if !full {
            return Ok(newest);
        }
        from = next;
    }
}

/// The witnesses whose cosignature this device requires on an audit checkpoint.
pub(crate) fn required_witnesses(
    conn: &rusqlite::Connection,
) -> Result<Vec<pli_proto::witness::WitnessKey>, ClientError> {
    let mut st = conn.prepare("SELECT vkey FROM audit_witnesses ORDER BY vkey")?;
    let keys = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    keys.iter()
        .map(|k| {
            pli_proto::witness::WitnessKey::parse(k)
                .map_err(|_| ClientError::corrupt("witness key"))
        })
        .collect()
}

impl Client {
    /// Requires `vkey`'s cosignature on every audit checkpoint this device keeps from now
    /// on (the policy: every listed witness).
    pub fn require_witness(&self, vkey: &str) -> Result<(), ClientError> {
        let witness = pli_proto::witness::WitnessKey::parse(vkey)
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        self.conn.execute(
            "INSERT OR IGNORE INTO audit_witnesses (vkey) VALUES (?1)",
            [witness.vkey()],
        )?;
        Ok(())
    }

    /// The device's own watch on the public audit log, at every sync: the newest signed
    /// checkpoint must extend the newest this device verified before (consistency proof
    /// from the server). A rollback or a fork is an alert, and the device keeps the
    /// checkpoint it had as evidence. Network failures leave the check for the next sync.
    pub async fn watch_audit_log(&mut self) -> Result<(), ClientError> {
        match self.check_audit_log().await {
            Err(ClientError::AuditLog(err)) => {
                local::notice_once(
                    &self.conn,
                    None,
                    &format!(
                        "the server's public audit log changed its past ({err}): the record of lawful requests about anyone may have been altered"
                    ),
                )?;
                Err(ClientError::AuditLog(err))
            }
            other => other,
        }
    }

    async fn check_audit_log(&mut self) -> Result<(), ClientError> {
        let served = self.transport.audit_key().await?;
        let key = LogKey::from_published(&served.name, &served.public_key)
            .map_err(|e| ClientError::Protocol(format!("audit key: {e}")))?;
        let seen: Option<SeenCheckpoint> = self
            .conn
            .query_row(
                "SELECT origin, log_key, size, root FROM audit_seen WHERE id = 1",
                [],
                |r| {
                    Ok(SeenCheckpoint {
                        origin: r.get(0)?,
                        key: r.get(1)?,
                        size: r.get::<_, i64>(2)? as u64,
                        root: r.get(3)?,
                    })
                },
            )
            .optional()?;
        if let Some(seen) = &seen
            && seen.key != served.public_key
        {
            return Err(WatchError::KeyChanged.into());
        }
        let from = seen.as_ref().map_or(1, |s| s.size.max(1));
        let Some((note, newest)) = newest_from(&self.transport, from).await? else {
            return match &seen {
                Some(seen) if seen.size > 0 => Err(WatchError::Rollback {
                    seen: seen.size,
                    now: 0,
                }
                .into()),
                _ => Ok(()),
            };
        };
        let newest = newest
            .verify(&key)
            .map_err(|e| ClientError::Protocol(format!("audit checkpoint: {e}")))?;
        if let Some(seen) = &seen {
            if newest.size == seen.size {
                seen.extended_by_proof(&newest, &[])?;
                return Ok(());
            }
            let proof = self
                .transport
                .audit_consistency(seen.size, newest.size)
                .await?;
            seen.extended_by_proof(&newest, &proof)?;
        }
        // A checkpoint every witness this device requires co-signed is kept; one they have
        // not (yet) co-signed is checked but not kept, so this device never builds on a
        // view of the log that no witness shares.
        if !required_witnesses(&self.conn)?
            .iter()
            .all(|witness| witness.cosigned(&newest, &note))
        {
            return Ok(());
        }
        let next = SeenCheckpoint::new(&newest, &served.public_key);
        self.conn.execute(
            "INSERT INTO audit_seen (id, origin, log_key, size, root) VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, log_key = excluded.log_key,
                 size = excluded.size, root = excluded.root",
            params![next.origin, next.key, next.size as i64, next.root],
        )?;
        Ok(())
    }
}
