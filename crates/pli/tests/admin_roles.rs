//! Who may do what: the role table in GOVERNANCE.md, the server's own table and the live
//! server all agree; no admin route returns content or touches devices or keys; the admin
//! API can live on its own listener.

mod common;

use common::{TestServer, TestUser, lawful_request, staff};
use pli_client::admin::AdminClient;
use pli_proto::ErrorCode;
use pli_proto::governance::{DataCategory, LegalBasis, RequestView, Role};
use pli_server::governance::roles::ADMIN_ROUTES;
use serde_json::json;
use std::collections::BTreeMap;

/// action → (route, allowed roles), read from the table in GOVERNANCE.md.
fn documented_table() -> BTreeMap<String, (String, Vec<Role>)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../GOVERNANCE.md"))
        .expect("GOVERNANCE.md");
    let header: Vec<String> = doc
        .lines()
        .find(|l| l.starts_with("| action |"))
        .expect("the role table")
        .split('|')
        .map(|c| c.trim().to_owned())
        .collect();
    doc.lines()
        .filter(|l| l.starts_with("| ") && l.contains("/admin/v1"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let roles = header
                .iter()
                .zip(&cells)
                .filter_map(|(name, cell)| Role::parse(name).filter(|_| *cell == "yes"))
                .collect();
            (cells[1].to_owned(), (cells[2].to_owned(), roles))
        })
        .collect()
}

#[test]
fn the_documented_role_table_is_the_servers() {
    let documented = documented_table();
    assert_eq!(
        documented.len(),
        ADMIN_ROUTES.len(),
        "every route is documented once"
    );
    for route in ADMIN_ROUTES {
        let (path, roles) = documented
            .get(route.action)
            .unwrap_or_else(|| panic!("{} is not documented", route.action));
        assert_eq!(
            path,
            &format!("{} {}", route.method, route.path),
            "{}",
            route.action
        );
        assert_eq!(roles.as_slice(), route.roles, "{}", route.action);
    }
}

/// A staff member added for the staff routes to act on; their id.
async fn add_target(staff: &common::Staff) -> u64 {
    let credential: pli_proto::governance::StaffCredential = staff
        .operator
        .post(
            "/admin/v1/staff",
            &json!({"name": "target", "role": "trust-safety"}),
        )
        .await
        .expect("staff add");
    credential.staff_id
}

