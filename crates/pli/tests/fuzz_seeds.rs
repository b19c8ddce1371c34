//! Real traffic through pli's decoders: a real session's queued MLS messages, key packages,
//! frames, request bodies, audit entries and checkpoints all decode as what they are. With
//! `PLI_FUZZ_SEEDS=1` the same bytes are written to `fuzz/corpus/<target>/seed-*`, the
//! fuzzers' starting points.

mod common;

use common::{TestServer, TestUser, lawful_request, staff};
use pli_proto::frame::{ClientFrame, Delivery, KIND_MLS, ServerFrame, Submit};
use pli_proto::governance::{DataCategory, LegalBasis, RequestView};
use pli_proto::{MessageId, payload};

fn write_seeds(target: &str, seeds: &[Vec<u8>]) {
    if std::env::var_os("PLI_FUZZ_SEEDS").is_none() {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:03}")), seed).expect("write seed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_traffic_decodes_and_seeds_the_fuzzers() {
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let group = alice
        .client
        .create_group("seeds", std::slice::from_ref(&bob.name))
        .await
        .expect("group");
    alice.send(&group, "a message for the corpus").await;
    let staff = staff(&server).await;
    let _: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(LegalBasis::Subpoena, &["bob"], &[DataCategory::Subscriber]),
        )
        .await
        .expect("request");

    let db = server.db();
    let messages = db.bytes("SELECT payload FROM messages ORDER BY id").await;
    let key_packages = db
        .bytes("SELECT data FROM key_packages ORDER BY id LIMIT 4")
        .await;
    assert!(
        messages.len() >= 3,
        "welcome, commit, meta and text are queued for bob"
    );
    for message in &messages {
        let submit = pli_proto::api::SubmitRequest {
            group_id: group.clone(),
            message: message.clone().into(),
            recipients: vec![bob.client.device_id()],
            welcome: None,
        };
        match pli_server::delivery::parse_submission(submit, 0, 10) {
            Ok(_) | Err(pli_server::delivery::DeliveryError::NotPrivateMessage) => {}
            Err(other) => panic!("a real message was refused: {other}"),
        }
    }
    let frames: Vec<Vec<u8>> = vec![
        ServerFrame::Deliver(
            messages
                .iter()
                .enumerate()
                .map(|(i, m)| Delivery {
                    id: MessageId(i as u64 + 1),
                    kind: KIND_MLS,
                    payload: m.clone(),
                })
                .collect(),
        )
        .encode(),
        ServerFrame::Drained.encode(),
        ClientFrame::Ack(vec![MessageId(1), MessageId(2)]).encode(),
        ClientFrame::Submit(Submit {
            reference: 1,
            group: group.clone(),
            recipients: vec![bob.client.device_id()],
            message: messages[messages.len() - 1].clone(),
        })
        .encode(),
        ServerFrame::Accepted {
            reference: 1,
            id: MessageId(5),
            epoch: 1,
        }
        .encode(),
        ServerFrame::Refused {
            reference: 2,
            code: "stale_epoch".into(),
        }
        .encode(),
    ];
    for frame in &frames {
        assert!(ServerFrame::decode(frame).is_ok() || ClientFrame::decode(frame).is_ok());
    }
    let envelope = payload::Envelope {
        v: payload::ENVELOPE_VERSION,
        seq: 2,
        prev: Some("00".repeat(32)),
        sent_at: 1_700_000_000_000,
        body: payload::Body::text("a message for the corpus"),
        kt: Some(payload::RootRef::new(4, &[9; 32])),
        id: None,
        frank: None,
        expires: None,
    }
    .encode();
    let export = pli_client::admin::AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    export.verify(None).expect("the real log verifies");
    let bodies: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&pli_proto::api::SubmitRequest {
            group_id: group.clone(),
            message: messages[0].clone().into(),
            recipients: vec![bob.client.device_id()],
            welcome: None,
        })
        .expect("json"),
        serde_json::to_vec(&lawful_request(
            LegalBasis::CourtOrder,
            &["alice"],
            &[DataCategory::Devices],
        ))
        .expect("json"),
        br#"{"username":"alice","challenge":"1.2.3","nonce":7,"signature_key":"AAAA"}"#.to_vec(),
    ];
    write_seeds("frames", &frames);
    write_seeds("envelope", &[envelope]);
    write_seeds("api_bodies", &bodies);
    write_seeds(
        "mls_submission",
        &messages
            .iter()
            .chain(&key_packages)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut audit: Vec<Vec<u8>> = export
        .entries
        .iter()
        .take(6)
        .map(|e| e.clone().into_bytes())
        .collect();
    audit.extend(
        export
            .checkpoints
            .iter()
            .take(3)
            .map(|c| c.clone().into_bytes()),
    );
    write_seeds("audit", &audit);
}
