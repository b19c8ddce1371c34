//! pli-proto: the wire vocabulary of pli, with no I/O.
//!
//! Everything the server and its clients must agree on byte for byte lives here, so both
//! sides (and outside tools) share one definition instead of two that drift:
//!
//! - [`ids`]: validated identifiers (`Username`, `DeviceId`, `GroupId`, `MessageId`,
//!   `Region`).
//! - [`api`]: HTTP + JSON request and response bodies of the control plane.
//! - [`error`]: the stable error codes every API failure carries.
//! - [`frame`]: the binary WebSocket frames of the data plane, with a decoder that never
//!   panics on hostile input.
//! - [`payload`]: the versioned plaintext that travels *inside* MLS application messages.
//! - [`franking`]: message franking, the commitments and server stamps that make abuse
//!   reports verifiable; [`abuse`]: the reports themselves.
//! - [`pow`]: the registration proof-of-work check, shared by the solver and the verifier.
//! - [`limits`]: the documented limits both sides enforce.
//! - [`b64`]: base64 byte strings for JSON.
//! - [`merkle`], [`checkpoint`], [`audit`]: the verify-only core of the audit log (RFC 6962
//!   tree, C2SP signed-note checkpoints, entry format, whole-log verification), shared by
//!   the server, `pli audit` and outside auditors; [`witness`]: C2SP cosignatures by
//!   witnesses that co-sign only checkpoints extending what they saw.
//! - [`kt`]: key transparency: the directory's value format, akd proof checks against
//!   signed roots, and the directory API bodies.
//! - [`governance`]: staff roles, legal bases, data categories, lawful-request bodies.
//! - [`report`]: transparency report periods, figures computed from the log, bands.
//! - [`policy`]: each region's published policy, in figures and in plain words.
//! - [`inventory`]: what a server holds about one account, as staff and the account see it.
//! - `openapi` (feature `openapi`): OpenAPI schemas of the identifiers and error codes, for
//!   the server's `/openapi.json`; the bodies derive theirs where they are defined.
//!
//! This crate is not a client or a server: it never opens a socket or a file. `pli-server`
//! and `pli-client` both depend on it and never on each other.

#![warn(missing_docs)]

pub mod abuse;
pub mod api;
pub mod attachment;
pub mod audit;
pub mod b64;
pub mod call;
pub mod checkpoint;
pub mod error;
pub mod frame;
pub mod franking;
pub mod governance;
pub mod ids;
pub mod inventory;
pub mod kt;
pub mod limits;
pub mod merkle;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod payload;
pub mod policy;
pub mod pow;
pub mod report;
pub mod witness;

pub use error::ErrorCode;
pub use ids::{
    CIPHERSUITE, DeviceId, GroupId, IdError, MessageId, Region, Username, credential_identity,
    parse_credential_identity,
};
