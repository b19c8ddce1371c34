//! Limits and backpressure: each one refuses cleanly, and the server keeps serving
//! everyone else.

mod common;

use common::{TestServer, TestUser};
use pli_client::SendStatus;
use pli_proto::ErrorCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

/// Reads until the peer closes the connection; returns everything read.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let _ = stream.read_to_end(&mut all).await;
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_above_the_cap_are_refused_with_503_until_one_closes() {
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.limits.max_connections = 2
    })
    .await;
    let first = TcpStream::connect(address(&server.url))
        .await
        .expect("connect");
    let second = TcpStream::connect(address(&server.url))
        .await
        .expect("connect");
    // Both slots are taken once the server has accepted them: a request on each proves it.
    for mut held in [&first, &second]
        .map(|s| s.peer_addr().expect("addr"))
        .map(|_| ())
        .into_iter()
        .zip([first, second])
        .map(|(_, s)| s)
    {
        held.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        let mut buf = [0u8; 12];
        held.read_exact(&mut buf).await.expect("answered");
        assert_eq!(&buf, b"HTTP/1.1 200");
        std::mem::forget(held); // keep the slot for the rest of the test
    }
    let mut third = TcpStream::connect(address(&server.url))
        .await
        .expect("connect");
    let answer = String::from_utf8(read_to_close(&mut third).await).expect("utf-8");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("\"over_capacity\"") && answer.to_lowercase().contains("retry-after: 5")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_trickles_headers_is_cut_off_at_the_deadline() {
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.limits.handshake_timeout = Duration::from_millis(300);
    })
    .await;
    let mut slow = TcpStream::connect(address(&server.url))
        .await
        .expect("connect");
    slow.write_all(b"GET /v1/health HTTP/1.1\r\n")
        .await
        .expect("write");
    let answer = read_to_close(&mut slow).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "closed without serving"
    );
    TestUser::register(&server, "still_served").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_tls_peer_is_dropped_at_the_handshake_deadline() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("certificate");
    let dir = tempfile::tempdir().expect("dir");
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("write");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write");
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.tls = Some(pli_server::TlsConfig {
            cert_pem: cert.clone(),
            key_pem: key.clone(),
        });
        config.limits.handshake_timeout = Duration::from_millis(300);
    })
    .await;
    let mut silent = TcpStream::connect(address(&server.url))
        .await
        .expect("connect");
    assert!(
        read_to_close(&mut silent).await.is_empty(),
        "closed without a word"
    );
}

/// Opens the delivery WebSocket by hand over raw TCP, so nothing answers the server's pings.
/// A small receive buffer makes a reader that stops reading stall the server quickly.
async fn raw_websocket(server: &TestServer, user: &TestUser) -> TcpStream {
    let identity = user.identity();
    let ticket: pli_proto::api::TicketResponse = reqwest::Client::new()
        .post(format!("{}/v1/ws/ticket", server.url))
        .header(
            "authorization",
            format!("Pli {}.{}", identity.device_id, identity.secret),
        )
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("ticket")
        .json()
        .await
        .expect("json");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("small receive buffer");
    let mut stream = socket
        .connect(address(&server.url).parse().expect("address"))
        .await
        .expect("connect");
    let request = format!(
        "GET /v1/ws?ticket={} HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
        ticket.ticket
    );
    stream.write_all(request.as_bytes()).await.expect("upgrade");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.expect("response");
    assert_eq!(&head, b"HTTP/1.1 101");
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_websocket_that_never_answers_pings_is_closed() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.limits.ws_idle_timeout = Duration::from_millis(600);
    })
    .await;
    let user = TestUser::register(&server, "quiet").await;
    let mut socket = raw_websocket(&server, &user).await;
    let seen = read_to_close(&mut socket).await;
    assert!(
        !seen.is_empty(),
        "pings and a close arrived before the server hung up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_does_not_hold_up_others_and_loses_nothing() {
    const COUNT: usize = 40;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.limits.ws_send_timeout = Duration::from_millis(500);
        config.limits.ws_idle_timeout = Duration::from_secs(20);
        config.limits.ws_max_write_buffer = 2 * pli_proto::limits::MAX_WS_MESSAGE_BYTES;
    })
    .await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let mut carol = TestUser::register(&server, "carol").await;
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    let big = "x".repeat(pli_proto::limits::MAX_TEXT_BYTES - 100);
    for _ in 0..COUNT {
        alice.send(&direct, &big).await;
    }
    // Bob's device connects and then stops reading: ~10 MB wait for it, more than the
    // server's socket buffer and its write buffer cap together.
    let stalled = raw_websocket(&server, &bob).await;
    // Meanwhile the others chat normally.
    let other = alice
        .client
        .direct_conversation(&carol.name)
        .await
        .expect("direct");
    alice.send(&other, "unaffected").await;
    let got = carol.receive().await;
    assert_eq!(got.last().map(|(_, _, t)| t.as_str()), Some("unaffected"));
    // Bob's next connection replaces the stalled one (one consumer per device), and nothing
    // was lost. (That a send the peer never takes is given up at `ws_send_timeout` is
    // proven in the session's unit tests: loopback buffers too much to show it here.)
    drop(stalled);
    let received = bob.receive().await;
    assert_eq!(received.len(), COUNT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_and_claims_beyond_the_rate_limit_get_429_and_messages_stay_queued() {
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.limits.sends_per_minute = 2;
        config.limits.claims_per_minute = 2;
    })
    .await;
    let mut alice = TestUser::register(&server, "alice").await;
    let mut bob = TestUser::register(&server, "bob").await;
    let carol = TestUser::register(&server, "carol").await;
    let dave = TestUser::register(&server, "dave").await;
    // Starting a conversation claims for the peer and for alice's own other devices, and
    // sends a commit and the conversation's encrypted name.
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("two claims, two sends");
    let refused = alice
        .client
        .direct_conversation(&carol.name)
        .await
        .expect_err("a third claim this minute");
    assert_eq!(refused.code(), Some(ErrorCode::RateLimited));
    let _ = dave;
    let status = alice
        .client
        .send_text(&direct, "over the limit")
        .await
        .expect("kept");
    assert_eq!(
        status,
        SendStatus::Queued,
        "a rate-limited message waits in the outbox"
    );
    assert_eq!(alice.client.outbox_len().expect("outbox"), 1);
    let got = bob.receive().await;
    assert!(got.is_empty(), "{got:?}");
}

/// Behind a TLS proxy every user would share one registration bucket: a forwarded address
/// is honoured, but only from a trusted proxy; from anyone else it is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    /// The status of a registration attempt (no valid puzzle: only the rate limit matters)
    /// claiming to come from `client`.
    async fn attempt(server: &TestServer, client: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{}/v1/accounts", server.url))
            .header("x-forwarded-for", client)
            .json(&serde_json::json!({"username": "someone", "challenge": "x", "nonce": 0, "signature_key": "AAAA"}))
            .send()
            .await
            .expect("send")
            .status()
            .as_u16()
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    for trusted in [false, true] {
        let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
            config.registrations_per_hour = 1;
            if trusted {
                config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
            }
        })
        .await;
        assert_ne!(attempt(&server, "198.51.100.1").await, 429);
        assert_eq!(
            attempt(&server, "198.51.100.1").await,
            429,
            "one bucket per client"
        );
        let other = attempt(&server, "198.51.100.2").await;
        if trusted {
            assert_ne!(
                other, 429,
                "another client behind the proxy has its own bucket"
            );
        } else {
            assert_eq!(other, 429, "an untrusted peer's header is ignored");
        }
    }
}
