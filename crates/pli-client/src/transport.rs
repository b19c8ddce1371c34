//! Talking to a pli server: typed HTTP calls for the control plane and the delivery
//! WebSocket. TLS is rustls with the web PKI roots, plus an optional extra CA (for a
//! server with a private certificate). Plain `http://` is for loopback.

use crate::error::ClientError;
use futures_util::{SinkExt, StreamExt};
use pli_proto::api::{self, paths};
use pli_proto::error::ErrorBody;
use pli_proto::frame::{ClientFrame, ServerFrame, Submit};
use pli_proto::kt;
use pli_proto::{DeviceId, MessageId, Username};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

mod attachments;
mod profiles;

/// A device's credentials, sent as `Authorization: Pli <device>.<secret>`.
#[derive(Clone)]
pub struct Credentials {
    pub device_id: DeviceId,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <secret>)", self.device_id)
    }
}

impl Credentials {
    fn header(&self) -> String {
        format!("{} {}.{}", api::AUTH_SCHEME, self.device_id, self.secret)
    }
}

/// The largest page of audit checkpoints the server returns.
pub const AUDIT_PAGE: u64 = 1_000;

#[derive(Clone)]
pub struct Transport {
    base: String,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    credentials: Option<Credentials>,
}

/// Decodes a pli API response: the body on success, the stable error code otherwise.
pub(crate) async fn read_response<T: DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|_| ClientError::Protocol(format!("unexpected response body ({status})")));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ClientError::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(ClientError::Protocol(format!(
            "unexpected error response ({status})"
        ))),
    }
}

