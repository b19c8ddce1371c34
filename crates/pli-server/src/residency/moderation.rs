//! [`Regional`] as a [`ModerationStore`]: an account's actions and standing live in its
//! home region's store, beside its account row.
//!
//! Everything that names the account goes to its home region. Only the lookups by id
//! (`action`, `decide_appeal`) ask region after region: ids are random across regions, so
//! at most one holds an action. Writes hold off moves, so an action is never recorded in a
//! region the account has just left.

use super::Regional;
use crate::store::{Decision, ModerationExport, ModerationStore, NewAction, Store, StoreError};
use pli_proto::Username;
use pli_proto::abuse::ActionView;

impl<S: Store> ModerationStore for Regional<S> {
    /// An account the server does not hold is [`StoreError::UnknownAccount`].
    async fn record_action(&self, action: NewAction) -> Result<u64, StoreError> {
        let _no_move = self.no_move().await;
        let store = self
            .user_store(&action.account)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        store.record_action(action).await
    }

    async fn action(&self, id: u64) -> Result<Option<ActionView>, StoreError> {
        for (_, store) in &self.inner.regions {
            if let Some(action) = store.action(id).await? {
                return Ok(Some(action));
            }
        }
        Ok(None)
    }

    async fn actions_about(&self, account: &Username) -> Result<Vec<ActionView>, StoreError> {
        match self.user_store(account).await? {
            Some(store) => store.actions_about(account).await,
            None => Ok(Vec::new()),
        }
    }

    /// The account's own region holds the actions about it; any other answers
    /// [`StoreError::UnknownAction`], as an action about someone else must.
    async fn file_appeal(
        &self,
        id: u64,
        account: &Username,
        text: String,
        filed_ms: u64,
    ) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        let store = self
            .user_store(account)
            .await?
            .ok_or(StoreError::UnknownAction)?;
        store.file_appeal(id, account, text, filed_ms).await
    }

    async fn decide_appeal(&self, id: u64, decision: Decision) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        for (_, store) in &self.inner.regions {
            match store.decide_appeal(id, decision.clone()).await {
                Err(StoreError::UnknownAction) => continue,
                done => return done,
            }
        }
        Err(StoreError::UnknownAction)
    }

    /// One index lookup (the global store's) and one primary-key read in the home region.
    async fn suspended_until(
        &self,
        account: &Username,
        now_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        match self.user_store(account).await? {
            Some(store) => store.suspended_until(account, now_ms).await,
            None => Ok(None),
        }
    }

    /// The home region's (the move in `moving.rs` asks each region's store itself).
    async fn export_moderation(&self, account: &Username) -> Result<ModerationExport, StoreError> {
        match self.user_store(account).await? {
            Some(store) => store.export_moderation(account).await,
            None => Ok(ModerationExport {
                account: account.clone(),
                suspended_until_ms: None,
                actions: Vec::new(),
            }),
        }
    }

    async fn import_moderation(&self, moved: ModerationExport) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        let store = self
            .user_store(&moved.account)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        store.import_moderation(moved).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{dev, name};
    use crate::store::{AccountStore, FOREVER_MS, NewAccount, ResidencyStore, SqliteStore};
    use pli_proto::Region;
    use pli_proto::abuse::{ActionKind, AppealOutcome};

    fn region(text: &str) -> Region {
        Region::parse(text).expect("region")
    }

    /// Actions and the standing land in the account's home region, are found by id from
    /// any, are appealed and decided there, and move with the account under their ids.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn actions_live_in_the_accounts_home_region_and_move_with_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let open = |file: &str| SqliteStore::open(&dir.path().join(file)).expect("open");
        let store = Regional::new(
            open("global.db"),
            vec![(region("eu"), open("eu.db")), (region("us"), open("us.db"))],
        );
        for (user, home, device) in [("alice", "eu", 1), ("bob", "us", 2)] {
            store
                .create_account(NewAccount {
                    region: region(home),
                    username: name(user),
                    device_id: dev(device),
                    secret_hash: [device as u8; 32],
                    signature_key: vec![device as u8; 32],
                    created_day: 20_000,
                })
                .await
                .expect("register");
        }
        let eu = store.region_store(&region("eu")).expect("eu").clone();
        let us = store.region_store(&region("us")).expect("us").clone();
        let ban = |account: &str| NewAction {
            account: name(account),
            kind: ActionKind::Ban,
            until_ms: Some(FOREVER_MS),
            reason: "spam".to_owned(),
            staff_id: 7,
            report_id: None,
            created_ms: 1_000,
        };
        let id = store.record_action(ban("bob")).await.expect("recorded");
        assert!(us.action(id).await.expect("read").is_some());
        assert!(eu.action(id).await.expect("read").is_none());
        assert_eq!(
            store.action(id).await.expect("read").map(|a| a.id),
            Some(id)
        );
        assert_eq!(
            store
                .suspended_until(&name("bob"), 1_000)
                .await
                .expect("standing"),
            Some(FOREVER_MS)
        );
        assert_eq!(
            eu.suspended_until(&name("bob"), 1_000)
                .await
                .expect("standing"),
            None
        );
        let unknown = store.record_action(ban("zed")).await;
        assert!(
            matches!(unknown, Err(StoreError::UnknownAccount)),
            "{unknown:?}"
        );
        let by_alice = store
            .file_appeal(id, &name("alice"), "not mine".into(), 1_100)
            .await;
        assert!(
            matches!(by_alice, Err(StoreError::UnknownAction)),
            "{by_alice:?}"
        );
        store
            .file_appeal(id, &name("bob"), "please".into(), 1_100)
            .await
            .expect("appealed");
        // bob moves to eu: his ban and its appeal go with him, under its id.
        let before = store.actions_about(&name("bob")).await.expect("list");
        store
            .move_account(&name("bob"), &region("eu"))
            .await
            .expect("move");
        assert_eq!(eu.actions_about(&name("bob")).await.expect("list"), before);
        assert!(us.action(id).await.expect("read").is_none());
        assert_eq!(
            us.export_moderation(&name("bob"))
                .await
                .expect("export")
                .suspended_until_ms,
            None
        );
        assert_eq!(
            store
                .suspended_until(&name("bob"), 1_200)
                .await
                .expect("standing"),
            Some(FOREVER_MS)
        );
        let overturn = Decision {
            outcome: AppealOutcome::Overturned,
            staff_id: 8,
            reason: "a mistake".to_owned(),
            decided_ms: 1_300,
        };
        store
            .decide_appeal(id, overturn.clone())
            .await
            .expect("decided");
        assert_eq!(
            store
                .suspended_until(&name("bob"), 1_300)
                .await
                .expect("standing"),
            None
        );
        let again = store.decide_appeal(id, overturn.clone()).await;
        assert!(matches!(again, Err(StoreError::InvalidAppeal)), "{again:?}");
        let none = store.decide_appeal(42, overturn).await;
        assert!(matches!(none, Err(StoreError::UnknownAction)), "{none:?}");
    }
}
