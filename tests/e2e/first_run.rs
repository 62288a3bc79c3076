//! The first `cargo run` (no configuration, the demo provider's path) with its port taken: one
//! error line naming the address and the variable, for the app's port and the provider's.

use std::{net::TcpListener, process::Command};

/// The one `error: …` line of `stderr` (there must be exactly one, and no backtrace).
fn the_error(stderr: &str) -> &str {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    errors[0]
}

fn start(envs: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
        .env_clear()
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .envs(envs.iter().copied())
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "it must not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn with_no_configuration_a_busy_port_names_the_address_and_the_variable() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let stderr = start(&[
        ("LISTEN_ADDR", &addr),
        ("DEMO_PROVIDER_ADDR", "127.0.0.1:0"),
    ]);
    let error = the_error(&stderr);
    assert!(
        error.starts_with(&format!("error: cannot listen on {addr} (LISTEN_ADDR): ")),
        "{error}"
    );
    assert!(
        error.ends_with("set LISTEN_ADDR to a free address"),
        "{error}"
    );

    let stderr = start(&[
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("DEMO_PROVIDER_ADDR", &addr),
    ]);
    let error = the_error(&stderr);
    let expected = format!("error: the demo provider cannot listen on {addr} (DEMO_PROVIDER_ADDR");
    assert!(error.starts_with(&expected), "{error}");
}
