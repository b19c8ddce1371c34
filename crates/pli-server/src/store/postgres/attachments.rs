//! SQL for attachments (`attachments`, `attachment_recipients`); the bytes go through the
//! store's [`Blobs`](crate::store::blobs::Blobs), outside any transaction, in the same
//! order as on SQLite: a chunk before the row counts it, a blob before its row goes.

use super::PostgresStore;
use super::rows::{backend, ids, is_unique_violation};
use crate::store::attachments::{
    AttachmentState, AttachmentStore, AttachmentUsage, NewAttachment, chunk_is_next,
};
use crate::store::error::StoreError;
use bytes::Bytes;
use pli_proto::attachment::{AttachmentId, chunk_count};
use pli_proto::{DeviceId, Username};
use sqlx::postgres::PgConnection;

/// Expired attachments one sweep deletes at most; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 500;

impl AttachmentStore for PostgresStore {
    async fn create_attachment(&self, new: NewAttachment) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        create(&mut tx, &new).await?;
        super::commit(tx).await
    }

    async fn attachment_state(
        &self,
        id: AttachmentId,
        device: Option<DeviceId>,
    ) -> Result<Option<AttachmentState>, StoreError> {
        state(&mut *self.conn().await?, id, device).await
    }

    async fn put_attachment_chunk(
        &self,
        id: AttachmentId,
        uploader: Option<DeviceId>,
        index: u32,
        bytes: Bytes,
    ) -> Result<AttachmentState, StoreError> {
        let before = self
            .attachment_state(id, uploader)
            .await?
            .filter(|s| uploader.is_none() || s.uploaded_by_asker)
            .ok_or(StoreError::UnknownAttachment)?;
        if !chunk_is_next(&before, index, bytes.len())? {
            return Ok(before);
        }
        // The uploader's region keeps a copy with no recipients for its quota alone, and
        // no bytes in it. (No connection is held while the bytes travel.)
        let has_recipients: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM attachment_recipients WHERE attachment = $1)",
        )
        .bind(&id.0[..])
        .fetch_one(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        if has_recipients {
            self.blobs().put(id, index, bytes).await?;
        }
        let mut conn = self.conn().await?;
        sqlx::query("UPDATE attachments SET received = $3 WHERE id = $1 AND received = $2")
            .bind(&id.0[..])
            .bind(index as i32)
            .bind(index as i32 + 1)
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        state(&mut conn, id, uploader)
            .await?
            .ok_or(StoreError::UnknownAttachment)
    }

    async fn attachment_chunk(
        &self,
        id: AttachmentId,
        device: DeviceId,
        index: u32,
    ) -> Result<Bytes, StoreError> {
        let found = self
            .attachment_state(id, Some(device))
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
        let mut tx = self.begin().await?;
        let done = mark_fetched(&mut tx, id, device).await?;
        super::commit(tx).await?;
        let Some(chunks) = done else {
            return Ok(false);
        };
        self.blobs().delete(id, chunks).await?;
        delete_rows(&mut *self.conn().await?, &[id]).await?;
        Ok(true)
    }

    async fn expire_attachments(&self, now_ms: u64) -> Result<u64, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT id, size FROM attachments WHERE expires_ms <= $1 LIMIT $2")
                .bind(now_ms as i64)
                .bind(SWEEP_BATCH)
                .fetch_all(&mut *self.conn().await?)
                .await
                .map_err(backend)?;
        let mut due = Vec::with_capacity(rows.len());
        for (id, size) in rows {
            let id = attachment_id(id)?;
            self.blobs().delete(id, chunk_count(size as u64)).await?;
            due.push(id);
        }
        delete_rows(&mut *self.conn().await?, &due).await
    }

    async fn attachment_usage(&self, account: &Username) -> Result<AttachmentUsage, StoreError> {
        let (count, bytes): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM attachments a
             WHERE a.uploader = $1 OR EXISTS (
                 SELECT 1 FROM attachment_recipients r JOIN devices d ON d.device_id = r.device_id
                 WHERE r.attachment = a.id AND d.username = $1)",
        )
        .bind(account.as_str())
        .fetch_one(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        Ok(AttachmentUsage {
            count: count as u64,
            bytes: bytes as u64,
        })
    }
}

fn attachment_id(raw: Vec<u8>) -> Result<AttachmentId, StoreError> {
    raw.try_into()
        .map(AttachmentId)
        .map_err(|_| StoreError::Backend("invalid attachment id row".into()))
}

