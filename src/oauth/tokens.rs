//! The token set a connected session keeps, how a token response becomes one, and the errors of
//! the token, refresh and revocation requests, split by what the app should do next.

use std::time::Duration;

use oauth2::{
    RefreshToken, RequestTokenError, TokenResponse,
    basic::{BasicErrorResponse, BasicTokenType},
};
use serde::{Deserialize, Serialize};

use crate::{
    http_client::HttpError,
    oauth::{
        dpop::DpopKey,
        openid::{IdTokenError, Identity},
    },
    text::escaped,
};

/// Upper bound on a token lifetime we will believe, so `now + expires_in` never overflows.
pub(crate) const MAX_TOKEN_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// The tokens of a connected session. Server-side only; `Debug` redacts the tokens.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: oauth2::AccessToken,
    pub refresh_token: Option<RefreshToken>,
    /// Unix seconds when the access token expires, if the provider said (`expires_in`).
    pub expires_at: Option<i64>,
    /// The scopes granted (RFC 6749 §5.1: the response's `scope`, else the requested ones).
    pub scopes: Vec<String>,
    /// How many times these tokens were refreshed (the photos page shows it).
    #[serde(default)]
    pub refreshed: u32,
    /// `DPoP` when the access token is bound to [`TokenSet::dpop_key`] (RFC 9449 §5).
    #[serde(default)]
    pub token_type: TokenType,
    /// The session's DPoP key, when DPoP is in use: it signs every proof for these tokens.
    #[serde(default)]
    pub dpop_key: Option<DpopKey>,
    /// Who signed in, with OpenID Connect (from the checked ID token); absent without it, and
    /// then not stored at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// How the access token is presented (RFC 6750 §2.1 `Bearer`, RFC 9449 §7.1 `DPoP`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenType {
    #[default]
    Bearer,
    #[serde(rename = "DPoP")]
    Dpop,
}

impl TokenSet {
    /// Whether the access token is expired or will be within `skew` (clock drift, latency).
    /// Unknown expiry counts as fresh: the API's 401 will tell.
    pub fn needs_refresh(&self, now: i64, skew: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at.saturating_sub(skew.as_secs() as i64) <= now)
    }
}

/// Why a refresh failed, split by what the app should do next (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The grant is gone (`invalid_grant`, `invalid_client`, or no refresh token): forget the
    /// tokens and ask the person to connect again.
    #[error("the refresh was refused for good: {0}")]
    Fatal(String),
    /// The provider is down, slow or confused: keep the tokens and let the person retry.
    #[error(transparent)]
    Transient(ExchangeError),
}

impl From<ExchangeError> for RefreshError {
    /// `invalid_grant` (the refresh token is expired, revoked or rotated away) and
    /// `invalid_client` (the app's registration is gone) will not get better by retrying
    /// (RFC 6749 §5.2); anything else might.
    fn from(err: ExchangeError) -> Self {
        match err {
            ExchangeError::Rejected { code, .. }
                if code == "invalid_grant" || code == "invalid_client" =>
            {
                RefreshError::Fatal(code)
            }
            other => RefreshError::Transient(other),
        }
    }
}

/// Whether an OAuth error code refuses the client itself rather than the request or grant
/// (RFC 6749 §5.2): its registration or credentials are wrong, for every visitor alike.
pub fn is_client_refusal(code: &str) -> bool {
    code == "invalid_client" || code == "unauthorized_client"
}

/// Why a revocation failed (RFC 7009 §2.2.1). Logged only; logout goes on regardless.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// Why the code exchange failed. Never carries a token, code, verifier or response body.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The token endpoint answered with an OAuth error (RFC 6749 §5.2), e.g. `invalid_grant`.
    #[error("the token endpoint {host} refused the request: {code}")]
    Rejected { host: String, code: String },
    /// Timed out, refused, TLS, a non-OAuth error status, a body over the cap.
    #[error("the token endpoint {0}")]
    Http(HttpError),
    /// Not a valid token response (not JSON, wrong types, …).
    #[error("the token endpoint {host} sent an invalid response: {detail}")]
    InvalidResponse { host: String, detail: String },
    /// RFC 6749 §7.1: a client must not use a token whose type it does not understand.
    #[error("unsupported token_type {0:?}")]
    UnsupportedTokenType(String),
    /// With OpenID Connect: the ID token is missing or failed a check (OIDC Core §3.1.3.7).
    #[error("the ID token was refused: {0}")]
    IdToken(IdTokenError),
}

