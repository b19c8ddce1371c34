//! One device's WebSocket: push what is queued, say when the backlog is drained, then push
//! new messages as they land; delete each message when the device acks it. Messages the
//! device submits over the socket go through the same path as `POST /v1/messages`, many
//! at once; each is answered as soon as it is committed.
//!
//! The device attaches to the [`Hub`](super::Hub) *before* reading its queue, so a message
//! accepted at any moment is either in that first read or wakes the connection afterwards.

use super::Attachment;
use super::accept::{RefusalCode, Submitter, accept};
use crate::state::AppState;
use crate::store::{Store, StoreError};
use axum::extract::ws::{Message, WebSocket};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use pli_proto::api::SubmitRequest;
use pli_proto::frame::{ClientFrame, Delivery, ServerFrame, Submit};
use pli_proto::limits::{MAX_WS_MESSAGE_BYTES, MAX_WS_SUBMITS_IN_FLIGHT};
use pli_proto::{DeviceId, MessageId, Username};
use std::net::IpAddr;

/// Messages read from the store and sent per WebSocket message.
const PAGE: usize = 256;

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("the device did not take a push in time (slow reader)")]
    SlowReader,
    #[error("websocket: {0}")]
    Socket(#[from] axum::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Serves the socket until the device leaves, a newer connection replaces it, or the server
/// shuts down. Holding `state`'s session guard keeps shutdown waiting for this to finish.
pub async fn run<S: Store>(
    state: AppState<S>,
    device: DeviceId,
    source: IpAddr,
    socket: WebSocket,
    refusal: RefusalCode,
) {
    let _session = state.session_guard();
    // The account the device belongs to: the franking stamps of its submissions name it.
    let Ok(Some(auth)) = state.store.device_auth(device).await else {
        return;
    };
    let connections = metrics::gauge!(crate::telemetry::WS_CONNECTIONS);
    connections.increment(1.0);
    let attachment = state.hub.attach(device);
    state.store.announce_connected(device);
    Box::pin(release_notices(&state, &auth.username)).await;
    // The account's standing, read once and after attaching: an action taken from now on
    // closes this socket (`moderation`), so the device reconnects and reads it again.
    match Submitter::read(&state, device, &auth.username, source).await {
        Ok(sender) => {
            if let Err(err) = drive(&state, &attachment, sender, socket, refusal).await {
                tracing::debug!(error = %err, "websocket session ended with an error");
            }
        }
        Err(err) => tracing::warn!(error = %err, "reading an account's standing failed"),
    }
    state.hub.detach(&attachment);
    connections.decrement(1.0);
}

/// Queues any notice held for this device's user whose time has come, so it is part of
/// the backlog this connection is about to receive.
async fn release_notices<S: Store>(state: &AppState<S>, username: &Username) {
    let released = crate::governance::requests::release_due(
        &state.governance,
        &state.store,
        state.clock.as_ref(),
        Some(username),
        state.config.max_queue_depth,
    )
    .await;
    if let Err(err) = released {
        tracing::warn!(error = %err, "releasing held notices failed");
    }
}

/// The reason a draining node gives when it closes a delivery WebSocket.
pub const DRAINING: &str = "draining";

fn binary(frame: &ServerFrame) -> Message {
    Message::Binary(frame.encode().into())
}

/// The sending half, where every send has a deadline: a device that stops reading is
/// disconnected instead of holding buffers and a task forever.
struct Outbound<K> {
    sink: K,
    deadline: std::time::Duration,
}

impl<K: SinkExt<Message, Error = axum::Error> + Unpin> Outbound<K> {
    async fn send(&mut self, message: Message) -> Result<(), SessionError> {
        self.send_all(vec![message]).await
    }

    /// Sends several messages with one flush (one socket write for all of them).
    async fn send_all(&mut self, messages: Vec<Message>) -> Result<(), SessionError> {
        let sink = &mut self.sink;
        let all = async move {
            for message in messages {
                sink.feed(message).await?;
            }
            sink.flush().await
        };
        tokio::time::timeout(self.deadline, all)
            .await
            .map_err(|_| SessionError::SlowReader)?
            .map_err(SessionError::Socket)
    }

    async fn close(&mut self) {
        let _ = tokio::time::timeout(self.deadline, self.sink.close()).await;
    }

    /// Closes saying the node is going away on purpose (1012, "service restart", RFC 6455
    /// §7.4 as registered by IANA): the device reconnects at once, and a load balancer sends
    /// it to another node, instead of treating a dropped socket as a network fault to back
    /// off from.
    async fn close_draining(&mut self) {
        let frame = axum::extract::ws::CloseFrame {
            code: axum::extract::ws::close_code::RESTART,
            reason: DRAINING.into(),
        };
        let _ =
            tokio::time::timeout(self.deadline, self.sink.send(Message::Close(Some(frame)))).await;
        self.close().await;
    }
}

/// Takes one submission from the socket through `POST /v1/messages`'s path; the answer
/// names it by the device's reference.
async fn answer<S: Store>(
    state: &AppState<S>,
    sender: Submitter<'_>,
    frame: Submit,
    refusal: RefusalCode,
) -> ServerFrame {
    let reference = frame.reference;
    let request = SubmitRequest {
        group_id: frame.group,
        message: frame.message.into(),
        recipients: frame.recipients,
        welcome: None,
    };
    match accept(state, &sender, request).await {
        Ok(accepted) => ServerFrame::Accepted {
            reference,
            id: accepted.id,
            epoch: accepted.epoch,
        },
        Err(err) => ServerFrame::Refused {
            reference,
            code: refusal(err).as_str().to_owned(),
        },
    }
}

/// Submissions of one socket not answered yet. Boxed: `FuturesUnordered` allocates a task
/// slot the size of its future up front, and an unboxed submission future is kilobytes,
/// which every idle socket would pay for.
type InFlight<'a> = FuturesUnordered<BoxFuture<'a, ServerFrame>>;

/// Sends the answer that is ready and every other one already ready with it, in one write.
async fn send_answers<K: SinkExt<Message, Error = axum::Error> + Unpin>(
    first: ServerFrame,
    in_flight: &mut InFlight<'_>,
    out: &mut Outbound<K>,
) -> Result<(), SessionError> {
    let mut answers = vec![binary(&first)];
    while let Some(Some(answer)) = in_flight.next().now_or_never() {
        answers.push(binary(&answer));
    }
    out.send_all(answers).await
}

/// Waits for every submission still in flight and sends its answer, so a device whose
/// socket closes in order (shutdown, replacement) learns what was committed.
async fn finish_answers<K: SinkExt<Message, Error = axum::Error> + Unpin>(
    in_flight: &mut InFlight<'_>,
    out: &mut Outbound<K>,
) -> Result<(), SessionError> {
    while let Some(answer) = in_flight.next().await {
        send_answers(answer, in_flight, out).await?;
    }
    Ok(())
}

/// Packs queued messages into Deliver frames no larger than a WebSocket message may be
/// (a frame always holds at least one message; one message is at most a quarter of it).
fn frames(page: Vec<crate::store::Queued>) -> Vec<ServerFrame> {
    const ITEM_OVERHEAD: usize = 13;
    let budget = MAX_WS_MESSAGE_BYTES - 3;
    let mut frames = Vec::new();
    let (mut current, mut size) = (Vec::new(), 0);
    for queued in page {
        let item = ITEM_OVERHEAD + queued.payload.len();
        if !current.is_empty() && size + item > budget {
            frames.push(ServerFrame::Deliver(std::mem::take(&mut current)));
            size = 0;
        }
        size += item;
        current.push(Delivery {
            id: queued.id,
            kind: queued.kind,
            payload: queued.payload,
        });
    }
    if !current.is_empty() {
        frames.push(ServerFrame::Deliver(current));
    }
    frames
}

/// Sends everything queued after `cursor`; returns the new cursor. A message whose
/// disappearing timer is over by `clock` is passed over (the sweep deletes it soon).
async fn push_pending<S: Store, K: SinkExt<Message, Error = axum::Error> + Unpin>(
    store: &S,
    clock: &dyn crate::clock::Clock,
    device: DeviceId,
    mut cursor: Option<MessageId>,
    out: &mut Outbound<K>,
) -> Result<Option<MessageId>, SessionError> {
    loop {
        let mut page = store.fetch_queue(device, cursor, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(cursor);
        };
        cursor = Some(last.id);
        let full = page.len() == PAGE;
        let now_ms = clock.now_ms();
        page.retain(|queued| queued.expires_ms.is_none_or(|at| at > now_ms));
        metrics::counter!(crate::telemetry::PUSHES).increment(page.len() as u64);
        for frame in frames(page) {
            out.send(binary(&frame)).await?;
        }
        if !full {
            return Ok(cursor);
        }
    }
}

async fn drive<S: Store>(
    state: &AppState<S>,
    attachment: &Attachment,
    sender: Submitter<'_>,
    socket: WebSocket,
    refusal: RefusalCode,
) -> Result<(), SessionError> {
    let device = attachment.device;
    // The futures this session waits on now and then (a push, answers, notices) are boxed:
    // kept inline, the largest of them would size every idle socket's task (docs/ARCHITECTURE.md, "Facts the design rests on").
    let (sink, mut stream) = socket.split();
    let limits = state.config.limits;
    let mut out = Outbound {
        sink,
        deadline: limits.ws_send_timeout,
    };
    let mut shutdown = state.shutdown_signal();
    let mut pings = tokio::time::interval(limits.ws_idle_timeout / 3);
    pings.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    let mut cursor = Box::pin(push_pending(
        &state.store,
        state.clock.as_ref(),
        device,
        None,
        &mut out,
    ))
    .await?;
    out.send(binary(&ServerFrame::Drained)).await?;
    // Ephemeral messages (typing indicators) handed to this connection while it lives.
    let mut ephemeral = attachment
        .take_ephemeral()
        .unwrap_or_else(|| tokio::sync::mpsc::channel(1).1);
    let mut in_flight = InFlight::new();
    loop {
        tokio::select! {
            Some(answer) = in_flight.next(), if !in_flight.is_empty() => {
                Box::pin(send_answers(answer, &mut in_flight, &mut out)).await?;
            }
            _ = attachment.wake.notified() => {
                cursor = Box::pin(push_pending(&state.store, state.clock.as_ref(), device, cursor, &mut out)).await?;
            }
            Some(frame) = ephemeral.recv() => {
                let (group, message) = &*frame;
                let frame = ServerFrame::Ephemeral { group: group.clone(), message: message.clone() };
                out.send(binary(&frame)).await?;
            }
            _ = attachment.replaced.notified() => {
                Box::pin(finish_answers(&mut in_flight, &mut out)).await?;
                out.send(binary(&ServerFrame::Error("replaced".into()))).await?;
                out.close().await;
                return Ok(());
            }
            _ = shutdown.changed() => {
                Box::pin(finish_answers(&mut in_flight, &mut out)).await?;
                out.close_draining().await;
                return Ok(());
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= limits.ws_idle_timeout {
                    tracing::debug!("closing an idle websocket");
                    out.close().await;
                    return Ok(());
                }
                out.send(Message::Ping(Default::default())).await?;
            }
            // Back-pressure: with too many submissions unanswered, stop reading.
            incoming = stream.next(), if in_flight.len() < MAX_WS_SUBMITS_IN_FLIGHT => {
                last_heard = tokio::time::Instant::now();
                let message = match incoming {
                    None | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Err(err)) => return Err(err.into()),
                    Some(Ok(message)) => message,
                };
                match message {
                    Message::Binary(bytes) => match ClientFrame::decode(&bytes) {
                        Ok(ClientFrame::Ack(ids)) => {
                            metrics::counter!(crate::telemetry::ACKS).increment(ids.len() as u64);
                            state.store.ack(device, ids).await?;
                        }
                        Ok(ClientFrame::Submit(frame)) => {
                            in_flight.push(answer(state, sender, frame, refusal).boxed());
                        }
                        Err(_) => {
                            out.send(binary(&ServerFrame::Error("bad_frame".into()))).await?;
                            out.close().await;
                            return Ok(());
                        }
                    },
                    Message::Text(_) => {
                        out.send(binary(&ServerFrame::Error("bad_frame".into()))).await?;
                        out.close().await;
                        return Ok(());
                    }
                    // Pings are answered by the WebSocket layer itself.
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Queued;

    /// A peer that never takes anything.
    struct Stalled;

    impl futures_util::Sink<Message> for Stalled {
        type Error = axum::Error;
        fn poll_ready(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            std::task::Poll::Pending
        }
        fn start_send(self: std::pin::Pin<&mut Self>, _: Message) -> Result<(), axum::Error> {
            Ok(())
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            std::task::Poll::Pending
        }
        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            std::task::Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_takes_nothing_is_given_up_at_the_deadline() {
        let mut out = Outbound {
            sink: Stalled,
            deadline: std::time::Duration::from_secs(15),
        };
        let started = tokio::time::Instant::now();
        let result = out.send(Message::Binary(vec![1].into())).await;
        assert!(matches!(result, Err(SessionError::SlowReader)));
        assert_eq!(
            started.elapsed(),
            std::time::Duration::from_secs(15),
            "exactly the deadline, on tokio's paused clock"
        );
    }

    #[test]
    fn frames_never_exceed_the_websocket_message_limit() {
        let page: Vec<Queued> = (0..40)
            .map(|i| Queued {
                id: MessageId(i),
                kind: 0,
                payload: vec![7; 60 * 1024],
                expires_ms: None,
            })
            .collect();
        let frames = frames(page);
        assert!(frames.len() > 1);
        let mut ids = Vec::new();
        for frame in &frames {
            assert!(frame.encode().len() <= MAX_WS_MESSAGE_BYTES);
            let ServerFrame::Deliver(items) = frame else {
                panic!("deliver frames only")
            };
            ids.extend(items.iter().map(|d| d.id.0));
        }
        assert_eq!(ids, (0..40).collect::<Vec<_>>(), "all of them, in order");
    }
}
