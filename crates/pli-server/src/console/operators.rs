//! The operators' pages: staff and their roles (add, change a role, revoke), the regions
//! and their policies (read-only: policies are configuration), retention runs and the key
//! directory's status. Each change is the admin API's own handler, after the role table's
//! check, so it is logged as the API logs it.

use super::api::admin;
use super::error::ConsoleError;
use super::guard::Posted;
use super::state::Staff;
use super::views::layout::{self, Section, role_name, when};
use crate::http::admin::{StaffActor, regions as ops, staff as api, staff_changes as changes};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{Path, State};
use maud::{Markup, html};
use pli_proto::governance::{NewStaff, Role, StaffRoleChange};
use serde::Deserialize;

fn role_select(id: &str, current: Option<Role>) -> Markup {
    html! {
        select id=(id) name="role" required {
            @for role in Role::ALL {
                option value=(role.as_str()) selected[current == Some(*role)] { (role_name(*role)) }
            }
        }
    }
}

async fn staff_page<S: Store>(
    state: &AppState<S>,
    staff: &Staff,
    notice: Option<Markup>,
) -> Result<Markup, ConsoleError> {
    let actor = staff.actor;
    let members = admin(
        state,
        actor,
        "staff.list",
        api::list(State(state.clone()), StaffActor(actor)),
    )
    .await?;
    let mut enrolled = Vec::with_capacity(members.len());
    for member in &members {
        enrolled.push(state.store.staff_totp(member.staff_id).await?.is_some());
    }
    let operator = crate::governance::roles::allowed("staff.add", staff.role);
    let csrf = layout::csrf(staff);
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        p { "Roles decide what each member may do (GOVERNANCE.md has the table). A member signs in to this console with their credential and a second factor they enrol at first sign-in." }
        table class="list" {
            caption class="visually-hidden" { "Staff members" }
            thead { tr {
                th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Second factor" }
                @if operator { th scope="col" { "Change" } }
            } }
            tbody {
                @for (member, enrolled) in members.iter().zip(&enrolled) {
                    tr {
                        td { (member.staff_id) }
                        td { (member.name) }
                        td { (role_name(member.role)) }
                        td { @if *enrolled { "enrolled" } @else { span class="dim" { "not yet" } } }
                        @if operator {
                            td class="row-actions" {
                                form method="post" action={ "/console/staff/" (member.staff_id) "/role" } class="inline" {
                                    (csrf)
                                    label for={ "role-" (member.staff_id) } class="visually-hidden" { "New role for " (member.name) }
                                    (role_select(&format!("role-{}", member.staff_id), Some(member.role)))
                                    button type="submit" { "Set role" }
                                }
                                form method="post" action={ "/console/staff/" (member.staff_id) "/revoke" } class="inline" {
                                    (csrf)
                                    button type="submit" class="danger" aria-label={ "Revoke " (member.name) } { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if operator {
            h2 { "Add a staff member" }
            form method="post" action="/console/staff" class="stacked inline-form" {
                (csrf)
                label for="name" { "Name (1 to 64 of a-z A-Z 0-9 - _ .)" }
                input id="name" name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]{1,64}";
                label for="new-role" { "Role" }
                (role_select("new-role", None))
                button type="submit" class="primary" { "Add" }
            }
        }
    };
    Ok(layout::page("Staff and roles", staff, Section::Staff, body))
}

pub async fn staff<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    staff_page(&state, &staff, None).await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

fn parse_role(text: &str) -> Result<Role, ConsoleError> {
    Role::parse(text).ok_or_else(|| ConsoleError::bad_form("choose a role"))
}

pub async fn add<S: Store>(
    State(state): State<AppState<S>>,
    Posted(staff, form): Posted<AddForm>,
) -> Result<Markup, ConsoleError> {
    let request = NewStaff {
        name: form.name.trim().to_owned(),
        role: parse_role(&form.role)?,
    };
    let call = api::add(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiJson(request),
    );
    let mut credential = admin(&state, staff.actor, "staff.add", call).await?;
    credential.server = None;
    let file = serde_json::to_string_pretty(&credential)
        .map_err(|e| crate::http::error::ApiError::internal(&e))?;
    let notice = html! {
        div class="done" role="status" {
            p { strong { (credential.name) " was added." } " Give them this credential file privately: it is shown once, and the server keeps only its hash. They sign in with its " code { "staff_id" } " and " code { "secret" } ", then enrol a second factor." }
            pre class="mono wrap" { (file) }
        }
    };
    staff_page(&state, &staff, Some(notice)).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn role<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<u64>,
    Posted(staff, form): Posted<RoleForm>,
) -> Result<Markup, ConsoleError> {
    let body = ApiJson(StaffRoleChange {
        role: parse_role(&form.role)?,
    });
    let call = changes::role(
        State(state.clone()),
        StaffActor(staff.actor),
        ApiPath(id),
        body,
    );
    let member = admin(&state, staff.actor, "staff.role", call).await?;
    let notice = html! { p class="done" role="status" { (member.name) " is now " (role_name(member.role)) "." } };
    staff_page(&state, &staff, Some(notice)).await
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn revoke<S: Store>(
    State(state): State<AppState<S>>,
    Path(id): Path<u64>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Markup, ConsoleError> {
    let call = changes::revoke(State(state.clone()), StaffActor(staff.actor), ApiPath(id));
    let member = admin(&state, staff.actor, "staff.revoke", call).await?;
    let notice = html! { p class="done" role="status" { (member.name) "'s credential is revoked; their console sessions ended with it." } };
    staff_page(&state, &staff, Some(notice)).await
}

pub async fn regions<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    crate::http::admin::permit(&state, staff.actor, "retention.run").await?;
    let policies = &state.governance.policies;
    let body = html! {
        p { "Each region's data lives in its own store under its own policy. Policies are configuration (" code { "[regions.NAME]" } " in the server's file): this page only shows them." }
        table class="list" {
            caption class="visually-hidden" { "Regions and their policies" }
            thead { tr {
                th scope="col" { "Region" } th scope="col" { "Recognised bases" } th scope="col" { "IP addresses kept" }
                th scope="col" { "Queued messages kept" } th scope="col" { "Deleted accounts' facts kept" } th scope="col" { "Abuse reports kept" } th scope="col" { "Emergency review within" }
                th scope="col" { "Reports in bands" } th scope="col" { "Notes to users" }
            } }
            tbody {
                @for (region, policy) in &policies.by_region {
                    tr {
                        th scope="row" { (region.to_string()) @if *region == policies.default_region { " " span class="dim" { "(default)" } } }
                        td { (policy.recognised_bases.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(", ")) }
                        td { @match policy.ip_retention_days { Some(days) => { (days) " days" }, None => { "never" } } }
                        td { (policy.queue_ttl_days) " days" }
                        td { (policy.deleted_retention_days) " days" }
                        td { (policy.report_retention_days) " days" }
                        td { (policy.emergency_review_ms / 3_600_000) " hours" }
                        td { @if policy.report_bands { "yes" } @else { "no" } }
                        td { (policy.notes) }
                    }
                }
            }
        }
    };
    Ok(layout::page(
        "Regions and policies",
        &staff,
        Section::Regions,
        body,
    ))
}

/// The newest published epoch of the key directory, found by galloping over the roots
/// (a few reads, however long the history).
async fn newest_epoch<S: Store>(
    state: &AppState<S>,
) -> Result<Option<crate::store::KtRoot>, ConsoleError> {
    let exists = |epoch: u64| async move {
        state
            .store
            .kt_roots(epoch, 1)
            .await
            .map(|r| r.into_iter().next())
    };
    let mut low = match exists(0).await? {
        Some(_) => 0,
        None => match exists(1).await? {
            Some(_) => 1,
            None => return Ok(None),
        },
    };
    let mut step = 1;
    while exists(low + step).await?.is_some() {
        low += step;
        step *= 2;
    }
    while step > 1 {
        step /= 2;
        if exists(low + step).await?.is_some() {
            low += step;
        }
    }
    Ok(exists(low).await?)
}

async fn operations_page<S: Store>(
    state: &AppState<S>,
    staff: &Staff,
    notice: Option<Markup>,
) -> Result<Markup, ConsoleError> {
    crate::http::admin::permit(state, staff.actor, "retention.run").await?;
    let keys = state.directory.keys();
    let pending = state.store.kt_pending().await?.users.len();
    let newest = newest_epoch(state).await?;
    let csrf = layout::csrf(staff);
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        div class="columns" {
            section aria-labelledby="retention-title" {
                h2 id="retention-title" { "Retention" }
                p { "The retention sweep applies each region's policy every 10 minutes: queued messages past their time, deleted accounts' facts, IP addresses. Run it now to apply a changed policy at once." }
                form method="post" action="/console/operations/retention" { (csrf) button type="submit" class="primary" { "Run retention now" } }
            }
            section aria-labelledby="directory-title" {
                h2 id="directory-title" { "Key directory" }
                dl class="fields" {
                    dt { "Name" } dd { code { (keys.origin) } }
                    dt { "Newest epoch" } dd {
                        @match &newest { Some(root) => { (root.epoch) " " span class="dim" { "root " code class="mono" { (hex::encode(&root.root[..8])) "…" } } }, None => { "none published yet" } }
                    }
                    dt { "Device changes waiting" } dd { (pending) }
                    dt { "Signing key" } dd { code class="mono" { (hex::encode(keys.signing_key.as_slice())) } }
                }
                p { "Changes are published on an interval, and whenever a lookup needs one." }
                form method="post" action="/console/operations/publish" { (csrf) button type="submit" { "Publish pending changes now" } }
            }
        }
    };
    Ok(layout::page(
        "Retention and key directory",
        staff,
        Section::Operations,
        body,
    ))
}

pub async fn operations<S: Store>(
    State(state): State<AppState<S>>,
    staff: Staff,
) -> Result<Markup, ConsoleError> {
    operations_page(&state, &staff, None).await
}

pub async fn retention<S: Store>(
    State(state): State<AppState<S>>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Markup, ConsoleError> {
    let call = ops::retention(State(state.clone()), StaffActor(staff.actor));
    let done = admin(&state, staff.actor, "retention.run", call).await?;
    let notice = html! { p class="done" role="status" {
        "Retention ran at " (when(state.clock.now_ms())) ": " (done.erased_accounts) " deleted accounts erased, " (done.expired_queue_entries) " expired queue entries removed ("
        (done.held_queue_entries) " kept under a hold), " (done.expired_holds) " holds ended, " (done.expired_ips) " IP addresses removed, " (done.expired_reports) " abuse reports deleted."
    } };
    operations_page(&state, &staff, Some(notice)).await
}

pub async fn publish<S: Store>(
    State(state): State<AppState<S>>,
    Posted(staff, Nothing {}): Posted<Nothing>,
) -> Result<Markup, ConsoleError> {
    let call = ops::publish_directory(State(state.clone()), StaffActor(staff.actor));
    let published = admin(&state, staff.actor, "directory.publish", call).await?;
    let notice = html! { p class="done" role="status" { "Published: the directory is at epoch " (published.epoch) "." } };
    operations_page(&state, &staff, Some(notice)).await
}
