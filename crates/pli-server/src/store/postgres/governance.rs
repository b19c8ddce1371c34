//! SQL for the governance records on PostgreSQL: staff, the audit log, requests, holds and
//! notices. Appends to the audit log take a transaction-scoped advisory lock, so nodes
//! append one at a time and each checks the log's size under it.

use super::accounts::{ips_of, list_devices};
use super::queue;
use super::rows::{backend, is_unique_violation, username};
use super::{PostgresStore, commit};
use crate::store::error::StoreError;
use crate::store::governance::GovernanceStore;
use crate::store::governance::{
    AuditAppend, GovernanceEffect, InventoryRecord, PendingNotice, StaffChange, StaffRecord,
};
use pli_proto::frame::KIND_NOTICE;
use pli_proto::governance::{RequestView, Role};
use pli_proto::{DeviceId, Username};
use sqlx::Row as _;
use sqlx::postgres::{PgConnection, PgRow};

impl GovernanceStore for PostgresStore {
    async fn staff(&self, id: u64) -> Result<Option<StaffRecord>, StoreError> {
        staff(&mut *self.conn().await?, id).await
    }

    async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        list_staff(&mut *self.conn().await?).await
    }

    async fn audit_leaves(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        audit_leaves(&mut *self.conn().await?).await
    }

    async fn audit_entries(&self, from: u64, limit: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        audit_entries(&mut *self.conn().await?, from, limit).await
    }

    async fn audit_checkpoints(&self, from: u64, limit: u64) -> Result<Vec<String>, StoreError> {
        audit_checkpoints(&mut *self.conn().await?, from, limit).await
    }

    async fn add_audit_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        add_audit_cosignature(&mut *self.conn().await?, size, witness, line).await
    }

    async fn audit_cosignatures(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        audit_cosignatures(&mut *self.conn().await?, from, to).await
    }

    async fn governance_commit(
        &self,
        append: Option<AuditAppend>,
        effect: GovernanceEffect,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let woken = governance_commit(&mut tx, append.as_ref(), &effect).await?;
        commit(tx).await?;
        self.notifier.wake(woken);
        Ok(())
    }

    async fn request(&self, id: &str) -> Result<Option<RequestView>, StoreError> {
        request(&mut *self.conn().await?, id).await
    }

    async fn list_requests(&self) -> Result<Vec<RequestView>, StoreError> {
        list_requests(&mut *self.conn().await?).await
    }

    async fn inventory(&self, username: &Username) -> Result<Option<InventoryRecord>, StoreError> {
        inventory(&mut *self.conn().await?, username).await
    }

    async fn due_notices(
        &self,
        username: Option<&Username>,
        now_ms: u64,
    ) -> Result<Vec<PendingNotice>, StoreError> {
        due_notices(&mut *self.conn().await?, username, now_ms).await
    }
}

/// The advisory lock key that serialises audit log appends across nodes ("pli audit").
const AUDIT_LOCK: i64 = 0x706c_6920_6175_6474;

fn to_staff(row: &PgRow) -> Result<StaffRecord, StoreError> {
    let corrupt = || StoreError::Backend("invalid staff row".into());
    let role: String = row.try_get(2).map_err(backend)?;
    let hash: Vec<u8> = row.try_get(3).map_err(backend)?;
    Ok(StaffRecord {
        id: row.try_get::<i64, _>(0).map_err(backend)? as u64,
        name: row.try_get(1).map_err(backend)?,
        role: Role::parse(&role).ok_or_else(corrupt)?,
        secret_hash: hash.try_into().map_err(|_| corrupt())?,
    })
}

pub(super) async fn staff(
    conn: &mut PgConnection,
    id: u64,
) -> Result<Option<StaffRecord>, StoreError> {
    sqlx::query("SELECT staff_id, name, role, secret_hash FROM staff WHERE staff_id = $1")
        .bind(id as i64)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?
        .as_ref()
        .map(to_staff)
        .transpose()
}

pub(super) async fn list_staff(conn: &mut PgConnection) -> Result<Vec<StaffRecord>, StoreError> {
    sqlx::query("SELECT staff_id, name, role, secret_hash FROM staff ORDER BY staff_id")
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?
        .iter()
        .map(to_staff)
        .collect()
}

pub(super) async fn audit_leaves(conn: &mut PgConnection) -> Result<Vec<[u8; 32]>, StoreError> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT leaf_hash FROM audit_log ORDER BY seq")
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    rows.into_iter()
        .map(|hash| {
            hash.try_into()
                .map_err(|_| StoreError::Backend("invalid leaf hash row".into()))
        })
        .collect()
}

