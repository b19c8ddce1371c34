//! Trust & safety actions on a real server with real clients: a suspension stops sending,
//! claiming and linking but not receiving; the account is told and appeals once; the staff
//! member who acted cannot decide the appeal; an overturned suspension and a reinstated ban
//! let the account send again; the public figures count all of it and recompute from the
//! log (`pli audit report`); and a suspension holds across two nodes on PostgreSQL.

mod common;

use common::{TestServer, TestUser, code, serve_binary, share_database};
use pli_client::reporting::ReportSelection;
use pli_client::transport::{Credentials, DeliveryStream, Transport};
use pli_proto::ErrorCode;
use pli_proto::abuse::{
    ActionKind, ActionView, AppealDecisionRequest, AppealOutcome, ReasonRequest, ReportReason,
    ResolveRequest,
};
use pli_proto::frame::{ServerFrame, Submit};
use pli_proto::governance::{NewStaff, ReportRequest, Role, StaffCredential};
use pli_proto::report::Report;
use std::time::Duration;

/// How long a socket may take to close at the other node once an action is taken (the
/// notification crosses PostgreSQL): a deadline, not a wait.
const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

/// Reads (and acks) a new socket's backlog, up to `Drained`.
async fn drain(stream: &mut DeliveryStream) {
    loop {
        match stream.next_frame().await.expect("frame").expect("open") {
            ServerFrame::Deliver(items) => stream
                .ack(items.iter().map(|d| d.id).collect())
                .await
                .expect("ack"),
            ServerFrame::Drained => return,
            other => panic!("unexpected frame while draining: {other:?}"),
        }
    }
}

/// Bob sends alice `text` in their 1:1 and alice reports it; the report's id.
async fn reported(
    alice: &mut TestUser,
    bob: &mut TestUser,
    direct: &pli_proto::GroupId,
    text: &str,
) -> u64 {
    bob.send(direct, text).await;
    alice.receive().await;
    let filed = alice
        .client
        .report(
            direct,
            &ReportSelection::Last(1),
            ReportReason::Spam,
            None,
            false,
        )
        .await
        .expect("report");
    filed[0].id
}

