//! Test harness: a real pli server on a loopback port chosen by the OS, real clients in
//! temporary homes. Nothing sleeps: the listener is bound before the server task starts,
//! so a client can connect as soon as it has the address.
//!
//! `PLI_TEST_DATABASE=postgres` runs the same tests on PostgreSQL: each server's data
//! directory is given a fresh database on a throwaway cluster (`pli-pgtest`), remembered in
//! the directory so that a restarted server finds the same database.

#![allow(dead_code)]

pub mod binary;
pub mod database;
pub mod forger;
pub mod harness_net;

// Each test binary uses some of these, none all of them.
#[allow(unused_imports)]
pub use binary::{
    init_operator_cli, path_str, run_pli, serve_binary, serve_binary_sqlite, serve_binary_with,
};
#[allow(unused_imports)]
pub use database::{database_for, on_postgres, share_database, test_config, test_regions};

use pli_client::{Client, ConnectOptions, Event};
use pli_proto::{GroupId, Username};
use std::path::Path;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

async fn pg_connect(url: &str) -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect to the test database")
}

/// Raw access to a server's database, for tests that play a hostile operator (tamper with
/// rows) or look at what is stored. The SQL must be valid on both engines.
pub enum TestDb {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl TestDb {
    pub fn of(data: &Path) -> Self {
        match database_for(data) {
            pli_server::Database::Sqlite => Self::Sqlite(data.join(pli_server::DATABASE_FILE)),
            pli_server::Database::Postgres(postgres) => Self::Postgres(postgres.url),
        }
    }

    /// A region's own store (configured by [`test_regions`]).
    pub fn region(data: &Path, name: &str) -> Self {
        let region_data = data.join("test-regions").join(name);
        match database_for(&region_data) {
            pli_server::Database::Sqlite => Self::Sqlite(
                data.join("regions")
                    .join(name)
                    .join(pli_server::DATABASE_FILE),
            ),
            pli_server::Database::Postgres(postgres) => Self::Postgres(postgres.url),
        }
    }

    /// The first column of every row, as bytes.
    pub async fn bytes(&self, sql: &str) -> Vec<Vec<u8>> {
        self.column(sql).await
    }

    /// The first column of every row, as integers.
    pub async fn integers(&self, sql: &str) -> Vec<i64> {
        self.column(sql).await
    }

    async fn column<T>(&self, sql: &str) -> Vec<T>
    where
        T: rusqlite::types::FromSql
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        match self {
            Self::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open");
                conn.prepare(sql)
                    .expect("prepare")
                    .query_map([], |r| r.get(0))
                    .expect("query")
                    .collect::<Result<_, _>>()
                    .expect("rows")
            }
            Self::Postgres(url) => {
                use sqlx::Row as _;
                let mut conn = pg_connect(url).await;
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&mut conn)
                    .await
                    .expect("query")
                    .iter()
                    .map(|row| row.try_get(0).expect("a column of the asked type"))
                    .collect()
            }
        }
    }

    /// Runs statements (separated by `;`) that change rows.
    pub async fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open");
                conn.execute_batch(sql).expect("execute");
            }
            Self::Postgres(url) => {
                let mut conn = pg_connect(url).await;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut conn)
                    .await
                    .expect("execute");
            }
        }
    }

    /// Everything the database holds, as bytes to scan: its files, or a `pg_dump`.
    pub fn dump(&self) -> Vec<u8> {
        match self {
            Self::Sqlite(path) => {
                let dir = path.parent().expect("a data directory");
                let mut all = Vec::new();
                for file in files_under(dir) {
                    all.extend(std::fs::read(file).expect("read"));
                }
                all
            }
            Self::Postgres(url) => {
                let out = std::process::Command::new(pli_pgtest::bin_dir().join("pg_dump"))
                    .arg(url)
                    .output()
                    .expect("pg_dump");
                assert!(out.status.success(), "pg_dump failed");
                out.stdout
            }
        }
    }
}

