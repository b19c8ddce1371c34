//! The `Client`: one registered device, its local state and its server.
//!
//! Operations live in sibling modules by concern: `receive` (delivery and decryption),
//! `outbox` (sending application messages), `groups` (creating conversations and changing
//! membership, with the commit protocol). This file holds opening, registration, key
//! package upkeep and what the app reads: conversations and new events.

use crate::error::ClientError;
use crate::local::{self, Conversation, Identity};
use crate::mls::{self, Provider};
use crate::transport::{Credentials, Transport};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use pli_proto::api::{SelfDeviceResponse, UploadKeyPackagesRequest};
use pli_proto::{GroupId, Username};
use rusqlite::{Connection, params};
use std::path::Path;

/// One-time key packages a device keeps on the server, and the level that triggers a top-up.
pub const KEY_PACKAGE_TARGET: u64 = 30;
pub const KEY_PACKAGE_LOW: u64 = 10;

/// What a top-up uploads, from the server's count of this device's packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TopUp {
    one_time: usize,
    last_resort: bool,
    replace_expiring: bool,
}

impl TopUp {
    /// Packages that expire soon are replaced now, while they still work: the upload brings
    /// the packages that do not expire soon back to the target, and the server deletes the
    /// others. Otherwise the device tops up when it runs low, as before. The last-resort
    /// package is replaced when missing or expiring.
    fn plan(status: &SelfDeviceResponse) -> Self {
        let available = status.key_packages_available;
        let expiring = status.key_packages_expiring.min(available);
        let last_resort = !status.has_last_resort || status.last_resort_expiring;
        let replace_expiring = expiring > 0;
        let lasting = available - expiring;
        let one_time = if replace_expiring {
            KEY_PACKAGE_TARGET.saturating_sub(lasting)
        } else if available < KEY_PACKAGE_LOW || last_resort {
            KEY_PACKAGE_TARGET.saturating_sub(available)
        } else {
            0
        };
        Self {
            one_time: one_time as usize,
            last_resort,
            replace_expiring,
        }
    }
}

/// How to reach the server.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Overrides the server URL stored in the home (a client moving between nodes).
    pub server: Option<String>,
    /// PEM of an extra CA to trust (a server with a private certificate).
    pub extra_ca_pem: Option<Vec<u8>>,
}

pub struct Client {
    pub(crate) conn: Connection,
    pub(crate) crypto: RustCrypto,
    pub(crate) transport: Transport,
    pub(crate) me: Identity,
    /// Groups with queued proposals this device may have to commit.
    pub(crate) needs_commit: std::collections::BTreeSet<GroupId>,
    /// Recently used MLS groups, kept decoded between messages.
    pub(crate) groups: crate::group_cache::GroupCache,
    /// Typing indicators received and not yet handed out: in memory only (`typing`).
    pub(crate) typing: Vec<Event>,
}

/// Something new for the user, handed out once by [`Client::take_new`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Message {
        conversation: GroupId,
        conversation_title: String,
        sender: Username,
        /// The sender's display name from their profile, if this device opened one: shown
        /// beside the username, never instead of it.
        #[serde(skip_serializing_if = "Option::is_none")]
        sender_name: Option<String>,
        text: String,
        /// The sender's clock, milliseconds since the Unix epoch.
        sent_at: u64,
        /// The server's id for this message; unique per server.
        id: u64,
        /// Its message id (hex): what a reply, reaction, edit or deletion names.
        message_id: Option<String>,
        /// The message it answers (a message id, hex).
        reply_to: Option<String>,
        /// The file it shares, if it is an attachment message (`text` is then its caption).
        #[serde(skip_serializing_if = "Option::is_none")]
        attachment: Option<Box<crate::attachment_records::Attachment>>,
    },
    /// A message shown before was edited, deleted for everyone, or reacted to: here as it
    /// is now.
    Changed {
        conversation: GroupId,
        conversation_title: String,
        message: Box<crate::history::HistoryMessage>,
    },
    Notice {
        conversation: Option<GroupId>,
        /// True for something that may be an attack (a gap, a broken chain).
        alert: bool,
        text: String,
    },
    /// Another member is typing in a conversation, or stopped: never stored; one not
    /// repeated within [`crate::typing::TYPING_HOLDS_MS`] has stopped.
    Typing {
        conversation: GroupId,
        sender: Username,
        typing: bool,
    },
}

