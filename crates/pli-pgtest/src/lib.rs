//! pli-pgtest: a throwaway PostgreSQL cluster for tests, started by the test itself.
//!
//! [`database`] gives each caller a fresh, empty database on a cluster shared by the whole
//! test process; the cluster is created with `initdb` in a temporary folder and started with
//! `pg_ctl` on a free loopback port the first time it is needed. Nothing is left behind: the
//! cluster is owned by a small shell that holds the read end of a pipe whose write end only
//! this process holds, so when the process ends, however it ends, the shell stops the
//! cluster and removes its folder.
//!
//! PostgreSQL refuses to run as root. When the tests do, the cluster runs as the `postgres`
//! system user (which Debian's packages create) through `runuser`.
//!
//! The binaries are taken from `PLI_PG_BIN`, else `/usr/lib/postgresql/15/bin`, else `PATH`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The role the tests connect as (trust authentication, loopback only).
pub const USER: &str = "pli";
const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";
/// A free port can be taken between our probe and the postmaster's bind: try again.
const START_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum PgTestError {
    #[error("cannot run the PostgreSQL tools: {0}")]
    Io(#[from] std::io::Error),
    #[error("the test cluster did not start:\n{0}")]
    Start(String),
    #[error("createdb failed: {0}")]
    CreateDb(String),
}

/// A running cluster. Dropping it (or ending the process) stops it and deletes its files.
pub struct Cluster {
    port: u16,
    bin: PathBuf,
    /// Closing this pipe tells the owning shell to stop the cluster.
    lifeline: Mutex<Option<ChildStdin>>,
    shell: Mutex<Child>,
}

impl Cluster {
    /// Creates and starts a new cluster.
    pub fn start() -> Result<Self, PgTestError> {
        let bin = bin_dir();
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(&bin) {
                Ok(cluster) => return Ok(cluster),
                Err(PgTestError::Start(log)) => last = log,
                Err(other) => return Err(other),
            }
        }
        Err(PgTestError::Start(last))
    }

    fn try_start(bin: &Path) -> Result<Self, PgTestError> {
        let port = free_port()?;
        let dir = tempfile::Builder::new().prefix("pli-pg-").tempdir()?.keep();
        let as_postgres = running_as_root();
        if as_postgres {
            let uid = id_of("-u")?;
            let gid = id_of("-g")?;
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
        }
        let script = format!(
            r#"set -e
d={dir}
"{bin}/initdb" -D "$d/data" -U {USER} --auth=trust --no-sync -E UTF8 >"$d/initdb.log" 2>&1 || {{ cat "$d/initdb.log"; exit 1; }}
"{bin}/pg_ctl" -D "$d/data" -l "$d/server.log" -w -o "-p {port} -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" start >/dev/null 2>&1 || {{ cat "$d/server.log"; exit 1; }}
echo ready
read _ || true
"{bin}/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
rm -rf "$d"
"#,
            dir = dir.display(),
            bin = bin.display(),
        );
        let mut command = if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        let mut shell = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = shell.stdout.take().expect("stdout was piped");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines.read_line(&mut first)?;
        if first.trim() != "ready" {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            let _ = shell.wait();
            let _ = std::fs::remove_dir_all(&dir);
            return Err(PgTestError::Start(first + &rest));
        }
        Ok(Self {
            port,
            bin: bin.to_owned(),
            lifeline: Mutex::new(shell.stdin.take()),
            shell: Mutex::new(shell),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self) -> Result<String, PgTestError> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "pli_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let output = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .arg(&name)
            .output()?;
        if !output.status.success() {
            return Err(PgTestError::CreateDb(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        Ok(format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port))
    }

    /// Stops the cluster now and waits for it to be gone.
    pub fn stop(&self) {
        if let Ok(mut lifeline) = self.lifeline.lock()
            && let Some(mut pipe) = lifeline.take()
        {
            let _ = pipe.write_all(b"stop\n");
        }
        if let Ok(mut shell) = self.shell.lock() {
            let _ = shell.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster shared by this test process, started on first use.
pub fn shared() -> Result<&'static Cluster, PgTestError> {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| Cluster::start().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PgTestError::Start(e.clone()))
}

/// A fresh database on the shared cluster, as a connection URL.
pub fn database() -> Result<String, PgTestError> {
    shared()?.create_database()
}

/// Where the PostgreSQL binaries are (see the crate documentation).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PLI_PG_BIN") {
        return dir.into();
    }
    if Path::new(DEFAULT_BIN).join("initdb").exists() {
        return DEFAULT_BIN.into();
    }
    // On PATH: the shell finds them by name.
    let found = Command::new("pg_config").arg("--bindir").output();
    match found {
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        _ => PathBuf::from("/usr/bin"),
    }
}

fn free_port() -> Result<u16, PgTestError> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.port())
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn id_of(flag: &str) -> Result<u32, PgTestError> {
    let out = Command::new("id").args([flag, "postgres"]).output()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| PgTestError::Start("no `postgres` system user to run the cluster as".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_serves_fresh_databases_and_leaves_nothing_behind() {
        let cluster = Cluster::start().expect("cluster");
        let first = cluster.create_database().expect("database");
        let second = cluster.create_database().expect("database");
        assert_ne!(first, second);
        let port = cluster.port();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        cluster.stop();
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the cluster is down once stopped"
        );
    }
}
