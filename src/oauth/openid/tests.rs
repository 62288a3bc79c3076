//! The ID-token checks one by one (OIDC Core §3.1.3.7), on tokens minted here with a P-256 key,
//! and the key cache's one refetch for an unknown `kid`.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{verify::Expected, *};
use openidconnect::core::CoreJsonWebKeySet;

const ISSUER: &str = "https://as.example";
const CLIENT: &str = "photo-connect";
/// The real clock: the library checks `exp` against it.
fn now() -> i64 {
    crate::clock::now()
}

/// A provider's signing key, its `kid` and its JWK.
struct Key {
    key: SigningKey,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Self {
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            kid: kid.into(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        let b64 = |c: Option<&p256::FieldBytes>| c.map(|c| B64.encode(c)).unwrap_or_default();
        json!({"kty": "EC", "crv": "P-256", "x": b64(point.x()), "y": b64(point.y()),
               "use": "sig", "alg": "ES256", "kid": self.kid})
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!("{}.{}", b64_json(&header), b64_json(claims));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }
}

fn b64_json(value: &Value) -> String {
    B64.encode(value.to_string())
}

fn jwks(keys: &[&Key]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}

fn claims() -> Value {
    json!({"iss": ISSUER, "sub": "alice", "aud": CLIENT, "exp": now() + 300, "iat": now(),
           "nonce": "n-1", "name": "Alice"})
}

fn check_with(token: &str, keys: &Value, nonce: Option<&str>) -> Result<Identity, IdTokenError> {
    let keys: CoreJsonWebKeySet = serde_json::from_value(keys.clone()).expect("jwks");
    let nonce = nonce.map(|n| Nonce::new(n.into()));
    let issuer = openidconnect::IssuerUrl::new(ISSUER.into()).expect("issuer");
    let client_id = openidconnect::ClientId::new(CLIENT.into());
    let algs = verify::allowed_algs(None);
    let expected = Expected {
        issuer: &issuer,
        client_id: &client_id,
        algs: &algs,
        nonce: nonce.as_ref(),
        now: now(),
    };
    verify::check(&RawIdToken::new(token.into()), &keys, &expected)
}

/// `claims` changed by `change`, signed with a fresh key, checked at sign-in with nonce `n-1`.
fn checked(change: impl FnOnce(&mut Value)) -> Result<Identity, IdTokenError> {
    let key = Key::new("k1");
    let mut claims = claims();
    change(&mut claims);
    check_with(&key.sign(&claims), &jwks(&[&key]), Some("n-1"))
}

#[test]
fn a_valid_id_token_names_the_person_and_keeps_the_token_redacted() {
    let identity = checked(|_| {}).expect("valid");
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.display_name(), "Alice");
    assert!(
        !format!("{identity:?}").contains("eyJ"),
        "Debug redacts the token"
    );
    let nameless = checked(|c| c["name"] = Value::Null).expect("valid");
    assert_eq!(nameless.display_name(), "alice", "no name: the sub");
}

/// A change to the claims of a valid token.
type Change = Box<dyn FnOnce(&mut Value)>;

#[test]
fn each_claim_check_refuses_its_forgery() {
    use IdTokenError::*;
    let cases: Vec<(&str, Change, IdTokenError)> = vec![
        (
            "wrong iss",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
            Issuer,
        ),
        (
            "iss with a slash",
            Box::new(|c| c["iss"] = json!("https://as.example/")),
            Issuer,
        ),
        (
            "aud without us",
            Box::new(|c| c["aud"] = json!("other-app")),
            Audience,
        ),
        (
            "an untrusted extra aud",
            Box::new(|c| c["aud"] = json!([CLIENT, "other-app"])),
            Audience,
        ),
        (
            "azp of another",
            Box::new(|c| c["azp"] = json!("other-app")),
            AuthorizedParty,
        ),
        (
            "expired",
            Box::new(|c| c["exp"] = json!(now() - 1)),
            Expired,
        ),
        (
            "iat in the future",
            Box::new(|c| c["iat"] = json!(now() + 3600)),
            IssuedInFuture,
        ),
        (
            "nonce missing",
            Box::new(|c| c["nonce"] = Value::Null),
            Nonce,
        ),
        (
            "nonce wrong",
            Box::new(|c| c["nonce"] = json!("n-2")),
            Nonce,
        ),
        (
            "sub too long",
            Box::new(|c| c["sub"] = json!("s".repeat(256))),
            Malformed,
        ),
    ];
    for (name, change, refusal) in cases {
        assert_eq!(checked(change).map(|_| ()), Err(refusal), "{name}");
    }
    assert!(
        checked(|c| c["iat"] = json!(now() + 60)).is_ok(),
        "within the skew"
    );
    assert!(
        checked(|c| c["azp"] = json!(CLIENT)).is_ok(),
        "azp of this client"
    );
}