fn resolve(action: ActionKind, days: Option<u32>) -> ResolveRequest {
    ResolveRequest {
        action,
        days,
        reason: "unsolicited advertising".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_hold_the_account_is_told_and_appeals_go_to_another_staff_member() {
    // Exact counts, no bands: the figures below are small.
    let data = tempfile::tempdir().expect("dir");
    let server = TestServer::start_with(data, |config| config.report_bands = false).await;
    let (mut alice, mut bob, direct) = common::alice_and_bob(&server).await;
    let mut carol = TestUser::register(&server, "carol").await;
    let staff = common::staff(&server).await;
    let second: StaffCredential = staff
        .operator
        .post(
            "/admin/v1/staff",
            &NewStaff {
                name: "ts2".into(),
                role: Role::TrustSafety,
            },
        )
        .await
        .expect("a second trust & safety member");
    let ts2 = common::staff_client(&server, second);
    bob.receive().await;
    carol.receive().await;

    let first = reported(&mut alice, &mut bob, &direct, "buy my course").await;
    let suspended: ActionView = staff
        .trust_safety
        .post(
            &format!("/admin/v1/abuse-reports/{first}/resolve"),
            &resolve(ActionKind::Suspend, Some(7)),
        )
        .await
        .expect("suspend");
    assert_eq!(suspended.kind, ActionKind::Suspend);
    assert_eq!(suspended.account, bob.name);
    assert_eq!(suspended.report_id, Some(first));
    // The public log commits to the reason; it does not carry it, nor any name.
    let log = server.db().bytes("SELECT entry FROM audit_log").await;
    let entry = log
        .iter()
        .find(|e| common::contains(e, b"abuse.action"))
        .expect("the action's entry");
    let reason = pli_server::moderation::reason_commitment(suspended.id, &suspended.reason);
    assert!(common::contains(entry, reason.as_bytes()));
    assert!(!common::contains(entry, b"advertising") && !common::contains(entry, b"bob"));

    // Bob may not send, start a conversation (claim) or link a device; he still receives.
    let refused = bob.client.send_text(&direct, "still selling").await;
    assert_eq!(code(refused), ErrorCode::AccountSuspended);
    let claim = bob.client.direct_conversation(&carol.name).await;
    assert_eq!(code(claim), ErrorCode::AccountSuspended);
    alice.send(&direct, "please stop").await;
    bob.client.sync().await.expect("bob still receives");
    let events = bob.client.take_new().expect("events");
    let texts = common::texts(events.clone());
    assert!(
        texts.iter().any(|(_, _, t)| t == "please stop"),
        "{texts:?}"
    );
    let told: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            pli_client::Event::Notice { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        told.iter()
            .any(|t| t.contains("suspended your account") && t.contains("unsolicited advertising")),
        "{told:?}"
    );

    // One appeal per action, by the account acted on only.
    bob.client
        .appeal(suspended.id, "it was one message")
        .await
        .expect("appeal");
    assert_eq!(
        code(bob.client.appeal(suspended.id, "again").await),
        ErrorCode::AppealExists
    );
    assert_eq!(
        code(alice.client.appeal(suspended.id, "me too").await),
        ErrorCode::UnknownAction
    );
    let decide = |outcome| AppealDecisionRequest {
        outcome,
        reason: "a first offence".into(),
    };
    let path = format!("/admin/v1/actions/{}/appeal/decide", suspended.id);
    let by_actor = staff
        .trust_safety
        .post::<_, ActionView>(&path, &decide(AppealOutcome::Overturned))
        .await;
    assert_eq!(code(by_actor), ErrorCode::PolicyRefused);
    let decided: ActionView = ts2
        .post(&path, &decide(AppealOutcome::Overturned))
        .await
        .expect("another member decides");
    assert_eq!(
        decided.appeal.and_then(|a| a.outcome),
        Some(AppealOutcome::Overturned)
    );
    assert_eq!(
        code(
            ts2.post::<_, ActionView>(&path, &decide(AppealOutcome::Upheld))
                .await
        ),
        ErrorCode::InvalidState,
        "an appeal is decided once"
    );
    bob.send(&direct, "sorry").await;

    // A ban holds until a reinstatement.
    let second = reported(&mut alice, &mut bob, &direct, "buy my course, again").await;
    let _: ActionView = staff
        .trust_safety
        .post(
            &format!("/admin/v1/abuse-reports/{second}/resolve"),
            &resolve(ActionKind::Ban, None),
        )
        .await
        .expect("ban");
    assert_eq!(
        code(bob.client.send_text(&direct, "hello?").await),
        ErrorCode::AccountSuspended
    );
    let _: ActionView = ts2
        .post(
            &format!("/admin/v1/accounts/{}/reinstate", bob.name),
            &ReasonRequest {
                reason: "banned in error".into(),
            },
        )
        .await
        .expect("reinstate");
    bob.send(&direct, "back").await;
    let actions: Vec<ActionView> = staff
        .trust_safety
        .get(&format!("/admin/v1/accounts/{}/actions", bob.name))
        .await
        .expect("actions");
    let kinds: Vec<ActionKind> = actions.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [ActionKind::Suspend, ActionKind::Ban, ActionKind::Reinstate]
    );
    // Staff outside trust & safety cannot act.
    let operator = staff
        .operator
        .post::<_, ActionView>(
            &format!("/admin/v1/abuse-reports/{second}/resolve"),
            &resolve(ActionKind::Warn, None),
        )
        .await;
    assert_eq!(code(operator), ErrorCode::Forbidden);

    // The public figures count reports, actions and appeals, and recompute from the log.
    let period = {
        let today = (pli_server::delivery::wall_clock_ms() / 86_400_000) as i64;
        let (year, month, _) = pli_proto::governance::civil_from_days(today);
        format!("{year}-Q{}", (month - 1) / 3 + 1)
    };
    let report: Report = staff
        .auditor
        .post("/admin/v1/reports", &ReportRequest { period })
        .await
        .expect("report");
    let figures = report.figures.as_ref().expect("exact totals");
    assert_eq!(figures.abuse_reports_by_reason["spam"].count, 2);
    let by_kind = &figures.abuse_actions_by_kind;
    assert_eq!(
        ["suspend", "ban", "reinstate"].map(|k| by_kind[k].count),
        [1, 1, 1]
    );
    assert_eq!(figures.appeals.count, 1);
    assert_eq!(figures.appeal_outcomes["overturned"].count, 1);
    // The public page shows them, each traced to its log entries.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let page_url = format!("{}/transparency/{}", server.url, report.log_size - 1);
    let page = reqwest::get(&page_url)
        .await
        .expect("the report's page")
        .text()
        .await
        .expect("html");
    let spam_row = page
        .split("<tr>")
        .find(|row| row.contains("Abuse reports received: spam"))
        .expect("a row for spam reports");
    assert!(spam_row.contains("<td>2</td>"), "{spam_row}");
    assert!(page.contains("Appeals decided: overturned"));
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), serde_json::to_vec(&report).expect("json")).expect("write");
    let confirmed = common::run_pli(
        &[
            "audit",
            "report",
            "--server",
            &server.url,
            "--report",
            common::path_str(file.path()),
        ],
        &[],
    )
    .await
    .expect("pli audit report");
    assert!(confirmed.starts_with("confirmed"), "{confirmed}");

    // A suspended account may still delete itself.
    let third = reported(&mut alice, &mut bob, &direct, "last chance offer").await;
    let _: ActionView = staff
        .trust_safety
        .post(
            &format!("/admin/v1/abuse-reports/{third}/resolve"),
            &resolve(ActionKind::Suspend, Some(30)),
        )
        .await
        .expect("suspend again");
    bob.client
        .delete_account()
        .await
        .expect("a suspended account deletes itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_holds_across_two_nodes_on_postgresql() {
    let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
    let dir = tempfile::tempdir().expect("dir");
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b"] {
        let data = dir.path().join(name);
        share_database(&data, &url);
        let (process, url) = serve_binary(&data).await;
        nodes.push((process, url));
    }
    let (a, b) = (nodes[0].1.clone(), nodes[1].1.clone());
    let mut alice = TestUser::register_at(&a, "alice").await;
    let mut bob = TestUser::register_at(&a, "bob").await;
    let carol = TestUser::register_at(&b, "carol").await;
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    bob.receive().await;
    let staff = common::staff_at(&a, &dir.path().join("node-a")).await;
    let report = reported(&mut alice, &mut bob, &direct, "free money").await;
    // Bob's delivery socket at node b, open before the action.
    let identity = bob.identity();
    let at_b = Transport::new(&b, None)
        .expect("transport")
        .with_credentials(Credentials {
            device_id: identity.device_id,
            secret: identity.secret,
        });
    let mut before = at_b.connect().await.expect("bob's socket at node b");
    drain(&mut before).await;
    let _: ActionView = staff
        .trust_safety
        .post(
            &format!("/admin/v1/abuse-reports/{report}/resolve"),
            &resolve(ActionKind::Suspend, Some(1)),
        )
        .await
        .expect("suspend at node a");

    // The socket at node b closes, and the next one refuses bob's submissions.
    let closed = tokio::time::timeout(CLOSE_DEADLINE, async {
        while let Ok(Some(frame)) = before.next_frame().await {
            if let ServerFrame::Deliver(items) = frame {
                let _ = before.ack(items.iter().map(|d| d.id).collect()).await;
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the action closed bob's socket at the other node"
    );
    let mut after = at_b.connect().await.expect("bob reconnects at node b");
    drain(&mut after).await;
    let submit = Submit {
        reference: 1,
        group: direct.clone(),
        recipients: vec![alice.client.device_id()],
        message: vec![0, 1, 2],
    };
    after.submit_all([submit]).await.expect("submit");
    let answer = loop {
        match after.next_frame().await.expect("frame").expect("open") {
            ServerFrame::Refused { code, .. } => break code,
            ServerFrame::Deliver(items) => {
                after
                    .ack(items.iter().map(|d| d.id).collect())
                    .await
                    .expect("ack");
            }
            other => panic!("unexpected frame: {other:?}"),
        }
    };
    assert_eq!(answer, ErrorCode::AccountSuspended.as_str());

    // At node b, bob is suspended over HTTP too.
    bob.reopen(&b);
    assert_eq!(
        code(bob.client.send_text(&direct, "from node b").await),
        ErrorCode::AccountSuspended
    );
    assert_eq!(
        code(bob.client.direct_conversation(&carol.name).await),
        ErrorCode::AccountSuspended
    );
    alice.send(&direct, "at node a").await;
    let got = bob.receive().await;
    assert!(got.iter().any(|(_, _, t)| t == "at node a"), "{got:?}");

    let _: ActionView = staff
        .trust_safety
        .post(
            &format!("/admin/v1/accounts/{}/reinstate", bob.name),
            &ReasonRequest {
                reason: "served".into(),
            },
        )
        .await
        .expect("reinstate at node a");
    bob.send(&direct, "from node b, reinstated").await;
    for (mut process, _) in nodes {
        process.start_kill().expect("stop");
        let _ = process.wait().await;
    }
}
