//! DPoP proofs (RFC 9449): the `DPoP` header's signed JWT checked rule by rule (section 4.3),
//! the RFC 7638 thumbprint of its key (the `jkt` a token is bound to, section 6), the server
//! nonce (sections 8 and 9) and the `jti` replay check (section 11.1), whose state
//! `dpop_state` keeps, one floor down (with [`Refusal`], re-exported here).
//!
//! The proof is verified by hand with `p256`, not with a JWT crate: it has one fixed shape
//! (ES256, the key in its own header), and a JWT crate would add a second crypto backend for
//! about thirty lines of checks.

use axum::http::HeaderMap;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::{
    EncodedPoint,
    ecdsa::{Signature, VerifyingKey, signature::Verifier},
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

pub(crate) use crate::dpop_state::Refusal;
use crate::store::ProviderState;

/// The one proof algorithm accepted and advertised (RFC 9449 section 5.1, section 7.1 `algs`).
pub const ALG: &str = "ES256";
/// How far a proof's `iat` may be from this server's clock, either way, in seconds: the window
/// in which a proof is accepted, and in which its `jti` is remembered (RFC 9449 section 11.1).
pub const IAT_WINDOW_SECS: i64 = 60;
/// The longest `jti` accepted. Random ids are 22 to 43 characters; this bounds the table.
pub const MAX_JTI_LEN: usize = 256;
/// The longest `DPoP` header accepted (a P-256 proof is well under 1 KiB).
const MAX_PROOF_LEN: usize = 8 * 1024;

/// What a proof must match: the request's method and URL, and the access token sent with it.
pub(crate) struct Expected<'a> {
    /// The request method, e.g. `POST` (RFC 9449 section 4.3 point 8).
    pub method: &'a str,
    /// The endpoint's URL, the issuer and the path (point 9).
    pub url: String,
    /// The access token presented with the proof, at a resource (point 12).
    pub access_token: Option<&'a str>,
}

/// The request's `DPoP` header: `None` without one; refused when repeated or not text
/// (RFC 9449 section 4.3 points 1 and 2).
pub(crate) fn header(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut all = headers.get_all("dpop").iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        if headers.contains_key("dpop") {
            return Err(Refusal::Invalid(
                "more than one DPoP header (RFC 9449 section 4.3 point 1)",
            ));
        }
        return Ok(None);
    };
    value.to_str().map(Some).map_err(|_| {
        Refusal::Invalid("the DPoP header is not a JWT (RFC 9449 section 4.3 point 2)")
    })
}

