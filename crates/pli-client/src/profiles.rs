//! Profiles: a display name and an avatar that only the people a user talks to can read.
//!
//! [`Client::set_profile`] seals the profile under a fresh profile key
//! ([`crate::profile_seal`]), stores the sealed bytes on the server (in the account's home
//! region) and, at each sync from then on, shares the key in every active conversation that
//! has not had this version yet ([`Body::ProfileKey`]). A conversation gets it again when
//! members join (a commit that adds anyone), so newcomers can read it too.
//!
//! A receiving device keeps each sending device's newest key for its user. At a sync it
//! fetches the profiles whose newest key from a device the key directory verified is newer
//! than the last fetched: an unverified device could be a ghost, and a ghost must neither
//! rename anyone nor, by announcing a high version, hold back their real key. What opens is kept in `profiles`; what does not open (an
//! altered blob, an older one replayed) is dropped and the last good profile stays. The
//! username is always shown beside the name (pli app, the CLI), for safety: a name is
//! whatever its owner typed.

use crate::error::ClientError;
use crate::profile_book::{ShownProfile, due_keys, fetched, learn_key, newest_key, shown};
use crate::profile_seal::{self, Profile, ProfileKey};
use crate::{Client, local};
use pli_proto::Username;
use pli_proto::limits::MAX_DISPLAY_NAME_BYTES;
use pli_proto::payload::Body;
use rusqlite::{OptionalExtension, params};
use std::path::Path;

impl Client {
    /// Stores a new profile (`name`, and a picture made from the image at `avatar`), sealed
    /// under a fresh key that the next syncs share in every conversation. `clear` removes
    /// the profile instead: the server's copy goes, and people's devices drop theirs once
    /// they are told (with a new key that opens nothing).
    pub async fn set_profile(
        &mut self,
        name: &str,
        avatar: Option<&Path>,
        clear: bool,
    ) -> Result<(), ClientError> {
        let name = name.trim();
        if name.len() > MAX_DISPLAY_NAME_BYTES {
            return Err(ClientError::Invalid(format!(
                "a display name has at most {MAX_DISPLAY_NAME_BYTES} bytes"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(ClientError::Invalid(
                "a display name is one line of text".into(),
            ));
        }
        let avatar = match avatar {
            Some(path) => Some(crate::thumbnail::avatar_of_file(path).ok_or_else(|| {
                ClientError::Invalid("the picture is not a PNG or JPEG image".into())
            })?),
            None => None,
        };
        let me = self.me.username.clone();
        let own = Some(self.me.device_id);
        let version = newest_key(&self.conn, &me, own)?.map_or(0, |k| k.1 as u64) + 1;
        let key = ProfileKey::random();
        let profile = Profile {
            username: me.clone(),
            version,
            name: name.to_owned(),
            avatar: avatar.clone().map(Into::into),
        };
        if clear {
            self.transport.delete_profile().await?;
        } else {
            let sealed = profile_seal::seal(&key, &profile);
            self.transport.put_profile(sealed).await?;
        }
        let tx = self.conn.unchecked_transaction()?;
        learn_key(
            &tx,
            &me,
            self.me.device_id,
            &self.me.signature_public,
            (key.0, version),
        )?;
        fetched(&tx, &me, version as i64)?;
        if clear {
            tx.execute("DELETE FROM profiles WHERE username = ?1", [me.as_str()])?;
        } else {
            tx.execute(
                "INSERT OR REPLACE INTO profiles (username, name, avatar) VALUES (?1, ?2, ?3)",
                params![me.as_str(), name, avatar],
            )?;
        }
        tx.commit()?;
        self.share_profile_key()?;
        self.flush_outbox().await?;
        Ok(())
    }

    /// This account's profile as its devices show it, if it stored one.
    pub fn my_profile(&self) -> Result<Option<ShownProfile>, ClientError> {
        shown(&self.conn, &self.me.username)
    }

    /// `user`'s profile as this device opened it.
    pub fn profile_of(&self, user: &Username) -> Result<Option<ShownProfile>, ClientError> {
        shown(&self.conn, user)
    }

    /// Queues this account's newest profile key in each active conversation that has not
    /// had it. Does nothing before the account has a profile key.
    pub(crate) fn share_profile_key(&mut self) -> Result<(), ClientError> {
        let me = self.me.username.clone();
        let Some((key, version)) = newest_key(&self.conn, &me, Some(self.me.device_id))? else {
            return Ok(());
        };
        let Ok(key) = <[u8; 32]>::try_from(key) else {
            return Err(ClientError::corrupt("profile key"));
        };
        for conversation in local::conversations(&self.conn)? {
            let shared: Option<i64> = self
                .conn
                .prepare_cached("SELECT version FROM profile_shares WHERE group_id = ?1")?
                .query_row([conversation.id.as_bytes()], |r| r.get(0))
                .optional()?;
            if !conversation.active || shared == Some(version) {
                continue;
            }
            if crate::blocking::check_not_blocked(&self.conn, &conversation.id).is_err() {
                continue;
            }
            let body = Body::ProfileKey {
                key: hex::encode(key),
                version: version as u64,
            };
            self.queue_envelope(&conversation.id, body)?;
            self.conn.execute(
                "INSERT OR REPLACE INTO profile_shares (group_id, version) VALUES (?1, ?2)",
                params![conversation.id.as_bytes(), version],
            )?;
        }
        Ok(())
    }

    /// Fetches and opens each profile whose key is newer than the last opened, from a
    /// device the key directory verified. A network failure leaves the rest for the next
    /// sync.
    pub(crate) async fn refresh_profiles(&mut self) -> Result<(), ClientError> {
        let due: Vec<String> = self
            .conn
            .prepare_cached(&format!("SELECT DISTINCT k.username {}", due_keys()))?
            .query_map([rusqlite::types::Null], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for user in due.iter().filter_map(|u| Username::parse(u).ok()) {
            let Some((key, version)) = newest_key(&self.conn, &user, None)? else {
                continue;
            };
            let sealed = match self.transport.profile(user.as_str()).await {
                Ok(sealed) => sealed,
                Err(err) if err.is_retryable() => return Ok(()),
                Err(err) => return Err(err),
            };
            let key = ProfileKey(
                key.try_into()
                    .map_err(|_| ClientError::corrupt("profile key"))?,
            );
            let tx = self.conn.unchecked_transaction()?;
            match sealed {
                None => {
                    tx.execute("DELETE FROM profiles WHERE username = ?1", [user.as_str()])?;
                }
                Some(sealed) => match profile_seal::open(&key, &user, version as u64, &sealed) {
                    Some(profile) => {
                        tx.execute(
                            "INSERT OR REPLACE INTO profiles (username, name, avatar)
                             VALUES (?1, ?2, ?3)",
                            params![
                                user.as_str(),
                                profile.name,
                                profile.avatar.map(|a| a.into_inner())
                            ],
                        )?;
                    }
                    None => tracing::debug!("a fetched profile did not open: kept the last"),
                },
            }
            fetched(&tx, &user, version)?;
            tx.commit()?;
        }
        Ok(())
    }
}
