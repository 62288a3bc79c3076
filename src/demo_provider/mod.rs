//! DEMO PROVIDER: a fake but strict OAuth 2.0 authorization server and photos API, for offline
//! demos and tests only. Not for production: users are hard-coded and everything is in memory.
//!
//! It runs on its own listener and origin (default `http://127.0.0.1:3001`), so the browser really
//! leaves the app's site and comes back. `cargo run --bin demo-provider` runs it alone, for any
//! client (see `docs/demo-provider.md`). The client code never imports this module; to remove
//! it, run `scripts/remove-demo-provider.sh`.

mod api;
mod authorize;
mod client_auth;
mod pages;
mod photos;
mod store;
mod token;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use axum::{Json, Router, extract::DefaultBodyLimit, routing::get};
use oauth2::{AuthUrl, ClientSecret, RevocationUrl, TokenUrl};
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};
use url::Url;

use crate::{Application, config::ProviderConfig, form};

/// Codes, tokens, ids: the app's 256-bit CSPRNG tokens (RFC 6749 §10.10).
pub(crate) use crate::session::random_token;

pub use store::{ProviderState, TokenRequestSeen};

/// A client registered at the demo provider.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    pub client_id: String,
    /// Compared in constant time; redacted in `Debug`.
    pub client_secret: ClientSecret,
    /// Exact-match redirect URIs (RFC 9700 §4.1.3: no patterns, no normalization).
    pub redirect_uris: Vec<String>,
    /// Shown on the consent page.
    pub name: String,
}

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
    /// Most live consent transactions, and most live codes, kept at once. Past it the provider
    /// answers `temporarily_unavailable` instead of growing (memory stays bounded). Default 10 000.
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
    /// `DEMO_PROVIDER_QUIRKS`: opt-in misbehaviours of real providers, to test clients against.
    pub quirks: Quirks,
}

/// Ways real providers deviate from the specs, each off by default. Turn them on to check that
/// a client copes (or refuses cleanly). `DEMO_PROVIDER_QUIRKS` takes a comma-separated list of
/// the names in [`Quirks::NAMES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// `error-200`: token-endpoint errors come with HTTP 200, as GitHub sends them (RFC 6749
    /// §5.2 says 400/401).
    pub error_with_200: bool,
    /// `expires-in-string`: `"expires_in": "3600"`, a JSON string (RFC 6749 §5.1 says number).
    pub expires_in_as_string: bool,
    /// `scope-commas`: `"scope": "photos,profile"` (RFC 6749 §3.3 says space-separated).
    pub comma_separated_scope: bool,
    /// `no-expires-in`: the token response has no `expires_in` (RECOMMENDED by RFC 6749 §5.1).
    pub omit_expires_in: bool,
    /// `no-iss`: authorization responses carry no `iss` (RFC 9207 §2), and the metadata says
    /// `authorization_response_iss_parameter_supported: false`, like most providers today. A
    /// client configured with the issuer must then refuse the callback (RFC 9207 §2.4).
    pub omit_iss: bool,
}

impl Quirks {
    /// The names `DEMO_PROVIDER_QUIRKS` accepts.
    pub const NAMES: [&'static str; 5] = [
        "error-200",
        "expires-in-string",
        "scope-commas",
        "no-expires-in",
        "no-iss",
    ];