/// Checks `proof` against every rule of RFC 9449 section 4.3 and remembers its `jti`; answers
/// the JWK SHA-256 thumbprint of its key, the `jkt` (section 6).
pub(crate) fn verify(
    state: &ProviderState,
    proof: &str,
    expected: &Expected<'_>,
    now: i64,
) -> Result<String, Refusal> {
    use Refusal::Invalid;
    if proof.len() > MAX_PROOF_LEN {
        return Err(Invalid(
            "the DPoP proof is too long (RFC 9449 section 4.3 point 2)",
        ));
    }
    let parts: Vec<&str> = proof.split('.').collect();
    let [head, body, signature] = parts[..] else {
        return Err(Invalid(
            "the DPoP proof is not a compact JWS of three parts (RFC 9449 section 4.3 point 2, RFC 7515 section 7.1)",
        ));
    };
    let (Some(head_json), Some(claims)) = (json_object(head), json_object(body)) else {
        return Err(Invalid(
            "the DPoP proof header or claims are not base64url JSON objects (RFC 9449 section 4.3 point 2)",
        ));
    };
    if head_json.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(Invalid(
            "typ must be dpop+jwt (RFC 9449 section 4.3 point 4)",
        ));
    }
    match head_json.get("alg").and_then(Value::as_str) {
        Some(ALG) => {}
        Some("none") => {
            return Err(Invalid(
                "alg none is refused: a proof must be signed (RFC 9449 section 4.3 point 5)",
            ));
        }
        _ => {
            return Err(Invalid(
                "alg must be ES256, the only algorithm this server supports (RFC 9449 section 4.3 point 5)",
            ));
        }
    }
    if head_json.contains_key("crit") {
        return Err(Invalid(
            "the header names crit extensions this server does not understand (RFC 7515 section 4.1.11)",
        ));
    }
    let Some(jwk) = head_json.get("jwk").and_then(Value::as_object) else {
        return Err(Invalid(
            "the header has no jwk (RFC 9449 section 4.2, section 4.3 point 3)",
        ));
    };
    if jwk.contains_key("d") {
        return Err(Invalid(
            "the jwk carries a private key d (RFC 9449 section 4.3 point 7)",
        ));
    }
    let (key, jkt) = public_key(jwk).ok_or(Invalid(
        "the jwk must be a public EC P-256 key with kty, crv, x and y (RFC 9449 section 4.2, RFC 7518 section 6.2.1)",
    ))?;
    let signature = B64
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok());
    let verified =
        signature.is_some_and(|s| key.verify(format!("{head}.{body}").as_bytes(), &s).is_ok());
    if !verified {
        return Err(Invalid(
            "the signature does not verify with the jwk (RFC 9449 section 4.3 point 6, RFC 7518 section 3.4)",
        ));
    }
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(Invalid(
            "jti must be a string of 1 to 256 characters (RFC 9449 section 4.2, section 4.3 point 3)",
        ));
    }
    if claims.get("htm").and_then(Value::as_str) != Some(expected.method) {
        return Err(Invalid(
            "htm is not the method of this request (RFC 9449 section 4.3 point 8)",
        ));
    }
    let htu = claims.get("htu").and_then(Value::as_str).unwrap_or("");
    if !same_target(htu, &expected.url) {
        return Err(Invalid(
            "htu is not the URL of this endpoint, without query and fragment (RFC 9449 section 4.3 point 9)",
        ));
    }
    let Some(iat) = claims.get("iat").and_then(numeric_date) else {
        return Err(Invalid(
            "iat is missing or not a number (RFC 9449 section 4.2)",
        ));
    };
    if iat.abs_diff(now) > IAT_WINDOW_SECS.unsigned_abs() {
        return Err(Invalid(
            "iat is more than 60 seconds away from this server's clock (RFC 9449 section 4.3 point 11, section 11.1)",
        ));
    }
    if let Some(token) = expected.access_token {
        let ath = B64.encode(Sha256::digest(token.as_bytes()));
        if claims.get("ath").and_then(Value::as_str) != Some(ath.as_str()) {
            return Err(Invalid(
                "ath is missing or is not BASE64URL(SHA-256(access token)) (RFC 9449 section 4.3 point 12, section 7)",
            ));
        }
    }
    let dpop = &state.dpop;
    if state.settings.dpop_nonce
        && claims.get("nonce").and_then(Value::as_str) != Some(dpop.nonce())
    {
        return Err(Refusal::UseNonce);
    }
    let until = iat.saturating_add(IAT_WINDOW_SECS).saturating_add(1);
    dpop.remember(&expected.url, jti, until, now, state.settings.max_pending)?;
    Ok(jkt)
}

/// A base64url (no padding) JSON object.
pub(crate) fn json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = B64.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A JWT NumericDate (RFC 7519 section 2), in whole seconds.
pub(crate) fn numeric_date(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite())
            .map(|f| f.floor() as i64)
    })
}

/// The verifying key of a public EC P-256 JWK, and its RFC 7638 thumbprint.
pub(crate) fn public_key(jwk: &Map<String, Value>) -> Option<(VerifyingKey, String)> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if text("kty")? != "EC" || text("crv")? != "P-256" {
        return None;
    }
    let (x, y) = (text("x")?, text("y")?);
    let (x_bytes, y_bytes) = (B64.decode(x).ok()?, B64.decode(y).ok()?);
    if x_bytes.len() != 32 || y_bytes.len() != 32 {
        return None;
    }
    let point = EncodedPoint::from_affine_coordinates(
        x_bytes.as_slice().into(),
        y_bytes.as_slice().into(),
        false,
    );
    // Refuses a point that is not on the curve.
    let key = VerifyingKey::from_encoded_point(&point).ok()?;
    Some((key, thumbprint(x, y)))
}

