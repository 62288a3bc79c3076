//! The apps under test, and small page helpers: waits with useful errors, screenshots.

use std::{
    net::SocketAddr,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use axum::{Router, http::StatusCode, response::Html, routing::get};
use fantoccini::{
    Client, Locator,
    actions::{InputSource, MouseActions, PointerAction},
    elements::Element,
};
use oauth2::ClientSecret;
use photo_connect::{
    Application,
    config::{Config, Discovery, ProviderSource},
    demo::{
        self,
        provider::{self, DemoProvider, DemoSettings, RegisteredClient, Secret},
    },
};
use tokio::{net::TcpListener, task::JoinHandle};
use url::Url;

/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(10);

/// The window the tests start with, and a phone's (an iPhone 12–15's CSS viewport), in CSS px.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (390, 844);

/// The app's default address (`LISTEN_ADDR` 127.0.0.1:3000, so `APP_URL` http://localhost:3000):
/// what someone who has just cloned the repository sees, and what the README screenshots show.
const DEFAULT_PORT: u16 = 3000;

/// The app on `http://localhost:PORT/` and its demo provider on `http://127.0.0.1:PORT2`.
/// Different *sites*, as with a real provider: a site ignores the port, so the provider on
/// `localhost` would let a `SameSite=Strict` cookie through and hide the bug (docs/requirements.md C32).
pub struct TestApp {
    pub url: Url,
    pub provider: DemoProvider,
    server: JoinHandle<()>,
    /// Other servers the app talks to (a failing photos API), stopped with it.
    others: Vec<JoinHandle<()>>,
}

impl TestApp {
    /// The app's URL for `path`.
    pub fn at(&self, path: &str) -> String {
        self.url.join(path).map(String::from).unwrap_or_default()
    }

    /// The app's URL for `path` with `127.0.0.1` for `localhost`: the same server, at an address
    /// other than `APP_URL` (the home page then shows its `#setup-warning` banner).
    pub fn at_loopback_ip(&self, path: &str) -> anyhow::Result<String> {
        let mut url = self.url.join(path)?;
        url.set_host(Some("127.0.0.1"))?;
        Ok(url.into())
    }

    /// The app on its default address, `http://localhost:3000/`, so that pages printing the
    /// app's address (the consent page's "You will be sent back to …") show no test port. When
    /// port 3000 is taken (the app running in a terminal, say) it falls back to a free port and
    /// says so on stderr; the flag is `true` on the default port.
    pub async fn spawn_on_default_port() -> anyhow::Result<(Self, bool)> {
        let mut config = Config::for_tests();
        config.listen.addr = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT));
        match demo::bind(config, DemoSettings::for_tests()).await {
            Ok((app, provider)) => {
                let running = app.spawn()?;
                Ok((Self::checked(running.url, provider, running.task)?, true))
            }
            Err(err) => {
                use std::io::Write;
                // Straight to stderr: libtest would swallow `eprintln!` of a passing test.
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTE: port {DEFAULT_PORT} is busy ({err:#}); these screenshots show a random port"
                );
                Ok((Self::spawn().await?, false))
            }
        }
    }

    /// The app and its demo provider as usual, but with a photos API that answers every request
    /// with 503: signing in works, and `/photos` then shows the "try again" (transient) page.
    pub async fn spawn_with_failing_photos_api() -> anyhow::Result<Self> {
        let api = TcpListener::bind("127.0.0.1:0").await?;
        let api_url = Url::parse(&format!(
            "http://127.0.0.1:{}/api/photos",
            api.local_addr()?.port()
        ))?;
        let failing = Router::new().fallback(|| async { StatusCode::SERVICE_UNAVAILABLE });
        let api_task = tokio::spawn(async move {
            let _ = axum::serve(api, failing).await;
        });

        // What `demo::bind` does, with the photos API pointed elsewhere.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let app_url = Url::parse(&format!(
            "http://localhost:{}/",
            listener.local_addr()?.port()
        ))?;
        let config = Config::for_tests();
        let secret = format!("browser-test-secret-{}", std::process::id());
        let mut settings = DemoSettings::for_tests();
        settings.clients.push(RegisteredClient {
            client_id: config.client_id.to_string(),
            client_secret: Secret::new(secret.clone()),
            redirect_uris: vec![app_url.join("cb")?.to_string()],
            name: "photo-connect".into(),
            require_par: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            jwks: None,
        });
        let provider = provider::spawn(settings).await?;
        let config = Config {
            app_url: Some(app_url),
            client_secret: Some(ClientSecret::new(secret)),
            provider: ProviderSource::Discover(Discovery {
                issuer: provider.issuer.clone(),
                photos_api_url: api_url,
                name: Some(provider::DISPLAY_NAME.into()),
                token_url: None,
                revocation_url: None,
                par_url: None,
                allow_unadvertised_pkce: false,
            }),
            ..config
        };
        let running = Application::with_listener(config, listener)
            .await?
            .spawn()?;
        let mut app = Self::checked(running.url, provider, running.task)?;
        app.others.push(api_task);
        Ok(app)
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
        let service = app.build_app()?;
        let router = layer(Router::new().fallback_service(service));
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
            others: Vec::new(),
        })
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.provider.task.abort();
        for task in &self.others {
            task.abort();
        }
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

/// Makes the page's viewport `width`×`height` CSS px (the window may be larger than its page:
/// headless Chromium keeps room for a window frame).
pub async fn set_viewport(c: &Client, (width, height): (u32, u32)) -> anyhow::Result<()> {
    c.set_window_size(width, height).await?;
    let (inner_width, inner_height): (u32, u32) =
        eval(c, "return [window.innerWidth, window.innerHeight];").await?;
    if (inner_width, inner_height) != (width, height) {
        let outer = |want: u32, seen: u32| (2 * i64::from(want) - i64::from(seen)).max(1);
        c.set_window_size(
            u32::try_from(outer(width, inner_width))?,
            u32::try_from(outer(height, inner_height))?,
        )
        .await?;
    }
    Ok(())
}

/// Moves the mouse to the page's top-left corner and takes focus away, so that a screenshot
/// shows no hover or focus state left over from the last click.
pub async fn calm(c: &Client) -> anyhow::Result<()> {
    let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    c.perform_actions(mouse).await?;
    c.execute(
        "document.activeElement && document.activeElement.blur();",
        vec![],
    )
    .await?;
    Ok(())
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
    save(name, png?)
}

/// Saves what fits in the viewport (a phone's screen, say), from the top, as `<name>.png`.
pub async fn screenshot_screen(c: &Client, name: &str) -> anyhow::Result<PathBuf> {
    c.execute("window.scrollTo(0, 0);", vec![]).await?;
    save(name, c.screenshot().await?)
}

fn save(name: &str, png: Vec<u8>) -> anyhow::Result<PathBuf> {
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
