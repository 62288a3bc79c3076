//! Configuration: every setting the app reads from the environment, parsed once at startup.
//!
//! Each field names its variable; `.env.example` documents them all. A malformed value fails at
//! startup with a message naming the variable, never later in a request.

use std::{net::SocketAddr, time::Duration};

use anyhow::{Context, bail};
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
}

/// Where the authorization server and the photos API live.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `PROVIDER_NAME`: shown to the visitor ("Connected to …"). Default: the authorize URL's host.
    pub name: String,
    /// `OAUTH_AUTH_URL`: the authorization endpoint. When unset, the embedded demo provider runs.
    pub auth_url: AuthUrl,
    /// `OAUTH_TOKEN_URL`: the token endpoint. Required with `OAUTH_AUTH_URL`.
    pub token_url: TokenUrl,
    /// `PHOTOS_API_URL`: the photos endpoint, called with `Authorization: Bearer`. Required with
    /// `OAUTH_AUTH_URL`.
    pub photos_api_url: Url,
    /// `OAUTH_REVOCATION_URL`: the revocation endpoint (RFC 7009), used at logout. Optional.
    pub revocation_url: Option<RevocationUrl>,
    /// `OAUTH_ISSUER`: the provider's issuer identifier. A callback's `iss`, when present, must
    /// equal it exactly (RFC 9207 §2.4).
    pub issuer: Option<String>,
    /// Whether every callback must carry `iss`: set when `OAUTH_ISSUER` is configured with explicit
    /// endpoints, or when the metadata says `authorization_response_iss_parameter_supported`.
    pub require_iss: bool,
}

/// `OAUTH_ISSUER` without `OAUTH_AUTH_URL`: the endpoints come from the provider's metadata
/// (RFC 8414), fetched and checked at startup; explicit URLs override what it says.
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
    /// `OAUTH_ALLOW_UNADVERTISED_PKCE=true`: start even if the metadata does not list S256 in
    /// `code_challenge_methods_supported` (S256 is still sent; `plain` never is).
    pub allow_unadvertised_pkce: bool,
}

/// The whole configuration. Build it with [`Config::from_env`] (or by hand in tests).
#[derive(Clone, Debug)]
pub struct Config {
    /// `LISTEN_ADDR`: the socket address to listen on. Default `127.0.0.1:3000`.
    pub listen_addr: SocketAddr,
    /// `APP_URL`: the public base URL people open; the redirect URI is `APP_URL/cb`. Default
    /// `http://localhost:<port the app listens on>`.
    pub app_url: Option<Url>,
    /// `OAUTH_CLIENT_ID`: the client id registered at the provider. Default `photo-connect`.
    pub client_id: ClientId,
    /// `OAUTH_CLIENT_SECRET`: the client secret. Required with a real provider; the demo provider
    /// gets a fresh random one at every start when it is unset. Redacted in `Debug`.
    pub client_secret: Option<ClientSecret>,
    /// `OAUTH_SCOPES`: space-separated scopes to request. Default `photos`.
    pub scopes: Vec<String>,
    /// `OAUTH_TOKEN_AUTH`: `client_secret_basic` (default) or `client_secret_post`.
    pub token_auth: TokenAuth,
    /// The provider's endpoints; `None` (and no `discovery`) means "start the demo provider".
    pub provider: Option<ProviderConfig>,
    /// Endpoints to discover from `OAUTH_ISSUER` at startup, filling `provider`.
    pub discovery: Option<Discovery>,
    /// `TOKEN_REFRESH_SKEW_SECS`: refresh an access token this long before it expires. Default 30.
    pub token_refresh_skew: Duration,
    /// `HTTP_TIMEOUT_SECS`: total timeout of every call to the provider. Default 10.
    pub http_timeout: Duration,
    /// How long a started sign-in may wait for its callback (the pending login's lifetime).
    /// `PENDING_LOGIN_TTL_SECS`, default 600 (10 minutes).
    pub pending_login_ttl: Duration,
    /// `SESSION_IDLE_MINUTES`: a connected session ends after this much inactivity. Default 30.
    pub session_idle: Duration,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let listen_addr = parse_var(&var, "LISTEN_ADDR", "127.0.0.1:3000", |v| {
            v.parse::<SocketAddr>()
                .context("expected host:port, e.g. 127.0.0.1:3000")
        })?;
        let app_url = var("APP_URL")
            .map(|v| parse_base_url(&v).with_context(|| format!("APP_URL={v:?} is not valid")))
            .transpose()?;
        let client_id =
            ClientId::new(var("OAUTH_CLIENT_ID").unwrap_or_else(|| "photo-connect".into()));
        let client_secret = var("OAUTH_CLIENT_SECRET").map(ClientSecret::new);
        let scopes = var("OAUTH_SCOPES")
            .unwrap_or_else(|| "photos".into())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let token_auth = parse_var(
            &var,
            "OAUTH_TOKEN_AUTH",
            "client_secret_basic",
            |v| match v {
                "client_secret_basic" => Ok(TokenAuth::ClientSecretBasic),
                "client_secret_post" => Ok(TokenAuth::ClientSecretPost),
                _ => bail!("expected client_secret_basic or client_secret_post"),
            },
        )?;
        let http_timeout =
            Duration::from_secs(parse_var(&var, "HTTP_TIMEOUT_SECS", "10", parse_positive)?);
        let pending_login_ttl = Duration::from_secs(parse_var(
            &var,
            "PENDING_LOGIN_TTL_SECS",
            "600",
            parse_positive,
        )?);
        let session_idle = Duration::from_secs(
            60 * parse_var(&var, "SESSION_IDLE_MINUTES", "30", parse_positive)?,
        );

