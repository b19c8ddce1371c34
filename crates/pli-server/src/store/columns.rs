//! Every column of every table either side of the store keeps, and what it holds: an item
//! of an account's data inventory (what `pli admin inventory` prints, named by the field of
//! [`Inventory`](crate::governance::inventory::Inventory) it appears under), or nothing
//! personal, and why. This is the one place that says so; a test reads the live schema of
//! both backends and fails on a column missing here, or listed here but gone, so the data
//! inventory cannot fall behind the schema.

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Part of the account's inventory, printed under this field.
    Inventory(&'static str),
    /// Nothing about any user, for this reason.
    NotPersonal(&'static str),
}

use Holds::{Inventory, NotPersonal};

const AUDIT: Holds =
    NotPersonal("the public audit log: staff acts, targets only as salted commitments");
const LEASE: Holds = NotPersonal("which node runs which background job");
const STAFF: Holds = NotPersonal("staff accounts (people who run the service, not its users)");
const TREE: Holds = NotPersonal("the key directory's tree: hashes and VRF-hidden labels");
const ENGINE: Holds = NotPersonal("the storage engine's own bookkeeping");
const SECRET: Holds = NotPersonal("the server's own keys");
/// A trust & safety action on the account, with its appeal: counted in its inventory.
const ACTION: Holds = Inventory("moderation_actions");
const GROUP: Holds = NotPersonal("a group's id and epoch: the server keeps no member lists");

/// (table, column, what it holds), for every column of both backends.
pub const COLUMNS: &[(&str, &str, Holds)] = &[
    ("accounts", "username", Inventory("username")),
    ("accounts", "created_day", Inventory("created_day")),
    (
        "accounts",
        "last_seen_day",
        Inventory("last_connection_day"),
    ),
    ("accounts", "deleted_day", Inventory("deleted_day")),
    ("accounts", "profile", Inventory("encrypted_profile_bytes")),
    ("home_regions", "username", Inventory("username")),
    ("home_regions", "region", Inventory("home_region")),
    ("devices", "device_id", Inventory("devices")),
    ("devices", "username", Inventory("devices")),
    ("devices", "signature_key", Inventory("devices")),
    ("devices", "endorsement", Inventory("devices")),
    ("devices", "secret_hash", Inventory("also_held")),
    ("devices", "queue_len", Inventory("queued_ciphertexts")),
    ("queue_lens", "device_id", Inventory("queued_ciphertexts")),
    ("queue_lens", "len", Inventory("queued_ciphertexts")),
    ("key_packages", "id", Inventory("devices")),
    ("key_packages", "device_id", Inventory("devices")),
    ("key_packages", "data", Inventory("devices")),
    ("key_packages", "last_resort", Inventory("devices")),
    ("key_packages", "not_after", Inventory("devices")),
    ("messages", "id", Inventory("queued_ciphertexts")),
    ("messages", "kind", Inventory("queued_ciphertexts")),
    ("messages", "payload", Inventory("queued_ciphertexts")),
    ("messages", "created_ms", Inventory("queued_ciphertexts")),
    ("messages", "pending", Inventory("queued_ciphertexts")),
    ("messages", "expires_ms", Inventory("queued_ciphertexts")),
    ("attachments", "id", Inventory("attachments")),
    ("attachments", "uploader", Inventory("attachments")),
    ("attachments", "uploader_device", Inventory("attachments")),
    ("attachments", "size", Inventory("attachment_bytes")),
    ("attachments", "received", Inventory("attachments")),
    ("attachments", "expires_ms", Inventory("attachments")),
    (
        "attachment_recipients",
        "attachment",
        Inventory("attachments"),
    ),
    (
        "attachment_recipients",
        "device_id",
        Inventory("attachments"),
    ),
    ("attachment_recipients", "fetched", Inventory("attachments")),
    ("queue", "device_id", Inventory("queued_ciphertexts")),
    ("queue", "message_id", Inventory("queued_ciphertexts")),
    ("ws_tickets", "ticket_hash", Inventory("also_held")),
    ("ws_tickets", "device_id", Inventory("also_held")),
    ("ws_tickets", "expires_ms", Inventory("also_held")),
    ("connection_ips", "username", Inventory("ip_addresses")),
    ("connection_ips", "ip", Inventory("ip_addresses")),
    ("connection_ips", "day", Inventory("ip_addresses")),
    (
        "preservation_holds",
        "username",
        Inventory("preserved_until"),
    ),
    (
        "preservation_holds",
        "until_ms",
        Inventory("preserved_until"),
    ),
    ("legal_requests", "request_id", Inventory("also_held")),
    ("legal_requests", "record", Inventory("also_held")),
    ("legal_requests", "created_ms", Inventory("also_held")),
    ("pending_notices", "notice_id", Inventory("also_held")),
    ("pending_notices", "request_id", Inventory("also_held")),
    ("pending_notices", "username", Inventory("also_held")),
    ("pending_notices", "payload", Inventory("also_held")),
    ("pending_notices", "release_ms", Inventory("also_held")),
    // Abuse reports, counted in both accounts' inventories: about the reported one, filed
    // by the reporter. The reported text is the only message content the server holds.
    ("reports", "seq", Inventory("reports_received")),
    ("reports", "report_id", Inventory("reports_received")),
    ("reports", "reporter", Inventory("reports_filed")),
    ("reports", "reported", Inventory("reports_received")),
    ("reports", "reason", Inventory("reports_received")),
    ("reports", "note", Inventory("reports_received")),
    ("reports", "filed_day", Inventory("reports_received")),
    (
        "report_messages",
        "report_id",
        Inventory("reports_received"),
    ),
    ("report_messages", "position", Inventory("reports_received")),
    // Repeated from `reports` only for the unique key below.
    ("report_messages", "reporter", Inventory("reports_filed")),
    // Stored only so the same reporter cannot report the same message twice (the unique
    // key on reporter and commitment): never shown, never compared with anything else.
    (
        "report_messages",
        "commitment",
        Inventory("reports_received"),
    ),
    ("report_messages", "text", Inventory("reports_received")),
    (
        "report_messages",
        "sender_device",
        Inventory("reports_received"),
    ),
    ("report_messages", "day", Inventory("reports_received")),
    // Trust & safety actions on the account, with its appeals and their decisions: counted
    // in its inventory. The staff ids name who acted (staff, not users), as part of the
    // account's record.
    ("moderation_actions", "seq", ACTION),
    ("moderation_actions", "action_id", ACTION),
    ("moderation_actions", "account", ACTION),
    ("moderation_actions", "kind", ACTION),
    ("moderation_actions", "until_ms", ACTION),
    ("moderation_actions", "reason", ACTION),
    ("moderation_actions", "staff_id", ACTION),
    ("moderation_actions", "report_id", ACTION),
    ("moderation_actions", "created_ms", ACTION),
    ("moderation_actions", "appeal_text", ACTION),
    ("moderation_actions", "appeal_filed_ms", ACTION),
    ("moderation_actions", "decision_outcome", ACTION),
    ("moderation_actions", "decision_staff_id", ACTION),
    ("moderation_actions", "decision_reason", ACTION),
    ("moderation_actions", "decided_ms", ACTION),
    // The account's standing: shown as its suspension's end, or as a ban.
    ("account_standing", "username", Inventory("suspended_until")),
    (
        "account_standing",
        "suspended_until_ms",
        Inventory("suspended_until"),
    ),
    ("kt_changes", "seq", Inventory("also_held")),
    ("kt_changes", "username", Inventory("also_held")),
    ("kt_states", "label", Inventory("also_held")),
    ("kt_states", "epoch", Inventory("also_held")),
    ("kt_states", "version", Inventory("also_held")),
    ("kt_states", "data", Inventory("also_held")),
    ("kt_nodes", "id", TREE),
    ("kt_nodes", "data", TREE),
    ("kt_roots", "epoch", TREE),
    ("kt_roots", "root", TREE),
    ("kt_roots", "note", TREE),
    ("mls_groups", "group_id", GROUP),
    ("mls_groups", "epoch", GROUP),
    ("audit_log", "seq", AUDIT),
    ("audit_log", "entry", AUDIT),
    ("audit_log", "leaf_hash", AUDIT),
    ("audit_checkpoints", "size", AUDIT),
    ("audit_checkpoints", "note", AUDIT),
    ("audit_cosignatures", "size", AUDIT),
    ("audit_cosignatures", "witness", AUDIT),
    ("audit_cosignatures", "line", AUDIT),
    ("staff", "staff_id", STAFF),
    ("staff", "name", STAFF),
    ("staff", "role", STAFF),
    ("staff", "secret_hash", STAFF),
    ("staff_totp", "staff_id", STAFF),
    ("staff_totp", "secret", STAFF),
    ("staff_totp", "last_step", STAFF),
    ("job_leases", "job", LEASE),
    ("job_leases", "holder", LEASE),
    ("job_leases", "until_ms", LEASE),
    ("server_keys", "name", SECRET),
    ("server_keys", "secret", SECRET),
    ("sqlite_sequence", "name", ENGINE),
    ("sqlite_sequence", "seq", ENGINE),
    ("_sqlx_migrations", "version", ENGINE),
    ("_sqlx_migrations", "description", ENGINE),
    ("_sqlx_migrations", "installed_on", ENGINE),
    ("_sqlx_migrations", "success", ENGINE),
    ("_sqlx_migrations", "checksum", ENGINE),
    ("_sqlx_migrations", "execution_time", ENGINE),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    type Schema = BTreeSet<(String, String)>;

    fn listed() -> Schema {
        COLUMNS
            .iter()
            .map(|(t, c, _)| ((*t).to_owned(), (*c).to_owned()))
            .collect()
    }

    fn sqlite_schema() -> Schema {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pli.db");
        drop(crate::store::SqliteStore::open(&path).expect("open"));
        let conn = rusqlite::Connection::open(&path).expect("reopen");
        let mut st = conn
            .prepare(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table'",
            )
            .expect("prepare");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    async fn postgres_schema() -> Schema {
        use crate::store::postgres::{PostgresConfig, PostgresStore};
        let url = pli_pgtest::database().expect("a throwaway PostgreSQL database");
        let store = PostgresStore::connect(&PostgresConfig::new(url.clone()))
            .await
            .expect("connect");
        drop(store);
        let pool = sqlx::PgPool::connect(&url).await.expect("pool");
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public'",
        )
        .fetch_all(&pool)
        .await
        .expect("columns");
        rows.into_iter().collect()
    }

    fn missing(schema: &Schema) -> Vec<String> {
        let listed = listed();
        schema
            .difference(&listed)
            .map(|(t, c)| format!("{t}.{c}"))
            .collect()
    }

    /// Every column either backend creates is in [`COLUMNS`]; every column listed exists in
    /// one of them; every inventory field named is one the printout has.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_stored_column_is_in_the_inventory_or_declared_not_personal() {
        let sqlite = sqlite_schema();
        let postgres = postgres_schema().await;
        assert_eq!(
            missing(&sqlite),
            Vec::<String>::new(),
            "SQLite columns not classified"
        );
        assert_eq!(
            missing(&postgres),
            Vec::<String>::new(),
            "PostgreSQL columns not classified"
        );
        let both: Schema = sqlite.union(&postgres).cloned().collect();
        let gone: Vec<String> = listed()
            .difference(&both)
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        assert_eq!(gone, Vec::<String>::new(), "listed but in no schema");
        let printout = serde_json::to_value(crate::governance::inventory::Inventory {
            username: pli_proto::Username::parse("alice").expect("name"),
            home_region: String::new(),
            created_day: String::new(),
            last_connection_day: None,
            devices: Vec::new(),
            queued_ciphertexts: 0,
            preserved_until: None,
            deleted_day: Some(String::new()),
            ip_addresses: vec![crate::governance::inventory::IpSeen {
                day: String::new(),
                address: String::new(),
            }],
            attachments: 0,
            attachment_bytes: 0,
            encrypted_profile_bytes: 0,
            reports_received: 0,
            reports_filed: 0,
            moderation_actions: 0,
            suspended_until: Some(String::new()),
            not_held: Vec::new(),
            also_held: Vec::new(),
        })
        .expect("json");
        for (table, column, holds) in COLUMNS {
            if let Inventory(field) = holds {
                assert!(
                    printout.get(field).is_some(),
                    "{table}.{column}: the printout has no field {field}"
                );
            }
        }
    }
}
