//! Key transparency: what the directory says about a user, and how a client checks it.
//!
//! The server publishes one `akd` directory mapping each username to the set of its
//! devices' signature keys. Every published epoch has a root hash, signed as a checkpoint in
//! the same signed-note format as the audit log (origin `<host>/kt`, size = epoch). This
//! module is the verify-only core shared by the server, clients and outside auditors:
//! - the directory's value format ([`DirectoryDevice`], [`encode_devices`],
//!   [`decode_devices`]) and the endorsement a device signs when it adds another;
//! - [`verify_lookup`] and [`verify_history`]: akd proofs checked against a verified root;
//! - the API bodies of `/v1/directory/…`.
//!
//! Proofs travel as akd's protobuf encodings, base64 in JSON, so any akd client can check
//! them without pli's code.

mod devices;
mod domain;
mod responses;
mod safety;
mod verify;

pub use devices::{
    DirectoryDevice, Endorsement, LinkedDirectoryKeys, decode_devices, encode_devices,
    endorsement_message,
};
pub use domain::{KtConfig, KtError, MAX_DIRECTORY_DEVICES, PliDirectory, label, origin};
pub use responses::*;
pub use safety::safety_code;
pub use verify::{KeyHistory, VerifiedLookup, unexplained_devices, verify_history, verify_lookup};

#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod tests;
