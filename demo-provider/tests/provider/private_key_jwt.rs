//! `private_key_jwt` (RFC 7523 sections 2.2 and 3): a client registered with a public key
//! authenticates with a signed assertion at the token, revocation and PAR endpoints, and every
//! broken rule is refused with `invalid_client` (two methods at once: `invalid_request`).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use demo_provider::RegisteredClient;
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use rand::RngCore;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const JWT_ID: &str = "jwt-client";
const JWT_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A refresh with an unknown token: answers `invalid_grant` once the client is authenticated.
const PROBE: &[(&str, &str)] = &[
    ("grant_type", "refresh_token"),
    ("refresh_token", "unknown-refresh-token"),
];

fn now() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_secs()).expect("seconds")
}

fn jti() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

fn public_jwk(key: &SigningKey) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().expect("x"), point.y().expect("y"));
    json!({ "kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y), "kid": "k1" })
}

fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature.to_bytes()))
}

/// The provider with [`JWT_ID`] registered with `key`'s public JWK (in a key set) beside the
/// usual secret clients.
async fn provider_with(key: &SigningKey) -> Provider {
    let mut settings = settings();
    settings.clients.push(RegisteredClient {
        jwks: Some(json!({ "keys": [public_jwk(key)] })),
        ..registered(JWT_ID, "unused-secret-of-jwt-client", &[REDIRECT_URI])
    });
    spawn_with(settings).await
}

fn header() -> Value {
    json!({ "alg": "ES256", "typ": "client-authentication+jwt", "kid": "k1" })
}

fn claims(provider: &Provider) -> Value {
    json!({
        "iss": JWT_ID, "sub": JWT_ID, "aud": provider.issuer,
        "iat": now(), "exp": now() + 60, "jti": jti(),
    })
}

/// `POST path` with `form` and the assertion, no other authentication.
async fn post(provider: &Provider, path: &str, form: &[(&str, &str)], assertion: &str) -> Reply {
    let mut form = form.to_vec();
    form.extend([
        ("client_assertion_type", JWT_TYPE),
        ("client_assertion", assertion),
    ]);
    let request = provider.http.post(provider.url(path)).form(&form);
    Reply::from(request.send().await.expect("request")).await
}

fn assert_invalid_client(reply: &Reply, why: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{why}: {}",
        reply.body
    );
    assert_eq!(reply.error(), "invalid_client", "{why}");
    assert!(
        is_error_charset(reply.description()),
        "{}",
        reply.description()
    );
}

#[tokio::test]
async fn c98_an_assertion_authenticates_at_the_token_revocation_and_par_endpoints() {
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let provider = provider_with(&key).await;
    let sign_one = || sign(&key, &header(), &claims(&provider));
    let request = AuthRequest::for_client(JWT_ID, REDIRECT_URI);
    let code = provider.code_for(&request).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", request.pkce.verifier.as_str()),
        ("client_id", JWT_ID),
    ];
    let reply = post(&provider, "/oauth/token", &form, &sign_one()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
    let reply = post(&provider, "/oauth/token", &form, &sign_one()).await;
    assert_eq!(reply.status, StatusCode::OK, "refresh: {}", reply.body);
    let refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();
    let form = [
        ("token", refresh.as_str()),
        ("token_type_hint", "refresh_token"),
    ];
    let reply = post(&provider, "/oauth/revoke", &form, &sign_one()).await;
    assert_eq!(reply.status, StatusCode::OK, "revoke: {}", reply.body);
    let params = AuthRequest::for_client(JWT_ID, REDIRECT_URI).params;
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = post(&provider, "/oauth/par", &params, &sign_one()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "par: {}", reply.body);
    let seen = provider.state.token_requests();
    assert!(
        seen.iter().all(|s| s.auth_method == "private_key_jwt"),
        "{seen:?}"
    );
    // The token endpoint URL is accepted as the audience too (RFC 7523 section 3 point 3).
    let mut to_endpoint = claims(&provider);
    to_endpoint["aud"] = json!(provider.url("/oauth/token"));
    let reply = post(
        &provider,
        "/oauth/token",
        PROBE,
        &sign(&key, &header(), &to_endpoint),
    )
    .await;
    assert_eq!(reply.error(), "invalid_grant", "{}", reply.body);
}