    /// Parses a comma-separated list of [`Quirks::NAMES`] (`_` may stand for `-`). An unknown
    /// name is an error, so a typo never silently tests nothing.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut quirks = Self::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let flag = match name.replace('_', "-").to_ascii_lowercase().as_str() {
                "error-200" => &mut quirks.error_with_200,
                "expires-in-string" => &mut quirks.expires_in_as_string,
                "scope-commas" => &mut quirks.comma_separated_scope,
                "no-expires-in" => &mut quirks.omit_expires_in,
                "no-iss" => &mut quirks.omit_iss,
                _ => bail!(
                    "unknown quirk {:?}; known: {}",
                    form::truncate(name, 40),
                    Self::NAMES.join(", ")
                ),
            };
            *flag = true;
        }
        Ok(quirks)
    }

    /// The names of the quirks that are on.
    pub fn enabled(&self) -> Vec<&'static str> {
        let flags = [
            self.error_with_200,
            self.expires_in_as_string,
            self.comma_separated_scope,
            self.omit_expires_in,
            self.omit_iss,
        ];
        Self::NAMES
            .iter()
            .zip(flags)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect()
    }
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
    ///   `DEMO_PROVIDER_ALLOW_HTTP` (`0`), `DEMO_CODE_TTL_SECS` (60),
    ///   `DEMO_ACCESS_TOKEN_TTL_SECS` (3600), `DEMO_REFRESH_TOKEN_TTL_SECS` (2592000);
    /// - one client: `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_REDIRECT_URIS`
    ///   (space-separated), `DEMO_CLIENT_NAME` (optional);
    /// - more clients: `DEMO_CLIENTS_FILE`, a file of lines
    ///   `client_id client_secret redirect_uri [redirect_uri…]` (`#` starts a comment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut settings = Self::for_tests();

        let addr = var("DEMO_PROVIDER_ADDR").unwrap_or_else(|| "127.0.0.1:3001".into());
        settings.addr = addr
            .trim()
            .parse()
            .with_context(|| format!("DEMO_PROVIDER_ADDR={addr:?} is not host:port"))?;
        if let Some(list) = var("DEMO_PROVIDER_QUIRKS") {
            settings.quirks = Quirks::parse(&list).context("DEMO_PROVIDER_QUIRKS is not valid")?;
        }
        if let Some(flag) = var("DEMO_PROVIDER_ALLOW_HTTP") {
            settings.allow_http = match flag.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => bail!("DEMO_PROVIDER_ALLOW_HTTP={flag:?} is not valid: expected 1 or 0"),
            };
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

        match var("DEMO_CLIENT_ID") {
            Some(client_id) => {
                let secret = var("DEMO_CLIENT_SECRET").context(
                    "DEMO_CLIENT_SECRET is required with DEMO_CLIENT_ID (make one with: openssl rand -base64 32)",
                )?;
                let uris = var("DEMO_REDIRECT_URIS").context(
                    "DEMO_REDIRECT_URIS (space-separated) is required with DEMO_CLIENT_ID",
                )?;
                settings.clients.push(RegisteredClient {
                    name: var("DEMO_CLIENT_NAME").unwrap_or_else(|| client_id.clone()),
                    client_id,
                    client_secret: ClientSecret::new(secret),
                    redirect_uris: uris.split_whitespace().map(str::to_owned).collect(),
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
            quirks: Quirks::default(),
        }
    }

    /// Checks the settings before anything listens: every client is well-formed and every
    /// redirect URI is one this provider may redirect to (RFC 6749 §3.1.2, RFC 9700 §2.6).
    pub fn validate(&self) -> anyhow::Result<()> {
        let ip = self.addr.ip();
        if !ip.is_loopback() && !self.allow_http {
            bail!(
                "DEMO_PROVIDER_ADDR={} is not a loopback address: the demo provider speaks plain \
                 http, so listening there needs DEMO_PROVIDER_ALLOW_HTTP=1 (RFC 9700 §2.6)",
                self.addr
            );
        }
        let mut ids = std::collections::HashSet::new();
        for client in &self.clients {
            let id = &client.client_id;
            if id.is_empty() || id.chars().any(char::is_control) {
                bail!("a client_id is empty or contains control characters");
            }
            if !ids.insert(id.as_str()) {
                bail!("client_id {id:?} is registered twice");
            }
            if client.client_secret.secret().is_empty() {
                bail!("client {id:?} has an empty secret");
            }
            if client.redirect_uris.is_empty() {
                bail!("client {id:?} has no redirect URI (RFC 6749 §3.1.2.2, OAuth 2.1 §2.3.1)");
            }
            for uri in &client.redirect_uris {
                check_redirect_uri(uri, self.allow_http)
                    .with_context(|| format!("client {id:?}: redirect URI {uri:?} refused"))?;
            }
        }
        Ok(())
    }
}

/// A redirect URI this provider accepts at registration: an absolute http(s) URL without a
/// fragment (RFC 6749 §3.1.2), https unless the host is loopback or `allow_http` is set
/// (RFC 9700 §2.6, OAuth 2.1 §1.5).
fn check_redirect_uri(uri: &str, allow_http: bool) -> anyhow::Result<()> {
    let url = Url::parse(uri).context("not an absolute URL (RFC 6749 §3.1.2)")?;
    if url.fragment().is_some() {
        bail!("a redirect URI must not contain a fragment (RFC 6749 §3.1.2)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("a redirect URI must not contain credentials");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::config::is_loopback(&url) || allow_http => Ok(()),
        "http" => bail!(
            "plain http is only accepted for loopback hosts (localhost, 127.0.0.1, [::1]); set \
             DEMO_PROVIDER_ALLOW_HTTP=1 for a development setup (RFC 9700 §2.6, OAuth 2.1 §1.5)"
        ),
        _ => bail!("only http(s) redirect URIs are supported by this demo provider"),
    }
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
        let mut words = line.split_whitespace();
        let (Some(id), Some(secret)) = (words.next(), words.next()) else {
            bail!(
                "line {}: expected: client_id client_secret redirect_uri…",
                index + 1
            );
        };
        let redirect_uris: Vec<String> = words.map(str::to_owned).collect();
        if redirect_uris.is_empty() {
            bail!("line {}: client {id:?} has no redirect URI", index + 1);
        }
        clients.push(RegisteredClient {
            client_id: id.to_owned(),
            client_secret: ClientSecret::new(secret.to_owned()),
            redirect_uris,
            name: id.to_owned(),
        });
    }
    Ok(clients)
}

/// A running demo provider.
pub struct DemoProvider {
    /// Its issuer identifier and base URL, e.g. `http://127.0.0.1:3001`.
    pub issuer: String,
    /// Its state: registered clients, codes, tokens and what it has seen (tests inspect it).
    pub state: Arc<ProviderState>,
    pub task: JoinHandle<()>,
}

impl DemoProvider {
    /// The endpoints a client uses to talk to this provider.
    pub fn endpoints(&self) -> anyhow::Result<ProviderConfig> {
        Ok(ProviderConfig {
            name: "Demo Photos".into(),
            auth_url: AuthUrl::new(format!("{}/oauth/authorize", self.issuer))?,
            token_url: TokenUrl::new(format!("{}/oauth/token", self.issuer))?,
            photos_api_url: Url::parse(&format!("{}/api/photos", self.issuer))?,
            revocation_url: Some(RevocationUrl::new(format!("{}/oauth/revoke", self.issuer))?),
            issuer: Some(self.issuer.clone()),
            // Every authorization response carries `iss` (RFC 9207 §2), unless the `no-iss`
            // quirk is on, in which case the metadata does not advertise it either.
            require_iss: !self.state.settings.quirks.omit_iss,
        })
    }
}

/// Starts the provider with `settings`. Refuses settings that [`DemoSettings::validate`]
/// refuses, e.g. an `http` redirect URI on a non-loopback host without `allow_http` (AR-05).
pub async fn spawn(settings: DemoSettings) -> anyhow::Result<DemoProvider> {
    settings.validate()?;
    if !settings.pkce_required {
        tracing::warn!("demo provider: PKCE is optional (test-only setting)");
    }
    let listener = TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("demo provider cannot listen on {}", settings.addr))?;
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    let issuer = format!("http://{addr}");
    let state = Arc::new(ProviderState::new(issuer.clone(), settings));
    state.spawn_purger(Duration::from_secs(30));
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "demo provider stopped");
        }
    });
    Ok(DemoProvider {
        issuer,
        state,
        task,
    })
}

