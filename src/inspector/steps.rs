//! The sign-in's first two steps as the inspector records them: the authorization request (with
//! the PKCE derivation checked on the real values) and the callback (with each check's outcome).

use base64::Engine;
use sha2::{Digest, Sha256};
use url::Url;

use super::{Step, StepKind};

/// The authorization request the Connect link carried: every parameter of `authorize_url`, and
/// `code_challenge = BASE64URL(SHA256(code_verifier))` recomputed from the kept verifier and
/// compared with the challenge that was sent (RFC 7636 §4.2).
pub fn authorize(authorize_url: &Url, verifier: &str, started_at_ms: i64) -> Step {
    let mut step = Step::new(StepKind::Authorize);
    step.at_ms = started_at_ms;
    let mut endpoint = authorize_url.clone();
    endpoint.set_query(None);
    step = step.param("authorization endpoint", endpoint.as_str());
    let mut sent_challenge = None;
    for (name, value) in authorize_url.query_pairs() {
        if name == "code_challenge" {
            sent_challenge = Some(value.to_string());
        }
        // Nothing in this URL is secret: the verifier is not in it (RFC 7636 §4.3).
        step = step.param(&name, &value);
    }
    let digest = Sha256::digest(verifier.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let derived = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    step.secret("code_verifier (kept on the server)", verifier)
        .param("SHA256(code_verifier), hex", &hex)
        .param("BASE64URL(SHA256(code_verifier))", &derived)
        .check(
            "BASE64URL(SHA256(code_verifier)) equals the code_challenge sent (RFC 7636 §4.2)",
            sent_challenge.as_deref() == Some(derived.as_str()),
        )
        .check(
            "code_challenge_method is S256, never plain (RFC 7636 §4.2, RFC 9700 §2.1.1)",
            authorize_url
                .query_pairs()
                .any(|(k, v)| k == "code_challenge_method" && v == "S256"),
        )
}

/// What `/cb` checked before redeeming the code. Only a callback that passed them is recorded
/// (one that fails is refused before anything is kept).
pub struct CallbackChecks {
    /// The issuer this app expects (`None`: the provider does not identify itself, RFC 9207).
    pub expected_issuer: Option<String>,
    /// Seconds between the Connect link and the callback.
    pub age_secs: i64,
    /// The pending sign-in's lifetime in seconds.
    pub ttl_secs: u64,
}

/// The provider's answer as the browser brought it to `/cb`, and what was checked.
pub fn callback(
    code: Option<&str>,
    state: &str,
    iss: Option<&str>,
    checks: &CallbackChecks,
) -> Step {
    let mut step = Step::new(StepKind::Callback);
    if let Some(code) = code {
        step = step.secret("code", code);
    }
    step = step.param("state", state);
    if let Some(iss) = iss {
        step = step.param("iss", iss);
    }
    let step = step
        .check(
            "state matched a sign-in this browser started, compared in constant time (RFC 6749 §10.12)",
            true,
        )
        .check(
            &format!(
                "the sign-in was {} s old, within its {} s lifetime",
                checks.age_secs.max(0),
                checks.ttl_secs
            ),
            true,
        )
        .check(
            "single use: the pending sign-in was deleted and saved before the token request (RFC 9700 §4.2.4)",
            true,
        );
    match (checks.expected_issuer.as_deref(), iss) {
        (Some(expected), Some(iss)) => step.check(
            "iss is the issuer the request was sent to: no mix-up (RFC 9207 §2.4)",
            expected == iss,
        ),
        (Some(_), None) => step.check(
            "no iss sent; this provider does not advertise RFC 9207, so none was required",
            true,
        ),
        (None, _) => step.check(
            "no issuer configured, so iss is not checked (RFC 9207 §2.4 needs one)",
            true,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn value<'a>(step: &'a Step, name: &str) -> &'a str {
        &step
            .params
            .iter()
            .find(|p| p.name == name)
            .expect(name)
            .value
    }

    #[test]
    fn the_pkce_derivation_is_recomputed_and_compared() {
        let url = Url::parse(&format!(
            "https://as.example/authorize?response_type=code&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256"
        ))
        .expect("url");
        let step = authorize(&url, VERIFIER, 5);
        assert_eq!(value(&step, "BASE64URL(SHA256(code_verifier))"), CHALLENGE);
        assert_eq!(
            value(&step, "SHA256(code_verifier), hex"),
            "13d31e961a1ad8ec2f16b10c4c982e0876a878ad6df144566ee1894acb70f9c3"
        );
        assert_eq!(
            value(&step, "authorization endpoint"),
            "https://as.example/authorize"
        );
        assert!(step.checks.iter().all(|c| c.ok), "{:?}", step.checks);
        assert!(
            !format!("{step:?}").contains(VERIFIER),
            "the verifier is masked"
        );

        let other = Url::parse(
            "https://as.example/authorize?code_challenge=wrong&code_challenge_method=plain",
        )
        .expect("url");
        let step = authorize(&other, VERIFIER, 5);
        assert!(
            step.checks.iter().all(|c| !c.ok),
            "both checks fail: {:?}",
            step.checks
        );
    }

    #[test]
    fn a_wrong_iss_is_recorded_as_a_failed_check() {
        let checks = CallbackChecks {
            expected_issuer: Some("https://as.example".into()),
            age_secs: 3,
            ttl_secs: 600,
        };
        let good = callback(
            Some("code-value-123456"),
            "s",
            Some("https://as.example"),
            &checks,
        );
        assert!(good.checks.iter().all(|c| c.ok));
        assert!(!format!("{good:?}").contains("code-value-123456"));
        let bad = callback(None, "s", Some("https://evil.example"), &checks);
        assert!(!bad.checks.last().expect("iss check").ok);
    }
}
