//! The processes under test, started as separate programs from one directory of release
//! binaries: the demo provider, photo-connect pointed at it by discovery, and the bare client,
//! with photo-connect and the bare client registered as one client with two redirect URIs.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

pub const PROVIDER_ADDR: &str = "127.0.0.1:3001";
pub const ISSUER: &str = "http://127.0.0.1:3001";
pub const APP_ADDR: &str = "127.0.0.1:3000";
pub const APP_URL: &str = "http://localhost:3000";
pub const BARE_ADDR: &str = "127.0.0.1:3100";
pub const BARE_URL: &str = "http://localhost:3100";
pub const CLIENT_ID: &str = "photo-connect";

/// Which client to start.
#[derive(Clone, Debug)]
pub enum Client {
    Bare,
    /// photo-connect with `RUST_LOG` set to this (`None`: its default filter).
    App {
        rust_log: Option<String>,
    },
}

impl Client {
    pub fn name(&self) -> String {
        match self {
            Client::Bare => "bare".into(),
            Client::App { rust_log: None } => "photo-connect (default log)".into(),
            Client::App { rust_log: Some(l) } => format!("photo-connect (RUST_LOG={l})"),
        }
    }

    pub fn url(&self) -> &'static str {
        match self {
            Client::Bare => BARE_URL,
            Client::App { .. } => APP_URL,
        }
    }
}

/// A started process, killed when dropped.
pub struct Running {
    pub child: Child,
    pub pid: u32,
}

/// Starts programs from `bin_dir`, logging into `out_dir`.
pub struct Stack {
    pub bin_dir: PathBuf,
    pub out_dir: PathBuf,
    pub secret: String,
}

impl Stack {
    pub fn new(bin_dir: PathBuf, out_dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("cannot create {}", out_dir.display()))?;
        // Absolute: the processes run in `out_dir`.
        let out_dir = out_dir.canonicalize()?;
        let bin_dir = bin_dir
            .canonicalize()
            .with_context(|| format!("no directory {}", bin_dir.display()))?;
        for name in ["demo-provider", "photo-connect", "bare-client"] {
            let path = bin_dir.join(name);
            if !path.is_file() {
                bail!(
                    "{} is missing: build with cargo build --release -p photo-connect -p demo-provider -p loadgen",
                    path.display()
                );
            }
        }
        let secret = random_secret();
        Ok(Self {
            bin_dir,
            out_dir,
            secret,
        })
    }

    pub async fn provider(&self) -> anyhow::Result<Running> {
        let mut command = self.command("demo-provider", "provider")?;
        command
            .env("DEMO_PROVIDER_ADDR", PROVIDER_ADDR)
            .env("DEMO_CLIENT_ID", CLIENT_ID)
            .env("DEMO_CLIENT_SECRET", &self.secret)
            .env("DEMO_CLIENT_NAME", "photo-connect")
            .env("DEMO_REDIRECT_URIS", format!("{APP_URL}/cb {BARE_URL}/cb"))
            .env("RUST_LOG", "warn");
        start(command, PROVIDER_ADDR).await
    }

    pub async fn client(&self, which: &Client) -> anyhow::Result<Running> {
        let (program, addr, url) = match which {
            Client::Bare => ("bare-client", BARE_ADDR, BARE_URL),
            Client::App { .. } => ("photo-connect", APP_ADDR, APP_URL),
        };
        let log = match which {
            Client::Bare => "bare".to_owned(),
            Client::App { rust_log } => format!("app-{}", rust_log.as_deref().unwrap_or("default")),
        };
        let mut command = self.command(program, &log)?;
        command
            .env("LISTEN_ADDR", addr)
            .env("APP_URL", url)
            .env("OAUTH_CLIENT_ID", CLIENT_ID)
            .env("OAUTH_CLIENT_SECRET", &self.secret)
            .env("OAUTH_ISSUER", ISSUER)
            .env("PHOTOS_API_URL", format!("{ISSUER}/api/photos"))
            .env("PROVIDER_NAME", "Demo Photos")
            // One source address for every virtual user: the per-client sign-in limit off.
            .env("SIGNIN_RATE_PER_MINUTE", "0");
        if let Client::App {
            rust_log: Some(filter),
        } = which
        {
            command.env("RUST_LOG", filter);
        }
        start(command, addr).await
    }

    /// `program` from `bin_dir`, in `out_dir` (so no `.env` is read), stdout and stderr to
    /// `out_dir/<log>.log`, with no inherited `RUST_LOG` or proxy.
    fn command(&self, program: &str, log: &str) -> anyhow::Result<Command> {
        let file = std::fs::File::create(self.out_dir.join(format!("{log}.log")))?;
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .current_dir(&self.out_dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true);
        for name in [
            "RUST_LOG",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            command.env_remove(name);
        }
        Ok(command)
    }
}

/// Spawns `command` and waits until `addr` accepts connections.
async fn start(mut command: Command, addr: &str) -> anyhow::Result<Running> {
    let addr: SocketAddr = addr.parse()?;
    if TcpListener::bind(addr).is_err() {
        bail!("{addr} is already in use: stop what listens there first");
    }
    let mut child = command.spawn().context("cannot start a process")?;
    let pid = child.id().context("the process has no id")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("the process for {addr} exited at startup ({status}); see its log");
        }
        if Instant::now() > deadline {
            bail!("nothing listens on {addr} after 20 s; see its log");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Running { child, pid })
}

impl Running {
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A fresh client secret (letters and digits: no Basic-auth encoding questions).
fn random_secret() -> String {
    (0..2)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

/// The directory of this executable: where cargo put its sibling binaries.
pub fn default_bin_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.parent().map(Path::to_path_buf).unwrap_or_default())
}
