//! The key directory's publication cost at scale: one epoch of 1,000 device changes into a
//! directory of 100,000 users, on the embedded SQLite store (`PLI_BENCH_KT_USERS` changes
//! the directory's size). Setting the directory up takes a few minutes; each measured
//! epoch is the server's real publication path (`KeyDirectory::publish_pending`: device
//! sets read from the store, akd's insert, records written, root signed).

use criterion::{Criterion, criterion_group, criterion_main};
use pli_proto::kt::Endorsement;
use pli_proto::{DeviceId, Region, Username};
use pli_server::directory::KeyDirectory;
use pli_server::store::prelude::*;
use pli_server::store::{NewAccount, NewDevice, SqliteStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHANGES: usize = 1_000;
const SETUP_BATCH: usize = 10_000;

fn user(i: usize) -> Username {
    Username::parse(&format!("user{i}")).expect("valid name")
}

fn device(i: usize, extra: bool) -> DeviceId {
    DeviceId::new(1 + i as u64 * 2 + u64::from(extra)).expect("valid id")
}

struct Fixture {
    store: SqliteStore,
    directory: Arc<KeyDirectory<SqliteStore>>,
    users: usize,
    /// Whether the changed users currently hold their second device.
    toggled: bool,
    _dir: tempfile::TempDir,
}

async fn setup(users: usize) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("pli.db")).expect("store");
    let directory = KeyDirectory::open(store.clone(), "bench.local/audit")
        .await
        .expect("directory");
    let region = Region::parse("default").expect("region");
    let started = Instant::now();
    for batch in (0..users).collect::<Vec<_>>().chunks(SETUP_BATCH) {
        let creates = batch.iter().map(|&i| {
            let store = store.clone();
            let region = region.clone();
            async move {
                store
                    .create_account(NewAccount {
                        username: user(i),
                        region,
                        device_id: device(i, false),
                        secret_hash: [1; 32],
                        signature_key: vec![(i % 251) as u8; 32],
                        created_day: 20_000,
                    })
                    .await
            }
        });
        for created in futures_util::future::join_all(creates).await {
            created.expect("account");
        }
        store
            .kt_mark(batch.iter().map(|&i| user(i)).collect())
            .await
            .expect("mark");
        directory
            .publish_pending(1)
            .await
            .expect("publish")
            .expect("lease");
    }
    eprintln!(
        "directory of {users} users set up in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Fixture {
        store,
        directory,
        users,
        toggled: false,
        _dir: dir,
    }
}

/// Changes the device sets of `CHANGES` users (adding or removing a second device), then
/// publishes them; returns the publication's duration.
async fn one_epoch(fixture: &mut Fixture) -> Duration {
    let step = fixture.users / CHANGES;
    let changed: Vec<usize> = (0..CHANGES).map(|k| k * step.max(1)).collect();
    for &i in &changed {
        if fixture.toggled {
            fixture
                .store
                .remove_device(&user(i), device(i, true))
                .await
                .expect("remove");
        } else {
            fixture
                .store
                .add_device(
                    &user(i),
                    NewDevice {
                        device_id: device(i, true),
                        secret_hash: [2; 32],
                        signature_key: vec![7; 32],
                        endorsement: Endorsement {
                            by: device(i, false),
                            signature: [3; 64],
                        },
                    },
                )
                .await
                .expect("add");
        }
    }
    fixture.toggled = !fixture.toggled;
    fixture
        .store
        .kt_mark(changed.iter().map(|&i| user(i)).collect())
        .await
        .expect("mark");
    let started = Instant::now();
    let published = fixture
        .directory
        .publish_pending(1)
        .await
        .expect("publish")
        .expect("lease");
    let elapsed = started.elapsed();
    assert_eq!(published.changes as usize, CHANGES);
    elapsed
}

fn publish(c: &mut Criterion) {
    let users: usize = std::env::var("PLI_BENCH_KT_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut fixture = runtime.block_on(setup(users));
    let mut group = c.benchmark_group("key_directory");
    group.sample_size(10);
    group.bench_function(format!("publish {CHANGES} changes @ {users} users"), |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(one_epoch(&mut fixture));
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, publish);
criterion_main!(benches);
