//! What the console tests drive: a server with its admin listener on a clock the test
//! moves, and a "browser" that keeps its session cookie and sends `Origin` with forms.

use super::common::test_config;
use pli_client::admin::AdminClient;
use pli_proto::audit::AuditEntry;
use pli_proto::governance::{NewStaff, Role, StaffCredential};
use pli_server::clock::ManualClock;
use pli_server::console::totp;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// 2026-12-01, mid-step: codes of the step before and after are one step away.
pub const START_MS: u64 = 1_796_083_215_000;
pub const STEP_MS: u64 = 30_000;

pub struct Server {
    pub public: String,
    pub admin: String,
    pub clock: ManualClock,
    pub operator: AdminClient,
    pub _data: tempfile::TempDir,
    pub _stop: oneshot::Sender<()>,
}

impl Server {
    pub async fn start() -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let (public_url, admin_url) = (
            format!("http://{}", public.local_addr().expect("address")),
            format!("http://{}", admin.local_addr().expect("address")),
        );
        let config = test_config(data.path());
        let root = pli_server::init_first_operator(&config, "root")
            .await
            .expect("init");
        let clock = ManualClock::new(START_MS);
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = pli_server::Listeners {
            public,
            admin: Some(admin),
            metrics: None,
        };
        tokio::spawn(pli_server::run_clocked(
            config,
            Arc::new(clock.clone()),
            listeners,
            async {
                let _ = stopped.await;
            },
        ));
        let operator = AdminClient::new(&admin_url, Some(root), None).expect("client");
        Self {
            public: public_url,
            admin: admin_url,
            clock,
            operator,
            _data: data,
            _stop: stop,
        }
    }

    pub async fn add(&self, name: &str, role: Role) -> StaffCredential {
        let new = NewStaff {
            name: name.into(),
            role,
        };
        self.operator
            .post("/admin/v1/staff", &new)
            .await
            .expect("staff add")
    }

    pub async fn log(&self) -> Vec<AuditEntry> {
        let export = AdminClient::new(&self.public, None, None)
            .expect("client")
            .export_log()
            .await
            .expect("log");
        export.verify(None).expect("the log verifies").entries
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.admin)
    }
}

/// What a browser sends: its session cookie, and `Origin` on forms.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The refusal's stable code, as the page carries it.
    pub fn code(&self) -> Option<&str> {
        let at = self.body.find("data-code=\"")? + "data-code=\"".len();
        self.body[at..].split('"').next()
    }

    /// The value of the hidden anti-forgery field.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form") + 19;
        self.body[at..].split('"').next().expect("value").to_owned()
    }
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    let escape = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: base.to_owned(),
            http,
            cookie: None,
        }
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.expect("response");
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let set = set.to_str().expect("cookie");
            let pair = set.split(';').next().expect("pair").to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// A form post from the console's own page (its `Origin`, `Sec-Fetch-Site`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.base.clone();
        self.post_from(path, form, Some(&origin), Some("same-origin"))
            .await
    }

    pub async fn post_from(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
        site: Option<&str>,
    ) -> Page {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        self.send(request).await
    }

    /// Signs in and enrols a second factor; returns its base32 secret.
    pub async fn enrol(&mut self, server: &Server, credential: &StaffCredential) -> String {
        let id = credential.staff_id.to_string();
        let page = self
            .post(
                "/console/signin",
                &[
                    ("staff_id", &id),
                    ("secret", &credential.secret),
                    ("code", ""),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/console/enrol");
        let page = self.get("/console/enrol").await;
        let secret = secret_of(&page.body);
        let code = totp::code_now(&secret, server.clock.now_ms()).expect("code");
        let done = self
            .post("/console/enrol", &[("csrf", &page.csrf()), ("code", &code)])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        secret
    }

    /// Signs in with the credential and `code`.
    pub async fn sign_in(&mut self, credential: &StaffCredential, code: &str) -> Page {
        let id = credential.staff_id.to_string();
        self.post(
            "/console/signin",
            &[
                ("staff_id", &id),
                ("secret", &credential.secret),
                ("code", code),
            ],
        )
        .await
    }
}

pub use pli_server::clock::Clock as _;

pub fn entries<'a>(log: &'a [AuditEntry], action: &str) -> Vec<&'a AuditEntry> {
    log.iter().filter(|e| e.action == action).collect()
}

/// The base32 secret the enrolment page shows (`<code id="totp-secret" …>SECRET</code>`).
pub fn secret_of(body: &str) -> String {
    let at = body.find("id=\"totp-secret\"").expect("the secret");
    body[at..]
        .split(['<', '>'])
        .nth(1)
        .expect("text")
        .to_owned()
}

impl Browser {
    /// Finishes an enrolment from its page, already fetched.
    pub async fn enrol_from_page(&mut self, server: &Server, body: &str, csrf: &str) -> String {
        let secret = secret_of(body);
        let code = totp::code_now(&secret, server.clock.now_ms()).expect("code");
        let done = self
            .post("/console/enrol", &[("csrf", csrf), ("code", &code)])
            .await;
        assert_eq!(
            (done.status, done.location()),
            (StatusCode::SEE_OTHER, "/console/requests"),
            "{}",
            done.body
        );
        secret
    }
}

pub fn request_form(csrf: &str) -> Vec<(&str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("authority", "Tribunal judiciaire de Paris".into()),
        ("country", "FR".into()),
        ("basis", "court-order".into()),
        ("doc_ref", "RG 26/123".into()),
        ("doc_sha256", "ab".repeat(32)),
        ("targets", "alice".into()),
        ("cat_subscriber", "on".into()),
    ]
}

pub async fn post_owned(browser: &mut Browser, path: &str, form: &[(&str, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(path, &pairs).await
}
