//! The app's HTTP API against a real pli server in this process: the one-time token and the
//! session cookie, the Host/Origin guard, loopback only and one app per home, and every
//! form's bad input coming back with its stable code and what was typed.
//!
//! Nothing sleeps: the server's listener is bound before its task starts, and the app is
//! bound (its URL known) before it serves.

use pli_app::{App, AppError, AppOptions};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A pli server on a free loopback port; stops when dropped.
struct Server {
    url: String,
    _stop: oneshot::Sender<()>,
    _data: TempDir,
}

async fn server() -> Server {
    let data = tempfile::tempdir().expect("server data dir");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the server");
    let url = format!("http://{}", listener.local_addr().expect("server address"));
    let mut config = pli_server::Config::new(data.path());
    config.pow_difficulty = 4;
    config.registrations_per_hour = 10_000;
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(pli_server::run(config, listener, async {
        let _ = stopped.await;
    }));
    Server {
        url,
        _stop: stop,
        _data: data,
    }
}

/// What the app answered.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The stable code in the `x-pli-error` header.
    fn code(&self) -> &str {
        self.header("x-pli-error")
    }

    fn location(&self) -> &str {
        self.header("location")
    }

    /// An error with `status` and `code`, in the header and in the page's `data-code`.
    fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "status for {code}: {}", self.body);
        assert_eq!(self.code(), code, "x-pli-error");
        assert!(
            self.body.contains(&format!("data-code=\"{code}\"")),
            "the page shows data-code={code}: {}",
            self.body
        );
    }

    /// Every response carries the strict Content-Security-Policy.
    fn assert_strict_csp(&self) {
        let csp = self.header("content-security-policy");
        assert!(csp.contains("script-src 'self'"), "CSP: {csp}");
        assert!(!csp.contains("unsafe-inline"), "CSP: {csp}");
    }

    /// A redirect to a conversation: its id, 16 to 32 bytes in lowercase hex.
    fn conversation(&self) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        let id = self
            .location()
            .strip_prefix("/c/")
            .expect("a redirect to /c/<id>")
            .to_owned();
        assert!(
            (32..=64).contains(&id.len())
                && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{id}"
        );
        id
    }
}

/// One app on its own home, and a browser-like HTTP client that sets headers by hand.
struct TestApp {
    /// `http://127.0.0.1:PORT`
    base: String,
    port: u16,
    /// The printed URL, with its one-time token.
    url: String,
    /// `pli_app_session=...`, once the URL was opened.
    cookie: String,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
    _home: TempDir,
}

fn options(home: &std::path::Path, listen: &str) -> AppOptions {
    AppOptions {
        home: home.to_path_buf(),
        listen: listen.parse().expect("a socket address"),
        connect: Default::default(),
    }
}

fn bound(result: Result<App, AppError>) -> App {
    match result {
        Ok(app) => app,
        Err(err) => panic!("the app binds: {err} ({})", err.code()),
    }
}

impl TestApp {
    /// Bound and serving; the URL not opened yet.
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let home = tempfile::tempdir().expect("app home");
        let app = bound(App::bind(options(home.path(), "127.0.0.1:0")).await);
        let url = app.url();
        let addr = app.local_addr().expect("the app's address");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve(async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self {
            base: format!("http://{addr}"),
            port: addr.port(),
            url,
            cookie: String::new(),
            http,
            _stop: stop,
            _home: home,
        }
    }

