//! OpenID Connect sign-in against the demo provider (docs/requirements.md C96): with `openid`
//! in `OAUTH_SCOPES` the app sends a nonce, checks the provider's ID token, and the photos page
//! names who signed in; without it nothing changes.

use std::time::Duration;

use photo_connect::{
    config::{Config, ParMode},
    demo::provider::DemoSettings,
};
use reqwest::StatusCode;

use crate::helpers::*;

fn openid_config() -> Config {
    let mut config = Config::for_tests();
    config.scopes = vec!["openid".into(), "photos".into()];
    config
}

#[tokio::test]
async fn c96_an_openid_sign_in_sends_a_nonce_and_the_photos_page_names_the_demo_user() {
    let app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    let authorize = app.start_login().await;
    assert_eq!(param(&authorize, "scope").as_deref(), Some("openid photos"));
    let nonce = param(&authorize, "nonce").expect("a nonce with openid");
    assert_eq!(nonce.len(), 43, "256-bit nonce, base64url");
    assert_ne!(
        Some(nonce),
        param(&app.start_login().await, "nonce"),
        "fresh per sign-in"
    );

    let page = app.login_as("alice").await;
    assert!(
        page.contains("Signed in as <strong>Alice</strong>"),
        "{page}"
    );
    assert!(page.contains(r#"id="oidc-note""#));
    assert!(page.contains("Your photos (3)"));
}

#[tokio::test]
async fn c96_without_openid_no_nonce_is_sent_and_no_one_is_named() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    assert_eq!(param(&authorize, "scope").as_deref(), Some("photos"));
    assert_eq!(param(&authorize, "nonce"), None);
    let page = app.login_as("alice").await;
    assert!(page.contains("Your photos (3)"));
    assert!(
        !page.contains("Signed in as") && !page.contains("oidc-note"),
        "{page}"
    );
}

#[tokio::test]
async fn c96_with_par_the_nonce_is_pushed_and_the_id_token_still_matches() {
    let mut config = openid_config();
    config.par = ParMode::On;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let (status, headers, _) = app.get("/connect").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let authorize = location(&headers);
    assert_eq!(
        param(&authorize, "nonce"),
        None,
        "only client_id and request_uri travel"
    );
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "approve").await;
    assert_eq!(fetch(&app.client, callback).await.0, StatusCode::SEE_OTHER);
    let (status, _, page) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Signed in as <strong>Alice</strong>"),
        "{page}"
    );
}

#[tokio::test]
async fn c96_a_refresh_that_brings_a_new_id_token_keeps_the_person_signed_in() {
    let mut config = openid_config();
    config.token_refresh_skew = Duration::ZERO;
    let mut settings = DemoSettings::for_tests();
    settings.access_token_ttl = Duration::from_secs(2);
    let app = spawn_app_with(config, settings).await;
    app.login_as("alice").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, page) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("refreshed 1 time"), "{page}");
    assert!(
        page.contains("Signed in as <strong>Alice</strong>"),
        "OIDC Core §12.2: {page}"
    );
}
