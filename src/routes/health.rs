//! `GET /healthz`: liveness for load balancers and the tests' readiness wait.

use axum::{Router, routing::get};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" }))
}
