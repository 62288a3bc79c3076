//! The authorization response: the 303 that sends the browser back to the client's redirect
//! URI with a code or an error, `state` and `iss` (RFC 6749 §4.1.2, §4.1.2.1, RFC 9207 §2).

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use url::Url;

use crate::pages;

/// Where and how to send an authorization response back to the client. Only built once the
/// client and the redirect URI are known-good (RFC 6749 §3.1.2.4).
pub(crate) struct ReplyTo<'a> {
    pub redirect_uri: &'a str,
    pub state: Option<&'a str>,
    /// `None` only under the `no-iss` quirk.
    pub issuer: Option<&'a str>,
}

impl ReplyTo<'_> {
    /// 303 to the redirect URI with `params`, `state` echoed exactly (RFC 6749 §4.1.2) and `iss`
    /// on every response, errors included (RFC 9207 §2). 303, never 307, so a POST's body is
    /// not replayed to the client (RFC 9700 §4.12).
    pub fn redirect(&self, params: &[(&str, &str)]) -> Response {
        let Ok(mut url) = Url::parse(self.redirect_uri) else {
            // Unreachable: redirect URIs are checked at registration (RFC 6749 §3.1.2).
            return pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The registered redirect URI is not a URL (RFC 6749 §3.1.2).",
            );
        };
        {
            // Appended to the registered URI's own query, which is kept (RFC 6749 §3.1.2).
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            if let Some(issuer) = self.issuer {
                query.append_pair("iss", issuer);
            }
        }
        let mut response = StatusCode::SEE_OTHER.into_response();
        let headers = response.headers_mut();
        if let Ok(location) = HeaderValue::from_str(url.as_str()) {
            headers.insert(header::LOCATION, location);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        // The Location carries the code: no Referer from the client's page (RFC 9700 §4.2.2).
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }

    /// An error response (RFC 6749 §4.1.2.1). `description` is fixed text, never request input.
    pub fn error(&self, error: &str, description: &str) -> Response {
        self.redirect(&[("error", error), ("error_description", description)])
    }
}