#[test]
fn only_signed_tokens_with_an_allowed_algorithm_and_a_published_key_pass() {
    let key = Key::new("k1");
    let keys = jwks(&[&key]);
    let body = b64_json(&claims());
    // alg none, no signature (OIDC Core §16.3).
    let none = format!("{}.{body}.", b64_json(&json!({"alg": "none"})));
    assert_eq!(
        check_with(&none, &keys, Some("n-1")).map(|_| ()),
        Err(IdTokenError::Algorithm)
    );
    // HS256 "keyed" with the published public key: algorithm confusion.
    let header = b64_json(&json!({"alg": "HS256", "kid": "k1"}));
    let input = format!("{header}.{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key.jwk().to_string().as_bytes()).expect("key");
    mac.update(input.as_bytes());
    let hs256 = format!("{input}.{}", B64.encode(mac.finalize().into_bytes()));
    assert_eq!(
        check_with(&hs256, &keys, Some("n-1")).map(|_| ()),
        Err(IdTokenError::Algorithm)
    );
    // Signed by another key under the published kid: the signature does not verify.
    let forged = Key::new("k1").sign(&claims());
    assert_eq!(
        check_with(&forged, &keys, Some("n-1")).map(|_| ()),
        Err(IdTokenError::Signature)
    );
    // A kid the set does not have.
    let unknown = Key::new("k2").sign(&claims());
    assert_eq!(
        check_with(&unknown, &keys, Some("n-1")).map(|_| ()),
        Err(IdTokenError::UnknownKey)
    );
    assert_eq!(
        check_with("not.a.jwt", &keys, Some("n-1")).map(|_| ()),
        Err(IdTokenError::Malformed)
    );
}

#[test]
fn a_refreshed_token_needs_no_nonce() {
    let key = Key::new("k1");
    let mut claims = claims();
    claims["nonce"] = Value::Null;
    assert!(
        check_with(&key.sign(&claims), &jwks(&[&key]), None).is_ok(),
        "OIDC Core §12.2"
    );
}

/// A JWKS endpoint that serves `keys` (swappable) and counts its fetches.
async fn jwks_server(keys: Arc<std::sync::Mutex<Value>>) -> (Url, Arc<AtomicUsize>) {
    use crate::http_client::test_server::{response, serve};
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let addr = serve(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        let body = keys.lock().expect("lock").to_string();
        response(
            "200 OK",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    })
    .await;
    (
        Url::parse(&format!("http://{addr}/jwks")).expect("url"),
        fetches,
    )
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once_and_no_more_within_the_cooldown() {
    let (old, new) = (Key::new("k1"), Key::new("k2"));
    let served = Arc::new(std::sync::Mutex::new(jwks(&[&old])));
    let (url, fetches) = jwks_server(served.clone()).await;
    let openid = OpenId::new(
        ISSUER,
        CLIENT,
        url,
        None,
        crate::http_client::test_server::client(),
    )
    .expect("openid");
    let now = crate::clock::now();
    let nonce = Nonce::new("n-1".into());
    let token = |key: &Key| {
        let mut claims = claims();
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + 300);
        RawIdToken::new(key.sign(&claims))
    };
    assert!(
        openid
            .sign_in(Some(&token(&old)), &nonce, now)
            .await
            .is_ok()
    );
    assert!(
        openid
            .sign_in(Some(&token(&old)), &nonce, now)
            .await
            .is_ok()
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "cached");
    // The provider rotates: the new kid is picked up with one refetch.
    *served.lock().expect("lock") = jwks(&[&new]);
    assert!(
        openid
            .sign_in(Some(&token(&new)), &nonce, now)
            .await
            .is_ok()
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // Another unknown kid within the cooldown: refused without fetching again.
    let stranger = Key::new("k3");
    let refused = openid.sign_in(Some(&token(&stranger)), &nonce, now).await;
    assert_eq!(refused.map(|_| ()), Err(IdTokenError::UnknownKey));
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "no refetch storm");
    assert_eq!(
        openid.sign_in(None, &nonce, now).await.map(|_| ()),
        Err(IdTokenError::Missing)
    );
}

#[test]
fn the_advertised_algorithms_narrow_the_allow_list_and_never_widen_it() {
    use openidconnect::core::CoreJwsSigningAlgorithm as Alg;
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        verify::allowed_algs(Some(&names(&["ES256", "none", "HS256"]))),
        [Alg::EcdsaP256Sha256],
        "none and HS* stay out even when advertised"
    );
    assert_eq!(
        verify::allowed_algs(None).len(),
        9,
        "unlisted: every asymmetric one"
    );
    let url = Url::parse("https://as.example/jwks").expect("url");
    let http = crate::http_client::test_server::client();
    let only_hmac = names(&["HS256", "none"]);
    let err =
        OpenId::new(ISSUER, CLIENT, url, Some(&only_hmac), http).expect_err("nothing to accept");
    assert!(
        err.to_string()
            .contains("id_token_signing_alg_values_supported"),
        "{err}"
    );
}

#[test]
fn a_token_in_an_algorithm_the_provider_does_not_list_is_refused() {
    let key = Key::new("k1");
    let keys: CoreJsonWebKeySet = serde_json::from_value(jwks(&[&key])).expect("jwks");
    let (issuer, client_id) = (
        openidconnect::IssuerUrl::new(ISSUER.into()).expect("issuer"),
        openidconnect::ClientId::new(CLIENT.into()),
    );
    let nonce = Nonce::new("n-1".into());
    let rs256_only = verify::allowed_algs(Some(&["RS256".to_string()]));
    let expected = Expected {
        issuer: &issuer,
        client_id: &client_id,
        algs: &rs256_only,
        nonce: Some(&nonce),
        now: now(),
    };
    let token = RawIdToken::new(key.sign(&claims()));
    assert_eq!(
        verify::check(&token, &keys, &expected).map(|_| ()),
        Err(IdTokenError::Algorithm)
    );
}
