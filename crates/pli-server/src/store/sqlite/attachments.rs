//! SQL for attachments (`attachments`, `attachment_recipients`); the bytes go through the
//! store's [`Blobs`](crate::store::blobs::Blobs), outside any transaction: a chunk is
//! written before the row counts it, and a blob is deleted before its row, so a crash
//! leaves at worst a row whose sweep deletes chunks already gone, never bytes no row names.

use super::SqliteStore;
use super::rows::{backend, is_unique_violation};
use crate::store::attachments::{
    AttachmentState, AttachmentStore, AttachmentUsage, NewAttachment, chunk_is_next,
};
use crate::store::error::StoreError;
use bytes::Bytes;
use pli_proto::attachment::{AttachmentId, chunk_count};
use pli_proto::{DeviceId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// Expired attachments one sweep deletes at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 500;

impl AttachmentStore for SqliteStore {
    async fn create_attachment(&self, new: NewAttachment) -> Result<(), StoreError> {
        self.write(move |c| create(c, &new)).await
    }

    async fn attachment_state(
        &self,
        id: AttachmentId,
        device: Option<DeviceId>,
    ) -> Result<Option<AttachmentState>, StoreError> {
        self.read(move |c| state(c, id, device)).await
    }

    async fn put_attachment_chunk(
        &self,
        id: AttachmentId,
        uploader: Option<DeviceId>,
        index: u32,
        bytes: Bytes,
    ) -> Result<AttachmentState, StoreError> {
        let before = self
            .read(move |c| state(c, id, uploader))
            .await?
            .filter(|s| uploader.is_none() || s.uploaded_by_asker)
            .ok_or(StoreError::UnknownAttachment)?;
        if !chunk_is_next(&before, index, bytes.len())? {
            return Ok(before);
        }
        if self.read(move |c| has_recipients(c, id)).await? {
            self.blobs().put(id, index, bytes).await?;
        }
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE attachments SET received = ?3 WHERE id = ?1 AND received = ?2",
            )
            .and_then(|mut st| st.execute(params![&id.0[..], index, index + 1]))
            .map_err(backend)?;
            state(c, id, uploader)?.ok_or(StoreError::UnknownAttachment)
        })
        .await
    }

    async fn attachment_chunk(
        &self,
        id: AttachmentId,
        device: DeviceId,
        index: u32,
    ) -> Result<Bytes, StoreError> {
        let found = self
            .read(move |c| state(c, id, Some(device)))
            .await?
            .ok_or(StoreError::UnknownAttachment)?;
        if index >= found.received {
            return Err(StoreError::AttachmentIncomplete);
        }
        self.blobs().get(id, index).await
    }

    async fn attachment_fetched(
        &self,
        id: AttachmentId,
        device: DeviceId,
    ) -> Result<bool, StoreError> {
        let done = self.write(move |c| mark_fetched(c, id, device)).await?;
        let Some(chunks) = done else {
            return Ok(false);
        };
        self.blobs().delete(id, chunks).await?;
        self.write(move |c| delete_rows(c, &[id])).await?;
        Ok(true)
    }

    async fn expire_attachments(&self, now_ms: u64) -> Result<u64, StoreError> {
        let due = self.read(move |c| expired(c, now_ms)).await?;
        for (id, chunks) in &due {
            self.blobs().delete(*id, *chunks).await?;
        }
        let ids: Vec<AttachmentId> = due.into_iter().map(|(id, _)| id).collect();
        self.write(move |c| delete_rows(c, &ids)).await
    }

    async fn attachment_usage(&self, account: &Username) -> Result<AttachmentUsage, StoreError> {
        let account = account.clone();
        self.read(move |c| usage(c, &account)).await
    }
}

fn create(conn: &Connection, new: &NewAttachment) -> Result<(), StoreError> {
    let uploader: Option<String> = match new.uploader {
        Some(device) => Some(
            conn.prepare_cached("SELECT username FROM devices WHERE device_id = ?1")
                .and_then(|mut st| st.query_row([device.get() as i64], |r| r.get(0)).optional())
                .map_err(backend)?
                .ok_or(StoreError::UnknownDevice)?,
        ),
        None => None,
    };
    if let Some(account) = &uploader {
        let held: i64 = conn
            .prepare_cached("SELECT COALESCE(SUM(size), 0) FROM attachments WHERE uploader = ?1")
            .and_then(|mut st| st.query_row([account], |r| r.get(0)))
            .map_err(backend)?;
        if held as u64 + new.size > new.quota_bytes {
            return Err(StoreError::QuotaExceeded);
        }
    }
    conn.prepare_cached(
        "INSERT INTO attachments (id, uploader, uploader_device, size, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![
            &new.id.0[..],
            uploader,
            new.uploader.map(|d| d.get() as i64),
            new.size as i64,
            new.expires_ms as i64
        ])
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AttachmentExists
        } else {
            backend(e)
        }
    })?;
    let mut insert = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO attachment_recipients (attachment, device_id)
             SELECT ?1, device_id FROM devices WHERE device_id = ?2",
        )
        .map_err(backend)?;
    for device in &new.recipients {
        if insert
            .execute(params![&new.id.0[..], device.get() as i64])
            .map_err(backend)?
            == 0
        {
            return Err(StoreError::UnknownRecipient);
        }
    }
    Ok(())
}

