//! Staff credentials revoked and rotated and roles changed, on the real server: each takes
//! effect with the next call, each is an audit entry (naming the member, never the
//! secret), and the last operator can be neither revoked nor demoted, even by two nodes
//! racing to do it.

mod common;

use common::{
    TestServer, TestUser, code, lawful_request, serve_binary, share_database, staff, staff_client,
};
use pli_client::admin::AdminClient;
use pli_proto::ErrorCode;
use pli_proto::audit::AuditEntry;
use pli_proto::governance::{
    DataCategory, LegalBasis, NewStaff, RequestView, Role, StaffCredential, StaffInfo,
    StaffRoleChange,
};
use serde_json::json;

async fn id_of(operator: &AdminClient, name: &str) -> u64 {
    let staff: Vec<StaffInfo> = operator.get("/admin/v1/staff").await.expect("staff list");
    staff
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is staff"))
        .staff_id
}

async fn rotate(
    operator: &AdminClient,
    id: u64,
) -> Result<StaffCredential, pli_client::ClientError> {
    operator
        .post(&format!("/admin/v1/staff/{id}/rotate"), &json!({}))
        .await
}

async fn revoke(operator: &AdminClient, id: u64) -> Result<StaffInfo, pli_client::ClientError> {
    operator
        .post(&format!("/admin/v1/staff/{id}/revoke"), &json!({}))
        .await
}

async fn set_role(
    operator: &AdminClient,
    id: u64,
    role: Role,
) -> Result<StaffInfo, pli_client::ClientError> {
    operator
        .post(
            &format!("/admin/v1/staff/{id}/role"),
            &StaffRoleChange { role },
        )
        .await
}