#[tokio::test]
async fn c98_every_broken_rule_is_refused_as_invalid_client() {
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let provider = provider_with(&key).await;
    let other = SigningKey::random(&mut rand::rngs::OsRng);
    let with = |name: &str, value: Value| {
        let mut claims = claims(&provider);
        claims[name] = value;
        sign(&key, &header(), &claims)
    };
    let header_with = |name: &str, value: Value| {
        let mut header = header();
        header[name] = value;
        sign(&key, &header, &claims(&provider))
    };
    let unsigned = {
        let none = json!({ "alg": "none", "typ": "client-authentication+jwt" });
        let input = format!(
            "{}.{}",
            B64.encode(none.to_string()),
            B64.encode(claims(&provider).to_string())
        );
        format!("{input}.")
    };
    let hs256 = header_with("alg", json!("HS256"));
    let cases = [
        ("wrong aud", with("aud", json!("https://other.example"))),
        ("aud array", with("aud", json!([provider.issuer]))),
        ("expired", with("exp", json!(now() - 1))),
        ("exp too far", with("exp", json!(now() + 3600))),
        ("no exp", {
            let mut claims = claims(&provider);
            claims.as_object_mut().map(|c| c.remove("exp"));
            sign(&key, &header(), &claims)
        }),
        ("iss not the client", with("iss", json!("someone-else"))),
        ("no jti", with("jti", json!(""))),
        ("bad signature", sign(&other, &header(), &claims(&provider))),
        ("alg none", unsigned),
        ("alg HS256", hs256),
        ("typ of a DPoP proof", header_with("typ", json!("dpop+jwt"))),
        ("unknown client", {
            let mut claims = claims(&provider);
            claims["iss"] = json!("nobody");
            claims["sub"] = json!("nobody");
            sign(&key, &header(), &claims)
        }),
        ("secret client", {
            let mut claims = claims(&provider);
            claims["iss"] = json!(CLIENT_ID);
            claims["sub"] = json!(CLIENT_ID);
            sign(&key, &header(), &claims)
        }),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (why, assertion) in &cases {
        let reply = post(&provider, "/oauth/token", PROBE, assertion).await;
        assert_invalid_client(&reply, why);
    }
    // The same refusals at revocation and PAR, through the same check.
    let form = [("token", "x")];
    let reply = post(&provider, "/oauth/revoke", &form, &cases[0].1).await;
    assert_invalid_client(&reply, "revocation, wrong aud");
    let reply = post(
        &provider,
        "/oauth/par",
        &[("client_id", JWT_ID)],
        &cases[2].1,
    )
    .await;
    assert_invalid_client(&reply, "PAR, expired");
}

#[tokio::test]
async fn c98_a_jti_works_once() {
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let provider = provider_with(&key).await;
    let assertion = sign(&key, &header(), &claims(&provider));
    let first = post(&provider, "/oauth/token", PROBE, &assertion).await;
    assert_eq!(
        first.error(),
        "invalid_grant",
        "authenticated: {}",
        first.body
    );
    let replayed = post(&provider, "/oauth/token", PROBE, &assertion).await;
    assert_invalid_client(&replayed, "replayed jti");
    assert!(
        replayed.description().contains("jti"),
        "{}",
        replayed.description()
    );
}

#[tokio::test]
async fn c98_two_methods_at_once_and_a_secret_for_a_key_client_are_refused() {
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let provider = provider_with(&key).await;
    // An assertion and HTTP Basic: RFC 6749 section 5.2's invalid_request.
    let mut form = PROBE.to_vec();
    let assertion = sign(&key, &header(), &claims(&provider));
    form.extend([
        ("client_assertion_type", JWT_TYPE),
        ("client_assertion", &assertion),
    ]);
    let both = provider
        .token_as(JWT_ID, "unused-secret-of-jwt-client", &form)
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST, "{}", both.body);
    assert_eq!(both.error(), "invalid_request");
    let assertion = sign(&key, &header(), &claims(&provider));
    let form = [
        PROBE[0],
        PROBE[1],
        ("client_id", JWT_ID),
        ("client_secret", "x"),
    ];
    let both = post(&provider, "/oauth/token", &form, &assertion).await;
    assert_eq!(both.error(), "invalid_request", "{}", both.body);
    // The key client's registered secret is not a way in (one method per client).
    let reply = provider
        .token_as(JWT_ID, "unused-secret-of-jwt-client", PROBE)
        .await;
    assert_invalid_client(&reply, "a secret for a key client");
    // A wrong assertion type, and a client_id other than the assertion's sub.
    let assertion = sign(&key, &header(), &claims(&provider));
    let request = provider.http.post(provider.url("/oauth/token")).form(&[
        PROBE[0],
        PROBE[1],
        ("client_assertion_type", "urn:example:other"),
        ("client_assertion", &assertion),
    ]);
    let reply = Reply::from(request.send().await.expect("request")).await;
    assert_invalid_client(&reply, "assertion type");
    let form = [PROBE[0], PROBE[1], ("client_id", CLIENT_ID)];
    let reply = post(&provider, "/oauth/token", &form, &assertion).await;
    assert_invalid_client(&reply, "client_id is not sub");
}

#[tokio::test]
async fn c98_the_metadata_advertises_private_key_jwt_with_es256() {
    let provider = spawn().await;
    let url = provider.url("/.well-known/oauth-authorization-server");
    let metadata: Value = provider
        .http
        .get(url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    for endpoint in ["token", "revocation"] {
        let methods = &metadata[format!("{endpoint}_endpoint_auth_methods_supported")];
        assert!(
            methods
                .as_array()
                .expect("a list")
                .contains(&json!("private_key_jwt"))
        );
        let algs = &metadata[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")];
        assert_eq!(algs, &json!(["ES256"]));
    }
}
