//! A newcomer's first-run mistakes, each answered by a message that names the variable: a busy
//! port, an `APP_URL` that cannot reach the listener, a misspelled variable, and `PORT` as
//! hosting platforms set it. Run against the real binary, as a newcomer would.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Stdio},
};

/// A real-provider configuration that startup does not contact (explicit URLs).
const PROVIDER: [(&str, &str); 5] = [
    ("OAUTH_AUTH_URL", "http://127.0.0.1:9/authorize"),
    ("OAUTH_TOKEN_URL", "http://127.0.0.1:9/token"),
    ("PHOTOS_API_URL", "http://127.0.0.1:9/photos"),
    ("OAUTH_CLIENT_SECRET", "first-run-secret"),
    ("LOG_FORMAT", "text"),
];

fn binary(envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_photo-connect"));
    // Only what the test sets: none of the developer's own variables, and no `.env` file.
    command
        .env_clear()
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Starts the binary and returns its stderr lines up to and including the ready line (the
/// server is then stopped), or every line if it exits first, with whether it became ready.
fn lines_until_ready(envs: &[(&str, &str)]) -> (bool, Vec<String>) {
    let mut child: Child = binary(envs).spawn().expect("the binary runs");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = Vec::new();
    let mut ready = false;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        ready = line.contains("is ready: open");
        lines.push(line);
        if ready {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (ready, lines)
}

#[test]
fn a_busy_port_is_one_error_line_naming_the_address_and_the_variable_never_a_backtrace() {
    let taken = TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let listen = format!("0.0.0.0:{port}");
    for (variable, value) in [("LISTEN_ADDR", listen.as_str()), ("PORT", port.as_str())] {
        let mut envs = PROVIDER.to_vec();
        envs.extend([(variable, value), ("RUST_BACKTRACE", "1")]);
        let output = binary(&envs).output().expect("the binary runs");
        assert!(!output.status.success(), "{variable}: it must not start");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let error: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            error,
            [format!(
                "error: cannot listen on 0.0.0.0:{port} ({variable}): Address already in use \
                 (os error 98): another program (another copy of this app?) is using port \
                 {port}; stop it, or set {variable} to a free address"
            )],
            "{stderr}"
        );
        assert!(!stderr.contains("backtrace"), "{stderr}");
        assert!(!stderr.contains("Caused by"), "one line: {stderr}");
    }
}

#[test]
fn port_is_honoured_on_every_interface_when_listen_addr_is_unset() {
    let free = TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = free.local_addr().expect("addr").port().to_string();
    drop(free);
    let mut envs = PROVIDER.to_vec();
    envs.push(("PORT", &port));
    let (ready, lines) = lines_until_ready(&envs);
    assert!(ready, "{lines:#?}");
    let ready_line = lines.last().expect("a line");
    assert!(
        ready_line.contains(&format!("listening=0.0.0.0:{port}")),
        "{ready_line}"
    );
    assert!(
        ready_line.contains(&format!("open http://localhost:{port}/")),
        "{ready_line}"
    );
}

#[test]
fn an_app_url_on_another_port_and_misspelled_variables_are_named_at_startup() {
    let mut envs = PROVIDER.to_vec();
    envs.extend([
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("APP_URL", "http://localhost:9/"),
        ("APP_ULR", "http://localhost:3000"),
        ("listen_addr", "127.0.0.1:4000"),
        ("OAUTH_CLIENT_SECERT", "not read"),
    ]);
    let (ready, lines) = lines_until_ready(&envs);
    assert!(ready, "a warning, not a refusal: {lines:#?}");
    let warned = |needle: &str| {
        lines
            .iter()
            .any(|l| l.contains("WARN") && l.contains(needle))
    };
    assert!(
        warned("APP_URL=http://localhost:9/ points at port 9, and the app listens on 127.0.0.1:"),
        "{lines:#?}"
    );
    assert!(
        warned("(LISTEN_ADDR): the browser would find nothing there"),
        "{lines:#?}"
    );
    for (typo, meant) in [
        ("APP_ULR", "APP_URL"),
        ("listen_addr", "LISTEN_ADDR"),
        ("OAUTH_CLIENT_SECERT", "OAUTH_CLIENT_SECRET"),
    ] {
        assert!(
            warned(&format!(
                "{typo} is not a variable this app reads: did you mean {meant}?"
            )),
            "{typo}: {lines:#?}"
        );
    }
    assert!(
        !lines.iter().any(|l| l.contains("not read")),
        "values are never echoed"
    );
}

#[test]
fn a_well_set_app_url_gives_no_warning() {
    let mut envs = PROVIDER.to_vec();
    envs.push(("LISTEN_ADDR", "127.0.0.1:0"));
    let (ready, lines) = lines_until_ready(&envs);
    assert!(ready, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("WARN")), "{lines:#?}");
}

#[test]
fn a_configuration_error_is_one_error_block_without_a_backtrace() {
    let output = binary(&[("HTTP_TIMEOUT_SECS", "0"), ("RUST_BACKTRACE", "1")])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: invalid configuration: 1 configuration problem(s):"),
        "{stderr}"
    );
    assert!(
        stderr.contains("HTTP_TIMEOUT_SECS=\"0\" is not valid"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

#[cfg(not(feature = "demo"))] // DEMO-PROVIDER
#[test]
fn with_no_provider_configured_it_says_what_to_set() {
    let output = binary(&[("LISTEN_ADDR", "127.0.0.1:0")])
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "error: no provider configured: set OAUTH_ISSUER (discovery) or OAUTH_AUTH_URL and \
             OAUTH_TOKEN_URL, plus PHOTOS_API_URL and OAUTH_CLIENT_SECRET, in .env or the \
             environment (see .env.example or --help)"
        ),
        "{stderr}"
    );
}
