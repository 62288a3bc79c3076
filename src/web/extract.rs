//! The extractors handlers take: the typed session, and `Connected`, which runs a handler only
//! for a connected session and sends anyone else home with a "connect first" notice.

use axum::{
    extract::FromRequestParts,
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
