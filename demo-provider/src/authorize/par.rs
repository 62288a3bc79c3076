//! Pushed authorization requests (RFC 9126): `POST /oauth/par` takes the authorization
//! parameters over the back channel, with client authentication, checks them as the
//! authorization endpoint would, and answers a short-lived, single-use `request_uri` that the
//! browser then carries to `/oauth/authorize` instead of the parameters themselves.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::request::{Params, check_request, trusted_target};
use crate::{
    backchannel::{self, OAuthError, parse_request},
    secret::random_token,
    source::Source,
    store::{ProviderState, PushedRequest, expiry, now, secs},
};

/// Every `request_uri` this server issues starts with this URN (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// `POST /oauth/par`: 201 with `request_uri` and `expires_in`, or an RFC 6749 §5.2 error
/// (RFC 9126 §2.2, §2.3).
pub(crate) async fn push(
    State(state): State<Arc<ProviderState>>,
    source: Source,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result =
        parse_request(&headers, &body).and_then(|params| accept(&state, source, &headers, params));
    match result {
        Ok(json) => {
            let mut response = (StatusCode::CREATED, Json(json)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::info!(error = err.error, description = %err.description, "demo provider refused a pushed request");
            err.with_quirks(&state).into_response()
        }
    }
}

fn accept(
    state: &ProviderState,
    source: Source,
    headers: &HeaderMap,
    mut params: HashMap<String, String>,
) -> Result<serde_json::Value, OAuthError> {
    // The same client authentication as the token endpoint (RFC 9126 §2).
    let (client_id, _) = backchannel::authenticate(state, source, headers, &params)?;
    if params.contains_key("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri must not be pushed: it is what this endpoint answers (RFC 9126 section 2.1)",
        ));
    }
    // Kept without the credentials; `client_id` is the authenticated one (RFC 9126 §2.1).
    params.remove("client_secret");
    params.insert("client_id".into(), client_id.clone());
    let pairs: Vec<(String, String)> = params.into_iter().collect();
    let checked = Params::new(&pairs);
    // Checked now as the authorization endpoint would, so errors reach the client directly
    // (RFC 9126 §2.1), and again when the browser brings the request_uri.
    trusted_target(state, &checked)
        .map_err(|why| OAuthError::invalid_request(why.replace('§', "section ")))?;
    check_request(state, &checked, checked.get("state")).map_err(|(error, description)| {
        OAuthError::new(StatusCode::BAD_REQUEST, error, description)
    })?;

    let id = random_token();
    let now = now();
    let mut tables = state.tables();
    if tables.pushed.len() >= state.settings.max_pending {
        tables.pushed.retain(|_, p| p.expires_at > now);
    }
    if tables.pushed.len() >= state.settings.max_pending {
        return Err(OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many pushed requests are waiting; try again in a minute (RFC 9126 section 2.3)",
        ));
    }
    tables.pushed.insert(
        id.clone(),
        PushedRequest {
            client_id,
            params: pairs,
            expires_at: expiry(now, state.settings.par_ttl),
        },
    );
    Ok(json!({
        "request_uri": format!("{REQUEST_URI_PREFIX}{id}"),
        "expires_in": secs(state.settings.par_ttl),
    }))
}

/// The pushed parameters an authorization request names with `request_uri`, taken out (single
/// use, RFC 9126 §2.2); `Ok(None)` when it names none. The front channel may carry nothing but
/// `client_id`, which must be the client that pushed, and `request_uri` (RFC 9126 §4).
pub(crate) fn take_pushed(
    state: &ProviderState,
    pairs: &[(String, String)],
) -> Result<Option<Vec<(String, String)>>, &'static str> {
    if !pairs.iter().any(|(name, _)| name == "request_uri") {
        return Ok(None);
    }
    let params = Params::new(pairs);
    let only_two =
        pairs.len() == 2 && !params.repeated("request_uri") && params.get("client_id").is_some();
    if !only_two {
        return Err(
            "With a request_uri, the authorization request carries only client_id and request_uri: the other parameters were pushed (RFC 9126 §4).",
        );
    }
    let (Some(client_id), Some(uri)) = (params.get("client_id"), params.get("request_uri")) else {
        return Err("The request_uri or client_id is empty (RFC 9126 §4).");
    };
    let id = uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .ok_or("This request_uri was not issued by this server (RFC 9126 §2.2).")?;
    let mut tables = state.tables();
    let pushed = tables
        .pushed
        .get(id)
        .ok_or("This request_uri is unknown or was already used: it works once (RFC 9126 §2.2). Go back to the app and start again.")?;
    // Checked before it is consumed, so another client cannot burn a victim's request.
    if !bool::from(pushed.client_id.as_bytes().ct_eq(client_id.as_bytes())) {
        return Err("This request_uri was pushed by another client (RFC 9126 §4).");
    }
    let pushed = tables
        .pushed
        .remove(id)
        .ok_or("This request_uri was already used.")?;
    if pushed.expires_at <= now() {
        return Err(
            "This request_uri has expired: it is short-lived (RFC 9126 §2.2). Go back to the app and start again.",
        );
    }
    Ok(Some(pushed.params))
}
