//! The address a request came from, for rate limits and the connection log.
//!
//! Behind a TLS-terminating proxy every connection comes from the proxy, so every user would
//! share one registration bucket. A proxy says who its client was in `X-Forwarded-For`; any
//! client can write that header too, so it is honoured only on a connection from one of the
//! operator's `trusted_proxies`. The client is then the rightmost address in the header
//! that is not itself a trusted proxy (proxies append; what is left of them came from the
//! client and proves nothing).

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::Store;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The request's client address (see the module doc).
pub struct ClientAddr(pub IpAddr);

/// Picks the client's address from the peer and its `X-Forwarded-For` values.
pub fn client_addr<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = forwarded
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !is_trusted(hop))
        .unwrap_or(peer)
}

impl<S: Store> FromRequestParts<AppState<S>> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| ApiError::internal(&"the connection's address is unknown"))?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(Self(client_addr(
            peer.ip(),
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // A client writing the header itself is not believed.
        assert_eq!(
            client_addr(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the client it saw.
        assert_eq!(
            client_addr(ip("10.1.2.3"), ["198.51.100.1"].into_iter(), &trusted),
            ip("198.51.100.1")
        );
        // A client's own forged entry sits left of what the proxy appended.
        assert_eq!(
            client_addr(
                ip("10.1.2.3"),
                ["192.0.2.66, 198.51.100.1", "10.4.4.4"].into_iter(),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // No usable header: the proxy itself.
        assert_eq!(
            client_addr(ip("10.1.2.3"), ["garbage"].into_iter(), &trusted),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_addr(ip("10.1.2.3"), ["198.51.100.1"].into_iter(), &[]),
            ip("10.1.2.3")
        );
    }
}