pub struct TestServer {
    pub url: String,
    pub data: TempDir,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), pli_server::ServerError>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_on(tempfile::tempdir().expect("temp dir")).await
    }

    /// Starts a server on an existing data directory (a restart).
    pub async fn start_on(data: TempDir) -> Self {
        Self::start_with(data, |_| {}).await
    }

    /// Starts a server on a clock the test moves.
    pub async fn start_clocked(
        clock: pli_server::clock::ManualClock,
        adjust: impl FnOnce(&mut pli_server::Config),
    ) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let mut config = test_config(data.path());
        adjust(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let clock = std::sync::Arc::new(clock);
        let stopped = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(pli_server::run_clocked(config, clock, listener, stopped));
        Self {
            url,
            data,
            stop,
            task,
        }
    }

    /// Starts a server whose test configuration `adjust` may change (TLS, limits).
    pub async fn start_with(data: TempDir, adjust: impl FnOnce(&mut pli_server::Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut config = test_config(data.path());
        adjust(&mut config);
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(pli_server::run(config, listener, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            data,
            stop,
            task,
        }
    }

    /// Raw access to this server's database.
    pub fn db(&self) -> TestDb {
        TestDb::of(self.data.path())
    }

    /// Every byte the server stores: its database (files or a dump) and its data directory.
    pub fn stored_bytes(&self) -> Vec<u8> {
        let mut all = self.db().dump();
        for file in files_under(self.data.path()) {
            all.extend(std::fs::read(file).unwrap_or_default());
        }
        all
    }

    /// The audit signing key's seed, as an operator with disk or database access has it.
    pub async fn audit_seed(&self) -> [u8; 32] {
        let bytes = match self.db() {
            TestDb::Sqlite(_) => {
                std::fs::read(self.data.path().join(pli_server::AUDIT_KEY_FILE)).expect("key")
            }
            db @ TestDb::Postgres(_) => db
                .bytes("SELECT secret FROM server_keys WHERE name = 'audit.key'")
                .await
                .pop()
                .expect("key"),
        };
        bytes.try_into().expect("32 bytes")
    }

    /// Stops the server, waits until it has fully shut down, and hands back its data.
    pub async fn stop(self) -> TempDir {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("server task")
            .expect("server ran cleanly");
        self.data
    }
}

pub struct TestUser {
    pub client: Client,
    pub home: TempDir,
    pub name: Username,
}

impl TestUser {
    pub async fn register(server: &TestServer, name: &str) -> Self {
        Self::register_at(&server.url, name).await
    }

    /// Registers on the server (or node) at `url`.
    pub async fn register_at(url: &str, name: &str) -> Self {
        Self::register_in_region(url, name, None).await
    }

    /// Registers with the account homed in `region` (the server's default for `None`).
    pub async fn register_in_region(url: &str, name: &str, region: Option<&str>) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let username = Username::parse(name).expect("valid test username");
        let region = region.map(|r| pli_proto::Region::parse(r).expect("valid test region"));
        let (client, home_region) = Client::register_in(
            home.path(),
            url,
            &username,
            region.as_ref(),
            &ConnectOptions::default(),
        )
        .await
        .expect("register");
        if let Some(asked) = region {
            assert_eq!(
                home_region, asked,
                "the server homed the account where asked"
            );
        }
        Self {
            client,
            home,
            name: username,
        }
    }

    /// Reopens the device from its home, pointed at `url` (a restarted server's new port).
    pub fn reopen(&mut self, url: &str) {
        let options = ConnectOptions {
            server: Some(url.to_owned()),
            ..Default::default()
        };
        self.client = Client::open(self.home.path(), &options).expect("reopen");
    }

    /// Syncs and returns the texts of new messages as (conversation, sender, text).
    pub async fn receive(&mut self) -> Vec<(GroupId, String, String)> {
        self.client.sync().await.expect("sync");
        texts(self.client.take_new().expect("events"))
    }

    /// The 1:1 conversation with `peer`, started if there is none.
    pub async fn chat_with(&mut self, peer: &TestUser) -> GroupId {
        self.client
            .direct_conversation(&peer.name)
            .await
            .expect("the direct conversation")
    }

    pub async fn send(&mut self, conversation: &GroupId, text: &str) {
        let status = self
            .client
            .send_text(conversation, text)
            .await
            .expect("send");
        assert_eq!(status, pli_client::SendStatus::Sent);
    }
}

/// Alice and Bob registered on `server`, and the direct conversation alice opened with bob.
pub async fn alice_and_bob(server: &TestServer) -> (TestUser, TestUser, GroupId) {
    let mut alice = TestUser::register(server, "alice").await;
    let bob = TestUser::register(server, "bob").await;
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    (alice, bob, direct)
}

/// The texts of alert notices (things that may be an attack).
pub fn alerts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice {
                alert: true, text, ..
            } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The text of every notice (alert or not) among `events`.
