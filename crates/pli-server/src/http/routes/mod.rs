//! One file per endpoint: its handler and the checks specific to it.

mod account;
mod appeals;
mod attachments;
mod audit;
mod claim;
mod devices;
mod directory;
pub(crate) mod ephemeral;
mod health;
mod inventory;
mod key_packages;
mod policy;
mod profile;
mod register;
mod reports;
pub(crate) mod submit;
mod transparency;
mod ws;

use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::routing::{delete, get, post, put};
use pli_proto::api::paths;

pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(paths::HEALTH, get(health::health))
        .route(paths::READY, get(health::ready::<S>))
        .route(paths::POLICY, get(policy::policy::<S>))
        .route(paths::MY_INVENTORY, get(inventory::mine::<S>))
        .route(paths::CHALLENGE, get(register::challenge::<S>))
        .route(paths::ACCOUNTS, post(register::register::<S>))
        .route(paths::ACCOUNT_SELF, delete(account::delete::<S>))
        .route(paths::SELF_DEVICE, get(key_packages::self_device::<S>))
        .route(paths::KEY_PACKAGES, post(key_packages::upload::<S>))
        .route(paths::USER_DEVICES, get(devices::list::<S>))
        .route(paths::DEVICES, post(devices::add::<S>))
        .route(paths::DEVICE, delete(devices::remove::<S>))
        .route(paths::DEVICE_HISTORY, post(devices::relay_history::<S>))
        .route(paths::USER_CLAIM, post(claim::claim::<S>))
        .route(paths::MESSAGES, post(submit::submit::<S>))
        .route(paths::EPHEMERAL, post(ephemeral::ephemeral::<S>))
        .route(paths::ATTACHMENTS, post(attachments::create::<S>))
        .route(paths::ATTACHMENT, get(attachments::status::<S>))
        .route(
            paths::ATTACHMENT_CHUNK,
            put(attachments::put_chunk::<S>).get(attachments::get_chunk::<S>),
        )
        .route(paths::ATTACHMENT_FETCHED, post(attachments::fetched::<S>))
        .route(
            paths::MY_PROFILE,
            put(profile::put::<S>).delete(profile::delete::<S>),
        )
        .route(paths::USER_PROFILE, get(profile::get::<S>))
        .route(paths::REPORTS, post(reports::file::<S>))
        .route(paths::MY_ACTIONS, get(appeals::mine::<S>))
        .route(paths::MY_ACTION_APPEAL, post(appeals::appeal::<S>))
        .route(paths::WEBSOCKET, get(ws::upgrade::<S>))
        .route(paths::WEBSOCKET_TICKET, post(ws::ticket::<S>))
        .route(paths::AUDIT_KEY, get(audit::key::<S>))
        .route(paths::AUDIT_ENTRIES, get(audit::entries::<S>))
        .route(paths::AUDIT_CHECKPOINTS, get(audit::checkpoints::<S>))
        .route(paths::AUDIT_CONSISTENCY, get(audit::consistency::<S>))
        .route(paths::AUDIT_INCLUSION, get(audit::inclusion::<S>))
        .route(paths::AUDIT_COSIGNATURES, post(audit::cosign::<S>))
        .route(paths::DIRECTORY_KEYS, get(directory::keys::<S>))
        .route(paths::DIRECTORY_ROOTS, get(directory::roots::<S>))
        .route(paths::DIRECTORY_AUDIT, get(directory::audit::<S>))
        .route(paths::DIRECTORY_HISTORY, get(directory::history::<S>))
        .route(paths::USER_DIRECTORY, get(directory::lookup::<S>))
        // For people, not programs: HTML, so not in the OpenAPI description below.
        .route(crate::transparency::PATH, get(transparency::index::<S>))
        .route(crate::transparency::STYLE_PATH, get(transparency::style))
        .route("/transparency/{id}", get(transparency::report::<S>))
        .route(
            "/transparency/{id}/report.json",
            get(transparency::report_json::<S>),
        )
}

/// The user API's description; [`crate::http::openapi`] completes it.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        health::health,
        health::ready,
        policy::policy,
        inventory::mine,
        register::challenge,
        register::register,
        account::delete,
        key_packages::self_device,
        key_packages::upload,
        devices::list,
        devices::add,
        devices::remove,
        devices::relay_history,
        claim::claim,
        submit::submit,
        ephemeral::ephemeral,
        attachments::create,
        attachments::status,
        attachments::put_chunk,
        attachments::get_chunk,
        attachments::fetched,
        profile::put,
        profile::delete,
        profile::get,
        reports::file,
        appeals::mine,
        appeals::appeal,
        ws::upgrade,
        ws::ticket,
        audit::key,
        audit::entries,
        audit::checkpoints,
        audit::consistency,
        audit::inclusion,
        audit::cosign,
        directory::keys,
        directory::roots,
        directory::audit,
        directory::lookup,
        directory::history,
    ),
    tags(
        (name = "accounts", description = "Registration with a proof of work"),
        (name = "keys", description = "MLS key packages and device keys"),
        (name = "messages", description = "Submitting MLS messages"),
        (name = "attachments", description = "Encrypted attachments, uploaded and downloaded in chunks"),
        (name = "abuse", description = "Reporting received messages, verifiably (message franking)"),
        (name = "delivery", description = "The delivery WebSocket"),
        (name = "directory", description = "The key transparency directory: keys, signed roots, proofs"),
        (name = "audit", description = "The public, verifiable audit log of staff actions"),
        (name = "service", description = "Liveness and the regions' data policies"),
    )
)]
pub struct PublicApi;
