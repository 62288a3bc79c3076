//! Tests of `private_key_jwt`'s configuration (`OAUTH_CLIENT_KEY_FILE`: missing, unreadable,
//! malformed, valid) and of `OAUTH_PROFILE=fapi2`'s startup checks, one message per problem.

use std::collections::HashMap;

use crate::config::{
    Config, DpopMode, ParMode, Profile, ProviderSource, TokenAuth,
    test_keys::{KID, P384_PEM, PKCS8_PEM, SEC1_PEM, key_file},
};

fn from(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

/// A provider by discovery, with no secret.
const DISCOVERED: [(&str, &str); 2] = [
    ("OAUTH_ISSUER", "https://as.example"),
    ("PHOTOS_API_URL", "https://api.example/photos"),
];

fn problems(vars: &[(&str, &str)]) -> String {
    format!("{:#}", from(vars).expect_err("refused"))
}

/// No line of `pem` (but its armour) appears in `message`.
fn shows_no_key(message: &str, pem: &str) {
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!message.contains(line), "key material in: {message}");
    }
}

#[test]
fn c98_private_key_jwt_reads_the_key_and_needs_no_secret() {
    for pem in [SEC1_PEM, PKCS8_PEM] {
        let path = key_file(pem);
        let mut vars = DISCOVERED.to_vec();
        vars.extend([
            ("OAUTH_TOKEN_AUTH", "private_key_jwt"),
            ("OAUTH_CLIENT_KEY_FILE", path.as_str()),
        ]);
        let config = from(&vars).expect("valid without a secret");
        assert_eq!(config.token_auth, TokenAuth::PrivateKeyJwt);
        let key = config.client_key.as_ref().expect("the key");
        assert_eq!(key.kid(), KID);
        let shown = format!("{config:?}");
        shows_no_key(&shown, pem);
        assert!(shown.contains(KID), "Debug names the key by its kid");
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn c98_private_key_jwt_without_the_key_file_names_the_variable() {
    let mut vars = DISCOVERED.to_vec();
    vars.push(("OAUTH_TOKEN_AUTH", "private_key_jwt"));
    let message = problems(&vars);
    assert!(
        message.contains("OAUTH_CLIENT_KEY_FILE is required"),
        "{message}"
    );
    assert!(
        !message.contains("OAUTH_CLIENT_SECRET"),
        "no secret asked for: {message}"
    );
}

#[test]
fn c98_an_unreadable_or_malformed_key_is_a_startup_error_that_never_shows_the_key() {
    let missing = std::env::temp_dir().join("photo-connect-no-such-key.pem");
    let missing = missing.to_string_lossy().into_owned();
    let garbled = SEC1_PEM.replace("MHcCAQEE", "MHcCAQEX");
    let files = [
        (
            key_file(P384_PEM),
            P384_PEM,
            "is not an EC P-256 private key",
        ),
        (
            key_file(&garbled),
            garbled.as_str(),
            "is not an EC P-256 private key",
        ),
        (
            key_file("not a key"),
            "not a key",
            "is not an EC P-256 private key",
        ),
        (missing, "", "cannot be read"),
    ];
    for (path, content, expected) in &files {
        let mut vars = DISCOVERED.to_vec();
        vars.extend([
            ("OAUTH_TOKEN_AUTH", "private_key_jwt"),
            ("OAUTH_CLIENT_KEY_FILE", path.as_str()),
        ]);
        let message = problems(&vars);
        assert!(message.contains("OAUTH_CLIENT_KEY_FILE="), "{message}");
        assert!(message.contains(expected), "{message}");
        shows_no_key(&message, content);
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn c98_a_key_file_with_a_secret_method_is_a_mistake_not_ignored() {
    let path = key_file(SEC1_PEM);
    let mut vars = DISCOVERED.to_vec();
    vars.extend([
        ("OAUTH_CLIENT_SECRET", "s"),
        ("OAUTH_CLIENT_KEY_FILE", path.as_str()),
    ]);
    let message = problems(&vars);
    assert!(
        message.contains("OAUTH_TOKEN_AUTH is not private_key_jwt"),
        "{message}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn c98_fapi2_lists_every_problem_each_naming_its_variable() {
    let vars = [
        ("OAUTH_PROFILE", "fapi2"),
        ("OAUTH_AUTH_URL", "https://as.example/authorize"),
        ("OAUTH_TOKEN_URL", "https://as.example/token"),
        ("PHOTOS_API_URL", "https://api.example/photos"),
        ("OAUTH_CLIENT_SECRET", "s"),
    ];
    let message = problems(&vars);
    assert!(
        message.starts_with("5 configuration problem(s)"),
        "{message}"
    );
    for expected in [
        "OAUTH_PROFILE=fapi2 requires OAUTH_TOKEN_AUTH=private_key_jwt",
        "OAUTH_PROFILE=fapi2 forbids OAUTH_CLIENT_SECRET",
        "OAUTH_PROFILE=fapi2 requires discovery: set OAUTH_ISSUER",
        "OAUTH_PROFILE=fapi2 requires OAUTH_PAR=on",
        "OAUTH_PROFILE=fapi2 requires OAUTH_DPOP=on",
    ] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert!(!message.contains("\"s\""), "the secret is not echoed");
}

#[test]
fn c98_fapi2_refuses_auto_modes_and_accepts_a_conforming_configuration() {
    let path = key_file(PKCS8_PEM);
    let mut vars = DISCOVERED.to_vec();
    vars.extend([
        ("OAUTH_PROFILE", "fapi2"),
        ("OAUTH_TOKEN_AUTH", "private_key_jwt"),
        ("OAUTH_CLIENT_KEY_FILE", path.as_str()),
        ("OAUTH_PAR", "auto"),
        ("OAUTH_DPOP", "auto"),
    ]);
    let message = problems(&vars);
    assert!(
        message.starts_with("2 configuration problem(s)"),
        "{message}"
    );
    vars.retain(|(name, _)| !matches!(*name, "OAUTH_PAR" | "OAUTH_DPOP"));
    vars.extend([("OAUTH_PAR", "on"), ("OAUTH_DPOP", "on")]);
    let config = from(&vars).expect("conforming");
    assert_eq!(config.profile, Profile::Fapi2);
    assert_eq!((config.par, config.dpop), (ParMode::On, DpopMode::On));
    assert!(matches!(config.provider, ProviderSource::Discover(_)));
    let _ = std::fs::remove_file(path);
    let message = problems(&[("OAUTH_PROFILE", "fapi")]);
    assert!(
        message.contains("OAUTH_PROFILE=\"fapi\" is not valid"),
        "{message}"
    );
}
