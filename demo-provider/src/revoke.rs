//! The revocation endpoint, `POST /oauth/revoke` (RFC 7009): client-authenticated; a refresh
//! token takes its whole grant with it; unknown tokens answer 200.

use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};

use crate::{
    backchannel::{self, OAuthError, parse_request},
    source::Source,
    store::ProviderState,
};

pub fn router() -> Router<Arc<ProviderState>> {
    Router::new().route("/oauth/revoke", post(revoke))
}

/// `POST /oauth/revoke` (RFC 7009 §2.1): client-authenticated; a refresh token takes its whole
/// grant with it; unknown tokens answer 200 (§2.2).
async fn revoke(
    State(state): State<Arc<ProviderState>>,
    source: Source,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = parse_request(&headers, &body).and_then(|params| {
        let (client_id, _) = backchannel::authenticate(&state, source, &headers, &params)?;
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("token is missing (RFC 7009 section 2.1)"))?;
        let mut tables = state.tables();
        let grant = tables
            .refresh
            .get(token)
            .map(|r| r.grant.clone())
            .or_else(|| tables.access.get(token).map(|a| a.grant.clone()));
        // Unknown, expired or already revoked: 200 all the same (RFC 7009 §2.2). The
        // token_type_hint is only a hint and is not even read (§2.1).
        let Some(grant) = grant else { return Ok(()) };
        if tables
            .grants
            .get(&grant)
            .is_some_and(|g| g.client_id != client_id)
        {
            // Pinned: refused with 400 invalid_request and nothing revoked (RFC 7009 §2.1 says
            // refuse; §2.2.1 names no better code).
            return Err(OAuthError::invalid_request(
                "the token was issued to another client, so this client may not revoke it (RFC 7009 section 2.1)",
            ));
        }
        if tables.refresh.contains_key(token) {
            ProviderState::revoke_grant(&mut tables, &grant);
        } else {
            tables.access.remove(token);
        }
        Ok(())
    });
    match result {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(err) => err.into_response(),
    }
}
