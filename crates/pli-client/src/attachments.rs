//! Sharing a file: encrypted on this device ([`crate::attachment_crypto`]), uploaded in
//! chunks for the conversation's other devices, then announced by a
//! [`Body::Attachment`] message that carries its key and ciphertext hash.
//!
//! - **Upload, resumable.** The file is encrypted once into the home's `attachments/`
//!   directory (the sender's own copy), the upload and the message it waits for are
//!   recorded (`attachment_uploads`), and chunks go up from where the server says it has
//!   them. A network drop leaves the record: the next [`Client::sync`] finishes the upload
//!   and sends the message.
//! - **Download, verified.** A recipient fetches the ciphertext once into the same
//!   directory, checks its hash against the message before anything else, tells the
//!   server it has it (the last recipient's word deletes the blob), and decrypts on
//!   demand. The copy at rest stays ciphertext: deleting the message's row (disappearing,
//!   deleted for everyone) takes the key with it, and the file goes at the next sync.

use crate::attachment_crypto::{FileKey, cipher_offset, open_chunk, plain_pieces, seal_chunk};
use crate::attachment_records::file_of;
pub use crate::attachment_records::{Attachment, find, media_type_of, of_message, size_words};
use crate::client::Client;
use crate::error::ClientError;
use crate::local;
use crate::mls::{self, Storage};
use crate::sync::Sent;
use openmls::prelude::MlsGroup;
use pli_proto::GroupId;
use pli_proto::attachment::{
    AttachmentId, AttachmentRef, CreateAttachmentRequest, MAX_ATTACHMENT_NAME_BYTES, chunk_count,
    chunk_len, cipher_len,
};
use pli_proto::payload::Body;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Encrypts `source` into `dest` under `key`; returns the ciphertext's SHA-256.
fn encrypt_file(
    source: &Path,
    dest: &Path,
    key: &FileKey,
    plain: u64,
) -> Result<[u8; 32], ClientError> {
    let mut input =
        std::fs::File::open(source).map_err(ClientError::file("cannot read the file to send"))?;
    let mut output = std::fs::File::create(dest).map_err(ClientError::file(
        "cannot write the attachment's ciphertext",
    ))?;
    let chunks = chunk_count(cipher_len(plain));
    let mut hash = Sha256::new();
    let mut buffer = Vec::new();
    for (index, (_, len)) in plain_pieces(plain).enumerate() {
        buffer.resize(len, 0);
        input
            .read_exact(&mut buffer)
            .map_err(ClientError::file("the file changed while it was read"))?;
        let sealed = seal_chunk(key, index as u32, chunks, &buffer);
        hash.update(&sealed);
        output.write_all(&sealed).map_err(ClientError::file(
            "cannot write the attachment's ciphertext",
        ))?;
    }
    output.sync_all().map_err(ClientError::file(
        "cannot write the attachment's ciphertext",
    ))?;
    Ok(hash.finalize().into())
}

/// Chunk `index` of the ciphertext file `path`.
fn read_chunk(path: &Path, cipher: u64, index: u32) -> Result<Vec<u8>, ClientError> {
    let len = chunk_len(cipher, index)
        .ok_or_else(|| ClientError::Invalid("a chunk past the attachment's end".into()))?;
    let mut file =
        std::fs::File::open(path).map_err(ClientError::file("cannot read the attachment"))?;
    file.seek(SeekFrom::Start(cipher_offset(index)))
        .map_err(ClientError::file("cannot read the attachment"))?;
    let mut chunk = vec![0; len];
    file.read_exact(&mut chunk)
        .map_err(ClientError::file("cannot read the attachment"))?;
    Ok(chunk)
}

