//! The configuration values that can carry a password (a Redis URL, a proxy URL): their
//! `Debug` and `Display` never show it.

use anyhow::bail;
use url::Url;

/// A `redis://` or `rediss://` URL whose password never reaches a log: `Debug` and `Display`
/// print it as `redacted`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(Url);

impl RedisUrl {
    pub fn parse(v: &str) -> anyhow::Result<Self> {
        let url = Url::parse(v)?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            bail!("expected memory, redis://… or rediss://…");
        }
        Ok(Self(url))
    }

    /// The URL with its password, for the Redis client only.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("redacted"));
        }
        write!(f, "{shown}")
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// An outbound HTTP proxy, from the standard variables (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, `NO_PROXY`, upper or lower case). Loopback addresses never go through it.
/// `Debug` hides proxy passwords (`http://user:pass@proxy`).
#[derive(Clone, Default)]
pub struct OutboundProxy {
    /// For `https://` endpoints: `HTTPS_PROXY`, else `ALL_PROXY`.
    pub https: Option<Url>,
    /// For `http://` endpoints: `HTTP_PROXY`, else `ALL_PROXY`.
    pub http: Option<Url>,
    /// `NO_PROXY`: hosts, domains and CIDR ranges that bypass the proxy.
    pub no_proxy: Option<String>,
}

impl std::fmt::Debug for OutboundProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hide = |url: &Option<Url>| {
            url.as_ref().map(|u| {
                let mut u = u.clone();
                if u.password().is_some() {
                    let _ = u.set_password(Some("redacted"));
                }
                u.to_string()
            })
        };
        f.debug_struct("OutboundProxy")
            .field("https", &hide(&self.https))
            .field("http", &hide(&self.http))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}
