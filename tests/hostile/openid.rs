//! A provider that forges ID tokens (docs/requirements.md C96, C97): with `openid` in the
//! scopes, every check of OIDC Core §3.1.3.7 refuses its forgery before the session is
//! connected, with the friendly page and one log line that never holds the token; the signing
//! keys are fetched again exactly once for an unknown `kid`, which picks up a rotation.

use std::sync::Arc;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use photo_connect::config::{OpenIdProvider, ProviderSource};
use reqwest::{StatusCode, cookie::Jar};
use serde_json::{Value, json};
use sha2::Sha256;
use url::Url;

use crate::{
    mock::{Mock, Reply, TestApp, provider_of, spawn_app},
    support::*,
};

/// The page every refused ID token gets.
const REFUSED: &str = "We could not confirm who you are";

/// A provider signing key and its `kid`.
pub struct Key {
    key: SigningKey,
    kid: &'static str,
}

impl Key {
    pub fn new(kid: &'static str) -> Self {
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            kid,
        }
    }

    fn jwk(&self) -> Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        let b64 = |c: Option<&p256::FieldBytes>| c.map(|c| B64.encode(c)).unwrap_or_default();
        json!({"kty": "EC", "crv": "P-256", "x": b64(point.x()), "y": b64(point.y()),
               "use": "sig", "alg": "ES256", "kid": self.kid})
    }

    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!("{}.{}", b64(&header), b64(claims));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }
}

