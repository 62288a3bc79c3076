//! Development diagnostics for the most common OAuth set-up mistake: the browser reaches the app
//! at another address than `APP_URL`, so after Approve the provider sends it to a host that is
//! not there. Middleware: the first such request logs a warning naming both; the home page shows
//! a banner while `APP_URL` is a loopback (development) address. At startup, warnings about
//! `APP_URL`'s scheme. Nothing here changes what a request may do: the redirect URI always comes
//! from `APP_URL` (RFC 9700 §4.13).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName, header},
};
use url::Url;

use crate::config;

// Named once: looking a header up by `&str` parses the name on every request.
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Longest `Host` value echoed into a log line or the banner.
const MAX_SEEN: usize = 100;

/// The check's state: `APP_URL`, and whether each warning was already logged.
#[derive(Clone, Debug)]
pub struct SetupCheck {
    app_url: Arc<Url>,
    /// `APP_URL`'s `host[:port]`, as a browser sends it in `Host`.
    authority: Arc<str>,
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
        let host = app_url.host_str().unwrap_or_default();
        let authority = match app_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Self {
            app_url: Arc::new(app_url.clone()),
            authority: authority.into(),
            host_warned: Arc::default(),
            scheme_warned: Arc::default(),
        }
    }

    /// The middleware function (synchronous: `tower::ServiceBuilder::map_request`).
    pub fn check(&self, mut request: Request) -> Request {
        if let Some(seen) = seen_host(request.headers(), &self.authority) {
            if !self.host_warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    app_url = %self.app_url,
                    seen = ?seen,
                    "a request reached the app at another address than APP_URL: after Approve, \
                     the provider will send the browser to APP_URL; set APP_URL to the address \
                     people open (logged once)"
                );
            }
            if config::is_loopback(&self.app_url) {
                request.extensions_mut().insert(HostMismatch {
                    seen,
                    app_url: self.app_url.to_string(),
                });
            }
        }
        // APP_URL says https, yet this request came over plain http with nothing in front to
        // say otherwise: the cookie is `Secure`, so the browser will not send it back here.
        if self.app_url.scheme() == "https"
            && !forwarded_https(request.headers())
            && !self.scheme_warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                app_url = %self.app_url,
                "APP_URL is https, but a request arrived over plain http without \
                 `X-Forwarded-Proto: https`; put a TLS-terminating proxy in front or use an \
                 http APP_URL (logged once)"
            );
        }
        request
    }
}

/// The warnings `APP_URL` alone deserves, once at startup.
pub fn warn_at_startup(app_url: &Url) {
    if app_url.scheme() != "https" && !config::is_loopback(app_url) {
        tracing::warn!("APP_URL is not https: the session cookie travels in clear text");
    }
    // This app serves plain http only. An https APP_URL on this machine's own name almost
    // always means no TLS proxy is in front (one for localhost is rare): the browser would
    // be sent to https://localhost… after Approve and find nothing there.
    if app_url.scheme() == "https" && config::is_loopback(app_url) {
        tracing::warn!(
            %app_url,
            "APP_URL is https on a loopback address, but this app serves plain http: \
             unless a TLS proxy on this machine forwards to LISTEN_ADDR, use http://"
        );
    }
}

/// The address the browser used, when it is not `authority` (compared without case): the first
/// `X-Forwarded-Host` behind a proxy, else `Host`; bounded and printable. Diagnostics only: never
/// trusted for anything else (RFC 9700 §4.13).
fn seen_host(headers: &HeaderMap, authority: &str) -> Option<String> {
    let value = headers
        .get(X_FORWARDED_HOST)
        .or_else(|| headers.get(header::HOST))?;
    let first = value
        .as_bytes()
        .split(|&b| b == b',')
        .next()
        .unwrap_or_default();
    if first
        .trim_ascii()
        .eq_ignore_ascii_case(authority.as_bytes())
    {
        return None;
    }
    let text = String::from_utf8_lossy(first);
    Some(text.trim().escape_debug().take(MAX_SEEN).collect())
}

