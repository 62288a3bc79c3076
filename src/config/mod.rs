//! Configuration: every setting the app reads from the environment, parsed once at startup.
//!
//! Each field names its variable; `.env.example` documents them all. `env.rs` reads them:
//! every missing or malformed variable is reported at once, each naming its variable, and never
//! later in a request.

mod client_key;
mod env;
mod listen;
mod lookalike;
mod metrics;
mod profile;
mod store;
mod urls;
mod vars;

pub use client_key::ClientKey;
#[cfg(test)]
pub(crate) use client_key::test_keys;
pub use listen::{ListenAddr, unreachable_from};
pub use metrics::MetricsConfig;
pub use profile::Profile;
pub use store::{RedisStoreConfig, SessionKey, SessionStoreConfig};
pub use urls::{OutboundProxy, RedisUrl};

use std::{net::SocketAddr, time::Duration};

use anyhow::bail;
use oauth2::{AuthUrl, ClientId, ClientSecret, RevocationUrl, TokenUrl};
use url::Url;

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1). Exactly one method is
/// used per request (RFC 6749 §2.3: "MUST NOT use more than one authentication method").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenAuth {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1, Appendix B). The default.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (allowed, "NOT RECOMMENDED" by RFC 6749).
    ClientSecretPost,
    /// A fresh JWT signed with `OAUTH_CLIENT_KEY_FILE`'s key per request (RFC 7523 §2.2, §3;
    /// OpenID Connect Core §9): no secret is shared with the provider, which holds only the
    /// public key.
    PrivateKeyJwt,
}

impl TokenAuth {
    /// The method's registered name (RFC 7591 §2 `token_endpoint_auth_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAuth::ClientSecretBasic => "client_secret_basic",
            TokenAuth::ClientSecretPost => "client_secret_post",
            TokenAuth::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// `OAUTH_PAR`: whether sign-ins push their authorization request first (RFC 9126).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParMode {
    /// Unset: only when the provider requires it (`require_pushed_authorization_requests`);
    /// otherwise the Connect link carries the request, as in the classic flow.
    IfRequired,
    /// `auto`: whenever the provider has a pushed authorization request endpoint.
    Auto,
    /// Always; the app does not start without the endpoint.
    On,
    /// Never; the app does not start if the provider requires it.
    Off,
}

/// `OAUTH_DPOP`: whether access tokens are bound to a key this app holds (RFC 9449).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DpopMode {
    /// Unset or `off`: bearer tokens.
    Off,
    /// `auto`: when the provider's metadata lists ES256 in `dpop_signing_alg_values_supported`.
    Auto,
    /// `on`: always (a provider that does not support it answers with a bearer token).
    On,
}

/// Where the provider's endpoints come from.
#[derive(Clone, Debug)]
pub enum ProviderSource {
    /// `OAUTH_AUTH_URL`, `OAUTH_TOKEN_URL` and `PHOTOS_API_URL` given by hand.
    Explicit(ProviderConfig),
    /// `OAUTH_ISSUER` alone: the endpoints come from its RFC 8414 metadata, fetched at startup.
    Discover(Discovery),
    /// Nothing configured: startup says what to set, unless a wing fills it in (an embedded
    /// provider that starts, registers this app, and is then discovered like a real one).
    Unconfigured,
}

/// Where the authorization server and the photos API live.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `PROVIDER_NAME`: shown to the visitor ("Connect your … account"); unset, pages say
    /// "your provider" (never a bare host name).
    pub name: Option<String>,
    /// `OAUTH_AUTH_URL`: the authorization endpoint.
    pub auth_url: AuthUrl,
    /// `OAUTH_TOKEN_URL`: the token endpoint.
    pub token_url: TokenUrl,
    /// `PHOTOS_API_URL`: the photos endpoint, called with `Authorization: Bearer`.
    pub photos_api_url: Url,
    /// `OAUTH_REVOCATION_URL`: the revocation endpoint (RFC 7009), used at logout. Optional.
    pub revocation_url: Option<RevocationUrl>,
    /// `OAUTH_PAR_URL`: the pushed authorization request endpoint (RFC 9126), or the metadata's
    /// `pushed_authorization_request_endpoint`. Optional.
    pub par_url: Option<Url>,
    /// The metadata's `require_pushed_authorization_requests` (RFC 9126 §5).
    pub require_par: bool,
    /// Whether the metadata's `dpop_signing_alg_values_supported` lists ES256 (RFC 9449 §5.1).
    pub dpop_es256: bool,
    /// `OAUTH_ISSUER`: the provider's issuer identifier. A callback's `iss`, when present, must
    /// equal it exactly (RFC 9207 §2.4).
    pub issuer: Option<String>,
    /// Whether every callback must carry `iss`: set when `OAUTH_ISSUER` is configured with explicit
    /// endpoints, or when the metadata says `authorization_response_iss_parameter_supported`.
    pub require_iss: bool,
    /// What OpenID Connect sign-in needs of the provider, from its metadata when that lists a
    /// `jwks_uri` (OIDC Discovery §3). Boxed: most configurations never have it.
    pub openid: Option<Box<OpenIdProvider>>,
}

