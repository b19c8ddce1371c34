//! Accounts and device credentials: registration without phone or e-mail, and the check
//! every authenticated request passes.
//!
//! Registration costs a proof of work on a challenge the server minted (stateless: the
//! challenge carries its expiry and an HMAC under the server's secret), plus a per-source
//! rate limit. Each device gets a random 256-bit secret; the server keeps only its SHA-256
//! (a fast hash suffices for a secret with that much entropy).

use crate::clock::Clock;
use crate::store::{NewAccount, Store, StoreError};
use hmac::{Hmac, Mac};
use pli_proto::api::{AUTH_SCHEME, RegisterRequest, RegisterResponse};
use pli_proto::{DeviceId, Region, Username, pow};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a registration challenge stays valid.
pub const CHALLENGE_TTL_MS: u64 = 10 * 60 * 1000;
/// Ed25519 public keys are 32 bytes.
pub const SIGNATURE_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the challenge is malformed, expired or not from this server")]
    InvalidChallenge,
    #[error("the proof of work does not solve the challenge")]
    ProofOfWork,
    #[error("the signature key must be a 32-byte Ed25519 public key")]
    BadSignatureKey,
    #[error("missing or invalid device credentials")]
    Unauthorized,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Mints and checks registration challenges.
pub struct Challenges {
    key: [u8; 32],
}

impl Challenges {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn tag(&self, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"pli-challenge-v1");
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `expiry_ms.random.hmac`.
    pub fn mint(&self, now_ms: u64) -> String {
        let nonce: [u8; 16] = rand::rng().random();
        let body = format!("{}.{}", now_ms + CHALLENGE_TTL_MS, hex::encode(nonce));
        let tag = self.tag(&body);
        format!("{body}.{tag}")
    }

    pub fn check(&self, challenge: &str, now_ms: u64) -> Result<(), AccountError> {
        let (body, tag) = challenge
            .rsplit_once('.')
            .ok_or(AccountError::InvalidChallenge)?;
        let expected = self.tag(body);
        if !bool::from(expected.as_bytes().ct_eq(tag.as_bytes())) {
            return Err(AccountError::InvalidChallenge);
        }
        let expiry: u64 = body
            .split_once('.')
            .and_then(|(expiry, _)| expiry.parse().ok())
            .ok_or(AccountError::InvalidChallenge)?;
        if now_ms > expiry {
            return Err(AccountError::InvalidChallenge);
        }
        Ok(())
    }
}

pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Registers the account and its first device; returns the device's credentials.
pub async fn register<S: Store>(
    store: &S,
    challenges: &Challenges,
    clock: &dyn Clock,
    difficulty: u8,
    request: RegisterRequest,
    home: Region,
) -> Result<RegisterResponse, AccountError> {
    challenges.check(&request.challenge, clock.now_ms())?;
    if !pow::verify(
        &request.challenge,
        request.username.as_str(),
        request.nonce,
        difficulty,
    ) {
        return Err(AccountError::ProofOfWork);
    }
    if request.signature_key.as_slice().len() != SIGNATURE_KEY_BYTES {
        return Err(AccountError::BadSignatureKey);
    }
    // The thread-local generator is not `Send`: draw everything before the first await.
    let (device_id, secret) = {
        let mut rng = rand::rng();
        let id = DeviceId::new(rng.random_range(1..=DeviceId::MAX))
            .expect("drawn inside the valid range");
        (id, hex::encode(rng.random::<[u8; 32]>()))
    };
    // The next directory epoch publishes the first device (a lookup publishes it at once).
    let account = NewAccount {
        region: home.clone(),
        username: request.username.clone(),
        device_id,
        secret_hash: hash_secret(&secret),
        signature_key: request.signature_key.into_inner(),
        created_day: clock.today(),
    };
    crate::directory::publish::changing_devices(
        store,
        &request.username,
        store.create_account(account),
    )
    .await?;
    Ok(RegisterResponse {
        username: request.username,
        device_id,
        device_secret: secret,
        region: home,
    })
}

