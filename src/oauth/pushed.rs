//! The answer of a pushed authorization request (RFC 9126 §2.2, §2.3): the `request_uri`
//! the browser takes to the authorization endpoint, or why the push failed.

use serde::Deserialize;

use crate::{
    http_client::{HttpError, HttpErrorKind, Response},
    text::escaped,
};

/// Longest `request_uri` accepted: it goes into the browser's URL.
const MAX_REQUEST_URI: usize = 1024;

/// Why a push failed. Never carries a body, a state or a challenge.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The endpoint answered with an OAuth error (RFC 9126 §2.3), e.g. `invalid_request`.
    #[error("the pushed authorization request endpoint {host} refused the request: {code}")]
    Rejected { host: String, code: String },
    /// Timed out, refused, TLS, a non-OAuth error status, a body over the cap.
    #[error("the pushed authorization request endpoint {0}")]
    Http(HttpError),
    /// Not a valid answer (no `request_uri`, not JSON, …).
    #[error("the pushed authorization request endpoint {host} sent an invalid response: {detail}")]
    InvalidResponse { host: String, detail: String },
}

impl PushError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, PushError::Http(err) if err.is_timeout())
    }
}

#[derive(Deserialize)]
struct Created {
    request_uri: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// The `request_uri` of a successful push: 201 (200 tolerated) with `request_uri` and a
/// positive `expires_in` (RFC 9126 §2.2); an error status with an OAuth error body is the
/// provider refusing (§2.3).
pub fn request_uri(response: &Response, host: &str) -> Result<String, PushError> {
    let invalid = |detail: &str| PushError::InvalidResponse {
        host: host.to_owned(),
        detail: detail.to_owned(),
    };
    let status = response.status.as_u16();
    if !matches!(status, 200 | 201) {
        return Err(match serde_json::from_slice::<ErrorBody>(&response.body) {
            Ok(body) if (400..500).contains(&status) => PushError::Rejected {
                host: host.to_owned(),
                code: escaped(&body.error, 64),
            },
            _ => PushError::Http(HttpError {
                host: host.to_owned(),
                kind: HttpErrorKind::Status(status),
            }),
        });
    }
    let created: Created = serde_json::from_slice(&response.body)
        .map_err(|e| invalid(&format!("{:?} error at line {}", e.classify(), e.line())))?;
    let printable = created.request_uri.bytes().all(|b| b.is_ascii_graphic());
    if created.request_uri.is_empty() || created.request_uri.len() > MAX_REQUEST_URI || !printable {
        return Err(invalid("request_uri is empty, too long or not printable"));
    }
    if created.expires_in == 0 {
        return Err(invalid("expires_in is 0"));
    }
    Ok(created.request_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: http::StatusCode::from_u16(status).expect("status"),
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn only_a_timed_out_push_is_a_timeout() {
        let timeout = PushError::Http(HttpError {
            host: "as".into(),
            kind: HttpErrorKind::Timeout,
        });
        assert!(timeout.is_timeout());
        let refused = PushError::Http(HttpError {
            host: "as".into(),
            kind: HttpErrorKind::Connect,
        });
        assert!(!refused.is_timeout());
        assert!(
            !PushError::Rejected {
                host: "as".into(),
                code: "invalid_request".into()
            }
            .is_timeout()
        );
    }

    #[test]
    fn a_created_answer_gives_its_request_uri() {
        let ok = response(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#,
        );
        assert_eq!(
            request_uri(&ok, "as").expect("ok"),
            "urn:ietf:params:oauth:request_uri:abc"
        );
    }

    #[test]
    fn refusals_and_broken_answers_are_told_apart() {
        let refused = response(
            400,
            r#"{"error":"invalid_request\r\n","error_description":"x"}"#,
        );
        match request_uri(&refused, "as:1") {
            Err(PushError::Rejected { host, code }) => {
                assert_eq!(host, "as:1");
                assert!(!code.contains('\r'), "escaped: {code}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            request_uri(&response(503, "<html>down</html>"), "as"),
            Err(PushError::Http(HttpError {
                kind: HttpErrorKind::Status(503),
                ..
            }))
        ));
        // A server error is the provider failing, not refusing, even with an OAuth error body.
        let failing = response(503, r#"{"error":"temporarily_unavailable"}"#);
        assert!(matches!(
            request_uri(&failing, "as"),
            Err(PushError::Http(HttpError {
                kind: HttpErrorKind::Status(503),
                ..
            }))
        ));
        let refusing = response(499, r#"{"error":"x"}"#);
        assert!(matches!(
            request_uri(&refusing, "as"),
            Err(PushError::Rejected { .. })
        ));
        for body in [
            "{}",
            r#"{"request_uri":"","expires_in":60}"#,
            r#"{"request_uri":"urn:x","expires_in":0}"#,
            r#"{"request_uri":"urn:x y","expires_in":60}"#,
        ] {
            assert!(
                matches!(
                    request_uri(&response(201, body), "as"),
                    Err(PushError::InvalidResponse { .. })
                ),
                "{body}"
            );
        }
        let long = format!(
            r#"{{"request_uri":"{}","expires_in":60}}"#,
            "u".repeat(MAX_REQUEST_URI + 1)
        );
        assert!(request_uri(&response(201, &long), "as").is_err());
        let longest = format!(
            r#"{{"request_uri":"{}","expires_in":60}}"#,
            "u".repeat(MAX_REQUEST_URI)
        );
        assert!(request_uri(&response(201, &longest), "as").is_ok());
    }
}
