//! Reading the configuration from the environment: each variable parsed by a small function,
//! every problem collected, so one start reports all of them.

use std::time::Duration;

use anyhow::bail;
use oauth2::{AuthUrl, ClientId, ClientSecret, RevocationUrl, TokenUrl};
use url::Url;

use super::{
    Config, Discovery, DpopMode, ListenAddr, OutboundProxy, ParMode, Profile, ProviderConfig,
    ProviderSource, TokenAuth, parse_base_url,
};
use super::{lookalike, vars::Vars};

impl Config {
    /// Reads the configuration from the process environment, first warning about every variable
    /// that looks like one of ours but is not read (a typo would leave a default in force).
    pub fn from_env() -> anyhow::Result<Self> {
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        for warning in lookalike::warnings(names.iter().map(String::as_str)) {
            tracing::warn!("{warning}");
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests). Empty values
    /// count as unset. Every problem is collected; the error lists them all.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut vars = Vars {
            lookup,
            errors: Vec::new(),
        };
        let listen = ListenAddr::parse(
            vars.get("LISTEN_ADDR").as_deref(),
            vars.get("PORT").as_deref(),
        )
        .map_err(|err| vars.errors.push(err.to_string()))
        .ok();
        let app_url = vars.optional("APP_URL", parse_base_url);
        let client_id = ClientId::new(
            vars.get("OAUTH_CLIENT_ID")
                .unwrap_or("photo-connect".into()),
        );
        let client_secret = vars.get("OAUTH_CLIENT_SECRET").map(ClientSecret::new);
        let scopes = vars.get("OAUTH_SCOPES").unwrap_or_else(|| "photos".into());
        let token_auth = vars.parse("OAUTH_TOKEN_AUTH", "client_secret_basic", |v| match v {
            "client_secret_basic" => Ok(TokenAuth::ClientSecretBasic),
            "client_secret_post" => Ok(TokenAuth::ClientSecretPost),
            "private_key_jwt" => Ok(TokenAuth::PrivateKeyJwt),
            _ => bail!("expected client_secret_basic, client_secret_post or private_key_jwt"),
        });
        let client_key = super::client_key::from_vars(&mut vars, token_auth);
        let profile = vars.parse("OAUTH_PROFILE", "none", super::profile::parse);
        // Every duration has a sane ceiling, so no later arithmetic on it can overflow.
        let seconds =
            |max: u64| move |v: &str| at_most(parse_positive(v)?, max).map(Duration::from_secs);
        let http_timeout = vars.parse("HTTP_TIMEOUT_SECS", "10", seconds(300));
        let pending_login_ttl = vars.parse("PENDING_LOGIN_TTL_SECS", "600", seconds(24 * 3600));
        let revocation_timeout = vars.parse("REVOCATION_TIMEOUT_SECS", "3", seconds(300));
        let signin_rate_per_minute =
            vars.parse("SIGNIN_RATE_PER_MINUTE", "60", |v| Ok(v.parse::<u32>()?));
        let trust_forwarded_for = vars.parse("TRUST_FORWARDED_FOR", "false", |v| {
            v.parse::<bool>()
                .map_err(|_| anyhow::anyhow!("expected true or false"))
        });
        let max_sessions = vars.parse("MAX_SESSIONS", "100000", |v| {
            Ok(usize::try_from(at_most(parse_positive(v)?, 100_000_000)?)?)
        });
        let session_idle = vars.parse("SESSION_IDLE_MINUTES", "30", |v| {
            Ok(Duration::from_secs(
                60 * at_most(parse_positive(v)?, 30 * 24 * 60)?,
            ))
        });
        let token_refresh_skew = vars.parse("TOKEN_REFRESH_SKEW_SECS", "30", |v| {
            Ok(Duration::from_secs(at_most(v.parse::<u64>()?, 24 * 3600)?))
        });
        let proxy = outbound_proxy(&mut vars);
        let session_store = super::store::session_store(&mut vars);
        let shutdown_grace = vars.parse("SHUTDOWN_GRACE_SECS", "10", seconds(3600));
        let par = vars.parse("OAUTH_PAR", "if-required", |v| match v {
            "if-required" => Ok(ParMode::IfRequired),
            "auto" => Ok(ParMode::Auto),
            "on" => Ok(ParMode::On),
            "off" => Ok(ParMode::Off),
            _ => bail!("expected if-required, auto, on or off"),
        });
        let dpop = vars.parse("OAUTH_DPOP", "off", |v| match v {
            "off" => Ok(DpopMode::Off),
            "auto" => Ok(DpopMode::Auto),
            "on" => Ok(DpopMode::On),
            _ => bail!("expected auto, on or off"),
        });
        let flow_inspector = vars.optional("FLOW_INSPECTOR", |v| match v {
            // INSPECTOR
            "on" | "true" => Ok(true),        // INSPECTOR
            "off" | "false" => Ok(false),     // INSPECTOR
            _ => bail!("expected on or off"), // INSPECTOR
        }); // INSPECTOR
        let metrics = super::metrics::metrics(&mut vars);
        let provider = provider_source(&mut vars);
        let uses_secret = token_auth != Some(TokenAuth::PrivateKeyJwt);
        if !matches!(provider, Some(ProviderSource::Unconfigured))
            && client_secret.is_none()
            && uses_secret
        {
            vars.errors.push(
                "OAUTH_CLIENT_SECRET is required with a real provider (OAUTH_AUTH_URL or \
                 OAUTH_ISSUER); get it where you registered the app"
                    .into(),
            );
        }
        if profile == Some(Profile::Fapi2) {
            let problems = super::profile::fapi2_problems(&super::profile::Settings {
                client_secret_set: client_secret.is_some(),
                token_auth,
                provider: provider.as_ref(),
                par,
                dpop,
            });
            vars.errors.extend(problems);
        }
        if !vars.errors.is_empty() {
            bail!(
                "{} configuration problem(s):\n  - {}",
                vars.errors.len(),
                vars.errors.join("\n  - ")
            );
        }
        let missing = || anyhow::anyhow!("a value reported missing without an error");
        Ok(Self {
            listen: listen.ok_or_else(missing)?,
            app_url: app_url.flatten(),
            client_id,
            client_secret,
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            token_auth: token_auth.ok_or_else(missing)?,
            client_key: client_key.ok_or_else(missing)?,
            profile: profile.ok_or_else(missing)?,
            provider: provider.ok_or_else(missing)?,
            token_refresh_skew: token_refresh_skew.ok_or_else(missing)?,
            http_timeout: http_timeout.ok_or_else(missing)?,
            pending_login_ttl: pending_login_ttl.ok_or_else(missing)?,
            session_idle: session_idle.ok_or_else(missing)?,
            revocation_timeout: revocation_timeout.ok_or_else(missing)?,
            signin_rate_per_minute: signin_rate_per_minute.ok_or_else(missing)?,
            trust_forwarded_for: trust_forwarded_for.ok_or_else(missing)?,
            max_sessions: max_sessions.ok_or_else(missing)?,
            proxy,
            session_store: session_store.ok_or_else(missing)?,
            shutdown_grace: shutdown_grace.ok_or_else(missing)?,
            flow_inspector: flow_inspector.ok_or_else(missing)?, // INSPECTOR
            par: par.ok_or_else(missing)?,
            dpop: dpop.ok_or_else(missing)?,
            metrics: metrics.ok_or_else(missing)?,
        })
    }
}

