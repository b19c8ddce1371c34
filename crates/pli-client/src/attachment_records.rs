//! What this device keeps of the files shared in its conversations: a row per attachment
//! message (the blob's id, key, ciphertext hash, name, type, thumbnail, whether the
//! verified ciphertext is here) and the ciphertext files in the home's `attachments/`
//! directory. Receiving, sending, deleting and disappearing messages write these rows;
//! [`crate::attachments`] uploads and downloads.

use crate::error::ClientError;
use pli_proto::attachment::{AttachmentId, AttachmentRef};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The directory in the home that holds attachment ciphertexts.
const DIRECTORY: &str = "attachments";

/// An attachment as this device holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    /// The message's local id.
    pub local_id: i64,
    #[serde(serialize_with = "hex_id")]
    pub id: AttachmentId,
    pub name: String,
    pub media_type: String,
    /// Plaintext bytes.
    pub size: u64,
    #[serde(skip)]
    pub thumbnail: Option<Vec<u8>>,
    /// Whether its verified ciphertext is on this device.
    pub downloaded: bool,
}

fn hex_id<S: serde::Serializer>(id: &AttachmentId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_hex())
}

impl Attachment {
    /// The short id `pli sync` prints and `pli attachment save` takes.
    pub fn short_id(&self) -> String {
        self.id.to_hex()[..8].to_owned()
    }
}

/// The media type a file name suggests; `application/octet-stream` when it suggests none.
pub fn media_type_of(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("wav") => "audio/wav",
        Some("ogg" | "opus") => "audio/ogg",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("webm") => "audio/webm",
        Some("mp4") => "video/mp4",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        _ => "application/octet-stream",
    }
}

/// The home's attachment directory, beside the database.
fn directory(conn: &Connection) -> Result<PathBuf, ClientError> {
    let db = conn
        .path()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ClientError::Invalid("this home has no directory for files".into()))?;
    let dir = Path::new(db)
        .parent()
        .unwrap_or(Path::new("."))
        .join(DIRECTORY);
    std::fs::create_dir_all(&dir)
        .map_err(ClientError::file("cannot create the attachment directory"))?;
    Ok(dir)
}

pub(crate) fn file_of(conn: &Connection, id: &AttachmentId) -> Result<PathBuf, ClientError> {
    Ok(directory(conn)?.join(id.to_hex()))
}

/// A byte count as people read it: `512 B`, `97.6 KiB`, `2.5 MiB`.
pub fn size_words(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / KIB / KIB)
    }
}

/// Records what an attachment message shared, for the message at `local_id`.
pub(crate) fn record(
    tx: &Connection,
    local_id: i64,
    shared: &AttachmentRef,
    downloaded: bool,
) -> Result<(), ClientError> {
    let (Some(key), Some(digest)) = (shared.key_bytes(), shared.digest_bytes()) else {
        return Err(ClientError::Invalid("a malformed attachment".into()));
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO attachments
             (local_id, attachment_id, file_key, digest, size, name, media_type, thumbnail, downloaded)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        local_id,
        &shared.id.0[..],
        &key[..],
        &digest[..],
        shared.size as i64,
        shared.name,
        shared.media_type,
        shared.thumbnail.as_ref().map(|t| t.as_slice()),
        downloaded
    ])?;
    Ok(())
}

/// Forgets the attachment of the message at `local_id` (deleted for everyone): its key
/// goes now, its file at the next sync.
pub(crate) fn forget(tx: &Connection, local_id: i64) -> Result<(), ClientError> {
    tx.prepare_cached("DELETE FROM attachments WHERE local_id = ?1")?
        .execute([local_id])?;
    Ok(())
}

/// The attachment of the message at `local_id`, if it shared one.
pub fn of_message(conn: &Connection, local_id: i64) -> Result<Option<Attachment>, ClientError> {
    Ok(conn
        .prepare_cached(
            "SELECT local_id, attachment_id, name, media_type, size, thumbnail, downloaded
             FROM attachments WHERE local_id = ?1",
        )?
        .query_row([local_id], read_row)
        .optional()?)
}

/// The attachment of the message at `local_id`, if that message is in `conversation`.
pub fn in_conversation(
    conn: &Connection,
    conversation: &pli_proto::GroupId,
    local_id: i64,
) -> Result<Option<Attachment>, ClientError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.local_id, a.attachment_id, a.name, a.media_type, a.size, a.thumbnail,
                    a.downloaded
             FROM attachments a JOIN messages m ON m.local_id = a.local_id
             WHERE a.local_id = ?1 AND m.group_id = ?2",
        )?
        .query_row(params![local_id, conversation.as_bytes()], read_row)
        .optional()?)
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    let id: Vec<u8> = r.get(1)?;
    Ok(Attachment {
        local_id: r.get(0)?,
        id: AttachmentId(id.try_into().unwrap_or([0; 16])),
        name: r.get(2)?,
        media_type: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        thumbnail: r.get(5)?,
        downloaded: r.get(6)?,
    })
}

/// The attachment whose id (hex) starts with `prefix`; refused when none or several do.
pub fn find(conn: &Connection, prefix: &str) -> Result<Attachment, ClientError> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.len() < 4 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ClientError::Invalid(
            "an attachment id is at least 4 hex digits, as `pli sync` prints it".into(),
        ));
    }
    let mut st = conn.prepare_cached(
        "SELECT local_id, attachment_id, name, media_type, size, thumbnail, downloaded
         FROM attachments WHERE substr(hex(attachment_id), 1, ?2) = upper(?1)",
    )?;
    let found = st
        .query_map(params![prefix, prefix.len() as i64], read_row)?
        .collect::<Result<Vec<_>, _>>()?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ClientError::Invalid(format!(
            "no attachment has the id {prefix}"
        ))),
        _ => Err(ClientError::Invalid(format!(
            "several attachments start with {prefix}: give more of the id"
        ))),
    }
}

/// Deletes the files of attachments this device no longer holds a key for.
pub(crate) fn remove_orphan_files(conn: &Connection) -> Result<usize, ClientError> {
    let dir = directory(conn)?;
    let mut removed = 0;
    let entries = std::fs::read_dir(&dir).map_err(ClientError::file("cannot list attachments"))?;
    let mut held = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM attachments WHERE attachment_id = ?1)
             OR EXISTS (SELECT 1 FROM attachment_uploads WHERE attachment_id = ?1)",
    )?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stem = name.strip_suffix(".part").unwrap_or(&name);
        let kept = match AttachmentId::parse(stem) {
            Some(id) => held.query_row([&id.0[..]], |r| r.get::<_, bool>(0))?,
            None => true,
        };
        if !kept && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
