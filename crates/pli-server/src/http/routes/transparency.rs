//! `/transparency`: the public transparency page (`crate::transparency`), for people
//! rather than programs: HTML under a strict CSP, its stylesheet, and each report's signed
//! JSON for `pli audit report`. Read-only, and built from what the audit API serves.

use crate::governance::report::{Log, Made};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use crate::transparency::checkpoint::{self, LogState};
use crate::transparency::page::{self, Listed, Style};
use crate::transparency::verify::{self, Verify};
use crate::transparency::{CSP, STYLE, TransparencyError, report_json_path};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::Markup;
use pli_proto::ErrorCode;

impl From<TransparencyError> for ApiError {
    fn from(err: TransparencyError) -> Self {
        match err {
            TransparencyError::Store(err) => err.into(),
            TransparencyError::Governance(err) => err.into(),
            TransparencyError::NoCheckpoint | TransparencyError::BadCheckpoint => {
                ApiError::internal(&err)
            }
        }
    }
}

fn unknown_report() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no transparency report has that id",
    )
}

/// An HTML page with the headers that keep it inert: the CSP, no sniffing, no referrer.
fn html(markup: Markup) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The log grows: a page read again should show its new checkpoint.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// This server's address as the request names it, for the commands on the page: `https`
/// unless a plain-HTTP server is reached on a loopback name (a TLS-terminating proxy in
/// front of a plain one keeps the name it was reached by). `None` for a name that is not
/// plainly a host and port, which the page then does not repeat.
fn server_url(headers: &HeaderMap, uri: &Uri, tls: bool) -> Option<String> {
    let host = match uri.authority() {
        Some(authority) => authority.as_str(),
        None => headers.get(header::HOST)?.to_str().ok()?,
    };
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !plain {
        return None;
    }
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme = if tls || !loopback { "https" } else { "http" };
    Some(format!("{scheme}://{host}"))
}

/// What every page's verification section needs: the log read once, and its checkpoint.
async fn gather<S: Store>(
    state: &AppState<S>,
) -> Result<(Log, Option<LogState>), TransparencyError> {
    let log = Log::read(&state.store).await?;
    let current = checkpoint::current(
        &state.store,
        &state.governance,
        &state.config.witnesses,
        log.size(),
    )
    .await?;
    Ok((log, current))
}

fn log_key<S: Store>(state: &AppState<S>) -> String {
    base64::engine::general_purpose::STANDARD.encode(state.governance.log_key().key.as_bytes())
}

/// `GET /transparency`: every report made, newest first.
#[tracing::instrument(skip_all)]
pub async fn index<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let (log, current) = gather(&state).await?;
    let listed: Vec<Listed> = log
        .made()
        .into_iter()
        .rev()
        .map(|made| Listed {
            seq: made.seq,
            report: log.report(&state.governance, &made),
        })
        .collect();
    let verify = verify::section(&Verify {
        server: server_url(&headers, &uri, state.config.tls.is_some()),
        key: log_key(&state),
        log: current.as_ref(),
        report: None,
    });
    Ok(html(page::index(
        state.governance.origin(),
        &listed,
        verify,
    )))
}

/// The report whose `report.create` entry is at the position `raw` names.
fn made(log: &Log, raw: Result<Path<String>, PathRejection>) -> Result<Made, ApiError> {
    let Path(raw) = raw.map_err(|_| unknown_report())?;
    raw.parse::<u64>()
        .ok()
        .filter(|seq| seq.to_string() == raw)
        .and_then(|seq| log.made_at(seq))
        .ok_or_else(unknown_report)
}

/// `GET /transparency/{id}`: one report, readable, with how to check it.
#[tracing::instrument(skip_all)]
pub async fn report<S: Store>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let (log, current) = gather(&state).await?;
    let made = made(&log, id)?;
    let report = log.report(&state.governance, &made);
    let verify = verify::section(&Verify {
        server: server_url(&headers, &uri, state.config.tls.is_some()),
        key: log_key(&state),
        log: current.as_ref(),
        report: Some((&report, report_json_path(made.seq))),
    });
    Ok(html(page::report(&report, Style::Linked, Some(verify))))
}

/// `GET /transparency/{id}/report.json`: the same report, signed, as `pli admin report`
/// writes it.
#[tracing::instrument(skip_all)]
pub async fn report_json<S: Store>(
    State(state): State<AppState<S>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let log = Log::read(&state.store).await?;
    let made = made(&log, id)?;
    let report = log.report(&state.governance, &made);
    let body = serde_json::to_vec_pretty(&report).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// `GET /transparency/style.css`.
pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        STYLE,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, tls: bool) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().expect("a header value"));
        server_url(&headers, &Uri::from_static("/transparency"), tls)
    }

    #[test]
    fn the_server_url_follows_the_host_and_is_https_unless_local_and_plain() {
        assert_eq!(
            url("127.0.0.1:8080", false).as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            url("[::1]:8080", false).as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(
            url("localhost:1", true).as_deref(),
            Some("https://localhost:1")
        );
        assert_eq!(
            url("pli.example", false).as_deref(),
            Some("https://pli.example")
        );
        assert_eq!(url("a<b>", false), None);
        assert_eq!(url("a b", false), None);
    }
}
