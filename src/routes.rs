//! The app's routes, one module per area, merged here; plus the security headers every response
//! gets and the 404 page.

mod assets;
mod auth;
mod health;
mod home;
mod photos;

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};

use crate::{error::AppError, state::AppState};

/// All routes of the client app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(home::router())
        .merge(auth::router())
        .merge(photos::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}

/// For HEAD on routes whose GET has side effects (the callback consumes a state and redeems a
/// code; the photos page may refresh tokens): axum would otherwise run the GET handler.
pub async fn method_not_allowed() -> http::StatusCode {
    http::StatusCode::METHOD_NOT_ALLOWED
}

/// Headers for every response, precomputed at startup.
#[derive(Clone, Debug)]
pub struct SecurityHeaders(std::sync::Arc<Vec<(HeaderName, HeaderValue)>>);

impl SecurityHeaders {
    /// `image_origin` is the photos API's origin (photos are shown from there); `https` adds HSTS.
    pub fn new(image_origin: &str, https: bool) -> anyhow::Result<Self> {
        // No script at all, styles and images from known origins only, no framing, forms post
        // only to us (RFC 9700 §4.16 clickjacking; §4.2.4 no third-party content near the code).
        let csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self' {image_origin}; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&csp)?,
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Never a Referer to another origin: the photos page's images live on the provider
            // (RFC 9700 §4.2.4). `same-origin` rather than `no-referrer`, because with
            // `no-referrer` Chromium sends `Origin: null` on our own form POSTs. The callback,
            // whose URL carries the code and state, answers with `no-referrer` itself.
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ];
        if https {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            ));
        }
        Ok(Self(std::sync::Arc::new(headers)))
    }

    /// Middleware: adds the headers; pages default to `Cache-Control: no-store` (they carry a
    /// one-time state, user data or tokens-derived content); static assets set their own.
    pub async fn apply(
        axum::extract::State(this): axum::extract::State<Self>,
        request: Request,
        next: Next,
    ) -> Response {
        let path_is_callback = request.uri().path() == "/cb";
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        for (name, value) in this.0.iter() {
            headers.insert(name.clone(), value.clone());
        }
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        if path_is_callback {
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
        }
        response
    }
}
