//! SQL for abuse reports (`reports`, `report_messages`).

use super::SqliteStore;
use super::rows::{backend, device_id, is_unique_violation, username};
use crate::store::error::StoreError;
use crate::store::reports::{
    ExportedReport, NewReport, ReportStore, StoredReportMessage, new_report_id, reason_from_row,
};
use pli_proto::Username;
use pli_proto::abuse::{ReportView, VerifiedMessage};
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Fresh ids tried before a filing gives up (each collides with one in 2^53 odds).
const ID_ATTEMPTS: usize = 4;

impl ReportStore for SqliteStore {
    async fn file_report(&self, report: NewReport) -> Result<u64, StoreError> {
        self.write(move |c| file_report(c, &report)).await
    }

    async fn list_reports(&self) -> Result<Vec<ReportView>, StoreError> {
        self.read(|c| reports(c, None)).await
    }

    async fn report(&self, id: u64) -> Result<Option<ReportView>, StoreError> {
        self.read(move |c| reports(c, Some(id)).map(|mut found| found.pop()))
            .await
    }

    /// Then empties the write-ahead log (when any went), so the deleted text's old page
    /// images do not linger there.
    async fn delete_reports_filed_before(&self, day: u32) -> Result<u64, StoreError> {
        let deleted = self
            .write(move |c| {
                conn_execute(
                    c,
                    "DELETE FROM reports WHERE filed_day < ?1",
                    params![i64::from(day)],
                )
            })
            .await?;
        if deleted > 0 {
            self.truncate_wal().await?;
        }
        Ok(deleted)
    }

    async fn export_reports(&self, reported: &Username) -> Result<Vec<ExportedReport>, StoreError> {
        let reported = reported.clone();
        self.read(move |c| export_reports(c, &reported)).await
    }

    async fn import_reports(&self, reports: Vec<ExportedReport>) -> Result<(), StoreError> {
        self.write(move |c| {
            for moved in &reports {
                conn_execute(
                    c,
                    "DELETE FROM reports WHERE report_id = ?1",
                    [moved.id as i64],
                )?;
                if insert_row(c, moved.id, &moved.report)? != 1 {
                    return Err(StoreError::Backend("a moved report's id is taken".into()));
                }
                insert_messages(c, moved.id, &moved.report, Replays::KeepFirst)?;
            }
            Ok(())
        })
        .await
    }

    async fn erase_reports_about(&self, reported: &Username) -> Result<u64, StoreError> {
        let reported = reported.clone();
        self.write(move |c| {
            conn_execute(
                c,
                "DELETE FROM reports WHERE reported = ?1",
                [reported.as_str()],
            )
        })
        .await
    }

    async fn report_counts(&self, username: &Username) -> Result<(u64, u64), StoreError> {
        let username = username.clone();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT (SELECT COUNT(*) FROM reports WHERE reported = ?1),
                        (SELECT COUNT(*) FROM reports WHERE reporter = ?1)",
            )
            .and_then(|mut st| {
                st.query_row([username.as_str()], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
                })
            })
            .map_err(backend)
        })
        .await
    }
}

fn conn_execute(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<u64, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute(params))
        .map(|n| n as u64)
        .map_err(backend)
}

/// What a message already reported by the same reporter does to an insert.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replays {
    /// Fails it with [`StoreError::ReportReplayed`] (a filing).
    Refuse,
    /// Skips that message (a move meeting a report filed here meanwhile).
    KeepFirst,
}

/// The writer's savepoint undoes the report row if a message is refused. The one writer
/// thread applies filings one at a time, and the unique key on (reporter, commitment)
/// decides a replay.
fn file_report(conn: &Connection, report: &NewReport) -> Result<u64, StoreError> {
    for _ in 0..ID_ATTEMPTS {
        let id = new_report_id();
        if insert_row(conn, id, report)? == 1 {
            insert_messages(conn, id, report, Replays::Refuse)?;
            return Ok(id);
        }
    }
    Err(StoreError::Backend("no free report id".into()))
}

