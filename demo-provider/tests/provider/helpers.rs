//! The demo provider alone on a free loopback port, and a small HTTP vocabulary to drive it:
//! authorization requests, the consent page (with its browser cookie handled by hand), the
//! token, revocation and photos endpoints. No redirect is ever followed, so every hop is visible.

use std::{collections::HashMap, sync::Arc};

use base64::Engine;
use demo_provider::{DemoSettings, ProviderState, RegisteredClient, Secret};
use rand::RngCore;
use reqwest::{
    StatusCode,
    header::{self, HeaderMap},
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret-3f9a7c1e5b";
pub const REDIRECT_URI: &str = "https://client.example/cb";

/// A second client with two redirect URIs, one of them with a query.
pub const OTHER_ID: &str = "other-client";
pub const OTHER_SECRET: &str = "other-secret-8d2b6e4a0c";
pub const OTHER_REDIRECT: &str = "https://other.example/cb?tenant=1";
pub const OTHER_REDIRECT_2: &str = "https://other.example/cb2";

/// `%x20-21 / %x23-5B / %x5D-7E`: the characters `error` and `error_description` may use
/// (RFC 6749 §4.1.2.1, §5.2).
pub fn is_error_charset(s: &str) -> bool {
    s.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

pub fn registered(id: &str, secret: &str, uris: &[&str]) -> RegisteredClient {
    RegisteredClient {
        client_id: id.into(),
        client_secret: Secret::new(secret),
        redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
        name: format!("{id} app"),
        require_par: false,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: None,
        jwks: None,
    }
}

/// The settings every test starts from: the two clients above, defaults otherwise.
pub fn settings() -> DemoSettings {
    DemoSettings {
        clients: vec![
            registered(CLIENT_ID, CLIENT_SECRET, &[REDIRECT_URI]),
            registered(OTHER_ID, OTHER_SECRET, &[OTHER_REDIRECT, OTHER_REDIRECT_2]),
        ],
        ..DemoSettings::for_tests()
    }
}

/// A running provider and an HTTP client that follows no redirect and keeps no cookies.
pub struct Provider {
    pub issuer: String,
    pub state: Arc<ProviderState>,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn spawn() -> Provider {
    spawn_with(settings()).await
}

pub async fn spawn_with(settings: DemoSettings) -> Provider {
    let provider = demo_provider::spawn(settings)
        .await
        .expect("the provider starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Provider {
        issuer: provider.issuer,
        state: provider.state,
        http,
        task: provider.task,
    }
}

/// A PKCE pair: a 43-character verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self {
            challenge: s256(&verifier),
            verifier,
        }
    }
}

pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An authorization request's parameters, in order, duplicates allowed.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub params: Vec<(String, String)>,
    pub pkce: Pkce,
}

impl AuthRequest {
    /// A valid request from [`CLIENT_ID`]: code, PKCE S256, scope `photos`, a state.
    pub fn new() -> Self {
        Self::for_client(CLIENT_ID, REDIRECT_URI)
    }

    pub fn for_client(client_id: &str, redirect_uri: &str) -> Self {
        let pkce = Pkce::new();
        let params = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "photos"),
            ("state", "st-123"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self { params, pkce }
    }

    /// Replaces every `name` with one `value`.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self = self.without(name);
        self.params.push((name.into(), value.into()));
        self
    }

    /// Appends `name=value` (duplicates allowed).
    pub fn add(mut self, name: &str, value: &str) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.params.retain(|(k, _)| k != name);
        self
    }

    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish()
    }
}

/// A consent screen that was shown: its transaction id and the browser cookie that goes with it.
#[derive(Clone, Debug)]
pub struct Consent {
    pub transaction: String,
    pub cookie: String,
}

/// A status, the headers, the raw body and the body as JSON (`Null` when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub json: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            json,
        }
    }

    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    /// The `error_description` member, or "".
    pub fn description(&self) -> &str {
        self.json["error_description"].as_str().unwrap_or("")
    }

    /// The `Location` of a redirect, parsed.
    pub fn location(&self) -> Url {
        let location = self
            .header(header::LOCATION)
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body));
        Url::parse(location).expect("Location is absolute")
    }

    /// The redirect's query parameters (each name once; see [`pairs`] for all).
    pub fn params(&self) -> HashMap<String, String> {
        self.location().query_pairs().into_owned().collect()
    }
}

