//! `private_key_jwt` (RFC 7523) against the demo provider, which holds only the app's public
//! key: sign-in, refresh and revocation at logout each with a fresh assertion and no secret;
//! with PAR and DPoP (and its nonce challenge) under `OAUTH_PROFILE=fapi2`; the key set served.

use std::{collections::HashMap, time::Duration};

use photo_connect::{
    config::{ClientKey, Config, DpopMode, ParMode, Profile, TokenAuth},
    demo::provider::DemoSettings,
};
use reqwest::{StatusCode, header};

use crate::helpers::*;

/// A fresh P-256 key in PEM (SEC1), as `openssl ecparam -genkey` writes one.
fn pem() -> String {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    key.to_sec1_pem(p256::pkcs8::LineEnding::LF)
        .expect("PEM")
        .to_string()
}

/// Every token request the provider saw used `private_key_jwt`, and lists their statuses.
fn statuses_all_by_key(app: &TestApp) -> Vec<u16> {
    let requests = app.provider.state.token_requests();
    for request in &requests {
        assert_eq!(request.auth_method, "private_key_jwt", "{request:?}");
    }
    requests.iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn c98_private_key_jwt_signs_in_refreshes_and_revokes_at_logout_without_a_secret() {
    let pem = pem();
    let key = ClientKey::from_pem(&pem).expect("a key");
    let mut config = Config::for_tests();
    config.token_auth = TokenAuth::PrivateKeyJwt;
    config.client_key = Some(key.clone());
    config.token_refresh_skew = Duration::ZERO;
    let mut settings = DemoSettings::for_tests();
    settings.access_token_ttl = Duration::from_secs(2);
    let app = spawn_app_as_configured(config, settings).await;

    let page = app.login_as("alice").await;
    assert!(page.contains("Your photos (3)"), "{page}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, page) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("refreshed 1 time"), "{page}");
    assert_eq!(statuses_all_by_key(&app), [200, 200], "code, then refresh");

    let access_token = {
        let tables = app.provider.state.tables();
        tables.access.keys().next().cloned().expect("a token")
    };
    let response = app.logout_from(&page).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let notice = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert_eq!(
        notice, "/?notice=signed-out",
        "both revocations answered 200"
    );
    assert!(
        !app.provider.state.access_token_valid(&access_token),
        "revoked"
    );
    assert!(app.provider.state.tables().refresh.is_empty());

    // The key set, for providers that fetch it: the public half, named by its thumbprint.
    let (status, headers, body) = app.get("/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
    let jwks: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(jwks, serde_json::json!({ "keys": [key.public_jwk()] }));
    assert_eq!(jwks["keys"][0]["kid"], key.kid());
    assert!(jwks["keys"][0].get("d").is_none());
    let logs = captured_logs();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !logs.contains(line) && !body.contains(line),
            "key material leaked"
        );
    }
}

#[tokio::test]
async fn c98_fapi2_from_the_environment_with_par_dpop_and_a_nonce_challenge() {
    let path = std::env::temp_dir().join(format!("pc-e2e-key-{}.pem", std::process::id()));
    std::fs::write(&path, pem()).expect("key file");
    let path = path.to_string_lossy().into_owned();
    let vars = HashMap::from([
        ("LISTEN_ADDR", "127.0.0.1:0"),
        ("OAUTH_PROFILE", "fapi2"),
        ("OAUTH_TOKEN_AUTH", "private_key_jwt"),
        ("OAUTH_CLIENT_KEY_FILE", path.as_str()),
        ("OAUTH_PAR", "on"),
        ("OAUTH_DPOP", "on"),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
        .expect("a FAPI 2.0 configuration");
    let _ = std::fs::remove_file(&path);
    assert_eq!(config.profile, Profile::Fapi2);
    assert_eq!((config.par, config.dpop), (ParMode::On, DpopMode::On));
    let mut settings = DemoSettings::for_tests();
    settings.dpop_nonce = true;
    let app = spawn_app_as_configured(config, settings).await;

    let (status, headers, _) = app.get("/connect").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let authorize = location(&headers);
    assert!(param(&authorize, "request_uri").is_some(), "pushed");
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "carol", "approve").await;
    let (status, _, body) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    // The nonce challenge is answered with a fresh assertion: the first one's jti was seen.
    assert_eq!(statuses_all_by_key(&app), [400, 200]);
    let bound = {
        let tables = app.provider.state.tables();
        tables.access.values().all(|token| token.jkt.is_some())
    };
    assert!(bound, "a DPoP-bound token");
    let (status, _, page) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{page}");
}

#[tokio::test]
async fn with_a_client_secret_no_key_set_is_served() {
    let app = spawn_app().await;
    let (status, _, _) = app.get("/.well-known/jwks.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
