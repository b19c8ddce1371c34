//! SQL for abuse reports (`reports`, `report_messages`).

use super::rows::{backend, device_id, is_unique_violation, username};
use super::{PostgresStore, commit};
use crate::store::error::StoreError;
use crate::store::reports::{
    ExportedReport, NewReport, ReportStore, StoredReportMessage, new_report_id, reason_from_row,
};
use pli_proto::Username;
use pli_proto::abuse::{ReportView, VerifiedMessage};
use sqlx::postgres::PgConnection;
use std::collections::HashMap;

/// Fresh ids tried before a filing gives up (each collides with one in 2^53 odds).
const ID_ATTEMPTS: usize = 4;

type ReportRow = (i64, String, String, String, Option<String>, i64);
type MessageRow = (i64, String, i64, i64);

impl ReportStore for PostgresStore {
    /// One transaction. Of two filings of one message by one reporter at once, on any
    /// nodes, the unique key lets the first to commit in and fails the other.
    async fn file_report(&self, report: NewReport) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_report(&mut tx, &report).await?;
        insert_messages(&mut tx, id, &report, Replays::Refuse).await?;
        commit(tx).await?;
        Ok(id)
    }

    async fn list_reports(&self) -> Result<Vec<ReportView>, StoreError> {
        reports(&mut *self.conn().await?, None).await
    }

    async fn report(&self, id: u64) -> Result<Option<ReportView>, StoreError> {
        Ok(reports(&mut *self.conn().await?, Some(id)).await?.pop())
    }

    async fn delete_reports_filed_before(&self, day: u32) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM reports WHERE filed_day < $1")
            .bind(i64::from(day))
            .execute(&mut *self.conn().await?)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn export_reports(&self, reported: &Username) -> Result<Vec<ExportedReport>, StoreError> {
        export_reports(&mut *self.conn().await?, reported).await
    }

    async fn import_reports(&self, reports: Vec<ExportedReport>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for moved in &reports {
            sqlx::query("DELETE FROM reports WHERE report_id = $1")
                .bind(moved.id as i64)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            if insert_row(&mut tx, moved.id, &moved.report)
                .await?
                .is_none()
            {
                return Err(StoreError::Backend("a moved report's id is taken".into()));
            }
            insert_messages(&mut tx, moved.id, &moved.report, Replays::KeepFirst).await?;
        }
        commit(tx).await
    }

    async fn erase_reports_about(&self, reported: &Username) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM reports WHERE reported = $1")
            .bind(reported.as_str())
            .execute(&mut *self.conn().await?)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn report_counts(&self, username: &Username) -> Result<(u64, u64), StoreError> {
        let (received, filed): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM reports WHERE reported = $1),
                    (SELECT COUNT(*) FROM reports WHERE reporter = $1)",
        )
        .bind(username.as_str())
        .fetch_one(&mut *self.conn().await?)
        .await
        .map_err(backend)?;
        Ok((received as u64, filed as u64))
    }
}

/// What a message already reported by the same reporter does to an insert.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replays {
    /// Fails it with [`StoreError::ReportReplayed`] (a filing).
    Refuse,
    /// Skips that message (a move meeting a report filed here meanwhile).
    KeepFirst,
}

/// The report's row under a fresh id (another, should one be taken already).
async fn insert_report(tx: &mut PgConnection, report: &NewReport) -> Result<u64, StoreError> {
    for _ in 0..ID_ATTEMPTS {
        let id = new_report_id();
        if insert_row(tx, id, report).await?.is_some() {
            return Ok(id);
        }
    }
    Err(StoreError::Backend("no free report id".into()))
}

/// The report's row under `id`: `None` if the id is taken.
async fn insert_row(
    tx: &mut PgConnection,
    id: u64,
    report: &NewReport,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO reports (report_id, reporter, reported, reason, note, filed_day)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (report_id) DO NOTHING
         RETURNING report_id",
    )
    .bind(id as i64)
    .bind(report.reporter.as_str())
    .bind(report.reported.as_str())
    .bind(report.reason.as_str())
    .bind(report.note.as_deref())
    .bind(i64::from(report.filed_day))
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)
}

