//! A small typed client for the photos API: `GET PHOTOS_API_URL` with `Authorization: Bearer`,
//! answering `{"photos":[{"id","title","url"}]}`. Other fields are ignored.

use oauth2::AccessToken;
use serde::Deserialize;
use url::Url;

use crate::{
    http_client::{HttpClient, HttpError, HttpErrorKind},
    oauth::{
        dpop::{Dpop, NonceChallenge},
        tokens::TokenType,
    },
};

/// Most photos shown on one page; a provider sending more is cut, not trusted.
pub const MAX_PHOTOS: usize = 200;

/// One photo, ready to render. `url` is http(s) and on an allowed origin.
#[derive(Debug, Clone)]
pub struct Photo {
    pub id: String,
    pub title: String,
    /// An http(s) URL on the photos API's origin (see [`parse_photos`]).
    pub url: String,
}

/// Why the photos could not be fetched. Carries no token and no body.
#[derive(Debug, thiserror::Error)]
pub enum PhotosError {
    /// 401 (RFC 6750 §3.1 `invalid_token`, or no error code): the token is expired or revoked.
    #[error("the access token was not accepted")]
    InvalidToken,
    /// 403 `insufficient_scope` (RFC 6750 §3.1).
    #[error("the access token lacks a scope")]
    InsufficientScope,
    /// Timed out, refused, TLS, an unexpected status, a body over the cap.
    #[error("the photos API {0}")]
    Http(HttpError),
    #[error("the photos API sent an invalid response: {0}")]
    Malformed(String),
    /// The token is DPoP-bound, but DPoP is off now (`OAUTH_DPOP`) or its key is gone.
    #[error("the access token is DPoP-bound and DPoP is not available")]
    DpopUnavailable,
}

impl PhotosError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, PhotosError::Http(err) if err.is_timeout())
    }
}

#[derive(Deserialize)]
struct PhotosDto {
    photos: Vec<PhotoDto>,
}

#[derive(Deserialize)]
struct PhotoDto {
    id: String,
    title: String,
    url: String,
}

/// How the access token goes to the API: as a bearer token, or bound to the session's DPoP
/// key, with a proof (RFC 9449 §7.1).
pub struct Credential<'a> {
    pub token: &'a AccessToken,
    pub token_type: TokenType,
    pub dpop: Option<Dpop>,
}

/// Fetches the photos. The token goes only in the `Authorization` header, never in the URL
/// (RFC 6750 §2.1, §5.3; RFC 9700 §4.3.2). With DPoP, a proof goes with it, and a 401
/// `use_dpop_nonce` is answered once more with the server's nonce (RFC 9449 §9).
pub async fn fetch_photos(
    http: &HttpClient,
    api_url: &Url,
    credential: &Credential<'_>,
) -> Result<Vec<Photo>, PhotosError> {
    let dpop = match (credential.token_type, &credential.dpop) {
        (TokenType::Bearer, _) => None,
        (TokenType::Dpop, Some(dpop)) => Some(dpop),
        // A DPoP-bound token is never sent as a bearer token (RFC 9449 §7.1).
        (TokenType::Dpop, None) => return Err(PhotosError::DpopUnavailable),
    };
    let token = credential.token.secret();
    let get = || {
        http.get(api_url.clone())
            .header(http::header::ACCEPT, "application/json")
    };
    let build = |request: reqwest::RequestBuilder| {
        request
            .build()
            .map_err(|e| PhotosError::Malformed(e.without_url().to_string()))
    };
    let response = match dpop {
        None => {
            let request = build(get().bearer_auth(token))?;
            http.send(request).await.map_err(PhotosError::Http)?
        }
        Some(dpop) => {
            let send = |proof: String| async move {
                let request = get()
                    .header(http::header::AUTHORIZATION, format!("DPoP {token}"))
                    .header("dpop", proof);
                http.send(build(request)?).await.map_err(PhotosError::Http)
            };
            let unusable = || PhotosError::Malformed("the session's DPoP key is unusable".into());
            dpop.send_with_nonce("GET", api_url, Some(token), send, unusable)
                .await?
        }
    };
    match response.status.as_u16() {
        200 => {}
        401 => return Err(PhotosError::InvalidToken),
        403 => return Err(PhotosError::InsufficientScope),
        status => {
            return Err(PhotosError::Http(HttpError::new(
                api_url,
                HttpErrorKind::Status(status),
            )));
        }
    }
    parse_photos(&response.body, api_url)
}