async fn create(tx: &mut PgConnection, new: &NewAttachment) -> Result<(), StoreError> {
    let uploader: Option<String> = match new.uploader {
        Some(device) => Some(
            sqlx::query_scalar("SELECT username FROM devices WHERE device_id = $1")
                .bind(device.get() as i64)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?
                .ok_or(StoreError::UnknownDevice)?,
        ),
        None => None,
    };
    if let Some(account) = &uploader {
        // Two uploads of one account on two nodes: the account row's lock orders them, so
        // neither reads the other's size before it committed.
        sqlx::query("SELECT 1 FROM accounts WHERE username = $1 FOR UPDATE")
            .bind(account)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let held: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(size), 0)::BIGINT FROM attachments WHERE uploader = $1",
        )
        .bind(account)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if held as u64 + new.size > new.quota_bytes {
            return Err(StoreError::QuotaExceeded);
        }
    }
    sqlx::query(
        "INSERT INTO attachments (id, uploader, uploader_device, size, expires_ms)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&new.id.0[..])
    .bind(uploader)
    .bind(new.uploader.map(|d| d.get() as i64))
    .bind(new.size as i64)
    .bind(new.expires_ms as i64)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AttachmentExists
        } else {
            backend(e)
        }
    })?;
    let mut wanted = ids(&new.recipients);
    wanted.sort_unstable();
    wanted.dedup();
    let added = sqlx::query(
        "INSERT INTO attachment_recipients (attachment, device_id)
         SELECT $1, device_id FROM devices WHERE device_id = ANY($2)",
    )
    .bind(&new.id.0[..])
    .bind(&wanted)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    if added.rows_affected() != wanted.len() as u64 {
        return Err(StoreError::UnknownRecipient);
    }
    Ok(())
}

async fn state(
    conn: &mut PgConnection,
    id: AttachmentId,
    device: Option<DeviceId>,
) -> Result<Option<AttachmentState>, StoreError> {
    let row: Option<(i64, i32, Option<i64>, bool)> = sqlx::query_as(
        "SELECT size, received, uploader_device,
                EXISTS (SELECT 1 FROM attachment_recipients
                        WHERE attachment = $1 AND device_id = $2)
         FROM attachments WHERE id = $1",
    )
    .bind(&id.0[..])
    .bind(device.map(|d| d.get() as i64))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some((size, received, uploader, recipient)) = row else {
        return Ok(None);
    };
    let uploaded_by_asker = device.is_some_and(|d| uploader == Some(d.get() as i64));
    let visible = device.is_none() || uploaded_by_asker || recipient;
    Ok(visible.then_some(AttachmentState {
        size: size as u64,
        received: received as u32,
        uploaded_by_asker,
    }))
}

/// Marks `device`'s fetch; returns the chunk count when that was the copy's last
/// recipient, so the caller deletes its bytes, then its rows.
async fn mark_fetched(
    tx: &mut PgConnection,
    id: AttachmentId,
    device: DeviceId,
) -> Result<Option<u32>, StoreError> {
    let found = state(tx, id, Some(device))
        .await?
        .ok_or(StoreError::UnknownAttachment)?;
    if found.uploaded_by_asker {
        return Ok(None);
    }
    if found.received < chunk_count(found.size) {
        return Err(StoreError::AttachmentIncomplete);
    }
    sqlx::query(
        "UPDATE attachment_recipients SET fetched = TRUE WHERE attachment = $1 AND device_id = $2",
    )
    .bind(&id.0[..])
    .bind(device.get() as i64)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    // Two last fetches on two nodes: the attachment row's lock lets one see the other's.
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM attachment_recipients r
         JOIN (SELECT id FROM attachments WHERE id = $1 FOR UPDATE) a ON a.id = r.attachment
         WHERE NOT r.fetched",
    )
    .bind(&id.0[..])
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    Ok((waiting == 0).then(|| chunk_count(found.size)))
}

async fn delete_rows(conn: &mut PgConnection, ids: &[AttachmentId]) -> Result<u64, StoreError> {
    let raw: Vec<Vec<u8>> = ids.iter().map(|id| id.0.to_vec()).collect();
    let done = sqlx::query("DELETE FROM attachments WHERE id = ANY($1)")
        .bind(&raw)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected())
}
