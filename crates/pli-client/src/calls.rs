//! The calls of each conversation as their signalling tells them ([`Body::Call`]): who
//! started which call and when, whether this account took it (answered or joined, on any
//! of its devices) or declined it, and when it ended. A call that rings here says so; one
//! that ended before this account took or declined it is a missed call, shown in the
//! conversation. The media keys are the call group's, never these messages'
//! (`pli_proto::call`).

use crate::error::ClientError;
use crate::{Client, local};
use pli_proto::call::{CALL_ID_BYTES, CallAction, parse_call_id};
use pli_proto::payload::{Body, Envelope};
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, OptionalExtension, params};

/// A call as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call's id (hex), as its messages name it.
    pub call: String,
    pub started_by: Username,
    pub started_ms: u64,
    pub video: bool,
    /// Answered or joined by this account, on any of its devices.
    pub taken: bool,
    /// Declined by this account.
    pub declined: bool,
    pub ended_ms: Option<u64>,
}

impl CallRecord {
    /// Over before this account took or declined it, and not started by it.
    pub fn missed(&self, me: &Username) -> bool {
        self.ended_ms.is_some() && !self.taken && !self.declined && &self.started_by != me
    }
}

/// Applies a received call message from `sender` (verified) in `group`.
pub(crate) fn record(
    tx: &Connection,
    group: &GroupId,
    sender: &Username,
    envelope: &Envelope,
) -> Result<(), ClientError> {
    let me = local::load_identity(tx)?.map(|me| me.username);
    apply(
        tx,
        group,
        sender,
        me.as_ref(),
        &envelope.body,
        envelope.sent_at,
    )
}

/// Applies a call message this device sends, as the other devices of its account will.
pub(crate) fn record_own(
    tx: &Connection,
    group: &GroupId,
    me: &Username,
    body: &Body,
    sent_at: u64,
) -> Result<(), ClientError> {
    apply(tx, group, me, Some(me), body, sent_at)
}

/// `me` is this account (none before it is registered): a message from it is its own.
fn apply(
    tx: &Connection,
    group: &GroupId,
    sender: &Username,
    me: Option<&Username>,
    body: &Body,
    at_ms: u64,
) -> Result<(), ClientError> {
    let own = me == Some(sender);
    let Body::Call {
        call,
        action,
        video,
    } = body
    else {
        return Ok(());
    };
    let Some(call) = parse_call_id(call) else {
        return Ok(());
    };
    // The first message of a call this device hears of (a start, or a later message when
    // the start came before this device joined) opens its row.
    let opened = tx.execute(
        "INSERT OR IGNORE INTO calls (group_id, call_id, started_by, started_ms, video)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            group.as_bytes(),
            call.as_slice(),
            sender.as_str(),
            at_ms as i64,
            video
        ],
    )? == 1;
    let set = |column: &str| {
        tx.execute(
            &format!("UPDATE calls SET {column} = 1 WHERE group_id = ?1 AND call_id = ?2"),
            params![group.as_bytes(), call.as_slice()],
        )
    };
    match action {
        CallAction::Start if opened && !own => {
            let kind = if *video { "video calling" } else { "calling" };
            local::notice(
                tx,
                Some(group),
                false,
                &format!("@{sender} is {kind}"),
                local::now_ms(),
            )?;
        }
        CallAction::Start | CallAction::Leave => {}
        CallAction::Answer | CallAction::Join if own => {
            set("taken")?;
        }
        CallAction::Decline if own => {
            set("declined")?;
        }
        CallAction::Answer | CallAction::Join | CallAction::Decline => {}
        CallAction::End => end(tx, group, &call, at_ms, sender, me)?,
    }
    Ok(())
}

