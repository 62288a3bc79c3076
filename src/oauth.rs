//! The OAuth 2.0 client logic, free of web-framework types: build the authorize URL with PKCE,
//! keep pending logins, validate the callback, and exchange the code through the `oauth2` crate.
//!
//! The order of the steps is the point of this file:
//! 1. [`OAuth::start`] makes a fresh `state` and PKCE verifier and the authorize URL (RFC 7636 §4.1–4.3).
//! 2. [`parse_callback`] validates the redirect's query before anything else happens.
//! 3. [`PendingLogins::take`] consumes the pending login that `state` names (single use).
//! 4. [`OAuth::exchange`] redeems the code with the client secret and the verifier (RFC 6749 §4.1.3).

use std::time::Duration;

use oauth2::{
    AuthType, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, StandardRevocableToken, TokenResponse,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenResponse, BasicTokenType,
    },
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use url::Url;

use crate::{
    config::{Config, ProviderConfig, TokenAuth},
    form::{self, FormError},
    http_client::{HttpClient, HttpError},
};

/// Most sign-ins one browser session may have in flight (several tabs). The oldest is evicted.
pub const MAX_PENDING_LOGINS: usize = 5;
/// Caps on the callback, checked before any session or provider work (RFC 6749 §10.14).
pub const MAX_CALLBACK_QUERY: usize = 8 * 1024;
const MAX_STATE_LEN: usize = 512;
const MAX_CODE_LEN: usize = 2048;
/// Bytes of randomness in `state`: 256 bits, far above the 128-bit floor (RFC 6749 §10.10).
const STATE_BYTES: u32 = 32;
/// Upper bound on a token lifetime we will believe, so `now + expires_in` never overflows.
const MAX_TOKEN_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// `oauth2::BasicClient` with the auth and token endpoints set (typestate).
type OAuthClient = Client<
    BasicErrorResponse,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The OAuth client: one per process, shared by every request.
#[derive(Clone, Debug)]
pub struct OAuth {
    client: OAuthClient,
    scopes: Vec<Scope>,
    issuer: Option<String>,
    require_iss: bool,
    /// For revocation, which the `oauth2` crate refuses over plain http even on loopback.
    client_id: ClientId,
    client_secret: ClientSecret,
    token_auth: TokenAuth,
    revocation_url: Option<RevocationUrl>,
    http: HttpClient,
}

/// A sign-in that was started and waits for its callback. Lives in the server-side session only.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent in the authorize URL (RFC 6749 §10.12 CSRF binding).
    pub state: CsrfToken,
    /// The PKCE verifier; it leaves the server only in the token request (RFC 7636 §4.5).
    pub verifier: PkceCodeVerifier,
    /// Unix seconds when the sign-in started.
    pub created_at: i64,
}

/// The started sign-ins of one session, oldest first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PendingLogins(Vec<PendingLogin>);

/// What [`PendingLogins::take`] found for a callback's `state`.
#[derive(Debug)]
pub enum Taken {
    Found(PendingLogin),
    Expired,
    NotFound,
}

/// The tokens of a connected session. Server-side only; `Debug` redacts the tokens.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: oauth2::AccessToken,
    pub refresh_token: Option<RefreshToken>,
    /// Unix seconds when the access token expires, if the provider said (`expires_in`).
    pub expires_at: Option<i64>,
    /// The scopes granted (RFC 6749 §5.1: the response's `scope`, else the requested ones).
    pub scopes: Vec<String>,
    /// How many times these tokens were refreshed (shown on the photos page for the demo).
    #[serde(default)]
    pub refreshed: u32,
}

impl TokenSet {
    /// Whether the access token is expired or will be within `skew` (clock drift, latency).
    /// Unknown expiry counts as fresh: the API's 401 will tell.
    pub fn needs_refresh(&self, now: i64, skew: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at.saturating_sub(skew.as_secs() as i64) <= now)
    }
}

