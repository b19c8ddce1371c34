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
    #[error("cannot reach the server: {0}")]
    Transport(String),
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
    #[error("local storage failed: {0}")]
    Storage(String),
    #[error("MLS operation failed: {0}")]
    Mls(String),
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
    /// The public audit log does not extend what this party verified before: rewritten or
    /// cut back by its operator.
    #[error(transparent)]
    AuditLog(#[from] crate::audit_state::WatchError),
}

impl ClientError {
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

    pub(crate) fn mls(err: impl std::fmt::Display) -> Self {
        ClientError::Mls(err.to_string())
    }
}

impl From<rusqlite::Error> for ClientError {
    fn from(err: rusqlite::Error) -> Self {
        ClientError::Storage(err.to_string())
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest's text may include the URL; ours has no secrets in it (credentials travel
        // in a header), so it is safe to show the user.
        ClientError::Transport(err.without_url().to_string())
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for ClientError {
    fn from(err: tokio_tungstenite::tungstenite::Error) -> Self {
        ClientError::Transport(err.to_string())
    }
}
