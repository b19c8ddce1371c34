//! SQL for the governance records: staff, the audit log, requests, holds and notices.

use super::SqliteStore;
use super::accounts::{ips_of, list_devices};
use super::queue;
use super::rows::{backend, username};
use crate::store::error::StoreError;
use crate::store::governance::GovernanceStore;
use crate::store::governance::{
    AuditAppend, GovernanceEffect, InventoryRecord, PendingNotice, StaffChange, StaffRecord,
};
use crate::store::key_packages::{KeyPackageStatus, KeyPackageTime};
use pli_proto::Username;
use pli_proto::frame::KIND_NOTICE;
use pli_proto::governance::{RequestView, Role};
use rusqlite::{Connection, OptionalExtension, params};

impl GovernanceStore for SqliteStore {
    async fn staff(&self, id: u64) -> Result<Option<StaffRecord>, StoreError> {
        self.read(move |c| staff(c, id)).await
    }

    async fn list_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        self.read(list_staff).await
    }

    async fn audit_leaves(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        self.read(audit_leaves).await
    }

    async fn audit_entries(&self, from: u64, limit: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(move |c| audit_entries(c, from, limit)).await
    }

    async fn audit_checkpoints(&self, from: u64, limit: u64) -> Result<Vec<String>, StoreError> {
        self.read(move |c| audit_checkpoints(c, from, limit)).await
    }

    async fn add_audit_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        let (witness, line) = (witness.to_owned(), line.to_owned());
        self.write(move |c| add_audit_cosignature(c, size, &witness, &line))
            .await
    }

    async fn audit_cosignatures(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.read(move |c| audit_cosignatures(c, from, to)).await
    }

    async fn governance_commit(
        &self,
        append: Option<AuditAppend>,
        effect: GovernanceEffect,
    ) -> Result<(), StoreError> {
        self.write(move |c| governance_commit(c, append.as_ref(), &effect))
            .await
    }

    async fn request(&self, id: &str) -> Result<Option<RequestView>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| request(c, &id)).await
    }

    async fn list_requests(&self) -> Result<Vec<RequestView>, StoreError> {
        self.read(list_requests).await
    }

    async fn inventory(&self, username: &Username) -> Result<Option<InventoryRecord>, StoreError> {
        let username = username.clone();
        self.read(move |c| inventory(c, &username)).await
    }

    async fn due_notices(
        &self,
        username: Option<&Username>,
        now_ms: u64,
    ) -> Result<Vec<PendingNotice>, StoreError> {
        let username = username.cloned();
        self.read(move |c| due_notices(c, username.as_ref(), now_ms))
            .await
    }
}

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, Vec<u8>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_staff(
    (id, name, role, hash): (i64, String, String, Vec<u8>),
) -> Result<StaffRecord, StoreError> {
    let corrupt = || StoreError::Backend("invalid staff row".into());
    Ok(StaffRecord {
        id: id as u64,
        name,
        role: Role::parse(&role).ok_or_else(corrupt)?,
        secret_hash: hash.try_into().map_err(|_| corrupt())?,
    })
}

pub(super) fn staff(conn: &Connection, id: u64) -> Result<Option<StaffRecord>, StoreError> {
    conn.prepare_cached("SELECT staff_id, name, role, secret_hash FROM staff WHERE staff_id = ?1")
        .and_then(|mut st| st.query_row([id as i64], staff_row).optional())
        .map_err(backend)?
        .map(to_staff)
        .transpose()
}

pub(super) fn list_staff(conn: &Connection) -> Result<Vec<StaffRecord>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT staff_id, name, role, secret_hash FROM staff ORDER BY staff_id")
        .map_err(backend)?;
    let rows = st.query_map([], staff_row).map_err(backend)?;
    rows.map(|row| to_staff(row.map_err(backend)?)).collect()
}

pub(super) fn audit_leaves(conn: &Connection) -> Result<Vec<[u8; 32]>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT leaf_hash FROM audit_log ORDER BY seq")
        .map_err(backend)?;
    let rows = st
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .map_err(backend)?;
    rows.map(|row| {
        row.map_err(backend)?
            .try_into()
            .map_err(|_| StoreError::Backend("invalid leaf hash row".into()))
    })
    .collect()
}

pub(super) fn audit_entries(
    conn: &Connection,
    from: u64,
    limit: u64,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT entry FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
        .map_err(backend)?;
    let rows = st
        .query_map(params![from as i64, limit as i64], |r| r.get(0))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub(super) fn audit_checkpoints(
    conn: &Connection,
    from: u64,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT note FROM audit_checkpoints WHERE size >= ?1 ORDER BY size LIMIT ?2",
        )
        .map_err(backend)?;
    let rows = st
        .query_map(params![from as i64, limit as i64], |r| r.get(0))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub(super) fn add_audit_cosignature(
    conn: &Connection,
    size: u64,
    witness: &str,
    line: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_cosignatures (size, witness, line) VALUES (?1, ?2, ?3)
         ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line",
    )
    .and_then(|mut st| st.execute(params![size as i64, witness, line]))
    .map_err(backend)?;
    Ok(())
}