pub(crate) fn tls_config(
    extra_ca_pem: Option<&[u8]>,
) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| ClientError::Invalid(format!("CA certificate: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::Invalid(format!("CA certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Invalid(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Transport {
    /// `server` is the base URL (`https://chat.example` or `http://127.0.0.1:8080`).
    pub fn new(server: &str, extra_ca_pem: Option<&[u8]>) -> Result<Self, ClientError> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ClientError::Invalid(
                "the server URL must start with https:// or http://".into(),
            ));
        }
        let tls = tls_config(extra_ca_pem)?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            base,
            http,
            tls,
            credentials: None,
        })
    }

    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `request` with this device's credentials, if it has them.
    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credentials {
            Some(c) => request.header(reqwest::header::AUTHORIZATION, c.header()),
            None => request,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        read_response(self.authorised(request).send().await?).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// The audit log's public key.
    pub async fn audit_key(&self) -> Result<pli_proto::governance::AuditKey, ClientError> {
        self.get(paths::AUDIT_KEY).await
    }

    /// Signed audit checkpoints for log sizes from `from`, at most [`AUDIT_PAGE`].
    pub async fn audit_checkpoints(
        &self,
        from: u64,
    ) -> Result<pli_proto::governance::AuditCheckpoints, ClientError> {
        self.get(&format!(
            "{}?from={from}&limit={AUDIT_PAGE}",
            paths::AUDIT_CHECKPOINTS
        ))
        .await
    }

    /// The proof that the audit log at size `to` extends the log at size `from`.
    pub async fn audit_consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<pli_proto::merkle::Hash>, ClientError> {
        let proof: pli_proto::governance::AuditProof = self
            .get(&format!("{}?from={from}&to={to}", paths::AUDIT_CONSISTENCY))
            .await?;
        proof
            .proof
            .iter()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| ClientError::Protocol("a malformed audit proof".into()))
            })
            .collect()
    }

    /// Hands the server a witness's cosignature of its checkpoint of size `size`.
    pub async fn submit_cosignature(
        &self,
        size: u64,
        witness: &str,
        cosignature: &str,
    ) -> Result<(), ClientError> {
        let _: serde_json::Value = self
            .post(
                paths::AUDIT_COSIGNATURES,
                &pli_proto::witness::Cosignature {
                    size,
                    witness: witness.to_owned(),
                    cosignature: cosignature.to_owned(),
                },
            )
            .await?;
        Ok(())
    }

    pub async fn health(&self) -> Result<api::HealthResponse, ClientError> {
        self.get(paths::HEALTH).await
    }

    /// Deletes this device's account, every device of it.
    pub async fn delete_account(&self) -> Result<api::DeleteAccountResponse, ClientError> {
        self.call(
            self.http
                .delete(format!("{}{}", self.base, paths::ACCOUNT_SELF)),
        )
        .await
    }

    /// Every region's published policy.
    pub async fn policy(&self) -> Result<pli_proto::policy::PolicyResponse, ClientError> {
        self.get(paths::POLICY).await
    }

    /// What the server holds about this device's account, as staff would see it.
    pub async fn my_inventory(&self) -> Result<pli_proto::inventory::Inventory, ClientError> {
        self.get(paths::MY_INVENTORY).await
    }

    pub async fn challenge(&self) -> Result<api::ChallengeResponse, ClientError> {
        self.get(paths::CHALLENGE).await
    }

    pub async fn register(
        &self,
        request: &api::RegisterRequest,
    ) -> Result<api::RegisterResponse, ClientError> {
        self.post(paths::ACCOUNTS, request).await
    }

    /// Registers `username` with the device key `signature_key`: fetches a challenge,
    /// solves its proof of work off the async runtime, and submits the solution.
    pub async fn register_solving(
        &self,
        username: &Username,
        signature_key: &[u8],
        region: Option<&pli_proto::Region>,
    ) -> Result<api::RegisterResponse, ClientError> {
        let challenge = self.challenge().await?;
        let (text, user, difficulty) = (
            challenge.challenge.clone(),
            username.to_string(),
            challenge.difficulty,
        );
        let nonce =
            tokio::task::spawn_blocking(move || pli_proto::pow::solve(&text, &user, difficulty))
                .await
                .map_err(|_| ClientError::Invalid("proof of work was interrupted".into()))?;
        self.register(&api::RegisterRequest {
            username: username.clone(),
            challenge: challenge.challenge,
            nonce,
            signature_key: signature_key.to_vec().into(),
            region: region.cloned(),
        })
        .await
    }

    pub async fn self_device(&self) -> Result<api::SelfDeviceResponse, ClientError> {
        self.get(paths::SELF_DEVICE).await
    }

    pub async fn upload_key_packages(
        &self,
        request: &api::UploadKeyPackagesRequest,
    ) -> Result<api::UploadKeyPackagesResponse, ClientError> {
        self.post(paths::KEY_PACKAGES, request).await
    }

    pub async fn user_devices(
        &self,
        user: &Username,
    ) -> Result<api::UserDevicesResponse, ClientError> {
        self.get(&paths::user_devices(user.as_str())).await
    }

    /// Adds a device (endorsed by this one) to this device's account.
    pub async fn add_device(
        &self,
        request: &api::AddDeviceRequest,
    ) -> Result<api::AddDeviceResponse, ClientError> {
        self.post(paths::DEVICES, request).await
    }

    /// Has the server relay one sealed history part to another device of this account.
    pub async fn relay_history(
        &self,
        device: DeviceId,
        sealed: Vec<u8>,
    ) -> Result<(), ClientError> {
        let url = format!("{}{}", self.base, paths::device_history(device));
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(sealed);
        self.no_content(request).await
    }

    /// Removes one of this account's devices.
    pub async fn remove_device(
        &self,
        device: DeviceId,
    ) -> Result<api::RemoveDeviceResponse, ClientError> {
        self.call(
            self.http
                .delete(format!("{}{}", self.base, paths::device(device))),
        )
        .await
    }

    /// The key directory's signing and VRF keys.
    pub async fn directory_keys(&self) -> Result<kt::DirectoryKeysResponse, ClientError> {
        self.get(paths::DIRECTORY_KEYS).await
    }

    /// `user`'s devices in the key directory, with a lookup proof and its signed root.
    pub async fn directory_lookup(
        &self,
        user: &Username,
    ) -> Result<kt::LookupResponse, ClientError> {
        self.get(&paths::user_directory(user.as_str())).await
    }

    /// This device's user's complete key history, with its proof and signed root.
    pub async fn directory_history(&self) -> Result<kt::HistoryResponse, ClientError> {
        self.get(paths::DIRECTORY_HISTORY).await
    }

    /// Signed roots of epochs `from..from + limit`.
    pub async fn directory_roots(
        &self,
        from: u64,
        limit: u64,
    ) -> Result<kt::RootsResponse, ClientError> {
        self.get(&format!(
            "{}?from={from}&limit={limit}",
            paths::DIRECTORY_ROOTS
        ))
        .await
    }

    /// Append-only proofs from epoch `from` to `to` (at most [`kt::MAX_AUDIT_STEPS`] apart).
    pub async fn directory_audit(
        &self,
        from: u64,
        to: u64,
    ) -> Result<kt::AuditProofResponse, ClientError> {
        self.get(&format!("{}?from={from}&to={to}", paths::DIRECTORY_AUDIT))
            .await
    }

    pub async fn claim(&self, user: &Username) -> Result<api::ClaimResponse, ClientError> {
        self.post(&paths::user_claim(user.as_str()), &serde_json::json!({}))
            .await
    }

    /// Claims a key package for one device of `user` alone (spending no other device's).
    pub async fn claim_device(
        &self,
        user: &Username,
        device: DeviceId,
    ) -> Result<api::ClaimResponse, ClientError> {
        let path = format!("{}?device={device}", paths::user_claim(user.as_str()));
        self.post(&path, &serde_json::json!({})).await
    }

    /// The trust & safety actions taken on this account.
    pub async fn my_actions(&self) -> Result<Vec<pli_proto::abuse::ActionView>, ClientError> {
        self.get(paths::MY_ACTIONS).await
    }

    /// Appeals action `id` (once).
    pub async fn appeal(
        &self,
        id: u64,
        text: &str,
    ) -> Result<pli_proto::abuse::ActionView, ClientError> {
        let body = pli_proto::abuse::AppealRequest {
            text: text.to_owned(),
        };
        self.post(&paths::my_action_appeal(id), &body).await
    }

    /// Files an abuse report with the server (`POST /v1/reports`).
    pub async fn report(
        &self,
        request: &pli_proto::abuse::AbuseReportRequest,
    ) -> Result<pli_proto::abuse::ReportFiled, ClientError> {
        self.post(paths::REPORTS, request).await
    }

    pub async fn submit(
        &self,
        request: &api::SubmitRequest,
    ) -> Result<api::SubmitResponse, ClientError> {
        self.post(paths::MESSAGES, request).await
    }

    /// Hands an ephemeral message to the recipients connected now (`204`, no body).
    pub async fn ephemeral(&self, request: &api::EphemeralRequest) -> Result<(), ClientError> {
        let mut call = self
            .http
            .post(format!("{}{}", self.base, paths::EPHEMERAL))
            .json(request);
        if let Some(c) = &self.credentials {
            call = call.header(reqwest::header::AUTHORIZATION, c.header());
        }
        let response = call.send().await?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(());
        }
        read_response::<serde_json::Value>(response).await.map(drop)
    }

    /// Opens the device's delivery WebSocket.
    pub async fn connect(&self) -> Result<DeliveryStream, ClientError> {
        if self.credentials.is_none() {
            return Err(ClientError::NotRegistered);
        }
        // A fresh single-use ticket, so the long-lived secret never appears in the socket's
        // handshake (which WebSocket libraries log at trace level).
        let ticket: api::TicketResponse = self
            .post(paths::WEBSOCKET_TICKET, &serde_json::json!({}))
            .await?;
        let url = format!(
            "{}{}?ticket={}",
            self.base.replacen("http", "ws", 1),
            paths::WEBSOCKET,
            ticket.ticket
        );
        let request = url.into_client_request()?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(pli_proto::limits::MAX_WS_MESSAGE_BYTES * 2))
            .max_frame_size(Some(pli_proto::limits::MAX_WS_MESSAGE_BYTES * 2));
        let connector = tokio_tungstenite::Connector::Rustls(self.tls.clone());
        let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(config),
            false,
            Some(connector),
        )
        .await
        .map_err(|err| match err {
            tokio_tungstenite::tungstenite::Error::Http(response) if response.status() == 401 => {
                ClientError::Api {
                    status: 401,
                    code: pli_proto::ErrorCode::Unauthorized,
                    message: "the server does not accept this device's credentials".into(),
                }
            }
            other => other.into(),
        })?;
        Ok(DeliveryStream {
            socket,
            server_draining: false,
        })
    }
}

