//! The first `cargo run` (no configuration, the demo provider's path) with its port taken: one
//! error line naming the address and the variable, for the app's port and the provider's.

use std::{net::TcpListener, process::Command};

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
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("error: cannot listen on {addr} (LISTEN_ADDR): ")),
        "{stderr}"
    );
    assert!(
        errors[0].ends_with("set LISTEN_ADDR to a free address"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");

    let stderr = start(&[
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("DEMO_PROVIDER_ADDR", &addr),
    ]);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with(&format!(
            "error: the demo provider cannot listen on {addr} (DEMO_PROVIDER_ADDR"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
}
