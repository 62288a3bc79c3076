//! A real `redis-server` (Debian's package) for the tests: its own free loopback port,
//! persistence off, stopped when dropped. Without `redis-server` on PATH the tests say why they
//! skip; under `CI=true` they fail instead.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one, or returns `None` (after saying why) when `redis-server` is missing.
    pub fn start() -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            let why = "redis-server is not installed (Debian: apt-get install redis-server)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}; CI=true requires the scale-out tests to run");
            }
            eprintln!("SKIPPED: {why}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = Self { port, child: None };
        server.restart();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port, empty, and waits until it answers.
    pub fn restart(&mut self) {
        self.launch(&["--appendonly", "no"]);
    }

    /// Starts `redis-server` on our port with persistence off (`--save ""`) but for `extra`,
    /// and waits until it answers.
    fn launch<S: AsRef<std::ffi::OsStr>>(&mut self, extra: &[S]) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--protected-mode", "yes"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]).trim() != "PONG" {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none(),
                "redis-server exited ({exited:?}): port {} taken?",
                self.port
            );
            assert!(Instant::now() < deadline, "redis-server did not answer");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it (the port stays ours to restart on).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes (`SIGSTOP`) or resumes (`SIGCONT`) the server, as a stalled host would.
    #[allow(dead_code)] // the session lock's unit tests use it, the scale-out tests not yet
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let sent = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Runs one command with `redis-cli` and returns its raw output.
    pub fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Every key, except the session locks (`<prefix>lock:…`).
    pub fn session_keys(&self) -> Vec<String> {
        self.cli(&["--scan"])
            .lines()
            .map(str::to_owned)
            .filter(|k| !k.is_empty() && !k.contains(":lock:"))
            .collect()
    }

    /// Commands Redis has processed so far.
    pub fn commands_processed(&self) -> u64 {
        self.cli(&["INFO", "stats"])
            .lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Persistence, for the tests that kill Redis and expect their sessions back: an append-only
/// file in `dir` (the test's own directory), as an operator would run it.
#[allow(dead_code)] // the scale-out tests use it, the session lock's unit tests not
impl RedisServer {
    /// Starts one with an append-only file in `dir`, or `None` (after saying why) when
    /// `redis-server` is missing.
    pub fn start_persistent(dir: &std::path::Path) -> Option<Self> {
        let mut server = Self::start()?;
        server.stop();
        server.restart_persistent(dir);
        Some(server)
    }

    /// Starts (again) on the same port with `appendonly yes` in `dir`, reading back what the
    /// last run wrote, and waits until it answers.
    pub fn restart_persistent(&mut self, dir: &std::path::Path) {
        std::fs::create_dir_all(dir).expect("the Redis directory");
        let os = std::ffi::OsStr::new;
        self.launch(&[os("--appendonly"), os("yes"), os("--dir"), dir.as_os_str()]);
    }
}