pub(super) async fn audit_entries(
    conn: &mut PgConnection,
    from: u64,
    limit: u64,
) -> Result<Vec<Vec<u8>>, StoreError> {
    sqlx::query_scalar("SELECT entry FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
        .bind(from as i64)
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn audit_checkpoints(
    conn: &mut PgConnection,
    from: u64,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar("SELECT note FROM audit_checkpoints WHERE size >= $1 ORDER BY size LIMIT $2")
        .bind(from.min(i64::MAX as u64) as i64)
        .bind(limit.min(i64::MAX as u64) as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn add_audit_cosignature(
    conn: &mut PgConnection,
    size: u64,
    witness: &str,
    line: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_cosignatures (size, witness, line) VALUES ($1, $2, $3)
         ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line",
    )
    .bind(size.min(i64::MAX as u64) as i64)
    .bind(witness)
    .bind(line)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn audit_cosignatures(
    conn: &mut PgConnection,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, String)>, StoreError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT size, line FROM audit_cosignatures WHERE size BETWEEN $1 AND $2
         ORDER BY size, witness",
    )
    .bind(from.min(i64::MAX as u64) as i64)
    .bind(to.min(i64::MAX as u64) as i64)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(rows
        .into_iter()
        .map(|(size, line)| (size as u64, line))
        .collect())
}

async fn save_request(tx: &mut PgConnection, request: &RequestView) -> Result<(), StoreError> {
    let record = serde_json::to_string(request).map_err(|e| StoreError::Backend(e.to_string()))?;
    sqlx::query(
        "INSERT INTO legal_requests (request_id, record, created_ms) VALUES ($1, $2, $3)
         ON CONFLICT (request_id) DO UPDATE SET record = excluded.record",
    )
    .bind(&request.id)
    .bind(record)
    .bind(request.created_ms as i64)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Returns the devices a released notice was queued for (to wake once committed).
pub(super) async fn governance_commit(
    tx: &mut PgConnection,
    append: Option<&AuditAppend>,
    effect: &GovernanceEffect,
) -> Result<Vec<DeviceId>, StoreError> {
    if let Some(append) = append {
        append_audit(tx, append).await?;
    }
    apply_effect(tx, effect).await
}

/// Appends the audit entry and its checkpoint, refusing a stale position.
async fn append_audit(tx: &mut PgConnection, append: &AuditAppend) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let size: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_log")
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    if size as u64 != append.seq {
        return Err(StoreError::AuditConflict);
    }
    sqlx::query("INSERT INTO audit_log (seq, entry, leaf_hash) VALUES ($1, $2, $3)")
        .bind(append.seq as i64)
        .bind(&append.entry)
        .bind(&append.leaf_hash[..])
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    sqlx::query("INSERT INTO audit_checkpoints (size, note) VALUES ($1, $2)")
        .bind((append.seq + 1) as i64)
        .bind(&append.checkpoint)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Revokes, rotates or re-roles a member, refusing to leave no operator. The operators'
/// rows are locked first (in id order, so two changes never wait on each other crosswise):
/// of two nodes demoting the last two operators at once, the second waits for the first,
/// then sees one operator left, the one it would remove, and refuses.
async fn change_staff(tx: &mut PgConnection, change: &StaffChange) -> Result<(), StoreError> {
    let id = change.staff_id() as i64;
    let operators: Vec<i64> = sqlx::query_scalar(
        "SELECT staff_id FROM staff WHERE role = $1 ORDER BY staff_id FOR UPDATE",
    )
    .bind(Role::Operator.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let current: Option<String> =
        sqlx::query_scalar("SELECT role FROM staff WHERE staff_id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    let current = current.ok_or(StoreError::UnknownStaff)?;
    let current =
        Role::parse(&current).ok_or_else(|| StoreError::Backend("invalid staff row".into()))?;
    if change.removes_operator(current) && operators.iter().all(|other| *other == id) {
        return Err(StoreError::LastOperator);
    }
    let changed = match change {
        StaffChange::Revoke { .. } => {
            sqlx::query("DELETE FROM staff WHERE staff_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
        }
        StaffChange::Rotate { secret_hash, .. } => {
            sqlx::query("UPDATE staff SET secret_hash = $2 WHERE staff_id = $1")
                .bind(id)
                .bind(&secret_hash[..])
                .execute(&mut *tx)
                .await
        }
        StaffChange::Role { role, .. } => {
            sqlx::query("UPDATE staff SET role = $2 WHERE staff_id = $1")
                .bind(id)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await
        }
    }
    .map_err(backend)?;
    if changed.rows_affected() != 1 {
        return Err(StoreError::UnknownStaff);
    }
    Ok(())
}

/// What the action changes; returns the devices whose queues grew.
async fn apply_effect(
    tx: &mut PgConnection,
    effect: &GovernanceEffect,
) -> Result<Vec<DeviceId>, StoreError> {
    if let Some(staff) = &effect.staff {
        sqlx::query(
            "INSERT INTO staff (staff_id, name, role, secret_hash) VALUES ($1, $2, $3, $4)",
        )
        .bind(staff.id as i64)
        .bind(&staff.name)
        .bind(staff.role.as_str())
        .bind(&staff.secret_hash[..])
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::StaffNameTaken
            } else {
                backend(e)
            }
        })?;
    }
    if let Some(change) = &effect.staff_change {
        change_staff(tx, change).await?;
    }
    if let Some(enrolment) = &effect.totp {
        super::second_factors::enrol(tx, enrolment).await?;
    }
    if let Some(request) = &effect.request {
        save_request(tx, request).await?;
    }
    for (user, until_ms) in &effect.holds {
        sqlx::query(
            "INSERT INTO preservation_holds (username, until_ms) VALUES ($1, $2)
             ON CONFLICT (username) DO UPDATE
             SET until_ms = GREATEST(preservation_holds.until_ms, excluded.until_ms)",
        )
        .bind(user.as_str())
        .bind(*until_ms as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    for notice in &effect.new_notices {
        sqlx::query(
            "INSERT INTO pending_notices (request_id, username, payload, release_ms)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&notice.request_id)
        .bind(notice.username.as_str())
        .bind(&notice.payload)
        .bind(notice.release_ms as i64)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if let Some(release) = &effect.release {
        let row = sqlx::query(
            "DELETE FROM pending_notices WHERE notice_id = $1 RETURNING username, payload",
        )
        .bind(release.notice_id as i64)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?
        .ok_or(StoreError::NoticeReleased)?;
        let user = username(row.try_get(0).map_err(backend)?)?;
        let payload: Vec<u8> = row.try_get(1).map_err(backend)?;
        let devices = list_devices(tx, &user).await?.unwrap_or_default();
        let ids: Vec<_> = devices.iter().map(|d| d.device_id).collect();
        if !ids.is_empty() {
            queue::enqueue_notice(
                tx,
                KIND_NOTICE,
                &payload,
                &ids,
                release.now_ms,
                release.max_queue_depth,
            )
            .await?;
        }
        return Ok(ids);
    }
    Ok(Vec::new())
}

fn parse_request(record: &str) -> Result<RequestView, StoreError> {
    serde_json::from_str(record).map_err(|_| StoreError::Backend("invalid request row".into()))
}

pub(super) async fn request(
    conn: &mut PgConnection,
    id: &str,
) -> Result<Option<RequestView>, StoreError> {
    let record: Option<String> =
        sqlx::query_scalar("SELECT record FROM legal_requests WHERE request_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    record.as_deref().map(parse_request).transpose()
}

pub(super) async fn list_requests(conn: &mut PgConnection) -> Result<Vec<RequestView>, StoreError> {
    let records: Vec<String> =
        sqlx::query_scalar("SELECT record FROM legal_requests ORDER BY created_ms, request_id")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    records.iter().map(|r| parse_request(r)).collect()
}

pub(super) async fn inventory(
    conn: &mut PgConnection,
    user: &Username,
) -> Result<Option<InventoryRecord>, StoreError> {
    let account = sqlx::query(
        "SELECT created_day, last_seen_day,
                (SELECT COALESCE(SUM(queue_len), 0)::BIGINT FROM devices WHERE username = $1),
                (SELECT until_ms FROM preservation_holds WHERE username = $1),
                deleted_day
         FROM accounts WHERE username = $1",
    )
    .bind(user.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some(account) = account else {
        return Ok(None);
    };
    let devices = list_devices(conn, user).await?.unwrap_or_default();
    let mut key_packages = Vec::with_capacity(devices.len());
    for device in &devices {
        let status = super::key_packages::key_package_status(
            conn,
            device.device_id,
            crate::store::key_packages::KeyPackageTime::ANY,
        )
        .await?;
        key_packages.push((device.device_id, status));
    }
    Ok(Some(InventoryRecord {
        username: user.clone(),
        created_day: account.try_get(0).map_err(backend)?,
        last_seen_day: account.try_get(1).map_err(backend)?,
        devices,
        key_packages,
        queued_messages: account.try_get::<i64, _>(2).map_err(backend)? as u64,
        preserved_until_ms: account
            .try_get::<Option<i64>, _>(3)
            .map_err(backend)?
            .map(|ms| ms as u64),
        deleted_day: account.try_get(4).map_err(backend)?,
        ips: ips_of(conn, user).await?,
    }))
}

pub(super) async fn due_notices(
    conn: &mut PgConnection,
    user: Option<&Username>,
    now_ms: u64,
) -> Result<Vec<PendingNotice>, StoreError> {
    let rows = sqlx::query(
        "SELECT notice_id, request_id, username FROM pending_notices
         WHERE release_ms <= $1 AND ($2::TEXT IS NULL OR username = $2) ORDER BY notice_id",
    )
    .bind(now_ms as i64)
    .bind(user.map(Username::as_str))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| {
            Ok(PendingNotice {
                notice_id: r.try_get::<i64, _>(0).map_err(backend)? as u64,
                request_id: r.try_get(1).map_err(backend)?,
                username: username(r.try_get(2).map_err(backend)?)?,
            })
        })
        .collect()
}
