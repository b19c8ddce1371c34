//! What the staff commands share: reading a staff credential into an admin client, parsing
//! a role, writing a file only its owner can read.

use crate::context::Context;
use anyhow::Context as _;
use pli_client::admin::AdminClient;
use pli_proto::governance::{Role, StaffCredential};
use std::path::Path;

pub(super) fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "one of operator, legal, trust-safety, auditor".into())
}

/// Writes a file readable by its owner only.
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// An admin client with the credential in `cred`, for the server named by `--server`,
/// `PLI_ADMIN_URL` or the credential itself.
pub(super) fn client(context: &Context, cred: Option<&Path>) -> anyhow::Result<AdminClient> {
    let path = cred.context("staff commands need --cred FILE (or PLI_STAFF_CRED)")?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let credential: StaffCredential =
        serde_json::from_str(&text).context("not a staff credential file")?;
    let server = context
        .options
        .server
        .clone()
        .or_else(|| std::env::var("PLI_ADMIN_URL").ok())
        .or_else(|| credential.server.clone())
        .context("staff commands need --server URL (or PLI_ADMIN_URL)")?;
    Ok(AdminClient::new(
        &server,
        Some(credential),
        context.options.extra_ca_pem.as_deref(),
    )?)
}