/// Why a refresh failed, split by what the app should do next (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The grant is gone (`invalid_grant`, `invalid_client`, or no refresh token): forget the
    /// tokens and ask the person to connect again.
    #[error("the refresh was refused for good: {0}")]
    Fatal(String),
    /// The provider is down, slow or confused: keep the tokens and let the person retry.
    #[error(transparent)]
    Transient(ExchangeError),
}

/// Why a revocation failed (RFC 7009 §2.2.1). Logged only; logout goes on regardless.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the revocation endpoint answered HTTP {0}")]
    Status(u16),
}

/// A validated authorization response (RFC 6749 §4.1.2, §4.1.2.1). `Debug` redacts the state.
pub enum Callback {
    /// The provider issued a code.
    Code {
        code: AuthorizationCode,
        state: String,
        iss: Option<String>,
    },
    /// The provider answered with an error (`access_denied` when the person said no).
    Error {
        error: String,
        state: Option<String>,
        iss: Option<String>,
    },
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callback::Code { iss, .. } => f
                .debug_struct("Code")
                .field("code", &"[redacted]")
                .field("state", &"[redacted]")
                .field("iss", iss)
                .finish(),
            Callback::Error { error, iss, .. } => f
                .debug_struct("Error")
                .field("error", error)
                .field("state", &"[redacted]")
                .field("iss", iss)
                .finish(),
        }
    }
}

