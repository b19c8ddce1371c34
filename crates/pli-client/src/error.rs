//! The one error type callers of the client library branch on.

use pli_proto::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused the request with a stable code.
    #[error("server refused the request ({code}): {message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The server could not be reached or the connection broke; the operation may be
    /// retried, and queued messages are kept for the next attempt.
    #[error("cannot reach the server")]
    Transport(#[source] TransportError),
    /// The server answered something that is not pli's protocol.
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("this home has no registered device; run `pli register` first")]
    NotRegistered,
    #[error("this home already holds a registered device")]
    AlreadyRegistered,
    #[error("no conversation matches {0}")]
    UnknownConversation(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the user has no device that can be added right now")]
    NoKeyPackage,
    #[error("the group changed too many times while retrying; try again")]
    Contention,
    #[error("local storage failed")]
    Storage(#[source] StorageError),
    /// openmls refused or failed an operation; its own error is the source (a caller can
    /// downcast it to the operation's error type).
    #[error("MLS operation failed")]
    Mls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A key the server handed out is not the one the key directory lists: refused.
    #[error("the key directory does not list {0}'s key: refused")]
    NotInDirectory(String),
    /// The key directory's proofs or signed roots did not check out.
    #[error("the key directory did not verify: {0}")]
    Directory(String),
    /// The server showed this device two different roots for one epoch.
    #[error("the key directory showed two different roots for epoch {0}")]
    SplitView(u64),
    /// A member of the conversation has a key the directory does not list.
    #[error(
        "a member of this conversation has a key the directory does not list; nothing was sent"
    )]
    UntrustedMember,
    /// An attachment's bytes do not match the message that shared it: the server swapped
    /// or altered the blob, or the sender's key does not open it. Nothing of it is shown.
    #[error("the attachment does not match its message: it was altered, and is refused")]
    AttachmentTampered,
    /// The public audit log does not extend what this party verified before: rewritten or
    /// cut back by its operator.
    #[error(transparent)]
    AuditLog(#[from] crate::audit_state::WatchError),
}

/// Why the server could not be reached, or the connection broke.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// An HTTP request failed (its URL left out of the text: no secret is in it, but it is
    /// noise to a user).
    #[error("HTTP")]
    Http(#[source] reqwest::Error),
    /// The delivery WebSocket failed.
    #[error("WebSocket")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// The server ended a stream before it said it was done.
    #[error("the server closed the stream early")]
    ClosedEarly,
    /// The server's node is shutting down and closed the stream politely: reconnect now
    /// (another node takes over).
    #[error("the server's node is shutting down")]
    ServerDraining,
}

/// Why the device's local storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the home's database")]
    Sqlite(#[from] rusqlite::Error),
    /// A file of the home (its directory, its lock, a key file) could not be used.
    #[error("{what}")]
    File {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A stored value no longer decodes: the home was damaged or written by something else.
    #[error("corrupt stored {0}")]
    Corrupt(&'static str),
    /// openmls's storage (its tables in the home's database) failed.
    #[error("the MLS state store failed")]
    MlsState(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ClientError {
    /// The error and each of its causes, as one line (`cannot reach the server: …`): for
    /// the notices the client shows a person, where only text travels.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            text += ": ";
            text += &err.to_string();
            cause = err.source();
        }
        text
    }

    /// A stored value that no longer decodes.
    pub(crate) fn corrupt(what: &'static str) -> Self {
        ClientError::Storage(StorageError::Corrupt(what))
    }

    /// A file of the home that could not be used.
    pub(crate) fn file(what: &'static str) -> impl Fn(std::io::Error) -> Self + Copy {
        move |source| ClientError::Storage(StorageError::File { what, source })
    }

    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn is_transport(&self) -> bool {
        matches!(self, ClientError::Transport(_))
    }

    /// Worth trying again later: the server was unreachable, busy, or asked us to slow down.
    /// Messages in the outbox stay there.
    pub fn is_retryable(&self) -> bool {
        self.is_transport()
            || matches!(
                self.code(),
                Some(ErrorCode::RateLimited | ErrorCode::OverCapacity | ErrorCode::DirectoryBusy)
            )
    }

    /// The key directory's proofs or roots did not check out, for this reason.
    pub(crate) fn directory(what: impl std::fmt::Display) -> Self {
        ClientError::Directory(what.to_string())
    }

    pub(crate) fn mls(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ClientError::Mls(Box::new(err))
    }

    /// For the few openmls errors that implement only `Debug` (a signer's).
    pub(crate) fn mls_debug(err: impl std::fmt::Debug) -> Self {
        ClientError::Mls(format!("{err:?}").into())
    }
}

impl From<rusqlite::Error> for ClientError {
    fn from(err: rusqlite::Error) -> Self {
        ClientError::Storage(StorageError::Sqlite(err))
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest's text may include the URL; ours has no secrets in it (credentials travel
        // in a header), so it is safe to show the user.
        ClientError::Transport(TransportError::Http(err.without_url()))
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    fn from(err: tokio_tungstenite::tungstenite::Error) -> Self {
        ClientError::Transport(TransportError::WebSocket(Box::new(err)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// A refused connection is a transport error whose cause is reqwest's own, reachable
    /// through `source()`, and shown with its cause.
    #[tokio::test]
    async fn a_refused_connection_keeps_its_cause() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let transport =
            crate::transport::Transport::new(&format!("http://{addr}"), None).expect("client");
        let err = transport.policy().await.expect_err("nothing listens");
        assert!(err.is_retryable(), "{err:?}");
        let ClientError::Transport(TransportError::Http(cause)) = &err else {
            panic!("a transport error: {err:?}")
        };
        assert!(cause.is_connect());
        let source = err.source().expect("a source");
        assert!(source.downcast_ref::<TransportError>().is_some());
        let reqwest = source.source().expect("reqwest's error");
        assert!(reqwest.downcast_ref::<reqwest::Error>().is_some());
        assert!(
            err.chain().starts_with("cannot reach the server: "),
            "{}",
            err.chain()
        );
    }

    /// A database failure keeps rusqlite's error as its cause.
    #[test]
    fn a_storage_failure_keeps_the_database_error() {
        let conn = rusqlite::Connection::open_in_memory().expect("db");
        let err: ClientError = conn
            .execute("INSERT INTO nowhere VALUES (1)", [])
            .expect_err("no such table")
            .into();
        let ClientError::Storage(StorageError::Sqlite(_)) = &err else {
            panic!("a storage error: {err:?}")
        };
        let cause = err
            .source()
            .and_then(|s| s.source())
            .expect("the database's error");
        assert!(cause.downcast_ref::<rusqlite::Error>().is_some());
        assert!(err.chain().contains("no such table"), "{}", err.chain());
    }
}