impl Client {
    /// Registers `username` with a new device on `server`, solving the server's proof of
    /// work, and stores the device in `home`.
    pub async fn register(
        home: &Path,
        server: &str,
        username: &Username,
        options: &ConnectOptions,
    ) -> Result<Self, ClientError> {
        Ok(Self::register_in(home, server, username, None, options)
            .await?
            .0)
    }

    /// Registers with the account homed in `region` (the server's default when `None`):
    /// all of the account's data will live in that region's store. Returns the client and
    /// the home region the server recorded.
    pub async fn register_in(
        home: &Path,
        server: &str,
        username: &Username,
        region: Option<&pli_proto::Region>,
        options: &ConnectOptions,
    ) -> Result<(Self, pli_proto::Region), ClientError> {
        let conn = local::open(home)?;
        if local::load_identity(&conn)?.is_some() {
            return Err(ClientError::AlreadyRegistered);
        }
        let transport = Transport::new(server, options.extra_ca_pem.as_deref())?;
        let crypto = RustCrypto::default();
        let signer = mls::new_signer()?;
        let registered = transport
            .register_solving(username, signer.public(), region)
            .await?;
        let home_region = registered.region;
        let me = Identity {
            server: transport.base().to_owned(),
            username: registered.username,
            device_id: registered.device_id,
            secret: registered.device_secret,
            signature_public: signer.public().to_vec(),
        };
        save_device(&conn, &signer, &me)?;
        let transport = transport.with_credentials(Credentials {
            device_id: me.device_id,
            secret: me.secret.clone(),
        });
        let mut client = Self {
            conn,
            crypto,
            transport,
            me,
            needs_commit: Default::default(),
            groups: Default::default(),
            typing: Vec::new(),
        };
        // Pinned now, on first contact: every later root must verify against these keys.
        client.pin_directory_keys().await?;
        client.top_up_key_packages().await?;
        Ok((client, home_region))
    }

    /// Opens the device stored in `home`.
    pub fn open(home: &Path, options: &ConnectOptions) -> Result<Self, ClientError> {
        let conn = local::open(home)?;
        let me = local::load_identity(&conn)?.ok_or(ClientError::NotRegistered)?;
        let server = options.server.as_deref().unwrap_or(&me.server);
        let transport = Transport::new(server, options.extra_ca_pem.as_deref())?.with_credentials(
            Credentials {
                device_id: me.device_id,
                secret: me.secret.clone(),
            },
        );
        Ok(Self {
            conn,
            crypto: RustCrypto::default(),
            transport,
            me,
            needs_commit: Default::default(),
            groups: Default::default(),
            typing: Vec::new(),
        })
    }

    pub fn username(&self) -> &Username {
        &self.me.username
    }

    pub fn device_id(&self) -> pli_proto::DeviceId {
        self.me.device_id
    }

    pub fn server(&self) -> &str {
        self.transport.base()
    }

    /// Deletes the account on the server, every device of it; returns how many days the
    /// server keeps its remaining facts (name, days) under the home region's policy. This
    /// device's local history stays where it is, for the user to keep or remove.
    pub async fn delete_account(&self) -> Result<u32, ClientError> {
        Ok(self.transport.delete_account().await?.facts_kept_days)
    }

    /// What the server holds about this account: the same record staff see and a lawful
    /// disclosure is made from.
    pub async fn my_inventory(&self) -> Result<pli_proto::inventory::Inventory, ClientError> {
        self.transport.my_inventory().await
    }

    pub(crate) fn signer(&self) -> Result<SignatureKeyPair, ClientError> {
        mls::load_signer(&mls::Storage::new(&self.conn), &self.me.signature_public)
    }

    /// Keeps enough one-time key packages (and a last-resort one) on the server that others
    /// can always start a conversation with this device, and replaces those that expire
    /// within [`KEY_PACKAGE_RENEWAL_SECS`](pli_proto::limits::KEY_PACKAGE_RENEWAL_SECS)
    /// before they do (the server, which hands none out once expired, says which).
    pub async fn top_up_key_packages(&mut self) -> Result<(), ClientError> {
        self.top_up_key_packages_valid_for(pli_proto::limits::KEY_PACKAGE_LIFETIME_SECS)
            .await
    }

