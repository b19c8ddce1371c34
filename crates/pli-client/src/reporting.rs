//! Reporting received messages to the server, verifiably (`franking`): the chosen texts go
//! with their openings and stamps, one report per account that sent them, and optionally
//! the sender is blocked in the same step.

use crate::client::Client;
use crate::error::ClientError;
use pli_proto::abuse::{
    AbuseReportRequest, MAX_REPORT_NOTE_BYTES, MAX_REPORTED_MESSAGES, ReportReason, ReportedMessage,
};
use pli_proto::{DeviceId, GroupId, Username};
use rusqlite::params;
use std::collections::BTreeMap;

/// Which received messages of a conversation to report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportSelection {
    /// These messages, by the server id each arrived with (`Event::Message::id`).
    Messages(Vec<u64>),
    /// The newest `n` messages received (not sent by this account).
    Last(usize),
    /// These messages, by their place in the local history (`HistoryMessage::local_id`).
    Local(Vec<i64>),
}

/// One report the server verified and stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiledReport {
    /// The server's id for it.
    pub id: u64,
    /// The account reported.
    pub reported: Username,
    /// How many of its messages it carries.
    pub messages: usize,
}

/// A received message as the history keeps it for reporting.
struct Kept {
    server_id: Option<i64>,
    sender: String,
    device: i64,
    text: String,
    message_id: Option<Vec<u8>>,
    key: Option<Vec<u8>>,
    stamp: Option<Vec<u8>>,
}

impl Client {
    /// Reports `selection` of `conversation`'s received messages for `reason`: one report
    /// per account that sent them, each verified by the server before it is stored.
    /// `block` also blocks each reported account on this device, once its report is filed.
    pub async fn report(
        &mut self,
        conversation: &GroupId,
        selection: &ReportSelection,
        reason: ReportReason,
        note: Option<&str>,
        block: bool,
    ) -> Result<Vec<FiledReport>, ClientError> {
        let requests = self.report_requests(conversation, selection, reason, note)?;
        let mut filed = Vec::with_capacity(requests.len());
        for request in requests {
            let answer = self.transport.report(&request).await?;
            if block {
                self.block(&request.reported)?;
            }
            filed.push(FiledReport {
                id: answer.id,
                reported: request.reported,
                messages: request.messages.len(),
            });
        }
        Ok(filed)
    }

    /// The trust & safety actions taken on this account, with their appeals.
    pub async fn my_actions(&self) -> Result<Vec<pli_proto::abuse::ActionView>, ClientError> {
        self.transport.my_actions().await
    }

    /// Appeals action `id` taken on this account (once per action).
    pub async fn appeal(
        &self,
        id: u64,
        text: &str,
    ) -> Result<pli_proto::abuse::ActionView, ClientError> {
        self.transport.appeal(id, text).await
    }

    /// The reports [`Self::report`] would file, one per sender, without sending them.
    pub fn report_requests(
        &self,
        conversation: &GroupId,
        selection: &ReportSelection,
        reason: ReportReason,
        note: Option<&str>,
    ) -> Result<Vec<AbuseReportRequest>, ClientError> {
        if note.is_some_and(|n| n.len() > MAX_REPORT_NOTE_BYTES) {
            return Err(ClientError::Invalid(format!(
                "a report's note is at most {MAX_REPORT_NOTE_BYTES} bytes"
            )));
        }
        let mut by_sender: BTreeMap<Username, Vec<ReportedMessage>> = BTreeMap::new();
        for kept in self.chosen(conversation, selection)? {
            let (sender, message) = reported(kept)?;
            by_sender.entry(sender).or_default().push(message);
        }
        Ok(by_sender
            .into_iter()
            .map(|(reported, messages)| AbuseReportRequest {
                conversation: conversation.clone(),
                reported,
                reason,
                note: note.map(str::to_owned),
                messages,
            })
            .collect())
    }

