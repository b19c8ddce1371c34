//! Job leases and server secrets on PostgreSQL: every node on the database sees the same
//! lease holder and the same secrets.

use super::PostgresStore;
use super::rows::backend;
use crate::store::error::StoreError;
use crate::store::leases::LeaseStore;
use sqlx::postgres::PgConnection;

impl LeaseStore for PostgresStore {
    async fn claim_lease(
        &self,
        job: &str,
        holder: u64,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        claim_lease(&mut *self.conn().await?, job, holder, now_ms, ttl_ms).await
    }

    async fn release_lease(&self, job: &str, holder: u64) -> Result<(), StoreError> {
        release_lease(&mut *self.conn().await?, job, holder).await
    }

    async fn server_secret(&self, name: &str) -> Result<[u8; 32], StoreError> {
        server_secret(&mut *self.conn().await?, name).await
    }
}

pub(super) async fn release_lease(
    conn: &mut PgConnection,
    job: &str,
    holder: u64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
        .bind(job)
        .bind(holder as i64)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn claim_lease(
    conn: &mut PgConnection,
    job: &str,
    holder: u64,
    now_ms: u64,
    ttl_ms: u64,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "INSERT INTO job_leases (job, holder, until_ms) VALUES ($1, $2, $3)
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE job_leases.holder = excluded.holder OR job_leases.until_ms < $4
         RETURNING holder",
    )
    .bind(job)
    .bind(holder as i64)
    .bind(now_ms.saturating_add(ttl_ms) as i64)
    .bind(now_ms as i64)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(row.is_some())
}

pub(super) async fn server_secret(
    conn: &mut PgConnection,
    name: &str,
) -> Result<[u8; 32], StoreError> {
    let fresh: [u8; 32] = rand::random();
    sqlx::query("INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(&fresh[..])
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    stored
        .try_into()
        .map_err(|_| StoreError::Backend("invalid server key row".into()))
}
