//! Tests of the client assertion: its header, claims and signature, and a fresh `jti` each time.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};

use super::*;
use crate::config::test_keys::{KID, PKCS8_PEM, SEC1_PEM};

fn part(token: &str, index: usize) -> serde_json::Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}

fn key() -> ClientKey {
    ClientKey::from_pem(SEC1_PEM).expect("a P-256 key")
}

#[test]
fn the_assertion_has_rfc_7523_claims_and_a_7523bis_header() {
    let key = key();
    let token = client_assertion(&key, "photo-connect", "https://as.example", 1_000);
    let header = part(&token, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "client-authentication+jwt");
    assert_eq!(header["kid"], key.kid());
    assert_eq!(header.as_object().map(|h| h.len()), Some(3), "{header}");
    let claims = part(&token, 1);
    assert_eq!(claims["iss"], "photo-connect");
    assert_eq!(claims["sub"], "photo-connect");
    assert_eq!(
        claims["aud"], "https://as.example",
        "one string, not an array"
    );
    assert_eq!(claims["iat"], 1_000);
    assert_eq!(claims["exp"], 1_060);
    assert_eq!(claims["jti"].as_str().map(str::len), Some(43), "256 bits");
}

#[test]
fn the_signature_verifies_with_the_public_jwk_and_the_kid_is_its_thumbprint() {
    let key = key();
    let token = client_assertion(&key, "c", "https://as.example", 1);
    let jwk = key.public_jwk();
    let coordinate = |name: &str| B64.decode(jwk[name].as_str().expect("text")).expect("b64");
    let point = p256::EncodedPoint::from_affine_coordinates(
        coordinate("x").as_slice().into(),
        coordinate("y").as_slice().into(),
        false,
    );
    let public = VerifyingKey::from_encoded_point(&point).expect("on the curve");
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = Signature::from_slice(&B64.decode(signature).expect("b64")).expect("r || s");
    assert!(public.verify(input.as_bytes(), &signature).is_ok());
    let (x, y) = (
        jwk["x"].as_str().unwrap_or(""),
        jwk["y"].as_str().unwrap_or(""),
    );
    assert_eq!(jwk["kid"], jws::thumbprint(x, y));
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256"))
    );
    assert_eq!(
        (jwk["use"].as_str(), jwk["alg"].as_str()),
        (Some("sig"), Some("ES256"))
    );
    assert!(jwk.get("d").is_none(), "never the private part");
}

#[test]
fn every_assertion_has_its_own_jti() {
    let key = key();
    let a = client_assertion(&key, "c", "https://as.example", 1);
    let b = client_assertion(&key, "c", "https://as.example", 1);
    assert_ne!(part(&a, 1)["jti"], part(&b, 1)["jti"]);
}

#[test]
fn pkcs8_and_sec1_give_the_same_key_and_debug_shows_only_the_kid() {
    let sec1 = key();
    let pkcs8 = ClientKey::from_pem(PKCS8_PEM).expect("the same key in PKCS#8");
    assert_eq!(sec1.kid(), KID, "RFC 7638 over crv, kty, x, y");
    assert_eq!(pkcs8.kid(), KID);
    let shown = format!("{sec1:?}");
    assert_eq!(shown, format!("ClientKey(kid {})", sec1.kid()));
    for not_a_key in [
        "",
        "garbage",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(ClientKey::from_pem(not_a_key).is_none(), "{not_a_key}");
    }
}
