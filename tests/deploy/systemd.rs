//! `deploy/photo-connect@.service`: every variable it sets is one the app documents, it runs
//! the package's binary, `systemd-analyze verify` finds nothing wrong with it, and its hardening
//! keeps `systemd-analyze security`'s exposure score low.

use std::{collections::BTreeSet, process::Command};

use crate::{deploy_file, installed, scratch_dir, substitute};

const UNIT: &str = "photo-connect@.service";
/// Where the unit expects the binary (docs/deployment.md installs it there).
const INSTALLED_BINARY: &str = "/usr/local/bin/photo-connect";

/// The values of every `key=` line of the unit (continuation lines are not used in it).
fn values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|line| line.trim().strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn every_variable_the_unit_sets_is_documented_in_env_example() {
    let unit = deploy_file(UNIT);
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example"))
        .expect(".env.example");
    let documented: BTreeSet<&str> = example
        .lines()
        .filter_map(|line| line.trim_start_matches('#').split_once('=').map(|(k, _)| k))
        .filter(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
        .collect();
    let set: Vec<&str> = values(&unit, "Environment")
        .into_iter()
        .map(|assignment| assignment.split_once('=').expect("NAME=value").0)
        .collect();
    assert!(set.len() >= 5, "the unit sets its variables: {set:?}");
    for name in &set {
        assert!(documented.contains(name), "{name} is not in .env.example");
    }
    // The secrets: the session key through systemd's credentials, the rest in a root-only file.
    assert!(set.contains(&"SESSION_KEY_FILE") && !set.contains(&"SESSION_KEY"));
    assert_eq!(
        values(&unit, "LoadCredential"),
        ["session-key:/etc/photo-connect/session-key"]
    );
    assert!(values(&unit, "Environment").contains(&"SESSION_KEY_FILE=%d/session-key"));
    assert!(values(&unit, "Environment").contains(&"LISTEN_ADDR=127.0.0.1:%i"));
    assert_eq!(values(&unit, "EnvironmentFile"), ["/etc/photo-connect/env"]);
}

#[test]
fn the_unit_runs_the_packages_binary() {
    let unit = deploy_file(UNIT);
    assert_eq!(values(&unit, "ExecStart"), [INSTALLED_BINARY]);
    let built = std::path::Path::new(env!("CARGO_BIN_EXE_photo-connect"));
    assert_eq!(
        built.file_name(),
        std::path::Path::new(INSTALLED_BINARY).file_name()
    );
    assert_eq!(env!("CARGO_PKG_NAME"), "photo-connect");
}

#[test]
fn systemd_analyze_verifies_the_unit_and_rates_its_exposure_low() {
    if !installed("systemd-analyze", "--version", "systemd") {
        return;
    }
    // An instance of the template, its ExecStart the binary just built (verify checks that it
    // is there and executable).
    let dir = scratch_dir("systemd");
    let unit = substitute(
        &deploy_file(UNIT),
        &format!("ExecStart={INSTALLED_BINARY}\n"),
        &format!("ExecStart={}\n", env!("CARGO_BIN_EXE_photo-connect")),
        1,
    );
    std::fs::write(dir.join(UNIT), unit).expect("the unit");
    let instance = dir.join("photo-connect@3001.service");
    std::os::unix::fs::symlink(UNIT, &instance).expect("the instance");

    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&instance)
        .output()
        .expect("systemd-analyze runs");
    // It exits 0 on an unknown key or a value it cannot parse, but says so: no output at all.
    let said = String::from_utf8_lossy(&verify.stderr).into_owned()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && said.trim().is_empty(), "{said}");

    // Exposure from 0 (locked down) to 10 (unprotected); a service with no hardening scores 9.6.
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=15", "--no-pager"])
        .arg(&instance)
        .output()
        .expect("systemd-analyze runs");
    let report = String::from_utf8_lossy(&security.stdout);
    let overall = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("?");
    assert!(
        security.status.success(),
        "exposure over 1.5: {overall}\n{report}"
    );
    eprintln!("{overall}");
    let _ = std::fs::remove_dir_all(dir);
}
