//! Ending a user's sessions: the end-session endpoint, `GET /oauth/logout` (OIDC RP-Initiated
//! Logout 1.0), the account page (`account`), and, for both, the logout tokens POSTed to the
//! clients that registered a `backchannel_logout_uri` (`deliver`, OIDC Back-Channel Logout 1.0).
//!
//! The demo provider has no login session of its own: a user's "session" here is every grant
//! they gave, each with its `sid`. Ending it revokes those grants (their tokens die with them)
//! and tells each client, by back channel, which of its sessions ended.

mod account;
mod deliver;

use std::sync::Arc;

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use url::Url;

use crate::{
    form, pages,
    store::{ProviderState, now},
};

/// The longest end-session query accepted, in bytes (an ID token is most of it).
const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Where the end-session endpoint is (OIDC RP-Initiated Logout 1.0 §2.1 `end_session_endpoint`).
pub const END_SESSION_PATH: &str = "/oauth/logout";

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new()
        .route(END_SESSION_PATH, get(end_session))
        .merge(account::router())
}

/// `GET /oauth/logout` (OIDC RP-Initiated Logout 1.0 §2): the `id_token_hint` must be one of
/// this provider's ID tokens (its signature, §4: "the OP MUST validate" it) issued to the client
/// that names itself (`client_id` = `aud`), and the `post_logout_redirect_uri` one that client
/// registered, exactly (§3.1, like redirect URIs, RFC 9700 §4.1.3). Then the user's session
/// ends here, the other clients hear of it by back channel, and the browser goes back with
/// `state` unchanged (§3).
async fn end_session(
    State(state): State<Arc<ProviderState>>,
    RawQuery(query): RawQuery,
) -> Response {
    let refuse = |reason: &str| pages::error_page(StatusCode::BAD_REQUEST, reason);
    let Ok(params) = form::unique(query.as_deref().unwrap_or(""), MAX_QUERY_BYTES) else {
        return refuse("The logout request is not valid form encoding, or repeats a parameter.");
    };
    let hint = params
        .get("id_token_hint")
        .map(String::as_str)
        .unwrap_or("");
    let Some(claims) = state.id_token_key.verify_own(hint) else {
        return refuse(
            "The logout request has no id_token_hint this provider issued (OIDC RP-Initiated Logout 1.0 section 2).",
        );
    };
    let (Some(iss), Some(aud), Some(sub)) = (
        claims["iss"].as_str(),
        claims["aud"].as_str(),
        claims["sub"].as_str(),
    ) else {
        return refuse("The id_token_hint lacks iss, aud or sub.");
    };
    if iss != state.issuer {
        return refuse("The id_token_hint was issued by another provider.");
    }
    // §2: a client_id, when sent, must be the one the ID token was issued to.
    if params.get("client_id").is_some_and(|id| id != aud) {
        return refuse("The id_token_hint was issued to another client than client_id names.");
    }
    let Some(client) = state.client(aud) else {
        return refuse("The id_token_hint names a client this provider does not know.");
    };
    let back_to = match params.get("post_logout_redirect_uri") {
        Some(uri) if client.post_logout_redirect_uris.iter().any(|r| r == uri) => {
            match Url::parse(uri) {
                Ok(url) => Some(url),
                Err(_) => return refuse("The post_logout_redirect_uri is not a URL."),
            }
        }
        Some(_) => {
            return refuse(
                "The post_logout_redirect_uri is not one this client registered (OIDC RP-Initiated Logout 1.0 section 3.1).",
            );
        }
        None => None,
    };
    let client_id = client.client_id.clone();
    // The user's session here ends; the clients other than the one asking are told (it knows).
    deliver::end_user_sessions(&state, sub, Some(&client_id), now());
    let Some(mut url) = back_to else {
        return pages::error_page(StatusCode::OK, "You are signed out of Demo Photos.");
    };
    if let Some(s) = params.get("state") {
        url.query_pairs_mut().append_pair("state", s);
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