impl Client {
    /// Encrypts the file at `path`, uploads it for the conversation's other devices and
    /// shares it with `caption`. An upload the network interrupts is finished by the next
    /// [`Client::sync`], which then sends the message.
    pub async fn send_attachment(
        &mut self,
        conversation: &GroupId,
        path: &Path,
        caption: &str,
    ) -> Result<Sent, ClientError> {
        self.sync_inbound().await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n.len() <= MAX_ATTACHMENT_NAME_BYTES)
            .ok_or_else(|| {
                ClientError::Invalid("the file needs a name of at most 255 bytes".into())
            })?;
        let plain = std::fs::metadata(path)
            .map_err(ClientError::file("cannot read the file to send"))?
            .len();
        let recipients = self.other_devices(conversation)?;
        if recipients.is_empty() {
            return Err(ClientError::Invalid(
                "nobody else is in this conversation yet".into(),
            ));
        }
        let created = self
            .transport
            .create_attachment(&CreateAttachmentRequest {
                size: cipher_len(plain),
                recipients,
                // The blob goes from the server no later than its message disappears.
                expires_in_secs: crate::disappearing::timer_of(&self.conn, conversation)?,
            })
            .await?;
        let key = FileKey::random();
        let file = file_of(&self.conn, &created.id)?;
        let digest = encrypt_file(path, &file, &key, plain)?;
        let media_type = media_type_of(&name).to_owned();
        let thumbnail = crate::thumbnail::of_file(path, &media_type);
        let body = Body::Attachment {
            attachment: AttachmentRef {
                id: created.id,
                key: hex::encode(key.0),
                digest: hex::encode(digest),
                size: plain,
                name,
                media_type,
                thumbnail: thumbnail.map(Into::into),
            },
            text: caption.to_owned(),
        };
        body.check_limits()
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let json = serde_json::to_string(&body).map_err(|_| {
            ClientError::Invalid("an attachment message that cannot be written".into())
        })?;
        self.conn.execute(
            "INSERT INTO attachment_uploads (attachment_id, group_id, body, created_ms)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                &created.id.0[..],
                conversation.as_bytes(),
                json,
                local::now_ms() as i64
            ],
        )?;
        match self.finish_upload(&created.id).await {
            Ok(()) => self.send_uploaded(&created.id, conversation, body).await,
            // Recorded: the next sync resumes the upload where the server has it, then
            // sends the message.
            Err(err) if err.is_retryable() => Ok(Sent {
                status: crate::sync::SendStatus::Queued,
                message_id: None,
            }),
            Err(err) => Err(err),
        }
    }

    /// Finishes every upload an interruption left and sends its message; returns how many
    /// were sent. Run at each sync.
    pub async fn resume_uploads(&mut self) -> Result<usize, ClientError> {
        let pending: Vec<(Vec<u8>, Vec<u8>, String)> = self
            .conn
            .prepare(
                "SELECT attachment_id, group_id, body FROM attachment_uploads ORDER BY created_ms",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut sent = 0;
        for (id, group, body) in pending {
            let (Ok(id), Some(group), Ok(body)) = (
                <[u8; 16]>::try_from(id).map(AttachmentId),
                GroupId::from_bytes(&group).ok(),
                serde_json::from_str::<Body>(&body),
            ) else {
                continue;
            };
            match self.finish_upload(&id).await {
                Ok(()) => {}
                Err(err) if err.is_retryable() => return Err(err),
                // Expired or refused on the server: the upload cannot finish.
                Err(ClientError::Api { .. }) => {
                    self.drop_upload(&id, Some(&group))?;
                    continue;
                }
                Err(other) => return Err(other),
            }
            self.send_uploaded(&id, &group, body).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Uploads the chunks the server does not have yet.
    async fn finish_upload(&mut self, id: &AttachmentId) -> Result<(), ClientError> {
        let status = self.transport.attachment_status(id).await?;
        let file = file_of(&self.conn, id)?;
        for index in status.received..status.chunks {
            let chunk = read_chunk(&file, status.size, index)?;
            self.transport
                .put_attachment_chunk(id, index, chunk)
                .await?;
        }
        Ok(())
    }

    async fn send_uploaded(
        &mut self,
        id: &AttachmentId,
        conversation: &GroupId,
        body: Body,
    ) -> Result<Sent, ClientError> {
        self.conn.execute(
            "DELETE FROM attachment_uploads WHERE attachment_id = ?1",
            [&id.0[..]],
        )?;
        self.send_body(conversation, body).await
    }

    fn drop_upload(&self, id: &AttachmentId, group: Option<&GroupId>) -> Result<(), ClientError> {
        self.conn.execute(
            "DELETE FROM attachment_uploads WHERE attachment_id = ?1",
            [&id.0[..]],
        )?;
        let _ = std::fs::remove_file(file_of(&self.conn, id)?);
        if let Some(group) = group {
            local::notice(
                &self.conn,
                Some(group),
                false,
                "a file could not be uploaded before the server let it go: send it again",
                local::now_ms(),
            )?;
        }
        Ok(())
    }

    /// The devices of the conversation other than this one.
    fn other_devices(
        &self,
        conversation: &GroupId,
    ) -> Result<Vec<pli_proto::DeviceId>, ClientError> {
        let storage = Storage::new(&self.conn);
        let group = MlsGroup::load(&storage, &mls::group_id(conversation))?
            .ok_or_else(|| ClientError::UnknownConversation(conversation.to_hex()))?;
        Ok(mls::members(&group)
            .into_iter()
            .map(|(_, _, device)| device)
            .filter(|device| *device != self.me.device_id)
            .collect())
    }

    /// The attachment of message `local_id` of `conversation`, if it shares one.
    pub fn attachment_in(
        &self,
        conversation: &GroupId,
        local_id: i64,
    ) -> Result<Option<Attachment>, ClientError> {
        crate::attachment_records::in_conversation(&self.conn, conversation, local_id)
    }

    /// The attachment whose id starts with `prefix` (as `pli sync` prints it).
    pub fn find_attachment(&self, prefix: &str) -> Result<Attachment, ClientError> {
        find(&self.conn, prefix)
    }

    /// Downloads the attachment if this device has not yet, verifies it against its
    /// message, and writes the file to `dest`.
    pub async fn save_attachment(
        &mut self,
        attachment: &Attachment,
        dest: &Path,
    ) -> Result<(), ClientError> {
        let part = dest.with_extension("pli-part");
        let mut out = std::fs::File::create(&part)
            .map_err(ClientError::file("cannot write the saved file"))?;
        // A chunk at a time: a large file is never whole in memory.
        let written = self
            .decrypt_each(attachment, |plain| {
                out.write_all(plain)
                    .map_err(ClientError::file("cannot write the saved file"))
            })
            .await;
        drop(out);
        if let Err(err) = written {
            let _ = std::fs::remove_file(&part);
            return Err(err);
        }
        std::fs::rename(&part, dest).map_err(ClientError::file("cannot write the saved file"))
    }

    /// The attachment's plaintext, downloaded and verified first if need be (for pli app,
    /// which serves it whole).
    pub async fn open_attachment(
        &mut self,
        attachment: &Attachment,
    ) -> Result<Vec<u8>, ClientError> {
        let mut plain = Vec::with_capacity(attachment.size as usize);
        self.decrypt_each(attachment, |chunk| {
            plain.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        Ok(plain)
    }

    /// Downloads and verifies the attachment if need be, then hands `each` its plaintext a
    /// chunk at a time, in order. A chunk that does not open stops it
    /// ([`ClientError::AttachmentTampered`]).
    async fn decrypt_each(
        &mut self,
        attachment: &Attachment,
        mut each: impl FnMut(&[u8]) -> Result<(), ClientError>,
    ) -> Result<(), ClientError> {
        let (key, digest) = self.secrets(attachment.local_id)?;
        let file = file_of(&self.conn, &attachment.id)?;
        let downloaded = self.conn.query_row(
            "SELECT downloaded FROM attachments WHERE local_id = ?1",
            [attachment.local_id],
            |r| r.get::<_, bool>(0),
        )?;
        if !downloaded || !file.exists() {
            self.download(attachment, &file, &digest).await?;
        }
        let cipher = cipher_len(attachment.size);
        let chunks = chunk_count(cipher);
        for index in 0..chunks {
            let sealed = read_chunk(&file, cipher, index)?;
            let opened =
                open_chunk(&key, index, chunks, &sealed).ok_or(ClientError::AttachmentTampered)?;
            each(&opened)?;
        }
        Ok(())
    }

    fn secrets(&self, local_id: i64) -> Result<(FileKey, [u8; 32]), ClientError> {
        let (key, digest): (Vec<u8>, Vec<u8>) = self
            .conn
            .query_row(
                "SELECT file_key, digest FROM attachments WHERE local_id = ?1",
                [local_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| {
                ClientError::Invalid("this device no longer holds that attachment".into())
            })?;
        match (key.try_into(), digest.try_into()) {
            (Ok(key), Ok(digest)) => Ok((FileKey(key), digest)),
            _ => Err(ClientError::Invalid("a malformed attachment row".into())),
        }
    }

    /// Fetches the ciphertext into `file`, refusing it unless its hash is the message's.
    async fn download(
        &mut self,
        attachment: &Attachment,
        file: &Path,
        digest: &[u8; 32],
    ) -> Result<(), ClientError> {
        let cipher = cipher_len(attachment.size);
        let part = file.with_extension("part");
        let mut output = std::fs::File::create(&part)
            .map_err(ClientError::file("cannot write the attachment"))?;
        let mut hash = Sha256::new();
        for index in 0..chunk_count(cipher) {
            let chunk = self
                .transport
                .attachment_chunk(&attachment.id, index)
                .await?;
            if Some(chunk.len()) != chunk_len(cipher, index) {
                let _ = std::fs::remove_file(&part);
                return Err(ClientError::AttachmentTampered);
            }
            hash.update(&chunk);
            output
                .write_all(&chunk)
                .map_err(ClientError::file("cannot write the attachment"))?;
        }
        drop(output);
        if <[u8; 32]>::from(hash.finalize()) != *digest {
            let _ = std::fs::remove_file(&part);
            return Err(ClientError::AttachmentTampered);
        }
        std::fs::rename(&part, file).map_err(ClientError::file("cannot write the attachment"))?;
        // One blob may be named by several messages (a forwarded file, a forged copy): the
        // verified ciphertext serves each, and each opens it with its own key.
        self.conn.execute(
            "UPDATE attachments SET downloaded = 1 WHERE attachment_id = ?1",
            [&attachment.id.0[..]],
        )?;
        // The server deletes the blob once every recipient said so; a failure to say it
        // only leaves the blob to its expiry.
        if let Err(err) = self.transport.attachment_fetched(&attachment.id).await {
            tracing::debug!(error = %err, "could not tell the server an attachment was fetched");
        }
        Ok(())
    }
}