/// The provider's OpenID Connect metadata (OIDC Discovery §3), used when `openid` is among the
/// scopes.
#[derive(Clone, Debug)]
pub struct OpenIdProvider {
    /// `jwks_uri`: the keys ID tokens are checked with.
    pub jwks_url: Url,
    /// `id_token_signing_alg_values_supported`, if listed: ID tokens signed with any other
    /// algorithm are refused.
    pub id_token_algs: Option<Vec<String>>,
    /// `end_session_endpoint` (OIDC RP-Initiated Logout 1.0 §2.1), if advertised: where a
    /// logout sends the browser so the provider ends its own session too.
    pub end_session_url: Option<Url>,
}

impl ProviderConfig {
    /// Provider endpoints must be https: the client secret, codes and tokens cross them (RFC 6749
    /// §3.2, §10.9; RFC 6750 §5.3; OAuth 2.1 §1.5). Plain http is accepted on loopback only, for
    /// a provider on this machine and local experiments.
    pub fn check_https(&self) -> anyhow::Result<()> {
        let mut endpoints = vec![
            ("OAUTH_AUTH_URL", self.auth_url.url()),
            ("OAUTH_TOKEN_URL", self.token_url.url()),
            ("PHOTOS_API_URL", &self.photos_api_url),
        ];
        if let Some(revocation) = &self.revocation_url {
            endpoints.push(("OAUTH_REVOCATION_URL", revocation.url()));
        }
        if let Some(par) = &self.par_url {
            endpoints.push(("OAUTH_PAR_URL", par));
        }
        if let Some(openid) = &self.openid {
            endpoints.push(("jwks_uri", &openid.jwks_url));
            // The ID token travels to it in the URL (OIDC RP-Initiated Logout 1.0 §2, §7).
            if let Some(end_session) = &openid.end_session_url {
                endpoints.push(("end_session_endpoint", end_session));
            }
        }
        for (name, url) in endpoints {
            if url.scheme() != "https" && !is_loopback(url) {
                bail!("{name}={url} must use https (only loopback addresses may use plain http)");
            }
        }
        Ok(())
    }
}

/// What discovery needs besides the metadata (RFC 8414); explicit URLs override the metadata.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// `OAUTH_ISSUER`: the metadata's `issuer` must be identical to it (RFC 8414 §3.3).
    pub issuer: String,
    /// `PHOTOS_API_URL` (not part of the metadata).
    pub photos_api_url: Url,
    /// `PROVIDER_NAME`, if set.
    pub name: Option<String>,
    /// `OAUTH_TOKEN_URL`, if set, overrides the metadata's `token_endpoint`.
    pub token_url: Option<TokenUrl>,
    /// `OAUTH_REVOCATION_URL`, if set, overrides the metadata's `revocation_endpoint`.
    pub revocation_url: Option<RevocationUrl>,
    /// `OAUTH_PAR_URL`, if set, overrides the metadata's `pushed_authorization_request_endpoint`.
    pub par_url: Option<Url>,
    /// `OAUTH_ALLOW_UNADVERTISED_PKCE=true`: start even if the metadata does not list S256 in
    /// `code_challenge_methods_supported` (S256 is still sent; `plain` never is).
    pub allow_unadvertised_pkce: bool,
}