pub fn notices(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

pub fn texts(events: Vec<Event>) -> Vec<(GroupId, String, String)> {
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::Message {
                conversation,
                sender,
                text,
                ..
            } => Some((conversation, sender.to_string(), text)),
            Event::Notice { .. } | Event::Changed { .. } | Event::Typing { .. } => None,
        })
        .collect()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Staff of every role, created the way an operator would: `init` on the host, then the
/// admin API.
pub struct Staff {
    pub operator: pli_client::admin::AdminClient,
    pub legal: Vec<pli_client::admin::AdminClient>,
    pub legal_ids: Vec<u64>,
    pub trust_safety: pli_client::admin::AdminClient,
    pub auditor: pli_client::admin::AdminClient,
}

pub fn staff_client(
    server: &TestServer,
    credential: pli_proto::governance::StaffCredential,
) -> pli_client::admin::AdminClient {
    pli_client::admin::AdminClient::new(&server.url, Some(credential), None).expect("admin client")
}

pub async fn staff(server: &TestServer) -> Staff {
    // The first answer comes once the server has opened its store: `init` opening the same
    // SQLite files while the server creates them could find them locked. Its result is
    // beside the point (a TLS server refuses the handshake, after it started).
    if let Ok(transport) = pli_client::transport::Transport::new(&server.url, None) {
        let _ = transport.health().await;
    }
    staff_at(&server.url, server.data.path()).await
}

/// [`staff`] for the server at `url` whose data is in `data` (a `pli serve` process).
pub async fn staff_at(url: &str, data: &Path) -> Staff {
    use pli_proto::governance::{NewStaff, Role, StaffCredential};
    let staff_client = |credential: StaffCredential| {
        pli_client::admin::AdminClient::new(url, Some(credential), None).expect("admin client")
    };
    let config = test_config(data);
    let root = pli_server::init_first_operator(&config, "root")
        .await
        .expect("init");
    let operator = staff_client(root);
    let add = async |name: &str, role: Role| -> StaffCredential {
        operator
            .post(
                "/admin/v1/staff",
                &NewStaff {
                    name: name.into(),
                    role,
                },
            )
            .await
            .expect("staff add")
    };
    let legal_creds = vec![
        add("legal1", Role::Legal).await,
        add("legal2", Role::Legal).await,
        add("legal3", Role::Legal).await,
    ];
    let trust_safety = add("ts", Role::TrustSafety).await;
    let auditor = add("auditor", Role::Auditor).await;
    Staff {
        legal_ids: legal_creds.iter().map(|c| c.staff_id).collect(),
        legal: legal_creds.into_iter().map(staff_client).collect(),
        trust_safety: staff_client(trust_safety),
        auditor: staff_client(auditor),
        operator,
    }
}

/// A lawful request body for tests.
pub fn lawful_request(
    basis: pli_proto::governance::LegalBasis,
    targets: &[&str],
    categories: &[pli_proto::governance::DataCategory],
) -> pli_proto::governance::NewRequest {
    pli_proto::governance::NewRequest {
        authority: "Tribunal judiciaire de Paris".into(),
        country: "FR".into(),
        basis,
        doc_ref: "RG 26/123".into(),
        doc_sha256: "ab".repeat(32),
        targets: targets
            .iter()
            .map(|t| Username::parse(t).expect("valid"))
            .collect(),
        categories: categories.to_vec(),
        nondisclosure_until: None,
        attestation: (basis == pli_proto::governance::LegalBasis::Emergency)
            .then(|| "a specific threat to a named person's life, stated by the requester".into()),
        due: None,
    }
}

/// The error code of a failed staff call.
pub fn code<T: std::fmt::Debug>(
    result: Result<T, pli_client::ClientError>,
) -> pli_proto::ErrorCode {
    result
        .expect_err("the call is refused")
        .code()
        .expect("an API error code")
}

impl TestUser {
    /// The device's stored identity (id and secret), read from its home.
    pub fn identity(&self) -> pli_client::local::Identity {
        let conn = pli_client::local::open(self.home.path()).expect("the device's database");
        pli_client::local::load_identity(&conn)
            .expect("identity")
            .expect("registered")
    }

    /// A transport authenticated as this device, for requests the client library would not
    /// make (replays, hostile inputs).
    pub fn transport(&self, server: &TestServer) -> pli_client::transport::Transport {
        let identity = self.identity();
        pli_client::transport::Transport::new(&server.url, None)
            .expect("transport")
            .with_credentials(pli_client::transport::Credentials {
                device_id: identity.device_id,
                secret: identity.secret,
            })
    }
}
