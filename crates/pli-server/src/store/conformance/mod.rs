//! The behaviour every `Store` backend must show. Each check is a plain async function over
//! any `S: Store`; [`conformance_tests!`](crate::conformance_tests) turns them into one
//! `#[tokio::test]` per check for a backend, given an expression that makes a fresh store
//! (and a guard that keeps its resources alive).

mod accounts;
mod directory;
mod governance;
mod key_packages;
mod leases;
mod moving;
mod queue;

pub use accounts::*;
pub use directory::*;
pub use governance::*;
pub use key_packages::*;
pub use leases::*;
pub use moving::*;
pub use queue::*;

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
    }
}

/// Expands to one test per conformance check for a backend. `$make` is a block evaluating
/// to `(store, guard)`; the guard (a temp dir, a database cluster) lives as long as the test.
#[macro_export]
macro_rules! conformance_tests {
    ($make:block) => {
        $crate::conformance_tests!(@each $make;
            accounts_are_unique_and_authenticate,
            lists_devices_or_none_for_unknown_users,
            key_packages_are_claimed_once_then_last_resort,
            key_package_limit_refuses_whole_upload,
            expired_key_packages_are_never_handed_out_and_expiring_ones_are_replaced,
            key_packages_without_a_recorded_lifetime_are_valid_but_expiring,
            commits_compare_and_set_the_epoch,
            racing_commits_accept_exactly_one,
            application_messages_need_a_known_group_and_current_epoch,
            submit_is_all_or_nothing,
            queue_depth_is_enforced,
            a_large_group_is_queued_all_or_nothing,
            fetch_pages_in_order_and_ack_removes_only_acked,
            ws_tickets_work_once_and_expire,
            readers_paging_during_concurrent_writes_miss_nothing,
            concurrent_claims_hand_each_package_out_once,
            leases_run_each_job_on_one_holder,
            server_secrets_are_created_once,
            audit_appends_are_serial_and_apply_their_effect_or_nothing,
            holds_keep_the_later_date_and_notices_release_once,
            staff_are_rotated_re_roled_and_revoked_but_an_operator_remains,
            concurrent_removals_leave_one_operator,
            the_index_gives_each_name_one_region,
            epoch_and_queues_as_separate_steps,
            an_exported_account_imports_whole_and_erases_without_trace,
            retention_expires_old_queues_except_held_accounts,
            a_deleted_account_keeps_only_its_facts_until_erased,
            connection_ips_are_kept_until_their_period_ends,
            akd_storage_test_cases_pass,
            directory_changes_wait_until_published,
            a_directory_reopens_with_the_same_roots_and_proofs,
            devices_are_added_with_their_endorsement_and_removed_alone,
        );
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
