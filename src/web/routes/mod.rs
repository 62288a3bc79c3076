//! The app's routes, one module per area, in the order a sign-in visits them, and the 404 page.

mod assets;
mod callback;
mod connect;
mod health;
mod home;
mod logout;
mod photos;

use axum::Router;

use crate::web::{error::AppError, inspect, state::AppState};

/// All routes of the client app (the middleware goes around them in `startup`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(home::router())
        .merge(connect::router())
        .merge(callback::router())
        .merge(photos::router())
        .merge(logout::router())
        .merge(inspect::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}

/// For HEAD on routes whose GET has side effects (the callback consumes a state and redeems a
/// code; the photos page may refresh tokens): axum would otherwise run the GET handler.
async fn method_not_allowed() -> http::StatusCode {
    http::StatusCode::METHOD_NOT_ALLOWED
}
