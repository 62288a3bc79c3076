//! How the provider runs: [`DemoSettings`], read from the environment (or a map in tests) and
//! checked before anything listens, with the opt-in quirks (`quirks`) and the registered
//! clients (`clients`) it holds.

mod clients;
mod quirks;

use std::{collections::HashSet, net::SocketAddr, time::Duration};

use anyhow::{Context, bail};

use crate::secret::Secret;

use clients::check_redirect_uri;
pub use clients::{RegisteredClient, parse_clients_file};
pub use quirks::Quirks;

/// Every environment variable [`DemoSettings::from_lookup`] reads, and the only ones it may
/// read (it checks each name against this list). `.env.example` documents each of them, and a
/// test below keeps the two in step.
pub const ENV_VARIABLES: [&str; 14] = [
    "DEMO_PROVIDER_ADDR",
    "DEMO_PROVIDER_QUIRKS",
    "DEMO_PROVIDER_ALLOW_HTTP",
    "DEMO_REQUIRE_PAR",
    "DEMO_DPOP_NONCE",
    "DEMO_CODE_TTL_SECS",
    "DEMO_ACCESS_TOKEN_TTL_SECS",
    "DEMO_REFRESH_TOKEN_TTL_SECS",
    "DEMO_MAX_PENDING",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REDIRECT_URIS",
    "DEMO_CLIENT_NAME",
    "DEMO_CLIENTS_FILE",
];

/// How the demo provider runs. Build it with [`DemoSettings::for_tests`] or
/// [`DemoSettings::from_env`] and change fields with struct-update syntax.
#[derive(Clone, Debug)]
pub struct DemoSettings {
    /// `DEMO_PROVIDER_ADDR`: where it listens. Default `127.0.0.1:3001`. A non-loopback address
    /// serves plain http to the network, so it needs `allow_http` too.
    pub addr: SocketAddr,
    /// `DEMO_CODE_TTL_SECS`: codes live this long (RFC 6749 §4.1.2 recommends at most 10
    /// minutes). Default 60 s. Time is counted in whole seconds.
    pub code_ttl: Duration,
    /// `DEMO_ACCESS_TOKEN_TTL_SECS`: access tokens live this long. Default 1 hour.
    pub access_token_ttl: Duration,
    /// `DEMO_REFRESH_TOKEN_TTL_SECS`: refresh tokens live this long. Default 30 days.
    pub refresh_token_ttl: Duration,
    /// How long a consent screen stays answerable. Default 10 minutes.
    pub transaction_ttl: Duration,
    /// Most live consent transactions, most live codes, and most remembered DPoP proof `jti`s,
    /// kept at once. Past it the provider answers `temporarily_unavailable` instead of growing
    /// (memory stays bounded). Default 10 000.
    pub max_pending: usize,
    /// The registered clients (`DEMO_CLIENT_ID`… or `DEMO_CLIENTS_FILE`).
    pub clients: Vec<RegisteredClient>,
    /// `DEMO_PROVIDER_ALLOW_HTTP=1`, a development switch, off by default: accept `http`
    /// redirect URIs on hosts other than loopback, and a non-loopback listen address. Without
    /// it only `localhost`, `127.0.0.0/8` and `[::1]` may use plain http (RFC 9700 §2.6,
    /// OAuth 2.1 §1.5).
    pub allow_http: bool,
    /// PKCE is required by default (RFC 9700 §2.1.1). `false` is a *test-only* switch that lets
    /// an authorization request omit `code_challenge`, so that the token endpoint's PKCE
    /// downgrade check (a verifier sent for a code without a challenge, RFC 9700 §4.8.2) can be
    /// exercised. Never read from the environment.
    pub pkce_required: bool,
    /// A *test-only* pause in answering a `refresh_token` grant (zero by default, never read
    /// from the environment): the grant is handled first (the refresh token is rotated, the
    /// request recorded), then the answer is held this long before it is sent. So a test can
    /// make concurrent refreshes certainly overlap (a client without single-flight then
    /// presents the rotated-away refresh token, which reuse detection punishes, RFC 9700
    /// §4.14.2), and can cut a client off after the provider rotated but before the client
    /// saw the new tokens.
    pub refresh_delay: Duration,
    /// The same for an `authorization_code` grant (*test-only*, zero by default): the code is
    /// redeemed first, then the answer is held, so a test can stop Redis or the client in the
    /// middle of a token exchange.
    pub code_delay: Duration,
    /// `DEMO_PROVIDER_QUIRKS`: opt-in misbehaviours of real providers, to test clients against.
    pub quirks: Quirks,
    /// `DEMO_REQUIRE_PAR=1`: every client must push its authorization requests (RFC 9126 §5,
    /// the metadata's `require_pushed_authorization_requests`). Default off; a client can also
    /// require it for itself (`RegisteredClient::require_par`).
    pub require_par: bool,
    /// How long a pushed request's `request_uri` may be used (RFC 9126 §2.2: short-lived).
    /// Default 60 s.
    pub par_ttl: Duration,
    /// `DEMO_DPOP_NONCE=1`: every DPoP proof must carry this server's nonce (RFC 9449 sections 8
    /// and 9). A proof without it is answered `use_dpop_nonce` with the nonce in a `DPoP-Nonce`
    /// header (400 at the token endpoint, 401 at the photos API). One random nonce per provider
    /// start. Default off.
    pub dpop_nonce: bool,
}

