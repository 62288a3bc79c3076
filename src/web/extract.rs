//! The extractors handlers take: the typed session; `Connected`, which runs a handler only
//! for a connected session and sends anyone else home with a "connect first" notice; and
//! `FormBody`, a small form body read with a deadline.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

use crate::{
    oauth::TokenSet,
    session::{AppSession, SessionError},
    web::error::AppError,
};

impl<S: Send + Sync> FromRequestParts<S> for AppSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Session::from_request_parts(parts, state)
            .await
            .map(AppSession::new)
            .map_err(|(_, reason)| SessionError::Store(reason.into()).into())
    }
}

/// A connected session and its tokens, as they were when the request started.
pub struct Connected {
    pub session: AppSession,
    pub tokens: TokenSet,
}

impl<S: Send + Sync> FromRequestParts<S> for Connected {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = AppSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match session.tokens().await {
            Ok(Some(tokens)) => Ok(Self { session, tokens }),
            Ok(None) => Err(Redirect::to("/?notice=connect-first").into_response()),
            Err(err) => Err(AppError::from(err).into_response()),
        }
    }
}

/// Most bytes of a form this app reads (a logout form is one token).
const MAX_FORM: usize = 4096;

/// How long a form body may take to arrive. A handler that reads one holds the session's lock,
/// so a body that never comes must not hold it for longer.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// A form body of at most [`MAX_FORM`] bytes that arrived within [`BODY_TIMEOUT`]; a larger or
/// broken one is empty (the form's own checks then refuse it), a late one the 408 page.
pub struct FormBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = AppError;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let read = axum::body::to_bytes(request.into_body(), MAX_FORM);
        match tokio::time::timeout(BODY_TIMEOUT, read).await {
            Ok(body) => Ok(Self(body.unwrap_or_default())),
            Err(_) => Err(AppError::SlowBody),
        }
    }
}
