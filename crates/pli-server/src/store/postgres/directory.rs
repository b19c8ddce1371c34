//! The SQL behind the key directory's records (migration 0006). Writes go in bulk through
//! `UNNEST`, so an epoch of thousands of tree nodes is a few statements, not thousands.

use super::rows::{backend, username};
use super::{PostgresStore, commit};
use crate::store::directory::DirectoryStore;
use crate::store::directory::{KtPending, KtRecord, KtRoot, KtState};
use crate::store::error::StoreError;
use pli_proto::Username;
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

impl DirectoryStore for PostgresStore {
    async fn kt_write(&self, records: Vec<KtRecord>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        write(&mut tx, &records).await?;
        commit(tx).await
    }

    async fn kt_nodes(
        &self,
        ids: Vec<Vec<u8>>,
    ) -> Result<Vec<crate::store::directory::KtNodeRow>, StoreError> {
        nodes(&mut *self.conn().await?, &ids).await
    }

    async fn kt_states(&self, label: Vec<u8>) -> Result<Vec<KtState>, StoreError> {
        states(&mut *self.conn().await?, &label).await
    }

    async fn kt_latest_states(
        &self,
        labels: Vec<Vec<u8>>,
        max_epoch: u64,
    ) -> Result<Vec<KtState>, StoreError> {
        latest_states(&mut *self.conn().await?, &labels, max_epoch).await
    }

    async fn kt_mark(&self, users: Vec<Username>) -> Result<(), StoreError> {
        mark(&mut *self.conn().await?, &users).await
    }

    async fn kt_pending(&self) -> Result<KtPending, StoreError> {
        pending(&mut *self.conn().await?).await
    }

    async fn kt_is_pending(&self, user: &Username) -> Result<bool, StoreError> {
        is_pending(&mut *self.conn().await?, user).await
    }

    async fn kt_published(&self, through: u64, root: KtRoot) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        published(&mut tx, through, &root).await?;
        commit(tx).await
    }

    async fn kt_roots(&self, from: u64, limit: u64) -> Result<Vec<KtRoot>, StoreError> {
        roots(&mut *self.conn().await?, from, limit).await
    }
}

/// Rows per bulk statement.
const CHUNK: usize = 4096;

pub(super) async fn write(conn: &mut PgConnection, records: &[KtRecord]) -> Result<(), StoreError> {
    let mut node_ids = Vec::new();
    let mut node_data = Vec::new();
    let mut states = Vec::new();
    for record in records {
        match record {
            KtRecord::Node { id, data } => {
                node_ids.push(id.clone());
                node_data.push(data.clone());
            }
            KtRecord::State(s) => states.push(s),
        }
    }
    for (ids, data) in node_ids.chunks(CHUNK).zip(node_data.chunks(CHUNK)) {
        sqlx::query(
            "INSERT INTO kt_nodes (id, data) SELECT * FROM UNNEST($1::bytea[], $2::bytea[])
             ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        )
        .bind(ids)
        .bind(data)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    for chunk in states.chunks(CHUNK) {
        let labels: Vec<&[u8]> = chunk.iter().map(|s| s.label.as_slice()).collect();
        let epochs: Vec<i64> = chunk.iter().map(|s| s.epoch as i64).collect();
        let versions: Vec<i64> = chunk.iter().map(|s| s.version as i64).collect();
        let data: Vec<&[u8]> = chunk.iter().map(|s| s.data.as_slice()).collect();
        sqlx::query(
            "INSERT INTO kt_states (label, epoch, version, data)
             SELECT * FROM UNNEST($1::bytea[], $2::bigint[], $3::bigint[], $4::bytea[])
             ON CONFLICT (label, epoch) DO UPDATE
             SET version = excluded.version, data = excluded.data",
        )
        .bind(labels)
        .bind(epochs)
        .bind(versions)
        .bind(data)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    }
    Ok(())
}

pub(super) async fn nodes(
    conn: &mut PgConnection,
    ids: &[Vec<u8>],
) -> Result<Vec<crate::store::directory::KtNodeRow>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = sqlx::query("SELECT id, data FROM kt_nodes WHERE id = ANY($1)")
            .bind(chunk)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        for row in rows {
            found.push((row.get(0), row.get(1)));
        }
    }
    Ok(found)
}

fn state(row: &sqlx::postgres::PgRow) -> KtState {
    KtState {
        label: row.get(0),
        epoch: row.get::<i64, _>(1) as u64,
        version: row.get::<i64, _>(2) as u64,
        data: row.get(3),
    }
}

pub(super) async fn states(
    conn: &mut PgConnection,
    label: &[u8],
) -> Result<Vec<KtState>, StoreError> {
    let rows = sqlx::query(
        "SELECT label, epoch, version, data FROM kt_states WHERE label = $1 ORDER BY epoch",
    )
    .bind(label)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(rows.iter().map(state).collect())
}

pub(super) async fn latest_states(
    conn: &mut PgConnection,
    labels: &[Vec<u8>],
    max_epoch: u64,
) -> Result<Vec<KtState>, StoreError> {
    let mut found = Vec::with_capacity(labels.len());
    for chunk in labels.chunks(CHUNK) {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (label) label, epoch, version, data FROM kt_states
             WHERE label = ANY($1) AND epoch <= $2 ORDER BY label, epoch DESC",
        )
        .bind(chunk)
        .bind(max_epoch.min(i64::MAX as u64) as i64)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
        found.extend(rows.iter().map(state));
    }
    Ok(found)
}

pub(super) async fn mark(conn: &mut PgConnection, users: &[Username]) -> Result<(), StoreError> {
    let names: Vec<&str> = users.iter().map(Username::as_str).collect();
    sqlx::query("INSERT INTO kt_changes (username) SELECT * FROM UNNEST($1::text[])")
        .bind(names)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn pending(conn: &mut PgConnection) -> Result<KtPending, StoreError> {
    let rows = sqlx::query("SELECT seq, username FROM kt_changes ORDER BY seq")
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let through = rows.last().map_or(0, |row| row.get::<i64, _>(0) as u64);
    let mut users = Vec::new();
    for row in rows {
        let user = username(row.get(1))?;
        if !users.contains(&user) {
            users.push(user);
        }
    }
    Ok(KtPending { through, users })
}

pub(super) async fn is_pending(
    conn: &mut PgConnection,
    user: &Username,
) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM kt_changes WHERE username = $1)")
        .bind(user.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)
}

pub(super) async fn published(
    conn: &mut PgConnection,
    through: u64,
    root: &KtRoot,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM kt_changes WHERE seq <= $1")
        .bind(through as i64)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query(
        "INSERT INTO kt_roots (epoch, root, note) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(root.epoch as i64)
    .bind(&root.root[..])
    .bind(&root.note)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn roots(
    conn: &mut PgConnection,
    from: u64,
    limit: u64,
) -> Result<Vec<KtRoot>, StoreError> {
    let rows = sqlx::query(
        "SELECT epoch, root, note FROM kt_roots WHERE epoch >= $1 ORDER BY epoch LIMIT $2",
    )
    .bind(from.min(i64::MAX as u64) as i64)
    .bind(limit.min(i64::MAX as u64) as i64)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|row| {
            Ok(KtRoot {
                epoch: row.get::<i64, _>(0) as u64,
                root: row
                    .get::<Vec<u8>, _>(1)
                    .try_into()
                    .map_err(|_| StoreError::Backend("invalid root row".into()))?,
                note: row.get(2),
            })
        })
        .collect()
}
