//! The composition root: bind the listener first (so the real port is known), then build the
//! OAuth client, the session layer and the router, and serve with graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use axum::{Router, extract::Request, middleware, response::IntoResponse};
use oauth2::RedirectUrl;
use tokio::{net::TcpListener, task::JoinHandle};
use tower_http::{
    catch_panic::CatchPanicLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use url::Url;

use crate::{
    config::{self, Config, ProviderConfig},
    discovery,
    error::AppError,
    http_client::HttpClient,
    oauth::OAuth,
    routes::{self, SecurityHeaders},
    session::SessionLocks,
    session_store::{DEFAULT_MAX_SESSIONS, MemoryStore},
    state::AppState,
};

/// A bound, not yet serving, application.
pub struct Application {
    listener: TcpListener,
    config: Config,
    app_url: Url,
}

/// A running application (tests): its URL, its session store, and the server task.
pub struct RunningApp {
    pub url: Url,
    pub sessions: MemoryStore,
    pub task: JoinHandle<()>,
}

impl Application {
    /// Binds `LISTEN_ADDR`. The app URL is `APP_URL`, or `http://localhost:<bound port>`.
    /// With `OAUTH_ISSUER` alone, the provider is discovered here (RFC 8414), so a provider with
    /// bad metadata stops the app at startup rather than failing sign-ins later.
    pub async fn bind(mut config: Config) -> anyhow::Result<Self> {
        if let (None, Some(discovery)) = (&config.provider, &config.discovery) {
            let http = HttpClient::new(config.http_timeout)?;
            let provider = discovery::discover(&http, discovery)
                .await
                .context("could not discover the provider from OAUTH_ISSUER")?;
            tracing::info!(issuer = %discovery.issuer, "provider discovered");
            config.provider = Some(provider);
        }
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("cannot listen on LISTEN_ADDR={}", config.listen_addr))?;
        let port = listener.local_addr()?.port();
        let app_url = match &config.app_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://localhost:{port}/"))?,
        };
        Ok(Self {
            listener,
            config,
            app_url,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The demo provider fills in the provider and the client secret before the app starts.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    pub fn app_url(&self) -> &Url {
        &self.app_url
    }

    /// The redirect URI: `APP_URL/cb`, exactly as registered at the provider (RFC 6749 §3.1.2).
    /// Built from configuration, never from the request's Host header (RFC 9700 §4.13).
    pub fn redirect_uri(&self) -> anyhow::Result<Url> {
        Ok(self.app_url.join("cb")?)
    }

    /// Builds everything and returns the router and its session store, without serving.
    pub fn build_router(&self) -> anyhow::Result<(Router, MemoryStore)> {
        let Some(provider) = self.config.provider.clone() else {
            bail!("no provider configured: set OAUTH_AUTH_URL, OAUTH_TOKEN_URL and PHOTOS_API_URL");
        };
        require_https(&self.app_url, &provider)?;
        let http = HttpClient::new(self.config.http_timeout)?;
        let redirect_uri = RedirectUrl::from_url(self.redirect_uri()?);
        let oauth = OAuth::new(&self.config, &provider, redirect_uri, http.clone())?;
        let https = self.app_url.scheme() == "https";
        let state = AppState {
            oauth: Arc::new(oauth),
            http,
            app_origin: self.app_url.origin().ascii_serialization().into(),
            pending_login_ttl: self.config.pending_login_ttl,
            session_idle: self.config.session_idle,
            token_refresh_skew: self.config.token_refresh_skew,
            provider: Arc::new(provider.clone()),
        };

        // `__Host-` pins the cookie to this host and path when served over https.
        let cookie_name = if https { "__Host-session" } else { "session" };
        let store = MemoryStore::new(DEFAULT_MAX_SESSIONS);
        store.spawn_purger(Duration::from_secs(60));
        let sessions = SessionManagerLayer::new(store.clone())
            .with_name(cookie_name)
            // Lax, not tower-sessions' default Strict: the return from the provider to /cb is a
            // cross-site navigation, and a Strict cookie would not be sent with it, so every
            // real sign-in would fail its state check. Lax still withholds it from cross-site
            // POSTs and subresources.
            .with_same_site(SameSite::Lax)
            .with_secure(https)
            .with_http_only(true)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
                self.config.session_idle.as_secs() as i64,
            )));

        let headers = SecurityHeaders::new(
            &provider.photos_api_url.origin().ascii_serialization(),
            https,
        )?;
        let router = routes::router(state)
            .layer(sessions)
            // Outside the session layer, so each request's final save happens under the lock.
            .layer(middleware::from_fn_with_state(
                SessionLocks::new(cookie_name),
                SessionLocks::serialize,
            ))
            // A bug that panics in a handler becomes the 500 page, not a dropped connection.
            .layer(CatchPanicLayer::custom(
                |_: Box<dyn std::any::Any + Send>| {
                    AppError::Internal(anyhow::anyhow!("a request handler panicked"))
                        .into_response()
                },
            ))
            .layer(middleware::from_fn_with_state(
                headers,
                SecurityHeaders::apply,
            ))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(http_span)
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            );
        Ok((router, store))
    }

    /// Serves until Ctrl-C or SIGTERM, letting in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (router, _store) = self.build_router()?;
        tracing::info!(url = %self.app_url, "photo-connect is ready: open {}", self.app_url);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }

    /// Serves in a background task (tests).
    pub fn spawn(self) -> anyhow::Result<RunningApp> {
        let (router, sessions) = self.build_router()?;
        let url = self.app_url.clone();
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(self.listener, router).await {
                tracing::error!(error = %err, "server stopped");
            }
        });
        Ok(RunningApp {
            url,
            sessions,
            task,
        })
    }
}

