//! `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the session
//! store answers too; 503 while Redis is down), for load balancers and orchestrators.

use axum::{Router, extract::State, http::StatusCode, routing::get};

use crate::web::state::{AppState, Readiness};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn ready(State(readiness): State<Readiness>) -> (StatusCode, &'static str) {
    if readiness.ready().await {
        (StatusCode::OK, "ready")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the session store is not answering",
        )
    }
}
