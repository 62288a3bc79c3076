//! `/static/*` and `/favicon.ico`: the stylesheet and icon, compiled into the binary so it runs
//! from any directory.

use axum::{Router, http::header, response::IntoResponse, routing::get};

use crate::web::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../../static/app.css"),
                )
            }),
        )
        .route(
            "/static/favicon.svg",
            get(|| asset("image/svg+xml", include_str!("../../../static/favicon.svg"))),
        )
        // Browsers ask for /favicon.ico whatever the page says; the SVG serves (they sniff it).
        .route(
            "/favicon.ico",
            get(|| asset("image/svg+xml", include_str!("../../../static/favicon.svg"))),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