/// The report's messages, in one statement.
async fn insert_messages(
    tx: &mut PgConnection,
    id: u64,
    report: &NewReport,
    replays: Replays,
) -> Result<(), StoreError> {
    let positions: Vec<i64> = (0..report.messages.len() as i64).collect();
    let commitments: Vec<Vec<u8>> = report
        .messages
        .iter()
        .map(|m| m.commitment.to_vec())
        .collect();
    let texts: Vec<&str> = report.messages.iter().map(|m| m.text.as_str()).collect();
    let devices: Vec<i64> = report
        .messages
        .iter()
        .map(|m| m.sender_device.get() as i64)
        .collect();
    let days: Vec<i64> = report.messages.iter().map(|m| i64::from(m.day)).collect();
    let sql = match replays {
        Replays::Refuse => {
            "INSERT INTO report_messages
                 (report_id, position, reporter, commitment, text, sender_device, day)
             SELECT $1, t.position, $2, t.commitment, t.text, t.sender_device, t.day
             FROM UNNEST($3::bigint[], $4::bytea[], $5::text[], $6::bigint[], $7::bigint[])
                 AS t (position, commitment, text, sender_device, day)"
        }
        Replays::KeepFirst => {
            "INSERT INTO report_messages
                 (report_id, position, reporter, commitment, text, sender_device, day)
             SELECT $1, t.position, $2, t.commitment, t.text, t.sender_device, t.day
             FROM UNNEST($3::bigint[], $4::bytea[], $5::text[], $6::bigint[], $7::bigint[])
                 AS t (position, commitment, text, sender_device, day)
             ON CONFLICT ON CONSTRAINT report_messages_once_per_reporter DO NOTHING"
        }
    };
    sqlx::query(sql)
        .bind(id as i64)
        .bind(report.reporter.as_str())
        .bind(&positions)
        .bind(&commitments)
        .bind(&texts)
        .bind(&devices)
        .bind(&days)
        .execute(&mut *tx)
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => StoreError::ReportReplayed,
            false => backend(e),
        })?;
    Ok(())
}

/// Every report about `reported`, oldest filed first, with its messages' commitments.
async fn export_reports(
    conn: &mut PgConnection,
    reported: &Username,
) -> Result<Vec<ExportedReport>, StoreError> {
    let rows: Vec<(i64, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT report_id, reporter, reason, note, filed_day FROM reports
         WHERE reported = $1 ORDER BY seq",
    )
    .bind(reported.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let message_rows: Vec<(i64, Vec<u8>, String, i64, i64)> = sqlx::query_as(
        "SELECT m.report_id, m.commitment, m.text, m.sender_device, m.day
         FROM report_messages m JOIN reports r ON r.report_id = m.report_id
         WHERE r.reported = $1 ORDER BY m.report_id, m.position",
    )
    .bind(reported.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut messages: HashMap<i64, Vec<StoredReportMessage>> = HashMap::new();
    for (id, commitment, text, device, day) in message_rows {
        messages.entry(id).or_default().push(StoredReportMessage {
            commitment: commitment
                .try_into()
                .map_err(|_| StoreError::Backend("invalid commitment row".into()))?,
            text,
            sender_device: device_id(device)?,
            day: day as u32,
        });
    }
    rows.into_iter()
        .map(|(id, reporter, reason, note, filed_day)| {
            Ok(ExportedReport {
                id: id as u64,
                report: NewReport {
                    reporter: username(reporter)?,
                    reported: reported.clone(),
                    reason: reason_from_row(&reason)?,
                    note,
                    filed_day: filed_day as u32,
                    messages: messages.remove(&id).unwrap_or_default(),
                },
            })
        })
        .collect()
}

/// Every report (or the one with id `only`), newest filed first, with its messages.
async fn reports(
    conn: &mut PgConnection,
    only: Option<u64>,
) -> Result<Vec<ReportView>, StoreError> {
    let only = only.map(|id| id as i64);
    let rows: Vec<ReportRow> = sqlx::query_as(
        "SELECT report_id, reporter, reported, reason, note, filed_day FROM reports
         WHERE $1::bigint IS NULL OR report_id = $1 ORDER BY filed_day DESC, seq DESC",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let message_rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT report_id, text, sender_device, day FROM report_messages
         WHERE $1::bigint IS NULL OR report_id = $1 ORDER BY report_id, position",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    let mut messages: HashMap<i64, Vec<VerifiedMessage>> = HashMap::new();
    for (id, text, device, day) in message_rows {
        messages.entry(id).or_default().push(VerifiedMessage {
            text,
            sender_device: device_id(device)?,
            day: day as u32,
        });
    }
    rows.into_iter()
        .map(|(id, reporter, reported, reason, note, filed_day)| {
            Ok(ReportView {
                id: id as u64,
                reported: username(reported)?,
                reporter: username(reporter)?,
                reason: reason_from_row(&reason)?,
                note,
                filed_day: filed_day as u32,
                messages: messages.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}
