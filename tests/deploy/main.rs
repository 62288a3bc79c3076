//! The production recipe in `deploy/`, tested as shipped: the systemd unit against the app's
//! documented variables and `systemd-analyze` (`systemd.rs`), the nginx site file in Debian's
//! nginx with a throwaway certificate (`nginx.rs`).
//! In `through_nginx.rs`, the real Chromium signs in through that nginx to two instances of the // DEMO-PROVIDER
//! binary sharing a real `redis-server`, across a rolling restart of both. // DEMO-PROVIDER
//!
//! A missing tool makes its tests print `SKIPPED: …` and pass; under `CI=true` they fail instead.

mod nginx;
mod systemd;
#[cfg(feature = "demo")] // DEMO-PROVIDER
mod through_nginx; // DEMO-PROVIDER

use std::{io::Write, path::PathBuf, process::Command};

/// Whether `tool` runs (`tool arg` starts at all); if not, says why on stderr, or panics when
/// `CI=true` (CI must run every test).
pub fn installed(tool: &str, arg: &str, debian_package: &str) -> bool {
    if Command::new(tool).arg(arg).output().is_ok() {
        return true;
    }
    let why = format!("{tool} is not installed (Debian: apt-get install {debian_package})");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}; CI=true requires the deployment tests to run");
    }
    // Straight to stderr: libtest captures `eprintln!` of passing tests, so nobody would see it.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    false
}

/// The repository's `deploy/<name>`, read.
pub fn deploy_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `text` with every `from` replaced by `to`, asserting it occurs exactly `times` times: a
/// file that changed under the test fails it instead of going untested.
pub fn substitute(text: &str, from: &str, to: &str, times: usize) -> String {
    let found = text.matches(from).count();
    assert_eq!(
        found, times,
        "{from:?} occurs {found} times, expected {times}"
    );
    text.replace(from, to)
}

/// A fresh, empty directory of this test's own under `CARGO_TARGET_TMPDIR`.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("deploy")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
