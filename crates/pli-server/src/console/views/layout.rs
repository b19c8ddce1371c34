//! The page shell every console page shares: one stylesheet from the console itself,
//! no script, no third-party asset; the member's name and role, the navigation their role
//! may use, and the sign-out button.

use crate::console::state::Staff;
use crate::governance::roles;
use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};
use pli_proto::ErrorCode;
use pli_proto::governance::{Role, format_day};

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Requests,
    Audit,
    Reports,
    Staff,
    Regions,
    Operations,
}

/// The sections `role` may use, each only where the role table allows its action. (Trust
/// & safety's report queue comes with the abuse-report feature; until then the console
/// has no section for it.)
fn sections(role: Role) -> Vec<(Section, &'static str, &'static str)> {
    let mut items = Vec::new();
    if roles::allowed("request.list", role) {
        items.push((Section::Requests, "/console/requests", "Requests"));
    }
    if matches!(role, Role::Auditor | Role::Operator) {
        items.push((Section::Audit, "/console/audit", "Audit log"));
    }
    if roles::allowed("report.create", role) {
        items.push((Section::Reports, "/console/reports", "Reports"));
    }
    if roles::allowed("staff.list", role) {
        items.push((Section::Staff, "/console/staff", "Staff"));
    }
    if role == Role::Operator {
        items.push((Section::Regions, "/console/regions", "Regions"));
        items.push((Section::Operations, "/console/operations", "Operations"));
    }
    items
}

/// The first page a member lands on after signing in.
pub fn home(role: Role) -> &'static str {
    sections(role)
        .first()
        .map_or("/console/audit", |(_, href, _)| href)
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            meta name="referrer" content="same-origin";
            title { (title) " · pli staff console" }
            link rel="stylesheet" href="/console/assets/console.css";
        }
    }
}

/// A page for a signed-in member.
pub fn page(title: &str, staff: &Staff, current: Section, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    span class="brand" { "pli " span class="sub" { "staff console" } }
                    nav aria-label="Main" {
                        ul {
                            @for (section, href, label) in sections(staff.role) {
                                li { a href=(href) aria-current=[(section == current).then_some("page")] { (label) } }
                            }
                        }
                    }
                    div class="who" {
                        span { (staff.name) " · " (role_name(staff.role)) " · #" (staff.actor.staff_id) }
                        form method="post" action="/console/signout" {
                            (csrf(staff))
                            button type="submit" class="quiet" { "Sign out" }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
                footer class="foot" {
                    p { "Every action here goes through the admin API's own checks and is written to the public audit log under your staff id." }
                }
            }
        }
    }
}

/// A page before sign-in (no navigation).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body class="bare" {
                main id="main" class="narrow" {
                    p class="brand" { "pli " span class="sub" { "staff console" } }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The page for a refused or failed request: what happened and its stable code.
pub fn refusal(status: StatusCode, code: ErrorCode, message: &str) -> Markup {
    bare(
        "Not done",
        html! {
            div class="refusal" role="alert" data-code=(code.as_str()) {
                p { (message) }
                p class="code" { "Error code " code { (code.as_str()) } " (HTTP " (status.as_u16()) ")" }
            }
            p { a href="/console" { "Back to the console" } }
        },
    )
}

/// The session's anti-forgery token, as a hidden field of a form.
pub fn csrf(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Legal => "legal reviewer",
        Role::TrustSafety => "trust & safety",
        Role::Auditor => "auditor",
    }
}

/// A time as people read it in logs: `2026-12-06 22:46 UTC`.
pub fn when(ms: u64) -> String {
    let minutes = ms / 60_000;
    let day = (minutes / 1440) as i64;
    let (h, m) = ((minutes % 1440) / 60, minutes % 60);
    format!("{} {h:02}:{m:02} UTC", format_day(day))
}

/// A staff id, with the member's name when known.
pub fn who(id: u64, names: &std::collections::HashMap<u64, String>) -> Markup {
    match names.get(&id) {
        Some(name) => html! { span class="who-id" { (name) " " span class="dim" { "#" (id) } } },
        None if id == 0 => html! { span class="who-id" { "the server" } },
        None => html! { span class="who-id" { "#" (id) } },
    }
}
