//! Provider discovery (RFC 8414, OpenID Connect Discovery 1.0): with `OAUTH_ISSUER` alone, fetch
//! the authorization server's metadata at startup, check it names exactly that issuer and
//! supports PKCE S256, and build the provider configuration from it. With `openid` in the
//! scopes, the OpenID configuration is tried first, for its `jwks_uri`.

use anyhow::{Context, bail};
use oauth2::{AuthUrl, RevocationUrl, TokenUrl};
use serde::Deserialize;
use url::Url;

use crate::{
    config::{Discovery, OpenIdProvider, ProviderConfig},
    http_client::HttpClient,
    text::escaped,
};

/// The metadata fields this client uses (RFC 8414 §2, RFC 9207 §3). Others are ignored.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9126 §5.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.1.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// OpenID Connect Discovery 1.0 §3 (RFC 8414 §2 has it too): the provider's signing keys.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// OpenID Connect Discovery 1.0 §3: the algorithms the provider signs ID tokens with.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    /// OIDC RP-Initiated Logout 1.0 §2.1: where the browser is sent to end the provider's session.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// The metadata URLs to try for `issuer`: RFC 8414 §3.1 inserts the well-known path between the
/// host and the issuer's path; OpenID Connect Discovery §4 appends it. With `openid`, the
/// OpenID configuration comes first and RFC 8414 is the fallback; without, the other way round.
pub fn metadata_urls(issuer: &str, openid: bool) -> anyhow::Result<Vec<Url>> {
    let url =
        Url::parse(issuer).with_context(|| format!("OAUTH_ISSUER={issuer:?} is not a URL"))?;
    if url.query().is_some() || url.fragment().is_some() {
        bail!("OAUTH_ISSUER={issuer:?} must not have a query or fragment (RFC 8414 §2)");
    }
    let path = url.path().trim_end_matches('/').to_owned();
    let mut rfc8414 = url.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut oidc = url;
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    Ok(if openid {
        vec![oidc, rfc8414]
    } else {
        vec![rfc8414, oidc]
    })
}

/// Parses and checks a metadata document against the configured issuer.
pub fn check_metadata(discovery: &Discovery, body: &[u8]) -> anyhow::Result<ProviderConfig> {
    let metadata: Metadata = serde_json::from_slice(body).map_err(|e| {
        anyhow::anyhow!(
            "the metadata is not valid JSON of the expected shape ({:?} error at line {})",
            e.classify(),
            e.line()
        )
    })?;
    // RFC 8414 §3.3: identical, byte for byte; no normalization (no trailing-slash leniency).
    if metadata.issuer.as_bytes() != discovery.issuer.as_bytes() {
        bail!(
            "the metadata's issuer \"{}\" is not identical to OAUTH_ISSUER \"{}\" (RFC 8414 §3.3); refusing to use it",
            escaped(&metadata.issuer, 200),
            escaped(&discovery.issuer, 200)
        );
    }
    // RFC 9700 §2.1.1: PKCE support is advertised through this list; without S256 the provider may
    // silently ignore the challenge, and the code would be unprotected.
    let s256 = metadata
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|m| m.iter().any(|x| x == "S256"));
    if !s256 && !discovery.allow_unadvertised_pkce {
        bail!(
            "the provider's metadata does not list S256 in code_challenge_methods_supported, so PKCE may not be enforced \
             (RFC 9700 §2.1.1). Set OAUTH_ALLOW_UNADVERTISED_PKCE=true to start anyway (S256 is still sent)."
        );
    }
    let auth_url = AuthUrl::new(metadata.authorization_endpoint.clone())
        .context("authorization_endpoint is not a URL")?;
    let token_url = match &discovery.token_url {
        Some(url) => url.clone(),
        None => {
            TokenUrl::new(metadata.token_endpoint.clone()).context("token_endpoint is not a URL")?
        }
    };
    let revocation_url = match (&discovery.revocation_url, &metadata.revocation_endpoint) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(url)) => {
            Some(RevocationUrl::new(url.clone()).context("revocation_endpoint is not a URL")?)
        }
        (None, None) => None,
    };
    let par_url = match (
        &discovery.par_url,
        &metadata.pushed_authorization_request_endpoint,
    ) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(url)) => {
            Some(Url::parse(url).context("pushed_authorization_request_endpoint is not a URL")?)
        }
        (None, None) => None,
    };
    let openid = match &metadata.jwks_uri {
        Some(url) => Some(Box::new(OpenIdProvider {
            jwks_url: Url::parse(url).context("jwks_uri is not a URL")?,
            id_token_algs: metadata.id_token_signing_alg_values_supported.clone(),
            end_session_url: match &metadata.end_session_endpoint {
                Some(url) => Some(Url::parse(url).context("end_session_endpoint is not a URL")?),
                None => None,
            },
        })),
        None => None,
    };
    let provider = ProviderConfig {
        name: discovery.name.clone(),
        auth_url,
        token_url,
        photos_api_url: discovery.photos_api_url.clone(),
        revocation_url,
        par_url,
        require_par: metadata.require_pushed_authorization_requests,
        dpop_es256: metadata
            .dpop_signing_alg_values_supported
            .is_some_and(|algs| algs.iter().any(|a| a == "ES256")),
        issuer: Some(metadata.issuer),
        require_iss: metadata.authorization_response_iss_parameter_supported,
        openid,
    };
    // Discovered endpoints obey the same https rule as configured ones.
    provider.check_https()?;
    Ok(provider)
}

