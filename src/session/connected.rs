//! The `Connected` extractor: a handler that takes it runs only for a connected session; anyone
//! else is sent to the home page with a "connect first" notice.

use axum::{
    extract::FromRequestParts,
    http::request::Parts,
    response::{IntoResponse, Redirect, Response},
};

use crate::{oauth::TokenSet, session::AppSession};

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
            Err(err) => Err(err.into_response()),
        }
    }
}
