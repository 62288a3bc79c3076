//! The package's binary run as a child process (include with
//! `#[path = "../support/app_process.rs"]`): started with the test's environment only, so that
//! a test can stop it (`SIGTERM`) or kill it (`SIGKILL`) as an operator or a crash would, start
//! it again on the same port, and read what it logged.
#![allow(dead_code)] // each test binary uses a different subset

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use url::Url;

/// `SESSION_KEY` for every child: the same in all of them, so they read each other's records
/// (the Redis store requires one; a fixed test value, never a real key).
pub const SESSION_KEY: &str = "5e55104b3e7c0a1f9d2c6b8a7e4f3d2c1b0a99887766554433221100ffeeddcc";

/// One running `photo-connect` process.
pub struct AppProcess {
    pub url: Url,
    child: Child,
    /// Every line it wrote to stderr so far.
    logs: Arc<Mutex<Vec<String>>>,
}

impl AppProcess {
    /// Starts the binary listening on `127.0.0.1:port` with text logs at INFO, then `env` (which
    /// may override those), and waits until it is ready (without blocking the test's runtime: a
    /// provider in the test process may have to answer its discovery).
    pub async fn spawn(port: u16, env: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
            // No `.env` of the checkout may change what the test set.
            .current_dir(std::env::temp_dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs([
                ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
                ("RUST_LOG", "photo_connect=info,warn".into()),
                ("LOG_FORMAT", "text".into()),
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
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
        let mut process = Self {
            url: Url::parse(&format!("http://localhost:{port}/")).expect("url"),
            child,
            logs,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while ready.try_recv().is_err() {
            let exited = process.child.try_wait().expect("try_wait");
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the instance did not start ({exited:?}): {}",
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
