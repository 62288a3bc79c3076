//! The photo-connect binary run as a child process against the test's Redis and demo provider,
//! so that a test can kill it (`SIGKILL`) or stop it (`SIGTERM`) as an operator or a crash
//! would, and read what it logged.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use url::Url;

use crate::{Cluster, SECRET, Serves, redis::RedisServer};

/// `SESSION_KEY` for every child: the same in all of them, so they read each other's records
/// (the Redis store requires one; a fixed test value, never a real key).
const SESSION_KEY: &str = "5e55104b3e7c0a1f9d2c6b8a7e4f3d2c1b0a99887766554433221100ffeeddcc";

/// One running `photo-connect` process.
pub struct AppProcess {
    url: Url,
    child: Child,
    /// Every line it wrote to stderr so far.
    logs: Arc<Mutex<Vec<String>>>,
}

impl Serves for AppProcess {
    fn base(&self) -> &Url {
        &self.url
    }
}

impl AppProcess {
    /// Starts the binary on `port` with the cluster's `APP_URL`, its demo provider (by
    /// discovery) and `redis`, plus `extra` variables, and waits until it is ready (without
    /// blocking the test's runtime: the demo provider in it answers the discovery).
    pub async fn start(
        cluster: &Cluster,
        redis: &RedisServer,
        port: u16,
        extra: &[(&str, &str)],
    ) -> Self {
        let issuer = cluster.provider.issuer.clone();
        let mut child = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
            // No `.env` of the checkout may change what the test set.
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs([
                ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
                ("APP_URL", cluster.app_url.to_string()),
                ("SESSION_STORE", redis.url()),
                ("SESSION_KEY", SESSION_KEY.into()),
                ("OAUTH_ISSUER", issuer.clone()),
                ("PHOTOS_API_URL", format!("{issuer}/api/photos")),
                ("OAUTH_CLIENT_ID", "photo-connect".into()),
                ("OAUTH_CLIENT_SECRET", SECRET.into()),
                ("HTTP_TIMEOUT_SECS", "3".into()),
                ("RUST_LOG", "photo_connect=info,warn".into()),
                ("LOG_FORMAT", "text".into()),
            ])
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let lines = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("is ready: open") {
                    let _ = ready_tx.send(());
                }
                lines.lock().expect("logs").push(line);
            }
        });
        let process = Self {
            url: Url::parse(&format!("http://localhost:{port}/")).expect("url"),
            child,
            logs,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while ready.try_recv().is_err() {
            assert!(
                Instant::now() < deadline,
                "the instance did not start: {}",
                process.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        process
    }

    /// Sends `signal` (`-KILL`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Its exit status, waiting at most `within`; `None` if it still runs.
    pub async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What it logged so far, one line each.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").join("\n")
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, then let go) for a child to listen on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
