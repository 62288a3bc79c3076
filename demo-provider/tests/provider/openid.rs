//! OpenID Connect (C96's provider side): the discovery document, the JWKS, and the signed ID
//! token a token response carries when `openid` was granted, with the request's nonce.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::{
    EncodedPoint,
    ecdsa::{Signature, VerifyingKey, signature::Verifier},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The JSON of part `i` of a compact JWS.
fn part(token: &str, i: usize) -> Value {
    let bytes = B64
        .decode(token.split('.').nth(i).expect("part"))
        .expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

async fn get_json(provider: &Provider, path: &str) -> Value {
    let reply = Reply::from(
        provider
            .http
            .get(provider.url(path))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    reply.json
}

/// Whether `token`'s ES256 signature verifies with the key of the provider's JWKS named by its
/// `kid`.
async fn verifies(provider: &Provider, token: &str) -> bool {
    let jwks = get_json(provider, "/oauth/jwks").await;
    let kid = part(token, 0)["kid"].clone();
    let Some(jwk) = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid)
    else {
        return false;
    };
    let coordinate = |c: &str| B64.decode(jwk[c].as_str().expect("str")).expect("b64");
    let point = EncodedPoint::from_affine_coordinates(
        coordinate("x").as_slice().into(),
        coordinate("y").as_slice().into(),
        false,
    );
    let key = VerifyingKey::from_encoded_point(&point).expect("a P-256 point");
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = Signature::from_slice(&B64.decode(signature).expect("b64")).expect("r||s");
    key.verify(input.as_bytes(), &signature).is_ok()
}

#[tokio::test]
async fn the_openid_configuration_repeats_the_oauth_metadata_and_adds_the_oidc_members() {
    let provider = spawn().await;
    let oidc = get_json(&provider, "/.well-known/openid-configuration").await;
    let oauth = get_json(&provider, "/.well-known/oauth-authorization-server").await;
    for (name, value) in oauth.as_object().expect("object") {
        assert_eq!(&oidc[name], value, "{name} is the same in both documents");
    }
    assert_eq!(oidc["issuer"], provider.issuer.as_str());
    assert_eq!(oidc["jwks_uri"], provider.url("/oauth/jwks").as_str());
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(oidc["subject_types_supported"], json!(["public"]));
    assert_eq!(oidc["response_types_supported"], json!(["code"]));
    let listed = |name: &str, value: &str| {
        oidc[name]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == value))
    };
    assert!(listed("scopes_supported", "openid"));
    for claim in [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "name",
        "sid",
    ] {
        assert!(listed("claims_supported", claim), "{claim}");
    }
}

#[tokio::test]
async fn the_jwks_publishes_one_p256_signing_key_with_a_kid_and_no_private_part() {
    let provider = spawn().await;
    let jwks = get_json(&provider, "/oauth/jwks").await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(
        (key["use"].as_str(), key["alg"].as_str()),
        (Some("sig"), Some("ES256"))
    );
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(
        key.get("d").is_none(),
        "the private scalar never leaves the provider"
    );
}

#[tokio::test]
async fn an_openid_sign_in_gets_a_signed_id_token_with_every_claim_and_the_nonce() {
    let provider = spawn().await;
    let request = AuthRequest::new()
        .set("scope", "openid photos")
        .set("nonce", "n-0S6_WzA2Mj");
    let code = provider.code_for(&request).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.json["id_token"].as_str().expect("an id_token");
    assert_eq!(part(token, 0)["alg"], "ES256");
    assert!(
        verifies(&provider, token).await,
        "signed with the published key"
    );
    let claims = part(token, 1);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["name"], "Alice");
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    assert!(matches!((iat, exp), (Some(iat), Some(exp)) if exp > iat));
    assert!(claims["auth_time"].as_i64().is_some_and(|t| Some(t) <= iat));
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));

    // OIDC Core §12.2: a refresh brings a new ID token for the same person, without a nonce.
    let refresh_token = reply.json["refresh_token"].as_str().expect("rt");
    let refreshed = provider.refresh(refresh_token).await;
    let again = refreshed.json["id_token"]
        .as_str()
        .expect("an id_token on refresh");
    assert!(verifies(&provider, again).await);
    let renewed = part(again, 1);
    for same in ["iss", "sub", "aud", "auth_time", "sid"] {
        assert_eq!(renewed[same], claims[same], "{same}");
    }
    assert!(renewed.get("nonce").is_none());
}

#[tokio::test]
async fn without_openid_there_is_no_id_token_and_an_oversized_nonce_is_refused() {
    let provider = spawn().await;
    let request = AuthRequest::new().set("nonce", "ignored-without-openid");
    let code = provider.code_for(&request).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json.get("id_token").is_none(), "{}", reply.body);

    let long = AuthRequest::new()
        .set("scope", "openid photos")
        .set("nonce", &"n".repeat(513));
    let refused = provider.authorize(&long).await;
    assert_eq!(
        refused.params().get("error").map(String::as_str),
        Some("invalid_request")
    );
}
