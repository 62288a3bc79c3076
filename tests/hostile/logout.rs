//! A provider that forges logout tokens (docs/requirements.md C100): every check of OIDC
//! Back-Channel Logout 1.0 §2.6 refuses its forgery with 400 `invalid_request` and ends
//! nothing; the log line says which check, never the token.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    mock::{Mock, TestApp},
    openid::{Key, claims, now, openid_app, sign_in},
    support::*,
};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims of a valid logout token for the signed-in session (`sid-1`, `alice`).
fn logout_claims(mock: &Mock) -> Value {
    json!({"iss": mock.url, "aud": "photo-connect", "iat": now(), "exp": now() + 120,
           "jti": format!("jti-{}", rand::random::<u64>()), "events": {EVENT: {}},
           "sid": "sid-1", "sub": "alice"})
}

/// The app, and a visitor signed in with an ID token whose `sid` is `sid-1`.
async fn signed_in(mock: &Mock, key: &Key) -> (TestApp, TestApp) {
    let app = openid_app(mock, key).await;
    let (status, _, visitor) = sign_in(&app, mock, |nonce| {
        let mut c = claims(mock, nonce);
        c["sid"] = json!("sid-1");
        key.sign(&c)
    })
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(visitor.is_connected().await);
    (app, visitor)
}

/// POSTs `token` as a provider would: status and body.
async fn deliver(app: &TestApp, token: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(app.at("/backchannel-logout"))
        .form(&[("logout_token", token)])
        .send()
        .await
        .expect("back-channel logout");
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

async fn assert_refused(app: &TestApp, visitor: &TestApp, token: &str, reason: &str) {
    let (status, body) = deliver(app, token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reason}");
    assert_eq!(body, r#"{"error":"invalid_request"}"#, "{reason}");
    assert!(visitor.is_connected().await, "{reason}: nothing ended");
    let logs = captured_logs();
    assert!(logs.contains(reason), "the log names {reason:?}");
    // (The short malformed ones, "" and "not.a.jwt", are no tokens to leak.)
    assert!(
        token.len() < 20 || !logs.contains(token),
        "the token never reaches a log"
    );
}

#[tokio::test]
async fn c100_every_forged_logout_token_is_refused_and_ends_nothing() {
    let mock = Mock::start().await;
    let key = Key::new("k1");
    let (app, visitor) = signed_in(&mock, &key).await;
    let forged = |edit: &dyn Fn(&mut Value)| {
        let mut c = logout_claims(&mock);
        edit(&mut c);
        key.sign(&c)
    };
    let cases: Vec<(String, &str)> = vec![
        (
            forged(&|c| c["aud"] = json!("another-app")),
            "aud does not name this client",
        ),
        (
            forged(&|c| c["aud"] = json!(["photo-connect", "another-app"])),
            "aud does not name this client",
        ),
        (
            forged(&|c| c["iss"] = json!("https://evil.example")),
            "iss is not the provider's issuer",
        ),
        (
            forged(&|c| drop(c.as_object_mut().map(|o| o.remove("events")))),
            "no back-channel logout event",
        ),
        (
            forged(&|c| c["events"] = json!({"https://other.example/event": {}})),
            "no back-channel logout event",
        ),
        (
            forged(&|c| c["nonce"] = json!("n-1")),
            "a nonce: an ID token",
        ),
        (
            forged(&|c| {
                let o = c.as_object_mut().expect("object");
                o.remove("sid");
                o.remove("sub");
            }),
            "neither sid nor sub",
        ),
        (
            forged(&|c| drop(c.as_object_mut().map(|o| o.remove("jti")))),
            "no jti",
        ),
        (
            forged(&|c| c["iat"] = json!(now() - 3600)),
            "iat is too old",
        ),
        (
            forged(&|c| c["iat"] = json!(now() + 3600)),
            "iat is too old or in the future",
        ),
        (forged(&|c| c["exp"] = json!(now() - 1)), "exp has passed"),
        // Signed by another key under the provider's kid: the signature does not verify.
        (
            Key::new("k1").sign(&logout_claims(&mock)),
            "the signature does not verify",
        ),
        (
            unsigned(&logout_claims(&mock)),
            "an algorithm that is not allowed",
        ),
        ("not.a.jwt".to_owned(), "not a well-formed signed JWT"),
        (String::new(), "not a well-formed signed JWT"),
    ];
    for (token, reason) in &cases {
        assert_refused(&app, &visitor, token, reason).await;
    }
    // Replayed: a valid token for another session is taken once, then refused.
    let mut other = logout_claims(&mock);
    other["sid"] = json!("sid-other");
    other["sub"] = json!("bob");
    let token = key.sign(&other);
    assert_eq!(deliver(&app, &token).await.0, StatusCode::OK);
    assert_refused(&app, &visitor, &token, "its jti was seen before").await;
    // The body without a logout_token at all.
    let response = reqwest::Client::new()
        .post(app.at("/backchannel-logout"))
        .form(&[("token", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // And the same checks pass a valid one: the session ends.
    let (status, _) = deliver(&app, &key.sign(&logout_claims(&mock))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !visitor.is_connected().await,
        "a valid token ends the session"
    );
}

/// `alg: none`, no signature (OIDC Core §16.3 forbids accepting it here too).
fn unsigned(claims: &Value) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    let header = json!({"alg": "none", "typ": "logout+jwt"});
    format!(
        "{}.{}.",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}