fn b64(value: &Value) -> String {
    B64.encode(value.to_string())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn serve_keys(mock: &Mock, keys: &[&Key]) {
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    mock.jwks_replies(Reply::Json(200, json!({ "keys": keys }).to_string()));
}

/// The app with `openid photos`, the mock as its issuer and `key` published at its `/jwks`.
pub async fn openid_app(mock: &Mock, key: &Key) -> TestApp {
    serve_keys(mock, &[key]);
    let mut provider = provider_of(mock);
    provider.issuer = Some(mock.url.clone());
    provider.openid = Some(Box::new(OpenIdProvider {
        jwks_url: Url::parse(&format!("{}/jwks", mock.url)).expect("url"),
        id_token_algs: Some(vec!["ES256".into()]),
        end_session_url: None,
    }));
    spawn_app(mock, |config| {
        config.scopes = vec!["openid".into(), "photos".into()];
        config.provider = ProviderSource::Explicit(provider);
    })
    .await
}

/// The claims of a valid ID token for this sign-in's `nonce`.
pub fn claims(mock: &Mock, nonce: &str) -> Value {
    json!({"iss": mock.url, "sub": "alice", "aud": "photo-connect", "exp": now() + 300,
           "iat": now(), "nonce": nonce, "name": "Alice Hostile"})
}

/// Signs in from a fresh browser; the token endpoint answers with the ID token `forge` makes
/// from this sign-in's nonce. Returns the callback's status and page, and that browser.
pub async fn sign_in(
    app: &TestApp,
    mock: &Mock,
    forge: impl FnOnce(&str) -> String,
) -> (StatusCode, String, TestApp) {
    let visitor = TestApp {
        url: app.url.clone(),
        client: browser(Arc::new(Jar::default())),
    };
    let (_, _, home) = fetch(&visitor.client, visitor.at("/")).await;
    let authorize = connect_url(&home);
    let state = param(&authorize, "state").expect("state");
    let nonce = param(&authorize, "nonce").expect("a nonce with openid");
    let id_token = forge(&nonce);
    mock.token_replies(Reply::Json(
        200,
        json!({"access_token": "at-GOOD-1", "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": "rt-GOOD-1", "id_token": id_token})
        .to_string(),
    ));
    let callback = visitor.at(&format!("/cb?code=c&state={state}"));
    let (status, _, body) = fetch(&visitor.client, callback).await;
    assert!(
        !captured_logs().contains(&id_token),
        "the ID token never reaches a log"
    );
    (status, body, visitor)
}

/// Signs in with the ID token `forge` makes and asserts it is refused, with the friendly page,
/// the session not connected, and the log naming `reason`.
async fn assert_refused(
    mock: &Mock,
    forge: impl FnOnce(&Mock, &Key, &str) -> String,
    reason: &str,
) {
    let key = Key::new("k1");
    let app = openid_app(mock, &key).await;
    let (status, body, visitor) = sign_in(&app, mock, |nonce| forge(mock, &key, nonce)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{reason}: {body}");
    assert!(body.contains(REFUSED), "{body}");
    assert!(!visitor.is_connected().await, "{reason}: not connected");
    assert!(
        captured_logs().contains(reason),
        "the log line names {reason:?}"
    );
}

/// `claims` changed by `change`, signed with the published key.
fn signed(change: impl FnOnce(&mut Value)) -> impl FnOnce(&Mock, &Key, &str) -> String {
    move |mock, key, nonce| {
        let mut claims = claims(mock, nonce);
        change(&mut claims);
        key.sign(&claims)
    }
}

#[tokio::test]
async fn c96_a_valid_id_token_connects_and_the_photos_page_names_the_person() {
    let mock = Mock::start().await;
    let key = Key::new("k1");
    let app = openid_app(&mock, &key).await;
    let (status, _, visitor) = sign_in(&app, &mock, |n| key.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = fetch(&visitor.client, visitor.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Signed in as <strong>Alice Hostile</strong>"),
        "{page}"
    );
}

#[tokio::test]
async fn c96_a_wrong_issuer_is_refused() {
    let forge = signed(|c| c["iss"] = json!("https://evil.example"));
    assert_refused(
        &Mock::start().await,
        forge,
        "iss is not the provider's issuer",
    )
    .await;
}

#[tokio::test]
async fn c96_an_audience_without_this_client_is_refused() {
    let forge = signed(|c| c["aud"] = json!(["another-app"]));
    assert_refused(&Mock::start().await, forge, "aud does not name this client").await;
}

#[tokio::test]
async fn c96_an_azp_of_another_client_is_refused() {
    let forge = signed(|c| c["azp"] = json!("another-app"));
    assert_refused(&Mock::start().await, forge, "azp is not this client").await;
}

#[tokio::test]
async fn c96_an_expired_id_token_is_refused() {
    let forge = signed(|c| c["exp"] = json!(now() - 5));
    assert_refused(&Mock::start().await, forge, "the ID token has expired").await;
}

#[tokio::test]
async fn c96_an_iat_far_in_the_future_is_refused() {
    let forge = signed(|c| c["iat"] = json!(now() + 3600));
    assert_refused(&Mock::start().await, forge, "iat is in the future").await;
}

#[tokio::test]
async fn c96_a_missing_or_wrong_nonce_is_refused() {
    let missing = signed(|c| c["nonce"] = Value::Null);
    assert_refused(&Mock::start().await, missing, "nonce is missing or not").await;
    let wrong = signed(|c| c["nonce"] = json!("a-nonce-of-another-sign-in"));
    assert_refused(&Mock::start().await, wrong, "nonce is missing or not").await;
}

#[tokio::test]
async fn c96_alg_none_is_refused() {
    let forge = |mock: &Mock, _: &Key, nonce: &str| {
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none"})),
            b64(&claims(mock, nonce))
        )
    };
    assert_refused(&Mock::start().await, forge, "algorithm is not allowed").await;
}

#[tokio::test]
async fn c96_hs256_keyed_with_the_public_key_is_refused() {
    let forge = |mock: &Mock, key: &Key, nonce: &str| {
        let input = format!(
            "{}.{}",
            b64(&json!({"alg": "HS256", "kid": key.kid})),
            b64(&claims(mock, nonce))
        );
        // The classic algorithm confusion: the published key's bytes as the HMAC secret.
        let secret = key.jwk().to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(input.as_bytes());
        format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
    };
    assert_refused(&Mock::start().await, forge, "algorithm is not allowed").await;
}

#[tokio::test]
async fn c96_a_bad_signature_is_refused() {
    // Signed by another key under the published kid.
    let forge = |mock: &Mock, key: &Key, nonce: &str| Key::new(key.kid).sign(&claims(mock, nonce));
    assert_refused(&Mock::start().await, forge, "signature does not verify").await;
}

#[tokio::test]
async fn c96_a_token_response_without_an_id_token_is_refused() {
    let mock = Mock::start().await;
    let app = openid_app(&mock, &Key::new("k1")).await;
    let (status, body) = app.callback("c").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains(REFUSED));
    assert!(!app.is_connected().await);
}

#[tokio::test]
async fn c97_an_unknown_kid_is_refused_after_exactly_one_refetch_and_no_more() {
    let mock = Mock::start().await;
    let key = Key::new("k1");
    let app = openid_app(&mock, &key).await;
    let (status, _, _) = sign_in(&app, &mock, |n| key.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(mock.hits("/jwks").len(), 1, "fetched at the first ID token");

    let stranger = Key::new("k-unknown");
    let (status, body, visitor) = sign_in(&app, &mock, |n| stranger.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains(REFUSED));
    assert!(!visitor.is_connected().await);
    assert_eq!(mock.hits("/jwks").len(), 2, "exactly one refetch");
    assert!(captured_logs().contains("a key the provider does not publish"));

    // More unknown kids right after: refused from the cache, no refetch storm.
    for _ in 0..3 {
        let (status, _, _) = sign_in(&app, &mock, |n| stranger.sign(&claims(&mock, n))).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
    }
    assert_eq!(
        mock.hits("/jwks").len(),
        2,
        "no refetch within the cooldown"
    );
}

#[tokio::test]
async fn c97_a_rotated_key_is_picked_up_with_one_refetch() {
    let mock = Mock::start().await;
    let (old, new) = (Key::new("k1"), Key::new("k2"));
    let app = openid_app(&mock, &old).await;
    let (status, _, _) = sign_in(&app, &mock, |n| old.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The provider rotates: the new key is published, the old one withdrawn.
    serve_keys(&mock, &[&new]);
    let (status, body, visitor) = sign_in(&app, &mock, |n| new.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(visitor.is_connected().await);
    assert_eq!(
        mock.hits("/jwks").len(),
        2,
        "one refetch picked up the new kid"
    );
    let (status, _, _) = sign_in(&app, &mock, |n| new.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(mock.hits("/jwks").len(), 2, "then cached");
}

#[tokio::test]
async fn c96_a_refreshed_id_token_for_another_person_ends_the_connection() {
    let mock = Mock::start().await;
    let key = Key::new("k1");
    let app = openid_app(&mock, &key).await;
    let (status, _, visitor) = sign_in(&app, &mock, |n| key.sign(&claims(&mock, n))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The photos API calls the token dead; the refresh brings an ID token about someone else.
    mock.photos_replies(vec![crate::mock::invalid_token()]);
    let mut other = claims(&mock, "unused");
    other["sub"] = json!("mallory");
    other.as_object_mut().expect("object").remove("nonce");
    mock.refresh_replies(vec![Reply::Json(
        200,
        json!({"access_token": "at-GOOD-2", "token_type": "Bearer", "expires_in": 3600,
               "refresh_token": "rt-GOOD-2", "id_token": key.sign(&other)})
        .to_string(),
    )]);
    let (status, _, _) = fetch(&visitor.client, visitor.at("/photos")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "OIDC Core §12.2: same sub or nothing"
    );
    assert!(!visitor.is_connected().await, "the tokens are forgotten");
}
