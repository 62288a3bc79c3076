//! DEMO PROVIDER (fake): the photos API, a bearer-protected resource server (RFC 6750), and the
//! photo images themselves.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::{
    photos,
    store::{ProviderState, now},
};

const REALM: &str = "demo-photos";

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route("/api/photos", get(list_photos))
        .route("/images/{file}", get(image))
}

/// `GET /api/photos`: the token's user's photos, with absolute image URLs.
async fn list_photos(State(state): State<Arc<ProviderState>>, headers: HeaderMap) -> Response {
    state.count_api_request();
    // Only the Authorization header is read; `?access_token=` is ignored (OAuth 2.1 §5.1).
    let token = match bearer(&headers) {
        Bearer::None => return challenge(StatusCode::UNAUTHORIZED, None),
        Bearer::Malformed => {
            return challenge(StatusCode::BAD_REQUEST, Some(("invalid_request", None)));
        }
        Bearer::Token(token) => token,
    };
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
            None => return challenge(StatusCode::UNAUTHORIZED, Some(("invalid_token", None))),
            Some((scope, _)) if !scope.iter().any(|s| s == "photos") => {
                return challenge(
                    StatusCode::FORBIDDEN,
                    Some(("insufficient_scope", Some("photos"))),
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

/// An RFC 6750 §3 challenge. Without credentials there is no error code (§3.1).
fn challenge(status: StatusCode, error: Option<(&str, Option<&str>)>) -> Response {
    let value = match error {
        None => format!("Bearer realm=\"{REALM}\""),
        Some((code, None)) => format!("Bearer realm=\"{REALM}\", error=\"{code}\""),
        Some((code, Some(scope))) => {
            format!("Bearer realm=\"{REALM}\", error=\"{code}\", scope=\"{scope}\"")
        }
    };
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(&value) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
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
