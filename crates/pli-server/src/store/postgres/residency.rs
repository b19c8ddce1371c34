//! The residency operations on PostgreSQL: the global username → region index, and the
//! two halves of a submission whose recipients live in other databases (the epoch rule in
//! `pli_apply_epoch_rule`, the queues in `pli_deliver`; migration 0003).

use super::queries::refusal;
use super::rows::{backend, ids};
use crate::store::{EpochRule, StoreError};
use pli_proto::{DeviceId, GroupId, MessageId, Region, Username};
use sqlx::postgres::PgConnection;

pub(super) async fn claim_username(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::UsernameTaken);
    }
    Ok(())
}

pub(super) async fn set_home_region(
    conn: &mut PgConnection,
    username: &Username,
    region: &Region,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO home_regions (username, region) VALUES ($1, $2)
         ON CONFLICT (username) DO UPDATE SET region = excluded.region",
    )
    .bind(username.as_str())
    .bind(region.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn home_region(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<Option<Region>, StoreError> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT region FROM home_regions WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?;
    raw.map(|r| Region::parse(&r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .transpose()
}

pub(super) async fn regions_in_use(conn: &mut PgConnection) -> Result<Vec<Region>, StoreError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT region FROM home_regions ORDER BY region")
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    names
        .iter()
        .map(|r| Region::parse(r).map_err(|_| StoreError::Backend("invalid region row".into())))
        .collect()
}

pub(super) async fn release_username(
    conn: &mut PgConnection,
    username: &Username,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM home_regions WHERE username = $1")
        .bind(username.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn advance_epoch(
    conn: &mut PgConnection,
    group: &GroupId,
    rule: EpochRule,
) -> Result<u64, StoreError> {
    let (code, epoch) = match rule {
        EpochRule::Commit { epoch } => (0i16, epoch),
        EpochRule::Proposal { epoch } => (1, epoch),
        EpochRule::Application { epoch } => (2, epoch),
    };
    let after: i64 = sqlx::query_scalar("SELECT pli_apply_epoch_rule($1, $2, $3)")
        .bind(group.as_bytes())
        .bind(code)
        .bind(epoch as i64)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| refusal(e, epoch))?;
    Ok(after as u64)
}

pub(super) async fn queue_lengths(
    conn: &mut PgConnection,
    devices: &[DeviceId],
) -> Result<Vec<(DeviceId, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT device_id, queue_len FROM devices WHERE device_id = ANY($1)")
            .bind(ids(devices))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
    rows.into_iter()
        .map(|(device, len)| Ok((super::rows::device_id(device)?, len as u64)))
        .collect()
}

pub(super) async fn deliver(
    conn: &mut PgConnection,
    kind: u8,
    payload: &[u8],
    devices: &[DeviceId],
    now_ms: u64,
) -> Result<Option<MessageId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT pli_deliver($1, $2, $3, $4)")
        .bind(i16::from(kind))
        .bind(payload)
        .bind(ids(devices))
        .bind(now_ms as i64)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(id.map(|id| MessageId(id as u64)))
}
