//! OpenID Connect ID tokens (OIDC Core §2, §3.1.3.3): the provider's ES256 signing key, its
//! public JWKS (RFC 7517) and the signed ID token a token response carries when `openid` was
//! granted.
//!
//! The JWT is written by hand with `p256`, not with a JWT crate: this is a teaching provider,
//! the token has one fixed shape (ES256, compact JWS, RFC 7515 §7.1), and these few lines show
//! exactly what a signed ID token is; the client verifies it with a real OIDC library.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{
    Signature, SigningKey,
    signature::{Signer, Verifier},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The one signing algorithm (OIDC Discovery `id_token_signing_alg_values_supported`).
pub const ALG: &str = "ES256";
/// How long an ID token is valid, in seconds (OIDC Core §2 `exp`).
pub const LIFETIME_SECS: i64 = 300;
/// The longest `nonce` accepted in an authorization request: it comes back in the ID token.
pub const MAX_NONCE_BYTES: usize = 512;
/// The scope that turns a sign-in into an OpenID Connect authentication (OIDC Core §3.1.2.1).
pub const OPENID: &str = "openid";

/// The provider's ID-token signing key, made at startup, with its `kid`.
pub struct IdTokenKey {
    key: SigningKey,
    kid: String,
}

/// What one ID token says (OIDC Core §2), beyond what the provider knows itself.
pub struct Claims<'a> {
    pub client_id: &'a str,
    pub user_id: &'a str,
    pub user_name: &'a str,
    /// The authorization request's `nonce`, echoed unchanged (OIDC Core §3.1.2.1); none on
    /// refresh (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
    /// When the user consented: the authentication time, kept across refreshes (§12.2).
    pub auth_time: i64,
    /// The provider-side session the grant belongs to (OIDC Front/Back-Channel Logout `sid`).
    pub sid: &'a str,
}

/// The event a logout token carries (OIDC Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Whose session a logout token ends, and for which client (OIDC Back-Channel Logout 1.0 §2.4).
pub struct Logout<'a> {
    pub client_id: &'a str,
    pub user_id: Option<&'a str>,
    pub sid: Option<&'a str>,
    /// A fresh random token identifier: the client refuses one it has seen (§2.6).
    pub jti: &'a str,
}

impl IdTokenKey {
    pub fn generate() -> Self {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        // The kid: the first bytes of the public key's SHA-256, enough to tell keys apart.
        let point = key.verifying_key().to_encoded_point(false);
        let kid = B64.encode(&Sha256::digest(point.as_bytes())[..12]);
        Self { key, kid }
    }