    /// The received messages `selection` names, oldest first.
    fn chosen(
        &self,
        conversation: &GroupId,
        selection: &ReportSelection,
    ) -> Result<Vec<Kept>, ClientError> {
        let read = |row: &rusqlite::Row<'_>| {
            Ok(Kept {
                server_id: row.get(0)?,
                sender: row.get(1)?,
                device: row.get(2)?,
                text: row.get(3)?,
                message_id: row.get(4)?,
                key: row.get(5)?,
                stamp: row.get(6)?,
            })
        };
        const COLUMNS: &str = "SELECT server_id, sender, sender_device,
                 coalesce((SELECT e.text FROM message_edits e WHERE e.local_id = messages.local_id
                           ORDER BY e.id LIMIT 1), text),
                 message_id, frank_key, frank_stamp
             FROM messages WHERE group_id = ?1 AND outgoing = 0 AND held = 0 AND unsupported = 0
                 AND deleted = 0";
        let mut chosen = match selection {
            ReportSelection::Last(n) => {
                if *n == 0 || *n > MAX_REPORTED_MESSAGES {
                    return Err(ClientError::Invalid(format!(
                        "a report carries 1 to {MAX_REPORTED_MESSAGES} messages"
                    )));
                }
                let mut statement = self
                    .conn
                    .prepare(&format!("{COLUMNS} ORDER BY local_id DESC LIMIT ?2"))?;
                let rows = statement
                    .query_map(params![conversation.as_bytes(), *n as i64], read)?
                    .collect::<Result<Vec<_>, _>>()?;
                rows.into_iter().rev().collect::<Vec<_>>()
            }
            ReportSelection::Messages(_) | ReportSelection::Local(_) => {
                let (column, ids): (&str, Vec<i64>) = match selection {
                    ReportSelection::Messages(ids) => {
                        ("server_id", ids.iter().map(|id| *id as i64).collect())
                    }
                    ReportSelection::Local(ids) => ("local_id", ids.clone()),
                    ReportSelection::Last(_) => unreachable!("matched above"),
                };
                if ids.is_empty() || ids.len() > MAX_REPORTED_MESSAGES {
                    return Err(ClientError::Invalid(format!(
                        "a report carries 1 to {MAX_REPORTED_MESSAGES} messages"
                    )));
                }
                let mut statement = self.conn.prepare(&format!("{COLUMNS} AND {column} = ?2"))?;
                let mut rows = Vec::with_capacity(ids.len());
                for id in ids {
                    let row = statement
                        .query_map(params![conversation.as_bytes(), id], read)?
                        .next()
                        .transpose()?
                        .ok_or_else(|| {
                            ClientError::Invalid(format!(
                                "message {id} is not a message received in this conversation"
                            ))
                        })?;
                    rows.push(row);
                }
                rows
            }
        };
        if chosen.is_empty() {
            return Err(ClientError::Invalid(
                "no message received in this conversation to report".into(),
            ));
        }
        chosen.dedup_by_key(|k| k.server_id);
        Ok(chosen)
    }
}

/// A kept message as a report carries it, with its sender; refused if it has no franking
/// the server stamped.
fn reported(kept: Kept) -> Result<(Username, ReportedMessage), ClientError> {
    let reference = kept
        .server_id
        .map_or_else(|| "a message".to_owned(), |id| format!("message {id}"));
    let unreportable = || {
        ClientError::Invalid(format!(
            "{reference} cannot be reported: it carries no franking this server stamped"
        ))
    };
    let (Some(message_id), Some(key), Some(stamp)) = (kept.message_id, kept.key, kept.stamp) else {
        return Err(unreportable());
    };
    let stamp = crate::franking::stamp_from(&stamp).ok_or_else(unreportable)?;
    let sender =
        Username::parse(&kept.sender).map_err(|_| ClientError::corrupt("a message's sender"))?;
    let device = DeviceId::new(kept.device as u64)
        .map_err(|_| ClientError::corrupt("a message's sender device"))?;
    let message = ReportedMessage {
        text: kept.text,
        sender_device: device,
        message_id: message_id.into(),
        franking_key: key.into(),
        key_id: stamp.key_id,
        day: stamp.day,
        tag: stamp.tag.to_vec().into(),
    };
    Ok((sender, message))
}
