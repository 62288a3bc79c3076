//! The app's routes, one module per area, in the order a sign-in visits them; plus the security
//! headers every response gets and the 404 page.

mod assets;
mod callback;
mod connect;
mod flow;
mod health;
mod home;
mod logout;
mod photos;
pub mod rate_limit;
pub mod setup_check;

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{error::AppError, state::AppState};

/// All routes of the client app. `setup` watches for a browser that reaches the app at
/// another address than `APP_URL`.
pub fn router(state: AppState, setup: setup_check::SetupCheck) -> Router {
    Router::new()
        .merge(home::router())
        .merge(connect::router())
        .merge(callback::router())
        .merge(photos::router())
        .merge(logout::router())
        .merge(flow::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(|| async { AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            setup,
            setup_check::SetupCheck::check,
        ))
        .with_state(state)
}

/// For HEAD on routes whose GET has side effects (the callback consumes a state and redeems a
/// code; the photos page may refresh tokens): axum would otherwise run the GET handler.
async fn method_not_allowed() -> http::StatusCode {
    http::StatusCode::METHOD_NOT_ALLOWED
}

/// Headers on every response (applied outermost, so error and panic pages get them too).
/// `image_origin` is the photos API's origin (photos are shown from
/// there); `https` adds HSTS.
pub fn security_headers(router: Router, image_origin: &str, https: bool) -> anyhow::Result<Router> {
    // No script at all, styles and images from known origins only, no framing, forms post only
    // to us (RFC 9700 §4.16 clickjacking; §4.2.4 no third-party content near the code).
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' {image_origin}; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let always =
        |name: HeaderName, value: HeaderValue| SetResponseHeaderLayer::overriding(name, value);
    let router = router
        .layer(always(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp)?,
        ))
        .layer(always(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(always(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(always(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // Never a Referer to another origin: the photos page's images live on the provider
        // (RFC 9700 §4.2.4). `same-origin` rather than `no-referrer`, because with `no-referrer`
        // Chromium sends `Origin: null` on our own form POSTs. The callback, whose URL carries
        // the code and state, sets `no-referrer` itself (see `callback::router`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Pages carry a one-time state, user data or token-derived content: never cached.
        // Static assets set their own `Cache-Control`.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Ok(if https {
        router.layer(always(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    })
}