    /// Serving, with the session cookie of the printed URL.
    async fn opened() -> Self {
        let mut app = Self::start().await;
        let reply = app.send(app.http.get(&app.url)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        app.cookie = reply
            .header("set-cookie")
            .split(';')
            .next()
            .expect("a cookie")
            .to_owned();
        app
    }

    /// Opened and registered as `name` on `server`.
    async fn registered(server: &Server, name: &str) -> Self {
        let app = Self::opened().await;
        let reply = app.register(&server.url, name, "").await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "register: {}",
            reply.body
        );
        assert_eq!(reply.location(), "/");
        app
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("the app answers");
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("a body"),
        }
    }

    /// A GET as the user's browser sends it: the session cookie.
    async fn get(&self, path: &str) -> Reply {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request.header(header::COOKIE, &self.cookie))
            .await
    }

    /// A POST as the browser sends a form of the app's own page: cookie and own Origin.
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header(header::ORIGIN, &self.base)
    }

    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let request = self
            .post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(request).await
    }

    async fn register(&self, server: &str, username: &str, region: &str) -> Reply {
        let fields = [
            ("server", server),
            ("username", username),
            ("region", region),
        ];
        self.form("/register", &fields).await
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A loopback port that nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test]
async fn the_printed_url_opens_once_and_pages_need_its_cookie() {
    let app = TestApp::start().await;
    let (open, token) = app.url.split_once("?token=").expect("a token in the URL");
    assert_eq!(open, format!("{}/open", app.base));
    assert_eq!(token.len(), 64, "a 32-byte token");

    // A wrong token is refused, and does not spend the real one.
    let wrong = app
        .send(app.http.get(format!("{open}?token={}", "0".repeat(64))))
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "bad_token");
    wrong.assert_strict_csp();

    let first = app.send(app.http.get(&app.url)).await;
    // A page of the app's own moves on to `/` (a Strict cookie is not sent along a
    // redirect chain begun by a launcher file).
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first
            .body
            .contains(r#"http-equiv="refresh" content="0;url=/""#),
        "{}",
        first.body
    );
    first.assert_strict_csp();
    let cookie = first.header("set-cookie");
    let name = format!("pli_app_session_{}=", app.port);
    assert!(
        cookie.starts_with(&name),
        "the cookie names the app's port: {cookie}"
    );
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    let session = cookie.split(';').next().expect("name=value").to_owned();
    assert!(session.len() > name.len() + 32, "{session}");

    let again = app.send(app.http.get(&app.url)).await;
    again.assert_error(StatusCode::UNAUTHORIZED, "token_spent");
    assert!(again.header("set-cookie").is_empty(), "no second cookie");

    let without = app.get("/").await;
    without.assert_error(StatusCode::UNAUTHORIZED, "no_session");
    without.assert_strict_csp();
    let forged = app.send(
        app.http
            .get(format!("{}/", app.base))
            .header(header::COOKIE, format!("pli_app_session_{}=00", app.port)),
    );
    forged
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "no_session");

    let with = app
        .send(
            app.http
                .get(format!("{}/", app.base))
                .header(header::COOKIE, format!("other=1; {session}")),
        )
        .await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.body);
    with.assert_strict_csp();
    assert!(with.body.contains("action=\"/register\""), "{}", with.body);
    assert!(with.body.contains("Register"), "{}", with.body);
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let app = TestApp::opened().await;
    let page = |host: String| {
        app.http
            .get(format!("{}/", app.base))
            .header(header::COOKIE, &app.cookie)
            .header(header::HOST, host)
    };
    // The app's own names pass; a rebinding site's name does not, cookie or not.
    let own = app.send(page(format!("localhost:{}", app.port))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let evil = app.send(page(format!("evil.example:{}", app.port))).await;
    evil.assert_error(StatusCode::FORBIDDEN, "foreign_host");
    evil.assert_strict_csp();
    let other_port = app.send(page(format!("127.0.0.1:{}", closed_port()))).await;
    other_port.assert_error(StatusCode::FORBIDDEN, "foreign_host");

    let fields = form_body(&[("server", "not a url"), ("username", "alice")]);
    let post = |origin: Option<&str>| {
        let request = app
            .http
            .post(format!("{}/register", app.base))
            .header(header::COOKIE, &app.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(fields.clone());
        match origin {
            Some(origin) => request.header(header::ORIGIN, origin),
            None => request,
        }
    };
    let cross = app.send(post(Some("http://evil.example"))).await;
    cross.assert_error(StatusCode::FORBIDDEN, "foreign_origin");
    let null = app.send(post(Some("null"))).await;
    null.assert_error(StatusCode::FORBIDDEN, "foreign_origin");
    let none = app.send(post(None)).await;
    none.assert_error(StatusCode::FORBIDDEN, "foreign_origin");
    // The same post from the app's own page reaches the form (and its own error).
    let same = app.send(post(Some(&app.base)).header("sec-fetch-site", "same-origin"));
    same.await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_server");
    let cross_site = post(Some(&app.base)).header("sec-fetch-site", "cross-site");
    let cross_site = app.send(cross_site).await;
    cross_site.assert_error(StatusCode::FORBIDDEN, "foreign_origin");

    let fetched = app.send(
        app.http
            .get(format!("{}/", app.base))
            .header(header::COOKIE, &app.cookie)
            .header("sec-fetch-site", "cross-site"),
    );
    fetched
        .await
        .assert_error(StatusCode::FORBIDDEN, "foreign_origin");
}

#[tokio::test]
async fn only_loopback_and_only_one_app_per_home() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    match App::bind(options(&home, "0.0.0.0:0")).await {
        Err(AppError::NotLoopback) => {}
        Err(other) => panic!("expected NotLoopback, got {other}"),
        Ok(_) => panic!("an app bound to 0.0.0.0"),
    }
    assert!(!home.exists(), "refused before touching the home");

    let first = bound(App::bind(options(&home, "127.0.0.1:0")).await);
    match App::bind(options(&home, "127.0.0.1:0")).await {
        Err(AppError::HomeInUse) => {}
        Err(other) => panic!("expected HomeInUse, got {other}"),
        Ok(_) => panic!("a second app bound the same home"),
    }
    drop(first);
    // The lock goes with the app that held it.
    bound(App::bind(options(&home, "127.0.0.1:0")).await);
}

