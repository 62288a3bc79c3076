//! Development diagnostics for the most common OAuth set-up mistake: the browser reaches the app
//! at another address than `APP_URL`, so after Approve the provider sends it to a host that is
//! not there. Middleware: the first such request logs a warning naming both; the home page shows
//! a banner while `APP_URL` is a loopback (development) address. Nothing here changes what a
//! request may do: the redirect URI always comes from `APP_URL` (RFC 9700 §4.13).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use url::Url;

use crate::config;

/// Longest `Host` value echoed into a log line or the banner.
const MAX_SEEN: usize = 100;

/// The check's state: `APP_URL`, and whether each warning was already logged.
#[derive(Clone, Debug)]
pub struct SetupCheck {
    app_url: Arc<Url>,
    host_warned: Arc<AtomicBool>,
    scheme_warned: Arc<AtomicBool>,
}

/// Put in the request's extensions when its `Host` is not `APP_URL`'s, for the home page's
/// banner: the address the browser used, bounded and printable.
#[derive(Clone, Debug)]
pub struct HostMismatch {
    pub seen: String,
    pub app_url: String,
}

impl SetupCheck {
    pub fn new(app_url: &Url) -> Self {
        Self {
            app_url: Arc::new(app_url.clone()),
            host_warned: Arc::default(),
            scheme_warned: Arc::default(),
        }
    }

    /// The middleware function.
    pub async fn check(State(this): State<Self>, mut request: Request, next: Next) -> Response {
        if let Some(seen) = seen_host(request.headers())
            && !same_authority(&seen, &this.app_url)
        {
            if !this.host_warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    app_url = %this.app_url,
                    seen = ?seen,
                    "a request reached the app at another address than APP_URL: after Approve, \
                     the provider will send the browser to APP_URL; set APP_URL to the address \
                     people open (logged once)"
                );
            }
            if config::is_loopback(&this.app_url) {
                request.extensions_mut().insert(HostMismatch {
                    seen,
                    app_url: this.app_url.to_string(),
                });
            }
        }
        // APP_URL says https, yet this request came over plain http with nothing in front to
        // say otherwise: the cookie is `Secure`, so the browser will not send it back here.
        if this.app_url.scheme() == "https"
            && !forwarded_https(request.headers())
            && !this.scheme_warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                app_url = %this.app_url,
                "APP_URL is https, but a request arrived over plain http without \
                 `X-Forwarded-Proto: https`; put a TLS-terminating proxy in front or use an \
                 http APP_URL (logged once)"
            );
        }
        next.run(request).await
    }
}

/// The address the browser used: `X-Forwarded-Host` behind a proxy, else `Host`. Diagnostics
/// only: never trusted for anything else (RFC 9700 §4.13).
fn seen_host(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))?;
    let text = String::from_utf8_lossy(value.as_bytes());
    let first = text.split(',').next().unwrap_or_default().trim();
    Some(first.escape_debug().take(MAX_SEEN).collect())
}

/// Whether `seen` (`host[:port]`) names `app_url`'s host and port.
fn same_authority(seen: &str, app_url: &Url) -> bool {
    let Some(host) = app_url.host_str() else {
        return false;
    };
    let expected = match app_url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    seen.eq_ignore_ascii_case(&expected)
}

fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn the_authority_must_match_host_and_port() {
        let app = url("http://localhost:3000/");
        assert!(same_authority("localhost:3000", &app));
        assert!(same_authority("LOCALHOST:3000", &app));
        for other in [
            "127.0.0.1:3000",
            "localhost:3001",
            "localhost",
            "evil:3000",
            "",
        ] {
            assert!(!same_authority(other, &app), "{other}");
        }
        let default_port = url("https://photos.example/");
        assert!(same_authority("photos.example", &default_port));
        assert!(!same_authority("photos.example:8443", &default_port));
    }

    #[test]
    fn the_seen_host_prefers_the_proxy_header_and_is_bounded_and_escaped() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:3000".parse().expect("ascii"));
        assert_eq!(seen_host(&headers).as_deref(), Some("127.0.0.1:3000"));
        headers.insert(
            "x-forwarded-host",
            "a.example, b.example".parse().expect("ascii"),
        );
        assert_eq!(seen_host(&headers).as_deref(), Some("a.example"));
        headers.insert("x-forwarded-host", "x".repeat(500).parse().expect("ascii"));
        assert_eq!(seen_host(&headers).map(|s| s.len()), Some(MAX_SEEN));
        let mut raw = HeaderMap::new();
        raw.insert(
            header::HOST,
            http::HeaderValue::from_bytes(b"a\xff\"b").expect("obs-text is allowed"),
        );
        assert_eq!(seen_host(&raw).as_deref(), Some("a\u{fffd}\\\"b"));
    }

    #[test]
    fn only_x_forwarded_proto_https_counts_as_https() {
        let mut headers = HeaderMap::new();
        assert!(!forwarded_https(&headers));
        headers.insert("x-forwarded-proto", "HTTPS".parse().expect("ascii"));
        assert!(forwarded_https(&headers));
        headers.insert("x-forwarded-proto", "http".parse().expect("ascii"));
        assert!(!forwarded_https(&headers));
    }
}