/// Marks the call ended; says it was missed if this account neither took nor declined it
/// (nor started it).
fn end(
    tx: &Connection,
    group: &GroupId,
    call: &[u8; CALL_ID_BYTES],
    at_ms: u64,
    sender: &Username,
    me: Option<&Username>,
) -> Result<(), ClientError> {
    let ended = tx.execute(
        "UPDATE calls SET ended_ms = ?3 WHERE group_id = ?1 AND call_id = ?2 AND ended_ms IS NULL",
        params![group.as_bytes(), call.as_slice(), at_ms as i64],
    )?;
    if ended == 0 || me.is_some_and(|me| me == sender) {
        return Ok(());
    }
    let missed: Option<(String, bool)> = tx
        .query_row(
            "SELECT started_by, video FROM calls WHERE group_id = ?1 AND call_id = ?2
             AND taken = 0 AND declined = 0",
            params![group.as_bytes(), call.as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((starter, video)) =
        missed.filter(|(starter, _)| Some(starter.as_str()) != me.map(Username::as_str))
    {
        let kind = if video { "video call" } else { "call" };
        local::notice(
            tx,
            Some(group),
            false,
            &format!("missed {kind} from @{starter}"),
            local::now_ms(),
        )?;
    }
    Ok(())
}

impl Client {
    /// Sends `action` (answer, decline, join, leave, end) for the call `call` (hex id).
    pub async fn signal_call(
        &mut self,
        conversation: &GroupId,
        call: &str,
        action: CallAction,
        video: bool,
    ) -> Result<crate::SendStatus, ClientError> {
        let sent = self
            .send_body(
                conversation,
                Body::Call {
                    call: call.to_owned(),
                    action,
                    video,
                },
            )
            .await?;
        Ok(sent.status)
    }

    /// The conversation's calls, oldest first.
    pub fn calls(&self, conversation: &GroupId) -> Result<Vec<CallRecord>, ClientError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT call_id, started_by, started_ms, video, taken, declined, ended_ms
             FROM calls WHERE group_id = ?1 ORDER BY started_ms, call_id",
        )?;
        let rows = statement.query_map([conversation.as_bytes()], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })?;
        let mut calls = Vec::new();
        for row in rows {
            let (call, started_by, started_ms, video, taken, declined, ended_ms) = row?;
            let Ok(started_by) = started_by.parse::<Username>() else {
                continue;
            };
            calls.push(CallRecord {
                call: hex::encode(call),
                started_by,
                started_ms: started_ms as u64,
                video,
                taken,
                declined,
                ended_ms: ended_ms.map(|ms| ms as u64),
            });
        }
        Ok(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(action: CallAction) -> Body {
        Body::Call {
            call: "07".repeat(CALL_ID_BYTES),
            action,
            video: false,
        }
    }

    fn notices(conn: &Connection) -> Vec<String> {
        conn.prepare("SELECT text FROM notices ORDER BY id")
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn a_call_answered_on_another_device_of_the_account_is_not_missed() {
        let home = tempfile::tempdir().expect("temp dir");
        let conn = local::open(home.path()).expect("open");
        let group = GroupId::from_bytes(&[3; 16]).expect("id");
        let alice: Username = "alice".parse().expect("name");
        let bob: Username = "bob".parse().expect("name");
        apply(
            &conn,
            &group,
            &alice,
            Some(&bob),
            &call(CallAction::Start),
            1,
        )
        .expect("start");
        // bob's other device answered: this one hears it as its own account's message.
        apply(
            &conn,
            &group,
            &bob,
            Some(&bob),
            &call(CallAction::Answer),
            2,
        )
        .expect("answer");
        apply(&conn, &group, &alice, Some(&bob), &call(CallAction::End), 3).expect("end");
        assert_eq!(notices(&conn), ["@alice is calling"]);
        // Without the answer, the same call is missed.
        let other = GroupId::from_bytes(&[4; 16]).expect("id");
        apply(
            &conn,
            &other,
            &alice,
            Some(&bob),
            &call(CallAction::Start),
            1,
        )
        .expect("start");
        apply(&conn, &other, &alice, Some(&bob), &call(CallAction::End), 3).expect("end");
        assert_eq!(
            notices(&conn),
            [
                "@alice is calling",
                "@alice is calling",
                "missed call from @alice"
            ]
        );
    }
}