/// Why a callback was refused before any session or provider work. Safe to log and to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("malformed query: {0}")]
    Malformed(#[from] FormError),
    #[error("the state parameter is missing")]
    MissingState,
    #[error("neither code nor error is present")]
    MissingCode,
    #[error("parameter {0} is too long")]
    TooLong(&'static str),
    #[error("implicit-flow parameter {0} in the callback")]
    ImplicitArtifact(&'static str),
}

/// Why the code exchange failed. Never carries a token, code, verifier or response body.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The token endpoint answered with an OAuth error (RFC 6749 §5.2), e.g. `invalid_grant`.
    #[error("the token endpoint refused the request: {0:?}")]
    Rejected(String),
    #[error("the token endpoint timed out")]
    Timeout,
    #[error("the token endpoint could not be reached: {0}")]
    Unreachable(HttpError),
    /// Not a valid token response (not JSON, wrong types, a redirect, …).
    #[error("the token endpoint sent an invalid response: {0}")]
    InvalidResponse(String),
    /// RFC 6749 §7.1: a client must not use a token whose type it does not understand.
    #[error("unsupported token_type {0:?}")]
    UnsupportedTokenType(String),
}

impl OAuth {
    /// Builds the client from the configuration; `redirect_uri` is `APP_URL/cb`.
    pub fn new(
        config: &Config,
        provider: &ProviderConfig,
        redirect_uri: RedirectUrl,
        http: HttpClient,
    ) -> anyhow::Result<Self> {
        let secret = config
            .client_secret
            .clone()
            .ok_or_else(|| anyhow::anyhow!("OAUTH_CLIENT_SECRET is not set"))?;
        let auth_type = match config.token_auth {
            TokenAuth::ClientSecretBasic => AuthType::BasicAuth,
            TokenAuth::ClientSecretPost => AuthType::RequestBody,
        };
        let client = oauth2::basic::BasicClient::new(ClientId::new(config.client_id.to_string()))
            .set_client_secret(secret.clone())
            .set_auth_uri(provider.auth_url.clone())
            .set_token_uri(provider.token_url.clone())
            // The same redirect_uri goes in the authorize and the token request (RFC 6749 §4.1.3).
            .set_redirect_uri(redirect_uri)
            .set_auth_type(auth_type);
        Ok(Self {
            client,
            scopes: config.scopes.iter().cloned().map(Scope::new).collect(),
            issuer: provider.issuer.clone(),
            require_iss: provider.require_iss,
            client_id: config.client_id.clone(),
            client_secret: secret,
            token_auth: config.token_auth,
            revocation_url: provider.revocation_url.clone(),
            http,
        })
    }

    /// Starts a sign-in: the authorize URL to put in the "Connect" link, and the pending login to
    /// keep in the session. Every call makes a fresh state and verifier (OAuth 2.1 §7.5.1).
    pub fn start(&self, now: i64) -> (Url, PendingLogin) {
        // S256 only: `plain` would expose the verifier in the front channel (RFC 7636 §4.2, §7.2).
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        (
            url,
            PendingLogin {
                state,
                verifier,
                created_at: now,
            },
        )
    }

    /// Whether a callback's `iss` is acceptable (RFC 9207 §2.4): see [`issuer_matches`].
    pub fn issuer_ok(&self, iss: Option<&str>) -> bool {
        issuer_matches(self.issuer.as_deref(), self.require_iss, iss)
    }

    /// Uses the refresh token (RFC 6749 §6). A rotated refresh token replaces the old one; when
    /// the provider sends none, the old one is kept (§6: "MAY issue a new refresh token").
    pub async fn refresh(&self, tokens: &TokenSet, now: i64) -> Result<TokenSet, RefreshError> {
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .ok_or_else(|| RefreshError::Fatal("no refresh token".into()))?;
        let response = self
            .client
            .exchange_refresh_token(refresh_token)
            .request_async(&self.http)
            .await
            .map_err(|err| match classify_token_error(err) {
                ExchangeError::Rejected(code)
                    if code == "invalid_grant" || code == "invalid_client" =>
                {
                    RefreshError::Fatal(code)
                }
                other => RefreshError::Transient(other),
            })?;
        let mut fresh = self
            .token_set(&response, now)
            .map_err(RefreshError::Transient)?;
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = tokens.refresh_token.clone();
        }
        if response.scopes().is_none() {
            // No `scope` in the response means "as granted before" (RFC 6749 §5.1, §6).
            fresh.scopes = tokens.scopes.clone();
        }
        fresh.refreshed = tokens.refreshed.saturating_add(1);
        Ok(fresh)
    }

    /// Revokes `token` (RFC 7009 §2.1), authenticating like the token request; does nothing
    /// without a revocation endpoint. Done here rather than through `oauth2`, which refuses http
    /// URLs outright, so the local demo can use it; startup already refuses plain http anywhere
    /// but loopback (`startup::require_https`).
    pub async fn revoke(&self, token: &str, hint: &str) -> Result<(), RevokeError> {
        let Some(url) = &self.revocation_url else {
            return Ok(());
        };
        let url = url.url();
        let mut form = vec![("token", token), ("token_type_hint", hint)];
        let request = self.http.post(url.clone());
        let request = match self.token_auth {
            // The same encoding as the token request: form-urlencode, then Basic (RFC 6749 §2.3.1).
            TokenAuth::ClientSecretBasic => {
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                request.basic_auth(enc(&self.client_id), Some(enc(self.client_secret.secret())))
            }
            TokenAuth::ClientSecretPost => {
                form.push(("client_id", self.client_id.as_str()));
                form.push(("client_secret", self.client_secret.secret()));
                request
            }
        };
        let request = request
            .form(&form)
            .build()
            .map_err(|e| HttpError::Other(e.without_url().to_string()))?;
        let response = self.http.send(request).await?;
        // 200 also means "the token was already invalid" (RFC 7009 §2.2).
        match response.status.as_u16() {
            200 => Ok(()),
            status => Err(RevokeError::Status(status)),
        }
    }

    /// Redeems `code` with the pending login's verifier (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub async fn exchange(
        &self,
        code: AuthorizationCode,
        pending: PendingLogin,
        now: i64,
    ) -> Result<TokenSet, ExchangeError> {
        let response = self
            .client
            .exchange_code(code)
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .map_err(classify_token_error)?;
        self.token_set(&response, now)
    }

    fn token_set(
        &self,
        response: &BasicTokenResponse,
        now: i64,
    ) -> Result<TokenSet, ExchangeError> {
        // `oauth2` matches token_type case-insensitively (RFC 6749 §5.1); anything but Bearer is
        // refused rather than sent as if it were one (RFC 6749 §7.1).
        if *response.token_type() != BasicTokenType::Bearer {
            let kind = response.token_type().as_ref().to_owned();
            return Err(ExchangeError::UnsupportedTokenType(form::truncate(
                &kind, 32,
            )));
        }
        let expires_at = response
            .expires_in()
            .map(|d| now.saturating_add(d.as_secs().min(MAX_TOKEN_LIFETIME_SECS) as i64));
        let scopes = match response.scopes() {
            Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
            None => self.scopes.iter().map(|s| s.to_string()).collect(),
        };
        Ok(TokenSet {
            access_token: response.access_token().clone(),
            refresh_token: response.refresh_token().cloned(),
            expires_at,
            scopes,
            refreshed: 0,
        })
    }
}

