//! ES256 compact JWS (ground floor): the public JWK of a P-256 key, its RFC 7638 thumbprint,
//! and a signed `header.claims.signature`, shared by DPoP proofs and client assertions.
//!
//! Assembled by hand over `p256`'s signer rather than with a JWT crate: both tokens have one
//! fixed shape (ES256, a JSON header and claims), and a JWT crate would add a second crypto
//! backend and key conversions for these few lines.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey, signature::Signer};
use sha2::{Digest, Sha256};

/// The JWS algorithm of every token this app signs (RFC 7518 §3.4).
pub const ES256: &str = "ES256";

/// The base64url `x` and `y` coordinates of a public key (RFC 7518 §6.2.1.2, §6.2.1.3).
pub fn coordinates(key: &VerifyingKey) -> (String, String) {
    let point = key.to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| B64.encode(c)).unwrap_or_default();
    (coordinate(point.x()), coordinate(point.y()))
}

/// The JWK SHA-256 thumbprint of an EC P-256 key (RFC 7638 §3): the required members in
/// lexicographic order, no whitespace (§3.2), hashed and base64url-encoded.
pub fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// `header.claims.signature`, each part base64url without padding (RFC 7515 §7.1), signed with
/// ES256: the fixed-size `r || s` signature of RFC 7518 §3.4, not DER.
pub fn sign(key: &SigningKey, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let signing_input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let signature: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn the_thumbprint_of_rfc_7517_a1_s_p256_key() {
        // The EC key of RFC 7517 Appendix A.1; its thumbprint computed independently (Python:
        // base64url(sha256(json.dumps(required members, sort_keys, no spaces)))).
        assert_eq!(
            thumbprint(
                "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
                "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
            ),
            "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
        );
    }

    #[test]
    fn a_signed_token_verifies_with_the_public_key_over_its_first_two_parts() {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let token = sign(
            &key,
            &serde_json::json!({"alg": ES256}),
            &serde_json::json!({}),
        );
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let signature = Signature::from_slice(&B64.decode(signature).expect("base64url"))
            .expect("r || s, 64 bytes");
        assert!(
            key.verifying_key()
                .verify(input.as_bytes(), &signature)
                .is_ok()
        );
    }
}
