//! The composition root: bind the listener first (so the real port is known), find the provider,
//! then build the OAuth client, the session layer and the router, and serve with graceful
//! shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use axum::ServiceExt;
use fred::clients::Pool;
use oauth2::RedirectUrl;
use tokio::{net::TcpListener, task::JoinHandle};
use tower_sessions::SessionStore;
use url::Url;

pub use crate::web::App;

use crate::{
    config::{self, Config, ProviderConfig, ProviderSource, SessionStoreConfig},
    http_client::HttpClient,
    oauth::{OAuthClient, discovery},
    session::{
        self, Sessions, at_rest::AtRest, lock::SessionLocks, logout_index::LogoutIndex,
        sealed_store::SealedRedisStore, store::MemoryStore,
    },
    shutdown,
    web::{
        self,
        middleware::{self as mw, headers::SecurityHeaders, rate_limit::SigninLimit},
        routes::metrics::{Exporter, MetricsSetup},
        state::{AppState, ProviderName, Readiness, Settings, WingLink},
    },
};

/// A bound, not yet serving, application with its provider found.
pub struct Application {
    listener: TcpListener,
    config: Config,
    provider: ProviderConfig,
    app_url: Url,
    /// The shared session store and how its data is kept at rest, when `SESSION_STORE` is Redis.
    redis: Option<(Pool, Arc<AtRest>)>,
    /// The metrics recorder and `METRICS_ADDR` listener, when `METRICS` or `METRICS_ADDR` is set.
    metrics: Option<MetricsSetup>,
    /// Wings' own routes and the links to their pages ([`Application::with_wing`]).
    wing_routes: Option<axum::Router<AppState>>,
    wing_links: Vec<WingLink>,
}

/// A running application (tests): its URL, its session store, and the server task.
pub struct RunningApp {
    pub url: Url,
    /// The memory store (`None` with Redis).
    pub sessions: Option<MemoryStore>,
    /// `http://<METRICS_ADDR>/metrics` when metrics have a listener of their own.
    pub metrics_url: Option<Url>,
    /// The app (and its metrics listener, if any): aborting it stops both.
    pub task: JoinHandle<()>,
}

impl Application {
    /// Binds `LISTEN_ADDR` (or `PORT`), then finds the provider (see
    /// [`Application::with_listener`]).
    pub async fn bind(config: Config) -> anyhow::Result<Self> {
        let listener = config.listen.bind().await?;
        Self::with_listener(config, listener).await
    }

    /// Uses `listener`. The app URL is `APP_URL`, or `http://localhost:<bound port>`. With
    /// `OAUTH_ISSUER` alone the provider is discovered here (RFC 8414), so a provider with bad
    /// metadata stops the app at startup rather than failing sign-ins later.
    pub async fn with_listener(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let app_url = app_url(&config, &listener)?;
        let bound = listener.local_addr()?;
        if let Some(warning) = config::unreachable_from(&app_url, bound, config.listen.variable) {
            tracing::warn!("{warning}");
        }
        if config.flow_inspector == Some(true) && !cfg!(feature = "inspector") {
            // INSPECTOR
            let hint = "build with the `inspector` cargo feature, or leave FLOW_INSPECTOR unset"; // INSPECTOR
            bail!("FLOW_INSPECTOR=on, but this build has no flow inspector: {hint}"); // INSPECTOR
        } // INSPECTOR
        let provider = match &config.provider {
            ProviderSource::Explicit(provider) => provider.clone(),
            ProviderSource::Discover(discovery) => {
                let http = HttpClient::new(config.http_timeout, &config.proxy)?;
                let openid = config
                    .scopes
                    .iter()
                    .any(|s| s == crate::oauth::openid::OPENID);
                let provider = discovery::discover(&http, discovery, openid)
                    .await
                    .with_context(|| {
                        format!(
                            "could not discover the provider at OAUTH_ISSUER={}",
                            discovery.issuer
                        )
                    })?;
                tracing::info!(issuer = %discovery.issuer, "provider discovered");
                provider
            }
            ProviderSource::Unconfigured => bail!(
                "no provider configured: set OAUTH_ISSUER (discovery) or OAUTH_AUTH_URL and \
                 OAUTH_TOKEN_URL, plus PHOTOS_API_URL and OAUTH_CLIENT_SECRET, in .env or the \
                 environment (see .env.example or --help)"
            ),
        };
        mw::setup_check::warn_at_startup(&app_url);
        // Fails fast, naming SESSION_STORE (password redacted), when Redis is not there.
        let redis = match &config.session_store {
            SessionStoreConfig::Memory => None,
            SessionStoreConfig::Redis(redis) => {
                let pool = session::redis::connect(&redis.url).await?;
                tracing::info!(store = %redis.url, prefix = %redis.prefix, "sessions are kept in Redis, sealed");
                let at_rest = AtRest::new(&redis.prefix, &redis.key, &redis.previous_keys);
                Some((pool, Arc::new(at_rest)))
            }
        };
        let metrics = MetricsSetup::new(config.metrics).await?;
        Ok(Self {
            listener,
            config,
            provider,
            app_url,
            redis,
            metrics,
            wing_routes: None,
            wing_links: Vec::new(),
        })
    }

