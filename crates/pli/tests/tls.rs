//! HTTPS and WSS through rustls: a client that trusts the server's certificate chats; one
//! that does not is refused before any credential is sent.

mod common;

use common::TestServer;
use pli_client::{Client, ClientError, ConnectOptions};
use pli_proto::Username;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_chat_over_tls_and_untrusted_certificates_are_refused() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("certificate");
    let certs = tempfile::tempdir().expect("temp dir");
    let cert_pem = certs.path().join("cert.pem");
    let key_pem = certs.path().join("key.pem");
    std::fs::write(&cert_pem, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_pem, certified.signing_key.serialize_pem()).expect("write key");
    let server = TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config| {
        config.tls = Some(pli_server::TlsConfig {
            cert_pem: cert_pem.clone(),
            key_pem: key_pem.clone(),
        });
    })
    .await;
    assert!(server.url.starts_with("https://"));

    let trusting = ConnectOptions {
        extra_ca_pem: Some(certified.cert.pem().into_bytes()),
        ..Default::default()
    };
    let homes = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let alice_name = Username::parse("alice").expect("valid");
    let bob_name = Username::parse("bob").expect("valid");
    let mut alice = Client::register(homes[0].path(), &server.url, &alice_name, &trusting)
        .await
        .expect("register over https");
    let mut bob = Client::register(homes[1].path(), &server.url, &bob_name, &trusting)
        .await
        .expect("register over https");
    let direct = alice.direct_conversation(&bob_name).await.expect("direct");
    alice.send_text(&direct, "over tls").await.expect("send");
    bob.sync().await.expect("sync over wss");
    let got = common::texts(bob.take_new().expect("events"));
    assert_eq!(got, vec![(direct, "alice".into(), "over tls".into())]);

    let untrusting = tempfile::tempdir().expect("dir");
    let refused = Client::register(
        untrusting.path(),
        &server.url,
        &Username::parse("carol").expect("valid"),
        &ConnectOptions::default(),
    )
    .await;
    assert!(
        matches!(refused, Err(ClientError::Transport(_))),
        "an unknown certificate is refused"
    );
    server.stop().await;
}
