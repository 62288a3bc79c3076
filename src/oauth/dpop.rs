//! DPoP for the client (RFC 9449): the session's ES256 key, the proofs sent with the token,
//! refresh and photos requests, and the nonces servers hand out (§8, §9).
//!
//! **Where the key lives.** Each sign-in makes its own key, kept with the tokens in the
//! session (memory or Redis), never logged and never sent anywhere: the proofs carry only its
//! public half. So it works across instances and restarts exactly as the tokens do, needs no
//! configuration, and one leaked key concerns one session. (A key in a file or an HSM would
//! also protect against a stolen session store; it is the next step, not done here.)
//!
//! The proof is one fixed JWS shape (ES256, the key in the header), signed with `p256` through
//! the crate's `jws` helpers (see there why not a JWT crate).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use crate::{clock::now, jws, random::random_token};

/// A P-256 private key, as its 32-byte scalar in base64url. `Debug` shows only the thumbprint.
#[derive(Clone, Serialize, Deserialize)]
pub struct DpopKey(String);

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey(jkt {})", self.thumbprint().unwrap_or_default())
    }
}

impl DpopKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Self {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        Self(B64.encode(key.to_bytes()))
    }

    fn signing_key(&self) -> Option<SigningKey> {
        let bytes = B64.decode(&self.0).ok()?;
        SigningKey::from_slice(&bytes).ok()
    }

    /// The public key as a JWK's `x` and `y`: what every proof's header carries (RFC 9449 §4.2).
    fn public_jwk(key: &SigningKey) -> (String, String) {
        jws::coordinates(key.verifying_key())
    }

    /// The JWK SHA-256 thumbprint (RFC 7638 §3): the `jkt` a bound token names.
    pub fn thumbprint(&self) -> Option<String> {
        let (x, y) = Self::public_jwk(&self.signing_key()?);
        Some(jws::thumbprint(&x, &y))
    }

    /// A proof for one request (RFC 9449 §4.2): `htm` and `htu` (without query and fragment),
    /// `iat`, a fresh `jti`, `ath` when an access token goes with it (§4.2, §7.1), and the
    /// server's `nonce` when it asked for one (§8, §9). `None` if the stored key is unusable.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now: i64,
    ) -> Option<String> {
        let key = self.signing_key()?;
        let (x, y) = Self::public_jwk(&key);
        let header = json!({
            "typ": "dpop+jwt",
            "alg": jws::ES256,
            "jwk": { "kty": "EC", "crv": "P-256", "x": x, "y": y },
        });
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut claims = json!({
            "jti": random_token(),
            "htm": method,
            "htu": htu.as_str(),
            "iat": now,
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(B64.encode(Sha256::digest(token.as_bytes())));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        Some(jws::sign(&key, &header, &claims))
    }
}

/// The latest `DPoP-Nonce` each server sent, by origin, so the next proof carries it.
#[derive(Debug, Default)]
pub struct Nonces(Mutex<HashMap<String, String>>);

/// Longest nonce kept: it is the server's text, echoed in our proofs.
const MAX_NONCE: usize = 256;

impl Nonces {
    pub fn get(&self, url: &Url) -> Option<String> {
        self.lock()
            .get(&url.origin().ascii_serialization())
            .cloned()
    }

    /// Remembers the `DPoP-Nonce` of a response, if it has a usable one; returns whether it did.
    pub fn remember(&self, url: &Url, headers: &http::HeaderMap) -> bool {
        let Some(nonce) = headers
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .filter(|n| {
                !n.is_empty() && n.len() <= MAX_NONCE && n.bytes().all(|b| b.is_ascii_graphic())
            })
        else {
            return false;
        };
        let mut nonces = self.lock();
        // Bounded: one entry per origin the app talks to (the provider and its photos API).
        if nonces.len() >= 16 {
            nonces.clear();
        }
        nonces.insert(url.origin().ascii_serialization(), nonce.to_owned());
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The key and the nonces for one request.
#[derive(Clone, Debug)]
pub struct Dpop {
    pub key: DpopKey,
    pub nonces: Arc<Nonces>,
}

/// What a request with a proof gets back: its headers (for the server's next nonce) and whether
/// it asks for a nonce to be used.
pub trait NonceChallenge {
    fn headers(&self) -> &http::HeaderMap;
    fn asks_for_nonce(&self) -> bool;
}

impl Dpop {
    /// Sends a request with a fresh proof for `method` and `url` (with `ath` when an access token
    /// goes with it), through `send(proof)`; when the server answers with a new nonce and asks
    /// for one to be used (RFC 9449 §8 at the token endpoint, §9 at a resource), sends it once
    /// more with a proof carrying that nonce. Never more than once. `None` from `proof`: the
    /// stored key is unusable, and `unusable` says how to fail.
    pub async fn send_with_nonce<R, E, Fut>(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        mut send: impl FnMut(String) -> Fut,
        unusable: impl Fn() -> E,
    ) -> Result<R, E>
    where
        R: NonceChallenge,
        Fut: std::future::Future<Output = Result<R, E>>,
    {
        let mut retried = false;
        loop {
            let nonce = self.nonces.get(url);
            let proof = self
                .key
                .proof(method, url, access_token, nonce.as_deref(), now())
                .ok_or_else(&unusable)?;
            let response = send(proof).await?;
            let fresh_nonce = self.nonces.remember(url, response.headers());
            if !retried && fresh_nonce && response.asks_for_nonce() {
                retried = true;
                continue;
            }
            return Ok(response);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};

    /// The claims of a proof.
    #[derive(Debug, serde::Deserialize)]
    struct ProofClaims {
        pub jti: String,
        pub htm: String,
        pub htu: String,
        pub iat: i64,
        #[serde(default)]
        pub ath: Option<String>,
        #[serde(default)]
        pub nonce: Option<String>,
    }

    fn part(proof: &str, i: usize) -> serde_json::Value {
        let text = proof.split('.').nth(i).expect("part");
        serde_json::from_slice(&B64.decode(text).expect("base64url")).expect("json")
    }

    #[test]
    fn a_proof_is_an_es256_jws_over_the_request_with_the_public_key_only() {
        let key = DpopKey::generate();
        let url = Url::parse("https://as.example/token?x=1#f").expect("url");
        let proof = key
            .proof("POST", &url, Some("the-token"), Some("n-1"), 1_700_000_000)
            .expect("proof");
        let header = part(&proof, 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["jwk"].get("d").is_none(), "no private part");
        let claims: ProofClaims = serde_json::from_value(part(&proof, 1)).expect("claims");
        assert_eq!(claims.htm, "POST");
        assert_eq!(
            claims.htu, "https://as.example/token",
            "no query, no fragment"
        );
        assert_eq!(claims.iat, 1_700_000_000);
        assert_eq!(claims.nonce.as_deref(), Some("n-1"));
        assert_eq!(
            claims.ath.as_deref(),
            Some(B64.encode(Sha256::digest(b"the-token")).as_str())
        );
        assert_eq!(claims.jti.len(), 43);

        // The signature verifies with the key in the header, over header.claims.
        let x = B64
            .decode(header["jwk"]["x"].as_str().expect("x"))
            .expect("x");
        let y = B64
            .decode(header["jwk"]["y"].as_str().expect("y"))
            .expect("y");
        let point = p256::EncodedPoint::from_affine_coordinates(
            p256::FieldBytes::from_slice(&x),
            p256::FieldBytes::from_slice(&y),
            false,
        );
        let verifying = VerifyingKey::from_encoded_point(&point).expect("key");
        let (input, signature) = proof.rsplit_once('.').expect("three parts");
        let signature =
            Signature::from_slice(&B64.decode(signature).expect("sig")).expect("64 bytes");
        assert!(verifying.verify(input.as_bytes(), &signature).is_ok());

        let other = key.proof("POST", &url, None, None, 0).expect("proof");
        assert_ne!(part(&other, 1)["jti"], claims.jti, "a fresh jti each time");
        assert!(part(&other, 1).get("ath").is_none());
    }

    #[test]
    fn the_thumbprint_follows_rfc7638_and_debug_shows_nothing_secret() {
        let key = DpopKey::generate();
        let signing = key.signing_key().expect("key");
        let (x, y) = DpopKey::public_jwk(&signing);
        let expected = B64.encode(Sha256::digest(
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#).as_bytes(),
        ));
        assert_eq!(key.thumbprint().as_deref(), Some(expected.as_str()));
        let debug = format!("{key:?}");
        assert!(
            !debug.contains(&key.0) && debug.contains(&expected),
            "{debug}"
        );
        assert!(
            DpopKey("not-a-key".into())
                .proof(
                    "GET",
                    &Url::parse("https://a.example").expect("url"),
                    None,
                    None,
                    0
                )
                .is_none()
        );
    }

    #[test]
    fn nonces_are_remembered_per_origin_and_bounded() {
        let nonces = Nonces::default();
        let url = Url::parse("https://as.example/token").expect("url");
        let mut headers = http::HeaderMap::new();
        assert!(!nonces.remember(&url, &headers));
        headers.insert("dpop-nonce", "abc".parse().expect("value"));
        assert!(nonces.remember(&url, &headers));
        let same_origin = Url::parse("https://as.example/api/photos").expect("url");
        assert_eq!(nonces.get(&same_origin).as_deref(), Some("abc"));
        assert!(
            nonces
                .get(&Url::parse("https://other.example/").expect("url"))
                .is_none()
        );
        headers.insert("dpop-nonce", "a b".parse().expect("value"));
        assert!(!nonces.remember(&url, &headers), "not printable: ignored");
    }

    #[test]
    fn the_nonce_table_keeps_every_origin_up_to_its_bound() {
        let nonces = Nonces::default();
        let mut headers = http::HeaderMap::new();
        headers.insert("dpop-nonce", "n".parse().expect("value"));
        let origin = |i: usize| Url::parse(&format!("https://host{i}.example/")).expect("url");
        for i in 0..16 {
            assert!(nonces.remember(&origin(i), &headers));
        }
        assert!(
            (0..16).all(|i| nonces.get(&origin(i)).is_some()),
            "16 origins are all kept"
        );
        nonces.remember(&origin(16), &headers);
        assert!(
            nonces.get(&origin(0)).is_none(),
            "past the bound the table starts over"
        );
        assert!(nonces.get(&origin(16)).is_some());
    }
}
