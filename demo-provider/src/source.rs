//! Who is asking: the [`Source`] of a request, the network its peer address belongs to, so
//! that per-source bounds (pending consent screens, failed client authentications) keep one
//! address from using up what everyone else shares.

use std::{
    convert::Infallible,
    net::{IpAddr, Ipv6Addr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

/// The source of a request: its peer's IPv4 address, or the /64 network of its IPv6 address
/// (one host usually holds a whole /64, so counting single IPv6 addresses would bound nothing).
/// `None` when the peer is unknown (a router served without `ConnectInfo`, as in tests): all
/// such requests share one source.
///
/// The peer is the TCP peer, never a `Forwarded` or `X-Forwarded-For` header: the demo
/// provider is served directly, and anyone could write those headers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Source(Option<IpAddr>);

impl Source {
    /// The source of a peer address.
    pub fn of(peer: Option<IpAddr>) -> Self {
        Self(peer.map(|ip| match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
            v4 => v4,
        }))
    }
}

/// Reads the peer from axum's `ConnectInfo<SocketAddr>` (see `lib.rs`'s `spawn`); never fails.
impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Self::of(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().expect("an IP address"))
    }

    #[test]
    fn ipv4_addresses_are_sources_of_their_own() {
        assert_ne!(Source::of(ip("192.0.2.1")), Source::of(ip("192.0.2.2")));
        assert_eq!(Source::of(ip("192.0.2.1")), Source::of(ip("192.0.2.1")));
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source() {
        let a = Source::of(ip("2001:db8:1:2::1"));
        assert_eq!(a, Source::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(a, Source::of(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn a_mapped_ipv4_address_is_the_ipv4_address() {
        assert_eq!(
            Source::of(ip("::ffff:192.0.2.1")),
            Source::of(ip("192.0.2.1"))
        );
    }

    #[test]
    fn unknown_peers_share_one_source() {
        assert_eq!(Source::of(None), Source::default());
        assert_ne!(Source::of(None), Source::of(ip("127.0.0.1")));
    }
}