/// Maps the `oauth2` crate's error to ours. `RequestTokenError::Parse` carries the raw response
/// body, which may hold a real token: only the JSON path and the error category are kept.
fn classify_token_error(err: RequestTokenError<HttpError, BasicErrorResponse>) -> ExchangeError {
    match err {
        RequestTokenError::ServerResponse(response) => {
            ExchangeError::Rejected(form::truncate(response.error().as_ref(), 64))
        }
        RequestTokenError::Request(HttpError::Timeout) => ExchangeError::Timeout,
        RequestTokenError::Request(err) => ExchangeError::Unreachable(err),
        RequestTokenError::Parse(err, _raw_body) => ExchangeError::InvalidResponse(format!(
            "{:?} error at {}",
            err.inner().classify(),
            err.path()
        )),
        RequestTokenError::Other(message) => {
            ExchangeError::InvalidResponse(form::truncate(&message, 120))
        }
    }
}

impl PendingLogins {
    /// Adds a pending login, evicting the oldest beyond [`MAX_PENDING_LOGINS`].
    pub fn push(&mut self, login: PendingLogin) {
        self.0.push(login);
        if self.0.len() > MAX_PENDING_LOGINS {
            let excess = self.0.len() - MAX_PENDING_LOGINS;
            self.0.drain(..excess);
        }
    }

    /// Removes and returns the pending login whose state equals `state`. Expired entries are
    /// dropped on the way. The comparison is exact bytes and constant-time.
    pub fn take(&mut self, state: &str, now: i64, ttl: Duration) -> Taken {
        let position = self
            .0
            .iter()
            .position(|p| bool::from(p.state.secret().as_bytes().ct_eq(state.as_bytes())));
        let found = position.map(|i| self.0.remove(i));
        let max_age = ttl.as_secs() as i64;
        self.0.retain(|p| now - p.created_at <= max_age);
        match found {
            Some(login) if now - login.created_at <= max_age => Taken::Found(login),
            Some(_) => Taken::Expired,
            None => Taken::NotFound,
        }
    }