/// Fetches the metadata (see [`metadata_urls`] for the order) and checks it.
pub async fn discover(
    http: &HttpClient,
    discovery: &Discovery,
    openid: bool,
) -> anyhow::Result<ProviderConfig> {
    let mut last_error = None;
    for url in metadata_urls(&discovery.issuer, openid)? {
        let request = http
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .build()?;
        match http.send(request).await {
            Ok(response) if response.status.is_success() => {
                return check_metadata(discovery, &response.body)
                    .with_context(|| format!("metadata at {url}"));
            }
            Ok(response) => {
                last_error = Some(anyhow::anyhow!("{url} answered HTTP {}", response.status))
            }
            Err(err) => last_error = Some(anyhow::anyhow!("{url}: {err}")),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no metadata URL")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metadata member that advertises PKCE S256.
    const S256: &str = r#","code_challenge_methods_supported":["S256"]"#;

    fn discovery(issuer: &str) -> Discovery {
        Discovery {
            issuer: issuer.into(),
            photos_api_url: Url::parse("https://api.example/photos").expect("url"),
            name: None,
            token_url: None,
            revocation_url: None,
            par_url: None,
            allow_unadvertised_pkce: false,
        }
    }

    fn metadata(issuer: &str, methods: &str) -> Vec<u8> {
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"https://as.example/authorize","token_endpoint":"https://as.example/token",
               "revocation_endpoint":"https://as.example/revoke","authorization_response_iss_parameter_supported":true{methods}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn well_known_urls_follow_rfc8414_then_oidc() {
        let urls = metadata_urls("https://as.example/tenant/1", false).expect("valid");
        assert_eq!(
            urls[0].as_str(),
            "https://as.example/.well-known/oauth-authorization-server/tenant/1"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://as.example/tenant/1/.well-known/openid-configuration"
        );
        let urls = metadata_urls("https://as.example", false).expect("valid");
        assert_eq!(
            urls[0].as_str(),
            "https://as.example/.well-known/oauth-authorization-server"
        );
        assert!(metadata_urls("https://as.example/?x=1", false).is_err());
        // With openid, the OpenID configuration first (for its jwks_uri), RFC 8414 after.
        let urls = metadata_urls("https://as.example/tenant/1", true).expect("valid");
        assert_eq!(
            urls[0].as_str(),
            "https://as.example/tenant/1/.well-known/openid-configuration"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://as.example/.well-known/oauth-authorization-server/tenant/1"
        );
    }

    #[test]
    fn c26_the_metadata_issuer_must_be_identical() {
        let d = discovery("https://as.example");
        let ok = check_metadata(&d, &metadata("https://as.example", S256)).expect("valid");
        assert_eq!(ok.issuer.as_deref(), Some("https://as.example"));
        assert!(
            ok.require_iss,
            "advertised iss support makes iss mandatory (RFC 9207 §2.4)"
        );
        assert_eq!(
            ok.revocation_url.map(|u| u.to_string()).as_deref(),
            Some("https://as.example/revoke")
        );
        for other in [
            "https://as.example/",
            "https://AS.example",
            "https://evil.example",
        ] {
            let err = check_metadata(&d, &metadata(other, S256)).expect_err(other);
            assert!(err.to_string().contains("RFC 8414 §3.3"), "{err}");
        }
    }

    #[test]
    fn c04_no_s256_in_the_metadata_refuses_to_start_unless_allowed() {
        let mut d = discovery("https://as.example");
        for methods in [
            "",
            r#","code_challenge_methods_supported":["plain"]"#,
            r#","code_challenge_methods_supported":[]"#,
        ] {
            let err =
                check_metadata(&d, &metadata("https://as.example", methods)).expect_err(methods);
            assert!(err.to_string().contains("S256"), "{err}");
        }
        d.allow_unadvertised_pkce = true;
        assert!(check_metadata(&d, &metadata("https://as.example", "")).is_ok());
    }

    #[test]
    fn c99_the_end_session_endpoint_is_read_with_the_keys() {
        let d = discovery("https://as.example");
        let with = format!(
            r#"{S256},"jwks_uri":"https://as.example/jwks","end_session_endpoint":"https://as.example/logout""#
        );
        let found = check_metadata(&d, &metadata("https://as.example", &with)).expect("valid");
        let openid = found.openid.expect("openid metadata");
        assert_eq!(
            openid.end_session_url.map(|u| u.to_string()).as_deref(),
            Some("https://as.example/logout")
        );
        let without = format!(r#"{S256},"jwks_uri":"https://as.example/jwks""#);
        let found = check_metadata(&d, &metadata("https://as.example", &without)).expect("valid");
        assert!(found.openid.expect("openid").end_session_url.is_none());
    }

    #[test]
    fn explicit_urls_override_the_metadata() {
        let mut d = discovery("https://as.example");
        d.token_url = Some(TokenUrl::new("https://override.example/token".into()).expect("url"));
        let config = check_metadata(&d, &metadata("https://as.example", S256)).expect("valid");
        assert_eq!(config.token_url.as_str(), "https://override.example/token");
    }

    #[test]
    fn dpop_is_advertised_only_by_es256_in_the_signing_algorithms() {
        let d = discovery("https://as.example");
        let es256 = |algs: &str| {
            let extra = format!(r#"{S256},"dpop_signing_alg_values_supported":{algs}"#);
            check_metadata(&d, &metadata("https://as.example", &extra))
                .expect("valid")
                .dpop_es256
        };
        assert!(es256(r#"["RS256","ES256"]"#));
        assert!(!es256(r#"["RS256","PS256"]"#));
        assert!(!es256("[]"));
        let none = check_metadata(&d, &metadata("https://as.example", S256)).expect("valid");
        assert!(!none.dpop_es256, "not listed: no DPoP (RFC 9449 §5.1)");
    }

    #[tokio::test]
    async fn an_error_status_moves_on_to_the_openid_path_and_the_last_error_is_reported() {
        use crate::http_client::test_server::{client, header, path_of, response, serve};
        // Only the OpenID Connect path has the metadata; the RFC 8414 path answers a JSON 404.
        let addr = serve(|request| {
            // The issuer is this server, as the request's Host names it.
            let issuer = format!("http://{}", header(request, "host").unwrap_or_default());
            let (status, body) = match path_of(request) {
                "/.well-known/openid-configuration" => ("200 OK", metadata(&issuer, S256)),
                _ => ("404 Not Found", br#"{"issuer":"wrong"}"#.to_vec()),
            };
            response(status, &[("content-type", "application/json")], &body)
        })
        .await;
        let http = client();
        let found = discover(&http, &discovery(&format!("http://{addr}")), false)
            .await
            .expect("found on the second path");
        assert_eq!(
            found.issuer.as_deref(),
            Some(format!("http://{addr}").as_str())
        );

        let missing = discover(&http, &discovery(&format!("http://{addr}/nothing")), false)
            .await
            .expect_err("both paths answer 404");
        let message = format!("{missing:#}");
        assert!(
            message.contains("/nothing/.well-known/openid-configuration answered HTTP 404"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn with_openid_the_openid_configuration_comes_first_and_rfc8414_is_the_fallback() {
        use crate::http_client::test_server::{client, header, path_of, response, serve};
        use std::sync::{Arc, Mutex};
        // Only RFC 8414 metadata, with a jwks_uri: an OpenID sign-in still finds its keys.
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let addr = serve(move |request| {
            let issuer = format!("http://{}", header(request, "host").unwrap_or_default());
            log.lock().expect("lock").push(path_of(request).to_owned());
            let (status, body) = match path_of(request) {
                "/.well-known/oauth-authorization-server" => {
                    let jwks = format!(r#"{S256},"jwks_uri":"{issuer}/jwks""#);
                    ("200 OK", metadata(&issuer, &jwks))
                }
                _ => ("404 Not Found", b"{}".to_vec()),
            };
            response(status, &[("content-type", "application/json")], &body)
        })
        .await;
        let found = discover(&client(), &discovery(&format!("http://{addr}")), true)
            .await
            .expect("found on the fallback");
        assert_eq!(
            found.openid.map(|o| o.jwks_url.to_string()),
            Some(format!("http://{addr}/jwks"))
        );
        assert_eq!(
            *asked.lock().expect("lock"),
            [
                "/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server"
            ]
        );
    }

    #[test]
    fn discovered_endpoints_must_be_https_off_loopback() {
        let d = discovery("https://as.example");
        let body = String::from_utf8(metadata("https://as.example", S256))
            .expect("utf-8")
            .replace("https://as.example/token", "http://as.example/token");
        let err = check_metadata(&d, body.as_bytes()).expect_err("plain http endpoint");
        assert!(err.to_string().contains("OAUTH_TOKEN_URL"), "{err}");
    }

    #[test]
    fn malformed_metadata_is_refused_without_quoting_it() {
        let d = discovery("https://as.example");
        for body in [&b"<html>SECRET</html>"[..], b"{}", b"[]"] {
            let err = check_metadata(&d, body).expect_err("malformed");
            assert!(!err.to_string().contains("SECRET"));
        }
    }
}
