//! pli app's own figures (BENCHMARKS.md, "pli app"): with a home of 1,000 conversations and
//! 100,000 messages, the conversation list and an opened conversation (its last 50
//! messages), each the whole HTTP round trip a browser makes; a message from the server to
//! the open page (the event, then the fragment the page fetches); and the resident memory of
//! the process serving that home.

use criterion::Criterion;
use pli_app::{App, AppOptions};
use pli_client::hot_paths::LocalDevice;
use pli_client::{Client, ConnectOptions};
use pli_proto::{DeviceId, Username};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const CONVERSATIONS: usize = 1_000;
const PER_CONVERSATION: usize = 100;

/// An app serving `home`, opened like a browser would: its base URL and session cookie.
struct Opened {
    base: String,
    cookie: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn open_app(home: &std::path::Path) -> Opened {
    let app = App::bind(AppOptions {
        home: home.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("address"),
        connect: ConnectOptions::default(),
    })
    .await
    .expect("bind the app");
    let url = app.url();
    let base = format!("http://{}", app.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let opened = http.get(&url).send().await.expect("open the URL");
    let cookie = opened
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    Opened {
        base,
        cookie,
        http,
        _stop: stop,
    }
}

impl Opened {
    async fn get(&self, path: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.text().await.expect("body")
    }

    async fn post_form(&self, path: &str, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST")
    }
}

fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn big_home(c: &mut Criterion, rt: &Runtime) {
    let home = tempfile::tempdir().expect("home");
    let me = Username::parse("meg").expect("name");
    let device =
        LocalDevice::create(home.path(), &me, DeviceId::new(7).expect("id")).expect("home");
    device
        .fill_history(CONVERSATIONS, PER_CONVERSATION)
        .expect("fill the history");
    drop(device);
    let before = resident_mib();
    let app = rt.block_on(open_app(home.path()));
    let newest = Client::open(home.path(), &ConnectOptions::default())
        .expect("open")
        .summaries()
        .expect("summaries")[0]
        .conversation
        .id
        .to_hex();
    let list = rt.block_on(app.get("/"));
    assert_eq!(
        list.matches("class=\"conversation\"").count(),
        CONVERSATIONS
    );
    c.bench_function("app/list_1000_conversations", |b| {
        b.iter(|| rt.block_on(app.get("/")))
    });
    let page = rt.block_on(app.get(&format!("/c/{newest}")));
    assert_eq!(page.matches("class=\"msg ").count(), 50);
    c.bench_function("app/open_conversation_last_50", |b| {
        b.iter(|| rt.block_on(app.get(&format!("/c/{newest}"))))
    });
    println!(
        "app/resident_memory: {:.1} MiB serving the home of {CONVERSATIONS} conversations and {} messages ({before:.1} MiB before the app opened it; the benchmark's own HTTP client included)",
        resident_mib(),
        CONVERSATIONS * PER_CONVERSATION
    );
}

async fn server() -> (String, tokio::sync::oneshot::Sender<()>, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let mut config = pli_server::Config::new(data.path());
    config.pow_difficulty = 4;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(pli_server::run(config, listener, async {
        let _ = stopped.await;
    }));
    (url, stop, data)
}

/// Reads the event stream until an event of `kind` (a message) arrives.
async fn next_message(events: &mut reqwest::Response) {
    loop {
        let chunk = events
            .chunk()
            .await
            .expect("events")
            .expect("the stream stays open");
        if String::from_utf8_lossy(&chunk).contains("\"kind\":\"message\"") {
            return;
        }
    }
}

/// The newest message id in a fragment (`data-id="N"`).
fn last_id(fragment: &str) -> i64 {
    fragment
        .split("data-id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .max()
        .unwrap_or(0)
}

fn live(c: &mut Criterion, rt: &Runtime) {
    let (url, _stop, _data) = rt.block_on(server());
    let bob_home = tempfile::tempdir().expect("home");
    let bob = rt.block_on(open_app(bob_home.path()));
    let registered =
        rt.block_on(bob.post_form("/register", format!("server={url}&username=bob&region=")));
    assert_eq!(registered.status(), reqwest::StatusCode::SEE_OTHER);
    let alice_home = tempfile::tempdir().expect("home");
    let bob_name = Username::parse("bob").expect("name");
    let (mut alice, conversation) = rt.block_on(async {
        let mut alice = Client::register(
            alice_home.path(),
            &url,
            &Username::parse("alice").expect("name"),
            &ConnectOptions::default(),
        )
        .await
        .expect("alice");
        let conversation = alice.direct_conversation(&bob_name).await.expect("chat");
        (alice, conversation)
    });
    let id = conversation.to_hex();
    let mut events = rt.block_on(async {
        bob.http
            .get(format!("{}/events", bob.base))
            .header("cookie", &bob.cookie)
            .send()
            .await
            .expect("events")
    });
    let mut n = 0u64;
    let mut seen = 0i64;
    c.bench_function("app/live_message_to_page", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let text = format!("ping {n}");
                rt.block_on(alice.send_text(&conversation, &text))
                    .expect("send");
                // From the server's acceptance: push, decryption, event, fragment.
                let sent = Instant::now();
                rt.block_on(async {
                    next_message(&mut events).await;
                    let fragment = bob.get(&format!("/c/{id}/after?after={seen}")).await;
                    assert!(fragment.contains(&text), "{fragment}");
                    seen = last_id(&fragment).max(seen);
                });
                total += sent.elapsed();
            }
            total
        })
    });
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = Runtime::new().expect("runtime");
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    big_home(&mut c, &rt);
    live(&mut c, &rt);
    c.final_summary();
}