impl ExchangeError {
    /// The failure as a metrics outcome: `refused` (an OAuth error), `unavailable` (no usable
    /// answer), `invalid` (an answer this client cannot use).
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Rejected { .. } => "refused",
            Self::Http(_) => "unavailable",
            Self::InvalidResponse { .. } | Self::UnsupportedTokenType(_) => "invalid",
            Self::IdToken(IdTokenError::KeysUnavailable) => "unavailable",
            Self::IdToken(_) => "invalid",
        }
    }
}

impl TokenSet {
    /// Reads a token response (RFC 6749 §5.1). `requested` are the scopes asked for: no `scope`
    /// in the response means exactly those were granted. `dpop`: the key the request's proof
    /// was signed with, if DPoP is in use.
    pub fn from_response(
        response: &impl TokenResponse<TokenType = BasicTokenType>,
        requested: &[String],
        now: i64,
        dpop: Option<&DpopKey>,
    ) -> Result<Self, ExchangeError> {
        // `oauth2` matches token_type case-insensitively (RFC 6749 §5.1). Bearer is always
        // understood (a server may decline DPoP, RFC 9449 §5); DPoP only if this client asked
        // for it; anything else is refused rather than sent as if it were Bearer (§7.1).
        let token_type = match response.token_type() {
            BasicTokenType::Bearer => TokenType::Bearer,
            BasicTokenType::Extension(kind)
                if kind.eq_ignore_ascii_case("dpop") && dpop.is_some() =>
            {
                TokenType::Dpop
            }
            other => {
                return Err(ExchangeError::UnsupportedTokenType(escaped(
                    other.as_ref(),
                    32,
                )));
            }
        };
        let expires_at = response.expires_in().map(|d| {
            let secs = d.as_secs().min(MAX_TOKEN_LIFETIME_SECS);
            now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
        });
        let scopes = match response.scopes() {
            Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
            None => requested.to_vec(),
        };
        Ok(Self {
            access_token: response.access_token().clone(),
            refresh_token: response.refresh_token().cloned(),
            expires_at,
            scopes,
            refreshed: 0,
            token_type,
            dpop_key: dpop.cloned(),
            identity: None,
        })
    }
}

/// Maps the `oauth2` crate's error to ours; `host` is the token endpoint's. Everything the
/// provider wrote (its error code, the member names in a JSON path) is escaped and bounded
/// (`text::escaped`): it will reach a log line. `RequestTokenError::Parse` carries the raw
/// body, which may hold a real token: only the JSON path and the error category are kept.
pub(crate) fn classify_token_error(
    err: RequestTokenError<HttpError, BasicErrorResponse>,
    host: &str,
) -> ExchangeError {
    let host = host.to_owned();
    match err {
        RequestTokenError::ServerResponse(response) => ExchangeError::Rejected {
            host,
            code: escaped(response.error().as_ref(), 64),
        },
        RequestTokenError::Request(err) => ExchangeError::Http(err),
        RequestTokenError::Parse(err, _raw_body) => ExchangeError::InvalidResponse {
            host,
            detail: format!(
                "{:?} error at {}",
                err.inner().classify(),
                escaped(&err.path().to_string(), 120)
            ),
        },
        RequestTokenError::Other(message) => ExchangeError::InvalidResponse {
            host,
            detail: escaped(&message, 120),
        },
    }
}