async fn call(
    client: &AdminClient,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, pli_client::ClientError> {
    match method {
        "GET" => client.get(path).await,
        _ => client.post(path, body).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_documented_and_denials_are_logged() {
    let server = TestServer::start().await;
    TestUser::register(&server, "alice").await;
    let staff = staff(&server).await;
    // The member the staff routes act on: the operator's walk rotates, re-roles and revokes
    // them, and no other walker's credential.
    let target = add_target(&staff).await;
    let request: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::CourtOrder,
                &["alice"],
                &[DataCategory::Subscriber],
            ),
        )
        .await
        .expect("request");
    let by_role = [
        (Role::Operator, &staff.operator),
        (Role::Legal, &staff.legal[1]),
        (Role::TrustSafety, &staff.trust_safety),
        (Role::Auditor, &staff.auditor),
    ];
    let mut denials = 0;
    for route in ADMIN_ROUTES {
        let path = route
            .path
            .replace("{id}", &request.id)
            .replace("{staff_id}", &target.to_string())
            .replace("{username}", "alice");
        for (role, client) in &by_role {
            let result = call(client, route.method, &path, &json!({})).await;
            let denied = matches!(&result, Err(e) if e.code() == Some(ErrorCode::Forbidden));
            assert_eq!(
                denied,
                !route.roles.contains(role),
                "{} as {role}: {result:?}",
                route.action
            );
            denials += usize::from(denied);
        }
    }
    let export = AdminClient::new(&server.url, None, None)
        .expect("client")
        .export_log()
        .await
        .expect("log");
    let log = export.verify(None).expect("verifies");
    assert_eq!(
        log.entries.iter().filter(|e| e.outcome == "denied").count(),
        denials,
        "each denial is in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_route_returns_content_or_changes_devices_or_keys() {
    const CANARY: &str = "CANARY-admin-walk-9b1c";
    let server = TestServer::start().await;
    let mut alice = TestUser::register(&server, "alice").await;
    let bob = TestUser::register(&server, "bob").await;
    let direct = alice
        .client
        .direct_conversation(&bob.name)
        .await
        .expect("direct");
    alice.send(&direct, CANARY).await; // stays queued for bob: a ciphertext exists
    let staff = staff(&server).await;
    let target = add_target(&staff).await;
    let snapshot = async |server: &TestServer| {
        let db = server.db();
        let devices = (
            db.integers("SELECT device_id FROM devices ORDER BY device_id")
                .await,
            db.bytes("SELECT signature_key FROM devices ORDER BY device_id")
                .await,
        );
        let packages = db.bytes("SELECT data FROM key_packages ORDER BY id").await;
        let payloads = db.bytes("SELECT payload FROM messages").await;
        (devices, packages, payloads)
    };
    let (devices, packages, payloads) = snapshot(&server).await;
    assert!(!payloads.is_empty());

    let request: RequestView = staff.legal[0]
        .post(
            "/admin/v1/requests",
            &lawful_request(
                LegalBasis::CourtOrder,
                &["alice", "bob"],
                &[DataCategory::Subscriber, DataCategory::Devices],
            ),
        )
        .await
        .expect("request");
    let mut bodies = Vec::new();
    for route in ADMIN_ROUTES {
        let client = match route.roles[0] {
            // Edited by trust & safety: an editor may not approve, and the walk discloses
            // with the approvals of legal[1] and legal[2].
            _ if route.action == "request.edit" => &staff.trust_safety,
            Role::Operator => &staff.operator,
            Role::Legal => &staff.legal[1],
            Role::TrustSafety => &staff.trust_safety,
            Role::Auditor => &staff.auditor,
        };
        let path = route
            .path
            .replace("{id}", &request.id)
            .replace("{staff_id}", &target.to_string())
            .replace("{username}", "bob");
        let body = match route.action {
            "staff.add" => json!({"name": "walker", "role": "auditor"}),
            "staff.role" => json!({"role": "auditor"}),
            "request.create" | "request.edit" => serde_json::to_value(lawful_request(
                LegalBasis::CourtOrder,
                &["bob"],
                &[DataCategory::Subscriber, DataCategory::Devices],
            ))
            .expect("json"),
            "request.reject" => json!({"reason": "walk"}),
            "report.create" => json!({"period": "2026-Q4"}),
            _ => json!({}),
        };
        if route.action == "request.disclose" {
            for reviewer in &staff.legal[1..] {
                let _ = call(
                    reviewer,
                    "POST",
                    &format!("/admin/v1/requests/{}/approve", request.id),
                    &json!({}),
                )
                .await;
            }
        }
        if route.action == "request.reject" {
            continue; // rejecting now would prevent the disclosure walked next
        }
        let answer = call(client, route.method, &path, &body).await;
        bodies.push(format!("{} {answer:?}", route.action));
    }
    let everything = bodies.join("\n");
    assert!(
        everything.contains("request.disclose Ok"),
        "the walk reached a real disclosure: {everything}"
    );
    assert!(!everything.contains(CANARY));
    for payload in &payloads {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        assert!(
            !everything.contains(&b64[..40.min(b64.len())]),
            "a ciphertext left through the admin API"
        );
        assert!(!everything.contains(&hex::encode(&payload[..20.min(payload.len())])));
    }
    let (devices_after, packages_after, _) = snapshot(&server).await;
    assert_eq!(
        devices_after, devices,
        "no admin route adds, removes or rekeys a device"
    );
    assert_eq!(
        packages_after, packages,
        "no admin route publishes or consumes a key package"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_can_have_its_own_listener() {
    let data = tempfile::tempdir().expect("dir");
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (public_url, admin_url) = (
        format!("http://{}", public.local_addr().expect("addr")),
        format!("http://{}", admin.local_addr().expect("addr")),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pli_server::run_with_admin(
        common::test_config(data.path()),
        public,
        Some(admin),
        async {
            let _ = stopped.await;
        },
    ));
    let anonymous = |url: &str| AdminClient::new(url, None, None).expect("client");
    let on_public: Result<serde_json::Value, _> =
        anonymous(&public_url).get("/admin/v1/staff").await;
    assert_eq!(
        on_public.expect_err("absent").code(),
        Some(ErrorCode::NotFound)
    );
    let on_admin: Result<serde_json::Value, _> = anonymous(&admin_url).get("/admin/v1/staff").await;
    assert_eq!(
        on_admin.expect_err("needs staff").code(),
        Some(ErrorCode::Unauthorized)
    );
    let health: serde_json::Value = anonymous(&public_url)
        .get("/v1/health")
        .await
        .expect("public API serves");
    assert_eq!(health["status"], "ok");
    let _ = stop.send(());
    task.await.expect("task").expect("clean stop");
}
