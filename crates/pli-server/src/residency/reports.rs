//! [`Regional`] as a [`ReportStore`]: a report is filed in the reported account's home
//! region, and read from whichever region holds it.
//!
//! Every region is asked when reading, listing and counting: an account's own reports (those
//! it filed) are about other accounts, homed anywhere, and a report filed by another node
//! while its account moved can sit in the old region until the move is run again (a move
//! carries every region's reports about the account into the new one, `moving.rs`). Ids
//! are random across regions, so a lookup by id finds at most one.

use super::Regional;
use crate::store::{ExportedReport, NewReport, ReportCutoffs, ReportStore, Store, StoreError};
use pli_proto::Username;
use pli_proto::abuse::ReportView;

impl<S: Store> ReportStore for Regional<S> {
    /// A report about an account the server does not hold is [`StoreError::UnknownAccount`].
    async fn file_report(&self, report: NewReport) -> Result<u64, StoreError> {
        let _no_move = self.no_move().await;
        let store = self
            .user_store(&report.reported)
            .await?
            .ok_or(StoreError::UnknownAccount)?;
        store.file_report(report).await
    }

    /// Each region's list is newest first; merged by filing day, a day's reports of one
    /// region keep their order (the order between regions within a day is the
    /// configuration's: the server keeps days, not times).
    async fn list_reports(&self) -> Result<Vec<ReportView>, StoreError> {
        let mut all = Vec::new();
        for (_, store) in &self.inner.regions {
            all.extend(store.list_reports().await?);
        }
        all.sort_by_key(|report| std::cmp::Reverse(report.filed_day));
        Ok(all)
    }

    async fn report(&self, id: u64) -> Result<Option<ReportView>, StoreError> {
        for (_, store) in &self.inner.regions {
            if let Some(report) = store.report(id).await? {
                return Ok(Some(report));
            }
        }
        Ok(None)
    }

    /// The same day in every region (retention uses [`Self::expire_reports`]).
    async fn delete_reports_filed_before(&self, day: u32) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for (_, store) in &self.inner.regions {
            deleted += store.delete_reports_filed_before(day).await?;
        }
        Ok(deleted)
    }

    /// Each region under its own day.
    async fn expire_reports(&self, cutoffs: ReportCutoffs) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for (name, store) in &self.inner.regions {
            deleted += store
                .delete_reports_filed_before(cutoffs.for_region(name))
                .await?;
        }
        Ok(deleted)
    }

    async fn export_reports(&self, reported: &Username) -> Result<Vec<ExportedReport>, StoreError> {
        let mut all = Vec::new();
        for (_, store) in &self.inner.regions {
            all.extend(store.export_reports(reported).await?);
        }
        Ok(all)
    }

    /// Each into its reported account's home region.
    async fn import_reports(&self, reports: Vec<ExportedReport>) -> Result<(), StoreError> {
        let _no_move = self.no_move().await;
        for moved in reports {
            let store = self
                .user_store(&moved.report.reported)
                .await?
                .ok_or(StoreError::UnknownAccount)?;
            store.import_reports(vec![moved]).await?;
        }
        Ok(())
    }

    async fn erase_reports_about(&self, reported: &Username) -> Result<u64, StoreError> {
        let _no_move = self.no_move().await;
        let mut erased = 0;
        for (_, store) in &self.inner.regions {
            erased += store.erase_reports_about(reported).await?;
        }
        Ok(erased)
    }

    async fn report_counts(&self, username: &Username) -> Result<(u64, u64), StoreError> {
        let (mut received, mut filed) = (0, 0);
        for (_, store) in &self.inner.regions {
            let (r, f) = store.report_counts(username).await?;
            received += r;
            filed += f;
        }
        Ok((received, filed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance::{dev, name};
    use crate::store::{
        AccountStore, NewAccount, ResidencyStore, SqliteStore, StoredReportMessage,
    };
    use pli_proto::Region;
    use pli_proto::abuse::ReportReason;

    fn region(text: &str) -> Region {
        Region::parse(text).expect("region")
    }

    fn about(reporter: &str, reported: &str, day: u32, commitment: u8) -> NewReport {
        NewReport {
            reporter: name(reporter),
            reported: name(reported),
            reason: ReportReason::Spam,
            note: None,
            filed_day: day,
            messages: vec![StoredReportMessage {
                commitment: [commitment; 32],
                text: "reported".to_owned(),
                sender_device: dev(1),
                day,
            }],
        }
    }

    /// Reports land in the reported account's region, are found and counted from any,
    /// expire under each region's own day, and move with their account under their ids.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reports_live_in_the_reported_accounts_region() {
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
        let about_bob = store
            .file_report(about("alice", "bob", 20_100, 1))
            .await
            .expect("filed");
        let about_alice = store
            .file_report(about("bob", "alice", 20_000, 2))
            .await
            .expect("filed");
        assert!(us.report(about_bob).await.expect("read").is_some());
        assert!(eu.report(about_bob).await.expect("read").is_none());
        assert!(eu.report(about_alice).await.expect("read").is_some());
        let unknown = store.file_report(about("alice", "zed", 20_100, 3)).await;
        assert!(
            matches!(unknown, Err(StoreError::UnknownAccount)),
            "{unknown:?}"
        );
        let listed: Vec<u64> = store
            .list_reports()
            .await
            .expect("list")
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(listed, vec![about_bob, about_alice], "newest first");
        assert_eq!(
            store.report(about_alice).await.expect("read").map(|r| r.id),
            Some(about_alice)
        );
        assert_eq!(
            store.report_counts(&name("alice")).await.expect("counts"),
            (1, 1)
        );
        // eu keeps reports from day 20050 on, us from day 20200 on: each its own.
        let cutoffs = ReportCutoffs {
            filed_before_day: 0,
            by_region: [(region("eu"), 20_050), (region("us"), 0)].into(),
        };
        assert_eq!(store.expire_reports(cutoffs).await.expect("sweep"), 1);
        assert_eq!(store.report(about_alice).await.expect("read"), None);
        // bob moves to eu: his report goes with him, under its id.
        let before = store.report(about_bob).await.expect("read");
        store
            .move_account(&name("bob"), &region("eu"))
            .await
            .expect("move");
        assert_eq!(eu.report(about_bob).await.expect("read"), before);
        assert_eq!(us.list_reports().await.expect("list"), Vec::new());
        let replay = store.file_report(about("alice", "bob", 20_101, 1)).await;
        assert!(
            matches!(replay, Err(StoreError::ReportReplayed)),
            "{replay:?}"
        );
    }
}