pub(super) fn audit_cosignatures(
    conn: &Connection,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, String)>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT size, line FROM audit_cosignatures WHERE size BETWEEN ?1 AND ?2
             ORDER BY size, witness",
        )
        .map_err(backend)?;
    let rows = st
        .query_map(params![from as i64, to.min(i64::MAX as u64) as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

fn save_request(conn: &Connection, request: &RequestView) -> Result<(), StoreError> {
    let record = serde_json::to_string(request).map_err(|e| StoreError::Backend(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO legal_requests (request_id, record, created_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (request_id) DO UPDATE SET record = excluded.record",
    )
    .and_then(|mut st| st.execute(params![request.id, record, request.created_ms as i64]))
    .map_err(backend)?;
    Ok(())
}

pub(super) fn governance_commit(
    conn: &Connection,
    append: Option<&AuditAppend>,
    effect: &GovernanceEffect,
) -> Result<(), StoreError> {
    if let Some(append) = append {
        append_audit(conn, append)?;
    }
    apply_effect(conn, effect)
}

/// Appends the audit entry and its checkpoint, refusing a stale position.
fn append_audit(conn: &Connection, append: &AuditAppend) -> Result<(), StoreError> {
    let size: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
        .map_err(backend)?;
    if size as u64 != append.seq {
        return Err(StoreError::AuditConflict);
    }
    conn.prepare_cached("INSERT INTO audit_log (seq, entry, leaf_hash) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| {
            st.execute(params![
                append.seq as i64,
                append.entry,
                &append.leaf_hash[..]
            ])
        })
        .map_err(backend)?;
    conn.prepare_cached("INSERT INTO audit_checkpoints (size, note) VALUES (?1, ?2)")
        .and_then(|mut st| st.execute(params![(append.seq + 1) as i64, append.checkpoint]))
        .map_err(backend)?;
    Ok(())
}

/// Revokes, rotates or re-roles a member, refusing to leave no operator. The one writer
/// thread applies writes one at a time, so the count read here is the count changed.
fn change_staff(conn: &Connection, change: &StaffChange) -> Result<(), StoreError> {
    let id = change.staff_id() as i64;
    let current: Option<String> = conn
        .prepare_cached("SELECT role FROM staff WHERE staff_id = ?1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .map_err(backend)?;
    let current = current.ok_or(StoreError::UnknownStaff)?;
    let current =
        Role::parse(&current).ok_or_else(|| StoreError::Backend("invalid staff row".into()))?;
    if change.removes_operator(current) {
        let others: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM staff WHERE role = ?1 AND staff_id <> ?2")
            .and_then(|mut st| st.query_row(params![Role::Operator.as_str(), id], |r| r.get(0)))
            .map_err(backend)?;
        if others == 0 {
            return Err(StoreError::LastOperator);
        }
    }
    let changed = match change {
        StaffChange::Revoke { .. } => conn
            .prepare_cached("DELETE FROM staff WHERE staff_id = ?1")
            .and_then(|mut st| st.execute([id])),
        StaffChange::Rotate { secret_hash, .. } => conn
            .prepare_cached("UPDATE staff SET secret_hash = ?2 WHERE staff_id = ?1")
            .and_then(|mut st| st.execute(params![id, &secret_hash[..]])),
        StaffChange::Role { role, .. } => conn
            .prepare_cached("UPDATE staff SET role = ?2 WHERE staff_id = ?1")
            .and_then(|mut st| st.execute(params![id, role.as_str()])),
    }
    .map_err(backend)?;
    if changed != 1 {
        return Err(StoreError::UnknownStaff);
    }
    Ok(())
}

fn apply_effect(conn: &Connection, effect: &GovernanceEffect) -> Result<(), StoreError> {
    if let Some(staff) = &effect.staff {
        conn.prepare_cached(
            "INSERT INTO staff (staff_id, name, role, secret_hash) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| {
            st.execute(params![
                staff.id as i64,
                staff.name,
                staff.role.as_str(),
                &staff.secret_hash[..]
            ])
        })
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::StaffNameTaken
            }
            other => backend(other),
        })?;
    }
    if let Some(change) = &effect.staff_change {
        change_staff(conn, change)?;
    }
    if let Some(enrolment) = &effect.totp {
        super::second_factors::enrol(conn, enrolment)?;
    }
    if let Some(request) = &effect.request {
        save_request(conn, request)?;
    }
    for (user, until_ms) in &effect.holds {
        conn.prepare_cached(
            "INSERT INTO preservation_holds (username, until_ms) VALUES (?1, ?2)
             ON CONFLICT (username) DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms)",
        )
        .and_then(|mut st| st.execute(params![user.as_str(), *until_ms as i64]))
        .map_err(backend)?;
    }
    for notice in &effect.new_notices {
        conn.prepare_cached(
            "INSERT INTO pending_notices (request_id, username, payload, release_ms) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| {
            st.execute(params![notice.request_id, notice.username.as_str(), notice.payload, notice.release_ms as i64])
        })
        .map_err(backend)?;
    }
    if let Some(release) = &effect.release {
        let row: Option<(String, Vec<u8>)> = conn
            .prepare_cached(
                "DELETE FROM pending_notices WHERE notice_id = ?1 RETURNING username, payload",
            )
            .and_then(|mut st| {
                st.query_row([release.notice_id as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(backend)?;
        let (user, payload) = row.ok_or(StoreError::NoticeReleased)?;
        let devices = list_devices(conn, &username(user)?)?.unwrap_or_default();
        let ids: Vec<_> = devices.iter().map(|d| d.device_id).collect();
        if !ids.is_empty() {
            queue::enqueue(
                conn,
                KIND_NOTICE,
                &payload,
                &ids,
                release.now_ms,
                release.max_queue_depth,
            )?;
        }
    }
    Ok(())
}

pub(super) fn request(conn: &Connection, id: &str) -> Result<Option<RequestView>, StoreError> {
    let record: Option<String> = conn
        .prepare_cached("SELECT record FROM legal_requests WHERE request_id = ?1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .map_err(backend)?;
    record
        .map(|r| {
            serde_json::from_str(&r).map_err(|_| StoreError::Backend("invalid request row".into()))
        })
        .transpose()
}

pub(super) fn list_requests(conn: &Connection) -> Result<Vec<RequestView>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT record FROM legal_requests ORDER BY created_ms, request_id")
        .map_err(backend)?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(backend)?;
    rows.map(|row| {
        serde_json::from_str(&row.map_err(backend)?)
            .map_err(|_| StoreError::Backend("invalid request row".into()))
    })
    .collect()
}

pub(super) fn inventory(
    conn: &Connection,
    user: &Username,
) -> Result<Option<InventoryRecord>, StoreError> {
    let account: Option<(i64, Option<i64>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT created_day, last_seen_day, deleted_day FROM accounts WHERE username = ?1",
        )
        .and_then(|mut st| {
            st.query_row([user.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(backend)?;
    let Some((created_day, last_seen_day, deleted_day)) = account else {
        return Ok(None);
    };
    let devices = list_devices(conn, user)?.unwrap_or_default();
    let mut key_packages = Vec::with_capacity(devices.len());
    for device in &devices {
        let status: KeyPackageStatus =
            super::key_packages::key_package_status(conn, device.device_id, KeyPackageTime::ANY)?;
        key_packages.push((device.device_id, status));
    }
    let queued_messages: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(l.len), 0) FROM queue_lens l
             JOIN devices d ON d.device_id = l.device_id WHERE d.username = ?1",
        )
        .and_then(|mut st| st.query_row([user.as_str()], |r| r.get(0)))
        .map_err(backend)?;
    let preserved_until_ms: Option<i64> = conn
        .prepare_cached("SELECT until_ms FROM preservation_holds WHERE username = ?1")
        .and_then(|mut st| st.query_row([user.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    Ok(Some(InventoryRecord {
        username: user.clone(),
        created_day,
        last_seen_day,
        devices,
        key_packages,
        queued_messages: queued_messages as u64,
        preserved_until_ms: preserved_until_ms.map(|ms| ms as u64),
        deleted_day,
        ips: ips_of(conn, user)?,
    }))
}

pub(super) fn due_notices(
    conn: &Connection,
    user: Option<&Username>,
    now_ms: u64,
) -> Result<Vec<PendingNotice>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT notice_id, request_id, username FROM pending_notices
             WHERE release_ms <= ?1 AND (?2 IS NULL OR username = ?2) ORDER BY notice_id",
        )
        .map_err(backend)?;
    let rows = st
        .query_map(
            params![now_ms as i64, user.map(|u| u.as_str().to_owned())],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .map_err(backend)?;
    rows.map(|row| {
        let (id, request_id, user) = row.map_err(backend)?;
        Ok(PendingNotice {
            notice_id: id as u64,
            request_id,
            username: username(user)?,
        })
    })
    .collect()
}
