//! Which role may call which admin route. This table is the single source: the router is
//! built from it, every handler checks it, `GOVERNANCE.md` repeats it, and a test compares
//! all three.

use pli_proto::governance::Role;

pub struct AdminRoute {
    /// The action name, as it appears in the audit log.
    pub action: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
}

use Role::{Auditor, Legal, Operator, TrustSafety};

pub const ADMIN_ROUTES: &[AdminRoute] = &[
    AdminRoute {
        action: "abuse.list",
        method: "GET",
        path: "/admin/v1/abuse-reports",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "abuse.show",
        method: "GET",
        path: "/admin/v1/abuse-reports/{id}",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "abuse.action",
        method: "POST",
        path: "/admin/v1/abuse-reports/{id}/resolve",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "abuse.reinstate",
        method: "POST",
        path: "/admin/v1/accounts/{username}/reinstate",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "abuse.actions",
        method: "GET",
        path: "/admin/v1/accounts/{username}/actions",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "abuse.appeal.decide",
        method: "POST",
        path: "/admin/v1/actions/{id}/appeal/decide",
        roles: &[TrustSafety],
    },
    AdminRoute {
        action: "staff.add",
        method: "POST",
        path: "/admin/v1/staff",
        roles: &[Operator],
    },
    AdminRoute {
        action: "staff.list",
        method: "GET",
        path: "/admin/v1/staff",
        roles: &[Operator, Auditor],
    },
    AdminRoute {
        action: "staff.rotate",
        method: "POST",
        path: "/admin/v1/staff/{staff_id}/rotate",
        roles: &[Operator],
    },
    AdminRoute {
        action: "staff.role",
        method: "POST",
        path: "/admin/v1/staff/{staff_id}/role",
        roles: &[Operator],
    },
    AdminRoute {
        action: "staff.revoke",
        method: "POST",
        path: "/admin/v1/staff/{staff_id}/revoke",
        roles: &[Operator],
    },
    AdminRoute {
        action: "request.create",
        method: "POST",
        path: "/admin/v1/requests",
        roles: &[Legal, TrustSafety],
    },
    AdminRoute {
        action: "request.list",
        method: "GET",
        path: "/admin/v1/requests",
        roles: &[Legal, TrustSafety, Auditor],
    },
    AdminRoute {
        action: "request.show",
        method: "GET",
        path: "/admin/v1/requests/{id}",
        roles: &[Legal, TrustSafety, Auditor],
    },
    AdminRoute {
        action: "request.edit",
        method: "POST",
        path: "/admin/v1/requests/{id}/edit",
        roles: &[Legal, TrustSafety],
    },
    AdminRoute {
        action: "request.approve",
        method: "POST",
        path: "/admin/v1/requests/{id}/approve",
        roles: &[Legal],
    },
    AdminRoute {
        action: "request.reject",
        method: "POST",
        path: "/admin/v1/requests/{id}/reject",
        roles: &[Legal],
    },
    AdminRoute {
        action: "request.disclose",
        method: "POST",
        path: "/admin/v1/requests/{id}/disclose",
        roles: &[Legal],
    },
    AdminRoute {
        action: "request.close",
        method: "POST",
        path: "/admin/v1/requests/{id}/close",
        roles: &[Legal],
    },
    AdminRoute {
        action: "alerts.list",
        method: "GET",
        path: "/admin/v1/alerts",
        roles: &[Legal],
    },
    AdminRoute {
        action: "inventory.show",
        method: "GET",
        path: "/admin/v1/inventory/{username}",
        roles: &[Legal],
    },
    AdminRoute {
        action: "report.create",
        method: "POST",
        path: "/admin/v1/reports",
        roles: &[Operator, Auditor],
    },
    AdminRoute {
        action: "account.move",
        method: "POST",
        path: "/admin/v1/accounts/{username}/region",
        roles: &[Operator],
    },
    AdminRoute {
        action: "retention.run",
        method: "POST",
        path: "/admin/v1/retention",
        roles: &[Operator],
    },
    AdminRoute {
        action: "directory.publish",
        method: "POST",
        path: "/admin/v1/directory/publish",
        roles: &[Operator],
    },
];

pub fn route(action: &str) -> &'static AdminRoute {
    ADMIN_ROUTES
        .iter()
        .find(|r| r.action == action)
        .expect("every handler names an action listed in ADMIN_ROUTES")
}

pub fn allowed(action: &str, role: Role) -> bool {
    route(action).roles.contains(&role)
}
