//! PKCE with S256 only (RFC 7636): the syntax of challenges and verifiers, and the S256
//! transform. The authorization endpoint checks the challenge; the code grant checks the
//! verifier against it.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Checks an S256 challenge and its method (RFC 7636 §4.2, §4.3, §4.4.1).
pub(crate) fn check_challenge(challenge: &str, method: Option<&str>) -> Result<(), &'static str> {
    match method {
        Some("S256") => {}
        None => {
            return Err(
                "code_challenge_method is missing, which means plain; only S256 is accepted (RFC 7636 section 4.3, section 4.4.1)",
            );
        }
        Some(_) => {
            return Err("only code_challenge_method=S256 is supported (RFC 7636 section 4.2)");
        }
    }
    // An S256 challenge is exactly 43 base64url characters (RFC 7636 §4.2).
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(
            "code_challenge must be 43 base64url characters, without padding (RFC 7636 section 4.2)",
        );
    }
    Ok(())
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, no padding (RFC 7636 §4.2).
pub(crate) fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `code-verifier = 43*128unreserved` (RFC 7636 §4.1).
pub(crate) fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc7636_and_seed_vectors() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(
            s256("Th7UHJdLswIYQxwSg29DbK1a_d9o41uNMTRmuH0PM8zyoMAQ"),
            "hKpKupTM391pE10xfQiorMxXarRKAHRhTfH_xkGf7U4"
        );
    }

    #[test]
    fn a34_verifier_syntax() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"-._~".repeat(32)));
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(43)),
            format!("{}=", "a".repeat(43)),
            format!("{} ", "a".repeat(43)),
            format!("{}é", "a".repeat(43)),
        ] {
            assert!(!is_valid_verifier(&bad), "{bad}");
        }
    }
}