    /// Whether `state` names a pending login (without consuming it).
    pub fn contains(&self, state: &str) -> bool {
        self.0
            .iter()
            .any(|p| bool::from(p.state.secret().as_bytes().ct_eq(state.as_bytes())))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Validates the callback's raw query (RFC 6749 §4.1.2). Unknown parameters are ignored
/// (§4.1.2); repeated ones, empty ones and implicit-flow artifacts are not.
pub fn parse_callback(raw_query: Option<&str>) -> Result<Callback, CallbackError> {
    let mut params = form::parse_unique(raw_query.unwrap_or(""), MAX_CALLBACK_QUERY)?;
    // Tokens in the front channel mean an implicit or hybrid response this client never asked
    // for (RFC 9700 §2.1.2): refuse rather than ignore.
    for artifact in ["access_token", "id_token", "token_type", "token"] {
        if params.contains_key(artifact) {
            return Err(CallbackError::ImplicitArtifact(artifact));
        }
    }
    let state = params.remove("state");
    let iss = params.remove("iss");
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(CallbackError::TooLong("state"));
    }
    // An error wins over a code sent alongside it: never exchange a code from an error response.
    if let Some(error) = params.remove("error") {
        return Ok(Callback::Error {
            error: form::truncate(&error, 64),
            state,
            iss,
        });
    }
    let code = params.remove("code").ok_or(CallbackError::MissingCode)?;
    if code.len() > MAX_CODE_LEN {
        return Err(CallbackError::TooLong("code"));
    }
    let state = state.ok_or(CallbackError::MissingState)?;
    Ok(Callback::Code {
        code: AuthorizationCode::new(code),
        state,
        iss,
    })
}

/// Checks the callback's `iss` (RFC 9207 §2.4), already decoded once from the query. With a
/// known issuer, a present `iss` must be byte-equal (no normalization), and a missing one is
/// refused when `required` (the provider advertises `iss`, or it was configured). With no known
/// issuer there is nothing to compare against.
pub fn issuer_matches(expected: Option<&str>, required: bool, iss: Option<&str>) -> bool {
    match (expected, iss) {
        (None, _) => true,
        (Some(expected), Some(iss)) => expected.as_bytes() == iss.as_bytes(),
        (Some(_), None) => !required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use oauth2::{AuthUrl, TokenUrl};

    fn oauth() -> OAuth {
        let mut config = Config::for_tests();
        config.client_secret = Some(oauth2::ClientSecret::new("test-secret".into()));
        let provider = ProviderConfig {
            name: "Test".into(),
            auth_url: AuthUrl::new("https://as.example/authorize".into()).expect("url"),
            token_url: TokenUrl::new("https://as.example/token".into()).expect("url"),
            photos_api_url: Url::parse("https://api.example/photos").expect("url"),
            revocation_url: None,
            issuer: None,
            require_iss: false,
        };
        let redirect = RedirectUrl::new("http://localhost:3000/cb".into()).expect("url");
        let http = HttpClient::new(Duration::from_secs(1)).expect("client");
        OAuth::new(&config, &provider, redirect, http).expect("client")
    }

    fn pending(state: &str, created_at: i64) -> PendingLogin {
        PendingLogin {
            state: CsrfToken::new(state.into()),
            verifier: PkceCodeVerifier::new("v".repeat(43)),
            created_at,
        }
    }

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let verifier = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }

    #[test]
    fn pkce_s256_matches_the_seed_example() {
        let verifier =
            PkceCodeVerifier::new("Th7UHJdLswIYQxwSg29DbK1a_d9o41uNMTRmuH0PM8zyoMAQ".into());
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "hKpKupTM391pE10xfQiorMxXarRKAHRhTfH_xkGf7U4"
        );
    }

