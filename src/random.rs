//! Random tokens (ground floor): session-lock owners, CSRF tokens, DPoP proof ids.

use rand::RngCore;

/// 256 random bits from the OS CSPRNG, base64url without padding (43 characters): far beyond the
/// 2^-128 guessing odds RFC 6749 §10.10 asks of anything secret.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_256_bit_base64url_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token());
    }
}
