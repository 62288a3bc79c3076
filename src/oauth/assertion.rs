//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9,
//! draft-ietf-oauth-rfc7523bis): the client assertion made fresh for every back-channel
//! request, signed ES256 with the client's key.

use serde_json::json;

use crate::{clock, config::ClientKey, jws, random::random_token};

/// `client_assertion_type` (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion is good for this long: enough for one request and its DPoP-nonce retry, short
/// enough that a captured one is soon useless (RFC 7523 §3 point 4 lets the server bound it).
pub const LIFETIME_SECS: i64 = 60;

/// The `typ` draft-ietf-oauth-rfc7523bis gives client assertions, so one cannot be mistaken for
/// (or replayed as) another kind of JWT signed with the same key.
pub const TYP: &str = "client-authentication+jwt";

/// A signed assertion for `client_id`, audience `audience`, made at `now` (RFC 7523 §3):
/// `iss` = `sub` = the client id (point 1, 2), `aud` one string (point 3; rfc7523bis: the
/// issuer identifier, never an array, so it cannot be read as valid for several servers),
/// `exp` soon (point 4), `iat`, and a random 256-bit `jti` (point 7) the server remembers to
/// refuse replays. The header's `kid` is the key's RFC 7638 thumbprint.
pub fn client_assertion(key: &ClientKey, client_id: &str, audience: &str, now: i64) -> String {
    let header = json!({ "alg": jws::ES256, "typ": TYP, "kid": key.kid() });
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now.saturating_add(LIFETIME_SECS),
        "jti": random_token(),
    });
    jws::sign(key.signing_key(), &header, &claims)
}

/// What every assertion of this client is made of: its key, its id and the audience.
#[derive(Clone, Debug)]
pub struct Assertions {
    key: ClientKey,
    client_id: String,
    audience: String,
}

impl Assertions {
    pub fn new(key: ClientKey, client_id: &str, audience: String) -> Self {
        Self {
            key,
            client_id: client_id.to_owned(),
            audience,
        }
    }

    /// The two form parameters of one request, with a fresh assertion (RFC 7523 §2.2): made per
    /// request, so a retry (a DPoP nonce challenge) never repeats a `jti` the server has seen.
    pub fn form_pairs(&self) -> [(&'static str, String); 2] {
        let assertion = client_assertion(&self.key, &self.client_id, &self.audience, clock::now());
        [
            ("client_assertion_type", ASSERTION_TYPE.to_owned()),
            ("client_assertion", assertion),
        ]
    }

    /// The public key set to publish (RFC 7517 §5): this one key.
    pub fn public_jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.key.public_jwk()] })
    }
}

#[cfg(test)]
mod tests;
