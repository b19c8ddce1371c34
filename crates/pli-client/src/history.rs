//! The history as front ends read it: one message with its state, the message it
//! answers, its reactions. Plain data, shared by `timeline` (which reads it) and
//! `Client::take_new` (which hands changed messages out as events).

use pli_proto::Username;

/// One message of the history, as a chat view shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryMessage {
    /// Its place in this device's history: pages are cut by it ([`crate::Client::history_page`]).
    pub local_id: i64,
    /// Its sender.
    pub sender: Username,
    /// Its text.
    pub text: String,
    /// When it was sent (ms since the Unix epoch, the sender's clock).
    pub sent_at: u64,
    /// When this device stored it (ms since the Unix epoch, this device's clock): what
    /// orders it among the conversation's notices, which carry this device's clock too.
    pub stored_at: u64,
    /// Whether this device wrote it.
    pub outgoing: bool,
    /// Whether this account wrote it, on this device or another of its own: what it may
    /// edit or delete for everyone.
    pub own: bool,
    /// For a message this device wrote: where it is on its way.
    pub delivery: Option<Delivery>,
    /// Its message id (hex), what a reply, reaction, edit or deletion names; absent for a
    /// message from before they existed.
    pub message_id: Option<String>,
    /// The message it answers.
    pub reply: Option<Quote>,
    /// Whether its author changed its text (the earlier texts: [`crate::Client::edit_history`]).
    pub edited: bool,
    /// Whether its author deleted it for everyone (its text is then empty).
    pub deleted: bool,
    /// Its reactions, each with how many users chose it, in the order first chosen.
    pub reactions: Vec<ReactionCount>,
    /// For a message this account wrote: how many other users received it and how many
    /// read it, by the receipts they sent (none where they turned receipts off).
    pub receipts: Option<Receipts>,
    /// Moves on at each change to it (an edit, a deletion, a reaction): what a chat view
    /// asks for since what it shows ([`crate::Client::history_changed`]).
    pub rev: i64,
    /// When its disappearing timer deletes it from this device (ms since the Unix epoch),
    /// if it has one ([`crate::disappearing`]).
    pub expires_at: Option<u64>,
    /// The file it shares, if it is an attachment message (its text is then the caption).
    pub attachment: Option<crate::attachment_records::Attachment>,
    /// Its sender's display name and whether they have a picture, from the profile this
    /// device opened ([`crate::profiles`]): shown beside the username, never instead.
    pub sender_profile: Option<SenderProfile>,
}

/// What a chat view shows of a sender's profile.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SenderProfile {
    /// The display name; may be empty.
    pub name: String,
    /// Whether the profile has a picture ([`crate::Client::profile_of`] gives it).
    pub avatar: bool,
}

/// Receipts for one of this account's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Receipts {
    /// Users whose device received it.
    pub delivered: u32,
    /// Users who read it.
    pub read: u32,
}

/// The message a reply answers, as its reply shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Quote {
    /// Its message id (hex).
    pub message_id: String,
    /// Its sender and text, unless this device does not have it.
    pub original: Option<(Username, String)>,
    /// Whether it was deleted for everyone.
    pub deleted: bool,
}

/// One reaction on a message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReactionCount {
    /// The emoji.
    pub reaction: String,
    /// How many users reacted with it.
    pub count: u32,
    /// Whether this device's user is one of them.
    pub mine: bool,
}

/// Where an own message is on its way.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Delivery {
    /// Written, waiting in the outbox (offline, or held until the members' keys verify).
    Queued,
    /// Accepted by the server, committed for every recipient device.
    Sent,
    /// Given up, for this reason.
    Failed(String),
}
