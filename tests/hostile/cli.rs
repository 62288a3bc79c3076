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
