//! The callback's query: strict parsing (RFC 6749 §4.1.2) before any session or provider work,
//! and the `iss` check (RFC 9207 §2.4), the mix-up defence.

use oauth2::AuthorizationCode;

use crate::form::{self, FormError};

/// Caps on the callback, checked before any session or provider work (RFC 6749 §10.14).
pub const MAX_CALLBACK_QUERY: usize = 8 * 1024;
pub(crate) const MAX_STATE_LEN: usize = 512;
pub(crate) const MAX_CODE_LEN: usize = 2048;

/// A validated authorization response (RFC 6749 §4.1.2, §4.1.2.1). `Debug` redacts the state.
pub enum Callback {
    /// The provider issued a code.
    Code {
        code: AuthorizationCode,
        state: String,
        iss: Option<String>,
    },
    /// The provider answered with an error (`access_denied` when the person said no).
    Error {
        error: String,
        state: Option<String>,
        iss: Option<String>,
    },
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callback::Code { iss, .. } => f
                .debug_struct("Code")
                .field("code", &"[redacted]")
                .field("state", &"[redacted]")
                .field("iss", iss)
                .finish(),
            Callback::Error { error, iss, .. } => f
                .debug_struct("Error")
                .field("error", error)
                .field("state", &"[redacted]")
                .field("iss", iss)
                .finish(),
        }
    }
}

