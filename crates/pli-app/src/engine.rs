//! The engine: the one thread that owns the device's networked [`Client`].
//!
//! The client's state (MLS groups, the outbox, the delivery stream) is one device's, so one
//! owner drives it: a thread with a single-threaded runtime, which also lets the client's
//! futures stay where they were made. The engine listens on the delivery stream and hands
//! every new message or notice to the pages as an [`Update`]; a job the pages ask for (send,
//! start a chat, change a group, look up keys) stops the stream, runs, and the stream is
//! taken up again. Offline, the engine retries with a growing pause, and a job still runs
//! (a message is queued in the outbox, and goes when the server is back). Idle, it syncs
//! again every few minutes, since the key directory and the audit log are checked at a sync.
//!
//! Reads that need no server (the conversation list, a page of history, search) do not go
//! through here: the app keeps a second connection to the home for them (`state`), so a
//! page never waits on the network.

use crate::error::AppError;
use futures_util::future::LocalBoxFuture;
use pli_client::{Client, ClientError, Event};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use crate::status::Status;

/// A job for the engine: runs with the device (none before registration or linking).
type Job = Box<dyn for<'a> FnOnce(&'a mut Option<Client>) -> LocalBoxFuture<'a, ()> + Send>;

/// Most jobs waiting at once; a page asking for more waits its turn.
const JOB_QUEUE: usize = 64;
/// Updates kept for a page that reads slowly; one further behind reloads what it shows.
const UPDATE_BUFFER: usize = 256;
/// How often an idle engine syncs again: the key directory (a device nobody added, a split
/// view) and the audit log are checked at each sync, not by the delivery stream.
const RECHECK: Duration = Duration::from_secs(300);
/// How long after a message arrives its delivery receipt goes (more arriving meanwhile go
/// in the same receipt).
const RECEIPTS_AFTER: Duration = Duration::from_millis(300);
/// The longest pause between two attempts to reach the server.
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(15);

/// Something the open pages should show: sent to each as a server-sent event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Update {
    /// A new message in this conversation (hex id).
    Message { conversation: String },
    /// A new notice; an alert when `alert`.
    Notice {
        conversation: Option<String>,
        alert: bool,
    },
    /// Something else changed (a message's state, the list, membership): reread.
    Changed { conversation: Option<String> },
    /// The connection to the server came up or went down.
    Status { online: bool },
    /// Someone is typing in this conversation, or stopped (never stored).
    Typing {
        conversation: String,
        sender: String,
        typing: bool,
    },
}

/// The pages' handle on the engine.
#[derive(Clone)]
pub struct Engine {
    jobs: mpsc::Sender<Job>,
    updates: broadcast::Sender<Update>,
    status: watch::Receiver<Status>,
}

impl Engine {
    /// Starts the engine thread with the home's device (`None`: not registered yet).
    pub fn start(client: Option<Client>) -> Result<(Self, std::thread::JoinHandle<()>), AppError> {
        let (jobs, inbox) = mpsc::channel(JOB_QUEUE);
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let initial = if client.is_some() {
            Status::Offline
        } else {
            Status::NoAccount
        };
        let (status_tx, status) = watch::channel(initial);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AppError::Io)?;
        let sender = updates.clone();
        let thread = std::thread::Builder::new()
            .name("pli-app-engine".into())
            .spawn(move || runtime.block_on(run(client, inbox, sender, status_tx)))
            .map_err(AppError::Io)?;
        Ok((
            Self {
                jobs,
                updates,
                status,
            },
            thread,
        ))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    pub fn status(&self) -> Status {
        *self.status.borrow()
    }

    /// Tells every open page that `conversation` (or the whole list) changed.
    pub fn changed(&self, conversation: Option<String>) {
        let _ = self.updates.send(Update::Changed { conversation });
    }

    /// Runs `job` with the device's slot (empty before registration) and returns its result.
    pub async fn with_slot<T, F>(&self, job: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Option<Client>) -> LocalBoxFuture<'a, Result<T, AppError>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |slot| {
            Box::pin(async move {
                let _ = reply.send(job(slot).await);
            })
        });
        self.jobs.send(job).await.map_err(|_| AppError::Stopping)?;
        answer.await.map_err(|_| AppError::Stopping)?
    }

    /// Runs `job` with the device; refused before there is one.
    pub async fn with_client<T, F>(&self, job: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut Client) -> LocalBoxFuture<'a, Result<T, ClientError>>
            + Send
            + 'static,
    {
        self.with_slot(move |slot| {
            Box::pin(async move {
                match slot.as_mut() {
                    Some(client) => Ok(job(client).await?),
                    None => Err(AppError::NotRegistered),
                }
            })
        })
        .await
    }
}

