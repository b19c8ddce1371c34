//! pli-client: everything a pli front end needs, with no user interface.
//!
//! A [`Client`] is one registered device: its local state (openmls's group state and
//! pli's own tables in one SQLite file), its credentials and its server. Every
//! conversation, 1:1 included, is an MLS group in pli's fixed ciphersuite; every message
//! travels as an MLS `PrivateMessage`.
//!
//! What lives where:
//! - [`client`]: opening and registering a device, key package upkeep, reading events.
//! - [`devices`]: linking a new device with a code an existing one approves, listing,
//!   removing.
//! - [`sync`]: `sync`, `send_text`, `listen`: what front ends call.
//! - [`kt`]: key verification against the key transparency directory: pinned keys,
//!   verified roots, lookups, monitoring this user's keys, members' keys, split views.
//! - [`groups`]: creating conversations and changing membership (the commit protocol).
//! - `departed`: removed devices and deleted accounts taken out of conversations, so the
//!   remaining members can still send.
//! - `receive`: draining the queue, decrypting, hash-chain checks, dedup;
//!   `commit_notices`: the plain-words notices of a membership change.
//! - [`rotation`]: this device's leaf replaced on a schedule and after device changes
//!   (post-compromise healing).
//! - `outbox`: the durable send queue.
//! - [`changes`]: replies, reactions, edits and deletion for everyone, and the rules every
//!   device applies them by.
//! - `receipts`: delivery and read receipts, owed, sent, counted; on or off per account
//!   and per conversation.
//! - [`disappearing`]: disappearing messages: a timer per conversation, set by any
//!   member; each device deletes timed messages for good, search index included.
//! - [`typing`]: typing indicators, ephemeral: sent only to who is connected, stored by
//!   nobody.
//! - [`profiles`]: display names and avatars, sealed under profile keys shared inside
//!   conversations ([`profile_seal`]); [`profile_book`]: the keys and profiles a device
//!   holds; the server holds ciphertext only.
//! - [`search`]: full-text search of the local history (SQLite FTS5).
//! - [`history`]: a history message as front ends see it (plain data).
//! - [`timeline`]: conversation summaries (last message, unread), history by pages, read
//!   markers: what a conversation list and a chat view read.
//! - `link_keys`: a linked device takes the directory's keys from its approving device;
//!   [`linked_devices`]: the approving device adds it to the existing conversations.
//! - `group_cache`: decoded MLS groups kept between messages, checked against the
//!   database's version of each group before use.
//! - [`local`]: the local database and its queries; `schema`: its migrations.
//! - [`mls`]: openmls glue (provider, configuration, key packages, credentials).
//! - [`mls_store`]: openmls's state in the local database (pli's own storage provider over
//!   `openmls_sqlite_storage`'s tables: cached statements, values in MessagePack).
//! - [`transport`]: HTTP and WebSocket to the server.
//! - [`trust`]: safety codes marked verified (and changed since), alerts awaiting the
//!   user's acknowledgement, why sending to a conversation is refused.
//! - [`error`]: [`ClientError`], the one error callers branch on.
//! - [`audit_state`]: audit checkpoints kept by auditors, witnesses and every device, so a
//!   rewritten or cut-back log is caught; `audit_watch`: each device's check at sync.
//! - [`witness`]: `pli audit witness`: co-signs only checkpoints that extend what it saw.
//! - [`admin`]: staff tools: the admin API client, audit log export and verification.
//! - `hot_paths`: the encrypt and receive paths without a server, for benchmarks.
//!
//! Depends on `pli-proto`, never on `pli-server`.

pub mod admin;
pub mod attachment_crypto;
pub mod attachment_records;
pub mod attachments;
pub mod audit_state;
mod audit_watch;
mod blocking;
pub mod call_frames;
mod call_group;
pub mod calls;
pub mod changes;
pub mod client;
mod commit_notices;
mod departed;
pub mod devices;
pub mod disappearing;
pub mod error;
pub(crate) mod franking;
mod group_cache;
pub mod groups;
pub mod history;
pub mod history_archive;
#[doc(hidden)]
pub mod hot_paths;
pub mod kt;
mod link_keys;
pub mod linked_devices;
mod linked_history;
pub mod local;
pub mod mls;
pub mod mls_store;
mod outbox;
pub mod profile_book;
pub mod profile_seal;
pub mod profiles;
mod receipts;
mod receive;
pub mod reporting;
pub mod rotation;
mod schema;
pub mod search;
pub mod sync;
pub mod thumbnail;
pub mod timeline;
pub mod transport;
pub mod trust;
pub mod typing;
mod welcome;
pub mod witness;

pub use client::{Client, ConnectOptions, Event};
pub use error::ClientError;
pub use history_archive::HistoryChoice;
pub use local::Conversation;
pub use receive::UNSUPPORTED_TEXT;
pub use sync::{SendStatus, Sent};