#[tokio::test]
async fn registration_errors_are_clear_and_keep_what_was_typed() {
    let server = server().await;
    let app = TestApp::opened().await;

    let reply = app.register("not a url", "alice", "").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_server");
    assert!(reply.body.contains("value=\"not a url\""), "{}", reply.body);
    assert!(reply.body.contains("value=\"alice\""), "{}", reply.body);

    let reply = app.register(&server.url, "A!", "").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_username");
    assert!(reply.body.contains("value=\"A!\""), "{}", reply.body);
    assert!(reply.body.contains(&format!("value=\"{}\"", server.url)));

    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let reply = app.register(&nowhere, "alice", "").await;
    reply.assert_error(StatusCode::BAD_GATEWAY, "server_unreachable");
    assert!(reply.body.contains(&format!("value=\"{nowhere}\"")));

    let reply = app.register(&server.url, "alice", "zz").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "unknown_region");
    assert!(
        reply.body.contains("value=\"zz\" selected"),
        "{}",
        reply.body
    );

    // None of that made an account: the name is still free, and this app still onboarding.
    let reply = app.register(&server.url, "alice", "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/");
    let home = app.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("@alice"), "{}", home.body);
    assert!(!home.body.contains("action=\"/register\""), "{}", home.body);
    let again = app.register(&server.url, "alicia", "").await;
    again.assert_error(StatusCode::BAD_REQUEST, "already_registered");

    let other = TestApp::opened().await;
    let reply = other.register(&server.url, "alice", "").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "username_taken");
    assert!(reply.body.contains("value=\"alice\""), "{}", reply.body);
}

