//! A per-client limit on starting sign-ins (skip on first read). Every home-page view of a
//! visitor who is not connected stores a pending login; without a limit one client could fill
//! the session store and turn everyone else's sign-ins into "busy". Built on the `governor`
//! crate (GCRA); the client is the peer address, or, behind a proxy you trust, the address that
//! proxy put last in `X-Forwarded-For` (RFC 9700 §4.13: never trust such headers otherwise).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::http::HeaderMap;
use governor::{Quota, RateLimiter, clock::DefaultClock, state::keyed::HashMapStateStore};

/// Sign-ins each client may start per minute (with a burst of as many).
#[derive(Clone, Debug)]
pub struct SigninLimit {
    limiter: Arc<RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>>,
    trust_forwarded_for: bool,
}

impl SigninLimit {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, trust_forwarded_for: bool) -> Option<Self> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        Some(Self {
            limiter: Arc::new(RateLimiter::hashmap(quota)),
            trust_forwarded_for,
        })
    }

    /// Whether this client may start one more sign-in now (and counts it).
    pub fn allow(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
        let client = self.client(peer, headers);
        self.limiter.check_key(&client).is_ok()
    }

    /// The client's address: the last `X-Forwarded-For` entry when the proxy is trusted (the
    /// one it appended; earlier ones are whatever the client claimed), else the peer.
    fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let forwarded = || {
            let value = headers.get_all("x-forwarded-for").iter().next_back()?;
            let last = value.to_str().ok()?.rsplit(',').next()?.trim();
            last.parse::<IpAddr>().ok()
        };
        let peer = peer.map(|addr| addr.ip());
        let unknown = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let client = match self.trust_forwarded_for {
            true => forwarded().or(peer).unwrap_or(unknown),
            false => peer.unwrap_or(unknown),
        };
        per_network(client)
    }

    /// Forgets clients idle long enough to be back at a full burst, every `period`, for as long
    /// as the limiter lives. Keeps memory bounded under a flood from many addresses.
    pub fn spawn_pruner(&self, period: Duration) {
        let limiter = Arc::downgrade(&self.limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(limiter) = limiter.upgrade() else {
                    break;
                };
                limiter.retain_recent();
            }
        });
    }
}

/// One IPv6 host usually holds a whole /64: count it as one client (IPv4 stays per address).
fn per_network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: [u8; 4]) -> Option<SocketAddr> {
        Some(SocketAddr::from((ip, 40_000)))
    }

    #[tokio::test]
    async fn the_pruner_forgets_clients_back_at_a_full_burst_and_keeps_the_others() {
        // 6,000 a minute: one sign-in is paid back after 10 ms, 3,000 after 30 s.
        let limit = SigninLimit::new(6_000, false).expect("a limit");
        for last in 1..=3 {
            assert!(limit.allow(peer([10, 0, 0, last]), &HeaderMap::new()));
        }
        for _ in 0..3_000 {
            assert!(limit.allow(peer([10, 0, 0, 9]), &HeaderMap::new()));
        }
        assert_eq!(limit.limiter.len(), 4);
        limit.spawn_pruner(Duration::from_millis(20));
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while limit.limiter.len() > 1 {
            assert!(std::time::Instant::now() < deadline, "never pruned");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(limit.limiter.len(), 1, "the busy client is still counted");
    }

    #[test]
    fn each_client_gets_its_own_burst() {
        let limit = SigninLimit::new(3, false).expect("a limit");
        let headers = HeaderMap::new();
        for _ in 0..3 {
            assert!(limit.allow(peer([10, 0, 0, 1]), &headers));
        }
        assert!(
            !limit.allow(peer([10, 0, 0, 1]), &headers),
            "the fourth is refused"
        );
        assert!(
            limit.allow(peer([10, 0, 0, 2]), &headers),
            "another client is not"
        );
        assert!(SigninLimit::new(0, false).is_none(), "0 means no limit");
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let limit = SigninLimit::new(1, false).expect("a limit");
        let headers = HeaderMap::new();
        let v6 = |s: &str| Some(SocketAddr::new(s.parse().expect("ip"), 1));
        assert!(limit.allow(v6("2001:db8:1:2::1"), &headers));
        assert!(
            !limit.allow(v6("2001:db8:1:2:ffff::9"), &headers),
            "same /64"
        );
        assert!(limit.allow(v6("2001:db8:1:3::1"), &headers), "another /64");
        assert_eq!(
            per_network("::ffff:10.0.0.1".parse().expect("ip")),
            IpAddr::from([10, 0, 0, 1])
        );
    }

    #[test]
    fn x_forwarded_for_counts_only_behind_a_trusted_proxy_and_only_its_last_entry() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().expect("ascii"),
        );
        let untrusted = SigninLimit::new(1, false).expect("a limit");
        assert_eq!(
            untrusted.client(peer([10, 0, 0, 1]), &headers),
            IpAddr::from([10, 0, 0, 1])
        );
        let trusted = SigninLimit::new(1, true).expect("a limit");
        assert_eq!(
            trusted.client(peer([10, 0, 0, 1]), &headers),
            IpAddr::from([198, 51, 100, 7]),
            "the entry the proxy appended, not what the client claimed first"
        );
        headers.insert("x-forwarded-for", "not an address".parse().expect("ascii"));
        assert_eq!(
            trusted.client(peer([10, 0, 0, 1]), &headers),
            IpAddr::from([10, 0, 0, 1])
        );
        assert_eq!(
            trusted.client(None, &HeaderMap::new()),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
    }
}
