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