/// A device whose credentials checked out.
#[derive(Clone, Debug)]
pub struct AuthedDevice {
    pub device_id: DeviceId,
    pub username: Username,
    pub last_seen_day: Option<i64>,
}

/// Parses `Pli <device>.<secret>` and checks it against the stored hash in constant time.
pub async fn authenticate<S: Store>(
    store: &S,
    header: Option<&str>,
) -> Result<AuthedDevice, AccountError> {
    let credentials = header
        .and_then(|h| h.strip_prefix(AUTH_SCHEME))
        .and_then(|h| h.strip_prefix(' '))
        .ok_or(AccountError::Unauthorized)?;
    let (device, secret) = credentials
        .split_once('.')
        .ok_or(AccountError::Unauthorized)?;
    let device_id: DeviceId = device.parse().map_err(|_| AccountError::Unauthorized)?;
    let auth = store
        .device_auth(device_id)
        .await?
        .ok_or(AccountError::Unauthorized)?;
    if !bool::from(auth.secret_hash.ct_eq(&hash_secret(secret))) {
        return Err(AccountError::Unauthorized);
    }
    Ok(AuthedDevice {
        device_id,
        username: auth.username,
        last_seen_day: auth.last_seen_day,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn challenges_expire_and_cannot_be_forged() {
        let challenges = Challenges::new([7; 32]);
        let challenge = challenges.mint(1_000);
        assert!(challenges.check(&challenge, 1_000).is_ok());
        assert!(
            challenges
                .check(&challenge, 1_000 + CHALLENGE_TTL_MS + 1)
                .is_err()
        );
        let other_server = Challenges::new([8; 32]);
        assert!(other_server.check(&challenge, 1_000).is_err());
        let (body, _) = challenge.rsplit_once('.').expect("dotted");
        let forged_expiry =
            body.replacen(&(1_000 + CHALLENGE_TTL_MS).to_string(), "99999999999999", 1);
        let forged = format!("{forged_expiry}.{}", challenges.tag(body));
        assert!(challenges.check(&forged, 1_000).is_err());
    }

    #[tokio::test]
    async fn register_then_authenticate() {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::SqliteStore::open(&dir.path().join("db")).expect("store");
        let challenges = Challenges::new([1; 32]);
        let clock = ManualClock::new(5_000);
        let username = Username::parse("alice").expect("valid");
        let challenge = challenges.mint(clock.now_ms());
        let request = RegisterRequest {
            username: username.clone(),
            challenge: challenge.clone(),
            nonce: pow::solve(&challenge, "alice", 4),
            signature_key: vec![9; 32].into(),
            region: None,
        };
        let home = Region::parse("default").expect("region");
        let bad_pow = RegisterRequest {
            nonce: request.nonce + 1,
            ..request.clone()
        };
        // A wrong nonce almost always fails; retry the check with the real difficulty.
        if !pow::verify(&challenge, "alice", bad_pow.nonce, 4) {
            assert!(matches!(
                register(&store, &challenges, &clock, 4, bad_pow, home.clone()).await,
                Err(AccountError::ProofOfWork)
            ));
        }
        let done = register(
            &store,
            &challenges,
            &clock,
            4,
            request.clone(),
            home.clone(),
        )
        .await
        .expect("ok");
        let header = format!("Pli {}.{}", done.device_id, done.device_secret);
        let device = authenticate(&store, Some(&header))
            .await
            .expect("authenticates");
        assert_eq!(device.username, username);
        let wrong = format!("Pli {}.{}", done.device_id, "00".repeat(32));
        assert!(authenticate(&store, Some(&wrong)).await.is_err());
        assert!(authenticate(&store, None).await.is_err());
        assert!(authenticate(&store, Some("Bearer x")).await.is_err());
        assert!(matches!(
            register(&store, &challenges, &clock, 4, request, home).await,
            Err(AccountError::Store(StoreError::UsernameTaken))
        ));
    }
}