/// The delivery WebSocket: frames in, acks out.
pub struct DeliveryStream {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// The server closed the stream because its node is shutting down (close code 1012):
    /// reconnecting at once reaches another node.
    server_draining: bool,
}

impl DeliveryStream {
    /// The next frame, or `None` once the server closed the connection.
    pub async fn next_frame(&mut self) -> Result<Option<ServerFrame>, ClientError> {
        while let Some(message) = self.socket.next().await {
            match message? {
                Message::Binary(bytes) => {
                    return ServerFrame::decode(&bytes)
                        .map(Some)
                        .map_err(|e| ClientError::Protocol(format!("bad frame: {e}")));
                }
                Message::Close(frame) => {
                    self.server_draining = frame.is_some_and(|frame| {
                        frame.code == tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Restart
                    });
                    return Ok(None);
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// Whether the server closed the stream because its node is draining (shutting down
    /// on purpose), not because of a fault.
    pub fn server_draining(&self) -> bool {
        self.server_draining
    }

    pub async fn ack(&mut self, ids: Vec<MessageId>) -> Result<(), ClientError> {
        for chunk in ids.chunks(pli_proto::limits::MAX_ACK_IDS) {
            let frame = ClientFrame::Ack(chunk.to_vec()).encode();
            self.socket.send(Message::Binary(frame.into())).await?;
        }
        Ok(())
    }

    /// Submits messages over the socket, all in one write. Each is answered by an
    /// `Accepted` or `Refused` frame with its reference, read with [`Self::next_frame`];
    /// at most `MAX_WS_SUBMITS_IN_FLIGHT` should be unanswered at once (the server stops
    /// reading past that).
    pub async fn submit_all(
        &mut self,
        submissions: impl IntoIterator<Item = Submit>,
    ) -> Result<(), ClientError> {
        for submit in submissions {
            let frame = ClientFrame::Submit(submit).encode();
            self.socket.feed(Message::Binary(frame.into())).await?;
        }
        self.socket.flush().await?;
        Ok(())
    }

    /// Closes politely, so the server processes every ack sent before.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.socket.close(None).await?;
        // Read until the server's close reply, so our acks are known to have arrived.
        while let Some(message) = self.socket.next().await {
            if message.is_err() {
                break;
            }
        }
        Ok(())
    }
}
