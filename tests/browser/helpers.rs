//! The apps under test, and small page helpers: waits with useful errors, screenshots.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use axum::{Router, response::Html, routing::get};
use fantoccini::{Client, Locator, elements::Element};
use photo_connect::{
    config::Config,
    demo::{
        self,
        provider::{DemoProvider, DemoSettings},
    },
};
use tokio::{net::TcpListener, task::JoinHandle};
use url::Url;

/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(10);

/// The app on `http://localhost:PORT/` and its demo provider on `http://127.0.0.1:PORT2`.
/// Different *sites*, as with a real provider: a site ignores the port, so the provider on
/// `localhost` would let a `SameSite=Strict` cookie through and hide the bug (docs/requirements.md C32).
pub struct TestApp {
    pub url: Url,
    pub provider: DemoProvider,
    server: JoinHandle<()>,
}

impl TestApp {
    /// The app's URL for `path`.
    pub fn at(&self, path: &str) -> String {
        self.url.join(path).map(String::from).unwrap_or_default()
    }

    /// The app started exactly as `main` starts it.
    pub async fn spawn() -> anyhow::Result<Self> {
        let (app, provider) = demo::bind(Config::for_tests(), DemoSettings::for_tests()).await?;
        let running = app.spawn()?;
        Self::checked(running.url, provider, running.task)
    }

    /// The app's own router served on our listener, with `layer` applied to every response
    /// (the negative controls change what the app sends, nothing else).
    pub async fn spawn_with(layer: impl FnOnce(Router) -> Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let mut config = Config::for_tests();
        config.app_url = Some(Url::parse(&format!("http://localhost:{port}/"))?);
        // `bind` takes a port of its own that stays unused: the app is served on `listener`.
        let (app, provider) = demo::bind(config, DemoSettings::for_tests()).await?;
        let (router, _sessions) = app.build_router()?;
        let router = layer(router);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self::checked(app.app_url().clone(), provider, server)
    }

    fn checked(url: Url, provider: DemoProvider, server: JoinHandle<()>) -> anyhow::Result<Self> {
        let provider_host = Url::parse(&provider.issuer)?.host_str().map(str::to_owned);
        ensure!(
            url.host_str() == Some("localhost") && provider_host.as_deref() == Some("127.0.0.1"),
            "app ({url}) and provider ({}) must be on different sites",
            provider.issuer
        );
        Ok(Self {
            url,
            provider,
            server,
        })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.provider.task.abort();
    }
}

/// Serves one fixed HTML page at `http://localhost:PORT/`, a third origin for framing tests.
pub async fn serve_page(html: String) -> anyhow::Result<(Url, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = Url::parse(&format!(
        "http://localhost:{}/",
        listener.local_addr()?.port()
    ))?;
    let router = Router::new().route("/", get(move || async move { Html(html) }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, task))
}

/// Waits until `css` matches an element.
pub async fn find(c: &Client, css: &str) -> anyhow::Result<Element> {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(element) => Ok(element),
        Err(err) => Err(err).context(format!("no {css} on {}", describe(c).await)),
    }
}

/// Waits until the element `css` has exactly the text `expected`.
pub async fn wait_for_text(c: &Client, css: &str, expected: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = match c.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.ok(),
            Err(_) => None,
        };
        if seen.as_deref().map(str::trim) == Some(expected) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "expected {css} to read {expected:?}, saw {seen:?} on {}",
                describe(c).await
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the element `css` once it is there.
pub async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    find(c, css)
        .await?
        .click()
        .await
        .with_context(|| format!("cannot click {css}"))
}

/// The current URL without its query (it may hold a code or state), and the page's heading.
pub async fn describe(c: &Client) -> String {
    let url = match c.current_url().await {
        Ok(mut url) => {
            url.set_query(None);
            url.to_string()
        }
        Err(err) => format!("<no url: {err}>"),
    };
    let mut seen = String::new();
    // The heading, and the reason on the provider's error page.
    for css in ["h1", "#reason"] {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            let text = element.text().await.unwrap_or_default();
            seen.push_str(&format!(", {css}: {text:?}"));
        }
    }
    format!("{url}{seen}")
}

/// The current URL's host and path.
pub async fn location(c: &Client) -> anyhow::Result<(String, String)> {
    let url = c.current_url().await?;
    Ok((
        url.host_str().unwrap_or_default().to_owned(),
        url.path().to_owned(),
    ))
}

/// Runs `script` (a function body) and deserializes what it returns.
pub async fn eval<T: serde::de::DeserializeOwned>(c: &Client, script: &str) -> anyhow::Result<T> {
    let value = c.execute(script, Vec::new()).await?;
    serde_json::from_value(value.clone()).with_context(|| format!("unexpected result {value}"))
}

/// Saves the whole page, top to bottom, as `<name>.png` in `SCREENSHOT_DIR` (default
/// `target/screenshots/`). The window grows to the page's height for the shot, then shrinks back.
pub async fn screenshot(c: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let (width, height) = c.get_window_size().await?;
    let (viewport, page): (u64, u64) = eval(
        c,
        "window.scrollTo(0, 0); return [window.innerHeight, document.documentElement.scrollHeight];",
    )
    .await?;
    let full = height + page.saturating_sub(viewport).min(2000);
    if full != height {
        c.set_window_size(width as u32, full as u32).await?;
    }
    let png = c.screenshot().await;
    if full != height {
        c.set_window_size(width as u32, height as u32).await?;
    }
    let png = png?;
    ensure!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a screenshot is a PNG"
    );
    let dir = std::env::var_os("SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots"));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}
