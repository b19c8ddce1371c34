//! What every client command needs: the device's home, the output form and how to reach
//! the server. A file of its own, so the commands and the command tree both use it and
//! neither imports the other.

use anyhow::Context as _;
use pli_client::{Client, ConnectOptions};
use std::path::{Path, PathBuf};

pub struct Context {
    pub home: PathBuf,
    pub json: bool,
    pub options: ConnectOptions,
}

impl Context {
    /// From the global options: `--home` (default `~/.pli`), `--json`, `--server`,
    /// `--ca-cert`.
    pub fn new(
        home: Option<&Path>,
        json: bool,
        server: Option<String>,
        ca_cert: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let home = match home {
            Some(home) => home.to_owned(),
            None => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".pli"))
                .context("no --home given and $HOME is not set")?,
        };
        let extra_ca_pem = ca_cert
            .map(|path| {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
            })
            .transpose()?;
        Ok(Self {
            home,
            json,
            options: ConnectOptions {
                server,
                extra_ca_pem,
            },
        })
    }

    /// The device of this home.
    pub fn open(&self) -> anyhow::Result<Client> {
        Client::open(&self.home, &self.options).context("cannot open this device's home")
    }
}

/// Parses `@user` or `user`.
pub fn username(text: &str) -> anyhow::Result<pli_proto::Username> {
    pli_proto::Username::parse(text).with_context(|| format!("invalid username {text:?}"))
}