/// When the app has no provider configured: starts the demo provider with the app registered as
/// its client (a fresh random secret unless `OAUTH_CLIENT_SECRET` is set) and points the app at
/// it. The provider runs in the background for the life of the process.
pub async fn start_for(mut app: Application) -> anyhow::Result<Application> {
    if app.config().provider.is_none() {
        let provider = start_with(&mut app, DemoSettings::from_env()?).await?;
        tracing::info!(issuer = %provider.issuer, "demo provider running (no OAUTH_AUTH_URL set)");
    }
    Ok(app)
}

/// [`start_for`] with explicit settings (tests).
pub async fn start_with(
    app: &mut Application,
    mut settings: DemoSettings,
) -> anyhow::Result<DemoProvider> {
    let secret = app
        .config()
        .client_secret
        .clone()
        .unwrap_or_else(|| ClientSecret::new(random_token()));
    settings.clients.push(RegisteredClient {
        client_id: app.config().client_id.to_string(),
        client_secret: secret.clone(),
        redirect_uris: vec![app.redirect_uri()?.to_string()],
        name: "photo-connect".into(),
    });
    let provider = spawn(settings).await?;
    let config = app.config_mut();
    config.client_secret = Some(secret);
    config.provider = Some(provider.endpoints()?);
    Ok(provider)
}