    /// [`Self::top_up_key_packages`], making packages valid for `lifetime_secs` (tests make
    /// short-lived ones).
    pub async fn top_up_key_packages_valid_for(
        &mut self,
        lifetime_secs: u64,
    ) -> Result<(), ClientError> {
        let status = self.transport.self_device().await?;
        let plan = TopUp::plan(&status);
        if plan.one_time == 0 && !plan.last_resort {
            return Ok(());
        }
        let signer = self.signer()?;
        let credential = mls::credential(&self.me.username, self.me.device_id, &signer);
        let made = {
            let tx = self.conn.unchecked_transaction()?;
            let made = mls::key_packages_valid_for(
                &Provider::new(&self.crypto, &tx),
                &signer,
                &credential,
                plan.one_time,
                plan.last_resort,
                lifetime_secs,
            )?;
            tx.commit()?;
            made
        };
        self.transport
            .upload_key_packages(&UploadKeyPackagesRequest {
                key_packages: made.one_time.into_iter().map(Into::into).collect(),
                last_resort: made.last_resort.map(Into::into),
                replace_expiring: plan.replace_expiring,
            })
            .await?;
        Ok(())
    }

    pub fn conversations(&self) -> Result<Vec<Conversation>, ClientError> {
        local::conversations(&self.conn)
    }

    /// The conversation with exactly this id (never a name or a prefix: a page that names a
    /// conversation by id must not reach another whose name looks like it).
    pub fn conversation(&self, id: &GroupId) -> Result<Option<Conversation>, ClientError> {
        local::conversation(&self.conn, id)
    }

    /// Finds a conversation by full id, by a unique id prefix (at least 4 hex digits), or
    /// by exact name.
    pub fn find_conversation(&self, query: &str) -> Result<Conversation, ClientError> {
        let all = self.conversations()?;
        let lowered = query.to_ascii_lowercase();
        let matches: Vec<_> = all
            .iter()
            .filter(|c| {
                (lowered.len() >= 4 && c.id.to_hex().starts_with(&lowered)) || c.name == query
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            _ => Err(ClientError::UnknownConversation(query.to_owned())),
        }
    }

    /// Messages and notices not yet handed to the app, oldest first; each is returned once.
    pub fn take_new(&mut self) -> Result<Vec<Event>, ClientError> {
        let tx = self.conn.unchecked_transaction()?;
        let mut events = Vec::new();
        {
            let mut st = tx.prepare(
                "SELECT m.group_id, m.sender, m.text, m.sent_at, m.server_id, m.received_ms,
                     m.message_id, m.reply_to, m.local_id
                 FROM messages m WHERE m.shown = 0 AND m.outgoing = 0 AND m.held = 0
                 AND NOT EXISTS (SELECT 1 FROM conversations c
                                 WHERE c.group_id = m.group_id AND c.pending = 1)
                 ORDER BY m.local_id",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                    r.get::<_, Option<Vec<u8>>>(7)?,
                    r.get::<_, i64>(8)?,
                ))
            })?;
            for row in rows {
                let (group, sender, text, sent_at, id, received, message_id, reply_to, local_id) =
                    row?;
                let conversation =
                    GroupId::from_bytes(&group).map_err(|_| ClientError::corrupt("group id"))?;
                let title = local::conversation(&tx, &conversation)?
                    .map(|c| c.title())
                    .unwrap_or_default();
                let sender =
                    Username::parse(&sender).map_err(|_| ClientError::corrupt("sender"))?;
                let sender_name = crate::profile_book::shown(&tx, &sender)?
                    .map(|p| p.name)
                    .filter(|name| !name.is_empty());
                events.push((
                    received,
                    Event::Message {
                        conversation,
                        conversation_title: title,
                        sender,
                        sender_name,
                        text,
                        sent_at: sent_at as u64,
                        id: id.unwrap_or_default() as u64,
                        message_id: message_id.map(hex::encode),
                        reply_to: reply_to.map(hex::encode),
                        attachment: crate::attachment_records::of_message(&tx, local_id)?
                            .map(Box::new),
                    },
                ));
            }
            // Messages shown before and changed since the last take, as they are now.
            let taken = Self::taken_rev(&tx)?;
            for (conversation, message) in self.changed_shown(taken)? {
                let title = local::conversation(&tx, &conversation)?
                    .map(|c| c.title())
                    .unwrap_or_default();
                events.push((
                    local::now_ms() as i64,
                    Event::Changed {
                        conversation,
                        conversation_title: title,
                        message: Box::new(message),
                    },
                ));
            }
            Self::set_taken_rev(&tx)?;
            let mut st = tx.prepare(
                "SELECT n.group_id, n.alert, n.text, n.created_ms FROM notices n WHERE n.shown = 0
                 AND NOT EXISTS (SELECT 1 FROM conversations c
                                 WHERE c.group_id = n.group_id AND c.pending = 1)
                 ORDER BY n.id",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, Option<Vec<u8>>>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (group, alert, text, created) = row?;
                events.push((
                    created,
                    Event::Notice {
                        conversation: group.and_then(|g| GroupId::from_bytes(&g).ok()),
                        alert,
                        text,
                    },
                ));
            }
        }
        // What is held (an unverified sender, a conversation not checked yet) stays unshown.
        tx.execute(
            "UPDATE messages SET shown = 1 WHERE shown = 0 AND held = 0 AND NOT EXISTS (
                 SELECT 1 FROM conversations c WHERE c.group_id = messages.group_id AND c.pending = 1)",
            params![],
        )?;
        tx.execute(
            "UPDATE notices SET shown = 1 WHERE shown = 0 AND NOT EXISTS (
                 SELECT 1 FROM conversations c WHERE c.group_id = notices.group_id AND c.pending = 1)",
            params![],
        )?;
        tx.commit()?;
        // One timeline: a stable sort keeps each table's own order within a millisecond.
        events.sort_by_key(|(at, _)| *at);
        let mut events: Vec<Event> = events.into_iter().map(|(_, event)| event).collect();
        events.append(&mut self.typing);
        Ok(events)
    }

    /// The conversation's full history (incoming and outgoing), oldest first.
    pub fn history(
        &self,
        conversation: &GroupId,
    ) -> Result<Vec<(Username, String, u64)>, ClientError> {
        let mut st = self.conn.prepare(
            "SELECT sender, text, sent_at FROM messages WHERE group_id = ?1 AND held = 0
             ORDER BY local_id",
        )?;
        let rows = st.query_map([conversation.as_bytes()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (sender, text, sent_at) = row?;
            let sender = Username::parse(&sender).map_err(|_| ClientError::corrupt("sender"))?;
            Ok((sender, text, sent_at as u64))
        })
        .collect()
    }
}