impl NonceChallenge for crate::http_client::Response {
    fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    fn asks_for_nonce(&self) -> bool {
        asks_for_nonce(self)
    }
}

/// A 401 whose `WWW-Authenticate` says `use_dpop_nonce` (RFC 9449 §9).
fn asks_for_nonce(response: &crate::http_client::Response) -> bool {
    response.status == http::StatusCode::UNAUTHORIZED
        && response
            .headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("use_dpop_nonce")))
}

/// Parses the photos response: unknown fields ignored, unusable image URLs dropped, at most
/// [`MAX_PHOTOS`] kept. Never panics, whatever the body.
pub fn parse_photos(body: &[u8], api_url: &Url) -> Result<Vec<Photo>, PhotosError> {
    let dto: PhotosDto = serde_json::from_slice(body)
        // The category and position only: serde's message may quote the body.
        .map_err(|e| {
            PhotosError::Malformed(format!("{:?} error at line {}", e.classify(), e.line()))
        })?;
    // Only http(s) images from the API's own origin: no `javascript:`/`data:` URLs, and nothing
    // the page's CSP (img-src) would block anyway. Checked as a prefix, `scheme://host[:port]/`
    // exactly as `Url::origin` serializes it, rather than by parsing every URL (a tenth of a
    // photos page's cost): a URL parser reads the authority first and ends it at the first `/`,
    // so what follows is path, query or fragment whatever it holds (a property test below
    // checks this against the `url` crate, which follows the browsers' WHATWG parser).
    if !matches!(api_url.scheme(), "http" | "https") {
        return Ok(Vec::new());
    }
    let prefix = format!("{}/", api_url.origin().ascii_serialization());
    Ok(dto
        .photos
        .into_iter()
        .filter(|p| p.url.starts_with(&prefix))
        .map(|p| Photo {
            id: p.id,
            title: p.title,
            url: p.url,
        })
        .take(MAX_PHOTOS)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn api() -> Url {
        Url::parse("https://api.example/photos").expect("url")
    }

    #[test]
    fn keeps_only_http_images_from_the_api_origin_and_ignores_extra_fields() {
        let body = br#"{"photos":[
            {"id":"1","title":"ok","url":"https://api.example/i/1.png","width":3},
            {"id":"2","title":"js","url":"javascript:alert(1)"},
            {"id":"3","title":"data","url":"data:image/png;base64,AAAA"},
            {"id":"4","title":"other origin","url":"https://evil.example/x.png"},
            {"id":"5","title":"not a url","url":"::"}
        ],"next":"ignored"}"#;
        let photos = parse_photos(body, &api()).expect("parses");
        assert_eq!(
            photos.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            vec!["1"]
        );
    }

    #[test]
    fn the_origin_is_scheme_host_and_port_exactly() {
        let kept = |url: &str| {
            let body = serde_json::json!({"photos": [{"id": "1", "title": "t", "url": url}]});
            !parse_photos(body.to_string().as_bytes(), &api())
                .expect("parses")
                .is_empty()
        };
        assert!(kept("https://api.example/a.png"));
        assert!(
            !kept("https://API.example:443/a.png"),
            "the same origin spelled another way is refused (stricter, never wider)"
        );
        assert!(!kept("https://api.example"), "no path: not the prefix");
        assert!(
            !kept(" https://api.example/a.png"),
            "nothing before the scheme"
        );
        assert!(!kept("http://api.example/a.png"), "another scheme");
        assert!(!kept("https://api.example:8443/a.png"), "another port");
        assert!(!kept("https://api.example.evil/a.png"), "another host");
        assert!(
            !kept("https://api.example@evil.example/a.png"),
            "userinfo is not the host"
        );
        assert!(!kept("ftp://api.example/a.png"), "not http(s)");
        let http_api = Url::parse("http://api.example:8080/photos").expect("url");
        let body = br#"{"photos":[{"id":"1","title":"t","url":"http://api.example:8080/1.png"}]}"#;
        assert_eq!(parse_photos(body, &http_api).expect("parses").len(), 1);
        let ftp_api = Url::parse("ftp://api.example/photos").expect("url");
        let body = br#"{"photos":[{"id":"1","title":"t","url":"ftp://api.example/1.png"}]}"#;
        assert!(
            parse_photos(body, &ftp_api).expect("parses").is_empty(),
            "only http(s) images, whatever the API's own scheme"
        );
    }

    #[test]
    fn only_a_401_naming_use_dpop_nonce_asks_for_a_nonce() {
        let answer = |status: u16, challenge: Option<&str>| {
            let mut headers = http::HeaderMap::new();
            if let Some(challenge) = challenge {
                headers.insert(
                    http::header::WWW_AUTHENTICATE,
                    challenge.parse().expect("ascii"),
                );
            }
            crate::http_client::Response {
                status: http::StatusCode::from_u16(status).expect("status"),
                headers,
                body: Vec::new(),
            }
        };
        let challenge = Some(r#"DPoP error="use_dpop_nonce", algs="ES256""#);
        assert!(asks_for_nonce(&answer(401, challenge)));
        assert!(!asks_for_nonce(&answer(403, challenge)), "only a 401");
        assert!(!asks_for_nonce(&answer(200, challenge)));
        assert!(
            !asks_for_nonce(&answer(401, Some(r#"DPoP error="invalid_token""#))),
            "another error"
        );
        assert!(!asks_for_nonce(&answer(401, None)), "no challenge at all");
    }

    #[test]
    fn caps_the_number_of_photos() {
        let items: Vec<String> = (0..MAX_PHOTOS + 50)
            .map(|i| format!(r#"{{"id":"{i}","title":"t","url":"https://api.example/{i}.png"}}"#))
            .collect();
        let body = format!(r#"{{"photos":[{}]}}"#, items.join(","));
        assert_eq!(
            parse_photos(body.as_bytes(), &api()).expect("parses").len(),
            MAX_PHOTOS
        );
    }

    #[test]
    fn malformed_bodies_are_errors_that_do_not_quote_the_body() {
        for body in [
            &b"{"[..],
            b"null",
            b"[]",
            b"{}",
            br#"{"photos":{}}"#,
            br#"{"photos":[{"id":1}]}"#,
            b"SECRET-LOOKING-BODY",
        ] {
            let err = parse_photos(body, &api()).expect_err("malformed");
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_photos(&body, &api());
        }

        /// The prefix check is the origin check: whatever follows `https://api.example/`, the
        /// URL a browser makes of it has the API's origin.
        #[test]
        fn a_kept_url_always_has_the_api_origin(rest in "\\PC*", raw in proptest::collection::vec(any::<char>(), 0..40)) {
            for rest in [rest, raw.into_iter().collect::<String>()] {
                let url = format!("https://api.example/{rest}");
                let body = serde_json::json!({"photos": [{"id": "1", "title": "t", "url": url}]});
                let photos = parse_photos(body.to_string().as_bytes(), &api()).expect("parses");
                prop_assert_eq!(photos.len(), 1);
                let parsed = Url::parse(&photos[0].url).expect("parses");
                prop_assert_eq!(parsed.origin(), api().origin());
            }
        }

        #[test]
        fn never_panics_on_arbitrary_photo_fields(id in ".*", title in ".*", url in ".*") {
            let body = serde_json::json!({"photos": [{"id": id, "title": title, "url": url}]}).to_string();
            if let Ok(photos) = parse_photos(body.as_bytes(), &api()) {
                for photo in photos {
                    let url = Url::parse(&photo.url).expect("a URL with the API's prefix parses");
                    prop_assert_eq!(url.origin(), api().origin());
                }
            }
        }
    }
}