        let token_refresh_skew =
            Duration::from_secs(parse_var(&var, "TOKEN_REFRESH_SKEW_SECS", "30", |v| {
                Ok(v.parse::<u64>()?)
            })?);
        let revocation_url = var("OAUTH_REVOCATION_URL")
            .map(|v| {
                RevocationUrl::new(v.clone())
                    .with_context(|| format!("OAUTH_REVOCATION_URL={v:?} is not a URL"))
            })
            .transpose()?;
        let photos_api_url = var("PHOTOS_API_URL")
            .map(|v| Url::parse(&v).with_context(|| format!("PHOTOS_API_URL={v:?} is not a URL")))
            .transpose()?;
        let token_url = var("OAUTH_TOKEN_URL")
            .map(|v| {
                TokenUrl::new(v.clone())
                    .with_context(|| format!("OAUTH_TOKEN_URL={v:?} is not a URL"))
            })
            .transpose()?;

        let discovery = match (var("OAUTH_AUTH_URL"), var("OAUTH_ISSUER")) {
            (None, Some(issuer)) => Some(Discovery {
                issuer,
                photos_api_url: photos_api_url
                    .clone()
                    .context("PHOTOS_API_URL is required when OAUTH_ISSUER is set")?,
                name: var("PROVIDER_NAME"),
                token_url: token_url.clone(),
                revocation_url: revocation_url.clone(),
                allow_unadvertised_pkce: parse_var(
                    &var,
                    "OAUTH_ALLOW_UNADVERTISED_PKCE",
                    "false",
                    |v| v.parse::<bool>().context("expected true or false"),
                )?,
            }),
            _ => None,
        };

        let provider = match var("OAUTH_AUTH_URL") {
            None => None,
            Some(auth) => {
                let required = |name: &str| {
                    var(name)
                        .with_context(|| format!("{name} is required when OAUTH_AUTH_URL is set"))
                };
                let auth_url = AuthUrl::new(auth.clone())
                    .with_context(|| format!("OAUTH_AUTH_URL={auth:?} is not a URL"))?;
                required("OAUTH_TOKEN_URL")?;
                required("PHOTOS_API_URL")?;
                let name = var("PROVIDER_NAME")
                    .or_else(|| auth_url.url().host_str().map(str::to_owned))
                    .unwrap_or_else(|| "your provider".into());
                let issuer = var("OAUTH_ISSUER");
                Some(ProviderConfig {
                    name,
                    auth_url,
                    token_url: token_url.clone().context("OAUTH_TOKEN_URL")?,
                    photos_api_url: photos_api_url.clone().context("PHOTOS_API_URL")?,
                    revocation_url: revocation_url.clone(),
                    // Configured by hand with an issuer: every callback must name it (RFC 9207 §2.4).
                    require_iss: issuer.is_some(),
                    issuer,
                })
            }
        };
        if (provider.is_some() || discovery.is_some()) && client_secret.is_none() {
            bail!(
                "OAUTH_CLIENT_SECRET is required with a real provider (OAUTH_AUTH_URL or OAUTH_ISSUER)"
            );
        }

        Ok(Self {
            listen_addr,
            app_url,
            client_id,
            client_secret,
            scopes,
            token_auth,
            provider,
            discovery,
            token_refresh_skew,
            http_timeout,
            pending_login_ttl,
            session_idle,
        })
    }

    /// A configuration for tests: listens on a free loopback port, demo provider, short timeouts.
    pub fn for_tests() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            app_url: None,
            client_id: ClientId::new("photo-connect".into()),
            client_secret: None,
            scopes: vec!["photos".into()],
            token_auth: TokenAuth::ClientSecretBasic,
            provider: None,
            discovery: None,
            token_refresh_skew: Duration::from_secs(30),
            http_timeout: Duration::from_secs(2),
            pending_login_ttl: Duration::from_secs(600),
            session_idle: Duration::from_secs(30 * 60),
        }
    }
}