/// `OAUTH_AUTH_URL` → explicit URLs; else `OAUTH_ISSUER` → discovery; else unconfigured.
fn provider_source(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<ProviderSource> {
    let url = |v: &str| Ok(Url::parse(v)?);
    let token_url = vars.optional("OAUTH_TOKEN_URL", |v| Ok(TokenUrl::new(v.into())?));
    let revocation_url = vars.optional("OAUTH_REVOCATION_URL", |v| {
        Ok(RevocationUrl::new(v.into())?)
    });
    let photos_api_url = vars.optional("PHOTOS_API_URL", url);
    let par_url = vars.optional("OAUTH_PAR_URL", url);
    let issuer = vars.get("OAUTH_ISSUER");
    let name = vars.get("PROVIDER_NAME");
    if vars.get("OAUTH_AUTH_URL").is_some() {
        let auth = vars
            .optional("OAUTH_AUTH_URL", |v| Ok(AuthUrl::new(v.into())?))
            .flatten();
        let token_url = vars.required(token_url, "OAUTH_TOKEN_URL", "OAUTH_AUTH_URL");
        let photos_api_url = vars.required(photos_api_url, "PHOTOS_API_URL", "OAUTH_AUTH_URL");
        let provider = ProviderConfig {
            name,
            auth_url: auth?,
            token_url: token_url?,
            photos_api_url: photos_api_url?,
            revocation_url: revocation_url.flatten(),
            par_url: par_url.flatten(),
            require_par: false,
            dpop_es256: false,
            // Configured by hand with an issuer: every callback must name it (RFC 9207 §2.4).
            require_iss: issuer.is_some(),
            openid: None,
            issuer,
        };
        if let Err(err) = provider.check_https() {
            vars.errors.push(err.to_string());
        }
        return Some(ProviderSource::Explicit(provider));
    }
    if let Some(issuer) = issuer {
        // RFC 8414 §2: the issuer is an https URL; over plain http the metadata, and so every
        // endpoint, could be rewritten in transit. Loopback stays allowed for development.
        match Url::parse(&issuer) {
            Ok(url) if url.scheme() == "https" || super::is_loopback(&url) => {}
            _ => vars.errors.push(format!(
                "OAUTH_ISSUER={issuer:?} must be an https URL (RFC 8414 §2; only loopback \
                 addresses may use plain http)"
            )),
        }
        let photos_api_url = vars.required(photos_api_url, "PHOTOS_API_URL", "OAUTH_ISSUER");
        let allow_unadvertised_pkce = vars.parse("OAUTH_ALLOW_UNADVERTISED_PKCE", "false", |v| {
            v.parse::<bool>()
                .map_err(|_| anyhow::anyhow!("expected true or false"))
        });
        return Some(ProviderSource::Discover(Discovery {
            issuer,
            photos_api_url: photos_api_url?,
            name,
            token_url: token_url.flatten(),
            revocation_url: revocation_url.flatten(),
            par_url: par_url.flatten(),
            allow_unadvertised_pkce: allow_unadvertised_pkce?,
        }));
    }
    for name in [
        "OAUTH_TOKEN_URL",
        "PHOTOS_API_URL",
        "OAUTH_REVOCATION_URL",
        "OAUTH_PAR_URL",
    ] {
        if vars.get(name).is_some() {
            vars.errors.push(format!(
                "{name} is set, but neither OAUTH_AUTH_URL nor OAUTH_ISSUER is: set one of them, \
                 or unset {name}"
            ));
        }
    }
    Some(ProviderSource::Unconfigured)
}

/// The standard proxy variables; lower case wins over upper case, as curl does.
fn outbound_proxy(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> OutboundProxy {
    let mut either = |name: &str| {
        let lower = name.to_ascii_lowercase();
        let set = if vars.get(&lower).is_some() {
            lower
        } else {
            name.to_owned()
        };
        vars.optional(&set, |v| Ok(Url::parse(v)?)).flatten()
    };
    let all = either("ALL_PROXY");
    let https = either("HTTPS_PROXY").or_else(|| all.clone());
    let http = either("HTTP_PROXY").or(all);
    let no_proxy = vars.get("no_proxy").or_else(|| vars.get("NO_PROXY"));
    OutboundProxy {
        https,
        http,
        no_proxy,
    }
}

/// `n` if it is at most `max`.
fn at_most(n: u64, max: u64) -> anyhow::Result<u64> {
    if n > max {
        bail!("expected at most {max}");
    }
    Ok(n)
}

fn parse_positive(v: &str) -> anyhow::Result<u64> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("expected a whole number greater than 0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SessionStoreConfig;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    fn explicit(config: &Config) -> &ProviderConfig {
        match &config.provider {
            ProviderSource::Explicit(provider) => provider,
            other => panic!("expected explicit URLs, got {other:?}"),
        }
    }

    /// A `SESSION_KEY` for tests.
    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    const REAL: [(&str, &str); 4] = [
        ("OAUTH_AUTH_URL", "https://as.example/authorize"),
        ("OAUTH_TOKEN_URL", "https://as.example/token"),
        ("PHOTOS_API_URL", "https://api.example/photos"),
        ("OAUTH_CLIENT_SECRET", "s3cr3t-value"),
    ];

    #[test]
    fn defaults_leave_the_provider_unconfigured() {
        let config = from(&[]).expect("defaults are valid");
        assert!(matches!(config.provider, ProviderSource::Unconfigured));
        assert_eq!(config.listen.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.scopes, vec!["photos"]);
        assert_eq!(config.token_auth, TokenAuth::ClientSecretBasic);
        assert_eq!(config.http_timeout, Duration::from_secs(10));
        assert_eq!(config.pending_login_ttl, Duration::from_secs(600));
        assert_eq!(config.session_idle, Duration::from_secs(30 * 60));
        assert_eq!(config.revocation_timeout, Duration::from_secs(3));
        assert_eq!(config.signin_rate_per_minute, 60);
        assert!(!config.trust_forwarded_for);
        assert_eq!(config.max_sessions, 100_000);
        assert_eq!(config.token_refresh_skew, Duration::from_secs(30));
    }

    #[test]
    fn a_real_provider_needs_token_url_photos_url_and_secret_all_reported_at_once() {
        let err = from(&[("OAUTH_AUTH_URL", "https://as.example/authorize")]).unwrap_err();
        let text = format!("{err:#}");
        for name in ["OAUTH_TOKEN_URL", "PHOTOS_API_URL", "OAUTH_CLIENT_SECRET"] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
        assert!(text.starts_with("3 configuration problem(s)"), "{text}");

        let mut vars = REAL.to_vec();
        vars.push(("OAUTH_TOKEN_AUTH", "client_secret_post"));
        let config = from(&vars).expect("valid");
        let provider = explicit(&config);
        assert_eq!(provider.name, None, "never a bare host name");
        assert_eq!(config.token_auth, TokenAuth::ClientSecretPost);
        assert!(
            !provider.require_iss,
            "no issuer configured, no iss required"
        );
    }

    #[test]
    fn provider_name_comes_from_provider_name() {
        let mut vars = REAL.to_vec();
        vars.push(("PROVIDER_NAME", "Example Photos"));
        assert_eq!(
            explicit(&from(&vars).expect("valid")).name.as_deref(),
            Some("Example Photos")
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
        let ProviderSource::Discover(discovery) = config.provider else {
            panic!("expected discovery");
        };
        assert_eq!(discovery.issuer, "https://as.example");
        assert!(
            discovery.revocation_url.is_some(),
            "explicit URLs override the metadata"
        );
        assert!(!discovery.allow_unadvertised_pkce);
    }

    #[test]
    fn an_issuer_with_explicit_endpoints_requires_iss() {
        let mut vars = REAL.to_vec();
        vars.push(("OAUTH_ISSUER", "https://as.example"));
        let config = from(&vars).expect("valid");
        assert!(explicit(&config).require_iss);
    }

    #[test]
    fn endpoint_urls_without_a_provider_are_a_mistake_not_ignored() {
        let err = from(&[("PHOTOS_API_URL", "https://api.example/photos")]).unwrap_err();
        assert!(format!("{err:#}").contains("neither OAUTH_AUTH_URL nor OAUTH_ISSUER"));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (name, value) in [
            ("LISTEN_ADDR", "localhost"),
            ("APP_URL", "ftp://x"),
            ("APP_URL", "http://x/?a=b"),
            ("OAUTH_TOKEN_AUTH", "client_secret_jwt"),
            ("HTTP_TIMEOUT_SECS", "0"),
            ("PENDING_LOGIN_TTL_SECS", "-1"),
            ("SESSION_IDLE_MINUTES", "soon"),
            ("SESSION_IDLE_MINUTES", "43201"),
            ("PENDING_LOGIN_TTL_SECS", "18446744073709551615"),
            ("HTTP_TIMEOUT_SECS", "301"),
            ("TOKEN_REFRESH_SKEW_SECS", "x"),
        ] {
            let err = from(&[(name, value)]).expect_err(name);
            assert!(format!("{err:#}").contains(name), "{name}: {err:#}");
        }
        let err = from(&[("LISTEN_ADDR", "x"), ("HTTP_TIMEOUT_SECS", "0")]).unwrap_err();
        assert!(format!("{err:#}").starts_with("2 configuration problem(s)"));
    }

    #[test]
    fn provider_endpoints_must_be_https_except_on_loopback() {
        let provider = |base: &str| ProviderConfig {
            name: Some("p".into()),
            auth_url: AuthUrl::new(format!("{base}/authorize")).expect("url"),
            token_url: TokenUrl::new(format!("{base}/token")).expect("url"),
            photos_api_url: Url::parse(&format!("{base}/photos")).expect("url"),
            revocation_url: Some(RevocationUrl::new(format!("{base}/revoke")).expect("url")),
            par_url: Some(Url::parse(&format!("{base}/par")).expect("url")),
            require_par: false,
            dpop_es256: false,
            issuer: None,
            require_iss: false,
            openid: None,
        };
        for ok in [
            "https://as.example",
            "http://127.0.0.1:3001",
            "http://127.8.0.1",
            "http://localhost:9",
            "http://[::1]:3001",
        ] {
            assert!(provider(ok).check_https().is_ok(), "{ok}");
        }
        for bad in [
            "http://as.example",
            "http://10.0.0.1",
            "http://localhost.evil.example",
        ] {
            let err = provider(bad).check_https().expect_err(bad);
            assert!(err.to_string().contains("OAUTH_AUTH_URL"), "{err}");
        }
        let mut vars = REAL.to_vec();
        vars[1] = ("OAUTH_TOKEN_URL", "http://as.example/token");
        let err = from(&vars).expect_err("plain http token endpoint");
        assert!(format!("{err:#}").contains("OAUTH_TOKEN_URL"));
    }

    #[test]
    fn the_issuer_is_https_or_loopback() {
        let with = |issuer: &str| {
            from(&[
                ("OAUTH_ISSUER", issuer),
                ("PHOTOS_API_URL", "https://api.example/photos"),
                ("OAUTH_CLIENT_SECRET", "s"),
            ])
        };
        for bad in ["http://as.example", "as.example", "ftp://as.example"] {
            let err = with(bad).expect_err(bad);
            assert!(format!("{err:#}").contains("OAUTH_ISSUER"), "{err:#}");
            assert!(format!("{err:#}").contains("RFC 8414 §2"), "{err:#}");
        }
        for good in [
            "https://as.example",
            "http://127.0.0.1:3001",
            "http://localhost:8080",
        ] {
            with(good).expect(good);
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
    fn every_variable_read_is_documented_in_env_example() {
        let env_example = include_str!("../../.env.example");
        let read = std::cell::RefCell::new(Vec::new());
        for set in ["", "OAUTH_AUTH_URL", "OAUTH_ISSUER", "SESSION_STORE"] {
            let _ = Config::from_lookup(|name| {
                read.borrow_mut().push(name.to_owned());
                match name {
                    "SESSION_STORE" => (name == set).then(|| "redis://127.0.0.1".into()),
                    _ => (name == set).then(|| "https://as.example".into()),
                }
            });
        }
        let read = read.into_inner();
        assert!(read.len() > 15, "{read:?}");
        for name in read {
            // Lower-case proxy variables are the same as their documented upper-case form.
            let name = name.to_ascii_uppercase();
            assert!(
                env_example.contains(&format!("{name}=")),
                "{name} is read but not documented in .env.example (which --help prints)"
            );
        }
    }

    /// The README's "point it at a real provider" snippet, as `NAME=value` pairs.
    fn readme_snippet() -> Vec<(String, String)> {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("<!-- real-provider-env -->")
            .expect("the README marks its real-provider snippet");
        let end = readme[start..]
            .find("<!-- /real-provider-env -->")
            .expect("and where it ends");
        readme[start..start + end]
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            // As dotenvy reads it: surrounding quotes are not part of the value.
            .map(|(name, value)| {
                (
                    name.trim().to_owned(),
                    value.trim().trim_matches('"').to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn the_readme_real_provider_snippet_is_complete_and_valid() {
        let snippet = readme_snippet();
        let pairs: Vec<(&str, &str)> = snippet
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let config = from(&pairs).expect("the README's snippet is a valid configuration");
        let named = |name: &str| pairs.iter().any(|(n, _)| *n == name);
        assert!(
            named("PROVIDER_NAME"),
            "pages would say 'your provider': {pairs:?}"
        );
        assert!(
            named("APP_URL"),
            "a real deployment has its own URL: {pairs:?}"
        );
        assert!(config.app_url.is_some_and(|url| url.scheme() == "https"));
        match &config.provider {
            ProviderSource::Discover(discovery) => assert!(discovery.name.is_some()),
            ProviderSource::Explicit(provider) => {
                assert!(provider.name.is_some());
                assert!(
                    provider.revocation_url.is_some(),
                    "logout would blame the provider"
                );
            }
            ProviderSource::Unconfigured => panic!("the snippet configures no provider"),
        }
        assert!(
            pairs
                .iter()
                .all(|(n, _)| crate::config::lookalike::documented().contains(n)),
            "every name in the snippet is one the app reads: {pairs:?}"
        );
    }

    #[test]
    fn the_standard_proxy_variables_are_read() {
        let config = from(&[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("http_proxy", "http://lower.corp:8080"),
            ("HTTP_PROXY", "http://upper.corp:8080"),
            ("NO_PROXY", "internal.corp,10.0.0.0/8"),
        ])
        .expect("valid");
        let proxy = config.proxy;
        assert_eq!(
            proxy.https.expect("https").as_str(),
            "http://proxy.corp:3128/"
        );
        assert_eq!(
            proxy.http.expect("http").as_str(),
            "http://lower.corp:8080/"
        );
        assert_eq!(proxy.no_proxy.as_deref(), Some("internal.corp,10.0.0.0/8"));
        let secret =
            from(&[("HTTPS_PROXY", "http://me:proxy-pw-77@proxy.corp:3128")]).expect("valid");
        let debug = format!("{:?}", secret.proxy);
        assert!(
            !debug.contains("proxy-pw-77"),
            "proxy passwords are redacted"
        );
        assert!(
            debug.contains("https: Some(\"http://me:redacted@proxy.corp:3128/\")"),
            "the proxy itself is shown: {debug}"
        );
        let all = from(&[("ALL_PROXY", "http://all.corp:1")])
            .expect("valid")
            .proxy;
        assert!(all.https.is_some() && all.http.is_some());
        let err = from(&[("HTTPS_PROXY", "not a url")]).expect_err("invalid");
        assert!(format!("{err:#}").contains("HTTPS_PROXY"));
    }

    #[test]
    fn session_store_is_memory_or_a_redis_url_whose_password_is_never_shown() {
        assert_eq!(
            from(&[]).expect("valid").session_store,
            SessionStoreConfig::Memory
        );
        let config = from(&[
            (
                "SESSION_STORE",
                "rediss://app:s3cr3t-pw@redis.example:6380/2",
            ),
            ("SESSION_KEY", KEY),
        ])
        .expect("valid");
        let SessionStoreConfig::Redis(redis) = &config.session_store else {
            panic!("redis expected");
        };
        let url = &redis.url;
        assert!(
            url.expose().contains("s3cr3t-pw"),
            "the client gets the password"
        );
        for shown in [format!("{url}"), format!("{url:?}"), format!("{config:?}")] {
            assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        }
        assert_eq!(
            url.to_string(),
            "rediss://app:redacted@redis.example:6380/2"
        );
        assert_eq!(
            format!("{url:?}"),
            "RedisUrl(rediss://app:redacted@redis.example:6380/2)"
        );
        for bad in ["postgres://x", "redis", "mem", "redis//:hunter2@host"] {
            let err = from(&[("SESSION_STORE", bad)]).expect_err(bad);
            assert!(format!("{err:#}").contains("SESSION_STORE"), "{err:#}");
            assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
        }
    }

    #[test]
    fn each_limit_is_exact_at_its_ceiling() {
        let secs = |name: &str, value: &str| from(&[(name, value)]).map_err(|e| format!("{e:#}"));
        let day = (24 * 3600).to_string();
        let config = secs("PENDING_LOGIN_TTL_SECS", &day).expect("a day is allowed");
        assert_eq!(config.pending_login_ttl, Duration::from_secs(24 * 3600));
        assert!(
            secs("PENDING_LOGIN_TTL_SECS", "86401").is_err(),
            "a second more is not"
        );
        let config = secs("TOKEN_REFRESH_SKEW_SECS", &day).expect("a day is allowed");
        assert_eq!(config.token_refresh_skew, Duration::from_secs(24 * 3600));
        assert!(secs("TOKEN_REFRESH_SKEW_SECS", "86401").is_err());
        let config = secs("SESSION_IDLE_MINUTES", "43200").expect("30 days is allowed");
        assert_eq!(config.session_idle, Duration::from_secs(30 * 24 * 3600));
        assert!(secs("SESSION_IDLE_MINUTES", "43201").is_err());
        let config = secs("SESSION_IDLE_MINUTES", "2").expect("minutes");
        assert_eq!(config.session_idle, Duration::from_secs(120));
    }

    #[test]
    fn each_mode_takes_each_documented_value() {
        for (value, mode) in [
            ("if-required", ParMode::IfRequired),
            ("auto", ParMode::Auto),
            ("on", ParMode::On),
            ("off", ParMode::Off),
        ] {
            assert_eq!(from(&[("OAUTH_PAR", value)]).expect(value).par, mode);
        }
        for (value, mode) in [
            ("off", DpopMode::Off),
            ("auto", DpopMode::Auto),
            ("on", DpopMode::On),
        ] {
            assert_eq!(from(&[("OAUTH_DPOP", value)]).expect(value).dpop, mode);
        }
        for (value, on) in [
            // INSPECTOR
            ("on", true),     // INSPECTOR
            ("true", true),   // INSPECTOR
            ("off", false),   // INSPECTOR
            ("false", false), // INSPECTOR
        ] {
            // INSPECTOR
            let config = from(&[("FLOW_INSPECTOR", value)]).expect(value); // INSPECTOR
            assert_eq!(config.flow_inspector, Some(on), "{value}"); // INSPECTOR
        } // INSPECTOR
        for (name, bad) in [
            ("OAUTH_PAR", "yes"),
            ("OAUTH_DPOP", "1"),
            ("FLOW_INSPECTOR", "maybe"), // INSPECTOR
        ] {
            let err = from(&[(name, bad)]).expect_err(bad);
            assert!(format!("{err:#}").contains(name), "{err:#}");
        }
    }

    #[test]
    fn debug_output_redacts_the_client_secret() {
        let config = from(&[("OAUTH_CLIENT_SECRET", "super-secret-value")]).expect("valid");
        let debug = format!("{config:?}");
        assert!(!debug.contains("super-secret-value"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
