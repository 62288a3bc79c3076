//! The photos API, a resource server for Bearer (RFC 6750) and DPoP-bound (RFC 9449) tokens,
//! and the photo images themselves. How it authenticates a request is in `resource_auth`, how
//! it refuses one in `challenge`.

mod challenge;
mod resource_auth;

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use crate::{photos, store::ProviderState};

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route("/api/photos", get(list_photos))
        .route("/images/{file}", get(image))
}

/// `GET /api/photos`: the token's user's photos, with absolute image URLs. Bearer and
/// DPoP-bound tokens are both accepted, each with its own scheme (see `resource_auth`).
async fn list_photos(
    State(state): State<Arc<ProviderState>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    state.count_api_request();
    let query = query.unwrap_or_default();
    let caller = resource_auth::authenticate(
        &state,
        method.as_str(),
        "/api/photos",
        &headers,
        &query,
        &body,
    );
    let mut response = match caller {
        Ok(user) => photos_of(&state, &user),
        Err(refused) => refused.into_response(),
    };
    resource_auth::add_nonce(&state, &headers, &mut response);
    response
}

fn photos_of(state: &ProviderState, user: &str) -> Response {
    let photos: Vec<_> = photos::user(user)
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
