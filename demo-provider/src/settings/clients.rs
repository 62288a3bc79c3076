//! Client registration: [`RegisteredClient`], the `DEMO_CLIENTS_FILE` format, and the rules a
//! redirect URI must meet before the provider will ever redirect to it (RFC 6749 §3.1.2,
//! RFC 9700 §2.6).

use std::net::{Ipv4Addr, Ipv6Addr};

use anyhow::{Context, bail};
use url::{Host, Url};

use crate::secret::Secret;

/// A client registered at the demo provider.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    /// Compared in constant time; redacted in `Debug`. Not accepted from a client that has
    /// [`RegisteredClient::jwks`]: a client registers one authentication method (RFC 7591
    /// section 2, `token_endpoint_auth_method`).
    pub client_secret: Secret,
    /// The client's public key (a JWK) or keys (a JWK Set, `{"keys": [...]}`): set, the client
    /// authenticates with `private_key_jwt` (RFC 7523 section 2.2) and nothing else.
    pub jwks: Option<serde_json::Value>,
    /// Exact-match redirect URIs (RFC 9700 §4.1.3: no patterns, no normalization).
    pub redirect_uris: Vec<String>,
    /// Shown on the consent page.
    pub name: String,
    /// This client must push its authorization requests (RFC 9126 §6: the client metadata
    /// `require_pushed_authorization_requests`); a plain one is refused.
    pub require_par: bool,
    /// Exact-match `post_logout_redirect_uris` (OIDC RP-Initiated Logout 1.0 §3.1): where the
    /// end-session endpoint may send the browser back; any other is refused.
    pub post_logout_redirect_uris: Vec<String>,
    /// The client's `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.2): told, with a
    /// logout token, when the provider ends a session the client has a grant in.
    pub backchannel_logout_uri: Option<String>,
}

/// Parses a `DEMO_CLIENTS_FILE`: one client per line, `client_id client_secret redirect_uri
/// [redirect_uri…]`, separated by whitespace (so ids and secrets cannot contain spaces); blank
/// lines and lines starting with `#` are ignored. Errors name the line, never the secret.
pub fn parse_clients_file(text: &str) -> anyhow::Result<Vec<RegisteredClient>> {
    let mut clients = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let number = index + 1;
        let mut words = line.split_whitespace();
        let (Some(id), Some(secret)) = (words.next(), words.next()) else {
            bail!("line {number}: expected: client_id client_secret redirect_uri…");
        };
        let redirect_uris: Vec<String> = words.map(str::to_owned).collect();
        if redirect_uris.is_empty() {
            bail!("line {number}: client {id:?} has no redirect URI");
        }
        clients.push(RegisteredClient {
            client_id: id.to_owned(),
            client_secret: Secret::new(secret),
            redirect_uris,
            name: id.to_owned(),
            require_par: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            jwks: None,
        });
    }
    Ok(clients)
}

/// A redirect URI this provider accepts at registration: an absolute http(s) URL without a
/// fragment (RFC 6749 §3.1.2), https unless the host is loopback or `allow_http` is set
/// (RFC 9700 §2.6, OAuth 2.1 §1.5).
pub(crate) fn check_redirect_uri(uri: &str, allow_http: bool) -> anyhow::Result<()> {
    let url = Url::parse(uri).context("not an absolute URL (RFC 6749 §3.1.2)")?;
    if url.fragment().is_some() {
        bail!("a redirect URI must not contain a fragment (RFC 6749 §3.1.2)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("a redirect URI must not contain credentials");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback(&url) => Ok(()),
        "http" => bail!(
            "plain http is only accepted for loopback hosts (localhost, 127.0.0.1, [::1]); set \
             DEMO_PROVIDER_ALLOW_HTTP=1 for a development setup (RFC 9700 §2.6, OAuth 2.1 §1.5)"
        ),
        _ => bail!("only http(s) redirect URIs are supported by this demo provider"),
    }
}

/// Whether `url` names this machine: the name `localhost` in any case, an address in
/// `127.0.0.0/8`, or `::1` (RFC 8252 §7.3 and §8.3; RFC 9700 §2.6 lets only these use plain
/// http). Other names that happen to resolve to loopback do not count: DNS is not trusted.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(address)) => address.octets()[0] == Ipv4Addr::LOCALHOST.octets()[0],
        Some(Host::Ipv6(address)) => address == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(url: &str) -> bool {
        is_loopback(&Url::parse(url).expect("a URL"))
    }

    #[test]
    fn loopback_is_localhost_127_slash_8_and_ipv6_one() {
        for yes in [
            "http://localhost/cb",
            "http://LocalHost:8080/cb",
            "http://127.0.0.1:9/cb",
            "http://127.255.255.254/cb",
            "http://127.1/cb",
            "http://[::1]:8080/cb",
            "http://[0:0:0:0:0:0:0:1]/cb",
        ] {
            assert!(loopback(yes), "{yes}");
        }
        for no in [
            "http://localhost.example/cb",
            "http://app.localhost/cb",
            "http://128.0.0.1/cb",
            "http://126.255.255.255/cb",
            "http://0.0.0.0/cb",
            "http://[::]/cb",
            "http://[::ffff:127.0.0.1]/cb",
            "http://example.com/cb",
            "file:///tmp/cb",
        ] {
            assert!(!loopback(no), "{no}");
        }
    }

    #[test]
    fn registration_accepts_https_and_loopback_http_only() {
        for ok in ["https://app.example/cb", "http://localhost:1/cb"] {
            assert!(check_redirect_uri(ok, false).is_ok(), "{ok}");
        }
        assert!(check_redirect_uri("http://app.example/cb", false).is_err());
        assert!(check_redirect_uri("http://app.example/cb", true).is_ok());
        for bad in [
            "https://app.example/cb#x",
            "https://u:p@app.example/cb",
            "ftp://app.example/cb",
            "/cb",
        ] {
            assert!(check_redirect_uri(bad, true).is_err(), "{bad}");
        }
    }
}