fn forwarded_https(headers: &HeaderMap) -> bool {
    headers
        .get(X_FORWARDED_PROTO)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    /// What `check` reports for a request with this `Host`.
    fn seen(app_url: &str, host: &str) -> Option<String> {
        let check = SetupCheck::new(&url(app_url));
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().expect("ascii"));
        seen_host(&headers, &check.authority)
    }

    #[test]
    fn the_authority_must_match_host_and_port() {
        let app = "http://localhost:3000/";
        assert_eq!(seen(app, "localhost:3000"), None);
        assert_eq!(seen(app, "LOCALHOST:3000"), None);
        for other in ["127.0.0.1:3000", "localhost:3001", "localhost", "evil:3000"] {
            assert_eq!(seen(app, other).as_deref(), Some(other));
        }
        assert_eq!(seen("https://photos.example/", "photos.example"), None);
        assert_eq!(
            seen("https://photos.example/", "photos.example:8443").as_deref(),
            Some("photos.example:8443")
        );
    }

    #[test]
    fn a_mismatch_is_put_in_the_extensions_only_for_a_loopback_app_url() {
        let request = |host: &str| {
            Request::builder()
                .header(header::HOST, host)
                .body(axum::body::Body::empty())
                .expect("request")
        };
        let local = SetupCheck::new(&url("http://localhost:3000/"));
        let checked = local.check(request("127.0.0.1:3000"));
        let mismatch = checked
            .extensions()
            .get::<HostMismatch>()
            .expect("a mismatch");
        assert_eq!(mismatch.seen, "127.0.0.1:3000");
        assert_eq!(mismatch.app_url, "http://localhost:3000/");
        assert!(
            local
                .check(request("localhost:3000"))
                .extensions()
                .get::<HostMismatch>()
                .is_none()
        );
        let public = SetupCheck::new(&url("https://photos.example/"));
        let checked = public.check(request("photos.internal"));
        assert!(
            checked.extensions().get::<HostMismatch>().is_none(),
            "no banner in production"
        );
    }

    #[test]
    fn the_seen_host_prefers_the_proxy_header_and_is_bounded_and_escaped() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:3000".parse().expect("ascii"));
        let seen_host = |headers: &HeaderMap| seen_host(headers, "localhost:3000");
        assert_eq!(seen_host(&headers).as_deref(), Some("127.0.0.1:3000"));
        headers.insert(
            "x-forwarded-host",
            "a.example, b.example".parse().expect("ascii"),
        );
        assert_eq!(seen_host(&headers).as_deref(), Some("a.example"));
        headers.insert(
            "x-forwarded-host",
            " localhost:3000 , b.example".parse().expect("ascii"),
        );
        assert_eq!(
            seen_host(&headers),
            None,
            "the proxy's first entry, trimmed"
        );
        headers.insert("x-forwarded-host", "x".repeat(500).parse().expect("ascii"));
        assert_eq!(seen_host(&headers).map(|s| s.len()), Some(MAX_SEEN));
        let mut raw = HeaderMap::new();
        raw.insert(
            header::HOST,
            http::HeaderValue::from_bytes(b"a\xff\"b").expect("obs-text is allowed"),
        );
        assert_eq!(seen_host(&raw).as_deref(), Some("a\u{fffd}\\\"b"));
    }

    /// The warnings `run` logs, one per line.
    fn warnings(run: impl FnOnce()) -> Vec<String> {
        let make = |writer| {
            tracing_subscriber::fmt()
                .with_writer(writer)
                .with_ansi(false)
                .finish()
        };
        let text = crate::telemetry::lines_of(make, run);
        text.lines().map(str::to_owned).collect()
    }

    fn request(host: &str, forwarded_proto: Option<&str>) -> Request {
        let mut request = Request::builder().header(header::HOST, host);
        if let Some(proto) = forwarded_proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request.body(axum::body::Body::empty()).expect("request")
    }

    #[test]
    fn another_host_is_warned_about_once() {
        let check = SetupCheck::new(&url("http://localhost:3000/"));
        let first = warnings(|| {
            check.check(request("localhost:3000", None));
            check.check(request("127.0.0.1:3000", None));
        });
        assert_eq!(first.len(), 1, "the first one is logged: {first:?}");
        let logged = first;
        let later = warnings(|| {
            check.check(request("127.0.0.1:3000", None));
            check.check(request("10.0.0.1:3000", None));
        });
        assert!(later.is_empty(), "then never again: {later:?}");
        assert!(
            logged[0].contains("another address than APP_URL"),
            "{logged:?}"
        );
        assert!(logged[0].contains("127.0.0.1:3000"), "{logged:?}");
    }

    #[test]
    fn an_https_app_url_reached_over_plain_http_is_warned_about_once() {
        let check = SetupCheck::new(&url("https://photos.example/"));
        let behind_tls = warnings(|| {
            check.check(request("photos.example", Some("https")));
        });
        assert!(behind_tls.is_empty(), "{behind_tls:?}");
        let logged = warnings(|| {
            check.check(request("photos.example", None));
        });
        assert_eq!(logged.len(), 1, "the first one is logged: {logged:?}");
        let later = warnings(|| {
            check.check(request("photos.example", Some("http")));
            check.check(request("photos.example", None));
        });
        assert!(later.is_empty(), "then never again: {later:?}");
        assert!(logged[0].contains("arrived over plain http"), "{logged:?}");
        let plain = SetupCheck::new(&url("http://localhost:3000/"));
        assert!(
            warnings(|| {
                plain.check(request("localhost:3000", None));
            })
            .is_empty()
        );
    }

    #[test]
    fn startup_warns_about_plain_http_in_production_and_https_on_loopback() {
        let at_startup = |app_url: &str| warnings(|| warn_at_startup(&url(app_url)));
        let clear = at_startup("http://photos.example/");
        assert_eq!(clear.len(), 1, "{clear:?}");
        assert!(clear[0].contains("clear text"), "{clear:?}");
        let loopback_https = at_startup("https://localhost:3000/");
        assert_eq!(loopback_https.len(), 1, "{loopback_https:?}");
        assert!(loopback_https[0].contains("https on a loopback address"));
        assert!(at_startup("http://localhost:3000/").is_empty());
        assert!(at_startup("https://photos.example/").is_empty());
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
