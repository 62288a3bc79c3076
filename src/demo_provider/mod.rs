//! DEMO PROVIDER: a fake but strict OAuth 2.0 authorization server and photos API, for offline
//! demos and tests only. Not for production: users are hard-coded and everything is in memory.
//!
//! It runs on its own listener and origin (default `http://127.0.0.1:3001`), so the browser really
//! leaves the app's site and comes back. The client code never imports this module; to remove
//! it, delete this folder, `tests/e2e/` and the lines tagged `DEMO-PROVIDER` (see README).

mod api;
mod authorize;
mod client_auth;
mod pages;
mod photos;
mod store;
mod token;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Json, Router, extract::DefaultBodyLimit, routing::get};
use oauth2::{AuthUrl, ClientSecret, TokenUrl};
use rand::RngCore;
use serde_json::json;
use tokio::{net::TcpListener, task::JoinHandle};
use url::Url;

use crate::{Application, config::ProviderConfig};

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

/// How the demo provider runs.
#[derive(Clone, Debug)]
pub struct DemoSettings {
    /// `DEMO_PROVIDER_ADDR`: where it listens. Default `127.0.0.1:3001`.
    pub addr: SocketAddr,
    /// Codes live this long (RFC 6749 §4.1.2 recommends at most 10 minutes). Default 60 s.
    pub code_ttl: Duration,
    /// Access tokens live this long. Default 1 hour.
    pub access_token_ttl: Duration,
    /// Refresh tokens live this long. Default 30 days.
    pub refresh_token_ttl: Duration,
    /// The registered clients.
    pub clients: Vec<RegisteredClient>,
}

impl DemoSettings {
    /// Defaults with `DEMO_PROVIDER_ADDR` from the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let addr = std::env::var("DEMO_PROVIDER_ADDR")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "127.0.0.1:3001".into());
        let addr = addr
            .parse()
            .with_context(|| format!("DEMO_PROVIDER_ADDR={addr:?} is not host:port"))?;
        Ok(Self {
            addr,
            ..Self::for_tests()
        })
    }

    /// Defaults on a free loopback port, no clients yet.
    pub fn for_tests() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            clients: Vec::new(),
        }
    }
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
            issuer: Some(self.issuer.clone()),
        })
    }
}

/// Starts the provider with `settings`.
pub async fn spawn(settings: DemoSettings) -> anyhow::Result<DemoProvider> {
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
/// its client (a fresh random secret unless `OAUTH_CLIENT_SECRET` is set) and points the app at it.
pub async fn start_for(app: &mut Application) -> anyhow::Result<Option<DemoProvider>> {
    if app.config().provider.is_some() {
        return Ok(None);
    }
    let provider = start_with(app, DemoSettings::from_env()?).await?;
    tracing::info!(issuer = %provider.issuer, "demo provider running (no OAUTH_AUTH_URL set)");
    Ok(Some(provider))
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
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// 256 random bits from the OS CSPRNG, base64url (RFC 6749 §10.10: ≤ 2^-128 guessing odds).
pub(crate) fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