    /// Adds a wing's own routes (they take no session and no lock) and a link to its page on the
    /// home page: the seam a wing that starts with the app serves pages through, so
    /// the web floor never names it.
    pub fn with_wing(mut self, routes: axum::Router<AppState>, link: WingLink) -> Self {
        self.wing_routes = Some(match self.wing_routes.take() {
            Some(others) => others.merge(routes),
            None => routes,
        });
        self.wing_links.push(link);
        self
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn app_url(&self) -> &Url {
        &self.app_url
    }

    /// The address of the `METRICS_ADDR` listener, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref()?.own_addr()
    }

    /// Builds everything without serving: the app (the router inside its middleware), the
    /// sessions (shutdown waits for their refreshes) and, with the memory store, that store
    /// (tests look inside).
    fn build(&self) -> anyhow::Result<(App, Sessions, Option<MemoryStore>, Option<Exporter>)> {
        let http = HttpClient::new(self.config.http_timeout, &self.config.proxy)?;
        let redirect_uri = RedirectUrl::from_url(redirect_uri(&self.app_url)?);
        let oauth = OAuthClient::new(&self.config, &self.provider, redirect_uri, http.clone())?;
        let https = self.app_url.scheme() == "https";
        let signin_limit = SigninLimit::new(
            self.config.signin_rate_per_minute,
            self.config.trust_forwarded_for,
        );
        if let Some(limit) = &signin_limit {
            limit.spawn_pruner(Duration::from_secs(60));
        }
        // `__Host-` pins the cookie to this host and path when served over https.
        let cookie_name = if https { "__Host-session" } else { "session" };
        // A request waits for its lock at most as long as a token request and its retry.
        let lock_wait = self.config.http_timeout * 2 + Duration::from_secs(5);
        let (store, memory, locks, readiness): (Arc<dyn SessionStore>, _, _, _) = match &self.redis
        {
            None => {
                let memory = MemoryStore::new(self.config.max_sessions, session::is_anonymous)
                    .trimming(session::drop_wing_values);
                memory.spawn_purger(Duration::from_secs(60));
                let locks = SessionLocks::in_process(cookie_name, lock_wait);
                (
                    Arc::new(memory.clone()),
                    Some(memory),
                    locks,
                    Readiness::Memory,
                )
            }
            Some((pool, at_rest)) => {
                let store = SealedRedisStore::new(pool.clone(), at_rest.clone());
                let locks =
                    SessionLocks::redis(cookie_name, pool.clone(), lock_wait, at_rest.clone());
                (Arc::new(store), None, locks, Readiness::Redis(pool.clone()))
            }
        };
        // Back-channel logout's index: beside the records, so every instance sees it.
        let logout_index = match &self.redis {
            None => LogoutIndex::in_process(self.config.max_sessions),
            Some((pool, at_rest)) => LogoutIndex::redis(pool.clone(), at_rest.clone()),
        };
        let sessions = Sessions::new(store.clone(), locks.clone(), self.config.token_refresh_skew)
            .with_logout_index(logout_index);
        let settings = Settings {
            provider_name: ProviderName::new(self.provider.name.as_deref()),
            photos_api_url: self.provider.photos_api_url.clone(),
            app_origin: self.app_url.origin().ascii_serialization(),
            home_url: home_url(&self.app_url)?,
            pending_login_ttl: self.config.pending_login_ttl,
            session_idle: self.config.session_idle,
            revocation_timeout: self.config.revocation_timeout,
            inspector: self.config.flow_inspector.unwrap_or(false), // INSPECTOR
            wing_links: self.wing_links.clone().into(),
        };
        let state = AppState {
            oauth: Arc::new(oauth),
            http,
            sessions: sessions.clone(),
            settings: Arc::new(settings),
            signin_limit,
            readiness,
        };

        let exporter = self.metrics.as_ref().map(|m| m.exporter(memory.clone()));
        let on_app = self.metrics.as_ref().zip(exporter.as_ref());
        let image_origin = self.provider.photos_api_url.origin().ascii_serialization();
        // The logout form's POST ends with a redirect there (RP-initiated logout), which the
        // CSP's form-action must allow.
        let end_session_origin = self
            .provider
            .openid
            .as_ref()
            .and_then(|openid| openid.end_session_url.as_ref())
            .map(|url| url.origin().ascii_serialization());
        let middleware = web::Middleware {
            locks,
            sessions: session::layer(store, cookie_name, https, self.config.session_idle),
            setup: mw::setup_check::SetupCheck::new(&self.app_url),
            headers: SecurityHeaders::new(&image_origin, end_session_origin.as_deref(), https)?,
            metrics: on_app.and_then(|(metrics, exporter)| metrics.on_app_address(exporter)),
            wing_routes: self.wing_routes.clone(),
        };
        Ok((web::app(state, middleware), sessions, memory, exporter))
    }

