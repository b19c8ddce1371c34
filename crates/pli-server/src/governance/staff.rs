//! Staff credentials: made here, for `pli admin init` (no HTTP involved) and the admin
//! API alike. A credential's secret is shown once; only its hash is stored.

use crate::accounts::hash_secret;
use crate::store::StaffRecord;
use pli_proto::governance::{NewStaff, StaffCredential};
use rand::Rng;

/// A staff name that breaks the naming rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a staff name has 1 to 64 of a-z A-Z 0-9 - _ .")]
pub struct InvalidStaffName;

/// A fresh staff secret: 32 random bytes, in hex.
pub fn new_secret() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// Staff names are plain tokens, so they read the same in logs, lists and the audit log.
pub fn check_name(name: &str) -> Result<(), InvalidStaffName> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then_some(()).ok_or(InvalidStaffName)
}

/// Makes a staff record and the credential that goes with it (shown once).
pub fn new_staff(request: &NewStaff) -> (StaffRecord, StaffCredential) {
    let id = rand::rng().random_range(1..(1u64 << 31));
    let secret = new_secret();
    let record = StaffRecord {
        id,
        name: request.name.clone(),
        role: request.role,
        secret_hash: hash_secret(&secret),
    };
    let credential = StaffCredential {
        staff_id: id,
        name: request.name.clone(),
        role: request.role,
        secret,
        server: None,
    };
    (record, credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_names_are_plain_tokens() {
        assert!(check_name("legal-1.fr_b").is_ok());
        for bad in ["", "a b", "é", &"x".repeat(65), "a/b"] {
            assert_eq!(check_name(bad), Err(InvalidStaffName), "{bad:?}");
        }
    }
}