/// The JWK SHA-256 thumbprint of an EC P-256 key (RFC 7638 section 3.2): the required members
/// in lexicographic order, no whitespace, hashed and base64url-encoded. `x` and `y` are the
/// canonical base64url the key was sent with (the decoder refuses any other spelling).
pub(crate) fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// Whether `htu` names `url`, ignoring query and fragment, after the syntax- and scheme-based
/// normalization (case, default port, dot segments) RFC 9449 section 4.3 recommends.
fn same_target(htu: &str, url: &str) -> bool {
    let strip = |s: &str| {
        Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    matches!((strip(htu), strip(url)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EC P-256 public key of RFC 7517 Appendix A.1.
    const X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
    const Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";

    fn jwk(x: &str, y: &str) -> Map<String, Value> {
        let value =
            serde_json::json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "enc" });
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_thumbprint_is_rfc_7638_over_crv_kty_x_y() {
        // RFC 7638 section 3.1's example is an RSA key; this value was computed once,
        // independently, with Python: base64url(sha256(json.dumps({"crv","kty","x","y"},
        // separators=(",",":"), sort_keys=True))).
        assert_eq!(
            thumbprint(X, Y),
            "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
        );
        // Members other than the required ones (here `use`) do not change it.
        let (_, jkt) = public_key(&jwk(X, Y)).expect("a valid public key");
        assert_eq!(jkt, thumbprint(X, Y));
    }

    #[test]
    fn a_jwk_must_be_a_p256_point_in_canonical_base64url() {
        assert!(public_key(&jwk(X, Y)).is_some());
        // Another y is (almost certainly) not on the curve.
        let other_y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyA";
        assert!(public_key(&jwk(X, other_y)).is_none());
        // Padding, short coordinates and other curves or key types are refused.
        assert!(public_key(&jwk(&format!("{X}="), Y)).is_none());
        assert!(public_key(&jwk("AAAA", Y)).is_none());
        let mut p384 = jwk(X, Y);
        p384.insert("crv".into(), "P-384".into());
        assert!(public_key(&p384).is_none());
        let mut rsa = jwk(X, Y);
        rsa.insert("kty".into(), "RSA".into());
        assert!(public_key(&rsa).is_none());
    }

    #[test]
    fn htu_is_compared_without_query_and_fragment_after_normalization() {
        let url = "http://127.0.0.1:3001/oauth/token";
        for same in [
            url,
            "http://127.0.0.1:3001/oauth/token?x=1",
            "http://127.0.0.1:3001/oauth/token#f",
            "HTTP://127.0.0.1:3001/oauth/token",
        ] {
            assert!(same_target(same, url), "{same}");
        }
        for other in [
            "http://127.0.0.1:3001/oauth/token/",
            "http://127.0.0.1:3002/oauth/token",
            "https://127.0.0.1:3001/oauth/token",
            "http://localhost:3001/oauth/token",
            "/oauth/token",
            "",
        ] {
            assert!(!same_target(other, url), "{other}");
        }
        assert!(same_target("http://a.test:80/x", "http://a.test/x"));
    }

    const URL: &str = "http://127.0.0.1:1/oauth/token";
    const NOW: i64 = 1_700_000_000;

    /// A proof for `POST URL` with this `iat` and `jti`, signed with a fresh key.
    fn proof(iat: i64, jti: &str) -> String {
        use p256::ecdsa::{SigningKey, signature::Signer};
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let point = key.verifying_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            panic!("an uncompressed point has x and y");
        };
        let header = serde_json::json!({
            "typ": "dpop+jwt",
            "alg": ALG,
            "jwk": { "kty": "EC", "crv": "P-256", "x": B64.encode(x), "y": B64.encode(y) },
        });
        let claims = serde_json::json!({ "jti": jti, "htm": "POST", "htu": URL, "iat": iat });
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }

    fn check(proof: &str) -> Result<String, Refusal> {
        let state = ProviderState::new(
            "http://127.0.0.1:1".into(),
            crate::DemoSettings::for_tests(),
        );
        let expected = Expected {
            method: "POST",
            url: URL.into(),
            access_token: None,
        };
        verify(&state, proof, &expected, NOW)
    }

    #[test]
    fn the_iat_window_is_sixty_seconds_either_way_inclusive() {
        for iat in [NOW - IAT_WINDOW_SECS, NOW + IAT_WINDOW_SECS] {
            assert!(check(&proof(iat, "jti-1")).is_ok(), "iat {}", iat - NOW);
        }
        for iat in [NOW - IAT_WINDOW_SECS - 1, NOW + IAT_WINDOW_SECS + 1] {
            let refused = check(&proof(iat, "jti-1"));
            assert!(
                matches!(refused, Err(Refusal::Invalid(why)) if why.starts_with("iat ")),
                "iat {}: {refused:?}",
                iat - NOW
            );
        }
    }

    #[test]
    fn a_jti_of_up_to_256_characters_is_accepted() {
        assert!(check(&proof(NOW, &"j".repeat(MAX_JTI_LEN))).is_ok());
        let refused = check(&proof(NOW, &"j".repeat(MAX_JTI_LEN + 1)));
        assert!(
            matches!(refused, Err(Refusal::Invalid(why)) if why.starts_with("jti ")),
            "{refused:?}"
        );
    }

    #[test]
    fn numeric_dates_may_be_fractional() {
        assert_eq!(
            numeric_date(&serde_json::json!(1_700_000_000)),
            Some(1_700_000_000)
        );
        assert_eq!(
            numeric_date(&serde_json::json!(1_700_000_000.9)),
            Some(1_700_000_000)
        );
        assert_eq!(numeric_date(&serde_json::json!("1700000000")), None);
    }
}