/// Every query pair of `url`, in order.
pub fn pairs(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

/// The value of `name="<attr>" value="…"` in `html`.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// `name=value` of the `Set-Cookie` named `name`.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

impl Provider {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// `GET /oauth/authorize?<raw query>`, optionally with a browser cookie.
    pub async fn authorize_raw(&self, query: &str, cookie: Option<&str>) -> Reply {
        let mut request = self
            .http
            .get(format!("{}?{query}", self.url("/oauth/authorize")));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        Reply::from(request.send().await.expect("authorize")).await
    }

    pub async fn authorize(&self, request: &AuthRequest) -> Reply {
        self.authorize_raw(&request.query(), None).await
    }

    /// Opens the consent page for `request` in a fresh browser.
    pub async fn open_consent(&self, request: &AuthRequest) -> Consent {
        self.open_consent_in(request, None).await
    }

    /// Opens the consent page in the browser holding `cookie` (a new browser when `None`).
    pub async fn open_consent_in(&self, request: &AuthRequest, cookie: Option<&str>) -> Consent {
        let reply = self.authorize_raw(&request.query(), cookie).await;
        assert_eq!(reply.status, StatusCode::OK, "consent page: {}", reply.body);
        let transaction = hidden_value(&reply.body, "transaction").expect("transaction field");
        let cookie = set_cookie(&reply.headers, "demo_as_browser").expect("browser cookie");
        Consent {
            transaction,
            cookie,
        }
    }

    /// Posts a consent form with an optional cookie and Origin.
    pub async fn post_consent(
        &self,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Reply {
        let mut request = self.http.post(self.url("/oauth/authorize")).form(form);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        Reply::from(request.send().await.expect("consent answer")).await
    }

    /// Answers `consent` as a browser would: its cookie, the provider's own Origin.
    pub async fn answer(&self, consent: &Consent, user: &str, decision: &str) -> Reply {
        self.post_consent(
            &[
                ("transaction", &consent.transaction),
                ("user", user),
                ("decision", decision),
            ],
            Some(&consent.cookie),
            Some(&self.issuer.clone()),
        )
        .await
    }

    /// A code for `request`, approved as alice.
    pub async fn code_for(&self, request: &AuthRequest) -> String {
        let consent = self.open_consent(request).await;
        let reply = self.answer(&consent, "alice", "approve").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        reply.params().get("code").cloned().expect("a code")
    }

    /// A fresh code for [`CLIENT_ID`] and the request that produced it.
    pub async fn code(&self) -> (String, AuthRequest) {
        let request = AuthRequest::new();
        (self.code_for(&request).await, request)
    }

    /// `POST /oauth/token` with `form`, authenticated with HTTP Basic as `id:secret` (plain
    /// base64, no form-encoding: fine for the ids used here).
    pub async fn token_as(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> Reply {
        let request = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(id, Some(secret))
            .form(form);
        Reply::from(request.send().await.expect("token request")).await
    }

    pub async fn token(&self, form: &[(&str, &str)]) -> Reply {
        self.token_as(CLIENT_ID, CLIENT_SECRET, form).await
    }

    /// The authorization_code grant for a code of [`CLIENT_ID`].
    pub async fn redeem(&self, code: &str, verifier: &str) -> Reply {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// A full flow for [`CLIENT_ID`] with `scope`: (access token, refresh token).
    pub async fn tokens_with_scope(&self, scope: &str) -> (String, String) {
        let request = AuthRequest::new().set("scope", scope);
        let code = self.code_for(&request).await;
        let reply = self.redeem(&code, &request.pkce.verifier).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        (
            reply.json["access_token"].as_str().expect("at").to_owned(),
            reply.json["refresh_token"].as_str().expect("rt").to_owned(),
        )
    }

    pub async fn tokens(&self) -> (String, String) {
        self.tokens_with_scope("photos").await
    }

    pub async fn refresh_as(&self, id: &str, secret: &str, refresh_token: &str) -> Reply {
        self.token_as(
            id,
            secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.refresh_as(CLIENT_ID, CLIENT_SECRET, refresh_token)
            .await
    }

    pub async fn revoke_as(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> Reply {
        let request = self
            .http
            .post(self.url("/oauth/revoke"))
            .basic_auth(id, Some(secret))
            .form(form);
        Reply::from(request.send().await.expect("revoke request")).await
    }

    /// `GET /api/photos` with `Authorization: Bearer <token>`.
    pub async fn photos(&self, token: &str) -> Reply {
        self.photos_with("Bearer", token).await
    }

    pub async fn photos_with(&self, scheme: &str, token: &str) -> Reply {
        let request = self
            .http
            .get(self.url("/api/photos"))
            .header(header::AUTHORIZATION, format!("{scheme} {token}"));
        Reply::from(request.send().await.expect("photos")).await
    }
}