    /// The public key as a JWK Set (RFC 7517 §5), for the `jwks_uri`.
    pub fn jwks(&self) -> Value {
        let point = self.key.verifying_key().to_encoded_point(false);
        let coordinate =
            |c: Option<&p256::FieldBytes>| c.map(|c| B64.encode(c)).unwrap_or_default();
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": coordinate(point.x()),
            "y": coordinate(point.y()),
            "use": "sig",
            "alg": ALG,
            "kid": self.kid,
        }]})
    }

    /// A signed ID token (OIDC Core §2, §3.1.3.3) from `issuer` at `now`.
    pub fn issue(&self, issuer: &str, claims: &Claims<'_>, now: i64) -> String {
        let mut payload = json!({
            "iss": issuer,
            "sub": claims.user_id,
            // OIDC Core §2: aud contains the client id; one audience, so no azp is needed.
            "aud": claims.client_id,
            "exp": now.saturating_add(LIFETIME_SECS),
            "iat": now,
            "auth_time": claims.auth_time,
            "name": claims.user_name,
            "sid": claims.sid,
        });
        if let Some(nonce) = claims.nonce {
            payload["nonce"] = json!(nonce);
        }
        self.sign(&payload)
    }

    /// A logout token (OIDC Back-Channel Logout 1.0 §2.4) for `client_id`, about user `sub`'s
    /// session `sid`: signed like an ID token, with the back-channel logout event, a fresh
    /// `jti` (`logout.jti`, random), and never a `nonce` (§2.4: so it cannot pass for an ID
    /// token).
    pub fn logout_token(&self, issuer: &str, logout: &Logout<'_>, now: i64) -> String {
        let mut payload = json!({
            "iss": issuer,
            "aud": logout.client_id,
            "iat": now,
            "exp": now.saturating_add(LIFETIME_SECS),
            "jti": logout.jti,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        });
        // §2.4: sid, sub, or both (this provider sends both; tests send one).
        if let Some(sub) = logout.user_id {
            payload["sub"] = json!(sub);
        }
        if let Some(sid) = logout.sid {
            payload["sid"] = json!(sid);
        }
        self.sign_typed(&payload, "logout+jwt")
    }

    /// The claims of a token this key signed (an `id_token_hint`, OIDC RP-Initiated Logout 1.0
    /// §2), `None` if it is not one: wrong shape, algorithm, key or signature. Its `exp` is not
    /// checked: an expired ID token is still a good hint (§2).
    pub fn verify_own(&self, token: &str) -> Option<Value> {
        let (input, signature) = token.rsplit_once('.')?;
        let (header, payload) = input.split_once('.')?;
        let header: Value = serde_json::from_slice(&B64.decode(header).ok()?).ok()?;
        if header["alg"] != ALG || header["kid"] != self.kid.as_str() {
            return None;
        }
        let signature = Signature::from_slice(&B64.decode(signature).ok()?).ok()?;
        self.key
            .verifying_key()
            .verify(input.as_bytes(), &signature)
            .ok()?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// The compact JWS of `payload` (RFC 7515 §3.1): header, payload and the ES256 signature,
    /// which is R || S, 64 bytes (RFC 7518 §3.4), not DER.
    fn sign(&self, payload: &Value) -> String {
        self.sign_typed(payload, "JWT")
    }

    /// [`IdTokenKey::sign`] with the header's `typ` (RFC 7519 §5.1).
    fn sign_typed(&self, payload: &Value, typ: &str) -> String {
        let header = json!({"alg": ALG, "typ": typ, "kid": self.kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(payload.to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use p256::{
        EncodedPoint,
        ecdsa::{VerifyingKey, signature::Verifier},
    };

    use super::*;

    fn part(token: &str, i: usize) -> Value {
        let bytes = B64
            .decode(token.split('.').nth(i).expect("part"))
            .expect("b64");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[test]
    fn an_id_token_verifies_with_the_published_key_and_carries_the_claims() {
        let key = IdTokenKey::generate();
        let claims = Claims {
            client_id: "app",
            user_id: "alice",
            user_name: "Alice",
            nonce: Some("n-1"),
            auth_time: 90,
            sid: "s-1",
        };
        let token = key.issue("http://as", &claims, 100);
        let header = part(&token, 0);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], key.jwks()["keys"][0]["kid"]);
        let payload = part(&token, 1);
        for (name, value) in [
            ("iss", json!("http://as")),
            ("sub", json!("alice")),
            ("aud", json!("app")),
            ("exp", json!(400)),
            ("iat", json!(100)),
            ("auth_time", json!(90)),
            ("nonce", json!("n-1")),
            ("name", json!("Alice")),
            ("sid", json!("s-1")),
        ] {
            assert_eq!(payload[name], value, "{name}");
        }
        let jwk = &key.jwks()["keys"][0];
        let coordinate = |c: &str| B64.decode(jwk[c].as_str().expect("str")).expect("b64");
        let point = EncodedPoint::from_affine_coordinates(
            coordinate("x").as_slice().into(),
            coordinate("y").as_slice().into(),
            false,
        );
        let public = VerifyingKey::from_encoded_point(&point).expect("key");
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let signature = Signature::from_slice(&B64.decode(signature).expect("b64")).expect("r||s");
        assert!(public.verify(input.as_bytes(), &signature).is_ok());
        let refresh = key.issue(
            "http://as",
            &Claims {
                nonce: None,
                ..claims
            },
            100,
        );
        assert!(part(&refresh, 1).get("nonce").is_none(), "OIDC Core §12.2");
    }
}
