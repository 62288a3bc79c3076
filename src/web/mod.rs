//! The web floor: everything axum. The state handlers reach, the one error type and its page,
//! the extractors, the routes (one module per page, in the order a sign-in visits them) and the
//! middleware around them, put together by [`app`]. Below it, nothing knows of HTTP requests
//! coming in.

pub mod error;
pub mod extract;
pub mod inspect;
pub mod middleware;
pub mod routes;
pub mod state;

use std::convert::Infallible;

use axum::{
    extract::Request,
    middleware::{from_fn, from_fn_with_state, map_response_with_state},
    response::{IntoResponse, Response},
};
use tower::{ServiceBuilder, util::BoxCloneSyncService};
use tower_http::catch_panic::CatchPanicLayer;
use tower_sessions::SessionManagerLayer;

use crate::{
    session::{lock::SessionLocks, store::AnyStore},
    telemetry,
};
use error::AppError;
use middleware::{headers::SecurityHeaders, lock, setup_check::SetupCheck};
use state::AppState;

/// The whole app as one service: the router inside its middleware, boxed once.
pub type App = BoxCloneSyncService<Request, Response, Infallible>;

/// What goes around the routes, made by `startup` from the configuration, and `/metrics` when
/// it is served on the app's address.
pub struct Middleware {
    pub locks: SessionLocks,
    pub sessions: SessionManagerLayer<AnyStore>,
    pub setup: SetupCheck,
    pub headers: SecurityHeaders,
    pub metrics: Option<routes::metrics::Exporter>,
    /// Wings' own routes (`startup::Application::with_wing`), served beside the others, outside the
    /// session layers: they take no session and no lock.
    pub wing_routes: Option<axum::Router<AppState>>,
}

/// The routes inside their middleware. The session lock is applied by routing: the routes that
/// may change the session (`routes::locked`) run under it, around the session layer so each
/// one's save happens under the lock; `routes::unlocked` and the 404 page never take it. The outer layers are built around the router, not with `Router::layer`,
/// which would wrap every route in each of them and clone that chain on every request
/// (BENCHMARKS.md).
pub fn app(state: AppState, parts: Middleware) -> App {
    let Middleware {
        locks,
        sessions,
        setup,
        headers,
        metrics,
        wing_routes,
    } = parts;
    let check = setup.clone();
    let locked = ServiceBuilder::new()
        .layer(from_fn_with_state(locks, lock::serialize))
        .layer(sessions.clone())
        .map_request(move |request| check.check(request));
    let unlocked = ServiceBuilder::new()
        .layer(from_fn(lock::unlocked))
        .layer(sessions)
        .map_request(move |request| setup.check(request));
    let mut router = routes::locked()
        .route_layer(locked)
        .merge(routes::unlocked().route_layer(unlocked))
        .merge(routes::sessionless());
    if let Some(exporter) = metrics {
        router = router.merge(routes::metrics::router(exporter));
    }
    if let Some(wing) = wing_routes {
        router = router.merge(wing);
    }
    let router = router.fallback(routes::not_found).with_state(state);
    // Outermost first.
    let app = ServiceBuilder::new()
        // The request's one log line, when its response (with its headers) leaves.
        .layer(from_fn(telemetry::log_request))
        .layer(map_response_with_state(headers, SecurityHeaders::apply))
        // A bug that panics in a handler becomes the 500 page, not a dropped connection.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        .service(router);
    App::new(app)
}