impl ExchangeError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, ExchangeError::Http(err) if err.is_timeout())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::basic::BasicTokenResponse;

    #[test]
    fn each_exchange_error_has_its_metrics_outcome() {
        let host = || "as".to_owned();
        let http = ExchangeError::Http(HttpError {
            host: host(),
            kind: crate::http_client::HttpErrorKind::Timeout,
        });
        for (err, outcome) in [
            (
                ExchangeError::Rejected {
                    host: host(),
                    code: "invalid_grant".into(),
                },
                "refused",
            ),
            (http, "unavailable"),
            (
                ExchangeError::InvalidResponse {
                    host: host(),
                    detail: "x".into(),
                },
                "invalid",
            ),
            (ExchangeError::UnsupportedTokenType("mac".into()), "invalid"),
        ] {
            assert_eq!(err.outcome(), outcome, "{err:?}");
        }
    }

    fn rejected(code: &str) -> ExchangeError {
        ExchangeError::Rejected {
            host: "as.example".into(),
            code: code.into(),
        }
    }

    fn requested() -> Vec<String> {
        vec!["photos".into()]
    }

    fn parse(json: &str) -> BasicTokenResponse {
        serde_json::from_str(json).expect("json")
    }

    #[test]
    fn token_set_rejects_non_bearer_and_clamps_expiry() {
        let mac = parse(r#"{"access_token":"t","token_type":"mac"}"#);
        assert!(matches!(
            TokenSet::from_response(&mac, &requested(), 0, None),
            Err(ExchangeError::UnsupportedTokenType(_))
        ));

        let huge = parse(&format!(
            r#"{{"access_token":"t","token_type":"bEARER","expires_in":{}}}"#,
            u64::MAX
        ));
        let set = TokenSet::from_response(&huge, &requested(), 1_000, None)
            .expect("bearer in any case is accepted");
        assert_eq!(set.expires_at, Some(1_000 + MAX_TOKEN_LIFETIME_SECS as i64));
        assert_eq!(
            set.scopes,
            vec!["photos"],
            "no scope in the response means the requested ones"
        );

        let narrowed = parse(r#"{"access_token":"t","token_type":"Bearer","scope":"photos.read"}"#);
        assert_eq!(
            TokenSet::from_response(&narrowed, &requested(), 0, None)
                .expect("ok")
                .scopes,
            vec!["photos.read"]
        );
    }

    #[test]
    fn a_dpop_token_is_accepted_only_when_dpop_was_asked_for() {
        let dpop = parse(r#"{"access_token":"t","token_type":"DPoP"}"#);
        assert!(matches!(
            TokenSet::from_response(&dpop, &requested(), 0, None),
            Err(ExchangeError::UnsupportedTokenType(kind)) if kind.to_lowercase().contains("dpop")
        ));
        let key = DpopKey::generate();
        let set = TokenSet::from_response(&dpop, &requested(), 0, Some(&key)).expect("asked for");
        assert_eq!(set.token_type, TokenType::Dpop);
        assert!(set.dpop_key.is_some());
        let lower = parse(r#"{"access_token":"t","token_type":"dpop"}"#);
        assert!(TokenSet::from_response(&lower, &requested(), 0, Some(&key)).is_ok());
        // A server may decline DPoP and answer Bearer: then the token is a bearer token.
        let bearer = parse(r#"{"access_token":"t","token_type":"Bearer"}"#);
        let set = TokenSet::from_response(&bearer, &requested(), 0, Some(&key)).expect("ok");
        assert_eq!(set.token_type, TokenType::Bearer);
        assert!(
            format!("{set:?}").contains("DpopKey(jkt"),
            "Debug shows no key material"
        );
    }

    #[test]
    fn the_longest_believed_lifetime_is_exact() {
        let at = |secs: u64| {
            let json =
                format!(r#"{{"access_token":"t","token_type":"Bearer","expires_in":{secs}}}"#);
            TokenSet::from_response(&parse(&json), &requested(), 0, None)
                .expect("valid")
                .expires_at
        };
        // Ten years of 365 days, the documented cap.
        assert_eq!(at(315_360_000), Some(315_360_000), "ten years is believed");
        assert_eq!(at(315_360_001), Some(315_360_000), "one second more is not");
        let max = MAX_TOKEN_LIFETIME_SECS as i64;
        assert_eq!(at(MAX_TOKEN_LIFETIME_SECS - 1), Some(max - 1));
        assert_eq!(at(MAX_TOKEN_LIFETIME_SECS), Some(max));
        assert_eq!(at(MAX_TOKEN_LIFETIME_SECS + 1), Some(max));
        assert_eq!(
            TokenSet::from_response(
                &parse(r#"{"access_token":"t","token_type":"Bearer"}"#),
                &requested(),
                5,
                None
            )
            .expect("valid")
            .expires_at,
            None,
            "no expires_in: unknown expiry"
        );
    }

    #[test]
    fn only_a_timed_out_exchange_is_a_timeout() {
        let http = |kind| {
            ExchangeError::Http(HttpError {
                host: "as.example".into(),
                kind,
            })
        };
        assert!(http(crate::http_client::HttpErrorKind::Timeout).is_timeout());
        assert!(!http(crate::http_client::HttpErrorKind::Connect).is_timeout());
        assert!(!rejected("invalid_grant").is_timeout());
    }

    #[test]
    fn only_a_dead_grant_or_client_makes_a_refresh_failure_fatal() {
        for code in ["invalid_grant", "invalid_client"] {
            let err = RefreshError::from(rejected(code));
            assert!(
                matches!(err, RefreshError::Fatal(ref c) if c == code),
                "{code}"
            );
        }
        for transient in [
            rejected("invalid_request"),
            rejected("temporarily_unavailable"),
            rejected("invalid_client_x"),
            ExchangeError::InvalidResponse {
                host: "as.example".into(),
                detail: "x".into(),
            },
        ] {
            let err = RefreshError::from(transient);
            assert!(matches!(err, RefreshError::Transient(_)), "{err:?}");
        }
    }

    #[test]
    fn needs_refresh_honours_the_skew_and_unknown_expiry() {
        let mut tokens = TokenSet {
            access_token: oauth2::AccessToken::new("a".into()),
            refresh_token: None,
            expires_at: Some(1_000),
            scopes: vec![],
            refreshed: 0,
            token_type: TokenType::Bearer,
            dpop_key: None,
            identity: None,
        };
        let skew = Duration::from_secs(30);
        assert!(!tokens.needs_refresh(900, skew));
        assert!(
            !tokens.needs_refresh(969, skew),
            "31 s left with a 30 s skew"
        );
        assert!(tokens.needs_refresh(970, skew), "exactly the skew left");
        assert!(
            tokens.needs_refresh(980, skew),
            "C65: expires in 20 s with a 30 s skew"
        );
        assert!(tokens.needs_refresh(2_000, skew));
        tokens.expires_at = None;
        assert!(!tokens.needs_refresh(i64::MAX, skew));
    }

    #[test]
    fn without_openid_the_stored_token_set_has_no_identity_member() {
        let json = r#"{"access_token":"t","token_type":"Bearer"}"#;
        let tokens = TokenSet::from_response(&parse(json), &requested(), 0, None).expect("ok");
        let stored = serde_json::to_value(&tokens).expect("json");
        assert!(
            stored.get("identity").is_none(),
            "not one byte more: {stored}"
        );
        let read: TokenSet = serde_json::from_value(stored).expect("an older record reads");
        assert!(read.identity.is_none());
    }

    #[test]
    fn debug_of_a_token_set_is_redacted() {
        let tokens = TokenSet {
            access_token: oauth2::AccessToken::new("the-access-token".into()),
            refresh_token: Some(RefreshToken::new("the-refresh-token".into())),
            expires_at: None,
            scopes: vec![],
            refreshed: 0,
            token_type: TokenType::Bearer,
            dpop_key: None,
            identity: None,
        };
        let debug = format!("{tokens:?}");
        for secret in ["the-access-token", "the-refresh-token"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn token_responses_never_panic(expires in any::<u64>(), kind in "[A-Za-z_]{0,12}", scope in "[ -~]{0,30}") {
                let json = serde_json::json!({"access_token": "t", "token_type": kind, "expires_in": expires, "scope": scope});
                if let Ok(response) = serde_json::from_value::<BasicTokenResponse>(json)
                    && let Ok(set) = TokenSet::from_response(&response, &requested(), i64::MAX - 10, None)
                {
                    prop_assert!(set.expires_at.is_some());
                }
            }
        }
    }
}
