//! Headless Chromium through chromedriver (WebDriver), one browser per test.
//!
//! Each test gets its own chromedriver on a free port and a fresh Chromium profile under
//! `CARGO_TARGET_TMPDIR`. The driver is killed (by its own pid) when the guard drops, and
//! [`with_browser`] always ends the WebDriver session first, so Chromium exits even when the test
//! panics. `CHROMEDRIVER` / `CHROMIUM` override the binaries. When either is missing, tests print
//! `SKIPPED: …` and pass, except on CI (`CI=true`), where a missing browser is a failure.

use std::{
    future::Future,
    io::Write,
    net::{Ipv4Addr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// The whole test, browser start included, must finish within this.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `test` with a fresh browser, then closes the browser whatever happened, then reports.
/// Prints `SKIPPED: …` and returns when no browser is installed (panics instead when `CI=true`).
pub async fn with_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    run(&[], test).await;
}

/// [`with_browser`], with the page preferring a dark colour scheme.
pub async fn with_dark_browser<F, Fut>(test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    run(&["--force-dark-mode"], test).await;
}

/// [`with_browser`], Chromium started with `extra_args` too (`tests/deploy` adds
/// `--ignore-certificate-errors` for its throwaway certificate).
pub async fn run<F, Fut>(extra_args: &[&str], test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let binaries = match Binaries::find() {
        Ok(binaries) => binaries,
        Err(why) => return skip(&why),
    };
    let browser = Browser::launch(&binaries, extra_args)
        .await
        .expect("chromedriver and Chromium should start");
    // The body runs in its own task so that a panic in it still lets us end the session below
    // (ending it is what makes chromedriver shut Chromium down).
    let body = tokio::spawn(tokio::time::timeout(
        TEST_TIMEOUT,
        test(browser.client.clone()),
    ));
    let outcome = body.await;
    let log = browser.profile.log_file();
    browser.close().await;
    match outcome {
        // chromedriver's log is kept only when something went wrong.
        Ok(Ok(Ok(()))) => {
            let _ = std::fs::remove_file(log);
        }
        Ok(Ok(Err(err))) => panic!("{err:?}\n(chromedriver log: {})", log.display()),
        Ok(Err(_)) => panic!(
            "the test did not finish within {TEST_TIMEOUT:?} (chromedriver log: {})",
            log.display()
        ),
        Err(join) => {
            eprintln!("chromedriver log: {}", log.display());
            std::panic::resume_unwind(join.into_panic())
        }
    }
}

/// Skips the test, loudly. On CI a missing browser must fail the build instead.
fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the browser tests cannot run: {why}");
    }
    // Straight to stderr: libtest captures `eprintln!` of passing tests, so nobody would see it.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Where chromedriver and Chromium live.
struct Binaries {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

impl Binaries {
    fn find() -> Result<Self, String> {
        let chromedriver = locate("CHROMEDRIVER", &["chromedriver"])?;
        let chromium = locate(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome", "chrome"],
        )?;
        Ok(Self {
            chromedriver,
            chromium,
        })
    }
}

/// `$var` if set (it must exist), otherwise the first of `names` on `PATH`.
fn locate(var: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{var}={} does not exist", path.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!(
        "no {} on PATH and {var} is not set (Debian: apt-get install chromium chromium-driver)",
        names[0]
    ))
}

/// A WebDriver session in a headless Chromium, with the chromedriver and profile it owns.
struct Browser {
    client: Client,
    // Dropped after `client` is closed: first the driver is killed, then the profile removed.
    _driver: Driver,
    profile: Profile,
}

impl Browser {
    async fn launch(binaries: &Binaries, extra_args: &[&str]) -> anyhow::Result<Self> {
        let profile = Profile::create()?;
        let driver = Driver::spawn(&binaries.chromedriver, &profile.log_file())?;
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
        ]
        .map(String::from)
        .into();
        args.extend(extra_args.iter().map(|a| a.to_string()));
        args.push(format!("--user-data-dir={}", profile.dir.display()));
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "args": args, "binary": binaries.chromium },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            bail!("capabilities are a JSON object");
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .with_context(|| {
                format!(
                    "no WebDriver session (chromedriver log: {})",
                    profile.log_file().display()
                )
            })?;
        Ok(Self {
            client,
            _driver: driver,
            profile,
        })
    }

    /// Ends the session: chromedriver then closes Chromium.
    async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }
}

/// A chromedriver process on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn spawn(binary: &Path, log: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(log)?;
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        // Ready when its port accepts connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = driver.child.try_wait()? {
                bail!("chromedriver exited with {status} before listening on port {port}");
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(driver)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, empty Chromium profile directory, removed on drop.
struct Profile {
    dir: PathBuf,
}

impl Profile {
    fn create() -> anyhow::Result<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("browser-profiles")
            .join(format!(
                "{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self { dir })
    }

    /// chromedriver's output, next to (not inside) the profile.
    fn log_file(&self) -> PathBuf {
        self.dir.with_extension("chromedriver.log")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now (the OS picks it; chromedriver binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
