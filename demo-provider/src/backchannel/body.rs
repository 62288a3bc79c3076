//! The back-channel request body (RFC 6749 §3.2): `application/x-www-form-urlencoded`, parsed
//! strictly, so that a body the router could not read, a wrong content type and a repeated
//! parameter are all an `invalid_request`.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::rejection::BytesRejection,
    http::{HeaderMap, header},
};

use super::error::OAuthError;
use crate::form;

/// The router's body limit; a form as long as that is still parsed.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses a request's form body strictly (see [`parse_body`]); a body that could not be read
/// (over the size limit) is an `invalid_request` too.
pub(crate) fn parse_request(
    headers: &HeaderMap,
    body: &Result<Bytes, BytesRejection>,
) -> Result<HashMap<String, String>, OAuthError> {
    match body {
        Ok(body) => parse_body(headers, body),
        Err(rejection) => Err(OAuthError::unreadable_body(rejection)),
    }
}

/// Parses a form body strictly: the right content type, no repeated parameters (RFC 6749 §3.2).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded (RFC 6749 section 3.2, Appendix B)",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8 (RFC 6749 Appendix B)"))?;
    // The description names a repeated parameter only if it is a known one: nothing the sender
    // chose is echoed.
    form::unique(text, MAX_BODY_BYTES).map_err(|e| {
        OAuthError::invalid_request(format!("{} (RFC 6749 section 3.2)", e.describe()))
    })
}