/// Why a callback was refused before any session or provider work. Safe to log and to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("malformed query: {0}")]
    Malformed(#[from] FormError),
    #[error("the state parameter is missing")]
    MissingState,
    #[error("neither code nor error is present")]
    MissingCode,
    #[error("parameter {0} is too long")]
    TooLong(&'static str),
    #[error("implicit-flow parameter {0} in the callback")]
    ImplicitArtifact(&'static str),
}

/// Validates the callback's raw query (RFC 6749 §4.1.2). Unknown parameters are ignored
/// (§4.1.2); repeated ones, empty ones and implicit-flow artifacts are not.
pub fn parse_callback(raw_query: Option<&str>) -> Result<Callback, CallbackError> {
    let mut params = form::parse_unique(raw_query.unwrap_or(""), MAX_CALLBACK_QUERY)?;
    // Tokens in the front channel mean an implicit or hybrid response this client never asked
    // for (RFC 9700 §2.1.2): refuse rather than ignore.
    for artifact in ["access_token", "id_token", "token_type", "token"] {
        if params.contains_key(artifact) {
            return Err(CallbackError::ImplicitArtifact(artifact));
        }
    }
    let state = params.remove("state");
    let iss = params.remove("iss");
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(CallbackError::TooLong("state"));
    }
    // An error wins over a code sent alongside it: never exchange a code from an error response.
    if let Some(error) = params.remove("error") {
        return Ok(Callback::Error {
            // The visitor's (or a forger's) text: escaped and bounded before it can reach a log.
            error: crate::text::escaped(&error, 64),
            state,
            iss,
        });
    }
    let code = params.remove("code").ok_or(CallbackError::MissingCode)?;
    if code.len() > MAX_CODE_LEN {
        return Err(CallbackError::TooLong("code"));
    }
    let state = state.ok_or(CallbackError::MissingState)?;
    Ok(Callback::Code {
        code: AuthorizationCode::new(code),
        state,
        iss,
    })
}

/// Checks the callback's `iss` (RFC 9207 §2.4), already decoded once from the query. With a
/// known issuer, a present `iss` must be byte-equal (no normalization), and a missing one is
/// refused when `required` (the provider advertises `iss`, or it was configured). With no known
/// issuer there is nothing to compare against.
pub fn issuer_matches(expected: Option<&str>, required: bool, iss: Option<&str>) -> bool {
    match (expected, iss) {
        (None, _) => true,
        (Some(expected), Some(iss)) => expected.as_bytes() == iss.as_bytes(),
        (Some(_), None) => !required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_with_code_and_state() {
        match parse_callback(Some(
            "code=abc&state=xyz&iss=https%3A%2F%2Fas.example&extra=1",
        )) {
            Ok(Callback::Code { code, state, iss }) => {
                assert_eq!(code.secret(), "abc");
                assert_eq!(state, "xyz");
                assert_eq!(iss.as_deref(), Some("https://as.example"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn callback_error_takes_precedence_over_code() {
        let cb = parse_callback(Some("code=abc&error=access_denied&state=s")).expect("parses");
        assert!(matches!(cb, Callback::Error { ref error, .. } if error == "access_denied"));
    }

    #[test]
    fn callback_rejections() {
        use CallbackError::*;
        let cases: &[(&str, CallbackError)] = &[
            ("code=abc", MissingState),
            ("code=abc&state=", MissingState),
            ("state=s", MissingCode),
            ("", MissingCode),
            (
                "code=a&state=s&state=s",
                Malformed(FormError::Duplicate("state".into())),
            ),
            (
                "code=a&code=b&state=s",
                Malformed(FormError::Duplicate("code".into())),
            ),
            ("code=a&state=%FF", Malformed(FormError::BadEncoding)),
            (
                "code=a&state=s&access_token=t",
                ImplicitArtifact("access_token"),
            ),
            ("code=a&state=s&id_token=t", ImplicitArtifact("id_token")),
            ("code=a&state=s&token=t", ImplicitArtifact("token")),
        ];
        for (query, expected) in cases {
            assert_eq!(
                parse_callback(Some(query)).unwrap_err(),
                *expected,
                "{query}"
            );
        }
        let long_state = format!("code=a&state={}", "s".repeat(MAX_STATE_LEN + 1));
        assert_eq!(
            parse_callback(Some(&long_state)).unwrap_err(),
            TooLong("state")
        );
        let huge = format!("code={}", "c".repeat(MAX_CALLBACK_QUERY));
        assert!(matches!(
            parse_callback(Some(&huge)),
            Err(Malformed(FormError::TooLong(_)))
        ));
    }

    #[test]
    fn issuer_check_is_exact_when_configured() {
        let expected = Some("https://as.example");
        assert!(issuer_matches(expected, true, Some("https://as.example")));
        for variant in [
            "https://as.example/",
            "https://AS.example",
            "https://as.example:443",
            "https%3A%2F%2Fas.example",
        ] {
            assert!(
                !issuer_matches(expected, true, Some(variant)),
                "C24: {variant}"
            );
            assert!(
                !issuer_matches(expected, false, Some(variant)),
                "C25: {variant}"
            );
        }
        assert!(
            !issuer_matches(expected, true, None),
            "C23: missing when required"
        );
        assert!(
            issuer_matches(expected, false, None),
            "not advertised, not sent"
        );
        assert!(issuer_matches(None, false, Some("anything")));
    }

    #[test]
    fn c78_debug_of_a_callback_is_redacted() {
        let callback =
            parse_callback(Some("code=the-code-value&state=the-state-value")).expect("parses");
        let debug = format!("{callback:?}");
        assert!(
            !debug.contains("the-code-value") && !debug.contains("the-state-value"),
            "{debug}"
        );
    }

    #[test]
    fn c78_debug_of_a_callback_shows_the_shape_and_iss_only() {
        let code = parse_callback(Some("code=the-code&state=the-state&iss=https%3A%2F%2Fas"))
            .expect("parses");
        assert_eq!(
            format!("{code:?}"),
            r#"Code { code: "[redacted]", state: "[redacted]", iss: Some("https://as") }"#
        );
        let error = parse_callback(Some("error=access_denied&state=the-state")).expect("parses");
        assert_eq!(
            format!("{error:?}"),
            r#"Error { error: "access_denied", state: "[redacted]", iss: None }"#
        );
    }

    #[test]
    fn the_state_and_code_limits_are_exact() {
        let state = |n: usize| format!("code=c&state={}", "s".repeat(n));
        match parse_callback(Some(&state(MAX_STATE_LEN))) {
            Ok(Callback::Code { state, .. }) => assert_eq!(state.len(), MAX_STATE_LEN),
            other => panic!("a state of exactly the limit is allowed: {other:?}"),
        }
        assert_eq!(
            parse_callback(Some(&state(MAX_STATE_LEN + 1))).unwrap_err(),
            CallbackError::TooLong("state")
        );
        // The state limit holds for error responses too.
        let error_state = format!(
            "error=access_denied&state={}",
            "s".repeat(MAX_STATE_LEN + 1)
        );
        assert_eq!(
            parse_callback(Some(&error_state)).unwrap_err(),
            CallbackError::TooLong("state")
        );

        let code = |n: usize| format!("code={}&state=s", "c".repeat(n));
        match parse_callback(Some(&code(MAX_CODE_LEN))) {
            Ok(Callback::Code { code, .. }) => assert_eq!(code.secret().len(), MAX_CODE_LEN),
            other => panic!("a code of exactly the limit is allowed: {other:?}"),
        }
        assert_eq!(
            parse_callback(Some(&code(MAX_CODE_LEN + 1))).unwrap_err(),
            CallbackError::TooLong("code")
        );
    }

    #[test]
    fn the_query_limit_is_exact() {
        let query = |n: usize| format!("code=c&state=s&pad={}", "p".repeat(n));
        let fixed = query(0).len();
        let at_limit = query(MAX_CALLBACK_QUERY - fixed);
        assert_eq!(at_limit.len(), MAX_CALLBACK_QUERY);
        assert!(
            matches!(parse_callback(Some(&at_limit)), Ok(Callback::Code { .. })),
            "a query of exactly the limit is parsed"
        );
        let over = query(MAX_CALLBACK_QUERY - fixed + 1);
        assert_eq!(
            parse_callback(Some(&over)).unwrap_err(),
            CallbackError::Malformed(FormError::TooLong(MAX_CALLBACK_QUERY))
        );
        assert_eq!(MAX_CALLBACK_QUERY, 8192);
    }

    #[test]
    fn every_implicit_flow_artifact_is_refused_even_in_an_error_response() {
        for artifact in ["access_token", "id_token", "token_type", "token"] {
            for query in [
                format!("code=a&state=s&{artifact}=t"),
                format!("error=access_denied&state=s&{artifact}=t"),
            ] {
                assert_eq!(
                    parse_callback(Some(&query)).unwrap_err(),
                    CallbackError::ImplicitArtifact(artifact),
                    "{query}"
                );
            }
        }
    }

    #[test]
    fn an_error_response_keeps_its_state_and_iss_and_escapes_its_code() {
        match parse_callback(Some("error=a%0Ab&state=s")) {
            Err(CallbackError::Malformed(FormError::BadEncoding)) => {}
            other => panic!("controls are refused by the parser: {other:?}"),
        }
        match parse_callback(Some("error=%22quoted%22&state=s&iss=i")) {
            Ok(Callback::Error { error, state, iss }) => {
                assert_eq!(error, r#"\"quoted\""#);
                assert_eq!(state.as_deref(), Some("s"));
                assert_eq!(iss.as_deref(), Some("i"));
            }
            other => panic!("unexpected {other:?}"),
        }
        match parse_callback(Some("error=server_error")) {
            Ok(Callback::Error { state: None, .. }) => {}
            other => panic!("an error without a state is still an error: {other:?}"),
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_callback_never_panics_and_accepts_only_sane_values(raw in ".{0,600}") {
                if let Ok(Callback::Code { code, state, iss }) = parse_callback(Some(&raw)) {
                    prop_assert!(!state.is_empty() && state.len() <= MAX_STATE_LEN);
                    prop_assert!(!code.secret().is_empty() && code.secret().len() <= MAX_CODE_LEN);
                    prop_assert!(!state.chars().any(char::is_control));
                    prop_assert!(iss.is_none_or(|i| !i.chars().any(char::is_control)));
                }
            }

            #[test]
            fn parse_callback_never_panics_on_structured_input(
                pairs in proptest::collection::vec(("(code|state|error|iss|x|%[0-9A-Fa-f]{0,2})", "[ -~]{0,40}"), 0..8)
            ) {
                let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = parse_callback(Some(&raw.join("&")));
            }

        }
    }
}
