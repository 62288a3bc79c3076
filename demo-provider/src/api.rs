//! The photos API, a bearer-protected resource server (RFC 6750), and the photo images
//! themselves.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use crate::{
    form, photos,
    store::{ProviderState, now},
};

const REALM: &str = "demo-photos";

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route("/api/photos", get(list_photos))
        .route("/images/{file}", get(image))
}

/// `GET /api/photos`: the token's user's photos, with absolute image URLs.
async fn list_photos(
    State(state): State<Arc<ProviderState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    state.count_api_request();
    // Only the Authorization header counts. `?access_token=` and a form body are never read as
    // credentials (OAuth 2.1 §5.1; RFC 6750 §2.2 forbids the body method on GET), but sending
    // one *with* the header is two methods at once: invalid_request (RFC 6750 §2, §3.1).
    let token = match bearer(&headers) {
        Bearer::None => {
            return challenge(
                StatusCode::UNAUTHORIZED,
                None,
                "send the access token as Authorization: Bearer <token>; tokens in the query or body are ignored (RFC 6750 section 2.1, OAuth 2.1 section 5.1)",
            );
        }
        Bearer::Malformed => {
            return challenge(
                StatusCode::BAD_REQUEST,
                Some(("invalid_request", None)),
                "the Authorization header is not Bearer <token> (RFC 6750 section 2.1)",
            );
        }
        Bearer::Token(token) => token,
    };
    if has_access_token(query.as_deref().unwrap_or(""))
        || (is_form(&headers) && std::str::from_utf8(&body).is_ok_and(has_access_token))
    {
        return challenge(
            StatusCode::BAD_REQUEST,
            Some(("invalid_request", None)),
            "the access token was sent in more than one way; use only the Authorization header (RFC 6750 section 2, section 3.1)",
        );
    }
    let user = {
        let tables = state.tables();
        let record = tables
            .access
            .get(token)
            .filter(|a| a.expires_at > now())
            .and_then(|a| {
                tables
                    .grants
                    .get(&a.grant)
                    .filter(|g| !g.revoked)
                    .map(|g| (a.scope.clone(), g.user.clone()))
            });
        match record {
            None => {
                return challenge(
                    StatusCode::UNAUTHORIZED,
                    Some(("invalid_token", None)),
                    "the access token is unknown, expired or revoked (RFC 6750 section 3.1)",
                );
            }
            Some((scope, _)) if !scope.iter().any(|s| s == "photos") => {
                return challenge(
                    StatusCode::FORBIDDEN,
                    Some(("insufficient_scope", Some("photos"))),
                    "the access token was not granted the photos scope (RFC 6750 section 3.1)",
                );
            }
            Some((_, user)) => user,
        }
    };
    let photos: Vec<_> = photos::user(&user)
        .map(|u| u.photos)
        .unwrap_or_default()
        .iter()
        .map(|p| json!({ "id": p.id, "title": p.title, "url": format!("{}/images/{}.svg", state.issuer, p.id) }))
        .collect();
    let mut response = Json(json!({ "photos": photos })).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

enum Bearer<'a> {
    None,
    Malformed,
    Token(&'a str),
}

/// `Authorization: Bearer <token>`, scheme case-insensitive (RFC 6750 §2.1).
fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Bearer::None;
    };
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Bearer::Token(token.trim())
        }
        _ => Bearer::Malformed,
    }
}

/// Whether a form (query or body) carries an `access_token` parameter.
fn has_access_token(raw: &str) -> bool {
    form::pairs(raw, 64 * 1024)
        .is_ok_and(|pairs| pairs.iter().any(|(name, _)| name == "access_token"))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// An RFC 6750 §3 challenge. Without credentials there is no error code (§3.1). The JSON body
/// repeats the error with a description for people reading it (the header is what clients use).
fn challenge(
    status: StatusCode,
    error: Option<(&str, Option<&str>)>,
    description: &str,
) -> Response {
    let value = match error {
        None => format!("Bearer realm=\"{REALM}\""),
        Some((code, None)) => format!("Bearer realm=\"{REALM}\", error=\"{code}\""),
        Some((code, Some(scope))) => {
            format!("Bearer realm=\"{REALM}\", error=\"{code}\", scope=\"{scope}\"")
        }
    };
    let body = match error {
        None => json!({ "error_description": description }),
        Some((code, _)) => json!({ "error": code, "error_description": description }),
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::WWW_AUTHENTICATE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /images/{id}.svg`: a demo photo. Public, like a CDN URL.
async fn image(Path(file): Path<String>) -> Response {
    let Some(photo) = file.strip_suffix(".svg").and_then(photos::find) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            // An SVG opened directly must not run anything.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        photos::svg(photo),
    )
        .into_response()
}
