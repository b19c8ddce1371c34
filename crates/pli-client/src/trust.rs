//! Trust made visible: safety codes the user compared and marked verified (and whether the
//! code changed since), the alerts still waiting for the user's acknowledgement, and why
//! sending to a conversation is refused. What a front end shows beside each conversation
//! and member; the checks themselves live in `kt` and `receive`.

use crate::client::Client;
use crate::error::ClientError;
use crate::kt::Verification;
use crate::local;
use pli_proto::{GroupId, Username};
use rusqlite::OptionalExtension as _;

/// Where the user stands with another user's keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    /// Never marked verified: the directory vouches for the keys, the user has not compared.
    Unverified,
    /// Marked verified, and the safety code is still the one the user compared.
    Verified,
    /// Marked verified once, but the code changed since (a device added or removed, or a
    /// key swapped): compare again.
    Changed,
}

/// An alert (something that may be an attack) the user has not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub conversation: Option<GroupId>,
    pub text: String,
    /// When this device raised it (ms since the Unix epoch).
    pub raised_at: u64,
}

/// Why this device will not send to a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The user left or was removed.
    NotMember,
    /// A member's key is not the one the key directory lists: what is written is held.
    UntrustedMember,
    /// An alert that stops sending everywhere (a device on the user's own account that
    /// none of their devices added) waits for the user's acknowledgement.
    OpenAlert,
}

impl Client {
    /// The safety code with `peer` (from verified directory lookups) and where the user
    /// stands with it.
    pub async fn trust(
        &mut self,
        peer: &Username,
    ) -> Result<(Verification, TrustState), ClientError> {
        let verification = self.verify_user(peer).await?;
        let state = self.trust_state(peer, &verification.code)?;
        Ok((verification, state))
    }

    /// Where the user stands with `peer`, whose safety code is now `code`.
    pub fn trust_state(&self, peer: &Username, code: &str) -> Result<TrustState, ClientError> {
        let marked: Option<String> = self
            .conn
            .query_row(
                "SELECT safety_code FROM verified_users WHERE username = ?1",
                [peer.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match marked {
            None => TrustState::Unverified,
            Some(marked) if marked == code => TrustState::Verified,
            Some(_) => TrustState::Changed,
        })
    }

    /// Marks `peer` verified with the safety code `code` the user compared. Refused when the
    /// directory's code is no longer that one (it changed while the user looked).
    pub async fn mark_verified(&mut self, peer: &Username, code: &str) -> Result<(), ClientError> {
        let now = self.verify_user(peer).await?;
        if now.code != code {
            return Err(ClientError::Invalid(
                "the safety code changed while you compared it: compare the new one".into(),
            ));
        }
        self.conn.execute(
            "INSERT INTO verified_users (username, safety_code, verified_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (username) DO UPDATE SET safety_code = ?2, verified_ms = ?3",
            rusqlite::params![peer.as_str(), code, local::now_ms() as i64],
        )?;
        Ok(())
    }

    /// Alerts not acknowledged yet, oldest first.
    pub fn open_alerts(&self) -> Result<Vec<Alert>, ClientError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, group_id, text, created_ms FROM notices
             WHERE alert = 1 AND acknowledged = 0 ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, group, text, raised) = row?;
            Ok(Alert {
                id,
                conversation: group.and_then(|g| GroupId::from_bytes(&g).ok()),
                text,
                raised_at: raised as u64,
            })
        })
        .collect()
    }

    /// The user saw alert `id` and read what it means. Unknown ids are an error.
    pub fn acknowledge_alert(&self, id: i64) -> Result<(), ClientError> {
        let changed = self.conn.execute(
            "UPDATE notices SET acknowledged = 1 WHERE id = ?1 AND alert = 1",
            [id],
        )?;
        if changed == 0 {
            return Err(ClientError::Invalid("no such alert".into()));
        }
        Ok(())
    }

    /// Why sending to `conversation` is refused, if it is.
    pub fn sending_refused(&self, conversation: &GroupId) -> Result<Option<Refusal>, ClientError> {
        let current = local::conversation(&self.conn, conversation)?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        if !current.active {
            return Ok(Some(Refusal::NotMember));
        }
        if local::is_untrusted(&self.conn, conversation)? {
            return Ok(Some(Refusal::UntrustedMember));
        }
        let blocking: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM notices WHERE blocks_sending = 1 AND acknowledged = 0)",
            [],
            |r| r.get(0),
        )?;
        Ok(blocking.then_some(Refusal::OpenAlert))
    }
}
