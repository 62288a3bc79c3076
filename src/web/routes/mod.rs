//! The app's routes, one module per area, in the order a sign-in visits them, and the 404 page;
//! in two routers: those that change the session, served under its lock, and those that never do.

mod assets;
mod backchannel_logout;
mod callback;
mod connect;
mod health;
mod home;
mod jwks;
mod logout;
pub mod metrics;
mod photos;
mod renew;

use axum::Router;

use crate::web::inspect; // INSPECTOR
use crate::web::{error::AppError, state::AppState};

/// The pages that change the session: `web::app` serves them one request per session at a
/// time.
pub fn locked() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(connect::router())
        .merge(callback::router())
        .merge(logout::router())
        .merge(renew::router())
        .merge(inspect::router()) // INSPECTOR
}

/// The 404 page, for every path no route names: no session, no lock, so a flood of made-up
/// paths with a made-up cookie costs no lock and no store lookup.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// The routes that never change the request's session: `/photos` reads it and changes tokens
/// only through `Sessions`, under the session's lock around the refresh alone (so a slow photos
/// API never holds a visitor's other tabs); health checks and static assets.
pub fn unlocked() -> Router<AppState> {
    Router::new()
        .merge(photos::router())
        .merge(health::router())
        .merge(assets::router())
        .merge(jwks::router())
}

/// The routes that take no session at all, served outside the session layers (like the
/// wings' and `/metrics`): the provider's back-channel logout, whose request has no cookie.
pub fn sessionless() -> Router<AppState> {
    backchannel_logout::router()
}

/// For HEAD on routes whose GET has side effects (the callback consumes a state and redeems a
/// code; the photos page may refresh tokens): axum would otherwise run the GET handler.
async fn method_not_allowed() -> http::StatusCode {
    http::StatusCode::METHOD_NOT_ALLOWED
}
