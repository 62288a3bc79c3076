//! The one error type of the web layer. Every variant renders `templates/error.html` with its
//! status, a tone that fits its cause (a choice, a refusal, a passing fault, an operator's
//! problem) and the one button that helps, and is logged once, here, without secrets: variants
//! carry only error codes and reasons, never tokens, codes, states or response bodies.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};

mod page;

use crate::{
    http_client::HttpErrorKind,
    oauth::{
        CallbackError, ExchangeError, PushError, openid::IdTokenError, tokens::is_client_refusal,
    },
    photos_api::PhotosError,
    session::{RefreshFailed, SessionError},
    telemetry::ErrorReport,
};

/// `Result` with [`AppError`] as the default error.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The callback's query is malformed (duplicates, bad encoding, missing state, …).
    #[error("callback rejected: {0}")]
    BadCallback(#[from] CallbackError),
    /// No pending sign-in in this session has that state: forged, replayed, or another browser.
    #[error("no pending sign-in matches the callback's state")]
    UnknownState,
    /// The pending sign-in is older than `PENDING_LOGIN_TTL_SECS`.
    #[error("the pending sign-in expired")]
    LoginExpired,
    /// The callback's `iss` is missing or not the expected issuer (RFC 9207 §2.4).
    #[error("the callback's iss does not match the expected issuer")]
    IssuerMismatch,
    /// The person declined at the provider (`error=access_denied`).
    #[error("the user denied access")]
    AccessDenied,
    /// The provider answered the authorization request with another error code.
    #[error("the provider returned authorization error {0:?}")]
    AuthorizationFailed(String),
    #[error(transparent)]
    Exchange(ExchangeError),
    /// With OpenID Connect: the token response's ID token is missing or failed a check
    /// (OIDC Core §3.1.3.7); the session was not connected.
    #[error("the ID token was refused: {0}")]
    IdToken(IdTokenError),
    /// The pushed authorization request failed (RFC 9126 §2.3).
    #[error(transparent)]
    Push(PushError),
    /// The token endpoint refused the app itself (`invalid_client`, `unauthorized_client`): its
    /// registration or credentials are wrong. Nothing the visitor can fix or retry.
    #[error("the provider refused this app's client credentials ({0})")]
    ClientRejected(String),
    #[error(transparent)]
    Photos(#[from] PhotosError),
    /// The provider refused the refresh for good (`invalid_grant`…): tokens cleared, connect
    /// again.
    #[error("the provider refused the refresh ({0}); tokens cleared")]
    Reconnect(String),
    /// The refresh failed for a passing reason (provider down, slow): tokens kept, try again.
    #[error("refresh failed: {0}")]
    RefreshUnavailable(ExchangeError),
    /// A state-changing request without a valid CSRF token or from another origin.
    #[error("CSRF check failed")]
    Csrf,
    #[error("no such page")]
    NotFound,
    /// A form body that did not arrive within `web::extract::BODY_TIMEOUT`.
    #[error("the request body did not arrive in time")]
    SlowBody,
    /// `/flow` while `FLOW_INSPECTOR` is off. // INSPECTOR
    #[error("the flow inspector is off (FLOW_INSPECTOR)")] // INSPECTOR
    InspectorOff, // INSPECTOR
    /// The home page requested as a subresource (`Sec-Fetch-Mode` other than `navigate`).
    #[error("the home page was requested by something other than a page navigation")]
    NotANavigation,
    /// The session store failed or is full, or the session's lock stayed busy.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// This client started more sign-ins than `SIGNIN_RATE_PER_MINUTE` allows.
    #[error("too many sign-ins started from this address")]
    TooManySignIns,
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<ExchangeError> for AppError {
    fn from(err: ExchangeError) -> Self {
        match err {
            // RFC 6749 §5.2: the client, not the grant, was refused.
            ExchangeError::Rejected { code, .. } if is_client_refusal(&code) => {
                AppError::ClientRejected(code)
            }
            ExchangeError::IdToken(err) => AppError::IdToken(err),
            other => AppError::Exchange(other),
        }
    }
}

impl From<RefreshFailed> for AppError {
    fn from(err: RefreshFailed) -> Self {
        match err {
            RefreshFailed::Session(err) => AppError::Session(err),
            RefreshFailed::Reconnect(why) => AppError::Reconnect(why),
            RefreshFailed::Unavailable(err) => AppError::RefreshUnavailable(err),
        }
    }
}

impl From<PushError> for AppError {
    fn from(err: PushError) -> Self {
        match err {
            PushError::Rejected { code, .. } if is_client_refusal(&code) => {
                AppError::ClientRejected(code)
            }
            other => AppError::Push(other),
        }
    }
}

impl AppError {
    /// The error's kind as a metrics label: one of `metrics::REASONS`, one per variant, never
    /// carrying the variant's text (a provider's error code is outside input).
    pub fn reason(&self) -> &'static str {
        match self {
            AppError::BadCallback(_) => "bad_callback",
            AppError::UnknownState => "unknown_state",
            AppError::LoginExpired => "login_expired",
            AppError::IssuerMismatch => "issuer_mismatch",
            AppError::AccessDenied => "access_denied",
            AppError::AuthorizationFailed(_) => "authorization_failed",
            AppError::Exchange(_) => "exchange_failed",
            AppError::IdToken(_) => "id_token_refused",
            AppError::Push(_) => "push_failed",
            AppError::ClientRejected(_) => "client_rejected",
            AppError::Photos(_) => "photos",
            AppError::Reconnect(_) => "reconnect",
            AppError::RefreshUnavailable(_) => "refresh_unavailable",
            AppError::Csrf => "csrf",
            AppError::NotFound => "not_found",
            AppError::SlowBody => "slow_body",
            AppError::InspectorOff => "inspector_off", // INSPECTOR
            AppError::NotANavigation => "not_a_navigation",
            AppError::Session(SessionError::Store(_)) => "session_store",
            AppError::Session(SessionError::Full) => "session_full",
            AppError::Session(SessionError::Busy) => "session_busy",
            AppError::TooManySignIns => "too_many_sign_ins",
            AppError::Internal(_) => "internal",
        }
    }

    /// A hint for the operator, added to the log line where the cause is the app's set-up.
    fn operator_hint(&self) -> Option<&'static str> {
        match self {
            AppError::ClientRejected(_) => Some(
                "check OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and OAUTH_TOKEN_AUTH (with \
                 private_key_jwt: OAUTH_CLIENT_KEY_FILE's public key) against the app's \
                 registration at the provider",
            ),
            AppError::Push(PushError::Rejected { .. }) => Some(
                "the provider refused the pushed authorization request: check OAUTH_CLIENT_ID, \
                 OAUTH_SCOPES and that APP_URL/cb is registered exactly",
            ),
            AppError::AuthorizationFailed(code)
                if code != "temporarily_unavailable" && code != "server_error" =>
            {
                Some(
                    "the provider refused the authorization request: check OAUTH_CLIENT_ID, \
                     OAUTH_SCOPES and that APP_URL/cb is registered exactly",
                )
            }
            AppError::IdToken(IdTokenError::Issuer | IdTokenError::Audience) => Some(
                "check OAUTH_ISSUER and OAUTH_CLIENT_ID: the provider's ID token names another \
                 issuer or audience",
            ),
            AppError::IdToken(IdTokenError::KeysUnavailable) => Some(
                "the provider's jwks_uri (from its OpenID configuration) did not answer with a \
                 key set",
            ),
            AppError::Photos(PhotosError::Malformed(_)) => Some(
                "the photos API answered a shape this app does not read: check that \
                 PHOTOS_API_URL is the photos endpoint ({\"photos\":[{\"id\",\"title\",\"url\"}]}), \
                 or adapt src/photos_api.rs to your API",
            ),
            AppError::Photos(PhotosError::Http(err)) => Some(match err.kind {
                HttpErrorKind::Status(404 | 405 | 410) => {
                    "the photos API has no such endpoint: check PHOTOS_API_URL"
                }
                HttpErrorKind::Connect | HttpErrorKind::Tls | HttpErrorKind::Other(_) => {
                    "the photos API could not be reached: check PHOTOS_API_URL (host, port, \
                     https) and the network"
                }
                HttpErrorKind::Timeout => {
                    "the photos API did not answer within HTTP_TIMEOUT_SECS: check \
                     PHOTOS_API_URL and that API's health"
                }
                HttpErrorKind::Status(_) | HttpErrorKind::TooLarge(_) => {
                    "the photos API answered unexpectedly: check PHOTOS_API_URL and that API's \
                     health"
                }
            }),
            _ => None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub tone: &'static str,
    pub title: &'static str,
    pub message: &'static str,
    pub action_href: &'static str,
    pub action_label: &'static str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let report = ErrorReport {
            message: self.to_string().into(),
            hint: self.operator_hint().unwrap_or(""),
        };
        let text = self.page_text();
        let status = text.status;
        let page = ErrorPage {
            status: status.as_u16(),
            tone: text.tone.as_str(),
            title: text.title,
            message: text.message,
            action_href: text.action_href,
            action_label: text.action_label,
        };
        let mut response = (status, page).into_response();
        response.extensions_mut().insert(report);
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;
    use crate::{
        http_client::{HttpError, HttpErrorKind},
        oauth::CallbackError,
    };

    fn http(kind: HttpErrorKind) -> HttpError {
        HttpError {
            host: "as".into(),
            kind,
        }
    }

    fn timeout() -> HttpError {
        http(HttpErrorKind::Timeout)
    }

    fn refused() -> HttpError {
        http(HttpErrorKind::Connect)
    }

    #[test]
    fn every_error_has_the_status_of_its_cause() {
        use AppError::*;
        let rejected = || ExchangeError::Rejected {
            host: "as".into(),
            code: "invalid_grant".into(),
        };
        let cases: Vec<(AppError, u16)> = vec![
            (BadCallback(CallbackError::MissingState), 400),
            (UnknownState, 400),
            (LoginExpired, 400),
            (IssuerMismatch, 400),
            (NotANavigation, 400),
            (AccessDenied, 403),
            (Csrf, 403),
            (AuthorizationFailed("invalid_scope".into()), 502),
            (ClientRejected("invalid_client".into()), 502),
            (Reconnect("invalid_grant".into()), 401),
            (RefreshUnavailable(ExchangeError::Http(timeout())), 504),
            (RefreshUnavailable(ExchangeError::Http(refused())), 503),
            (RefreshUnavailable(rejected()), 503),
            (Exchange(ExchangeError::Http(timeout())), 504),
            (Exchange(ExchangeError::Http(refused())), 502),
            (Exchange(rejected()), 502),
            (IdToken(IdTokenError::Nonce), 502),
            (IdToken(IdTokenError::KeysUnavailable), 503),
            (Push(PushError::Http(timeout())), 504),
            (Push(PushError::Http(refused())), 502),
            (Photos(PhotosError::Http(timeout())), 504),
            (Photos(PhotosError::Http(refused())), 502),
            (Photos(PhotosError::InvalidToken), 401),
            (Photos(PhotosError::InsufficientScope), 403),
            (Photos(PhotosError::Malformed("x".into())), 502),
            (Photos(PhotosError::DpopUnavailable), 502),
            (NotFound, 404),
            (InspectorOff, 404), // INSPECTOR
            (Session(SessionError::Store("down".into())), 503),
            (Session(SessionError::Full), 503),
            (Session(SessionError::Busy), 503),
            (TooManySignIns, 429),
            (Internal(anyhow::anyhow!("bug")), 500),
        ];
        for (err, status) in cases {
            let text = format!("{err:?}");
            assert!(
                crate::metrics::REASONS.contains(&err.reason()),
                "{text}: undocumented reason {}",
                err.reason()
            );
            let response = err.into_response();
            assert_eq!(response.status().as_u16(), status, "{text}");
            let report = response
                .extensions()
                .get::<ErrorReport>()
                .expect("reported");
            assert!(!report.message.is_empty(), "{text}");
        }
    }

    #[test]
    fn the_token_endpoint_refusing_the_client_itself_is_the_registration_page() {
        let refused = |code: &str| {
            AppError::from(ExchangeError::Rejected {
                host: "as".into(),
                code: code.into(),
            })
        };
        for code in ["invalid_client", "unauthorized_client"] {
            let err = refused(code);
            assert!(matches!(&err, AppError::ClientRejected(c) if c == code));
            assert!(
                err.operator_hint()
                    .is_some_and(|h| h.contains("OAUTH_CLIENT_SECRET"))
            );
        }
        let grant = refused("invalid_grant");
        assert!(matches!(
            grant,
            AppError::Exchange(ExchangeError::Rejected { .. })
        ));
        assert_eq!(
            grant.operator_hint(),
            None,
            "the visitor's grant, not the set-up"
        );
    }

    #[test]
    fn only_a_refused_authorization_request_hints_at_the_registration() {
        let failed = |code: &str| AppError::AuthorizationFailed(code.into()).operator_hint();
        assert!(failed("invalid_scope").is_some_and(|h| h.contains("APP_URL/cb")));
        assert!(failed("unauthorized_client").is_some());
        assert_eq!(failed("temporarily_unavailable"), None, "passing");
        assert_eq!(failed("server_error"), None, "passing");
        assert_eq!(AppError::AccessDenied.operator_hint(), None);
    }

    #[test]
    fn a_photos_api_that_answers_wrong_or_not_at_all_names_photos_api_url() {
        let hint = |err: PhotosError| AppError::Photos(err).operator_hint().unwrap_or("");
        for (kind, says) in [
            (HttpErrorKind::Status(404), "no such endpoint"),
            (HttpErrorKind::Status(500), "answered unexpectedly"),
            (HttpErrorKind::TooLarge(1), "answered unexpectedly"),
            (HttpErrorKind::Connect, "could not be reached"),
            (HttpErrorKind::Tls, "could not be reached"),
            (HttpErrorKind::Other("x".into()), "could not be reached"),
            (HttpErrorKind::Timeout, "HTTP_TIMEOUT_SECS"),
        ] {
            let name = format!("{kind:?}");
            let text = hint(PhotosError::Http(http(kind)));
            assert!(
                text.contains("PHOTOS_API_URL") && text.contains(says),
                "{name}: {text}"
            );
        }
        let shape = hint(PhotosError::Malformed("missing field `photos`".into()));
        assert!(
            shape.contains("PHOTOS_API_URL") && shape.contains("src/photos_api.rs"),
            "{shape}"
        );
        // The visitor's token, not the set-up.
        assert_eq!(hint(PhotosError::InvalidToken), "");
        assert_eq!(hint(PhotosError::InsufficientScope), "");
    }

    #[test]
    fn the_report_carries_the_hint_for_the_log_line() {
        let response = AppError::ClientRejected("invalid_client".into()).into_response();
        let report = response
            .extensions()
            .get::<ErrorReport>()
            .expect("reported");
        assert!(report.hint.contains("OAUTH_CLIENT_ID"), "{}", report.hint);
        assert!(report.message.contains("invalid_client"));
        let response = AppError::NotFound.into_response();
        let report = response
            .extensions()
            .get::<ErrorReport>()
            .expect("reported");
        assert_eq!(report.hint, "");
    }

    #[test]
    fn a_push_refused_for_the_client_itself_is_the_registration_page() {
        let refused = |code: &str| {
            AppError::from(PushError::Rejected {
                host: "as".into(),
                code: code.into(),
            })
        };
        for code in ["invalid_client", "unauthorized_client"] {
            assert!(matches!(refused(code), AppError::ClientRejected(c) if c == code));
        }
        let other = refused("invalid_request");
        assert!(matches!(other, AppError::Push(PushError::Rejected { .. })));
        assert_eq!(other.page_text().status, StatusCode::BAD_GATEWAY);
        assert!(
            other
                .operator_hint()
                .is_some_and(|h| h.contains("OAUTH_SCOPES"))
        );
    }
}
