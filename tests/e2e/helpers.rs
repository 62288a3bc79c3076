//! Test helpers: spawn the app with its demo provider, and walk the flow hop by hop.

use std::sync::Arc;

use oauth2::ClientSecret;
use photo_connect::{
    MemoryStore,
    config::Config,
    demo::{
        self,
        provider::{DemoProvider, DemoSettings},
    },
};
use reqwest::{
    StatusCode,
    cookie::{CookieStore, Jar},
    header,
};
use url::Url;

pub use crate::support::*;

/// The client secret the tests register, so they can look for it in logs.
pub const CLIENT_SECRET: &str = "test-client-secret-4f1d2b";

/// A running app, its demo provider, and a "browser" (cookie jar, no automatic redirects).
pub struct TestApp {
    pub url: Url,
    pub provider: DemoProvider,
    pub sessions: MemoryStore,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    /// `http://<METRICS_ADDR>/metrics` when metrics have a listener of their own.
    pub metrics_url: Option<Url>,
}

/// Starts app + provider with test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Config::for_tests(), DemoSettings::for_tests()).await
}

/// Starts app + provider with the given settings.
pub async fn spawn_app_with(mut config: Config, settings: DemoSettings) -> TestApp {
    config.client_secret = Some(ClientSecret::new(CLIENT_SECRET.into()));
    spawn_app_as_configured(config, settings).await
}

/// Starts app + provider with `config` as it is (no test secret added).
pub async fn spawn_app_as_configured(config: Config, settings: DemoSettings) -> TestApp {
    init_log_capture();
    let (app, provider) = demo::bind(config, settings)
        .await
        .expect("app and demo provider");
    let running = app.spawn().expect("app starts");
    let jar = Arc::new(Jar::default());
    TestApp {
        url: running.url,
        provider,
        sessions: running.sessions.expect("the memory store"),
        client: browser(jar.clone()),
        jar,
        metrics_url: running.metrics_url,
    }
}

impl TestApp {
    pub fn at(&self, path: &str) -> Url {
        self.url.join(path).expect("url")
    }

    /// GET `path` on the app; returns status, headers and body.
    pub async fn get(&self, path: &str) -> (StatusCode, header::HeaderMap, String) {
        fetch(&self.client, self.at(path)).await
    }

    /// Loads the home page and returns the Connect link's authorize URL.
    pub async fn start_login(&self) -> Url {
        let (status, _, body) = self.get("/").await;
        assert_eq!(status, StatusCode::OK);
        connect_url(&body)
    }

    /// Opens the authorize URL at the provider and returns the consent page's transaction id.
    pub async fn open_consent(&self, authorize: &Url) -> String {
        let (status, _, body) = fetch(&self.client, authorize.clone()).await;
        assert_eq!(status, StatusCode::OK, "consent page: {body}");
        attribute_after(&body, r#"name="transaction" value=""#).expect("transaction field")
    }

    /// Answers the consent page; returns the provider's redirect back to the app (`/cb?…`).
    pub async fn answer_consent(&self, transaction: &str, user: &str, decision: &str) -> Url {
        let response = self
            .client
            .post(format!("{}/oauth/authorize", self.provider.issuer))
            .form(&[
                ("transaction", transaction),
                ("user", user),
                ("decision", decision),
            ])
            .send()
            .await
            .expect("consent answer");
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "the provider answers with 303"
        );
        location(response.headers())
    }

    /// Walks home → authorize → approve as `user` and returns the callback URL (not yet visited).
    pub async fn callback_for(&self, user: &str) -> Url {
        let authorize = self.start_login().await;
        let transaction = self.open_consent(&authorize).await;
        self.answer_consent(&transaction, user, "approve").await
    }

    /// The whole flow, ending on the photos page; returns its HTML.
    pub async fn login_as(&self, user: &str) -> String {
        let callback = self.callback_for(user).await;
        let (status, headers, _) = fetch(&self.client, callback).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location(&headers).path(), "/photos");
        let (status, _, body) = self.get("/photos").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Logs out with the logout form's token from `page` (a photos or connected home page).
    pub async fn logout_from(&self, page: &str) -> reqwest::Response {
        let token = attribute_after(page, r#"name="csrf_token" value=""#).expect("csrf field");
        self.client
            .post(self.at("/logout"))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .expect("logout")
    }

    /// How many token requests the provider has received.
    pub fn token_requests(&self) -> usize {
        self.provider.state.token_requests().len()
    }

    /// The app's session cookie value, if the jar has one.
    pub fn session_cookie(&self) -> Option<String> {
        let header = self.jar.cookies(&self.url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("session="))
            .map(str::to_owned)
    }

    /// Whether the visitor is connected: `/photos` renders instead of redirecting home.
    pub async fn is_connected(&self) -> bool {
        self.get("/photos").await.0 == StatusCode::OK
    }
}