/// Stores a new device: its signature key (in openmls's storage) and its identity, in one
/// transaction.
pub(crate) fn save_device(
    conn: &Connection,
    signer: &SignatureKeyPair,
    me: &Identity,
) -> Result<(), ClientError> {
    let tx = conn.unchecked_transaction()?;
    signer
        .store(&mls::Storage::new(&tx))
        .map_err(ClientError::mls)?;
    local::save_identity(&tx, me)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(available: u64, expiring: u64, last_resort: bool, lr_expiring: bool) -> TopUp {
        TopUp::plan(&SelfDeviceResponse {
            device_id: pli_proto::DeviceId::new(1).expect("id"),
            key_packages_available: available,
            has_last_resort: last_resort,
            key_packages_expiring: expiring,
            last_resort_expiring: lr_expiring,
        })
    }

    fn plan(one_time: usize, last_resort: bool, replace_expiring: bool) -> TopUp {
        TopUp {
            one_time,
            last_resort,
            replace_expiring,
        }
    }

    #[test]
    fn top_ups_replace_expiring_packages_and_fill_up_when_low() {
        assert_eq!(status(30, 0, true, false), plan(0, false, false), "stocked");
        assert_eq!(status(5, 0, true, false), plan(25, false, false), "low");
        assert_eq!(
            status(20, 0, false, false),
            plan(10, true, false),
            "no last resort"
        );
        assert_eq!(
            status(20, 0, true, true),
            plan(10, true, false),
            "it expires"
        );
        assert_eq!(
            status(30, 30, true, true),
            plan(30, true, true),
            "everything expires soon"
        );
        assert_eq!(status(25, 5, true, false), plan(10, false, true), "some do");
        assert_eq!(
            status(0, 0, false, false),
            plan(30, true, false),
            "all expired"
        );
    }
}
