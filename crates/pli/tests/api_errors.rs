//! Bad input gets a clear error with a stable code, and the server keeps serving.

mod common;

use common::{TestServer, TestUser};
use futures_util::{SinkExt, StreamExt};
use pli_proto::ErrorCode;
use pli_proto::error::ErrorBody;
use pli_proto::frame::ServerFrame;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn expect_error(response: reqwest::Response, status: u16, code: ErrorCode) {
    assert_eq!(response.status().as_u16(), status);
    let body: ErrorBody = response.json().await.expect("an error body");
    assert_eq!(body.error.code, code, "{}", body.error.message);
    assert!(!body.error.message.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_get_stable_codes_and_the_server_keeps_serving() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start().await;
    let alice = TestUser::register(&server, "alice").await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let identity = alice.identity();
    let auth = format!("Pli {}.{}", identity.device_id, identity.secret);

    // Not JSON, wrong content type, wrong shape, too big, unknown route.
    let response = http
        .post(url("/v1/accounts"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::BadRequest).await;
    let response = http
        .post(url("/v1/accounts"))
        .body("{}")
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::BadRequest).await;
    let response = http
        .post(url("/v1/accounts"))
        .json(&json!({"username": "Not Valid!"}))
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::BadRequest).await;
    let huge = "x".repeat(pli_proto::limits::MAX_HTTP_BODY_BYTES + 1);
    let response = http
        .post(url("/v1/messages"))
        .header("authorization", &auth)
        .json(&json!({"pad": huge}))
        .send()
        .await
        .expect("send");
    expect_error(response, 413, ErrorCode::PayloadTooLarge).await;
    let response = http
        .get(url("/v1/nothing-here"))
        .send()
        .await
        .expect("send");
    expect_error(response, 404, ErrorCode::NotFound).await;

    // Registration: forged challenge, wrong proof of work, taken name.
    let register = |challenge: &str, nonce: u64, name: &str| json!({"username": name, "challenge": challenge, "nonce": nonce, "signature_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="});
    let response = http
        .post(url("/v1/accounts"))
        .json(&register("1.2.3", 0, "mallory"))
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::InvalidChallenge).await;
    let challenge: pli_proto::api::ChallengeResponse = http
        .get(url("/v1/register/challenge"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let wrong = (0..)
        .find(|n| {
            !pli_proto::pow::verify(&challenge.challenge, "mallory", *n, challenge.difficulty)
        })
        .expect("some nonce fails");
    let response = http
        .post(url("/v1/accounts"))
        .json(&register(&challenge.challenge, wrong, "mallory"))
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::ProofOfWorkFailed).await;
    let nonce = pli_proto::pow::solve(&challenge.challenge, "alice", challenge.difficulty);
    let response = http
        .post(url("/v1/accounts"))
        .json(&register(&challenge.challenge, nonce, "ALICE"))
        .send()
        .await
        .expect("send");
    expect_error(response, 409, ErrorCode::UsernameTaken).await;

    // Authentication and message validation.
    let submit =
        json!({"group_id": "00".repeat(16), "message": "AAAA", "recipients": [identity.device_id]});
    let response = http
        .post(url("/v1/messages"))
        .json(&submit)
        .send()
        .await
        .expect("send");
    expect_error(response, 401, ErrorCode::Unauthorized).await;
    let response = http
        .post(url("/v1/messages"))
        .header(
            "authorization",
            format!("Pli {}.{}", identity.device_id, "00".repeat(32)),
        )
        .json(&submit)
        .send()
        .await
        .expect("send");
    expect_error(response, 401, ErrorCode::Unauthorized).await;
    let response = http
        .post(url("/v1/messages"))
        .header("authorization", &auth)
        .json(&submit)
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::InvalidMlsMessage).await;
    let response = http
        .get(url("/v1/users/nobody_here/devices"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("send");
    expect_error(response, 404, ErrorCode::UnknownUser).await;
    let response = http
        .post(url("/v1/users/Bad%20Name/key-packages/claim"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::InvalidUsername).await;
    let response = http
        .post(url("/v1/key-packages"))
        .header("authorization", &auth)
        .json(&json!({"key_packages": ["AAAA"]}))
        .send()
        .await
        .expect("send");
    expect_error(response, 400, ErrorCode::InvalidKeyPackage).await;

    // The WebSocket answers a malformed frame with an error frame, then closes.
    let mut request = format!("{}/v1/ws", server.url.replacen("http", "ws", 1))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("authorization", auth.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let first = socket.next().await.expect("frame").expect("ok");
    assert_eq!(
        ServerFrame::decode(&first.into_data()).expect("decode"),
        ServerFrame::Drained
    );
    socket
        .send(Message::Binary(vec![0x7f, 1, 2].into()))
        .await
        .expect("send");
    let reply = socket.next().await.expect("frame").expect("ok");
    assert_eq!(
        ServerFrame::decode(&reply.into_data()).expect("decode"),
        ServerFrame::Error("bad_frame".into())
    );

    // An oversized WebSocket message is refused by the socket layer.
    let mut request = format!("{}/v1/ws", server.url.replacen("http", "ws", 1))
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("authorization", auth.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let _ = socket.next().await;
    let _ = socket
        .send(Message::Binary(
            vec![0x10; pli_proto::limits::MAX_WS_MESSAGE_BYTES + 1].into(),
        ))
        .await;
    let closed = loop {
        match socket.next().await {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break true,
            Some(Ok(_)) => continue,
        }
    };
    assert!(closed, "the server closed the oversized connection");

    // Still serving.
    let health: pli_proto::api::HealthResponse = http
        .get(url("/v1/health"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(health.status, "ok");
    TestUser::register(&server, "still_works").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_beyond_the_per_source_limit_get_429_with_retry_after() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start_with(tempfile::tempdir().expect("dir"), |config| {
        config.registrations_per_hour = 2;
    })
    .await;
    TestUser::register(&server, "first").await;
    TestUser::register(&server, "second").await;
    let home = tempfile::tempdir().expect("dir");
    let refused = pli_client::Client::register(
        home.path(),
        &server.url,
        &pli_proto::Username::parse("third").expect("valid"),
        &pli_client::ConnectOptions::default(),
    )
    .await
    .err()
    .expect("the third registration from one address is refused");
    assert_eq!(refused.code(), Some(ErrorCode::RateLimited));
    let challenge: pli_proto::api::ChallengeResponse =
        reqwest::get(format!("{}/v1/register/challenge", server.url))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
    let response = reqwest::Client::new()
        .post(format!("{}/v1/accounts", server.url))
        .json(&json!({"username": "fourth", "challenge": challenge.challenge, "nonce": 0, "signature_key": "AAAA"}))
        .send()
        .await
        .expect("send");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    expect_error(response, 429, ErrorCode::RateLimited).await;
}

/// Refusals raised while reading a request (no upgrade headers, an unparsable query or path)
/// come in the API's JSON form like every other, and a plain request to the WebSocket
/// endpoint does not spend the ticket it carries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractor_refusals_are_json_and_do_not_spend_tickets() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start().await;
    let alice = TestUser::register(&server, "alice").await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let identity = alice.identity();
    let auth = format!("Pli {}.{}", identity.device_id, identity.secret);

    let ticket: pli_proto::api::TicketResponse = http
        .post(url("/v1/ws/ticket"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("ticket");
    let plain = http
        .get(url(&format!("/v1/ws?ticket={}", ticket.ticket)))
        .send()
        .await
        .expect("send");
    expect_error(plain, 400, ErrorCode::BadRequest).await;
    let ws_url = format!(
        "{}/v1/ws?ticket={}",
        server.url.replacen("http", "ws", 1),
        ticket.ticket
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("the ticket is still good");
    let first = socket.next().await.expect("a frame").expect("frame");
    assert!(matches!(first, Message::Binary(_)), "{first:?}");

    let bad_query = http
        .get(url("/v1/audit/inclusion?index=x&size=1"))
        .send()
        .await
        .expect("send");
    expect_error(bad_query, 400, ErrorCode::BadRequest).await;
    let bad_path = http
        .get(url("/v1/users/%FF%FE/devices"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("send");
    expect_error(bad_path, 400, ErrorCode::BadRequest).await;
}

/// The server describes its API, and the description covers the routes it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_its_openapi_description() {
    let server = TestServer::start().await;
    let description: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.url))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        description["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{description}"
    );
    let submit = &description["paths"]["/v1/messages"]["post"];
    for status in ["200", "400", "401", "409", "413", "429"] {
        assert!(submit["responses"][status].is_object(), "{status} missing");
    }
    assert!(description["paths"]["/admin/v1/requests"].is_object());
    let codes = &description["components"]["schemas"]["ErrorCode"]["enum"];
    assert!(
        codes
            .as_array()
            .is_some_and(|c| c.contains(&json!("stale_epoch")))
    );
}
