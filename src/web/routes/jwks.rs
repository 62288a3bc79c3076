//! `GET /.well-known/jwks.json`: the client's public key set (RFC 7517 §5), served only with
//! `OAUTH_TOKEN_AUTH=private_key_jwt`, for providers that fetch a client's keys from a
//! `jwks_uri` (RFC 7591 §2) rather than register them once.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::web::{error::AppError, state::AppState};

/// The path providers are told to fetch the key set from.
pub const PATH: &str = "/.well-known/jwks.json";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, get(jwks))
}

async fn jwks(State(state): State<AppState>) -> Response {
    let Some(keys) = state.oauth.public_jwks() else {
        // With a client secret there is no key to publish.
        return AppError::NotFound.into_response();
    };
    let mut response = Json(keys).into_response();
    // Cached a little, so a provider's fetches stay cheap, and short enough that a key rotated
    // at a restart is seen within minutes.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
