//! `GET /openapi.json`: the API's OpenAPI description, generated from the handlers'
//! annotations and the body types (utoipa), so it cannot drift from the code it describes.
//!
//! Each handler documents its success and its own refusals. The refusals any route can
//! give — a malformed request, a missing credential, a body over the limit, a rate limit,
//! the connection cap, an internal failure — are added here, once, to every operation, so
//! an API fuzzer holding the server to this description finds no undocumented answer.
//!
//! Each admin operation also names the roles that may call it, from the role table
//! (`governance::roles`): in its description and, for tools, as `x-pli-roles` (the API
//! fuzzer calls each operation as a staff member holding one of them).

use crate::http::surface::Surface;
use pli_proto::error::ErrorBody;
use pli_proto::limits::MAX_HTTP_BODY_BYTES;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response};
use utoipa::{OpenApi as _, PartialSchema, ToSchema};

/// Where the description is served.
pub const PATH: &str = "/openapi.json";

/// The description of the routes one listener serves.
pub fn description(surface: Surface) -> OpenApi {
    let mut api = match surface {
        Surface::All => {
            let mut api = crate::http::routes::PublicApi::openapi();
            api.merge(crate::http::admin::AdminApi::openapi());
            api
        }
        Surface::Public => crate::http::routes::PublicApi::openapi(),
        Surface::Admin => crate::http::admin::AdminApi::openapi(),
    };
    api.info.title = "pli".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "The control plane of a pli server: accounts, key packages, message submission, the \
         delivery WebSocket's ticket, the public audit log and, for staff, the admin API. \
         Every refusal is `{\"error\": {\"code\", \"message\"}}` with a stable code."
            .into(),
    );
    add_security_schemes(&mut api);
    add_admin_roles(&mut api);
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_common_refusals(operation);
        }
    }
    api
}

/// The description as JSON, built once per router.
pub fn json(surface: Surface) -> String {
    description(surface)
        .to_json()
        .expect("an OpenAPI description always serialises")
}

fn add_security_schemes(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "device",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`Pli <device id>.<device secret>`, from registration.",
        ))),
    );
    components.add_security_scheme(
        "staff",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`PliStaff <staff id>.<secret>`, from `pli admin init` or `pli admin staff add`.",
        ))),
    );
    // The error body and what it refers to (its detail, the code list).
    let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
    ErrorBody::schemas(&mut schemas);
    components.schemas.extend(schemas);
}

/// The extension naming the roles that may call an admin operation (wire names).
pub const ROLES_EXTENSION: &str = "x-pli-roles";

fn add_admin_roles(api: &mut OpenApi) {
    for route in crate::governance::roles::ADMIN_ROUTES {
        let Some(item) = api.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation = match route.method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            _ => None,
        };
        let Some(operation) = operation else {
            continue;
        };
        let names: Vec<&str> = route.roles.iter().map(|role| role.as_str()).collect();
        let roles = format!("Roles: {}.", names.join(", "));
        operation.description = Some(match operation.description.take() {
            Some(text) if !text.is_empty() => format!("{text}\n\n{roles}"),
            _ => roles,
        });
        operation
            .extensions
            .get_or_insert_with(Default::default)
            .insert(ROLES_EXTENSION.to_owned(), serde_json::json!(names));
    }
}

fn refusal(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(ErrorBody::name())))
            .build(),
    )
}

fn add_common_refusals(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let staff = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "admin"));
    let has_body = operation.request_body.is_some();
    let mut common: Vec<(&str, Response)> = vec![
        (
            "400",
            refusal("`bad_request` or a more specific code: the request is malformed").build(),
        ),
        (
            "429",
            refusal("`rate_limited`: retry after the `Retry-After` seconds")
                .header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer))
                        .description(Some("Seconds to wait"))
                        .build(),
                )
                .build(),
        ),
        (
            "500",
            refusal("`internal`: a failure on the server").build(),
        ),
        (
            "503",
            refusal("`over_capacity`: the server is at its connection cap").build(),
        ),
    ];
    if secured {
        common.push((
            "401",
            refusal("`unauthorized`: missing or invalid credentials").build(),
        ));
    }
    if staff {
        common.push((
            "403",
            refusal("`forbidden`: the staff member's role may not do this (logged)").build(),
        ));
    }
    if has_body {
        let limit =
            format!("`payload_too_large`: bodies are limited to {MAX_HTTP_BODY_BYTES} bytes");
        common.push(("413", refusal(&limit).build()));
    }
    for (status, response) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert(RefOr::T(response));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves is described, and nothing else: the description is
    /// built from the same handlers, but a route added without an annotation would be
    /// missing from it.
    #[test]
    fn every_admin_route_is_described() {
        let api = description(Surface::Admin);
        for route in crate::governance::roles::ADMIN_ROUTES {
            let item = api
                .paths
                .paths
                .get(route.path)
                .unwrap_or_else(|| panic!("{} is not described", route.path));
            let operation = match route.method {
                "GET" => item.get.as_ref(),
                "POST" => item.post.as_ref(),
                other => panic!("unexpected method {other}"),
            };
            let operation = operation.unwrap_or_else(|| panic!("{} {}", route.method, route.path));
            assert!(operation.responses.responses.contains_key("403"));
            let roles: Vec<&str> = route.roles.iter().map(|role| role.as_str()).collect();
            let described = operation
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get(ROLES_EXTENSION));
            assert_eq!(described, Some(&serde_json::json!(roles)), "{}", route.path);
        }
        assert_eq!(
            operations(&api).len(),
            crate::governance::roles::ADMIN_ROUTES.len()
        );
    }

    fn operations(api: &OpenApi) -> Vec<(&str, &Operation)> {
        let mut all = Vec::new();
        for (path, item) in &api.paths.paths {
            for operation in [&item.get, &item.post, &item.put, &item.delete, &item.patch] {
                all.extend(operation.as_ref().map(|op| (path.as_str(), op)));
            }
        }
        all
    }

    #[test]
    fn every_user_route_is_described_with_a_unique_operation_id() {
        use pli_proto::api::paths;
        let api = description(Surface::All);
        let described: Vec<&str> = operations(&api).iter().map(|(path, _)| *path).collect();
        let user_paths = [
            paths::HEALTH,
            paths::CHALLENGE,
            paths::ACCOUNTS,
            paths::SELF_DEVICE,
            paths::KEY_PACKAGES,
            paths::USER_DEVICES,
            paths::USER_CLAIM,
            paths::MESSAGES,
            paths::ATTACHMENTS,
            paths::ATTACHMENT,
            paths::ATTACHMENT_CHUNK,
            paths::ATTACHMENT_FETCHED,
            paths::MY_PROFILE,
            paths::USER_PROFILE,
            paths::WEBSOCKET,
            paths::WEBSOCKET_TICKET,
            paths::AUDIT_KEY,
            paths::AUDIT_ENTRIES,
            paths::AUDIT_CHECKPOINTS,
            paths::AUDIT_CONSISTENCY,
            paths::AUDIT_INCLUSION,
            paths::AUDIT_COSIGNATURES,
        ];
        for path in user_paths {
            assert!(described.contains(&path), "{path} is not described");
        }
        let mut ids: Vec<&str> = operations(&api)
            .iter()
            .map(|(_, op)| op.operation_id.as_deref().expect("an operation id"))
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids must be unique");
    }

    #[test]
    fn the_public_listener_does_not_describe_the_admin_api() {
        let api = description(Surface::Public);
        assert!(
            api.paths
                .paths
                .keys()
                .all(|path| !path.starts_with("/admin/"))
        );
    }
}
