//! The staff console's security, without a browser: a real server (its admin API and the
//! console on a listener of their own, on a clock the test moves) and plain HTTP requests
//! carrying what a browser would carry. Sign-in needs the credential and, once enrolled,
//! a current TOTP code that is accepted once; sessions end; every form needs the session's
//! token and the console's own origin; the console is absent from the public listener; and
//! each action lands in the audit log under the staff id of the member who did it, refused
//! the same way the admin API refuses it. (The browser suite, `crates/pli-server/console-e2e/`, takes a
//! request from entry to disclosure by three staff in three browsers.)

#[path = "console/browser.rs"]
mod browser;
mod common;

use browser::{Browser, STEP_MS, Server, entries, post_owned, request_form};
use pli_client::admin::AdminClient;
use pli_proto::governance::{RequestState, RequestView, Role, StaffCredential};
use pli_server::clock::Clock as _;
use pli_server::console::totp;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_needs_the_credential_and_a_fresh_totp_code() {
    let server = Server::start().await;
    let ana = server.add("ana", Role::Legal).await;
    let mut browser = server.browser();

    // No session: pages send the browser to the sign-in page, which has the strict policy.
    let page = browser.get("/console/requests").await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, "/console/signin")
    );
    let page = browser.get("/console/signin").await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert_eq!(csp, pli_server::console::CSP);
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["cache-control"], "no-store");

    // A wrong secret opens nothing.
    let wrong = StaffCredential {
        secret: "00".repeat(32),
        ..ana.clone()
    };
    let page = browser.sign_in(&wrong, "").await;
    assert_eq!(
        (page.status, page.code()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    assert!(browser.cookie.is_none());

    // The credential alone opens the enrolment page, and nothing else.
    let page = browser.sign_in(&ana, "").await;
    assert_eq!(page.location(), "/console/enrol");
    let cookie = page.headers[SET_COOKIE].to_str().expect("cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert_eq!(
        browser.get("/console/requests").await.location(),
        "/console/signin"
    );
    let enrolling = browser.cookie.clone();
    let page = browser.get("/console/enrol").await;
    let csrf = page.csrf();
    let refused = browser
        .post("/console/enrol", &[("csrf", &csrf), ("code", "000000")])
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNAUTHORIZED, Some("bad_second_factor"))
    );
    let secret = browser.enrol_from_page(&server, &page.body, &csrf).await;
    assert_ne!(
        browser.cookie, enrolling,
        "a fresh session id once the second factor is confirmed"
    );
    let page = browser.get("/console/requests").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let log = server.log().await;
    let enrolled = entries(&log, "totp.enrol");
    assert_eq!(enrolled.len(), 1);
    assert_eq!(
        (enrolled[0].staff_id, enrolled[0].outcome.as_str()),
        (ana.staff_id, "ok")
    );
    assert!(
        !String::from_utf8_lossy(&serde_json::to_vec(&log).unwrap_or_default()).contains(&secret)
    );

    // The enrolling session's id no longer works.
    let mut old = server.browser();
    old.cookie = enrolling;
    assert_eq!(
        old.get("/console/requests").await.status,
        StatusCode::SEE_OTHER
    );

    // Signed out, a sign-in now needs a code: no code, a wrong one, the one spent at
    // enrolment (same step) are refused; the next step's code works, once.
    let page = browser.get("/console/requests").await;
    browser
        .post("/console/signout", &[("csrf", &page.csrf())])
        .await;
    assert!(browser.cookie.is_none());
    let mut fresh = server.browser();
    let now = server.clock.now_ms();
    for (code, expected) in [
        ("", "bad_second_factor"),
        ("123456", "bad_second_factor"),
        (
            &*totp::code_now(&secret, now).expect("code"),
            "second_factor_reused",
        ),
    ] {
        let page = fresh.sign_in(&ana, code).await;
        assert_eq!(
            (page.status, page.code()),
            (StatusCode::UNAUTHORIZED, Some(expected)),
            "{code:?}"
        );
        assert!(fresh.cookie.is_none());
    }
    let next = totp::code_now(&secret, now + STEP_MS).expect("code");
    let page = fresh.sign_in(&ana, &next).await;
    assert_eq!(
        (page.status, page.location()),
        (StatusCode::SEE_OTHER, "/console/requests")
    );
    let mut again = server.browser();
    let page = again.sign_in(&ana, &next).await;
    assert_eq!(
        page.code(),
        Some("second_factor_reused"),
        "a code is accepted once"
    );
    // Two steps away is too far.
    let far = totp::code_now(&secret, now + 3 * STEP_MS).expect("code");
    assert_eq!(
        again.sign_in(&ana, &far).await.code(),
        Some("bad_second_factor")
    );

    let log = server.log().await;
    let signins = entries(&log, "console.signin");
    let outcomes: Vec<(&str, &str)> = signins
        .iter()
        .map(|e| {
            (
                e.outcome.as_str(),
                e.details["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("refused", "bad_second_factor"),
            ("refused", "bad_second_factor"),
            ("refused", "second_factor_reused"),
            ("ok", ""),
            ("refused", "second_factor_reused"),
            ("refused", "bad_second_factor"),
        ]
    );
    assert!(signins.iter().all(|e| e.staff_id == ana.staff_id));

    // Fifteen idle minutes end the session.
    assert_eq!(fresh.get("/console/requests").await.status, StatusCode::OK);
    server.clock.advance(15 * 60 * 1000);
    assert_eq!(
        fresh.get("/console/requests").await.location(),
        "/console/signin"
    );

    // Attempts are limited per staff id (the idle wait refilled the allowance).
    let mut limited = None;
    for _ in 0..12 {
        let page = again.sign_in(&ana, "000000").await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            limited = page.code().map(str::to_owned);
            break;
        }
    }
    assert_eq!(limited.as_deref(), Some("rate_limited"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_need_the_session_token_and_the_consoles_own_origin() {
    let server = Server::start().await;
    let ana = server.add("ana", Role::Legal).await;
    let mut browser = server.browser();
    browser.enrol(&server, &ana).await;
    let page = browser.get("/console/requests/new").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The rules this request is held to"));
    let csrf = page.csrf();
    let good = request_form(&csrf);
    let without: Vec<(&str, String)> = good.iter().filter(|(k, _)| *k != "csrf").cloned().collect();
    let mut wrong = good.clone();
    wrong[0].1 = "f".repeat(64);
    let refused = [
        post_owned(&mut browser, "/console/requests", &without).await,
        post_owned(&mut browser, "/console/requests", &wrong).await,
    ];
    for page in &refused {
        assert_eq!(
            (page.status, page.code()),
            (StatusCode::FORBIDDEN, Some("csrf_refused"))
        );
    }
    let good_refs: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let own = browser.base.clone();
    for (origin, site) in [
        (Some("http://evil.example"), Some("cross-site")),
        (Some("http://evil.example"), None),
        (None, None),
        (Some(own.as_str()), Some("same-site")),
    ] {
        let page = browser
            .post_from("/console/requests", &good_refs, origin, site)
            .await;
        assert_eq!(
            (page.status, page.code()),
            (StatusCode::FORBIDDEN, Some("csrf_refused")),
            "{origin:?} {site:?}"
        );
    }
    // The sign-in form is held to the origin check too.
    let mut stranger = server.browser();
    let id = ana.staff_id.to_string();
    let page = stranger
        .post_from(
            "/console/signin",
            &[("staff_id", &id), ("secret", &ana.secret)],
            Some("http://evil.example"),
            Some("cross-site"),
        )
        .await;
    assert_eq!(page.code(), Some("csrf_refused"));
    assert!(stranger.cookie.is_none());

    assert!(
        entries(&server.log().await, "request.create").is_empty(),
        "nothing refused reached the API"
    );

    let page = post_owned(&mut browser, "/console/requests", &good).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location().starts_with("/console/requests/"));
    let created = entries(&server.log().await, "request.create")
        .into_iter()
        .map(|e| (e.staff_id, e.outcome.clone()))
        .collect::<Vec<_>>();
    assert_eq!(created, [(ana.staff_id, "ok".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_the_admin_api_with_its_rules_and_log() {
    let server = Server::start().await;
    let ana = server.add("ana", Role::Legal).await;
    let ben = server.add("ben", Role::Legal).await;
    let cleo = server.add("cleo", Role::Legal).await;
    let audrey = server.add("audrey", Role::Auditor).await;

    // Not on the public listener, which has an admin listener beside it.
    let mut public = Browser::new(&server.public);
    assert_eq!(
        public.get("/console/signin").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(public.get("/console").await.status, StatusCode::NOT_FOUND);

    let (mut a, mut b, mut c, mut d) = (
        server.browser(),
        server.browser(),
        server.browser(),
        server.browser(),
    );
    a.enrol(&server, &ana).await;
    b.enrol(&server, &ben).await;
    c.enrol(&server, &cleo).await;
    d.enrol(&server, &audrey).await;

    // Entered through the console by ana.
    let csrf = a.get("/console/requests/new").await.csrf();
    let page = post_owned(&mut a, "/console/requests", &request_form(&csrf)).await;
    let path = page.location().split('?').next().expect("path").to_owned();
    let id = path.rsplit('/').next().expect("id").to_owned();

    // Ana wrote it: the rule refuses her approval, on the page and if she tries anyway.
    let page = a.get(&path).await;
    assert!(
        page.body
            .contains("a reviewer who entered or edited a request cannot approve it")
    );
    assert!(!page.body.contains(&format!("action=\"{path}/approve\"")));
    let refused = a
        .post(&format!("{path}/approve"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("policy_refused"))
    );
    // An auditor's role has no approval at all: denied, as by the API.
    let page = d.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Approve this version"));
    let denied = d
        .post(&format!("{path}/approve"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    // Ben approves; the page says a second reviewer is still needed; Cleo approves.
    let page = b.get(&path).await;
    assert!(page.body.contains(&format!("action=\"{path}/approve\"")));
    let done = b
        .post(&format!("{path}/approve"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = c.get(&path).await;
    assert!(
        page.body.contains("A second reviewer is required"),
        "{}",
        page.body
    );
    let done = c
        .post(&format!("{path}/approve"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    // Cleo discloses: the signed package comes back as a download.
    let page = c.get(&path).await;
    let package = c
        .post(&format!("{path}/disclose"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(package.status, StatusCode::OK);
    assert!(
        package.headers["content-disposition"]
            .to_str()
            .expect("header")
            .starts_with("attachment")
    );
    let package: serde_json::Value = serde_json::from_str(&package.body).expect("json");
    assert_eq!(package["request_id"], id.as_str());
    let view: RequestView = AdminClient::new(&server.admin, Some(cleo.clone()), None)
        .expect("client")
        .get(&format!("/admin/v1/requests/{id}"))
        .await
        .expect("view");
    assert_eq!(view.state, RequestState::Disclosed);

    // Each step is in the log under the staff id of who did it, refusals included.
    let log = server.log().await;
    let steps: Vec<(&str, u64, &str)> = log
        .iter()
        .filter(|e| {
            e.action.starts_with("request.")
                && e.action != "request.show"
                && e.action != "request.list"
        })
        .map(|e| (e.action.as_str(), e.staff_id, e.outcome.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("request.create", ana.staff_id, "ok"),
            ("request.approve", ana.staff_id, "refused"),
            ("request.approve", audrey.staff_id, "denied"),
            ("request.approve", ben.staff_id, "ok"),
            ("request.approve", cleo.staff_id, "ok"),
            ("request.disclose", cleo.staff_id, "ok"),
        ]
    );
    assert!(
        entries(&log, "request.show")
            .iter()
            .any(|e| e.staff_id == audrey.staff_id),
        "reads are logged too"
    );

    // Revoking a member ends their session at once.
    let _: serde_json::Value = server
        .operator
        .post(
            &format!("/admin/v1/staff/{}/revoke", ben.staff_id),
            &serde_json::json!({}),
        )
        .await
        .expect("revoked");
    assert_eq!(
        b.get("/console/requests").await.location(),
        "/console/signin"
    );
}
