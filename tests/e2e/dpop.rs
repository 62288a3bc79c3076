//! DPoP-bound tokens (RFC 9449) against the demo provider: the token is bound to the session's
//! key and every call carries a proof; a stolen token is useless without that key; nonce
//! challenges at the token endpoint and at the photos API are answered once; refresh keeps the
//! binding; DPoP and PAR together.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use photo_connect::{
    config::{Config, DpopMode, ParMode},
    demo::provider::DemoSettings,
};
use reqwest::{StatusCode, header};
use sha2::{Digest, Sha256};

use crate::helpers::*;

async fn dpop_app(config: Config, settings: DemoSettings) -> TestApp {
    let mut config = config;
    if config.dpop == DpopMode::Off {
        config.dpop = DpopMode::On;
    }
    spawn_app_with(config, settings).await
}

/// The provider's only access token and whether it is bound to a key.
fn access_token(app: &TestApp) -> (String, bool) {
    let tables = app.provider.state.tables();
    let (token, record) = tables.access.iter().next().expect("an access token");
    (token.clone(), record.jkt.is_some())
}

/// A proof from a key the attacker made: right URL and method, wrong key.
fn attackers_proof(url: &str, token: &str) -> String {
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let point = key.verifying_key().to_encoded_point(false);
    let b64 = |b: &[u8]| B64.encode(b);
    let header = serde_json::json!({
        "typ": "dpop+jwt", "alg": "ES256",
        "jwk": {"kty": "EC", "crv": "P-256",
                "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))},
    });
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = serde_json::json!({
        "jti": format!("attacker-{now}"), "htm": "GET", "htu": url, "iat": now,
        "ath": b64(&Sha256::digest(token.as_bytes())),
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

#[tokio::test]
async fn with_dpop_the_token_is_bound_and_every_call_carries_a_proof() {
    let app = dpop_app(Config::for_tests(), DemoSettings::for_tests()).await;
    let photos = app.login_as("bob").await;
    assert!(photos.contains("Your photos (4)"));
    assert!(
        photos.contains(r#"id="dpop-note""#),
        "the photos page says the token is bound"
    );
    let (_, bound) = access_token(&app);
    assert!(
        bound,
        "the provider bound the access token to a key (cnf.jkt)"
    );

    #[cfg(feature = "inspector")] // INSPECTOR
    {
        // INSPECTOR
        let (_, _, flow) = app.get("/flow").await; // INSPECTOR
        assert!(
            // INSPECTOR
            flow.contains("dpop+jwt") && flow.contains("signature elided"), // INSPECTOR
            "{flow}"                                                        // INSPECTOR
        ); // INSPECTOR
        assert!(flow.contains("DPoP"), "the token response's token_type"); // INSPECTOR
        assert!(!flow.contains(CLIENT_SECRET)); // INSPECTOR
    } // INSPECTOR
}

#[tokio::test]
async fn a_stolen_dpop_token_is_useless_without_the_key() {
    let app = dpop_app(Config::for_tests(), DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let (token, _) = access_token(&app);
    let api = format!("{}/api/photos", app.provider.issuer);
    let http = reqwest::Client::new();
    let send = |authorization: String, proof: Option<String>| {
        let mut request = http.get(&api).header(header::AUTHORIZATION, authorization);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        async move { request.send().await.expect("api").status() }
    };
    assert_eq!(
        send(format!("Bearer {token}"), None).await,
        StatusCode::UNAUTHORIZED,
        "as a bearer token"
    );
    assert_eq!(
        send(format!("DPoP {token}"), None).await,
        StatusCode::UNAUTHORIZED,
        "without a proof"
    );
    let forged = attackers_proof(&api, &token);
    assert_eq!(
        send(format!("DPoP {token}"), Some(forged)).await,
        StatusCode::UNAUTHORIZED,
        "another key"
    );
    // The app itself still gets in: only its key fits.
    let (status, _, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn nonce_challenges_are_answered_once_and_a_refresh_keeps_the_binding_with_par_too() {
    let mut config = Config::for_tests();
    config.par = ParMode::On;
    config.token_refresh_skew = Duration::ZERO;
    let mut settings = DemoSettings::for_tests();
    settings.dpop_nonce = true;
    settings.access_token_ttl = Duration::from_secs(2);
    let app = dpop_app(config, settings).await;

    let authorize = {
        let (status, headers, _) = app.get("/connect").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        location(&headers)
    };
    assert!(param(&authorize, "request_uri").is_some(), "PAR as well");
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "carol", "approve").await;
    let (status, _, body) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let statuses: Vec<u16> = app
        .provider
        .state
        .token_requests()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [400, 200],
        "use_dpop_nonce once, then the token with the nonce"
    );

    let (status, _, page) = app.get("/photos").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the photos API's nonce challenge was answered: {page}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, page) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Refreshed 1 time"), "{page}");
    let (_, bound) = access_token_latest(&app);
    assert!(bound, "the refreshed token is bound too");
}

/// The newest access token (after a refresh there may be two).
fn access_token_latest(app: &TestApp) -> (String, bool) {
    let tables = app.provider.state.tables();
    let (token, record) = tables
        .access
        .iter()
        .max_by_key(|(_, r)| r.expires_at)
        .expect("an access token");
    (token.clone(), record.jkt.is_some())
}

#[tokio::test]
async fn auto_uses_dpop_when_the_provider_advertises_es256() {
    let mut config = Config::for_tests();
    config.dpop = DpopMode::Auto;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    assert!(access_token(&app).1, "the demo provider lists ES256");
}

#[tokio::test]
async fn without_dpop_tokens_stay_bearer_tokens() {
    let app = spawn_app().await;
    let photos = app.login_as("alice").await;
    assert!(!photos.contains(r#"id="dpop-note""#));
    assert!(!access_token(&app).1);
}