/// Parses `name` with `parse`, or `default` when unset; the error names the variable and value.
fn parse_var<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
    parse: impl Fn(&str) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let value = var(name).unwrap_or_else(|| default.to_owned());
    parse(value.trim()).with_context(|| format!("{name}={value:?} is not valid"))
}

fn parse_positive(v: &str) -> anyhow::Result<u64> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("expected a whole number greater than 0"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_start_the_demo_provider() {
        let config = from(&[]).expect("defaults are valid");
        assert!(config.provider.is_none());
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.scopes, vec!["photos"]);
        assert_eq!(config.token_auth, TokenAuth::ClientSecretBasic);
        assert_eq!(config.http_timeout, Duration::from_secs(10));
    }

    #[test]
    fn a_real_provider_needs_token_url_photos_url_and_secret() {
        let err = from(&[("OAUTH_AUTH_URL", "https://as.example/authorize")]).unwrap_err();
        assert!(format!("{err:#}").contains("OAUTH_TOKEN_URL"), "{err:#}");

        let err = from(&[
            ("OAUTH_AUTH_URL", "https://as.example/authorize"),
            ("OAUTH_TOKEN_URL", "https://as.example/token"),
            ("PHOTOS_API_URL", "https://api.example/photos"),
        ])
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("OAUTH_CLIENT_SECRET"),
            "{err:#}"
        );

        let config = from(&[
            ("OAUTH_AUTH_URL", "https://as.example/authorize"),
            ("OAUTH_TOKEN_URL", "https://as.example/token"),
            ("PHOTOS_API_URL", "https://api.example/photos"),
            ("OAUTH_CLIENT_SECRET", "s3cr3t-value"),
            ("OAUTH_TOKEN_AUTH", "client_secret_post"),
        ])
        .expect("valid");
        let provider = config.provider.as_ref().expect("provider configured");
        assert_eq!(provider.name, "as.example");
        assert_eq!(config.token_auth, TokenAuth::ClientSecretPost);
        assert!(
            !provider.require_iss,
            "no issuer configured, no iss required"
        );
    }

    #[test]
    fn oauth_issuer_alone_means_discovery() {
        let err = from(&[("OAUTH_ISSUER", "https://as.example")]).unwrap_err();
        assert!(format!("{err:#}").contains("PHOTOS_API_URL"), "{err:#}");
        let config = from(&[
            ("OAUTH_ISSUER", "https://as.example"),
            ("PHOTOS_API_URL", "https://api.example/photos"),
            ("OAUTH_CLIENT_SECRET", "s"),
            ("OAUTH_REVOCATION_URL", "https://as.example/custom-revoke"),
        ])
        .expect("valid");
        assert!(config.provider.is_none());
        let discovery = config.discovery.expect("discovery");
        assert_eq!(discovery.issuer, "https://as.example");
        assert!(
            discovery.revocation_url.is_some(),
            "explicit URLs override the metadata"
        );
        assert!(!discovery.allow_unadvertised_pkce);
    }

    #[test]
    fn an_issuer_with_explicit_endpoints_requires_iss() {
        let config = from(&[
            ("OAUTH_AUTH_URL", "https://as.example/authorize"),
            ("OAUTH_TOKEN_URL", "https://as.example/token"),
            ("PHOTOS_API_URL", "https://api.example/photos"),
            ("OAUTH_CLIENT_SECRET", "s"),
            ("OAUTH_ISSUER", "https://as.example"),
        ])
        .expect("valid");
        assert!(config.discovery.is_none());
        assert!(config.provider.expect("provider").require_iss);
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (name, value) in [
            ("LISTEN_ADDR", "localhost"),
            ("APP_URL", "ftp://x"),
            ("APP_URL", "http://x/?a=b"),
            ("OAUTH_TOKEN_AUTH", "private_key_jwt"),
            ("HTTP_TIMEOUT_SECS", "0"),
            ("SESSION_IDLE_MINUTES", "soon"),
        ] {
            let err = from(&[(name, value)]).expect_err(name);
            assert!(format!("{err:#}").contains(name), "{name}: {err:#}");
        }
    }

    #[test]
    fn app_url_gets_a_trailing_slash_so_the_redirect_uri_is_app_url_slash_cb() {
        let config = from(&[("APP_URL", "https://photos.example/app")]).expect("valid");
        let url = config.app_url.expect("set");
        assert_eq!(
            url.join("cb").expect("joins").as_str(),
            "https://photos.example/app/cb"
        );
    }

    #[test]
    fn debug_output_redacts_the_client_secret() {
        let config = from(&[("OAUTH_CLIENT_SECRET", "super-secret-value")]).expect("valid");
        let debug = format!("{config:?}");
        assert!(!debug.contains("super-secret-value"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