    /// The app (the router inside its middleware), built without serving (in-process tests).
    pub fn build_app(&self) -> anyhow::Result<App> {
        Ok(self.build()?.0)
    }

    /// Serves until Ctrl-C or SIGTERM, letting in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (app, sessions, _store, exporter) = self.build()?;
        let stop = shutdown::signal();
        let listening = self.listener.local_addr()?;
        tracing::info!(
            url = %self.app_url,
            %listening,
            "{} is ready: open {}",
            env!("CARGO_PKG_NAME"),
            self.app_url
        );
        // With the peer address, for the per-client sign-in limit.
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let grace = self.config.shutdown_grace;
        let own = own_metrics_listener(self.metrics, exporter).map(tokio::spawn);
        let served = shutdown::serve(self.listener, service, stop, grace).await;
        if let Some(metrics) = own {
            metrics.abort();
        }
        served?;
        // A refresh whose visitor went away still saves what the provider answered.
        if !sessions.finish_refreshes(grace).await {
            tracing::warn!("stopped: a token refresh was still under way after the grace period");
        }
        Ok(())
    }

    /// Serves in a background task (tests).
    pub fn spawn(self) -> anyhow::Result<RunningApp> {
        let (app, _, sessions, exporter) = self.build()?;
        let url = self.app_url.clone();
        let metrics_url = match self.metrics_addr() {
            Some(addr) => Some(Url::parse(&format!("http://{addr}/metrics"))?),
            None => None,
        };
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let own = own_metrics_listener(self.metrics, exporter);
        let task = tokio::spawn(async move {
            let app = async {
                if let Err(err) = axum::serve(self.listener, service).await {
                    tracing::error!(error = %err, "server stopped");
                }
            };
            match own {
                Some(metrics) => {
                    tokio::join!(app, metrics);
                }
                None => app.await,
            }
        });
        Ok(RunningApp {
            url,
            sessions,
            metrics_url,
            task,
        })
    }
}

/// `/metrics` alone on the `METRICS_ADDR` listener, when there is one.
fn own_metrics_listener(
    metrics: Option<MetricsSetup>,
    exporter: Option<Exporter>,
) -> Option<impl Future<Output = ()> + Send + 'static> {
    metrics?.serve_alone(exporter?)
}

/// `APP_URL`, or `http://localhost:<port>` of the bound listener.
pub fn app_url(config: &Config, listener: &TcpListener) -> anyhow::Result<Url> {
    match &config.app_url {
        Some(url) => Ok(url.clone()),
        None => Ok(Url::parse(&format!(
            "http://localhost:{}/",
            listener.local_addr()?.port()
        ))?),
    }
}

/// The home page, `APP_URL` with its trailing slash: where an RP-initiated logout comes back
/// (its `post_logout_redirect_uri`, OIDC RP-Initiated Logout 1.0 §3), registered as such.
pub fn home_url(app_url: &Url) -> anyhow::Result<Url> {
    Ok(app_url.join("./")?)
}

/// The back-channel logout URI, `APP_URL/backchannel-logout` (OIDC Back-Channel Logout 1.0
/// §2.2): registered with the provider, which POSTs its logout tokens there.
pub fn backchannel_logout_uri(app_url: &Url) -> anyhow::Result<Url> {
    Ok(app_url.join("backchannel-logout")?)
}

/// The redirect URI: `APP_URL/cb`, exactly as registered at the provider (RFC 6749 §3.1.2).
/// Built from configuration, never from the request's Host header (RFC 9700 §4.13).
pub fn redirect_uri(app_url: &Url) -> anyhow::Result<Url> {
    Ok(app_url.join("cb")?)
}