fn state(
    conn: &Connection,
    id: AttachmentId,
    device: Option<DeviceId>,
) -> Result<Option<AttachmentState>, StoreError> {
    let row: Option<(i64, u32, Option<i64>)> = conn
        .prepare_cached("SELECT size, received, uploader_device FROM attachments WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([&id.0[..]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(backend)?;
    let Some((size, received, uploader)) = row else {
        return Ok(None);
    };
    let found = AttachmentState {
        size: size as u64,
        received,
        uploaded_by_asker: false,
    };
    let Some(device) = device else {
        return Ok(Some(found));
    };
    if uploader == Some(device.get() as i64) {
        return Ok(Some(AttachmentState {
            uploaded_by_asker: true,
            ..found
        }));
    }
    let recipient = conn
        .prepare_cached(
            "SELECT 1 FROM attachment_recipients WHERE attachment = ?1 AND device_id = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![&id.0[..], device.get() as i64], |_| Ok(()))
                .optional()
        })
        .map_err(backend)?;
    Ok(recipient.map(|()| found))
}

/// Whether any device may download this copy: the uploader's region keeps a copy with no
/// recipients for its quota alone, and no bytes in it.
fn has_recipients(conn: &Connection, id: AttachmentId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM attachment_recipients WHERE attachment = ?1)")
        .and_then(|mut st| st.query_row([&id.0[..]], |r| r.get(0)))
        .map_err(backend)
}

/// Marks `device`'s fetch; returns the chunk count when that was the copy's last
/// recipient, so the caller deletes its bytes, then its rows.
fn mark_fetched(
    conn: &Connection,
    id: AttachmentId,
    device: DeviceId,
) -> Result<Option<u32>, StoreError> {
    let found = state(conn, id, Some(device))?.ok_or(StoreError::UnknownAttachment)?;
    if found.uploaded_by_asker {
        return Ok(None);
    }
    if found.received < chunk_count(found.size) {
        return Err(StoreError::AttachmentIncomplete);
    }
    conn.prepare_cached(
        "UPDATE attachment_recipients SET fetched = 1 WHERE attachment = ?1 AND device_id = ?2",
    )
    .and_then(|mut st| st.execute(params![&id.0[..], device.get() as i64]))
    .map_err(backend)?;
    let waiting: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM attachment_recipients WHERE attachment = ?1 AND fetched = 0",
        )
        .and_then(|mut st| st.query_row([&id.0[..]], |r| r.get(0)))
        .map_err(backend)?;
    Ok((waiting == 0).then(|| chunk_count(found.size)))
}

fn expired(conn: &Connection, now_ms: u64) -> Result<Vec<(AttachmentId, u32)>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT id, size FROM attachments WHERE expires_ms <= ?1 LIMIT ?2")
        .map_err(backend)?;
    let rows = st
        .query_map(params![now_ms as i64, SWEEP_BATCH], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, size) = row.map_err(backend)?;
        let id = id
            .try_into()
            .map(AttachmentId)
            .map_err(|_| StoreError::Backend("invalid attachment id row".into()))?;
        Ok((id, chunk_count(size as u64)))
    })
    .collect()
}

fn delete_rows(conn: &Connection, ids: &[AttachmentId]) -> Result<u64, StoreError> {
    let mut st = conn
        .prepare_cached("DELETE FROM attachments WHERE id = ?1")
        .map_err(backend)?;
    let mut deleted = 0;
    for id in ids {
        deleted += st.execute([&id.0[..]]).map_err(backend)? as u64;
    }
    Ok(deleted)
}

fn usage(conn: &Connection, account: &Username) -> Result<AttachmentUsage, StoreError> {
    conn.prepare_cached(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM attachments a
         WHERE a.uploader = ?1 OR EXISTS (
             SELECT 1 FROM attachment_recipients r JOIN devices d ON d.device_id = r.device_id
             WHERE r.attachment = a.id AND d.username = ?1)",
    )
    .and_then(|mut st| {
        st.query_row([account.as_str()], |r| {
            Ok(AttachmentUsage {
                count: r.get::<_, i64>(0)? as u64,
                bytes: r.get::<_, i64>(1)? as u64,
            })
        })
    })
    .map_err(backend)
}