#[tokio::test]
async fn chat_group_and_device_errors_and_a_message_that_goes() {
    let server = server().await;
    let alice = TestApp::registered(&server, "alice").await;
    let _bob = TestApp::registered(&server, "bob").await;

    let reply = alice.form("/chats", &[("username", "!!")]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_username");
    assert!(reply.body.contains("value=\"!!\""), "{}", reply.body);
    let reply = alice.form("/chats", &[("username", "alice")]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "own_username");
    let reply = alice.form("/chats", &[("username", "nobody")]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "unknown_user");
    assert!(reply.body.contains("value=\"nobody\""), "{}", reply.body);

    let reply = alice
        .form("/groups", &[("name", "  "), ("members", "bob")])
        .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_name");
    assert!(reply.body.contains("value=\"bob\""), "{}", reply.body);
    let fields = [("name", "Team"), ("members", "bob bad!name")];
    let reply = alice.form("/groups", &fields).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_username");
    assert!(reply.body.contains("value=\"Team\""), "{}", reply.body);
    assert!(
        reply.body.contains("value=\"bob bad!name\""),
        "{}",
        reply.body
    );

    let id = alice
        .form("/chats", &[("username", "bob")])
        .await
        .conversation();
    // Asked again, the same conversation opens.
    let again = alice.form("/chats", &[("username", "bob")]).await;
    assert_eq!(again.conversation(), id);
    let send = format!("/c/{id}/send");
    let reply = alice.form(&send, &[("text", " \n ")]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "empty_message");
    let long = "x".repeat(64 * 1024 + 1);
    let reply = alice.form(&send, &[("text", &long)]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "message_too_long");
    assert!(
        reply.body.contains(&long),
        "the draft stays in the composer"
    );

    let text = "hello from the composer";
    let sent = alice.form(&send, &[("text", text)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location(), format!("/c/{id}"));
    let newer = alice.get(&format!("/c/{id}/after?after=0")).await;
    assert_eq!(newer.status, StatusCode::OK, "{}", newer.body);
    assert!(newer.body.contains(text), "{}", newer.body);
    let page = alice.get(&format!("/c/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(text) && page.body.contains("bob"));

    let zero = "0".repeat(64);
    alice
        .get(&format!("/c/{zero}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    alice
        .form(&format!("/c/{zero}/send"), &[("text", "lost")])
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let reply = alice.form("/devices/approve", &[("code", "nope")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let code = reply.code().to_owned();
    assert!(
        code == "invalid" || code == "bad_link_code",
        "code {code:?}"
    );
    reply.assert_error(StatusCode::BAD_REQUEST, &code);
    assert!(reply.body.contains(">nope</textarea>"), "{}", reply.body);

    let json = alice
        .post("/chats")
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"username":"bob"}"#);
    alice
        .send(json)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_form");
}

#[tokio::test]
async fn blocking_closes_a_conversation_and_reports_refuse_bad_input() {
    let server = server().await;
    let alice = TestApp::registered(&server, "alice").await;
    let _bob = TestApp::registered(&server, "bob").await;
    let id = alice
        .form("/chats", &[("username", "bob")])
        .await
        .conversation();
    let send = format!("/c/{id}/send");
    let sent = alice.form(&send, &[("text", "before the block")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    // Blocking asks first; once blocked, the composer is closed and a send is refused.
    let confirm = alice.get(&format!("/c/{id}/block")).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Block @bob?"), "{}", confirm.body);
    let blocked = alice.form(&format!("/c/{id}/block"), &[]).await;
    assert_eq!(blocked.location(), format!("/c/{id}"), "{}", blocked.body);
    let page = alice.get(&format!("/c/{id}")).await;
    assert!(page.body.contains("Unblock @bob"), "{}", page.body);
    assert!(
        page.body.contains(r#"data-code="blocked""#),
        "{}",
        page.body
    );
    let reply = alice.form(&send, &[("text", "after the block")]).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "blocked");
    assert!(reply.body.contains(">after the block</textarea>"), "kept");

    let unblocked = alice.form(&format!("/c/{id}/unblock"), &[]).await;
    assert_eq!(unblocked.location(), format!("/c/{id}"));
    let page = alice.get(&format!("/c/{id}")).await;
    assert!(!page.body.contains("Unblock @bob"), "{}", page.body);
    let sent = alice.form(&send, &[("text", "after the unblock")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    // Only a received message can be reported; the form's own fields are checked too.
    let own = alice.get(&format!("/c/{id}/after?after=0")).await;
    let own_id = own
        .body
        .split("data-id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a message's local id")
        .to_owned();
    let report = format!("/c/{id}/report");
    for (message, reason) in [(own_id.as_str(), "spam"), ("999999", "spam"), ("x", "spam")] {
        alice
            .form(&report, &[("message", message), ("reason", reason)])
            .await
            .assert_error(StatusCode::BAD_REQUEST, "unknown_message");
    }
    let zero = "0".repeat(64);
    for path in ["report", "block", "unblock"] {
        alice
            .form(&format!("/c/{zero}/{path}"), &[("message", "1")])
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}
