//! pli-bench: the load generator behind `pli bench`.
//!
//! It measures a pli server the way users load it: simulated devices register, publish key
//! packages, build real MLS groups with openmls and submit real MLS ciphertexts over the
//! HTTP API, while their peers hold real delivery WebSockets and ack what is pushed. It
//! measures the server, not itself: messages are encrypted before the clock starts, and
//! receivers ack without decrypting (their CPU would otherwise be the bottleneck on a
//! machine the server shares).
//!
//! What lives where:
//! - [`options`]: scenarios and their parameters.
//! - [`target`]: the server under test, started here (`pli serve` as a child process, so
//!   its memory can be read) or already running.
//! - `device`: a simulated device: registration, key packages, its MLS groups.
//! - `delivery`, `fanout`, `idle`: one scenario each.
//! - `sender`, `receiver`: submitting with a window in flight; holding a socket and acking.
//! - `tracker`: which submitted message was delivered when, for latency and loss.
//! - [`outcome`]: one result per scenario, as a table row or a JSON object.

mod delivery;
mod device;
mod fanout;
mod idle;
pub mod options;
pub mod outcome;
mod progress;
mod receiver;
mod sender;
pub mod target;
mod tracker;

pub use options::{Options, Scenario};
pub use outcome::Outcome;
pub use target::Target;

/// What stops a benchmark run (a refused message is a result, not an error).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Client(#[from] pli_client::ClientError),
    #[error("MLS: {0}")]
    Mls(String),
    #[error("the server under test: {0}")]
    Server(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl BenchError {
    fn mls(err: impl std::fmt::Display) -> Self {
        Self::Mls(err.to_string())
    }
}

/// Runs the chosen scenarios against `target`, in order, reporting progress on `bars`.
/// A server the run started itself is replaced by a fresh one before each scenario.
pub async fn run(
    options: &Options,
    target: &mut Target,
    bars: &indicatif::MultiProgress,
) -> Result<Vec<Outcome>, BenchError> {
    let mut outcomes = Vec::new();
    for scenario in options.scenarios() {
        match scenario {
            Scenario::Delivery => {
                for window in options.windows() {
                    target.renew().await?;
                    outcomes.push(delivery::run(options, target, window, bars).await?);
                }
            }
            Scenario::Fanout => {
                target.renew().await?;
                outcomes.extend(fanout::run(options, target, bars).await?);
            }
            Scenario::Idle => {
                target.renew().await?;
                outcomes.push(idle::run(options, target, bars).await?);
            }
            Scenario::Kt => {
                return Err(BenchError::Unsupported(
                    "the kt scenario needs key transparency, which this build does not have yet"
                        .into(),
                ));
            }
        }
    }
    Ok(outcomes)
}
