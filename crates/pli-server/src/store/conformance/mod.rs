//! The behaviour every `Store` backend must show. Each check is a plain async function over
//! any `S: Store`; [`conformance_tests!`](crate::conformance_tests) turns them into one
//! `#[tokio::test]` per check for a backend, given an expression that makes a fresh store
//! (and a guard that keeps its resources alive).

mod accounts;
mod attachments;
mod directory;
mod governance;
mod key_packages;
mod leases;
mod moderation;
mod moving;
mod queue;
mod reports;
mod second_factors;
mod timed;

pub use accounts::*;
pub use attachments::*;
pub use directory::*;
pub use governance::*;
pub use key_packages::*;
pub use leases::*;
pub use moderation::*;
pub use moving::*;
pub use queue::*;
pub use reports::*;
pub use second_factors::*;
pub use timed::*;

use crate::store::{EpochRule, NewAccount, Store, Submission};
use pli_proto::{DeviceId, GroupId, Username};

pub(crate) fn name(text: &str) -> Username {
    Username::parse(text).expect("test usernames are valid")
}

pub(crate) fn dev(id: u64) -> DeviceId {
    DeviceId::new(id).expect("test device ids are valid")
}

pub(crate) fn group(byte: u8) -> GroupId {
    GroupId::from_bytes(&[byte; 16]).expect("16 bytes is a valid group id")
}

pub(crate) async fn register<S: Store>(store: &S, user: &str, device: u64) {
    store
        .create_account(NewAccount {
            region: pli_proto::Region::parse("default").expect("region"),
            username: name(user),
            device_id: dev(device),
            secret_hash: [device as u8; 32],
            signature_key: vec![device as u8; 32],
            created_day: 20_000,
        })
        .await
        .expect("create account");
}

pub(crate) fn submission(g: &GroupId, rule: EpochRule, payload: &[u8], to: &[u64]) -> Submission {
    Submission {
        group: g.clone(),
        rule,
        payload: payload.to_vec(),
        recipients: to.iter().map(|d| dev(*d)).collect(),
        welcome: None,
        now_ms: 1_000,
        max_queue_depth: 100,
        expires_ms: None,
    }
}

/// Expands to one test per conformance check for a backend. `$make` is a block evaluating
/// to `(store, guard)`; the guard (a temp dir, a database cluster) lives as long as the test.
/// Each domain's file lists its own checks (`conformance_accounts!` and so on), so a new
/// check touches that file only.
#[macro_export]
macro_rules! conformance_tests {
    ($make:block) => {
        $crate::conformance_accounts!($make);
        $crate::conformance_key_packages!($make);
        $crate::conformance_queue!($make);
        $crate::conformance_leases!($make);
        $crate::conformance_governance!($make);
        $crate::conformance_directory!($make);
        $crate::conformance_moving!($make);
        $crate::conformance_second_factors!($make);
        $crate::conformance_reports!($make);
        $crate::conformance_moderation!($make);
        $crate::conformance_timed!($make);
        $crate::conformance_attachments!($make);
    };
    (@each $make:block; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, _guard) = $make;
                $crate::store::conformance::$check(store).await;
            }
        )*
    };
}
