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
//! - `delivery`, `fanout`, `idle`, `kt`, `attachments`: one scenario each.
//! - `sender`, `receiver`: submitting with a window in flight; holding a socket and acking.
//! - `tracker`: which submitted message was delivered when, for latency and loss.
//! - [`outcome`]: one result per scenario, as a table row or a JSON object.

mod attachments;
mod delivery;
mod device;
mod fanout;
mod idle;
mod kt;
pub mod options;
pub mod outcome;
mod progress;
mod receiver;
mod sender;
pub mod target;
mod tracker;

pub use options::{Options, Scenario, SubmitOver};
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
    let scenarios = options.scenarios();
    let steps: Vec<Step> = scenarios
        .into_iter()
        .flat_map(|scenario| match scenario {
            Scenario::Delivery => options.windows().into_iter().map(Step::Delivery).collect(),
            Scenario::Fanout => vec![Step::Fanout],
            Scenario::Idle => vec![Step::Idle],
            Scenario::Kt => vec![Step::Kt],
            Scenario::Attachments => vec![Step::Attachments],
        })
        .collect();
    let mut outcomes = Vec::new();
    for (index, step) in steps.into_iter().enumerate() {
        // The server a run starts is fresh for its first step already.
        if index > 0 {
            target.renew().await?;
        }
        match step {
            Step::Delivery(window) => {
                outcomes.push(delivery::run(options, target, window, bars).await?)
            }
            Step::Fanout => outcomes.extend(fanout::run(options, target, bars).await?),
            Step::Idle => outcomes.push(idle::run(options, target, bars).await?),
            Step::Kt => outcomes.push(kt::run(options, target, bars).await?),
            Step::Attachments => outcomes.extend(attachments::run(options, target, bars).await?),
        }
    }
    Ok(outcomes)
}

/// One measured run: a scenario, and for delivery one window.
enum Step {
    Delivery(usize),
    Fanout,
    Idle,
    Kt,
    Attachments,
}