/// The report's row under `id`: 0 if the id is taken.
fn insert_row(conn: &Connection, id: u64, report: &NewReport) -> Result<u64, StoreError> {
    conn_execute(
        conn,
        "INSERT INTO reports (report_id, reporter, reported, reason, note, filed_day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (report_id) DO NOTHING",
        params![
            id as i64,
            report.reporter.as_str(),
            report.reported.as_str(),
            report.reason.as_str(),
            report.note,
            i64::from(report.filed_day),
        ],
    )
}

fn insert_messages(
    conn: &Connection,
    id: u64,
    report: &NewReport,
    replays: Replays,
) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(match replays {
            Replays::Refuse => {
                "INSERT INTO report_messages
                     (report_id, position, reporter, commitment, text, sender_device, day)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            }
            Replays::KeepFirst => {
                "INSERT INTO report_messages
                     (report_id, position, reporter, commitment, text, sender_device, day)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (reporter, commitment) DO NOTHING"
            }
        })
        .map_err(backend)?;
    for (position, message) in report.messages.iter().enumerate() {
        insert
            .execute(params![
                id as i64,
                position as i64,
                report.reporter.as_str(),
                message.commitment.as_slice(),
                message.text,
                message.sender_device.get() as i64,
                i64::from(message.day),
            ])
            .map_err(|e| match is_unique_violation(&e) {
                true => StoreError::ReportReplayed,
                false => backend(e),
            })?;
    }
    Ok(())
}

/// Every report about `reported`, oldest filed first, with its messages' commitments.
fn export_reports(
    conn: &Connection,
    reported: &Username,
) -> Result<Vec<ExportedReport>, StoreError> {
    let rows: Vec<(i64, String, String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT report_id, reporter, reason, note, filed_day FROM reports
             WHERE reported = ?1 ORDER BY seq",
        )
        .and_then(|mut st| {
            st.query_map([reported.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect()
        })
        .map_err(backend)?;
    let mut st = conn
        .prepare_cached(
            "SELECT m.report_id, m.commitment, m.text, m.sender_device, m.day
             FROM report_messages m JOIN reports r ON r.report_id = m.report_id
             WHERE r.reported = ?1 ORDER BY m.report_id, m.position",
        )
        .map_err(backend)?;
    let message_rows = st
        .query_map([reported.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(backend)?;
    let mut messages: HashMap<i64, Vec<StoredReportMessage>> = HashMap::new();
    for row in message_rows {
        let (id, commitment, text, device, day) = row.map_err(backend)?;
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

type ReportRow = (i64, String, String, String, Option<String>, i64);

/// Every report (or the one with id `only`), newest filed first, with its messages.
fn reports(conn: &Connection, only: Option<u64>) -> Result<Vec<ReportView>, StoreError> {
    let only = only.map(|id| id as i64);
    let rows: Vec<ReportRow> = conn
        .prepare_cached(match only {
            None => {
                "SELECT report_id, reporter, reported, reason, note, filed_day FROM reports
                 ORDER BY filed_day DESC, seq DESC"
            }
            Some(_) => {
                "SELECT report_id, reporter, reported, reason, note, filed_day FROM reports
                 WHERE report_id = ?1"
            }
        })
        .and_then(|mut st| {
            st.query_map(rusqlite::params_from_iter(only), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .map_err(backend)?;
    let mut messages = messages(conn, only)?;
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

/// The messages of every report (or of `only`), by report, each in the reporter's order.
fn messages(
    conn: &Connection,
    only: Option<i64>,
) -> Result<HashMap<i64, Vec<VerifiedMessage>>, StoreError> {
    let mut st = conn
        .prepare_cached(match only {
            None => {
                "SELECT report_id, text, sender_device, day FROM report_messages
                 ORDER BY report_id, position"
            }
            Some(_) => {
                "SELECT report_id, text, sender_device, day FROM report_messages
                 WHERE report_id = ?1 ORDER BY position"
            }
        })
        .map_err(backend)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(only), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(backend)?;
    let mut by_report: HashMap<i64, Vec<VerifiedMessage>> = HashMap::new();
    for row in rows {
        let (id, text, device, day) = row.map_err(backend)?;
        by_report.entry(id).or_default().push(VerifiedMessage {
            text,
            sender_device: device_id(device)?,
            day: day as u32,
        });
    }
    Ok(by_report)
}