fn router(state: Arc<ProviderState>) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .merge(authorize::router())
        .merge(token::router())
        .merge(api::router())
        .route("/assets/provider.css", get(pages::stylesheet))
        // Token and consent bodies are tiny: a 64 KiB cap answers 413 to anything abusive.
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// RFC 8414 metadata, with RFC 9207's `authorization_response_iss_parameter_supported`.
async fn metadata(
    axum::extract::State(state): axum::extract::State<Arc<ProviderState>>,
) -> Json<serde_json::Value> {
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": store::SCOPES,
        // RFC 9207 §3; false only under the `no-iss` quirk, which stops sending it.
        "authorization_response_iss_parameter_supported": !state.settings.quirks.omit_iss,
    }))
}

/// The OAuth parameters this provider knows. An error message may name a parameter only if it
/// is one of these: a name chosen by the sender is never echoed (RFC 6749 §4.1.2.1 limits the
/// characters of `error_description`, and echoed input is an injection vector).
const KNOWN_PARAMS: &[&str] = &[
    "client_id",
    "client_secret",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "grant_type",
    "redirect_uri",
    "refresh_token",
    "response_type",
    "scope",
    "state",
    "token",
    "token_type_hint",
    "transaction",
    "user",
    "decision",
];

/// `name` if it is a known parameter, else a neutral phrase.
pub(crate) fn param_label(name: &str) -> &'static str {
    KNOWN_PARAMS
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("a parameter")
}

/// A form that could not be parsed, described without echoing any of it.
pub(crate) fn describe_form_error(err: &form::FormError) -> String {
    match err {
        form::FormError::TooLong(max) => format!("the form is longer than {max} bytes"),
        form::FormError::Duplicate(name) => format!("{} is repeated", param_label(name)),
        form::FormError::BadEncoding => {
            "a parameter is not valid percent-encoded UTF-8 or contains control characters".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a42_random_tokens_are_256_bit_base64url_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let token = random_token();
            assert_eq!(token.len(), 43, "32 bytes, base64url without padding");
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert!(seen.insert(token), "a duplicate token");
        }
    }

    #[test]
    fn quirks_parse_every_name_and_refuse_unknown_ones() {
        let all = Quirks::parse(&Quirks::NAMES.join(",")).expect("every name");
        assert_eq!(all.enabled(), Quirks::NAMES.to_vec());
        assert_eq!(
            Quirks::parse(" error_200 , NO-ISS ").expect("spacing, case, underscores"),
            Quirks {
                error_with_200: true,
                omit_iss: true,
                ..Quirks::default()
            }
        );
        assert_eq!(Quirks::parse("").expect("empty"), Quirks::default());
        let err = Quirks::parse("no-iss,typo").expect_err("unknown");
        assert!(err.to_string().contains("typo"), "{err}");
    }

    #[test]
    fn only_known_parameter_names_are_echoed() {
        assert_eq!(param_label("state"), "state");
        assert_eq!(param_label("<script>"), "a parameter");
        let err = form::FormError::Duplicate("\"<b>".into());
        assert_eq!(describe_form_error(&err), "a parameter is repeated");
    }
}