/// The whole configuration. Build it with [`Config::from_env`] (or [`Config::for_tests`]).
#[derive(Clone, Debug)]
pub struct Config {
    /// `LISTEN_ADDR`: the socket address to listen on; unset, `0.0.0.0:$PORT` when `PORT` is
    /// set, else `127.0.0.1:3000`.
    pub listen: ListenAddr,
    /// `APP_URL`: the public base URL people open; the redirect URI is `APP_URL/cb`. Default
    /// `http://localhost:<port the app listens on>`.
    pub app_url: Option<Url>,
    /// `OAUTH_CLIENT_ID`: the client id registered at the provider. Default `photo-connect`.
    pub client_id: ClientId,
    /// `OAUTH_CLIENT_SECRET`: required once a provider is configured (an embedded provider may
    /// make a fresh random one at every start when it is unset). Redacted in `Debug`.
    pub client_secret: Option<ClientSecret>,
    /// `OAUTH_SCOPES`: space-separated scopes to request. Default `photos`.
    pub scopes: Vec<String>,
    /// `OAUTH_TOKEN_AUTH`: `client_secret_basic` (default), `client_secret_post` or
    /// `private_key_jwt`.
    pub token_auth: TokenAuth,
    /// `OAUTH_CLIENT_KEY_FILE`: the private key `private_key_jwt` signs with (read at startup;
    /// required in that mode, refused in the others). Redacted in `Debug`.
    pub client_key: Option<ClientKey>,
    /// `OAUTH_PROFILE`: `fapi2` refuses, at startup, what the FAPI 2.0 Security Profile forbids
    /// (see [`Profile`]). Default: none.
    pub profile: Profile,
    /// Where the provider's endpoints come from.
    pub provider: ProviderSource,
    /// `TOKEN_REFRESH_SKEW_SECS`: refresh an access token this long before it expires. Default 30.
    pub token_refresh_skew: Duration,
    /// `HTTP_TIMEOUT_SECS`: total timeout of every call to the provider. Default 10.
    pub http_timeout: Duration,
    /// `PENDING_LOGIN_TTL_SECS`: how long a started sign-in may wait for its callback. Default 600.
    pub pending_login_ttl: Duration,
    /// `SESSION_IDLE_MINUTES`: a connected session ends after this much inactivity. Default 30.
    pub session_idle: Duration,
    /// `REVOCATION_TIMEOUT_SECS`: how long logout waits for the provider to revoke the tokens
    /// (both at once) before logging out locally anyway. Default 3.
    pub revocation_timeout: Duration,
    /// `SIGNIN_RATE_PER_MINUTE`: sign-ins one client may start per minute (each not-connected
    /// home-page view starts one); 0 turns the limit off. Default 60.
    pub signin_rate_per_minute: u32,
    /// `TRUST_FORWARDED_FOR`: `true` behind a reverse proxy you run, so the client is the last
    /// `X-Forwarded-For` address rather than the proxy's. Default `false`.
    pub trust_forwarded_for: bool,
    /// `MAX_SESSIONS`: most sessions the in-memory store keeps. Full, it refuses new sign-ins
    /// (a "busy" page) rather than dropping ones in flight. Default 100 000.
    pub max_sessions: usize,
    /// The standard proxy variables, for every call to the provider.
    pub proxy: OutboundProxy,
    /// `SESSION_STORE`: `memory` (default) or a `redis://` / `rediss://` URL, with its key.
    pub session_store: SessionStoreConfig,
    /// `SHUTDOWN_GRACE_SECS`: on SIGTERM or Ctrl-C, how long requests in flight may take to
    /// finish. Default 10.
    pub shutdown_grace: Duration,
    /// `OAUTH_PAR`: `auto`, `on` or `off`; unset, only when the provider requires it (see
    /// [`ParMode`]).
    pub par: ParMode,
    /// `OAUTH_DPOP`: `auto`, `on` or `off` (the default); see [`DpopMode`].
    pub dpop: DpopMode,
    /// `FLOW_INSPECTOR`: `on` records each sign-in's real requests for `/flow`; `off` records // INSPECTOR
    /// nothing. Unset: off (an embedded provider may turn it on). // INSPECTOR
    pub flow_inspector: Option<bool>, // INSPECTOR
    /// `METRICS=on` serves `/metrics` on the app's address; `METRICS_ADDR` on its own listener.
    /// Default off (see [`MetricsConfig`]).
    pub metrics: MetricsConfig,
}

impl Config {
    /// A configuration for tests: listens on a free loopback port, no provider yet, short timeouts.
    pub fn for_tests() -> Self {
        Self {
            listen: ListenAddr {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                variable: "LISTEN_ADDR",
            },
            app_url: None,
            client_id: ClientId::new("photo-connect".into()),
            client_secret: None,
            scopes: vec!["photos".into()],
            token_auth: TokenAuth::ClientSecretBasic,
            client_key: None,
            profile: Profile::Default,
            provider: ProviderSource::Unconfigured,
            token_refresh_skew: Duration::from_secs(30),
            http_timeout: Duration::from_secs(2),
            pending_login_ttl: Duration::from_secs(600),
            session_idle: Duration::from_secs(30 * 60),
            revocation_timeout: Duration::from_secs(3),
            signin_rate_per_minute: 0,
            trust_forwarded_for: false,
            max_sessions: 100_000,
            proxy: OutboundProxy::default(),
            session_store: SessionStoreConfig::Memory,
            shutdown_grace: Duration::from_secs(10),
            flow_inspector: None, // INSPECTOR
            par: ParMode::IfRequired,
            dpop: DpopMode::Off,
            metrics: MetricsConfig::Off,
        }
    }
}

/// `localhost`, 127.0.0.0/8 or ::1.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A base URL: http(s), no query or fragment, and a path ending in `/` so `join("cb")` appends.
pub fn parse_base_url(v: &str) -> anyhow::Result<Url> {
    let mut url = Url::parse(v)?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("expected an http:// or https:// URL");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("a base URL has no query or fragment");
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}
