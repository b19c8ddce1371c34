//! Scenarios and their parameters, with the defaults `pli bench --help` documents.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// 1:1 messages, end to end (accepted → pushed → acked).
    Delivery,
    /// One sender into one large group: into device queues, then to connected devices.
    Fanout,
    /// Many idle connected devices: the server's memory per connection.
    Idle,
    /// Key-transparency lookups and proof verification.
    Kt,
    /// Files uploaded and downloaded in chunks: throughput, and the server's memory.
    Attachments,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::Delivery,
        Scenario::Fanout,
        Scenario::Idle,
        Scenario::Kt,
        Scenario::Attachments,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "delivery" => Some(Self::Delivery),
            "fanout" => Some(Self::Fanout),
            "idle" => Some(Self::Idle),
            "kt" => Some(Self::Kt),
            "attachments" => Some(Self::Attachments),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Delivery => "delivery",
            Self::Fanout => "fanout",
            Self::Idle => "idle",
            Self::Kt => "kt",
            Self::Attachments => "attachments",
        }
    }
}

/// How simulated senders submit messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubmitOver {
    /// `Submit` frames on the sender's delivery WebSocket, a window of them in flight.
    #[default]
    Socket,
    /// `POST /v1/messages`, a window of requests in flight.
    Http,
}

/// What to run. `None` means "the scenario's own default".
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Empty: every scenario this build supports.
    pub scenarios: Vec<Scenario>,
    /// Messages in flight per sender; delivery runs 1, 64 and 256 by default.
    pub window: Option<usize>,
    /// Simulated users: delivery pairs them up (default 32), fanout's group size (1,000),
    /// idle's connected devices (10,000), kt's users to look up (100).
    pub users: Option<usize>,
    /// Messages sent in all: delivery 20,000 per window, fanout 200 per phase; kt's lookups
    /// (2,000).
    pub messages: Option<usize>,
    /// Plaintext bytes per message before MLS encryption (default 256).
    pub size: Option<usize>,
    /// Stop sending after this long; what was accepted is still checked.
    pub duration: Option<Duration>,
    /// How senders submit (delivery and fanout).
    pub submit_over: SubmitOver,
}

impl Options {
    pub fn scenarios(&self) -> Vec<Scenario> {
        if self.scenarios.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            self.scenarios.clone()
        }
    }

    pub fn windows(&self) -> Vec<usize> {
        match self.window {
            Some(window) => vec![window.max(1)],
            None => vec![1, 64, 256],
        }
    }

    pub fn size(&self) -> usize {
        self.size.unwrap_or(256)
    }

    /// What a variant's label adds for the way messages were submitted.
    pub fn submit_label(&self) -> &'static str {
        match self.submit_over {
            SubmitOver::Socket => "",
            SubmitOver::Http => ", http",
        }
    }
}
