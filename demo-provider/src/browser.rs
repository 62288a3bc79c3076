//! The browser binding: the provider's own cookie, set with the consent page, which ties the
//! consent answer to the browser that saw the screen (RFC 6749 §10.12: a forged answer from
//! anywhere else is refused).

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};
use cookie::Cookie;

/// The cookie's name.
pub(crate) const COOKIE: &str = "demo_as_browser";

/// The binding the request's browser already holds, if any.
pub(crate) fn binding(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

/// Sets the binding on `response`. `SameSite=Lax`: sent again when another tab's cross-site
/// navigation arrives here, so two consent screens in one browser share the binding; never
/// sent on cross-site POSTs. Scoped to `/oauth` and out of reach of scripts.
pub(crate) fn set_binding(response: &mut Response, value: &str) {
    let cookie = format!("{COOKIE}={value}; Path=/oauth; HttpOnly; SameSite=Lax");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
}

/// The value of the first cookie called exactly `name` in the request's `Cookie` headers
/// (there may be several, RFC 6265 §5.4 and RFC 9113 §8.2.3). Pieces that are not
/// `name=value` are skipped, and a header that is not UTF-8 is ignored.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookies(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::COOKIE,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn finds_the_named_cookie_among_others_and_across_headers() {
        let headers = with_cookies(&[b"a=1; demo_as_browser=abc; b=2"]);
        assert_eq!(binding(&headers).as_deref(), Some("abc"));
        let headers = with_cookies(&[b"a=1", b"b=2;demo_as_browser=xyz"]);
        assert_eq!(binding(&headers).as_deref(), Some("xyz"));
        let headers = with_cookies(&[b"demo_as_browser=first; demo_as_browser=second"]);
        assert_eq!(binding(&headers).as_deref(), Some("first"));
        assert_eq!(
            cookie_value(&with_cookies(&[b"  spaced  =  v  "]), "spaced").as_deref(),
            Some("v")
        );
    }

    #[test]
    fn the_name_must_match_exactly() {
        for value in [
            &b"xdemo_as_browser=abc"[..],
            b"demo_as_browser2=abc",
            b"DEMO_AS_BROWSER=abc",
            b"demo_as_browser",
            b"other=demo_as_browser=abc",
        ] {
            assert_eq!(binding(&with_cookies(&[value])), None, "{value:?}");
        }
        assert_eq!(binding(&HeaderMap::new()), None);
    }

    #[test]
    fn malformed_pieces_and_non_utf8_headers_are_skipped() {
        let headers = with_cookies(&[b"garbage; =nameless; demo_as_browser=ok"]);
        assert_eq!(binding(&headers).as_deref(), Some("ok"));
        let headers = with_cookies(&[b"demo_as_browser=\xff\xfe", b"demo_as_browser=good"]);
        assert_eq!(binding(&headers).as_deref(), Some("good"));
        // An empty value is a value; the callers' length check refuses it.
        let headers = with_cookies(&[b"demo_as_browser="]);
        assert_eq!(binding(&headers).as_deref(), Some(""));
    }

    #[test]
    fn the_binding_cookie_is_http_only_lax_and_scoped() {
        let mut response = Response::new(axum::body::Body::empty());
        set_binding(&mut response, "tok");
        let set = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("Set-Cookie");
        assert_eq!(
            set,
            "demo_as_browser=tok; Path=/oauth; HttpOnly; SameSite=Lax"
        );
    }
}
