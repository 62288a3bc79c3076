//! The state every handler can reach: built once at startup, cheap to clone per request.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
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

/// How pages name the provider: `PROVIDER_NAME`, or "your provider" in running text (so that
/// no page says "your your provider account"). `Display` gives the running-text form.
#[derive(Clone, Debug)]
pub struct ProviderName(Option<Arc<str>>);

impl ProviderName {
    pub fn new(name: Option<&str>) -> Self {
        Self(name.map(Arc::from))
    }

    /// The configured name, for phrases that read well only with one ("your Acme account").
    pub fn given(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// At the start of a sentence: the name, or "Your provider".
    pub fn start(&self) -> &str {
        self.given().unwrap_or("Your provider")
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.given().unwrap_or("your provider"))
    }
}

/// What the pages read from the configuration, shared.
#[derive(Debug)]
pub struct Settings {
    /// The provider's name, shown to visitors.
    pub provider_name: ProviderName,
    /// The photos API endpoint.
    pub photos_api_url: Url,
    /// This app's origin (`scheme://host:port`), for the `Origin` check on POSTs.
    pub app_origin: String,
    /// The home page, `APP_URL` with its trailing slash: the `post_logout_redirect_uri` of an
    /// RP-initiated logout (OIDC RP-Initiated Logout 1.0 §3), registered with the provider.
    pub home_url: Url,
    /// Lifetime of a pending sign-in.
    pub pending_login_ttl: Duration,
    /// Inactivity limit of a connected session.
    pub session_idle: Duration,
    /// How long logout waits for the revocations.
    pub revocation_timeout: Duration,
    /// Whether the flow inspector records sign-ins (`FLOW_INSPECTOR`). // INSPECTOR
    pub inspector: bool, // INSPECTOR
    /// Pages of wings attached at startup, each linked from the home page.
    pub wing_links: Arc<[WingLink]>,
}

/// A link to a wing's own page (`startup::Application::with_wing` attaches it).
#[derive(Clone, Copy, Debug)]
pub struct WingLink {
    pub label: &'static str,
    pub href: &'static str,
}

/// The state every handler can reach, in parts a handler can take alone (`State<Readiness>`).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The OAuth client (endpoints, client credentials, scopes).
    pub oauth: Arc<OAuthClient>,
    /// The one outbound HTTP client (keep-alive pool, no redirects, timeouts, body cap).
    pub http: HttpClient,
    /// Every session: what `/photos` changes under a session's lock (the refresh).
    pub sessions: Sessions,
    pub settings: Arc<Settings>,
    /// The per-client limit on starting sign-ins (`None`: off).
    pub signin_limit: Option<SigninLimit>,
    /// What `/readyz` checks.
    pub readiness: Readiness,
}

impl FromRef<AppState> for Readiness {
    fn from_ref(state: &AppState) -> Self {
        state.readiness.clone()
    }
}
