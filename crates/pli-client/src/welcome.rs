//! Joining what a Welcome invites this device to: a conversation, hidden until every
//! member's key verifies against the directory, or a call this device asked to join
//! (`call_group`).

use crate::error::ClientError;
use crate::local::{self, Conversation};
use crate::mls::{self, Provider, pli_group};
use openmls::prelude::*;

/// Joins the conversation a Welcome invites this device to.
pub(crate) fn join(
    tx: &rusqlite::Connection,
    provider: &Provider<'_>,
    welcome: Welcome,
) -> Result<(), ClientError> {
    let staged = StagedWelcome::new_from_welcome(provider, &mls::join_config(), welcome, None)
        .map_err(ClientError::mls)?;
    // A call this device asked to join, or else a conversation.
    let Some(staged) = crate::call_group::join(tx, provider, staged)? else {
        return Ok(());
    };
    let inviter = staged
        .welcome_sender()
        .ok()
        .and_then(|leaf| mls::member_identity(leaf.credential()));
    let group = staged.into_group(provider).map_err(ClientError::mls)?;
    let id = pli_group(group.group_id())?;
    for member in group.members() {
        if let Some((user, device)) = mls::member_identity(&member.credential) {
            crate::kt::monitor::note_member(tx, &id, &user, device, &member.signature_key)?;
        }
    }
    local::insert_conversation(
        tx,
        &Conversation {
            id: id.clone(),
            name: String::new(),
            direct: false,
            peer: None,
            active: true,
        },
        local::now_ms(),
    )?;
    // Hidden, and never anyone's direct conversation, until every member's key verifies
    // against the directory (at this sync's directory check).
    local::set_pending(tx, &id)?;
    let me = local::load_identity(tx)?.map(|me| me.username);
    let text = match inviter {
        // The account's own device adding this one, newly linked.
        Some((user, _)) if Some(&user) == me.as_ref() => {
            "your other device added this one to the conversation".to_owned()
        }
        Some((user, _)) => format!("@{user} added you to a conversation"),
        None => "you were added to a conversation".to_owned(),
    };
    local::notice(tx, Some(&id), false, &text, local::now_ms())
}
