//! `private_key_jwt` against the mock provider: with a client secret configured as well, not one
//! request carries it (no Basic header, no `client_secret`), each carries one fresh assertion
//! (token, refresh, revocation), addressed to the token endpoint when no issuer is configured;
//! and startup refuses a missing, unreadable or malformed key, naming the variable only.

use std::{collections::HashMap, process::Command};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use photo_connect::config::{ClientKey, TokenAuth};
use reqwest::{StatusCode, header};

use crate::mock::{Mock, SECRET, TestApp, invalid_token, photos_ok, post_logout, spawn_app};

fn pem() -> String {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    key.to_sec1_pem(p256::pkcs8::LineEnding::LF)
        .expect("PEM")
        .to_string()
}

fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

fn claims(assertion: &str) -> serde_json::Value {
    let part = assertion.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}

async fn key_app(mock: &Mock) -> TestApp {
    let key = ClientKey::from_pem(&pem()).expect("a key");
    let app = spawn_app(mock, |config| {
        // The secret spawn_app sets stays configured: it must go unused.
        config.token_auth = TokenAuth::PrivateKeyJwt;
        config.client_key = Some(key);
    })
    .await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    app
}

#[tokio::test]
async fn c98_with_private_key_jwt_no_request_carries_the_secret_and_each_a_fresh_assertion() {
    let mock = Mock::start().await;
    let app = key_app(&mock).await;
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
    let (status, _, page) = crate::support::fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK, "a refresh: {page}");
    assert_eq!(post_logout(&app).await.status(), StatusCode::SEE_OTHER);

    let seen = mock.seen();
    let backchannel: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/token" || s.path == "/revoke")
        .collect();
    assert_eq!(backchannel.len(), 4, "code, refresh, two revocations");
    let mut jtis = Vec::new();
    for request in &backchannel {
        assert!(
            request.headers.get(header::AUTHORIZATION).is_none(),
            "{}: no Basic header",
            request.path
        );
        let form = form(&request.body);
        assert!(!form.contains_key("client_secret"), "{}", request.body);
        assert_eq!(form["client_id"], "photo-connect");
        assert_eq!(
            form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        let claims = claims(&form["client_assertion"]);
        assert_eq!(claims["iss"], "photo-connect");
        assert_eq!(claims["sub"], "photo-connect");
        // No OAUTH_ISSUER: the token endpoint URL is the audience, at every endpoint.
        assert_eq!(claims["aud"], format!("{}/token", mock.url));
        jtis.push(claims["jti"].as_str().expect("jti").to_owned());
    }
    jtis.sort();
    jtis.dedup();
    assert_eq!(jtis.len(), 4, "a fresh jti per request");
    for request in &seen {
        let everything = format!("{:?} {}", request.headers, request.body);
        assert!(
            !everything.contains(SECRET),
            "{}: the secret was sent",
            request.path
        );
    }
    assert!(
        crate::support::captured_logs().contains("OAUTH_CLIENT_SECRET is set but unused"),
        "one startup line says the secret is unused"
    );
}

/// Runs the binary with `vars` until it refuses to start; returns its stderr.
fn refused_start(vars: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_photo-connect"))
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("OAUTH_ISSUER", "https://as.example")
        .env("PHOTOS_API_URL", "https://api.example/photos")
        .env("OAUTH_TOKEN_AUTH", "private_key_jwt")
        .envs(vars.iter().copied())
        .output()
        .expect("the binary runs");
    assert!(!output.status.success(), "it must not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn c98_startup_refuses_a_missing_unreadable_or_malformed_key_naming_the_variable_only() {
    let stderr = refused_start(&[]);
    assert!(
        stderr.contains("OAUTH_CLIENT_KEY_FILE is required"),
        "{stderr}"
    );

    let dir = std::env::temp_dir();
    let missing = dir.join(format!("pc-no-key-{}.pem", std::process::id()));
    let stderr = refused_start(&[("OAUTH_CLIENT_KEY_FILE", &missing.to_string_lossy())]);
    assert!(
        stderr.contains("OAUTH_CLIENT_KEY_FILE=") && stderr.contains("cannot be read"),
        "{stderr}"
    );

    // A real key, cut short: PEM armour around DER that does not parse.
    let pem = pem();
    let lines: Vec<&str> = pem.lines().collect();
    let broken = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[lines.len() - 1]);
    let path = dir.join(format!("pc-bad-key-{}.pem", std::process::id()));
    std::fs::write(&path, &broken).expect("key file");
    let stderr = refused_start(&[("OAUTH_CLIENT_KEY_FILE", &path.to_string_lossy())]);
    let _ = std::fs::remove_file(&path);
    assert!(stderr.contains("OAUTH_CLIENT_KEY_FILE="), "{stderr}");
    assert!(
        stderr.contains("is not an EC P-256 private key"),
        "{stderr}"
    );
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!stderr.contains(line), "key material in: {stderr}");
    }
}