/// The request span: method and *path* only. tower-http's default records the full URI, which
/// on `/cb` includes the code and state (RFC 6749 §10.3: keep them out of logs).
fn http_span(request: &Request) -> tracing::Span {
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
}

/// Provider endpoints must be https: the client secret, codes and tokens cross them (RFC 6749
/// §3.2, §10.9; RFC 6750 §5.3; OAuth 2.1 §1.5). Plain http is accepted on loopback only, for the
/// demo provider and local experiments. A plain-http `APP_URL` off loopback gets a warning.
fn require_https(app_url: &Url, provider: &ProviderConfig) -> anyhow::Result<()> {
    let mut endpoints = vec![
        ("OAUTH_AUTH_URL", provider.auth_url.url()),
        ("OAUTH_TOKEN_URL", provider.token_url.url()),
        ("PHOTOS_API_URL", &provider.photos_api_url),
    ];
    if let Some(revocation) = &provider.revocation_url {
        endpoints.push(("OAUTH_REVOCATION_URL", revocation.url()));
    }
    for (name, url) in endpoints {
        if url.scheme() != "https" && !config::is_loopback(url) {
            bail!("{name}={url} must use https (only loopback addresses may use plain http)");
        }
    }
    if app_url.scheme() != "https" && !config::is_loopback(app_url) {
        tracing::warn!("APP_URL is not https: the session cookie travels in clear text");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::{AuthUrl, TokenUrl};

    fn provider(base: &str) -> ProviderConfig {
        ProviderConfig {
            name: "p".into(),
            auth_url: AuthUrl::new(format!("{base}/authorize")).expect("url"),
            token_url: TokenUrl::new(format!("{base}/token")).expect("url"),
            photos_api_url: Url::parse(&format!("{base}/photos")).expect("url"),
            revocation_url: None,
            issuer: None,
            require_iss: false,
        }
    }

    #[test]
    fn provider_endpoints_must_be_https_except_on_loopback() {
        let app = Url::parse("http://localhost:3000/").expect("url");
        for ok in [
            "https://as.example",
            "http://127.0.0.1:3001",
            "http://127.8.0.1",
            "http://localhost:9",
            "http://[::1]:3001",
        ] {
            assert!(require_https(&app, &provider(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://as.example",
            "http://10.0.0.1",
            "http://localhost.evil.example",
        ] {
            let err = require_https(&app, &provider(bad)).expect_err(bad);
            assert!(err.to_string().contains("OAUTH_AUTH_URL"), "{err}");
        }
    }
}
