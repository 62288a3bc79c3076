//! The security headers every response gets: one middleware, applied outermost (see `startup`),
//! so error, 404 and panic pages get them too.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, header},
};
use http::Response;

/// The headers, built once at startup from the photos API's origin and the app's scheme.
#[derive(Clone, Debug)]
pub struct SecurityHeaders(Arc<Headers>);

#[derive(Debug)]
struct Headers {
    /// Set on every response, replacing whatever a handler set.
    always: HeaderMap,
    /// Set when the handler set none (the callback's `Referrer-Policy`, assets' caching).
    defaults: HeaderMap,
}

impl SecurityHeaders {
    /// `image_origin` is the photos API's origin (photos are shown from there); `end_session`,
    /// the provider's end-session origin, where the logout form's redirect may go; `https` adds
    /// HSTS.
    pub fn new(image_origin: &str, end_session: Option<&str>, https: bool) -> anyhow::Result<Self> {
        let mut always = HeaderMap::new();
        // No script at all, styles and images from known origins only, no framing, forms post
        // only to us (RFC 9700 §4.16 clickjacking; §4.2.4 no third-party content near the code).
        // CSP 3 form-action also governs the redirects after a form's POST (RP-initiated logout).
        let forms = match end_session {
            Some(origin) => format!("'self' {origin}"),
            None => "'self'".to_owned(),
        };
        let csp = format!(
            "default-src 'none'; style-src 'self'; img-src 'self' {image_origin}; \
             form-action {forms}; frame-ancestors 'none'; base-uri 'none'"
        );
        always.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp)?,
        );
        always.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        always.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        always.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        if https {
            always.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        let mut defaults = HeaderMap::new();
        // Never a Referer to another origin: the photos page's images live on the provider
        // (RFC 9700 §4.2.4). `same-origin` rather than `no-referrer`, because with `no-referrer`
        // Chromium sends `Origin: null` on our own form POSTs. The callback, whose URL carries
        // the code and state, sets `no-referrer` itself (see `callback::router`).
        defaults.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        // Pages carry a one-time state, user data or token-derived content: never cached.
        // Static assets set their own `Cache-Control`.
        defaults.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(Self(Arc::new(Headers { always, defaults })))
    }

    /// The middleware function (`axum::middleware::map_response_with_state`), for any body.
    pub async fn apply<B>(State(this): State<Self>, mut response: Response<B>) -> Response<B> {
        let headers = response.headers_mut();
        for (name, value) in &this.0.always {
            headers.insert(name, value.clone());
        }
        for (name, value) in &this.0.defaults {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, response::IntoResponse};

    use super::*;

    type Response = axum::response::Response;

    async fn applied(https: bool, response: Response) -> HeaderMap {
        let headers = SecurityHeaders::new("http://photos.example", None, https).unwrap();
        SecurityHeaders::apply(State(headers), response)
            .await
            .headers()
            .clone()
    }

    #[tokio::test]
    async fn every_response_gets_the_headers_and_a_handlers_own_are_replaced() {
        let response = ([(header::X_FRAME_OPTIONS, "SAMEORIGIN")], "page").into_response();
        let headers = applied(false, response).await;
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("img-src 'self' http://photos.example;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }

    #[test]
    fn c99_the_logout_forms_redirect_may_reach_the_end_session_origin_only() {
        let csp = |end_session| {
            let headers =
                SecurityHeaders::new("http://photos.example", end_session, false).expect("headers");
            headers.0.always[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii")
                .to_owned()
        };
        assert!(csp(None).contains("form-action 'self';"));
        let with = csp(Some("https://as.example"));
        assert!(
            with.contains("form-action 'self' https://as.example;"),
            "{with}"
        );
    }

    #[tokio::test]
    async fn a_handlers_referrer_policy_and_caching_are_kept() {
        let response = (
            [
                (header::REFERRER_POLICY, "no-referrer"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            Body::empty(),
        )
            .into_response();
        let headers = applied(false, response).await;
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=3600");
        assert_eq!(headers.get_all(header::CACHE_CONTROL).iter().count(), 1);
    }

    #[tokio::test]
    async fn https_adds_hsts() {
        let headers = applied(true, "page".into_response()).await;
        assert_eq!(
            headers[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000"
        );
    }
}