fn to_update(event: &Event) -> Update {
    match event {
        Event::Message { conversation, .. } => Update::Message {
            conversation: conversation.to_hex(),
        },
        Event::Typing {
            conversation,
            sender,
            typing,
        } => Update::Typing {
            conversation: conversation.to_hex(),
            sender: sender.to_string(),
            typing: *typing,
        },
        Event::Changed { conversation, .. } => Update::Changed {
            conversation: Some(conversation.to_hex()),
        },
        Event::Notice {
            conversation,
            alert,
            ..
        } => Update::Notice {
            conversation: conversation.as_ref().map(|c| c.to_hex()),
            alert: *alert,
        },
    }
}

/// The engine's loop: listen while nothing is asked, run what is asked, retry offline.
async fn run(
    mut slot: Option<Client>,
    mut inbox: mpsc::Receiver<Job>,
    updates: broadcast::Sender<Update>,
    status: watch::Sender<Status>,
) {
    let mut pause = Duration::from_millis(250);
    // True right after a job ran: the next listen skips its sync.
    let mut just_ran = false;
    let set_status = |now: Status| {
        let before = status.send_replace(now);
        if before != now && matches!(now, Status::Online | Status::Offline) {
            let _ = updates.send(Update::Status {
                online: now == Status::Online,
            });
        }
    };
    loop {
        let mut asked: Option<Job> = None;
        let mut owed = false;
        let outcome = match slot.as_mut() {
            None => {
                set_status(Status::NoAccount);
                asked = inbox.recv().await;
                if asked.is_none() {
                    return;
                }
                Ok(())
            }
            Some(client) => {
                // A sync first (it tells the pages the outbox went out and the connection is
                // up), unless a job just ran while online: it caught up with the queue itself,
                // and the stream brings what came since. Then the stream, until a job comes.
                let online = *status.borrow() == Status::Online;
                let synced = if just_ran && online {
                    Ok(())
                } else {
                    client.sync().await
                };
                match synced {
                    Ok(()) => {
                        set_status(Status::Online);
                        pause = Duration::from_millis(250);
                        let _ = updates.send(Update::Changed { conversation: None });
                        // A message received owes its sender a delivery receipt: the stream
                        // stops a moment later to send what is owed.
                        let received = tokio::sync::Notify::new();
                        let mut on_event = |event: Event| {
                            if matches!(event, Event::Message { .. }) {
                                received.notify_one();
                            }
                            let _ = updates.send(to_update(&event));
                        };
                        let stop = async {
                            tokio::select! {
                                job = inbox.recv() => asked = job,
                                () = tokio::time::sleep(RECHECK) => {}
                                () = received.notified() => {
                                    tokio::time::sleep(RECEIPTS_AFTER).await;
                                    owed = true;
                                }
                            }
                        };
                        client.listen_synced(&mut on_event, stop).await
                    }
                    Err(err) => Err(err),
                }
            }
        };
        just_ran = false;
        if let Err(err) = outcome {
            let awaiting = matches!(err.code(), Some(pli_proto::ErrorCode::Unauthorized))
                && slot.as_ref().is_some_and(Client::awaits_approval);
            set_status(if awaiting {
                Status::AwaitingApproval
            } else {
                Status::Offline
            });
            if !err.is_retryable() && !awaiting {
                tracing::warn!(
                    code = crate::error::AppError::Client(err).code(),
                    "sync failed"
                );
            }
            // Offline: wait for a job or the pause, whichever comes first.
            if asked.is_none() {
                tokio::select! {
                    job = inbox.recv() => match job {
                        Some(job) => asked = Some(job),
                        None => return,
                    },
                    () = tokio::time::sleep(pause) => {}
                }
            }
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
        }
        match asked {
            Some(job) => {
                job(&mut slot).await;
                // Whatever else was asked meanwhile runs before listening again.
                while let Ok(job) = inbox.try_recv() {
                    job(&mut slot).await;
                }
                just_ran = true;
            }
            None if inbox.is_closed() => return,
            None => {}
        }
        if owed && let Some(client) = slot.as_mut() {
            // Sent like any message: offline, they wait in the outbox.
            let _ = client.send_receipts().await;
            just_ran = true;
        }
    }
}
