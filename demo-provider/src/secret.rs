//! Secrets and random values: [`Secret`], a client secret that never shows in `Debug` and is
//! compared in constant time, and [`random_token`], the source of every code, token and id.

use std::fmt;

use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A secret value (a client secret). `Debug` prints `Secret([redacted])`, so a secret never
/// reaches a log line through `{:?}`; read it with [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Every caller is a place the secret can leak from: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this secret, in time that does not depend on how much of it
    /// matches (RFC 6749 §10.10 asks that secrets resist guessing; a timing oracle would let a
    /// guesser learn them byte by byte).
    pub fn matches(&self, candidate: &str) -> bool {
        candidate.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// 32 bytes from the operating system's CSPRNG, base64url without padding (43 characters).
/// 256 bits leave far less than the 2^-128 guessing odds RFC 6749 §10.10 requires of codes and
/// tokens.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a42_random_tokens_are_256_bit_base64url_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let token = random_token();
            assert_eq!(token.len(), 43, "32 bytes, base64url without padding");
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&token)
                .expect("base64url");
            assert_eq!(decoded.len(), 32);
            assert!(seen.insert(token), "a duplicate token");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_compared_exactly() {
        let secret = Secret::new("s3cret-value");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(
            format!("{:?}", Some(secret.clone())),
            "Some(Secret([redacted]))"
        );
        assert_eq!(secret.expose(), "s3cret-value");
        assert!(secret.matches("s3cret-value"));
        for wrong in ["", "s3cret-valu", "s3cret-value ", "S3CRET-VALUE"] {
            assert!(!secret.matches(wrong), "{wrong:?}");
        }
    }
}
