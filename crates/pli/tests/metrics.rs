//! What an operator's monitoring reads: Prometheus metrics on the admin listener (never on
//! the public one) with the names the dashboards use and no personal label, and the
//! readiness probe.

mod common;

use common::TestUser;
use pli_server::telemetry;

/// Every label key a metric may carry: none can hold a username, device, address or group.
const ALLOWED_LABELS: &[&str] = &["route", "method", "status", "le", "quantile"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_on_the_admin_listener_only_with_no_personal_label() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("data");
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let public_url = format!("http://{}", public.local_addr().expect("addr"));
    let admin_url = format!("http://{}", admin.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pli_server::run_with_admin(
        common::test_config(data.path()),
        public,
        Some(admin),
        async {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::new();

    let ready = http
        .get(format!("{public_url}/v1/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");

    // Traffic to count: registrations, a key lookup, a message pushed and acknowledged.
    let mut alice = TestUser::register_at(&public_url, "alice").await;
    let mut bob = TestUser::register_at(&public_url, "bob").await;
    let chat = alice.chat_with(&bob).await;
    alice.send(&chat, "hello").await;
    // Queue depths are read at the scrape: bob's message waits for him now.
    let waiting = scrape(&http, &admin_url).await;
    assert!(
        gauge(&waiting, "pli_queue_messages") >= 1.0,
        "bob's message is queued:\n{waiting}"
    );
    assert_eq!(
        gauge(&waiting, r#"pli_queue_depth_devices{le="+Inf"}"#),
        2.0,
        "every device is counted once"
    );
    assert!(
        gauge(&waiting, r#"pli_queue_depth_devices{le="0"}"#) <= 1.0,
        "bob's queue is not empty"
    );
    // Bob's sync drains his queue over the delivery WebSocket: pushed, then acknowledged.
    let received = bob.receive().await;
    assert!(
        received.iter().any(|(_, _, text)| text == "hello"),
        "{received:?}"
    );

    let on_public = http
        .get(format!("{public_url}/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(on_public.status(), 404, "never on the public listener");
    let scraped = http
        .get(format!("{admin_url}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.expect("text");
    for name in [
        telemetry::HTTP_REQUESTS,
        telemetry::HTTP_SECONDS,
        telemetry::WS_CONNECTIONS,
        telemetry::PUSHES,
        telemetry::ACKS,
        telemetry::KT_EPOCH,
        telemetry::KT_PUBLISH_SECONDS,
        telemetry::QUEUE_MESSAGES,
        telemetry::QUEUE_DEPTH_DEVICES,
        telemetry::AUDIT_LOG_ENTRIES,
        if common::on_postgres() {
            telemetry::PG_POOL_WAIT_SECONDS
        } else {
            telemetry::SQLITE_BATCH_JOBS
        },
        if common::on_postgres() {
            telemetry::PG_POOL_WAIT_SECONDS
        } else {
            telemetry::SQLITE_COMMIT_SECONDS
        },
    ] {
        assert!(text.contains(name), "{name} is exported:\n{text}");
    }
    assert!(
        text.contains(r#"route="/v1/accounts""#),
        "requests by route template:\n{text}"
    );
    // The dashboard shipped in docs/ graphs only metrics the server exports.
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana-dashboard.json"
    ))
    .expect("the dashboard");
    for used in dashboard.split("pli_").skip(1) {
        let name: String = used
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        let name = format!("pli_{}", name.trim_end_matches("_bucket"));
        // The other backend's series are not exported by this one.
        let other_backend = if common::on_postgres() {
            "pli_sqlite_"
        } else {
            "pli_pg_"
        };
        if name.starts_with(other_backend) {
            continue;
        }
        assert!(
            text.contains(&name),
            "the dashboard uses {name}, not exported"
        );
    }
    // Label keys are from the allowed set, and no value names a person, device or address.
    let identity = [
        "alice".to_owned(),
        "bob".to_owned(),
        "127.0.0.1".to_owned(),
        alice.identity().device_id.to_string(),
        bob.identity().device_id.to_string(),
        chat.to_hex(),
    ];
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((_, labels)) = line.split_once('{') {
            let labels = labels.split('}').next().unwrap_or_default();
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let key = pair.split('=').next().unwrap_or_default();
                assert!(ALLOWED_LABELS.contains(&key), "label {key} in {line}");
            }
        }
        for secret in &identity {
            assert!(!line.contains(secret.as_str()), "{secret} leaked in {line}");
        }
    }
    let _ = stop.send(());
    task.await.expect("join").expect("server stopped cleanly");
}

/// `--metrics-listen`: a listener of its own for Prometheus, serving `/metrics` and nothing
/// of the user or admin API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_listener_serves_metrics_and_nothing_else() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir().expect("data");
    let bind = || async {
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind")
    };
    let (public, metrics) = (bind().await, bind().await);
    let public_url = format!("http://{}", public.local_addr().expect("addr"));
    let metrics_url = format!("http://{}", metrics.local_addr().expect("addr"));
    let listeners = pli_server::Listeners {
        public,
        admin: None,
        metrics: Some(metrics),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let clock = std::sync::Arc::new(pli_server::clock::SystemClock);
    let task = tokio::spawn(pli_server::run_clocked(
        common::test_config(data.path()),
        clock,
        listeners,
        async {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::new();
    TestUser::register_at(&public_url, "alice").await;
    let text = scrape(&http, &metrics_url).await;
    assert!(text.contains(telemetry::HTTP_REQUESTS), "{text}");
    assert_eq!(
        gauge(&text, r#"pli_queue_depth_devices{le="+Inf"}"#),
        1.0,
        "alice's device"
    );
    for path in ["/v1/health", "/admin/v1/staff", "/openapi.json"] {
        let answer = http
            .get(format!("{metrics_url}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            answer.status(),
            404,
            "{path} is not on the metrics listener"
        );
    }
    let _ = stop.send(());
    task.await.expect("join").expect("server stopped cleanly");
}

async fn scrape(http: &reqwest::Client, base: &str) -> String {
    let answer = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("text")
}

/// The value of the sample whose name and labels are exactly `series`.
fn gauge(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}
