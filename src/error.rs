//! The one error type of the web layer. Every variant renders `templates/error.html` with its
//! status and a "Start again" link, and is logged once, here, without secrets: variants carry
//! only error codes and reasons, never tokens, codes, states or response bodies.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::{
    oauth::{CallbackError, ExchangeError},
    photos_api::PhotosError,
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
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    Photos(#[from] PhotosError),
    /// The provider refused the refresh for good (`invalid_grant`…): connect again.
    #[error("the connection must be renewed")]
    Reconnect,
    /// The refresh failed for a passing reason (provider down, slow): tokens kept, try again.
    #[error("refresh failed: {0}")]
    RefreshUnavailable(ExchangeError),
    /// A state-changing request without a valid CSRF token or from another origin.
    #[error("CSRF check failed")]
    Csrf,
    #[error("no such page")]
    NotFound,
    /// The home page requested as a subresource (`Sec-Fetch-Mode` other than `navigate`).
    #[error("the home page was requested by something other than a page navigation")]
    NotANavigation,
    /// The session store failed (full, or unreachable once it is Redis).
    #[error("session store failure: {0}")]
    Session(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// Wraps a tower-sessions error.
    pub fn session(err: tower_sessions::session::Error) -> Self {
        Self::Session(err.to_string())
    }

    /// The HTTP status of the error page.
    pub fn status(&self) -> StatusCode {
        use AppError::*;
        match self {
            BadCallback(_) | UnknownState | LoginExpired | IssuerMismatch => {
                StatusCode::BAD_REQUEST
            }
            AccessDenied | Csrf => StatusCode::FORBIDDEN,
            AuthorizationFailed(_) => StatusCode::BAD_GATEWAY,
            Reconnect => StatusCode::UNAUTHORIZED,
            RefreshUnavailable(ExchangeError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            RefreshUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Exchange(ExchangeError::Timeout) | Photos(PhotosError::Timeout) => {
                StatusCode::GATEWAY_TIMEOUT
            }
            Exchange(_) => StatusCode::BAD_GATEWAY,
            Photos(PhotosError::InvalidToken) => StatusCode::UNAUTHORIZED,
            Photos(PhotosError::InsufficientScope) => StatusCode::FORBIDDEN,
            Photos(_) => StatusCode::BAD_GATEWAY,
            NotFound => StatusCode::NOT_FOUND,
            NotANavigation => StatusCode::BAD_REQUEST,
            Session(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The page's heading and explanation: fixed text, never input echoed back.
    fn page_text(&self) -> (&'static str, &'static str) {
        use AppError::*;
        match self {
            BadCallback(_) => (
                "That sign-in link is not valid",
                "The address the provider sent you back with is malformed. Please start again.",
            ),
            UnknownState => (
                "Your sign-in expired or was not started here",
                "We could not match this sign-in to one started in this browser. It may have been used already, or started in another browser. Please start again.",
            ),
            LoginExpired => (
                "Your sign-in expired",
                "You took a little too long at the provider, so this sign-in is no longer valid. Please start again.",
            ),
            IssuerMismatch => (
                "That sign-in came from an unexpected provider",
                "The response did not come from the provider this sign-in was sent to, so it was refused. Please start again.",
            ),
            AccessDenied => (
                "Access was not granted",
                "You chose not to share your photos. Nothing was shared. You can connect again at any time.",
            ),
            AuthorizationFailed(_) => (
                "The provider could not complete the sign-in",
                "The provider refused the sign-in request. Please start again; if it keeps happening, the app's configuration may be wrong.",
            ),
            Exchange(ExchangeError::Timeout) | Photos(PhotosError::Timeout) => (
                "The provider is taking too long",
                "The provider did not answer in time. Please try again in a moment.",
            ),
            Exchange(ExchangeError::Rejected(_)) => (
                "The provider refused the sign-in",
                "The provider did not accept this sign-in (it may have been used already or expired). Please start again.",
            ),
            Exchange(_) => (
                "The provider is not working right now",
                "We could not get an answer we understand from the provider. Please try again in a moment.",
            ),
            Reconnect => (
                "Your connection has expired",
                "The provider no longer accepts this connection. Please connect your account again.",
            ),
            RefreshUnavailable(_) => (
                "The provider is not answering right now",
                "We could not renew your connection just now. Your connection is kept; please try again in a moment.",
            ),
            Photos(PhotosError::InvalidToken) => (
                "Your connection has expired",
                "The provider no longer accepts this connection. Please connect your account again.",
            ),
            Photos(PhotosError::InsufficientScope) => (
                "Missing permission",
                "This connection is not allowed to view your photos. Please connect again and approve photo access.",
            ),
            Photos(_) => (
                "The photos service is not working right now",
                "We could not load your photos from the provider. Please try again in a moment.",
            ),
            Csrf => (
                "That request was refused",
                "The form you submitted was not from this page, or it expired. Please go back and try again.",
            ),
            NotFound => ("Page not found", "There is nothing at this address."),
            NotANavigation => (
                "Open this page directly",
                "This page can only be opened in the browser, not embedded in another page.",
            ),
            Session(_) => (
                "We are having trouble right now",
                "Your session could not be stored. Please try again in a moment.",
            ),
            Internal(_) => (
                "Something went wrong",
                "An unexpected error happened on our side. Please try again.",
            ),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        // Logged once, here, inside the request's span (which carries method and path).
        // `%self` is built only from codes and reasons; control characters arrive Debug-escaped.
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::warn!(status = status.as_u16(), error = %self, "request refused");
        }
        let (title, message) = self.page_text();
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        (status, page).into_response()
    }
}