impl DemoSettings {
    /// Reads the settings from the process environment (see [`DemoSettings::from_lookup`]).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests). Empty values
    /// count as unset. Variables:
    ///
    /// - `DEMO_PROVIDER_ADDR` (`127.0.0.1:3001`), `DEMO_PROVIDER_QUIRKS` (none),
    ///   `DEMO_PROVIDER_ALLOW_HTTP` (`0`), `DEMO_REQUIRE_PAR` (`0`), `DEMO_DPOP_NONCE` (`0`),
    ///   `DEMO_CODE_TTL_SECS` (60),
    ///   `DEMO_ACCESS_TOKEN_TTL_SECS` (3600), `DEMO_REFRESH_TOKEN_TTL_SECS` (2592000);
    /// - one client: `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_REDIRECT_URIS`
    ///   (space-separated), `DEMO_CLIENT_NAME` (optional);
    /// - more clients: `DEMO_CLIENTS_FILE`, a file of lines
    ///   `client_id client_secret redirect_uri [redirect_uri…]` (`#` starts a comment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| {
            debug_assert!(
                ENV_VARIABLES.contains(&name),
                "{name} is read but not in ENV_VARIABLES"
            );
            lookup(name).filter(|v| !v.trim().is_empty())
        };
        let mut settings = Self::for_tests();

        let addr = var("DEMO_PROVIDER_ADDR").unwrap_or_else(|| "127.0.0.1:3001".into());
        settings.addr = addr
            .trim()
            .parse()
            .with_context(|| format!("DEMO_PROVIDER_ADDR={addr:?} is not host:port"))?;
        if let Some(list) = var("DEMO_PROVIDER_QUIRKS") {
            settings.quirks = Quirks::parse(&list).context("DEMO_PROVIDER_QUIRKS is not valid")?;
        }
        for (name, field) in [
            ("DEMO_PROVIDER_ALLOW_HTTP", &mut settings.allow_http),
            ("DEMO_REQUIRE_PAR", &mut settings.require_par),
            ("DEMO_DPOP_NONCE", &mut settings.dpop_nonce),
        ] {
            if let Some(flag) = var(name) {
                *field = match flag.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => true,
                    "0" | "false" | "no" => false,
                    _ => bail!("{name}={flag:?} is not valid: expected 1 or 0"),
                };
            }
        }
        for (name, field) in [
            ("DEMO_CODE_TTL_SECS", &mut settings.code_ttl),
            ("DEMO_ACCESS_TOKEN_TTL_SECS", &mut settings.access_token_ttl),
            (
                "DEMO_REFRESH_TOKEN_TTL_SECS",
                &mut settings.refresh_token_ttl,
            ),
        ] {
            if let Some(value) = var(name) {
                match value.trim().parse::<u64>() {
                    Ok(secs) if secs > 0 => *field = Duration::from_secs(secs),
                    _ => bail!("{name}={value:?} is not valid: expected whole seconds above 0"),
                }
            }
        }
        if let Some(value) = var("DEMO_MAX_PENDING") {
            settings.max_pending = match value.trim().parse::<usize>() {
                Ok(n) if (1..=10_000_000).contains(&n) => n,
                _ => bail!("DEMO_MAX_PENDING={value:?} is not valid: expected 1 to 10000000"),
            };
        }

        match var("DEMO_CLIENT_ID") {
            Some(client_id) => {
                let secret = var("DEMO_CLIENT_SECRET").context(
                    "DEMO_CLIENT_SECRET is required with DEMO_CLIENT_ID (make one with: openssl rand -hex 32)",
                )?;
                let uris = var("DEMO_REDIRECT_URIS").context(
                    "DEMO_REDIRECT_URIS (space-separated) is required with DEMO_CLIENT_ID",
                )?;
                settings.clients.push(RegisteredClient {
                    name: var("DEMO_CLIENT_NAME").unwrap_or_else(|| client_id.clone()),
                    client_id,
                    client_secret: Secret::new(secret),
                    redirect_uris: uris.split_whitespace().map(str::to_owned).collect(),
                    require_par: false,
                    post_logout_redirect_uris: Vec::new(),
                    backchannel_logout_uri: None,
                    jwks: None,
                });
            }
            None => {
                if var("DEMO_CLIENT_SECRET").is_some() || var("DEMO_REDIRECT_URIS").is_some() {
                    bail!("DEMO_CLIENT_SECRET and DEMO_REDIRECT_URIS need DEMO_CLIENT_ID");
                }
            }
        }
        if let Some(path) = var("DEMO_CLIENTS_FILE") {
            let text = std::fs::read_to_string(path.trim())
                .with_context(|| format!("DEMO_CLIENTS_FILE={path:?} cannot be read"))?;
            let clients = parse_clients_file(&text)
                .with_context(|| format!("DEMO_CLIENTS_FILE={path:?} is not valid"))?;
            settings.clients.extend(clients);
        }
        Ok(settings)
    }

    /// Defaults on a free loopback port, no clients yet.
    pub fn for_tests() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            transaction_ttl: Duration::from_secs(600),
            max_pending: 10_000,
            clients: Vec::new(),
            allow_http: false,
            pkce_required: true,
            refresh_delay: Duration::ZERO,
            code_delay: Duration::ZERO,
            quirks: Quirks::default(),
            require_par: false,
            par_ttl: Duration::from_secs(60),
            dpop_nonce: false,
        }
    }

    /// Checks the settings before anything listens: every client is well-formed and every
    /// redirect URI is one this provider may redirect to (RFC 6749 §3.1.2, RFC 9700 §2.6).
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.addr.ip().is_loopback() && !self.allow_http {
            bail!(
                "DEMO_PROVIDER_ADDR={} is not a loopback address: the demo provider speaks plain \
                 http, so listening there needs DEMO_PROVIDER_ALLOW_HTTP=1 (RFC 9700 §2.6)",
                self.addr
            );
        }
        let mut ids = HashSet::new();
        for client in &self.clients {
            let id = &client.client_id;
            if id.is_empty() || id.chars().any(char::is_control) {
                bail!("a client_id is empty or contains control characters");
            }
            if !ids.insert(id.as_str()) {
                bail!("client_id {id:?} is registered twice");
            }
            if client.client_secret.expose().is_empty() {
                bail!("client {id:?} has an empty secret");
            }
            if client.redirect_uris.is_empty() {
                bail!("client {id:?} has no redirect URI (RFC 6749 §3.1.2.2, OAuth 2.1 §2.3.1)");
            }
            for uri in &client.redirect_uris {
                check_redirect_uri(uri, self.allow_http)
                    .with_context(|| format!("client {id:?}: redirect URI {uri:?} refused"))?;
            }
            // OIDC RP-Initiated Logout 1.0 §3.1 and Back-Channel Logout 1.0 §2.2: the same
            // rules as redirect URIs (absolute, no fragment, https unless loopback).
            let logout_uris = client.post_logout_redirect_uris.iter();
            for uri in logout_uris.chain(&client.backchannel_logout_uri) {
                check_redirect_uri(uri, self.allow_http)
                    .with_context(|| format!("client {id:?}: logout URI {uri:?} refused"))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// The repository's `.env.example`, whose last section documents the demo provider.
    const ENV_EXAMPLE: &str = include_str!("../../../.env.example");

    #[test]
    fn every_variable_read_is_documented_in_env_example_and_every_documented_one_is_read() {
        // Both branches of the reader: no client, then one client (whose name is read too).
        let one_client = [
            ("DEMO_CLIENT_ID", "my-app"),
            ("DEMO_CLIENT_SECRET", "s3cret"),
            ("DEMO_REDIRECT_URIS", "http://localhost:9/cb"),
        ];
        let read = RefCell::new(Vec::new());
        for set in [&[][..], &one_client[..]] {
            DemoSettings::from_lookup(|name| {
                read.borrow_mut().push(name.to_owned());
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .expect("valid settings");
        }
        let read = read.into_inner();
        for name in ENV_VARIABLES {
            assert!(
                read.iter().any(|r| r == name),
                "{name} is listed but never read"
            );
            assert!(
                ENV_EXAMPLE.contains(&format!("{name}=")),
                "{name} is read but not documented in .env.example"
            );
        }
        let documented: Vec<&str> = ENV_EXAMPLE
            .split(|c: char| !(c.is_ascii_uppercase() || c == '_' || c == '='))
            .filter_map(|word| word.strip_suffix('='))
            .filter(|name| name.starts_with("DEMO_"))
            .collect();
        assert!(documented.len() >= ENV_VARIABLES.len(), "{documented:?}");
        for name in documented {
            assert!(
                ENV_VARIABLES.contains(&name),
                "{name} is documented in .env.example but the demo provider never reads it"
            );
        }
    }
}
