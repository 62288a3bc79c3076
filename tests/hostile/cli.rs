//! The binary's command line: `--help` documents every environment variable (the text of
//! `.env.example`), `--version` prints the version, and neither starts the server.

use std::process::Command;

fn run(arg: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
        .arg(arg)
        // A server that started anyway would bind here and hang the test; it must not start.
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn help_lists_every_environment_variable_with_its_meaning() {
    let (ok, help) = run("--help");
    assert!(ok, "{help}");
    let documented: Vec<&str> = include_str!("../../.env.example")
        .lines()
        .filter_map(|l| l.trim_start_matches('#').split_once('='))
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .collect();
    assert!(documented.len() > 25, "{documented:?}");
    for name in documented {
        assert!(
            help.contains(&format!("{name}=")),
            "--help does not mention {name}"
        );
    }
    assert!(
        help.contains("REVOCATION_TIMEOUT_SECS=3"),
        "with its default"
    );
    assert!(help.contains("Usage: photo-connect"));
}

#[test]
fn version_prints_the_version_and_exits() {
    let (ok, out) = run("--version");
    assert!(ok);
    assert_eq!(
        out.trim(),
        format!("photo-connect {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_argument_is_refused_without_starting() {
    let output = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
        .arg("--serve-forever")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--serve-forever"));
}

#[test]
fn sigterm_stops_the_server_gracefully_and_says_so() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
        .envs([
            ("LISTEN_ADDR", "127.0.0.1:0"),
            // A real-provider configuration that startup does not contact (explicit URLs).
            ("OAUTH_AUTH_URL", "http://127.0.0.1:9/authorize"),
            ("OAUTH_TOKEN_URL", "http://127.0.0.1:9/token"),
            ("PHOTOS_API_URL", "http://127.0.0.1:9/photos"),
            ("OAUTH_CLIENT_SECRET", "cli-test-secret"),
            ("RUST_LOG", "photo_connect=info"),
            ("LOG_FORMAT", "text"),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("is ready: open"));
    assert!(ready.is_some(), "the server started");
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().expect("it exits");
    assert!(status.success(), "a clean exit: {status:?} {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("shutting down"))
            && rest
                .iter()
                .any(|l| l.contains("stopped: every request finished")),
        "{rest:?}"
    );
    assert!(!rest.iter().any(|l| l.contains("cli-test-secret")));
}
