//! `OAUTH_CLIENT_KEY_FILE`: the client's private key for `private_key_jwt` (RFC 7523 §2.2),
//! read once at startup from a PEM file, kept in a type that never shows it.
//!
//! EC P-256 only (ES256): PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`), decoded
//! by `p256`'s own `pkcs8`/`sec1` support. Its `kid` is the key's RFC 7638 thumbprint, so the key
//! set the app serves and the key a provider registers name it the same way.

use p256::{SecretKey, ecdsa::SigningKey, pkcs8::DecodePrivateKey};
use zeroize::Zeroizing;

use super::{TokenAuth, vars::Vars};
use crate::jws;

/// A key file larger than this is not a PEM P-256 key (one is about 250 bytes).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The client's signing key. `Debug` shows only its `kid`; the private half is never logged,
/// serialized or sent (only the public JWK and signatures leave the process).
#[derive(Clone)]
pub struct ClientKey {
    key: SigningKey,
    x: String,
    y: String,
    kid: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientKey(kid {})", self.kid)
    }
}

impl ClientKey {
    /// The key of a PEM text, PKCS#8 or SEC1; `None` for anything else (an RSA key, another
    /// curve, a public key, garbage). The reason is not kept: it could quote the input.
    pub fn from_pem(pem: &str) -> Option<Self> {
        let secret = SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| SecretKey::from_sec1_pem(pem))
            .ok()?;
        let key = SigningKey::from(&secret);
        let (x, y) = jws::coordinates(key.verifying_key());
        let kid = jws::thumbprint(&x, &y);
        Some(Self { key, x, y, kid })
    }

    /// Reads the key at `path` for `variable`. The error names the variable and the path, never
    /// the file's content.
    pub(super) fn load(variable: &str, path: &str) -> Result<Self, String> {
        let shown = crate::text::escaped(path, 200);
        let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_KEY_FILE);
        if too_big {
            return Err(format!(
                "{variable}={shown:?} is larger than {MAX_KEY_FILE} bytes: not a PEM EC P-256 key"
            ));
        }
        // Wiped from memory once decoded (the decoded key zeroizes itself on drop too).
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|err| format!("{variable}={shown:?} cannot be read: {err}"))?,
        );
        Self::from_pem(&text).ok_or_else(|| {
            format!(
                "{variable}={shown:?} is not an EC P-256 private key in PEM (PKCS#8 \
                 \"BEGIN PRIVATE KEY\" or SEC1 \"BEGIN EC PRIVATE KEY\"; RSA is not supported)"
            )
        })
    }

    /// The key's id: its RFC 7638 JWK SHA-256 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The signing key, for the client assertion.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public key as a JWK (RFC 7517 §4, RFC 7518 §6.2.1), for a key set a provider fetches
    /// or registers: `use` and `alg` say it signs ES256 and nothing else.
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "use": "sig",
            "alg": jws::ES256,
        })
    }
}

/// `OAUTH_CLIENT_KEY_FILE`, read and decoded: required with `private_key_jwt`, a mistake with
/// any other method (it would be silently unused). `None` when a problem was noted.
pub(super) fn from_vars(
    vars: &mut Vars<impl Fn(&str) -> Option<String>>,
    token_auth: Option<TokenAuth>,
) -> Option<Option<ClientKey>> {
    const NAME: &str = "OAUTH_CLIENT_KEY_FILE";
    let path = vars.get(NAME);
    let problem = match (token_auth, path) {
        (Some(TokenAuth::PrivateKeyJwt), Some(path)) => match ClientKey::load(NAME, &path) {
            Ok(key) => return Some(Some(key)),
            Err(problem) => problem,
        },
        (Some(TokenAuth::PrivateKeyJwt), None) => format!(
            "{NAME} is required when OAUTH_TOKEN_AUTH=private_key_jwt: the path of the client's \
             EC P-256 private key (PEM)"
        ),
        (_, None) => return Some(None),
        // An invalid method is reported under its own name.
        (None, Some(_)) => return Some(None),
        (Some(_), Some(_)) => format!(
            "{NAME} is set, but OAUTH_TOKEN_AUTH is not private_key_jwt: set it, or unset {NAME}"
        ),
    };
    vars.errors.push(problem);
    None
}

#[cfg(test)]
pub(crate) mod test_keys;