/// The verified log of the server at `url` (`pli audit verify`'s check).
async fn verified_log(url: &str) -> Vec<AuditEntry> {
    AdminClient::new(url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log")
        .verify(None)
        .expect("the log verifies")
        .entries
}

/// Of two operators demoting each other at once, one wins; the other is refused: as the
/// last operator (`last_operator`) if it was still an operator when authorised, or as a
/// non-operator (`forbidden`) if the winner's change landed first. Returns whether the
/// first call won.
fn one_wins<T: std::fmt::Debug>(
    first: &Result<T, pli_client::ClientError>,
    second: &Result<T, pli_client::ClientError>,
) -> bool {
    let lost = |r: &Result<T, pli_client::ClientError>| matches!(r, Err(e) if matches!(e.code(), Some(ErrorCode::LastOperator | ErrorCode::Forbidden)));
    assert!(
        (first.is_ok() && lost(second)) || (lost(first) && second.is_ok()),
        "{first:?} {second:?}"
    );
    first.is_ok()
}

fn acts<'a>(log: &'a [AuditEntry], action: &str) -> Vec<&'a AuditEntry> {
    log.iter().filter(|e| e.action == action).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_credential_stops_at_once_and_a_rotated_one_is_replaced() {
    let server = TestServer::start().await;
    let staff = staff(&server).await;
    let auditor = id_of(&staff.operator, "auditor").await;
    let ts = id_of(&staff.operator, "ts").await;
    let _: Vec<StaffInfo> = staff.auditor.get("/admin/v1/staff").await.expect("works");

    let rotated = rotate(&staff.operator, auditor).await.expect("rotate");
    assert_eq!(
        (rotated.staff_id, rotated.name.as_str(), rotated.role),
        (auditor, "auditor", Role::Auditor)
    );
    let old: Result<Vec<StaffInfo>, _> = staff.auditor.get("/admin/v1/staff").await;
    assert_eq!(code(old), ErrorCode::Unauthorized, "the old secret is dead");
    let secret = rotated.secret.clone();
    let renewed = staff_client(&server, rotated);
    let _: Vec<StaffInfo> = renewed
        .get("/admin/v1/staff")
        .await
        .expect("the new one works");

    let _: Vec<RequestView> = staff
        .trust_safety
        .get("/admin/v1/requests")
        .await
        .expect("works");
    let revoked = revoke(&staff.operator, ts).await.expect("revoke");
    assert_eq!((revoked.staff_id, revoked.role), (ts, Role::TrustSafety));
    let after: Result<Vec<RequestView>, _> = staff.trust_safety.get("/admin/v1/requests").await;
    assert_eq!(code(after), ErrorCode::Unauthorized, "revoked at once");
    let listed: Vec<StaffInfo> = staff.operator.get("/admin/v1/staff").await.expect("list");
    assert!(listed.iter().all(|s| s.staff_id != ts));
    assert_eq!(
        code(revoke(&staff.operator, ts).await),
        ErrorCode::UnknownStaff
    );
    assert_eq!(
        code(rotate(&staff.operator, ts).await),
        ErrorCode::UnknownStaff
    );

    let log = verified_log(&server.url).await;
    let rotations = acts(&log, "staff.rotate");
    assert_eq!(rotations.len(), 2);
    assert_eq!(
        (rotations[0].outcome.as_str(), &rotations[0].details),
        ("ok", &json!({ "staff_id": auditor }))
    );
    assert_eq!(rotations[1].outcome, "refused");
    let revocations = acts(&log, "staff.revoke");
    assert_eq!(
        revocations
            .iter()
            .map(|e| (e.outcome.as_str(), e.details["staff_id"].as_u64()))
            .collect::<Vec<_>>(),
        vec![("ok", Some(ts)), ("refused", Some(ts))]
    );
    assert!(
        revocations[1].details["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no staff member")),
        "{:?}",
        revocations[1].details
    );
    // Nothing of the secret, nor of its hash, is in the log.
    let text = serde_json::to_string(&log).expect("json");
    let hash = hex::encode(pli_server::accounts::hash_secret(&secret));
    assert!(!text.contains(&secret) && !text.contains(&hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_changes_what_the_member_may_do() {
    let server = TestServer::start().await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    let auditor = id_of(&staff.operator, "auditor").await;
    let legal = staff.legal_ids[0];
    let add = |name: &str| NewStaff {
        name: name.into(),
        role: Role::Legal,
    };
    let before: Result<StaffCredential, _> =
        staff.auditor.post("/admin/v1/staff", &add("early")).await;
    assert_eq!(code(before), ErrorCode::Forbidden);

    let changed = set_role(&staff.operator, auditor, Role::Operator)
        .await
        .expect("promote");
    assert_eq!((changed.staff_id, changed.role), (auditor, Role::Operator));
    let _: StaffCredential = staff
        .auditor
        .post("/admin/v1/staff", &add("later"))
        .await
        .expect("an operator now");

    let body = lawful_request(
        LegalBasis::Subpoena,
        &["alice"],
        &[DataCategory::Subscriber],
    );
    let _: RequestView = staff.legal[0]
        .post("/admin/v1/requests", &body)
        .await
        .expect("legal may enter requests");
    set_role(&staff.operator, legal, Role::Auditor)
        .await
        .expect("demote");
    let refused: Result<RequestView, _> = staff.legal[0].post("/admin/v1/requests", &body).await;
    assert_eq!(code(refused), ErrorCode::Forbidden);
    let _: Vec<StaffInfo> = staff.legal[0]
        .get("/admin/v1/staff")
        .await
        .expect("an auditor may list staff");

    let bad: Result<StaffInfo, _> = staff
        .operator
        .post(
            &format!("/admin/v1/staff/{auditor}/role"),
            &json!({"role": "root"}),
        )
        .await;
    assert_eq!(code(bad), ErrorCode::BadRequest);
    assert_eq!(
        code(set_role(&staff.operator, 7, Role::Legal).await),
        ErrorCode::UnknownStaff
    );

    let log = verified_log(&server.url).await;
    let changes: Vec<_> = acts(&log, "staff.role")
        .into_iter()
        .filter(|e| e.outcome == "ok")
        .map(|e| e.details.clone())
        .collect();
    assert_eq!(
        changes,
        vec![
            json!({ "staff_id": auditor, "role": "operator" }),
            json!({ "staff_id": legal, "role": "auditor" }),
        ]
    );
    // The refused attempt on the old role is logged under the role the member had then.
    let denied = log
        .iter()
        .find(|e| e.action == "request.create" && e.outcome == "denied")
        .expect("denial logged");
    assert_eq!((denied.staff_id, denied.role.as_str()), (legal, "auditor"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_operator_can_be_neither_revoked_nor_demoted() {
    let server = TestServer::start().await;
    let staff = staff(&server).await;
    let root = id_of(&staff.operator, "root").await;
    let auditor = id_of(&staff.operator, "auditor").await;

    assert_eq!(
        code(revoke(&staff.operator, root).await),
        ErrorCode::LastOperator
    );
    assert_eq!(
        code(set_role(&staff.operator, root, Role::Legal).await),
        ErrorCode::LastOperator
    );
    let _: Vec<StaffInfo> = staff
        .operator
        .get("/admin/v1/staff")
        .await
        .expect("still works");
    // Rotating the last operator's own credential takes no operator away.
    let renewed = staff_client(
        &server,
        rotate(&staff.operator, root).await.expect("rotate"),
    );

    // Two operators demoting each other at once: one of them wins, one operator remains.
    set_role(&renewed, auditor, Role::Operator)
        .await
        .expect("promote");
    let (first, second) = tokio::join!(
        set_role(&renewed, auditor, Role::Auditor),
        set_role(&staff.auditor, root, Role::Legal),
    );
    // Root demoting the auditor won, and root is the operator left; or the other way round.
    let survivor = if one_wins(&first, &second) {
        &renewed
    } else {
        &staff.auditor
    };
    let listed: Vec<StaffInfo> = survivor.get("/admin/v1/staff").await.expect("list");
    let operators: Vec<u64> = listed
        .iter()
        .filter(|s| s.role == Role::Operator)
        .map(|s| s.staff_id)
        .collect();
    assert_eq!(operators.len(), 1, "{listed:?}");
    assert_eq!(
        code(revoke(survivor, operators[0]).await),
        ErrorCode::LastOperator
    );

    let log = verified_log(&server.url).await;
    let refused: Vec<_> = log
        .iter()
        .filter(|e| e.outcome == "refused" && e.action.starts_with("staff."))
        .map(|e| (e.action.as_str(), e.details["staff_id"].as_u64()))
        .collect();
    // Refused: root's revocation and demotion, the loser of the race if it was still an
    // operator when it called (else it was denied), and the survivor's revocation.
    let raced = usize::from(
        [&first, &second]
            .iter()
            .any(|r| matches!(r, Err(e) if e.code() == Some(ErrorCode::LastOperator))),
    );
    assert_eq!(refused.len(), 3 + raced, "{refused:?}");
    assert_eq!(
        refused[..2],
        [("staff.revoke", Some(root)), ("staff.role", Some(root))]
    );
    assert_eq!(refused[2 + raced], ("staff.revoke", Some(operators[0])));
}

/// Two nodes on one PostgreSQL database: a revocation through one holds on the other at
/// once, and two operators demoting each other through different nodes cannot both win.
/// On PostgreSQL whatever `PLI_TEST_DATABASE` says: SQLite is one process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_nodes_revocations_hold_at_once_and_one_operator_remains() {
    let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
    let dir = tempfile::tempdir().expect("dir");
    let mut nodes = Vec::new();
    for name in ["node-a", "node-b"] {
        let data = dir.path().join(name);
        share_database(&data, &url);
        nodes.push(serve_binary(&data).await);
    }
    let (a, b) = (nodes[0].1.clone(), nodes[1].1.clone());
    let config = common::test_config(&dir.path().join("node-a"));
    let root = pli_server::init_first_operator(&config, "root")
        .await
        .expect("init");
    let root_id = root.staff_id;
    let at = |url: &str, credential: StaffCredential| {
        AdminClient::new(url, Some(credential), None).expect("admin client")
    };
    let on_a = at(&a, root.clone());
    let add = async |name: &str, role: Role| -> StaffCredential {
        on_a.post(
            "/admin/v1/staff",
            &NewStaff {
                name: name.into(),
                role,
            },
        )
        .await
        .expect("staff add")
    };
    let second = add("second", Role::Operator).await;
    let second_id = second.staff_id;
    let watcher = add("watcher", Role::Auditor).await;
    let watcher_id = watcher.staff_id;
    let watcher_on_b = at(&b, watcher);
    let _: Vec<StaffInfo> = watcher_on_b.get("/admin/v1/staff").await.expect("works");
    revoke(&on_a, watcher_id).await.expect("revoke through a");
    let after: Result<Vec<StaffInfo>, _> = watcher_on_b.get("/admin/v1/staff").await;
    assert_eq!(code(after), ErrorCode::Unauthorized, "refused by b at once");

    let second_on_b = at(&b, second);
    let (first, other) = tokio::join!(
        set_role(&on_a, second_id, Role::Legal),
        set_role(&second_on_b, root_id, Role::Legal),
    );
    let survivor = if one_wins(&first, &other) {
        &on_a
    } else {
        &second_on_b
    };
    let listed: Vec<StaffInfo> = survivor.get("/admin/v1/staff").await.expect("list");
    assert_eq!(
        listed.iter().filter(|s| s.role == Role::Operator).count(),
        1,
        "{listed:?}"
    );
    let log = verified_log(&a).await;
    let changes = acts(&log, "staff.role");
    assert_eq!(changes.iter().filter(|e| e.outcome == "ok").count(), 1);
    for (mut process, _) in nodes {
        process.start_kill().expect("stop");
        let _ = process.wait().await;
    }
}

/// With regions, staff live in the global store: changes land there, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_regions_changes_land_in_the_global_store() {
    let clock = pli_server::clock::ManualClock::new(1_800_000_000_000);
    let server = TestServer::start_clocked(clock, |config| {
        config.regions = common::test_regions(&config.data_dir, &["eu", "us"]);
    })
    .await;
    let staff = staff(&server).await;
    let (root, auditor, ts) = (
        id_of(&staff.operator, "root").await,
        id_of(&staff.operator, "auditor").await,
        id_of(&staff.operator, "ts").await,
    );
    revoke(&staff.operator, ts).await.expect("revoke");
    let after: Result<Vec<RequestView>, _> = staff.trust_safety.get("/admin/v1/requests").await;
    assert_eq!(code(after), ErrorCode::Unauthorized);
    set_role(&staff.operator, auditor, Role::Operator)
        .await
        .expect("promote");
    let _: StaffCredential = staff
        .auditor
        .post(
            "/admin/v1/staff",
            &NewStaff {
                name: "by-auditor".into(),
                role: Role::Legal,
            },
        )
        .await
        .expect("an operator now");
    revoke(&staff.auditor, root)
        .await
        .expect("another operator remains");
    assert_eq!(
        code(revoke(&staff.auditor, auditor).await),
        ErrorCode::LastOperator
    );
    verified_log(&server.url).await;
}