    #[test]
    fn authorize_url_has_every_parameter_and_no_secret() {
        let (url, login) = oauth().start(0);
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "photo-connect");
        assert_eq!(q["redirect_uri"], "http://localhost:3000/cb");
        assert_eq!(q["scope"], "photos");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], *login.state.secret());
        assert!(q["state"].len() >= 43, "256-bit state");
        let expected = PkceCodeChallenge::from_code_verifier_sha256(&login.verifier);
        assert_eq!(q["code_challenge"], expected.as_str());
        let verifier = login.verifier.secret();
        assert!((43..=128).contains(&verifier.len()));
        assert!(!url.as_str().contains(verifier.as_str()));
        assert!(!url.as_str().contains("test-secret"));
    }

    #[test]
    fn every_start_is_fresh() {
        let o = oauth();
        let (a, la) = o.start(0);
        let (b, lb) = o.start(0);
        assert_ne!(a, b);
        assert_ne!(la.state.secret(), lb.state.secret());
        assert_ne!(la.verifier.secret(), lb.verifier.secret());
    }

    #[test]
    fn pending_logins_are_single_use_keyed_by_state() {
        let mut logins = PendingLogins::default();
        logins.push(pending("tab-a", 100));
        logins.push(pending("tab-b", 100));
        assert!(matches!(
            logins.take("tab-b", 101, Duration::from_secs(60)),
            Taken::Found(_)
        ));
        assert!(matches!(
            logins.take("tab-b", 101, Duration::from_secs(60)),
            Taken::NotFound
        ));
        assert!(matches!(
            logins.take("tab-a", 101, Duration::from_secs(60)),
            Taken::Found(_)
        ));
        assert!(logins.is_empty());
    }

    #[test]
    fn pending_logins_expire_and_are_capped() {
        let mut logins = PendingLogins::default();
        logins.push(pending("old", 0));
        assert!(matches!(
            logins.take("old", 61, Duration::from_secs(60)),
            Taken::Expired
        ));
        for i in 0..(MAX_PENDING_LOGINS + 3) {
            logins.push(pending(&format!("s{i}"), 0));
        }
        assert_eq!(logins.len(), MAX_PENDING_LOGINS);
        assert!(!logins.contains("s0"), "oldest evicted first");
        assert!(logins.contains(&format!("s{}", MAX_PENDING_LOGINS + 2)));
    }

    #[test]
    fn state_comparison_is_exact() {
        let mut logins = PendingLogins::default();
        logins.push(pending("AbC", 0));
        for near in ["abc", "AbC ", "AbCd", "Ab", ""] {
            assert!(
                matches!(
                    logins.take(near, 0, Duration::from_secs(60)),
                    Taken::NotFound
                ),
                "{near:?}"
            );
        }
    }

    #[test]
    fn callback_with_code_and_state() {
        match parse_callback(Some(
            "code=abc&state=xyz&iss=https%3A%2F%2Fas.example&extra=1",
        )) {
            Ok(Callback::Code { code, state, iss }) => {
                assert_eq!(code.secret(), "abc");
                assert_eq!(state, "xyz");
                assert_eq!(iss.as_deref(), Some("https://as.example"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn callback_error_takes_precedence_over_code() {
        let cb = parse_callback(Some("code=abc&error=access_denied&state=s")).expect("parses");
        assert!(matches!(cb, Callback::Error { ref error, .. } if error == "access_denied"));
    }

    #[test]
    fn callback_rejections() {
        use CallbackError::*;
        let cases: &[(&str, CallbackError)] = &[
            ("code=abc", MissingState),
            ("code=abc&state=", MissingState),
            ("state=s", MissingCode),
            ("", MissingCode),
            (
                "code=a&state=s&state=s",
                Malformed(FormError::Duplicate("state".into())),
            ),
            (
                "code=a&code=b&state=s",
                Malformed(FormError::Duplicate("code".into())),
            ),
            ("code=a&state=%FF", Malformed(FormError::BadEncoding)),
            (
                "code=a&state=s&access_token=t",
                ImplicitArtifact("access_token"),
            ),
            ("code=a&state=s&id_token=t", ImplicitArtifact("id_token")),
            ("code=a&state=s&token=t", ImplicitArtifact("token")),
        ];
        for (query, expected) in cases {
            assert_eq!(
                parse_callback(Some(query)).unwrap_err(),
                *expected,
                "{query}"
            );
        }
        let long_state = format!("code=a&state={}", "s".repeat(MAX_STATE_LEN + 1));
        assert_eq!(
            parse_callback(Some(&long_state)).unwrap_err(),
            TooLong("state")
        );
        let huge = format!("code={}", "c".repeat(MAX_CALLBACK_QUERY));
        assert!(matches!(
            parse_callback(Some(&huge)),
            Err(Malformed(FormError::TooLong(_)))
        ));
    }

    #[test]
    fn issuer_check_is_exact_when_configured() {
        let expected = Some("https://as.example");
        assert!(issuer_matches(expected, true, Some("https://as.example")));
        for variant in [
            "https://as.example/",
            "https://AS.example",
            "https://as.example:443",
            "https%3A%2F%2Fas.example",
        ] {
            assert!(
                !issuer_matches(expected, true, Some(variant)),
                "C24: {variant}"
            );
            assert!(
                !issuer_matches(expected, false, Some(variant)),
                "C25: {variant}"
            );
        }
        assert!(
            !issuer_matches(expected, true, None),
            "C23: missing when required"
        );
        assert!(
            issuer_matches(expected, false, None),
            "not advertised, not sent"
        );
        assert!(issuer_matches(None, false, Some("anything")));
    }

    #[test]
    fn token_set_rejects_non_bearer_and_clamps_expiry() {
        let o = oauth();
        let parse = |json: &str| serde_json::from_str::<BasicTokenResponse>(json).expect("json");
        let mac = parse(r#"{"access_token":"t","token_type":"mac"}"#);
        assert!(matches!(
            o.token_set(&mac, 0),
            Err(ExchangeError::UnsupportedTokenType(_))
        ));

        let huge = parse(&format!(
            r#"{{"access_token":"t","token_type":"bEARER","expires_in":{}}}"#,
            u64::MAX
        ));
        let set = o
            .token_set(&huge, 1_000)
            .expect("bearer in any case is accepted");
        assert_eq!(set.expires_at, Some(1_000 + MAX_TOKEN_LIFETIME_SECS as i64));
        assert_eq!(
            set.scopes,
            vec!["photos"],
            "no scope in the response means the requested ones"
        );

        let narrowed = parse(r#"{"access_token":"t","token_type":"Bearer","scope":"photos.read"}"#);
        assert_eq!(
            o.token_set(&narrowed, 0).expect("ok").scopes,
            vec!["photos.read"]
        );
    }

    #[test]
    fn needs_refresh_honours_the_skew_and_unknown_expiry() {
        let mut tokens = TokenSet {
            access_token: oauth2::AccessToken::new("a".into()),
            refresh_token: None,
            expires_at: Some(1_000),
            scopes: vec![],
            refreshed: 0,
        };
        let skew = Duration::from_secs(30);
        assert!(!tokens.needs_refresh(900, skew));
        assert!(
            tokens.needs_refresh(980, skew),
            "C65: expires in 20 s with a 30 s skew"
        );
        assert!(tokens.needs_refresh(2_000, skew));
        tokens.expires_at = None;
        assert!(!tokens.needs_refresh(i64::MAX, skew));
    }

    #[test]
    fn c78_debug_of_a_callback_is_redacted() {
        let callback =
            parse_callback(Some("code=the-code-value&state=the-state-value")).expect("parses");
        let debug = format!("{callback:?}");
        assert!(
            !debug.contains("the-code-value") && !debug.contains("the-state-value"),
            "{debug}"
        );
    }

    #[test]
    fn debug_of_session_data_is_redacted() {
        let login = pending("the-state-value", 0);
        let tokens = TokenSet {
            access_token: oauth2::AccessToken::new("the-access-token".into()),
            refresh_token: Some(RefreshToken::new("the-refresh-token".into())),
            expires_at: None,
            scopes: vec![],
            refreshed: 0,
        };
        let debug = format!("{login:?} {tokens:?}");
        for secret in [
            "the-state-value",
            "vvvvvvvv",
            "the-access-token",
            "the-refresh-token",
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_callback_never_panics_and_accepts_only_sane_values(raw in ".{0,600}") {
                if let Ok(Callback::Code { code, state, iss }) = parse_callback(Some(&raw)) {
                    prop_assert!(!state.is_empty() && state.len() <= MAX_STATE_LEN);
                    prop_assert!(!code.secret().is_empty() && code.secret().len() <= MAX_CODE_LEN);
                    prop_assert!(!state.chars().any(char::is_control));
                    prop_assert!(iss.is_none_or(|i| !i.chars().any(char::is_control)));
                }
            }

            #[test]
            fn parse_callback_never_panics_on_structured_input(
                pairs in proptest::collection::vec(("(code|state|error|iss|x|%[0-9A-Fa-f]{0,2})", "[ -~]{0,40}"), 0..8)
            ) {
                let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = parse_callback(Some(&raw.join("&")));
            }

            #[test]
            fn token_responses_never_panic(expires in any::<u64>(), kind in "[A-Za-z_]{0,12}", scope in "[ -~]{0,30}") {
                let json = serde_json::json!({"access_token": "t", "token_type": kind, "expires_in": expires, "scope": scope});
                if let Ok(response) = serde_json::from_value::<BasicTokenResponse>(json)
                    && let Ok(set) = oauth().token_set(&response, i64::MAX - 10)
                {
                    prop_assert!(set.expires_at.is_some());
                }
            }
        }
    }
}
