//! Deletes messages that no queue holds any more but that racing acks left behind (see
//! `pli_ack` in the migrations). It runs on every node, but each pass takes a transaction
//! advisory lock first, so one node sweeps at a time and the others skip the pass. A pass
//! looks at the next [`SWEEP_BATCH`] messages by id and wraps around at the end, so its
//! cost stays bounded however large the backlog of queued messages grows.

use sqlx::postgres::PgPool;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often orphans are looked for: how long an acked ciphertext may outlive its last ack.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// The advisory lock key of a sweep pass ("pli swee").
const SWEEP_LOCK: i64 = 0x706c_6920_7377_6565;
/// Messages a pass looks at.
pub const SWEEP_BATCH: i64 = 10_000;

/// Keeps the sweeper running; it stops when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Sweeper {
    _alive: mpsc::Sender<()>,
}

impl Sweeper {
    pub(super) fn start(pool: PgPool) -> Self {
        let (alive, mut stopped) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(SWEEP_EVERY);
            let mut after = 0;
            loop {
                tokio::select! {
                    _ = ticks.tick() => match sweep(&pool, after).await {
                        Ok((_, next)) => after = next,
                        Err(err) => {
                            let kind = super::rows::backend(err).kind();
                            tracing::warn!(error = kind, "sweeping orphaned messages failed");
                        }
                    },
                    _ = stopped.recv() => return,
                }
            }
        });
        Self { _alive: alive }
    }
}

/// One pass over the messages after id `after`: returns how many orphans it deleted and
/// where the next pass starts (0 after the end; unchanged when another node holds the
/// lock).
pub(super) async fn sweep(pool: &PgPool, after: i64) -> Result<(u64, i64), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SWEEP_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !ours {
        return Ok((0, after));
    }
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(SWEEP_BATCH)
            .fetch_all(&mut *tx)
            .await?;
    // A message and its queue rows commit together, so a committed message without any
    // queue row is one every recipient acked.
    let deleted = sqlx::query(
        "DELETE FROM messages m WHERE m.id = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.message_id = m.id)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    let next = match ids.last() {
        Some(last) if ids.len() as i64 == SWEEP_BATCH => *last,
        _ => 0,
    };
    Ok((deleted, next))
}
