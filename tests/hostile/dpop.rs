//! A photos API that asks for its own DPoP nonce (RFC 9449 §9).
//!
//! A provider (the embedded one too) serves its token endpoint and photos API from one origin with one nonce,
//! so the client already holds the API's nonce when it first calls it. Here only the photos
//! API challenges, and it can challenge more than once.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use photo_connect::config::DpopMode;
use reqwest::StatusCode;

use crate::{
    mock::{Mock, Reply, Seen, TestApp, photos_ok, spawn_app},
    support::*,
};

/// A 401 `use_dpop_nonce` (RFC 9449 §9), carrying `nonce` if any.
fn nonce_challenge(nonce: Option<&str>) -> Reply {
    let challenge = Reply::Raw {
        status: 401,
        content_type: "text/plain",
        body: String::new(),
        headers: vec![("www-authenticate", r#"DPoP error="use_dpop_nonce""#.into())],
    };
    match nonce {
        Some(nonce) => challenge.with_header("dpop-nonce", nonce),
        None => challenge,
    }
}

/// Signed in with a DPoP-bound token and no refresh token, so a rejected call ends the
/// connection instead of being retried with a new token.
async fn connected_with_dpop(mock: &Mock) -> TestApp {
    mock.token_replies(Reply::Json(
        200,
        r#"{"access_token":"at-DPOP","token_type":"DPoP","expires_in":3600}"#.into(),
    ));
    let app = spawn_app(mock, |config| config.dpop = DpopMode::On).await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    app
}

/// The `nonce` claim of a request's DPoP proof.
fn proof_nonce(request: &Seen) -> Option<String> {
    let proof = request.headers["dpop"].to_str().expect("ascii proof");
    let payload = proof.split('.').nth(1).expect("a JWS");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    claims["nonce"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn the_photos_api_s_nonce_challenge_is_answered_once_and_its_next_nonce_kept() {
    let mock = Mock::start().await;
    let app = connected_with_dpop(&mock).await;
    mock.photos_replies(vec![
        nonce_challenge(Some("api-n1")),
        photos_ok(&mock).with_header("dpop-nonce", "api-n2"),
    ]);

    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Lake"));
    let calls = mock.hits("/photos");
    assert_eq!(calls.len(), 2, "one challenge, one retry");
    assert_eq!(calls[0].headers["authorization"], "DPoP at-DPOP");
    assert_eq!(proof_nonce(&calls[0]), None, "no nonce known yet");
    assert_eq!(proof_nonce(&calls[1]).as_deref(), Some("api-n1"));

    // A success that brings a nonce is not a challenge: no second request for it, and the
    // next view proves with that nonce.
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);
    let calls = mock.hits("/photos");
    assert_eq!(calls.len(), 3, "a 200 with a nonce is not retried");
    assert_eq!(proof_nonce(&calls[2]).as_deref(), Some("api-n2"));
}

#[tokio::test]
async fn a_second_nonce_challenge_is_not_answered_again() {
    let mock = Mock::start().await;
    let app = connected_with_dpop(&mock).await;
    // Had the client answered the second challenge, the third call would show photos.
    mock.photos_replies(vec![
        nonce_challenge(Some("api-n1")),
        nonce_challenge(Some("api-n2")),
        photos_ok(&mock),
    ]);

    // Without a refresh token, no refresh is tried: the log says the token was refused, not
    // that a refresh was (counted, as parallel tests share the log; none of them refreshes
    // without a refresh token).
    let refresh_tried = || {
        captured_logs()
            .matches("refused the refresh (no refresh token)")
            .count()
    };
    let before = refresh_tried();
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert_eq!(mock.hits("/photos").len(), 2, "one retry, no more");
    assert!(!app.is_connected().await, "a rejected token is forgotten");
    assert_eq!(
        refresh_tried(),
        before,
        "no refresh without a refresh token"
    );
}

#[tokio::test]
async fn a_challenge_without_a_nonce_is_not_retried() {
    let mock = Mock::start().await;
    let app = connected_with_dpop(&mock).await;
    mock.photos_replies(vec![nonce_challenge(None), photos_ok(&mock)]);

    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert_eq!(mock.hits("/photos").len(), 1, "nothing new to prove with");
}
