//! The back-channel endpoints' error response (RFC 6749 §5.2): a JSON `error` and an
//! `error_description` that names the rule broken, never cached.

use axum::{
    Json,
    extract::rejection::BytesRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::store::{FAILURE_WINDOW_SECS, ProviderState};

/// An RFC 6749 §5.2 error response.
#[derive(Debug)]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// `invalid_client` after an `Authorization: Basic` attempt must carry `WWW-Authenticate`.
    pub www_authenticate: bool,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            www_authenticate: false,
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    /// 401, with `WWW-Authenticate: Basic` when the client used Basic (RFC 6749 §5.2).
    pub fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self {
            www_authenticate: basic,
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
    }
    pub fn too_many_attempts() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_client",
            "too many failed client authentications; wait a minute (RFC 6749 section 2.3.1 brute-force protection)",
        )
    }

    /// The body could not be read: too large (413) or not readable (400).
    pub(crate) fn unreadable_body(rejection: &BytesRejection) -> Self {
        let status = rejection.status();
        let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "the body is larger than this server's 64 KiB limit (RFC 6749 section 3.2)"
        } else {
            "the body could not be read (RFC 6749 section 3.2)"
        };
        Self::new(status, "invalid_request", description)
    }

    /// Applies the `error-200` quirk: the same JSON error, with HTTP 200 (GitHub style).
    pub(crate) fn with_quirks(mut self, state: &ProviderState) -> Self {
        if state.settings.quirks.error_with_200 {
            self.status = StatusCode::OK;
            self.www_authenticate = false;
        }
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1/§5.2: token responses must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"demo-provider\""),
            );
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(FAILURE_WINDOW_SECS));
        }
        response
    }
}
