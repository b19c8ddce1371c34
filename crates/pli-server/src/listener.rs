//! The accept loop for HTTP and HTTPS alike: a cap on open connections, deadlines for the
//! TLS handshake and for request headers (so silent or trickling peers cannot hold
//! resources), and graceful shutdown (stop accepting, finish requests in flight).
//!
//! A connection holds one permit of the cap. A WebSocket upgrade takes its connection's
//! permit along ([`ConnectionPermit`]), so long-lived sockets count against the cap too.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;

/// How long shutdown waits for open requests before dropping them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct ListenerLimits {
    pub max_connections: usize,
    /// Deadline for the TLS handshake, and for each request's headers to arrive.
    pub handshake_timeout: Duration,
}

/// A connection's slot under the cap, handed to a WebSocket that outlives the request.
#[derive(Clone)]
pub struct ConnectionPermit(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl ConnectionPermit {
    pub fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The answer to a connection over the cap (plain HTTP; TLS ones are simply closed, since
/// answering would cost a handshake).
fn over_capacity_response() -> Vec<u8> {
    let body = pli_proto::error::ErrorBody::new(
        pli_proto::ErrorCode::OverCapacity,
        "the server is at its connection limit; retry shortly",
    );
    let body = serde_json::to_string(&body).expect("an error body always serialises");
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve_io<I>(io: I, app: Router, limits: ListenerLimits, mut closing: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.handshake_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let outcome = tokio::select! {
        outcome = connection.as_mut() => outcome,
        () = async { let _ = closing.wait_for(|c| *c).await; } => {
            // Finish the request in flight, then close instead of keeping alive.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = outcome {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// Serves `app` (over TLS when `tls` is given) until `stop` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ListenerLimits,
    stop: impl Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (mut tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::warn!("connection refused: at the connection limit");
            if acceptor.is_none() {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        limits.handshake_timeout,
                        tcp.write_all(&over_capacity_response()),
                    )
                    .await;
                    let _ = tcp.shutdown().await;
                });
            }
            continue;
        };
        let permit = ConnectionPermit(Arc::new(Mutex::new(Some(permit))));
        let app = app
            .clone()
            .layer(axum::Extension(ConnectInfo(peer)))
            .layer(axum::Extension(permit.clone()));
        let (acceptor, closing) = (acceptor.clone(), closing.clone());
        connections.spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_io(tcp, app, limits, closing).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await
                    {
                        Ok(Ok(stream)) => serve_io(stream, app, limits, closing).await,
                        _ => tracing::debug!("TLS handshake failed or timed out"),
                    }
                }
            }
        });
        // Reap finished connections so the set does not grow with the server's uptime.
        while connections.try_join_next().is_some() {}
    }
    // Closed now, not when the drain below ends: a new connection is refused at once (and
    // a client or balancer tries another node) instead of waiting in the backlog unserved.
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}
