//! The state every handler can reach: built once at startup, cheap to clone per request.

use std::{sync::Arc, time::Duration};

use url::Url;

use crate::{
    http_client::HttpClient,
    oauth::OAuthClient,
    session::{Sessions, redis},
    web::middleware::rate_limit::SigninLimit,
};

/// What the app needs to be ready: the memory store always is; Redis must answer.
#[derive(Clone, Debug)]
pub enum Readiness {
    Memory,
    Redis(fred::clients::Pool),
}

impl Readiness {
    pub async fn ready(&self) -> bool {
        match self {
            Readiness::Memory => true,
            Readiness::Redis(pool) => redis::is_ready(pool).await,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AppState {
    /// The OAuth client (endpoints, client credentials, scopes).
    pub oauth: Arc<OAuthClient>,
    /// The one outbound HTTP client (keep-alive pool, no redirects, timeouts, body cap).
    pub http: HttpClient,
    /// The provider's name, shown to visitors.
    pub provider_name: Arc<str>,
    /// The photos API endpoint.
    pub photos_api_url: Arc<Url>,
    /// This app's origin (`scheme://host:port`), for the `Origin` check on POSTs.
    pub app_origin: Arc<str>,
    /// Lifetime of a pending sign-in.
    pub pending_login_ttl: Duration,
    /// Inactivity limit of a connected session.
    pub session_idle: Duration,
    /// How long logout waits for the revocations.
    pub revocation_timeout: Duration,
    /// The per-client limit on starting sign-ins (`None`: off).
    pub signin_limit: Option<SigninLimit>,
    /// Every session: what `/photos` changes under a session's lock (the refresh).
    pub sessions: Sessions,
    /// What `/readyz` checks.
    pub readiness: Readiness,
    /// Whether the flow inspector records sign-ins (`FLOW_INSPECTOR`).
    pub inspector: bool,
}
